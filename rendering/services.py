"""Render flows: create (validate, resolve source, quota check + insert atomically), cancel, replay."""

from __future__ import annotations

import logging
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from ecg.estimates import estimate_seconds
from ecg.exceptions import ApplicationError
from ecg.jobs import ACTIVE, REPLAY_RESET, TERMINAL, JobStatus, transition
from mediasafe import MEDIA_TOO_LARGE, MEDIA_TOO_LONG, MediaRefused, check_limits
from rendering import quotas, sources
from rendering.models import RenderJob
from rendering.pipeline.options import DEFAULT_FORMAT, DEFAULT_QUALITY, check_options
from rendering.signals import render_created

logger = logging.getLogger(__name__)
DEFAULT_RTF = 1.0  # bench/render.py on 2 CPU cores, 720p; refined by measured jobs
STARTUP_SECONDS = 2.0  # browser page and encoder set-up


class RenderInvalid(ApplicationError):
    status = 400
    code = "RENDER_INVALID_INPUT"


def validate_options(raw: Any, *, source) -> tuple[dict, list[dict]]:
    """Resolve options against the source; return (options, problems) — every problem, not the first.

    Bounds and defaults are the pipeline's (``rendering.pipeline.options``): one validator for every caller.
    """
    raw = raw if isinstance(raw, dict) else ({} if raw is None else None)
    if raw is None:
        return {}, [{"path": "options", "code": "type", "message": "options must be an object"}]
    clean, problems = check_options(raw)
    width, height, fps = clean["width"], clean["height"], clean["fps"]
    if source is not None:
        # Default to the source size (rounded down to even: H.264/VP9 with 4:2:0 need even sizes).
        width = width or (source.width // 2 * 2 if source.width else None)
        height = height or (source.height // 2 * 2 if source.height else None)
        fps = fps or (round(source.frame_rate, 3) if source.frame_rate else 30.0)
    return {"width": width, "height": height, "fps": fps, "quality": clean["quality"] or DEFAULT_QUALITY,
            "format": clean["format"] or DEFAULT_FORMAT}, problems


def source_limit_problems(video, path: str) -> list[dict]:
    """The source against the media limits (3840x2160, the maximum duration), before any quota is used.

    Videos probed before the limits existed (or by an older probe) may be ``ready`` and still too large.
    """
    try:
        check_limits(width=video.width, height=video.height, duration=video.duration)
    except MediaRefused as exc:
        code = {MEDIA_TOO_LARGE: "source_too_large", MEDIA_TOO_LONG: "source_too_long"}.get(exc.code, "source")
        return [{"path": path, "code": code, "message": exc.message, **exc.details}]
    return []


def check_scenario(raw: Any) -> tuple[dict | None, list[dict]]:
    """(the scenario migrated to 2.0, or None; every problem with its ``scenario.`` path), never raising.

    The API's view of ``rendering.pipeline.validate_scenario``, which raises ``ScenarioInvalid`` instead.
    """
    from rendering.pipeline.errors import ScenarioInvalid
    from rendering.pipeline.scenario import validate_scenario

    try:
        return validate_scenario(raw), []
    except ScenarioInvalid as exc:
        return None, [{**p, "path": f"scenario.{p['path']}" if p.get("path") else "scenario"} for p in exc.problems]


def scenario_plugins(scenario: dict) -> list[str]:
    """Every plugin (name@version) a validated scenario uses."""
    from rendering.pipeline.scenario import plugin_names

    return plugin_names(scenario)


def time_limit_ms(duration: float | None) -> int:
    """Scaled with the video's length: 20 s of wall time per second of video, at least 30 minutes."""
    return int(max(1800.0, 20.0 * (duration or 0.0)) * 1000)


def enqueue(job: RenderJob) -> None:
    from rendering.actors import run_render

    job_id, limit = str(job.pk), time_limit_ms(job.media_duration)
    transaction.on_commit(lambda: run_render.send_with_options(args=(job_id,), time_limit=limit))


def _quota_error(code: str, status: int, quota_type: str, window: quotas.QuotaWindow, message) -> ApplicationError:
    return ApplicationError(code, message, status=status, details={
        "quota_type": quota_type, "used": window.used, "limit": window.limit,
        "resets_at": window.resets_at.isoformat() if window.resets_at else None})


def _check_quota(user) -> None:
    use = quotas.usage(user)
    if use.daily.used >= use.daily.limit:
        raise _quota_error("RENDER_QUOTA_DAILY_EXCEEDED", 403, "daily", use.daily,
                           _("You have used all of today's renders."))
    if use.monthly.used >= use.monthly.limit:
        raise _quota_error("RENDER_QUOTA_MONTHLY_EXCEEDED", 403, "monthly", use.monthly,
                           _("You have used all of this month's renders."))
    if use.concurrent.used >= use.concurrent.limit:
        raise _quota_error("RENDER_QUOTA_CONCURRENT_EXCEEDED", 429, "concurrent", use.concurrent,
                           _("Too many renders are running. Wait for one to finish."))


def render_create(*, user, scenario: Any, options: Any, file_key: str | None = None, job_id: str | None = None,
                  video_url: str | None = None) -> RenderJob:
    source = sources.resolve(user=user, file_key=file_key, job_id=job_id, video_url=video_url)
    problems: list[dict] = []
    source_path = "videoUrl" if video_url and not (file_key or job_id) else \
        ("fileKey" if file_key else ("jobId" if job_id else "videoUrl"))
    if source is None:
        problems.append({"path": source_path, "code": "source",
                         "message": "no usable source video (upload one first)"})
    else:
        problems += source_limit_problems(source.video, source_path)
    migrated, scenario_problems = check_scenario(scenario)
    if migrated is not None and source is not None:
        from rendering.pipeline.scenario import size_problems

        scenario_problems += [{**p, "path": f"scenario.{p['path']}"}
                              for p in size_problems(migrated, source.video.duration)]
    resolved, option_problems = validate_options(options, source=source.video if source else None)
    problems += scenario_problems + option_problems
    if problems:
        raise RenderInvalid(message=_("The render request is invalid."), details={"problems": problems})
    video = source.video
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()  # serializes this user's creates
        _check_quota(user)
        job = RenderJob.objects.create(
            owner=user, video=video, transcription_job_id=source.transcription_job_id, scenario=migrated,
            scenario_original=scenario, scenario_version=str(scenario.get("version", "")), options=resolved,
            seed=random.SystemRandom().randrange(1, 2**31), media_duration=video.duration,
            estimated_seconds=estimate_seconds(RenderJob, video.duration, default_rtf=DEFAULT_RTF,
                                              startup_seconds=STARTUP_SECONDS))
        render_created.send(sender=RenderJob, job=job, plugins=scenario_plugins(migrated))
        enqueue(job)
    logger.info("render job %s created for video %s via %s", job.pk, video.pk, source.via)
    return job


def render_cancel(*, job: RenderJob) -> bool:
    won = transition(RenderJob, job.pk, to=JobStatus.CANCELLED, from_states=ACTIVE, error_code="CANCELLED",
                     error_message="Cancelled by the user.")
    job.refresh_from_db()
    return won


def render_replay(*, job: RenderJob, new: bool = False) -> RenderJob:
    """Re-run in place (reset to queued; output replaced) or as a new job. Staff/dev tool: no quota check."""
    with transaction.atomic():
        if new:
            job = RenderJob.objects.create(
                owner=job.owner, video=job.video, transcription_job=job.transcription_job, scenario=job.scenario,
                scenario_original=job.scenario_original, scenario_version=job.scenario_version, options=job.options,
                seed=job.seed, media_duration=job.media_duration, estimated_seconds=job.estimated_seconds)
        else:
            if not transition(RenderJob, job.pk, to=JobStatus.QUEUED, from_states=TERMINAL, **REPLAY_RESET,
                              frames_done=0, frames_captured=0):
                raise ApplicationError("JOB_ACTIVE", _("The job is still running."), status=409)
            job.refresh_from_db()
        enqueue(job)
    logger.info("render job %s replayed (%s)", job.pk, "new" if new else "in place")
    return job
