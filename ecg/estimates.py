"""Honest time estimates: media duration × the real-time factor this deployment has actually measured.

The web tier must stay free of ML and browser imports, so estimates come from finished jobs (processing
time ÷ media length) rather than from the engines. Until a job of a kind has finished, the benchmarked
factor of the default CPU setup is used (docs/PERFORMANCE.md).
"""

from __future__ import annotations

from statistics import median

from django.core.cache import cache

from ecg.jobs import JobStatus

SAMPLE = 20


def measured_rtf(model, *, duration_field: str, default: float) -> float:
    """Median real-time factor of the most recent completed jobs of ``model`` (cached for a minute)."""
    key = f"rtf:{model._meta.label_lower}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    rows = (model.objects.filter(status=JobStatus.COMPLETED, **{f"{duration_field}__gt": 1},
                                 started_at__isnull=False, finished_at__isnull=False)
            .order_by("-finished_at").values_list("started_at", "finished_at", duration_field)[:SAMPLE])
    factors = [(end - start).total_seconds() / duration for start, end, duration in rows]
    value = median(factors) if factors else default
    cache.set(key, value, 60)
    return value


def estimate_seconds(model, duration: float | None, *, default_rtf: float, startup_seconds: float) -> float:
    """Up-front estimate for a job of ``model`` on ``duration`` seconds of media: a fixed start-up cost plus
    the media length × the measured real-time factor (``default_rtf`` until jobs have finished)."""
    rtf = measured_rtf(model, duration_field="media_duration", default=default_rtf)
    return round(startup_seconds + max(0.0, duration or 0.0) * rtf, 1)


def remaining_seconds(*, estimated: float | None, elapsed: float, progress: int) -> float:
    """Blend the up-front estimate with the observed pace once progress says something."""
    estimated = estimated or 0.0
    by_estimate = max(0.0, estimated - elapsed)
    if progress < 10:
        return by_estimate
    by_pace = elapsed * (100 - progress) / progress
    weight = min(1.0, progress / 50)
    return max(0.0, (1 - weight) * by_estimate + weight * by_pace)


def job_eta_seconds(job) -> int:
    """Seconds left for a job as the status endpoints report it (0 once it has stopped)."""
    from django.utils import timezone

    from ecg.jobs import ACTIVE

    if job.status not in ACTIVE:
        return 0
    elapsed = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0.0
    return round(remaining_seconds(estimated=job.estimated_seconds, elapsed=elapsed, progress=job.progress))
