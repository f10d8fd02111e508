"""The signed local upload PUT against a real uvicorn server (issue #11 items 2 and 4).

Django's ASGI handler reads a whole request body into a temporary file before any middleware or view runs,
so these tests talk raw HTTP over a socket: they send headers and only part of a body, and expect the
answer *before* the rest is sent. A server that buffers first never answers (the read times out).
Set ``ECG_TEST_PORT`` to bind a fixed port (default: any free one).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from support import FRONTEND, LiveServer, wait_for
from testmedia import make_clip

from uploads import storage
from uploads.models import Video

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
READ_TIMEOUT = 30.0  # generous: a buffering server never answers at all


@pytest.fixture
def live():
    with LiveServer() as server:
        yield server


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    make_clip(path, seconds=1.0, width=160, height=90, fps=25)
    return path.read_bytes()


@pytest.fixture
def django_read_body(monkeypatch) -> list[str]:
    """Paths whose body Django's own reader (the spooling one) read."""
    seen: list[str] = []
    original = DjangoASGIHandler.read_body

    async def spy(self, receive):
        from ecg.handler import _scope

        seen.append((_scope.get() or {}).get("path", "?"))
        return await original(self, receive)

    monkeypatch.setattr(DjangoASGIHandler, "read_body", spy)
    return seen


def upload_url(client) -> dict:
    return client.post("/api/upload-video/generate-url", {"filename": "clip.mp4", "content_type": "video/mp4"},
                       format="json").json()


def raw_put(port: int, path: str, headers: dict[str, str], parts: list[bytes], *, chunked: bool = False
            ) -> tuple[int, dict[str, str], dict]:
    """Send a PUT with ``parts`` of its body (maybe fewer bytes than declared) and read the answer."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
    try:
        head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        if chunked:
            head += "Transfer-Encoding: chunked\r\n"
        sock.sendall((head + "\r\n").encode("latin-1"))
        try:
            for part in parts:
                sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n" if chunked else part)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before taking everything: read that answer
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed without an answer: {data!r}"
            data += chunk
        raw_head, _, rest = data.partition(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        response_headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(response_headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed in the middle of the answer"
            rest += chunk
        return status, response_headers, json.loads(rest[:length] or b"{}")
    finally:
        sock.close()


def leftovers(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_bogus_token_is_refused_before_the_body_is_read(live, settings, django_read_body):
    """Old code: the 300 MiB body was spooled to disk first; here 1 MiB is sent and the 403 comes back."""
    status, _, body = raw_put(live.port, "/api/upload-video/upload/bogus-token",
                              {"Content-Type": "video/mp4", "Content-Length": str(300 * 1024**2)},
                              [b"\0" * (1024 * 1024)])
    assert status == 403 and body["error"] == "UPLOAD_URL_INVALID"
    assert leftovers(settings) == []
    assert django_read_body == []


def test_declared_3_gib_is_refused_at_once_with_413(live, auth_api, settings):
    """Old code: the server waited for 3 GiB of body (the request hung)."""
    url = upload_url(auth_api)
    status, _, body = raw_put(live.port, urlsplit(url["upload_url"]).path,
                              {"Content-Type": "video/mp4", "Content-Length": str(3 * 1024**3),
                               "Origin": FRONTEND}, [])
    assert status == 413 and body["error"] == "PAYLOAD_TOO_LARGE"
    assert body["details"]["max_bytes"] == settings.MAX_UPLOAD_BYTES
    assert Video.objects.get(key=url["file_key"]).status == "pending_upload"  # the URL is still good


def test_undeclared_oversize_body_stops_at_the_limit_and_keeps_nothing(live, auth_api, settings):
    settings.MAX_UPLOAD_BYTES = 256 * 1024
    url = upload_url(auth_api)
    status, _, body = raw_put(live.port, urlsplit(url["upload_url"]).path, {"Content-Type": "video/mp4"},
                              [b"\0" * 65536] * 16, chunked=True)
    assert status == 413 and body["error"] == "PAYLOAD_TOO_LARGE"
    assert leftovers(settings) == []
    assert Video.objects.get(key=url["file_key"]).status == "pending_upload"


def test_wrong_content_type_is_refused_before_the_body(live, auth_api, settings):
    url = upload_url(auth_api)
    status, _, body = raw_put(live.port, urlsplit(url["upload_url"]).path,
                              {"Content-Type": "text/plain", "Content-Length": str(100 * 1024**2)}, [b"x" * 1000])
    assert status == 400 and body["error"] == "CONTENT_TYPE_MISMATCH"
    assert leftovers(settings) == []


def test_valid_upload_is_streamed_once_to_its_place_with_cors(live, auth_api, clip_bytes, settings, django_read_body):
    """Old code: Django spooled the body, then the view copied it into storage (written twice)."""
    url = upload_url(auth_api)
    path = urlsplit(url["upload_url"]).path
    status, headers, body = raw_put(live.port, path, {"Content-Type": "video/mp4", "Origin": FRONTEND,
                                                      "Content-Length": str(len(clip_bytes))}, [clip_bytes])
    assert status == 200, body
    assert body["status"] == "ready" and body["size"] == len(clip_bytes)
    assert headers.get("access-control-allow-origin") == FRONTEND
    assert django_read_body == []  # Django's spooling reader never saw the upload
    assert leftovers(settings) == [storage.local_path(url["file_key"])]
    assert storage.local_path(url["file_key"]).read_bytes() == clip_bytes

    # Item 4: the used URL is refused before its body is read, and the stored file is untouched.
    status, _, body = raw_put(live.port, path, {"Content-Type": "video/mp4", "Content-Length": str(50 * 1024**2)},
                              [b"\0" * 4096])
    assert status == 409 and body["error"] == "UPLOAD_URL_USED"
    assert storage.local_path(url["file_key"]).read_bytes() == clip_bytes
    assert Video.objects.get(key=url["file_key"]).size == len(clip_bytes)


def test_client_disconnect_mid_upload_leaves_no_partial_file(live, auth_api, settings):
    url = upload_url(auth_api)
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=READ_TIMEOUT)
    sock.sendall((f"PUT {urlsplit(url['upload_url']).path} HTTP/1.1\r\nHost: x\r\nContent-Type: video/mp4\r\n"
                  f"Content-Length: {10 * 1024**2}\r\n\r\n").encode() + b"\0" * (2 * 1024**2))
    media = Path(settings.MEDIA_ROOT)
    wait_for(lambda: any(media.rglob(".upload-*")), timeout=60, interval=0.05, message="the partial file")
    sock.close()
    wait_for(lambda: not any(media.rglob(".upload-*")), timeout=60, interval=0.05,
             message="the partial file to be removed")
    assert Video.objects.get(key=url["file_key"]).status == "pending_upload"  # the URL can be used again
