"""Job states, the one transition helper, progress and heartbeats (shared by transcription and render).

Every state change is a conditional ``UPDATE ... WHERE id = %s AND status IN (...)`` that reports whether
it won, so two workers (or a worker and a cancel request, or the reaper) can never both move one job.
Terminal states never change again. Progress only moves forward (``GREATEST``/``MAX`` in SQL).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from ecg import notify

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    PROCESSING = "processing", "processing"
    COMPLETED = "completed", "completed"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


ACTIVE = (JobStatus.QUEUED, JobStatus.PROCESSING)
TERMINAL = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobCancelled(Exception):
    """Raised inside a worker when its job is no longer ``processing`` (cancelled or reclaimed)."""


class Job(models.Model):
    """Fields every background job has; concrete jobs add their inputs and outputs."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED,
                              db_index=True)
    stage = models.CharField(max_length=32, default="queued")
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=128, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    estimated_seconds = models.FloatField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    error_traceback = models.TextField(blank=True, default="")

    class Meta:
        abstract = True

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def processing_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def real_time_factor(self) -> float | None:
        """Wall time ÷ media length (concrete jobs define ``media_duration``)."""
        seconds, duration = self.processing_seconds, getattr(self, "media_duration", None)
        if seconds is None or not duration:
            return None
        return round(seconds / duration, 3)


# --- the job kinds ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobKind:
    """What the generic parts (reaper, replay, SSE stream, dashboard, videos API, deletion, retention) need to
    know about one kind of job. Each job app registers its kind from ``AppConfig.ready()``, so adding a kind
    is one registration and the foundation never names an app."""

    name: str  # wire name ("transcription", "render"): the ``type`` of a video's job, the dashboard's label
    model: type[Job]
    queue: str  # the Dramatiq queue its actor consumes
    enqueue: Callable[[Any], None]  # (job) -> None: send its message (with the job's own time limit)
    run: Callable[[str], None]  # (job id) -> None: run it now in this process (``replay_job --sync``)
    replay: Callable[..., Any]  # (*, job, new) -> job: replay in place or as a new job
    cancel: Callable[..., bool]  # (*, job) -> bool: False when it had already finished
    owned_by: Callable[..., Any]  # (*, user, job_id) -> job, raising ``NotFoundError`` for a foreign id
    status_payload: Callable[[Any], dict]  # (job) -> the body of its status endpoint and of its SSE events
    # Payload keys computed from the clock at read time (an ETA counting down, a freshly signed URL). They are
    # sent with every event but a difference in them alone is no change of the job: the SSE stream sends an
    # event when the job changed, in push and poll mode alike (nothing publishes a clock tick).
    clock_fields: tuple[str, ...] = ()
    file_fields: tuple[str, ...] = ()  # fields holding storage keys the job owns (deleted with the job)
    engine_field: str = ""  # the field naming what did the work (ASR engine, video encoder)
    video_field: str = "video"  # the FK to ``uploads.Video`` (a video's jobs, retention)
    counts_toward_quota: bool = False  # rows of the current quota month are kept (quotas count rows)

    @property
    def label(self) -> str:
        return self.model._meta.label

    def files(self, queryset: Any) -> list[str]:
        """The storage keys held by the jobs in ``queryset`` (empty keys left out)."""
        keys: list[str] = []
        for field in self.file_fields:
            keys += [key for key in queryset.values_list(field, flat=True) if key]
        return keys


_KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> None:
    """Register a job kind (idempotent per name: ``ready()`` may run twice in tests)."""
    _KINDS[kind.name] = kind


def job_kinds() -> list[JobKind]:
    """Every registered kind, in registration (``INSTALLED_APPS``) order."""
    return list(_KINDS.values())


def kind_of(model: type[Job]) -> JobKind:
    for kind in _KINDS.values():
        if kind.model is model:
            return kind
    raise LookupError(f"{model._meta.label} is not a registered job kind")


def find_job(job_id: Any) -> tuple[JobKind, Job] | None:
    """The job with this id among every kind (ids are UUIDs, unique across kinds), or None."""
    for kind in _KINDS.values():
        job = kind.model.objects.filter(pk=job_id).first()
        if job is not None:
            return kind, job
    return None


# What a replay in place clears (concrete jobs add their own outputs).
REPLAY_RESET: dict[str, Any] = {"progress": 0, "stage": "queued", "error_code": "", "error_message": "",
                                "error_traceback": "", "started_at": None, "finished_at": None,
                                "heartbeat_at": None, "worker": ""}


