"""Transcription time estimates from the measured real-time factor (see ecg.estimates)."""

from __future__ import annotations

from ecg.estimates import measured_rtf

# bench/transcribe.py, whole pipeline on 2 CPU cores with warm models (docs/PERFORMANCE.md): English runs on
# tiny.en, every other language on Whisper base, which is several times slower.
DEFAULT_RTF = 0.1
DEFAULT_RTF_MULTILINGUAL = 0.5
# Workers load and warm their models before taking jobs, so a job pays only queueing and set-up.
STARTUP_SECONDS = 1.0


def estimate_seconds(duration: float, language: str = "auto") -> float:
    from transcription.models import TranscriptionJob

    default = DEFAULT_RTF if language == "en" else DEFAULT_RTF_MULTILINGUAL
    rtf = measured_rtf(TranscriptionJob, duration_field="media_duration", default=default)
    return round(STARTUP_SECONDS + max(0.0, duration) * rtf, 1)
