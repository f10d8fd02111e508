"""Owner-scoped reads of transcription jobs and the status payload the editor polls every 2 s."""

from __future__ import annotations

import uuid

from django.utils import timezone

from ecg.estimates import remaining_seconds
from ecg.exceptions import NotFoundError
from ecg.jobs import ACTIVE, JobStatus
from transcription.labels import ERROR_MESSAGES, STAGE_LABELS
from transcription.models import TranscriptionJob

WIRE_STATUS = {JobStatus.QUEUED: "pending", JobStatus.PROCESSING: "processing", JobStatus.COMPLETED: "completed",
               JobStatus.FAILED: "failed", JobStatus.CANCELLED: "failed"}


def job_get(*, user, job_id, with_result: bool = False) -> TranscriptionJob:
    """One indexed read; the transcript and traceback stay deferred unless asked for."""
    queryset = TranscriptionJob.objects.filter(owner=user)
    queryset = queryset.defer("error_traceback") if with_result else queryset.defer("result", "error_traceback")
    job = queryset.filter(pk=job_uuid).first() if (job_uuid := parse_uuid(job_id)) else None
    if job is None:
        raise NotFoundError("JOB_NOT_FOUND")
    return job


def parse_uuid(value) -> uuid.UUID | None:
    """A malformed id is simply an id that does not exist (404), never a 500."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def error_of(job: TranscriptionJob) -> dict | None:
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        return None
    code = job.error_code or ("CANCELLED" if job.status == JobStatus.CANCELLED else "INTERNAL")
    message = ERROR_MESSAGES.get(code)
    return {"code": code, "message": str(message) if message is not None else job.error_message}


def status_payload(job: TranscriptionJob) -> dict:
    failed = job.status in (JobStatus.FAILED, JobStatus.CANCELLED)
    if job.status in ACTIVE:
        elapsed = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0.0
        eta = round(remaining_seconds(estimated=job.estimated_seconds, elapsed=elapsed, progress=job.progress))
    else:
        eta = 0
    return {
        "job_id": str(job.pk),
        "status": WIRE_STATUS[job.status],
        "progress": int(job.progress),
        "stage": job.stage,
        "current_stage": str(STAGE_LABELS["failed" if failed else job.stage] if (failed or job.stage in STAGE_LABELS)
                             else job.stage),
        "estimated_time_remaining": eta,
        "error": error_of(job),
        "result": job.result if job.status == JobStatus.COMPLETED else None,
    }
