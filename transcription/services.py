"""Transcription flows: request (with dedupe), cancel, replay, and the enqueue that follows commit."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.selectors import user_limits
from ecg.estimates import estimate_seconds
from ecg.exceptions import ApplicationError, NotFoundError
from ecg.jobs import ACTIVE, REPLAY_RESET, TERMINAL, JobStatus, transition
from transcription.estimates import STARTUP_SECONDS, default_rtf
from transcription.models import TranscriptionJob
from uploads import selectors as video_selectors
from uploads.models import Video
from uploads.services import video_ensure_probed

logger = logging.getLogger(__name__)

LANGUAGE_MAX = 16


def _normalize_language(language: str | None) -> str:
    language = (language or "auto").strip().lower()
    if not language or language == "auto":
        return "auto"
    if len(language) > LANGUAGE_MAX or not language.replace("-", "").isalpha():
        raise ApplicationError("INVALID_LANGUAGE", _("The language code is not valid."), status=422,
                               details={"fields": {"language": [str(_("Use 'auto' or a language code."))]}})
    _check_language_supported(language)
    return language


def supported_languages() -> list[str]:
    """Language codes the configured models can transcribe (read from settings; no model is loaded)."""
    from transcription.pipeline import models

    return sorted(models.supported_languages(override=settings.ASR_MODEL,
                                             language_models=settings.ASR_LANGUAGE_MODELS))


def _check_language_supported(language: str) -> None:
    """Refuse at request time what no configured model can do: the editor shows a failed request's
    ``message`` but only a generic text for a failed job, so failing the job later would leave users guessing."""
    from transcription.pipeline import models

    supported = supported_languages()
    if language in supported:
        model = models.model_for(language, override=settings.ASR_MODEL, language_models=settings.ASR_LANGUAGE_MODELS)
        if language == "en" or models.is_multilingual(model):
            return
    known = language in models.WHISPER_LANGUAGES
    message = (_("No installed speech model can transcribe this language (%(language)s). "
                 "Available: %(languages)s.") if known else
               _("Unknown language code %(language)s. Available: %(languages)s."))
    shown = [code for code in ("en", "ko", "ja", "zh") if code in supported] or supported[:8]
    raise ApplicationError("LANGUAGE_UNSUPPORTED",
                           message % {"language": language, "languages": ", ".join(["auto", *shown])},
                           status=422, details={"language": language, "supported": ["auto", *supported]})


def time_limit_ms(duration: float | None) -> int:
    """Dramatiq time limit for a job: generous for the media length, never the 10-minute default."""
    seconds = max(1800.0, 10.0 * (duration or 600.0))
    return int(seconds * 1000)


def enqueue(job: TranscriptionJob) -> None:
    """Send the job's id once the surrounding transaction has committed (never a message for no row)."""
    from transcription.actors import run_transcription

    job_id, limit = str(job.pk), time_limit_ms(job.media_duration)
    transaction.on_commit(lambda: run_transcription.send_with_options(args=(job_id,), time_limit=limit))


def transcription_request(*, user, file_key: str, language: str | None) -> tuple[TranscriptionJob, bool]:
    """Create (and enqueue) a job, or return the identical job that is still pending or running."""
    language = _normalize_language(language)
    video = video_selectors.video_by_key(user=user, key=file_key)
    if video is None:
        raise NotFoundError("FILE_NOT_FOUND", _("The file was not found."))
    video = video_ensure_probed(video)
    if video.status == Video.Status.PENDING_UPLOAD:
        raise ApplicationError("FILE_NOT_UPLOADED", _("The file has not been uploaded yet."), status=409)
    if video.status == Video.Status.INVALID:
        raise ApplicationError("MEDIA_INVALID", _("The file could not be read as audio or video."),
                               details={"reason": video.invalid_reason})
    if video.has_audio is False:
        raise ApplicationError("NO_AUDIO_STREAM", _("The file has no audio track."))
    limit = user_limits(user).max_media_seconds
    if video.duration and video.duration > limit:
        raise ApplicationError("MEDIA_TOO_LONG", _("The media is longer than your plan allows."),
                               details={"duration": video.duration, "limit": limit})
    with transaction.atomic():
        Video.objects.select_for_update().filter(pk=video.pk).first()  # serializes identical requests
        existing = TranscriptionJob.objects.filter(owner=user, video=video, language=language,
                                                   status__in=ACTIVE).order_by("-created_at").first()
        if existing is not None:
            return existing, False
        job = TranscriptionJob.objects.create(
            owner=user, video=video, language=language, media_duration=video.duration,
            estimated_seconds=estimate_seconds(TranscriptionJob, video.duration, default_rtf=default_rtf(language),
                                              startup_seconds=STARTUP_SECONDS))
        enqueue(job)
    logger.info("transcription job %s created for video %s (language=%s)", job.pk, video.pk, language)
    return job, True


def transcription_cancel(*, job: TranscriptionJob) -> bool:
    """Cancel a queued or running job; its worker stops at the next checkpoint."""
    won = transition(TranscriptionJob, job.pk, to=JobStatus.CANCELLED, from_states=ACTIVE,
                     error_code="CANCELLED", error_message="Cancelled by the user.")
    job.refresh_from_db()
    return won


def transcription_replay(*, job: TranscriptionJob, new: bool = False) -> TranscriptionJob:
    """Run a finished job again: in place (reset to queued) or as a new job with the same inputs."""
    if not new and job.status not in TERMINAL:
        raise ApplicationError("JOB_ACTIVE", _("The job is still running."), status=409)
    with transaction.atomic():
        if new:
            job = TranscriptionJob.objects.create(owner=job.owner, video=job.video, language=job.language,
                                                  media_duration=job.media_duration,
                                                  estimated_seconds=job.estimated_seconds)
        else:
            if not transition(TranscriptionJob, job.pk, to=JobStatus.QUEUED, from_states=TERMINAL,
                              **REPLAY_RESET, result=None):
                raise ApplicationError("JOB_ACTIVE", _("The job is still running."), status=409)
            job.refresh_from_db()
        enqueue(job)
    logger.info("transcription job %s replayed (%s)", job.pk, "new" if new else "in place")
    return job

