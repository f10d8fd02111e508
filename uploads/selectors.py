"""Owner-scoped reads of videos: another user's id is indistinguishable from a missing one."""

from __future__ import annotations

from django.db.models import QuerySet

from ecg.exceptions import NotFoundError
from uploads.models import Video


def videos_of(user) -> QuerySet[Video]:
    return Video.objects.filter(owner=user)


def video_get(*, user, video_id) -> Video:
    video = videos_of(user).filter(pk=video_id).first() if str(video_id).isdigit() else None
    if video is None:
        raise NotFoundError("VIDEO_NOT_FOUND")
    return video


def video_by_key(*, user, key: str) -> Video | None:
    return videos_of(user).filter(key=key).first()
