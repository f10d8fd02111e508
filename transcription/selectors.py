"""Owner-scoped reads of transcription jobs and the status payload the editor polls every 2 s."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext as _

from ecg.exceptions import NotFoundError
from ecg.http import shown_id
from ecg.jobs import JobStatus
from transcription.labels import ERROR_MESSAGES
from transcription.models import TranscriptionJob

WIRE_STATUS = {JobStatus.QUEUED: "pending", JobStatus.PROCESSING: "processing", JobStatus.COMPLETED: "completed",
               JobStatus.FAILED: "failed", JobStatus.CANCELLED: "failed"}


def job_get(*, user, job_id, with_result: bool = False) -> TranscriptionJob:
    """One indexed read; the transcript and traceback stay deferred unless asked for."""
    queryset = TranscriptionJob.objects.filter(owner=user)
    queryset = queryset.defer("error_traceback") if with_result else queryset.defer("result", "error_traceback")
    job = queryset.filter(pk=job_uuid).first() if (job_uuid := parse_uuid(job_id)) else None
    if job is None:
        raise NotFoundError("JOB_NOT_FOUND", _("Transcription job %(id)s was not found.") % {"id": shown_id(job_id)},
                            details={"id": shown_id(job_id)})
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
    """The status endpoint's body (and each SSE event's): ``StatusResponseSerializer`` renders it."""
    from transcription.serializers import StatusResponseSerializer

    return StatusResponseSerializer(job).data
