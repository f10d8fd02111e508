"""Resolve a render request's source video — only ever to a video the caller owns in our storage.

Order (API.md section 4): ``fileKey``, then ``jobId`` (a transcription job's video), then ``videoUrl`` when
it points into our storage (``s3://bucket/key``, a bucket URL, a presigned URL we issued, a signed local
file URL). The editor sends a browser ``blob:`` URL; then the source is the caller's latest upload.
No URL is ever fetched: each form is parsed to a storage key and looked up among the caller's videos.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings

from uploads import storage
from uploads.models import Video
from uploads.selectors import video_by_key, videos_of
from uploads.services import video_ensure_probed


@dataclass(frozen=True)
class ResolvedSource:
    video: Video
    via: str  # fileKey | jobId | videoUrl | latest
    transcription_job_id: str | None = None


def _key_from_url(url: str) -> str | None:
    """The storage key a URL of ours points to, or None for anything else."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.scheme == "s3":
        return path.lstrip("/") if parts.netloc == settings.S3_BUCKET and settings.S3_BUCKET else None
    if parts.scheme not in ("http", "https"):
        return None
    if settings.S3_BUCKET:
        bucket = settings.S3_BUCKET
        if parts.netloc.startswith(f"{bucket}."):  # virtual-hosted style
            return path.lstrip("/")
        if path.startswith(f"/{bucket}/"):  # path style (custom endpoints)
            return path[len(bucket) + 2:]
    for prefix in ("/api/files/",):
        if path.startswith(prefix):
            try:
                return storage.read_download_token(path[len(prefix):])["k"]
            except Exception:
                return None
    if path.startswith(settings.MEDIA_URL):
        return path[len(settings.MEDIA_URL):]
    return None


def _usable(video: Video | None) -> Video | None:
    if video is None:
        return None
    video = video_ensure_probed(video)
    return video if video.status == Video.Status.READY and video.width else None


def resolve(*, user, file_key: str | None, job_id: str | None, video_url: str | None) -> ResolvedSource | None:
    if file_key:
        return ResolvedSource(video, "fileKey") if (video := _usable(video_by_key(user=user, key=file_key))) else None
    if job_id:
        from transcription.models import TranscriptionJob
        from transcription.selectors import parse_uuid

        uuid = parse_uuid(job_id)
        job = TranscriptionJob.objects.filter(owner=user, pk=uuid).select_related("video").first() if uuid else None
        if job is None:
            return None
        return ResolvedSource(video, "jobId", str(job.pk)) if (video := _usable(job.video)) else None
    if video_url:
        if video_url.startswith("blob:"):
            for candidate in videos_of(user).exclude(status=Video.Status.INVALID)[:10]:
                if video := _usable(candidate):
                    return ResolvedSource(video, "latest")
            return None
        key = _key_from_url(video_url)
        if key and (video := _usable(video_by_key(user=user, key=key))):
            return ResolvedSource(video, "videoUrl")
    return None
