"""The stale-job reaper: no job stays ``processing`` after its worker vanished.

A worker proves it is alive by touching ``heartbeat_at`` (``ecg.jobs.JobHeartbeat``, every
``JOB_HEARTBEAT_INTERVAL`` seconds). A ``processing`` job whose heartbeat is older than
``JOB_HEARTBEAT_STALE_SECONDS`` lost its worker (SIGKILL, OOM, a lost node). The rule, the same for every
job kind and applied in one conditional UPDATE through ``ecg.jobs.transition`` (so a worker that heartbeats
at the last moment keeps its job):

* claimed fewer than ``JOB_MAX_ATTEMPTS`` times → back to ``queued`` and its message is sent again;
* otherwise → ``failed`` with ``WORKER_LOST`` (a job that keeps killing workers must not take the pool down).

Three things apply it: ``manage.py reap_stale_jobs`` (operators, cron), the periodic actor
``ops.actors.reap_stale_jobs_periodically`` on the ``default`` queue (Dramatiq has no scheduler: the actor
re-sends itself with a delay; a short cache lock lets only one such chain survive however many get
started), and ``ecg.jobs.handle_unclaimed``, which a redelivered message runs when ``claim()`` refuses it. The rule
itself (``recover``) belongs to the job core, since a worker applies it too; this module loops over the
registered job kinds (``ecg.jobs.job_kinds``) and keeps the periodic schedule.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

import dramatiq
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

SCHEDULED_KEY = "ecg:reaper:scheduled"  # present while a periodic chain exists
TICK_KEY = "ecg:reaper:tick"  # held for half an interval by the chain that just ran

@dataclass
class ReapResult:
    requeued: list[tuple[str, str]] = field(default_factory=list)  # (model label, job id)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.requeued) + len(self.failed)


def reap(*, dry_run: bool = False, now: datetime | None = None) -> ReapResult:
    """Requeue or fail every stale processing job of every kind (``dry_run``: only say what would happen)."""
    # Imported here: Dramatiq loads this module (ReaperScheduler) before Django's models are ready.
    from ecg.jobs import JobStatus, job_kinds, recover, stale_cutoff, stale_filter

    stale_before = stale_cutoff(now)
    result = ReapResult()
    for kind in job_kinds():
        stale = kind.model.objects.filter(stale_filter(stale_before), status=JobStatus.PROCESSING).order_by("pk")
        for job in stale:
            if dry_run:
                outcome = "requeued" if job.attempts < settings.JOB_MAX_ATTEMPTS else "failed"
            else:
                outcome = recover(kind.model, job, kind.enqueue, stale_before=stale_before)
            if outcome == "requeued":
                result.requeued.append((kind.label, str(job.pk)))
            elif outcome == "failed":
                result.failed.append((kind.label, str(job.pk)))
    if result.total:
        logger.info("reaper%s: %s requeued, %s failed WORKER_LOST", " (dry run)" if dry_run else "",
                    len(result.requeued), len(result.failed))
    return result


# --- the periodic actor's schedule --------------------------------------------------------------------------

def periodic_actor() -> dramatiq.Actor:
    from ops.actors import reap_stale_jobs_periodically

    return reap_stale_jobs_periodically


def ensure_scheduled() -> bool:
    """Start the periodic chain unless one exists (idempotent across processes via the shared cache)."""
    interval = settings.REAPER_INTERVAL
    if not cache.add(SCHEDULED_KEY, "1", timeout=int(interval * 3) + 1):
        return False
    periodic_actor().send()
    logger.info("reaper: periodic schedule started (every %ss on queue %r)", interval,
                periodic_actor().queue_name)
    return True


def periodic_tick() -> bool:
    """One run of the periodic actor: reap, then send the next run. False for a duplicate chain (it ends)."""
    interval = settings.REAPER_INTERVAL
    if not cache.add(TICK_KEY, "1", timeout=max(1, int(interval / 2))):
        logger.info("reaper: another schedule ran less than %ss ago; this duplicate ends", interval / 2)
        return False
    try:
        reap()
    finally:
        cache.set(SCHEDULED_KEY, "1", timeout=int(interval * 3) + 1)
        periodic_actor().send_with_options(delay=int(interval * 1000))
    return True


class ReaperScheduler(dramatiq.Middleware):
    """Broker middleware: a worker process that serves the ``default`` queue keeps the periodic chain alive.

    At boot, and then every interval from a daemon thread, it calls ``ensure_scheduled()`` — a no-op while a
    chain exists, so any number of such workers start exactly one; if the chain's message is ever lost
    (a flushed Redis), one comes back within about three intervals.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        queues = getattr(worker, "consumer_whitelist", None)  # None or empty: every declared queue
        if queues and "default" not in queues:
            return
        self._stop.clear()
        threading.Thread(target=self._watch, name="reaper-scheduler", daemon=True).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()

    def _watch(self) -> None:
        from django.db import connection

        try:
            while True:
                try:
                    ensure_scheduled()
                except Exception:  # the cache or the broker is down: try again next interval
                    logger.exception("reaper: could not check the periodic schedule")
                if self._stop.wait(settings.REAPER_INTERVAL):
                    return
        finally:
            connection.close()
