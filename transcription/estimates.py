"""Transcription time estimates from the measured real-time factor (see ecg.estimates)."""

from __future__ import annotations

from ecg.estimates import measured_rtf

DEFAULT_RTF = 0.1  # bench/transcribe.py: whole pipeline, tiny.en, 2 CPU cores (0.056 warm, 0.10-0.15 cold)
STARTUP_SECONDS = 5.0  # the first job of a worker process loads the models


def estimate_seconds(duration: float) -> float:
    from transcription.models import TranscriptionJob

    rtf = measured_rtf(TranscriptionJob, duration_field="media_duration", default=DEFAULT_RTF)
    return round(STARTUP_SECONDS + max(0.0, duration) * rtf, 1)
