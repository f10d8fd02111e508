"""The transcription pipeline: media file in, API.md 2.1 transcript out. Django-free by design.

Stages (one module each): audio (PyAV decode) → asr (faster-whisper / whisperx) → alignment (word edges) →
speakers (voice-embedding clustering / pyannote) → acoustics (+ emotion) → result. See docs/TRANSCRIPTION.md.
"""

from __future__ import annotations

from .config import PipelineConfig
from .errors import (
    LANGUAGE_UNSUPPORTED,
    MEDIA_INVALID,
    MEDIA_TOO_LONG,
    NO_AUDIO_STREAM,
    PipelineCancelled,
    PipelineError,
)
from .progress import PIPELINE_STAGES
from .runner import benchmark_estimate_seconds, run_pipeline

__all__ = [
    "LANGUAGE_UNSUPPORTED",
    "MEDIA_INVALID",
    "MEDIA_TOO_LONG",
    "NO_AUDIO_STREAM",
    "PIPELINE_STAGES",
    "PipelineCancelled",
    "PipelineConfig",
    "PipelineError",
    "benchmark_estimate_seconds",
    "run_pipeline",
]
