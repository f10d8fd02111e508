"""Object storage: keys, signed upload/download URLs, and local access for workers.

Two backends behind one module: S3 (django-storages + boto3, any S3-compatible endpoint) issues real
presigned URLs; local file storage (the embedded default) issues our own signed, expiring URLs served by
``uploads.views``. Workers get a local path either way via ``local_copy``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage

UPLOAD_SALT = "ecg.uploads.put"
DOWNLOAD_SALT = "ecg.uploads.get"
_UNSAFE = re.compile(r"[^\w.\-() ]+", re.UNICODE)


def is_s3() -> bool:
    return bool(settings.S3_BUCKET)


def sanitize_filename(name: str, *, max_length: int = 120) -> str:
    """Keep unicode letters, drop directories, control characters and anything shell/URL hostile."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" ._")
    name = re.sub(r"_+", "_", name).replace(" ", "_")
    if not name or name in {".", ".."}:
        name = "file"
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: max_length - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:max_length]
    return name


def new_upload_key(user_id: int, filename: str) -> str:
    return f"uploads/{user_id}/{uuid.uuid4()}/{sanitize_filename(filename)}"


def _s3_client():
    return default_storage.connection.meta.client


def upload_url(key: str, content_type: str) -> str:
    """A URL the browser PUTs the file to (the URL itself is the credential)."""
    ttl = settings.UPLOAD_URL_TTL
    if is_s3():
        return _s3_client().generate_presigned_url(
            "put_object", Params={"Bucket": settings.S3_BUCKET, "Key": key, "ContentType": content_type},
            ExpiresIn=ttl)
    token = signing.dumps({"k": key, "ct": content_type}, salt=UPLOAD_SALT, compress=True)
    return f"{settings.PUBLIC_BASE_URL}/api/upload-video/upload/{token}"


def read_upload_token(token: str) -> dict:
    """Raises ``signing.BadSignature`` (incl. ``SignatureExpired``) for a forged or stale token."""
    return signing.loads(token, salt=UPLOAD_SALT, max_age=settings.UPLOAD_URL_TTL)


def download_url(key: str, filename: str, *, ttl: int | None = None) -> str:
    """A fresh, expiring URL that downloads ``key`` as an attachment called ``filename``."""
    ttl = ttl or settings.DOWNLOAD_URL_TTL
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    if is_s3():
        return _s3_client().generate_presigned_url(
            "get_object",
            Params={"Bucket": settings.S3_BUCKET, "Key": key, "ResponseContentDisposition": disposition},
            ExpiresIn=ttl)
    token = signing.dumps({"k": key, "f": filename}, salt=DOWNLOAD_SALT, compress=True)
    return f"{settings.PUBLIC_BASE_URL}/api/files/{token}"


def read_download_token(token: str) -> dict:
    return signing.loads(token, salt=DOWNLOAD_SALT, max_age=settings.DOWNLOAD_URL_TTL)


def exists(key: str) -> bool:
    return default_storage.exists(key)


def size(key: str) -> int:
    return default_storage.size(key)


def delete(key: str) -> None:
    if key and default_storage.exists(key):
        default_storage.delete(key)


def local_path(key: str) -> Path:
    """Filesystem path of a key in local storage (only for the local backend)."""
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / key).resolve()
    if root not in path.parents:
        raise ValueError("key escapes the media root")
    return path


PARTIAL_PREFIX = ".upload-"  # partial uploads: never under a key; removed by purge_media when stale


class UploadFile:
    """A partial upload beside its final place: written once, renamed to ``key`` only when complete.

    ``write`` enforces a running size limit (``OverflowError``); ``abort`` removes the partial file. A crash
    leaves a ``.upload-*`` file that ``partial_uploads`` finds for cleanup.
    """

    def __init__(self, key: str, *, max_bytes: int) -> None:
        self.target = local_path(key)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.target.parent, prefix=PARTIAL_PREFIX)
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self.max_bytes = max_bytes
        self.written = 0

    def write(self, chunk: bytes) -> None:
        if self.written + len(chunk) > self.max_bytes:
            self.abort()
            raise OverflowError(self.written + len(chunk))
        self._file.write(chunk)
        self.written += len(chunk)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def commit(self) -> Path:
        """Move the complete file to its key (same directory: a rename, the bytes are not copied)."""
        self.close()
        self.path.replace(self.target)
        return self.target

    def abort(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def write_stream(key: str, stream: BinaryIO, *, max_bytes: int, chunk_size: int = 1024 * 1024) -> UploadFile:
    """Copy ``stream`` into a partial upload for ``key``; raise ``OverflowError`` past max_bytes.

    The caller commits (or aborts) the returned file once it has decided the upload is wanted.
    """
    upload = UploadFile(key, max_bytes=max_bytes)
    try:
        while chunk := stream.read(chunk_size):
            upload.write(chunk)
        upload.close()
    except BaseException:
        upload.abort()
        raise
    return upload


def delete_partials(key: str) -> None:
    """Remove partial uploads beside ``key`` (each upload key has a directory of its own)."""
    for path in local_path(key).parent.glob(f"{PARTIAL_PREFIX}*"):
        path.unlink(missing_ok=True)


def partial_uploads(older_than: float) -> list[Path]:
    """Partial upload files (local storage) last written more than ``older_than`` seconds ago."""
    root = Path(settings.MEDIA_ROOT)
    uploads = root / "uploads"
    if is_s3() or not uploads.is_dir():
        return []
    cutoff = time.time() - older_than
    found = []
    for path in uploads.rglob(f"{PARTIAL_PREFIX}*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                found.append(path)
        except FileNotFoundError:
            continue
    return found


def save_file(key: str, path: str | Path, content_type: str = "application/octet-stream") -> None:
    """Store a finished local file under ``key`` (used for outputs: never half-written under the key)."""
    if is_s3():
        _s3_client().upload_file(str(path), settings.S3_BUCKET, key, ExtraArgs={"ContentType": content_type})
        return
    target = local_path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        shutil.copyfile(path, tmp)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def local_copy(key: str) -> Iterator[Path]:
    """A local file for ``key``: the file itself for local storage, a temp download for S3."""
    if not is_s3():
        yield local_path(key)
        return
    settings.WORK_DIR.mkdir(parents=True, exist_ok=True)
    suffix = Path(key).suffix[:10]
    fd, name = tempfile.mkstemp(dir=settings.WORK_DIR, prefix="src-", suffix=suffix)
    os.close(fd)
    try:
        _s3_client().download_file(settings.S3_BUCKET, key, name)
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
