"""Dramatiq actors of the render queue (browser workers subscribe to it)."""

from __future__ import annotations

import dramatiq

from rendering.runner import MAX_RETRIES


@dramatiq.actor(queue_name="render", max_retries=MAX_RETRIES, min_backoff=2_000, max_backoff=60_000,
                time_limit=6 * 3600 * 1000)
def run_render(job_id: str) -> None:
    from rendering.runner import run

    run(job_id)
