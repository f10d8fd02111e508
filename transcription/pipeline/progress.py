"""Stage bookkeeping: maps per-stage fractions onto one monotonic overall fraction and polls cancellation."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from .errors import PipelineCancelled

logger = logging.getLogger(__name__)

# The pipeline's own stages, in order (the job adds queued/downloading/done: transcription.labels.JOB_STAGES).
PIPELINE_STAGES = ("extracting_audio", "transcribing", "aligning", "diarizing", "analyzing", "finalizing")

# Polling a DB-backed should_cancel() on every inner-loop iteration would be wasteful; twice a second is
# far inside the "within a few seconds" promise of the cancel endpoint.
CANCEL_POLL_INTERVAL = 0.5
# Progress below this step is not worth a report (the actor writes each report to the job row).
REPORT_STEP = 0.002


def _noop_report(stage: str, fraction: float) -> None:
    return None


def _never() -> bool:
    return False


class Progress:
    """Reports ``(stage, overall_fraction)``; overall = stage start + fraction × stage weight, never decreasing."""

    def __init__(
        self,
        report: Callable[[str, float], None] | None,
        should_cancel: Callable[[], bool] | None,
        weights: Mapping[str, float],
    ) -> None:
        self._report = report or _noop_report
        self._should_cancel = should_cancel or _never
        total = sum(max(0.0, weights.get(s, 0.0)) for s in PIPELINE_STAGES) or 1.0
        self._ranges: dict[str, tuple[float, float]] = {}
        start = 0.0
        for s in PIPELINE_STAGES:
            width = max(0.0, weights.get(s, 0.0)) / total
            self._ranges[s] = (start, min(1.0, start + width))
            start += width
        self.stage_name = PIPELINE_STAGES[0]
        self.overall = 0.0
        self._last_reported = -1.0
        self._last_poll = 0.0
        self.stage_started: dict[str, float] = {}
        self.stage_seconds: dict[str, float] = {}

    def stage(self, name: str) -> None:
        """Enter ``name``: always polls cancellation and reports the stage start."""
        if name not in self._ranges:
            raise ValueError(f"unknown stage {name!r}")
        now = time.monotonic()
        prev = self.stage_name
        if prev in self.stage_started and prev not in self.stage_seconds:
            self.stage_seconds[prev] = now - self.stage_started[prev]
        self.stage_name = name
        self.stage_started[name] = now
        self.check(force=True)
        self._emit(self._ranges[name][0], force=True)

    def update(self, fraction: float) -> None:
        """Progress inside the current stage (0..1); also a cancellation checkpoint."""
        lo, hi = self._ranges[self.stage_name]
        self.check()
        self._emit(lo + min(1.0, max(0.0, fraction)) * (hi - lo))

    def finish(self) -> None:
        now = time.monotonic()
        if self.stage_name in self.stage_started and self.stage_name not in self.stage_seconds:
            self.stage_seconds[self.stage_name] = now - self.stage_started[self.stage_name]
        self._emit(1.0, force=True)

    def check(self, force: bool = False) -> None:
        """Raise PipelineCancelled if the job was cancelled (polled at most every CANCEL_POLL_INTERVAL s)."""
        now = time.monotonic()
        if not force and now - self._last_poll < CANCEL_POLL_INTERVAL:
            return
        self._last_poll = now
        if self._should_cancel():
            logger.info("pipeline cancelled during %s", self.stage_name)
            raise PipelineCancelled(self.stage_name)

    def _emit(self, value: float, force: bool = False) -> None:
        value = max(self.overall, min(1.0, value))
        self.overall = value
        if force or value - self._last_reported >= REPORT_STEP:
            self._last_reported = value
            self._report(self.stage_name, round(value, 4))
