"""Operations actors on the ``default`` queue (run a worker with ``--queues default``; see docs/OPERATIONS.md)."""

from __future__ import annotations

import dramatiq


@dramatiq.actor(queue_name="default", max_retries=0, time_limit=10 * 60 * 1000)
def reap_stale_jobs_periodically() -> None:
    """Requeue or fail jobs whose worker vanished, then schedule the next run (``ops.reaper.periodic_tick``).

    No retries: a failed run still schedules the next one (``finally``), and a retried message would be a
    second chain.
    """
    from ops.reaper import periodic_tick

    periodic_tick()
