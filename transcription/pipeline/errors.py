"""The two exceptions the pipeline raises on purpose; anything else is an internal error."""

from __future__ import annotations

# Codes the API exposes as `error.code` (API.md section 2). LANGUAGE_UNSUPPORTED is raised when the requested
# language cannot be transcribed by the configured model (e.g. "ko" with an English-only model).
MEDIA_INVALID = "MEDIA_INVALID"
NO_AUDIO_STREAM = "NO_AUDIO_STREAM"
MEDIA_TOO_LONG = "MEDIA_TOO_LONG"
LANGUAGE_UNSUPPORTED = "LANGUAGE_UNSUPPORTED"


class PipelineError(Exception):
    """Bad input: the job fails at once with ``code`` and a user-safe ``message`` (no retry)."""

    def __init__(self, code: str, message: str, details: dict | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or {}


class PipelineCancelled(Exception):
    """``should_cancel()`` returned True; raised at the next checkpoint."""