def transition(model: type[Job], job_id: Any, *, to: str, from_states: Iterable[str], where: Q | None = None,
               **fields: Any) -> bool:
    """Move job ``job_id`` to ``to`` only if it is in one of ``from_states`` (and matches ``where``); return
    whether we won. ``where`` lets the reaper add "and its heartbeat is still stale" to the same UPDATE."""
    now = timezone.now()
    values: dict[str, Any] = {"status": to, **fields}
    if to == JobStatus.PROCESSING:
        values.setdefault("started_at", now)
        values.setdefault("heartbeat_at", now)
    if to in TERMINAL:
        values.setdefault("finished_at", now)
    won = model.objects.filter(where or Q(), pk=job_id, status__in=list(from_states)).update(**values) == 1
    logger.info("job %s %s -> %s (%s)", job_id, ",".join(from_states), to, "won" if won else "lost")
    if won:
        notify.publish(job_id)
    return won


def report_progress(model: type[Job], job_id: Any, progress: int, *, stage: str | None = None,
                    **fields: Any) -> bool:
    """Record progress (never backwards) and a heartbeat; False when the job is no longer processing."""
    values: dict[str, Any] = {
        "progress": Greatest(F("progress"), Value(max(0, min(100, int(progress))))),
        "heartbeat_at": timezone.now(),
        **fields,
    }
    if stage:
        values["stage"] = stage
    updated = model.objects.filter(pk=job_id, status=JobStatus.PROCESSING).update(**values) == 1
    if updated:
        notify.publish(job_id)
    return updated


