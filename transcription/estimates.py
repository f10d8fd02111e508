"""Transcription's constants for the up-front estimate (``ecg.estimates.estimate_seconds`` does the sum)."""

from __future__ import annotations

DEFAULT_RTF = 0.1  # bench/transcribe.py: whole pipeline, tiny.en, 2 CPU cores (0.056 warm, 0.10-0.15 cold)
STARTUP_SECONDS = 5.0  # the first job of a worker process loads the models

