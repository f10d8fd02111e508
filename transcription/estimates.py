"""Transcription time estimates from the measured real-time factor (see ecg.estimates)."""

from __future__ import annotations

from ecg.estimates import measured_rtf

DEFAULT_RTF = 0.3  # bench/transcribe.py: whole pipeline, tiny.en, 2 CPU cores
STARTUP_SECONDS = 3.0  # first job of a worker loads the models


def estimate_seconds(duration: float) -> float:
    from transcription.models import TranscriptionJob

    rtf = measured_rtf(TranscriptionJob, duration_field="media_duration", default=DEFAULT_RTF)
    return round(STARTUP_SECONDS + max(0.0, duration) * rtf, 1)
