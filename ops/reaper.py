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
started), and ``handle_unclaimed`` below, which a redelivered message runs when ``claim()`` refuses it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import dramatiq
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)

WORKER_LOST_MESSAGE = "The worker running this job stopped responding."
SCHEDULED_KEY = "ecg:reaper:scheduled"  # present while a periodic chain exists
TICK_KEY = "ecg:reaper:tick"  # held for half an interval by the chain that just ran

# (model label, enqueue service path): the service re-sends the job's message with its own time limit.
JOB_KINDS = [
    ("transcription.TranscriptionJob", "transcription.services.enqueue"),
    ("rendering.RenderJob", "rendering.services.enqueue"),
]


@dataclass
class ReapResult:
    requeued: list[tuple[str, str]] = field(default_factory=list)  # (model label, job id)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.requeued) + len(self.failed)


def job_kinds() -> Iterator[tuple[str, Any, Callable]]:
    from django.apps import apps
    from django.utils.module_loading import import_string

    for label, enqueue_path in JOB_KINDS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        yield label, model, import_string(enqueue_path)


def stale_filter(stale_before: datetime) -> Q:
    """Processing jobs whose worker has been silent since before ``stale_before``."""
    return Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)


def stale_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS)


def recover(model: Any, job: Any, enqueue: Callable, *, stale_before: datetime) -> str | None:
    """Apply the rule to one stale job: "requeued", "failed", or None when it changed under us."""
    from ecg.jobs import JobStatus, transition

    still_stale = stale_filter(stale_before)
    if job.attempts < settings.JOB_MAX_ATTEMPTS:
        if transition(model, job.pk, to=JobStatus.QUEUED, from_states=[JobStatus.PROCESSING], where=still_stale,
                      worker="", stage="queued"):
            enqueue(job)
            logger.warning("job %s: worker %s went silent; requeued (attempt %s of %s used)", job.pk,
                           job.worker or "?", job.attempts, settings.JOB_MAX_ATTEMPTS)
            return "requeued"
        return None
    if transition(model, job.pk, to=JobStatus.FAILED, from_states=[JobStatus.PROCESSING], where=still_stale,
                  error_code="WORKER_LOST", error_message=WORKER_LOST_MESSAGE):
        logger.error("job %s: worker %s went silent after %s attempts; failed WORKER_LOST", job.pk,
                     job.worker or "?", job.attempts)
        return "failed"
    return None


def reap(*, dry_run: bool = False, now: datetime | None = None) -> ReapResult:
    """Requeue or fail every stale processing job of every kind (``dry_run``: only say what would happen)."""
    from ecg.jobs import JobStatus

    stale_before = stale_cutoff(now)
    result = ReapResult()
    for label, model, enqueue in job_kinds():
        for job in model.objects.filter(stale_filter(stale_before), status=JobStatus.PROCESSING).order_by("pk"):
            if dry_run:
                outcome = "requeued" if job.attempts < settings.JOB_MAX_ATTEMPTS else "failed"
            else:
                outcome = recover(model, job, enqueue, stale_before=stale_before)
            if outcome == "requeued":
                result.requeued.append((label, str(job.pk)))
            elif outcome == "failed":
                result.failed.append((label, str(job.pk)))
    if result.total:
        logger.info("reaper%s: %s requeued, %s failed WORKER_LOST", " (dry run)" if dry_run else "",
                    len(result.requeued), len(result.failed))
    return result


def handle_unclaimed(model: Any, job_id: Any) -> None:
    """What a worker does with a message that ``claim()`` refused.

    Finished, cancelled or unknown jobs: nothing (a duplicate message). A job still ``processing`` with a
    fresh heartbeat is either running elsewhere or its worker died moments ago and the broker redelivered
    the message before the job went stale: the message comes back (not as a retry) just after the heartbeat
    would go stale, when ``claim()`` can tell the two apart. A stale job that ``claim()`` still refused has
    used all its attempts: it fails with WORKER_LOST now.
    """
    from ecg.jobs import JobStatus, resend_current_message

    job = model.objects.filter(pk=job_id).first()
    if job is None or job.status != JobStatus.PROCESSING:
        logger.info("job %s: not claimable (%s); message dropped", job_id, job.status if job else "unknown")
        return
    now = timezone.now()
    stale_before = stale_cutoff(now)
    if job.heartbeat_at is None or job.heartbeat_at < stale_before:
        for _label, kind, enqueue in job_kinds():
            if kind is model:
                recover(model, job, enqueue, stale_before=stale_before)
        return
    wait = (job.heartbeat_at - stale_before).total_seconds() + min(settings.JOB_HEARTBEAT_INTERVAL, 30.0)
    if resend_current_message(delay_ms=int(wait * 1000)):
        logger.info("job %s is processing on %s (heartbeat %.1fs ago); message deferred %.1fs", job_id,
                    job.worker or "?", (now - job.heartbeat_at).total_seconds(), wait)
    else:
        logger.info("job %s is processing on %s; nothing to do here", job_id, job.worker or "?")


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
