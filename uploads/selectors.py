"""Owner-scoped reads of videos: another user's id is indistinguishable from a missing one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ecg.exceptions import NotFoundError
from ecg.http import parse_id, shown_id
from uploads.models import Video


def videos_of(user) -> QuerySet[Video]:
    return Video.objects.filter(owner=user)


def video_get(*, user, video_id) -> Video:
    pk = parse_id(video_id)
    video = videos_of(user).filter(pk=pk).first() if pk is not None else None
    if video is None:
        raise NotFoundError("VIDEO_NOT_FOUND", _("Video %(id)s was not found.") % {"id": shown_id(video_id)},
                            details={"id": shown_id(video_id)})
    return video


def video_by_key(*, user, key: str) -> Video | None:
    return videos_of(user).filter(key=key).first()


def video_jobs(*, video: Video, limit: int = 50) -> list:
    """The jobs made from ``video`` (every registered kind; up to ``limit`` each), newest first."""
    from ecg.jobs import job_kinds

    jobs = []
    for kind in job_kinds():
        if kind.video_field:
            jobs += kind.model.objects.filter(**{kind.video_field: video}).order_by("-created_at")[:limit]
    return sorted(jobs, key=lambda job: job.created_at, reverse=True)
