"""The signed local upload PUT, read before Django buffers it (``ecg.handler.register_body_reader``).

Django's ASGI handler spools every request body to a temporary file before any check runs. For the upload
URL this reader runs instead: it checks the token, expiry, first use, Content-Type and declared
Content-Length (``services.upload_check``) without reading a byte, refuses at once when any fails, and
otherwise streams the body straight into the partial file beside its final place with a running size limit.
The view (``views.upload_put``) then answers from ``scope["ecg.upload"]`` through the normal middleware.
"""

from __future__ import annotations

import asyncio
import io
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestAborted

from ecg.exceptions import ApplicationError
from ecg.handler import BODY_UNREAD_KEY, CLEANUP_KEY
from uploads import services, storage

logger = logging.getLogger(__name__)

PATH = r"^/api/upload-video/upload/(?P<token>[^/]+)$"
SCOPE_KEY = "ecg.upload"
WRITE_BATCH = 1024 * 1024  # bytes gathered before one write in a thread (the event loop never blocks on disk)


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


async def read_upload_body(scope: dict, receive) -> io.BytesIO:
    """Check, then stream; leave ``{"error": ApplicationError}`` or ``{"video", "upload"}`` in the scope."""
    outcome: dict = {}
    scope[SCOPE_KEY] = outcome
    scope[BODY_UNREAD_KEY] = True  # until the last body message is read
    token = scope["path"].rsplit("/", 1)[-1]
    raw_length = _header(scope, b"content-length")
    try:
        length = int(raw_length) if raw_length else None
        if length is not None and length < 0:
            raise ValueError(raw_length)
    except ValueError:
        outcome["error"] = ApplicationError("INVALID_CONTENT_LENGTH", "The Content-Length header is invalid.")
        return io.BytesIO()
    try:
        video = await sync_to_async(services.upload_check)(
            token=token, content_type=_header(scope, b"content-type"), content_length=length)
        upload = await asyncio.to_thread(storage.UploadFile, video.key, max_bytes=settings.MAX_UPLOAD_BYTES)
    except Exception as exc:  # noqa: BLE001 - the view re-raises it: an envelope either way (500 for the unexpected)
        outcome["error"] = exc  # nothing read: the server drops the unread body with the connection
        return io.BytesIO()
    scope[CLEANUP_KEY] = upload.abort  # no-op once committed (the partial name no longer exists)
    pending = bytearray()
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RequestAborted()
            pending += message.get("body", b"")
            more = message.get("more_body", False)
            if len(pending) >= WRITE_BATCH or (pending and not more):
                chunk, pending = bytes(pending), bytearray()
                await asyncio.to_thread(upload.write, chunk)
            if not more:
                scope[BODY_UNREAD_KEY] = False
                break
        await asyncio.to_thread(upload.close)
    except OverflowError:
        await asyncio.to_thread(upload.abort)
        outcome["error"] = services.too_large()
        return io.BytesIO()
    except (RequestAborted, asyncio.CancelledError):
        upload.abort()  # not awaited: a cancelled task must not wait again
        logger.info("upload of %s aborted by the client after %d bytes", video.key, upload.written)
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. the disk is full: answered by the view as a 500 envelope
        await asyncio.to_thread(upload.abort)
        logger.exception("upload of %s failed after %d bytes", video.key, upload.written)
        outcome["error"] = exc
        return io.BytesIO()
    outcome.update(video=video, upload=upload)
    return io.BytesIO()
