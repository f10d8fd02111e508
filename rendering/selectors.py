"""Owner-scoped reads of render jobs and the camelCase payloads of API.md section 4."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

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


def download_url(job: RenderJob) -> str | None:
    if job.status != JobStatus.COMPLETED or not job.output_key:
        return None
    return storage.download_url(job.output_key, job.output_name)


def error_message(job: RenderJob) -> str | None:
    """The user-facing message of a failed or cancelled render (None otherwise)."""
    if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        return None
    message = ERROR_MESSAGES.get(job.error_code)
    return str(message) if message is not None else (job.error_message or str(ERROR_MESSAGES["INTERNAL"]))


def status_payload(job: RenderJob) -> dict:
    """The status endpoint's body (and each SSE event's): ``RenderStatusResponseSerializer`` renders it."""
    from rendering.serializers import RenderStatusResponseSerializer

    return RenderStatusResponseSerializer(job).data


def history(*, user, limit: int) -> list[dict]:
    from rendering.serializers import RenderHistoryItemSerializer

    jobs = (RenderJob.objects.filter(owner=user).select_related("video").defer(*LIGHT_DEFER)
            .order_by("-created_at")[:limit])
    return RenderHistoryItemSerializer(jobs, many=True).data


def quota_payload(*, user) -> dict:
    from rendering.serializers import RenderQuotaResponseSerializer

    return RenderQuotaResponseSerializer(quotas.usage(user)).data
