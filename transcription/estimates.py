"""Transcription's constants for the up-front estimate (``ecg.estimates.estimate_seconds`` does the sum)."""

from __future__ import annotations

# Used only until this deployment has finished jobs to measure (ecg.estimates). English runs on tiny.en
# (bench/transcribe.py --dialogue: RTF 0.056 warm on 2 unloaded cores, 0.1 with margin); other languages on
# Whisper base, ~2x the decode cost, plus re-decodes when the loop guards fire on hard audio: 0.5 is a
# deliberately pessimistic start (docs/PERFORMANCE.md has the per-language numbers, measured under load).
DEFAULT_RTF = 0.1
DEFAULT_RTF_MULTILINGUAL = 0.5
# Workers load and warm their models before taking jobs, so a job pays only queueing and set-up.
STARTUP_SECONDS = 1.0


def default_rtf(language: str) -> float:
    """The benchmarked real-time factor for a job in ``language`` (English is on the faster model)."""
    return DEFAULT_RTF if language == "en" else DEFAULT_RTF_MULTILINGUAL
