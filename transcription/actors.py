"""Dramatiq actors of the transcription queue: plain functions taking a job id (never data)."""

from __future__ import annotations

import dramatiq

from transcription.runner import MAX_RETRIES


@dramatiq.actor(queue_name="transcription", max_retries=MAX_RETRIES, min_backoff=2_000, max_backoff=60_000,
                time_limit=6 * 3600 * 1000)
def run_transcription(job_id: str) -> None:
    from transcription.runner import run

    run(job_id)
