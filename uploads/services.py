"""Upload flows: issue upload URLs, receive local uploads, probe media, delete videos with their files."""

from __future__ import annotations

import logging
import mimetypes
import re
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


# type/subtype as RFC 9110 tokens: no spaces, CR/LF or other controls can reach a signed URL or a header.
_MEDIA_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")


def _content_type_for(filename: str, content_type: str) -> str:
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type and not _MEDIA_TYPE.fullmatch(content_type):
        raise ValidationFailed(
            "UNSUPPORTED_MEDIA_TYPE", _("The content type is not a valid media type."),
            details={"fields": {"content_type": [str(_("Expected type/subtype, e.g. video/mp4."))]}})
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


def upload_check(*, token: str, content_type: str, content_length: int | None) -> Video:
    """Everything that can be decided before a single body byte is read: token, expiry, first use, type, size.

    Called by the ASGI body reader (``uploads.asgi``) before the body is streamed, so a forged URL, a used
    URL or a declared size over the limit is refused at once, whatever the body's size.
    """
    try:
        claims = storage.read_upload_token(token)
    except Exception as exc:
        raise UploadRejected(message=_("The upload URL is invalid or has expired.")) from exc
    video = Video.objects.filter(key=claims["k"]).first()
    if video is None:
        raise UploadRejected(message=_("The upload URL is invalid or has expired."))
    if video.status != Video.Status.PENDING_UPLOAD:
        raise ApplicationError("UPLOAD_URL_USED", _("This upload URL was already used. Ask for a new one."),
                               status=409)
    signed_type = claims.get("ct") or ""
    if signed_type and (content_type or "").split(";")[0].strip().lower() != signed_type:
        raise ApplicationError("CONTENT_TYPE_MISMATCH",
                               _("The Content-Type must match the one the upload URL was issued for."))
    if content_length is not None and content_length > settings.MAX_UPLOAD_BYTES:
        raise too_large()
    return video


def too_large() -> ApplicationError:
    limit = settings.MAX_UPLOAD_BYTES
    return ApplicationError("PAYLOAD_TOO_LARGE", _("The file is larger than the upload limit."),
                            status=413, details={"max_bytes": limit})


def upload_complete(*, video: Video, upload: storage.UploadFile) -> Video:
    """Take a fully received body: the first completed upload wins the URL, then its headers are probed.

    Media we refuse (not an accepted container, over 3840x2160 or the maximum duration) is deleted and
    answered with its code (422); the row stays ``invalid`` with the reason.
    """
    won = Video.objects.filter(pk=video.pk, status=Video.Status.PENDING_UPLOAD).update(
        status=Video.Status.UPLOADED, size=upload.written, uploaded_at=timezone.now())
    if not won:
        upload.abort()
        raise ApplicationError("UPLOAD_URL_USED", _("This upload URL was already used. Ask for a new one."),
                               status=409)
    try:
        upload.commit()
    except BaseException:
        upload.abort()
        Video.objects.filter(pk=video.pk).update(status=Video.Status.PENDING_UPLOAD, size=None, uploaded_at=None)
        raise
    video.refresh_from_db()
    logger.info("video %s: %d bytes received", video.pk, upload.written)
    video = video_ensure_probed(video)
    if video.status == Video.Status.INVALID:
        storage.delete(video.key)
        raise ValidationFailed(video.invalid_code or "MEDIA_INVALID", video.invalid_reason,
                               details={"file_key": video.key})
    return video


def upload_receive(*, token: str, content_type: str, content_length: int | None, stream) -> Video:
    """The whole PUT for servers that hand the view an unbuffered stream (WSGI, the test client)."""
    video = upload_check(token=token, content_type=content_type, content_length=content_length)
    try:
        upload = storage.write_stream(video.key, stream, max_bytes=settings.MAX_UPLOAD_BYTES)
    except OverflowError as exc:
        raise too_large() from exc
    return upload_complete(video=video, upload=upload)


def video_ensure_probed(video: Video) -> Video:
    """Probe once the object is in storage; not yet uploaded → unchanged; unacceptable → invalid."""
    if video.probed_at is not None:
        return video
    if not storage.exists(video.key):
        return video
    fields: dict = {"probed_at": timezone.now(), "size": storage.size(video.key)}
    try:
        with storage.local_copy(video.key) as path:
            info = probe(path)
    except MediaInvalid as exc:
        fields.update(status=Video.Status.INVALID, invalid_reason=exc.reason[:255], invalid_code=exc.code)
        logger.info("video %s invalid: %s %s", video.pk, exc.code, exc.reason)
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
    if not storage.is_s3():
        storage.delete_partials(video.key)  # an upload interrupted by a crash
    for key in keys:
        try:
            storage.delete(key)
        except Exception:
            logger.exception("video %s: could not delete %s", video.pk, key)