class JobFailure(Exception):
    """A job-level failure with a user-safe code and message (bad input: never retried)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TransientJobError(Exception):
    """A failure worth retrying (storage or network hiccup); the message is redelivered with backoff."""


def worker_name() -> str:
    import os
    import socket
    import threading

    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:128]


def claim(model: type[Job], job_id: Any) -> bool:
    """Take a queued job, or reclaim one whose worker stopped heartbeating (crash, kill, lost node).

    A reclaim is refused once the job has been claimed ``JOB_MAX_ATTEMPTS`` times, so a job that kills its
    workers cannot take the whole pool down one by one; ``ops.reaper`` then fails it with WORKER_LOST.
    """
    name = worker_name()
    if transition(model, job_id, to=JobStatus.PROCESSING, from_states=[JobStatus.QUEUED], worker=name,
                  attempts=F("attempts") + 1):
        logger.info("job %s claimed by %s", job_id, name)
        return True
    # A reclaim keeps the first started_at (the job's wall time includes the lost attempt) and is an event too:
    # listeners see the new worker's progress from here on.
    stale_before = timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS)
    if transition(model, job_id, to=JobStatus.PROCESSING, from_states=[JobStatus.PROCESSING],
                  where=Q(heartbeat_at__lt=stale_before, attempts__lt=settings.JOB_MAX_ATTEMPTS),
                  started_at=F("started_at"), worker=name, attempts=F("attempts") + 1):
        logger.warning("job %s reclaimed from a silent worker by %s", job_id, name)
        return True
    return False


class JobReporter:
    """Progress/heartbeat writes (throttled) and the cooperative cancel checkpoint for one running job."""

    def __init__(self, model: type[Job], job_id: Any) -> None:
        import time

        self.model, self.job_id = model, job_id
        self._clock = time.monotonic
        self._min_interval = settings.JOB_PROGRESS_MIN_INTERVAL
        self._cancel_interval = settings.JOB_CANCEL_CHECK_INTERVAL
        self._last_write = self._last_check = 0.0
        self._progress, self._stage = -1, ""

    def progress(self, percent: int, stage: str | None = None, **fields: Any) -> None:
        now = self._clock()
        percent = max(0, min(99, int(percent)))  # 100 is written only by the final transition
        changed = stage is not None and stage != self._stage
        # A new stage is written at once; anything else (more percent, extra fields such as frame counts) at
        # most once per ``JOB_PROGRESS_MIN_INTERVAL``: each write is an UPDATE and a PUBLISH.
        if not changed and (now - self._last_write < self._min_interval or (percent <= self._progress and not fields)):
            return
        if not report_progress(self.model, self.job_id, percent, stage=stage, **fields):
            raise JobCancelled(str(self.job_id))
        self._last_write, self._progress = now, max(self._progress, percent)
        self._stage = stage or self._stage

    def cancelled(self) -> bool:
        """True when the job left ``processing`` (checked against the database at most every ~1.5 s)."""
        now = self._clock()
        if now - self._last_check < self._cancel_interval:
            return False
        self._last_check = now
        status = self.model.objects.filter(pk=self.job_id).values_list("status", flat=True).first()
        return status != JobStatus.PROCESSING


class JobHeartbeat:
    """Touches ``heartbeat_at`` every ``JOB_HEARTBEAT_INTERVAL`` seconds while this worker owns the job.

    Progress reports heartbeat too, but a long step without progress (loading a large model, diarizing an
    hour of audio) must not look like a dead worker to ``claim()`` or the reaper. The thread dies with the
    process, so a killed worker's job goes stale on time. It stops by itself when the job is no longer ours,
    and after ``max_seconds`` (the message's time limit plus a minute): a thread stuck where the time limit
    cannot interrupt it (native code) then leaves its job to the reaper instead of keeping it alive forever.
    """

    def __init__(self, model: type[Job], job_id: Any, worker: str, *, max_seconds: float | None = None) -> None:
        import threading
        import time

        self.model, self.job_id, self.worker = model, job_id, worker
        self._until = time.monotonic() + max_seconds if max_seconds else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> JobHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        import time

        from django.db import connection

        try:
            while not self._stop.wait(settings.JOB_HEARTBEAT_INTERVAL):
                if self._until is not None and time.monotonic() > self._until:
                    logger.error("job %s is past its time limit and still running; heartbeat stopped", self.job_id)
                    return
                try:
                    mine = self.model.objects.filter(pk=self.job_id, status=JobStatus.PROCESSING,
                                                     worker=self.worker).update(heartbeat_at=timezone.now())
                except Exception as exc:  # a database blip: the next beat may get through
                    logger.warning("job %s: heartbeat failed: %s", self.job_id, exc)
                    continue
                if not mine:
                    return
        finally:
            connection.close()


def message_time_limit() -> float | None:
    """Seconds the Dramatiq message being processed may run (message option, else the actor's), if known."""
    import dramatiq
    from dramatiq.middleware import CurrentMessage

    message = CurrentMessage.get_current_message()
    if message is None:
        return None
    limit = message.options.get("time_limit")
    if limit is None:
        try:
            limit = dramatiq.get_broker().get_actor(message.actor_name).options.get("time_limit")
        except dramatiq.errors.ActorNotFound:
            return None
    return limit / 1000 if limit else None


def resend_current_message(*, delay_ms: int | None = None) -> bool:
    """Enqueue the Dramatiq message being processed again (not counted as a retry); False outside a worker."""
    import dramatiq
    from dramatiq.middleware import CurrentMessage

    message = CurrentMessage.get_current_message()
    if message is None:
        return False
    dramatiq.get_broker().enqueue(message.copy(), delay=delay_ms)
    return True


def fail(model: type[Job], job_id: Any, code: str, message: str, traceback: str = "") -> bool:
    return transition(model, job_id, to=JobStatus.FAILED, from_states=ACTIVE, error_code=code,
                      error_message=message[:2000], error_traceback=traceback)


def requeue(model: type[Job], job_id: Any) -> bool:
    """Give a job back to the queue (retry, graceful shutdown): another worker may claim it."""
    return transition(model, job_id, to=JobStatus.QUEUED, from_states=[JobStatus.PROCESSING], worker="",
                      stage="queued")


def message_retries() -> tuple[int, int]:
    """(retries so far, max retries) of the Dramatiq message being processed, (0, 0) outside a worker."""
    from dramatiq.middleware import CurrentMessage

    message = CurrentMessage.get_current_message()
    if message is None:
        return 0, 0
    return message.options.get("retries", 0), message.options.get("max_retries", 0)


# --- stale jobs: the rule shared by the reaper (ops.reaper) and a worker that claim() refused --------
WORKER_LOST_MESSAGE = "The worker running this job stopped responding."


def stale_filter(stale_before: datetime) -> Q:
    """Processing jobs whose worker has been silent since before ``stale_before``."""
    return Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)


def stale_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS)


def recover(model: Any, job: Any, enqueue: Callable, *, stale_before: datetime) -> str | None:
    """Apply the rule to one stale job: "requeued", "failed", or None when it changed under us."""
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


