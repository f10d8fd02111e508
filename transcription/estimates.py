"""Transcription time estimates from the measured real-time factor (see ecg.estimates)."""

from __future__ import annotations

from ecg.estimates import measured_rtf

# Used only until this deployment has finished jobs to measure (ecg.estimates). English runs on tiny.en
# (bench/transcribe.py --dialogue: RTF 0.056 warm on 2 unloaded cores, 0.1 with margin); other languages on
# Whisper base, ~2x the decode cost, plus re-decodes when the loop guards fire on hard audio: 0.5 is a
# deliberately pessimistic start (docs/PERFORMANCE.md has the per-language numbers, measured under load).
DEFAULT_RTF = 0.1
DEFAULT_RTF_MULTILINGUAL = 0.5
# Workers load and warm their models before taking jobs, so a job pays only queueing and set-up.
STARTUP_SECONDS = 1.0


def estimate_seconds(duration: float, language: str = "auto") -> float:
    from transcription.models import TranscriptionJob

    default = DEFAULT_RTF if language == "en" else DEFAULT_RTF_MULTILINGUAL
    rtf = measured_rtf(TranscriptionJob, duration_field="media_duration", default=default)
    return round(STARTUP_SECONDS + max(0.0, duration) * rtf, 1)
