"""Upload flows: issue upload URLs, receive local uploads, probe media, delete videos with their files."""

from __future__ import annotations

import logging
import mimetypes
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ecg.exceptions import ApplicationError, ValidationFailed
from ecg.jobs import job_kinds
from uploads import storage
from uploads.models import Video
from uploads.probe import MediaInvalid, probe

logger = logging.getLogger(__name__)

_EXTRA_TYPES = {".mkv": "video/x-matroska", ".m4a": "audio/mp4", ".webm": "video/webm", ".mov": "video/quicktime",
                ".opus": "audio/ogg", ".flac": "audio/flac", ".aac": "audio/aac", ".wav": "audio/wav"}


def _content_type_for(filename: str, content_type: str) -> str:
    content_type = (content_type or "").split(";")[0].strip().lower()
    if not content_type:
        suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        content_type = _EXTRA_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or ""
    if not content_type.startswith(("video/", "audio/")):
        raise ValidationFailed(
            "UNSUPPORTED_MEDIA_TYPE", _("Only video and audio files can be uploaded."),
            details={"fields": {"content_type": [str(_("Only video/* and audio/* are accepted."))]}})
    return content_type


def upload_url_create(*, user, filename: str, content_type: str) -> dict:
    """Create the Video row and a signed URL the browser PUTs the file to."""
    content_type = _content_type_for(filename, content_type)
    key = storage.new_upload_key(user.pk, filename)
    Video.objects.create(owner=user, key=key, original_filename=storage.sanitize_filename(filename),
                         content_type=content_type)
    url = storage.upload_url(key, content_type)
    ttl = settings.UPLOAD_URL_TTL
    logger.info("user %s: upload url issued for %s", user.pk, key)
    return {"upload_url": url, "presigned_url": url, "url": url, "file_key": key, "fileKey": key,
            "expires_in": ttl, "expires_at": (timezone.now() + timedelta(seconds=ttl)).isoformat(),
            "content_type": content_type}


class UploadRejected(ApplicationError):
    status = 403
    code = "UPLOAD_URL_INVALID"


def upload_receive(*, token: str, content_type: str, content_length: int | None, stream) -> Video:
    """Store a PUT body for a signed local upload URL, enforcing the size limit, then probe it."""
    try:
        claims = storage.read_upload_token(token)
    except Exception as exc:
        raise UploadRejected(message=_("The upload URL is invalid or has expired.")) from exc
    video = Video.objects.filter(key=claims["k"]).first()
    if video is None:
        raise UploadRejected(message=_("The upload URL is invalid or has expired."))
    signed_type = claims.get("ct") or ""
    if signed_type and (content_type or "").split(";")[0].strip().lower() != signed_type:
        raise ApplicationError("CONTENT_TYPE_MISMATCH",
                               _("The Content-Type must match the one the upload URL was issued for."))
    limit = settings.MAX_UPLOAD_BYTES
    too_large = ApplicationError("PAYLOAD_TOO_LARGE", _("The file is larger than the upload limit."),
                                 status=413, details={"max_bytes": limit})
    if content_length is not None and content_length > limit:
        raise too_large
    try:
        written = storage.write_stream(video.key, stream, max_bytes=limit)
    except OverflowError as exc:
        raise too_large from exc
    Video.objects.filter(pk=video.pk).update(size=written, status=Video.Status.UPLOADED,
                                             uploaded_at=timezone.now())
    video.refresh_from_db()
    logger.info("video %s: %d bytes received", video.pk, written)
    return video_ensure_probed(video)


def video_ensure_probed(video: Video) -> Video:
    """Probe once the object is in storage; not yet uploaded → unchanged; undecodable → invalid."""
    if video.probed_at is not None:
        return video
    if not storage.exists(video.key):
        return video
    fields: dict = {"probed_at": timezone.now(), "size": storage.size(video.key)}
    try:
        with storage.local_copy(video.key) as path:
            info = probe(path)
    except MediaInvalid as exc:
        fields.update(status=Video.Status.INVALID, invalid_reason=exc.reason)
        logger.info("video %s invalid: %s", video.pk, exc.reason)
    else:
        fields.update(status=Video.Status.READY, duration=info.duration, width=info.width, height=info.height,
                      frame_rate=info.frame_rate, video_codec=info.video_codec or "",
                      audio_codec=info.audio_codec or "", has_audio=info.has_audio)
    fields.setdefault("uploaded_at", video.uploaded_at or timezone.now())
    Video.objects.filter(pk=video.pk, probed_at__isnull=True).update(**fields)
    video.refresh_from_db()
    return video


def video_delete(*, video: Video) -> None:
    """Delete the row, its upload and every derived file (render outputs) from storage."""
    keys = [video.key]
    for kind in job_kinds():
        if kind.video_field:
            keys += kind.files(kind.model.objects.filter(**{kind.video_field: video}))
    with transaction.atomic():
        video.delete()
    for key in keys:
        try:
            storage.delete(key)
        except Exception:
            logger.exception("video %s: could not delete %s", video.pk, key)