def handle_unclaimed(model: Any, job_id: Any) -> None:
    """What a worker does with a message that ``claim()`` refused.

    Finished, cancelled or unknown jobs: nothing (a duplicate message). A job still ``processing`` with a
    fresh heartbeat is either running elsewhere or its worker died moments ago and the broker redelivered
    the message before the job went stale: the message comes back (not as a retry) just after the heartbeat
    would go stale, when ``claim()`` can tell the two apart. A stale job that ``claim()`` still refused has
    used all its attempts: it fails with WORKER_LOST now.
    """
    job = model.objects.filter(pk=job_id).first()
    if job is None or job.status != JobStatus.PROCESSING:
        logger.info("job %s: not claimable (%s); message dropped", job_id, job.status if job else "unknown")
        return
    now = timezone.now()
    stale_before = stale_cutoff(now)
    if job.heartbeat_at is None or job.heartbeat_at < stale_before:
        recover(model, job, kind_of(model).enqueue, stale_before=stale_before)
        return
    wait = (job.heartbeat_at - stale_before).total_seconds() + min(settings.JOB_HEARTBEAT_INTERVAL, 30.0)
    if resend_current_message(delay_ms=int(wait * 1000)):
        logger.info("job %s is processing on %s (heartbeat %.1fs ago); message deferred %.1fs", job_id,
                    job.worker or "?", (now - job.heartbeat_at).total_seconds(), wait)
    else:
        logger.info("job %s is processing on %s; nothing to do here", job_id, job.worker or "?")


def execute(model: type[Job], job_id: Any, work: Any, *, max_retries: int) -> None:
    """Run ``work(reporter) -> completion fields`` under the job discipline shared by every actor.

    Claims the job (a redelivered message for a finished or actively running job is a no-op), classifies
    failures (bad input fails at once with its code; transient errors are retried with backoff and recorded
    as a failure only when retries are exhausted; bugs fail with INTERNAL), and completes exactly once.
    """
    import traceback

    from django.db import InterfaceError, OperationalError

    if not claim(model, job_id):
        handle_unclaimed(model, job_id)  # drop it, wait for a silent worker's job to go stale, or give up
        return
    from dramatiq.middleware import Shutdown, TimeLimitExceeded

    reporter = JobReporter(model, job_id)
    try:
        limit = message_time_limit()
        with JobHeartbeat(model, job_id, worker_name(), max_seconds=limit + 60 if limit else None):
            fields = work(reporter)
    except TimeLimitExceeded:
        logger.warning("job %s hit its time limit", job_id)
        fail(model, job_id, "TIMEOUT", "The job took too long and was stopped.")
        return
    except Shutdown:
        # Back to the queue at once and not as a retry: a deploy is not the job's fault.
        logger.warning("job %s interrupted by worker shutdown; requeued", job_id)
        # The interrupt may have landed inside a database call and left this thread's connection mid-query:
        # start the requeue on a fresh one.
        from django.db import connection

        connection.close()
        requeue(model, job_id)
        if not resend_current_message():
            raise
        return
    except JobCancelled:
        logger.info("job %s stopped: cancelled", job_id)
        return
    except JobFailure as exc:
        logger.info("job %s failed: %s", job_id, exc.code)
        fail(model, job_id, exc.code, exc.message)
        return
    except (TransientJobError, OperationalError, InterfaceError) as exc:
        retries, _max = message_retries()
        if retries < max_retries:
            logger.warning("job %s: transient error, will retry (%s/%s): %s", job_id, retries + 1, max_retries, exc)
            try:
                requeue(model, job_id)
            except Exception:  # the database itself may be the thing that is down
                logger.exception("job %s: could not requeue", job_id)
            raise
        logger.error("job %s: transient errors exhausted retries: %s", job_id, exc)
        fail(model, job_id, "INTERNAL", "A temporary error kept this job from finishing. Please try again.",
             traceback.format_exc())
        return
    except Exception:
        logger.exception("job %s crashed", job_id)
        fail(model, job_id, "INTERNAL", "An internal error occurred.", traceback.format_exc())
        return
    if transition(model, job_id, to=JobStatus.COMPLETED, from_states=[JobStatus.PROCESSING], progress=100,
                  stage="done", **fields):
        logger.info("job %s completed", job_id)
    else:
        logger.warning("job %s finished work but was cancelled meanwhile; result dropped", job_id)
