"""Owner-scoped reads of render jobs and the camelCase payloads of API.md section 4."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.utils.translation import gettext_lazy as _

from ecg.estimates import job_eta_seconds
from ecg.exceptions import NotFoundError
from ecg.http import shown_id
from ecg.jobs import JobStatus
from rendering import quotas
from rendering.models import RenderJob
from transcription.selectors import parse_uuid
from uploads import storage

ERROR_MESSAGES = {
    "CANCELLED": _("The render was cancelled."),
    "RENDER_PLUGIN_NOT_FOUND": _("A caption animation plugin used by the scenario could not be loaded."),
    "RENDER_SOURCE_INVALID": _("The source video could not be decoded."),
    "RENDER_SCENARIO_INVALID": _("The caption scenario is invalid."),
    "RENDER_INVALID_INPUT": _("The render request is invalid."),
    "RENDER_BROWSER_FAILED": _("The caption renderer failed. Please try again."),
    "RENDER_ENCODER_FAILED": _("The video encoder failed. Please try again."),
    "RENDER_FAILED": _("The render failed. Please try again."),
    "TIMEOUT": _("The render took too long and was stopped."),
    "WORKER_LOST": _("The worker rendering this job stopped responding."),
    "INTERNAL": _("An internal error occurred. Please try again later."),
}
LIGHT_DEFER = ("scenario", "scenario_original", "error_traceback", "timings")


def job_get(*, user, job_id) -> RenderJob:
    uuid = parse_uuid(job_id)
    # select_related: status_payload always reads the video's name (one query instead of two per poll).
    queryset = RenderJob.objects.filter(owner=user).select_related("video").defer(*LIGHT_DEFER)
    job = queryset.filter(pk=uuid).first() if uuid else None
    if job is None:
        raise NotFoundError("RENDER_JOB_NOT_FOUND", _("Render job %(id)s was not found.") % {"id": shown_id(job_id)},
                            details={"id": shown_id(job_id)})
    return job


def download_name(job: RenderJob, filename: str) -> str:
    return f"{PurePosixPath(filename).stem or 'video'}.{job.options.get('format', 'mp4')}"


def download_url(job: RenderJob, filename: str) -> str | None:
    if job.status != JobStatus.COMPLETED or not job.output_key:
        return None
    return storage.download_url(job.output_key, download_name(job, filename))


def _iso(value):
    return value.isoformat() if value else None


def status_payload(job: RenderJob) -> dict:
    error = None
    if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        message = ERROR_MESSAGES.get(job.error_code)
        error = str(message) if message is not None else (job.error_message or str(ERROR_MESSAGES["INTERNAL"]))
    eta = job_eta_seconds(job)
    return {
        "jobId": str(job.pk), "status": job.status, "progress": int(job.progress), "estimatedTimeRemaining": eta,
        "startedAt": _iso(job.started_at), "completedAt": _iso(job.finished_at),
        "downloadUrl": download_url(job, job.video.original_filename),
        "error": error, "errorCode": job.error_code or None,
        "fileSize": job.output_size, "duration": job.output_duration,
    }


def history(*, user, limit: int) -> list[dict]:
    jobs = (RenderJob.objects.filter(owner=user).select_related("video").defer(*LIGHT_DEFER)
            .order_by("-created_at")[:limit])
    return [{"jobId": str(job.pk), "videoName": job.video.original_filename, "status": job.status,
             "createdAt": _iso(job.created_at), "completedAt": _iso(job.finished_at),
             "downloadUrl": download_url(job, job.video.original_filename), "fileSize": job.output_size,
             "duration": job.output_duration} for job in jobs]


def quota_payload(*, user) -> dict:
    use = quotas.usage(user)
    return {"daily": {"used": use.daily.used, "limit": use.daily.limit, "resetsAt": _iso(use.daily.resets_at)},
            "monthly": {"used": use.monthly.used, "limit": use.monthly.limit,
                        "resetsAt": _iso(use.monthly.resets_at)},
            "concurrent": {"used": use.concurrent.used, "limit": use.concurrent.limit}}
