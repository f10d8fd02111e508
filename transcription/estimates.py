"""Honest time estimates: media duration × the real-time factor this deployment has actually measured.

The web tier must stay free of ML imports, so this reads finished jobs (processing time ÷ media length)
instead of asking the engine. Before any job has finished it uses the benchmarked factor of the default
CPU engine (docs/PERFORMANCE.md), plus a fixed start-up cost for loading the model.
"""

from __future__ import annotations

from statistics import median

from django.core.cache import cache
from django.db.models import F

from ecg.jobs import JobStatus

DEFAULT_RTF = 0.3  # bench/transcribe.py, tiny.en on 2 CPU cores (whole pipeline)
STARTUP_SECONDS = 3.0
SAMPLE = 20


def measured_rtf() -> float:
    """Median real-time factor of recent completed jobs (cached for a minute)."""
    cached = cache.get("transcription:rtf")
    if cached is not None:
        return cached
    from transcription.models import TranscriptionJob

    rows = (TranscriptionJob.objects.filter(status=JobStatus.COMPLETED, media_duration__gt=1,
                                            started_at__isnull=False, finished_at__isnull=False)
            .order_by("-finished_at").values_list(F("started_at"), F("finished_at"), F("media_duration"))[:SAMPLE])
    factors = [(end - start).total_seconds() / duration for start, end, duration in rows]
    value = median(factors) if factors else DEFAULT_RTF
    cache.set("transcription:rtf", value, 60)
    return value


def estimate_seconds(duration: float) -> float:
    return round(STARTUP_SECONDS + max(0.0, duration) * measured_rtf(), 1)


def remaining_seconds(*, estimated: float | None, elapsed: float, progress: int) -> float:
    """Blend the up-front estimate with the observed pace once progress says something."""
    estimated = estimated or 0.0
    by_estimate = max(0.0, estimated - elapsed)
    if progress < 10:
        return by_estimate
    by_pace = elapsed * (100 - progress) / progress
    weight = min(1.0, progress / 50)
    return max(0.0, (1 - weight) * by_estimate + weight * by_pace)
