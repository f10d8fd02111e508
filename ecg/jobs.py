"""Job states, the one transition helper, progress and heartbeats (shared by transcription and render).

Every state change is a conditional ``UPDATE ... WHERE id = %s AND status IN (...)`` that reports whether
it won, so two workers (or a worker and a cancel request, or the reaper) can never both move one job.
Terminal states never change again. Progress only moves forward (``GREATEST``/``MAX`` in SQL).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

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


def transition(model: type[Job], job_id: Any, *, to: str, from_states: Iterable[str], **fields: Any) -> bool:
    """Move job ``job_id`` to ``to`` only if it is in one of ``from_states``; return whether we won."""
    now = timezone.now()
    values: dict[str, Any] = {"status": to, **fields}
    if to == JobStatus.PROCESSING:
        values.setdefault("started_at", now)
        values.setdefault("heartbeat_at", now)
    if to in TERMINAL:
        values.setdefault("finished_at", now)
    won = model.objects.filter(pk=job_id, status__in=list(from_states)).update(**values) == 1
    logger.info("job %s %s -> %s (%s)", job_id, ",".join(from_states), to, "won" if won else "lost")
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
    return model.objects.filter(pk=job_id, status=JobStatus.PROCESSING).update(**values) == 1


def ensure_running(model: type[Job], job_id: Any) -> None:
    """Cooperative cancel checkpoint: raise ``JobCancelled`` unless the job is still processing."""
    status = model.objects.filter(pk=job_id).values_list("status", flat=True).first()
    if status != JobStatus.PROCESSING:
        raise JobCancelled(str(job_id))
