"""API.md sections 2 (generate-url + PUT) and 3 (videos) on local storage, the embedded default."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from support import FRONTEND
from testmedia import make_clip

from uploads import storage
from uploads.models import Video

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def clip_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("clips") / "clip.mp4"
    make_clip(path, seconds=1.0, width=160, height=90, fps=25)
    return path.read_bytes()


def generate(client, filename="clip.mp4", content_type="video/mp4"):
    return client.post("/api/upload-video/generate-url", {"filename": filename, "content_type": content_type},
                       format="json")


def put(client, url: str, data: bytes, content_type="video/mp4", **extra):
    return client.generic("PUT", urlsplit(url).path, data, content_type=content_type, **extra)


def upload(client, data: bytes, filename="clip.mp4", content_type="video/mp4") -> dict:
    body = generate(client, filename, content_type).json()
    assert put(client, body["upload_url"], data, content_type).status_code == 200
    return body


def test_generate_url_shape(auth_api, user):
    response = generate(auth_api)
    assert response.status_code == 200
    body = response.json()
    assert body["upload_url"] == body["presigned_url"] == body["url"]
    assert body["file_key"] == body["fileKey"]
    assert body["file_key"].startswith(f"uploads/{user.id}/") and body["file_key"].endswith("/clip.mp4")
    assert body["expires_in"] == 3600
    assert "T" in body["expires_at"]
    assert Video.objects.get(key=body["file_key"]).status == "pending_upload"


def test_generate_url_guesses_type_from_extension_and_rejects_non_media(auth_api):
    guessed = generate(auth_api, "talk.m4a", "")
    assert guessed.status_code == 200 and guessed.json()["content_type"] == "audio/mp4"
    rejected = generate(auth_api, "notes.pdf", "application/pdf")
    assert rejected.status_code == 422
    assert rejected.json()["error"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "content_type" in rejected.json()["details"]["fields"]
    unknown = generate(auth_api, "noext", "")
    assert unknown.status_code == 422


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("evil\x07name\x1f.mp4", "evilname.mp4"),
    ("한국어 영상.mp4", "한국어_영상.mp4"),
    ("..", "file"),
    ("a/b/<script>.mp4", "script_.mp4"),
])
def test_filenames_are_sanitized(auth_api, name, expected):
    body = generate(auth_api, name, "video/mp4").json()
    assert body["file_key"].rsplit("/", 1)[-1] == expected
    assert ".." not in body["file_key"].split("/")


def test_generate_url_requires_auth(api):
    response = generate(api)
    assert response.status_code == 401


def test_put_stores_file_probes_and_answers_200_json(auth_api, clip_bytes):
    body = generate(auth_api).json()
    response = put(auth_api.__class__(), body["upload_url"], clip_bytes, HTTP_ORIGIN=FRONTEND)
    assert response.status_code == 200
    assert response.json()["success"] is True
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert storage.local_path(body["file_key"]).read_bytes() == clip_bytes
    video = Video.objects.get(key=body["file_key"])
    assert video.status == "ready" and video.size == len(clip_bytes)
    assert video.width == 160 and video.height == 90 and video.has_audio is True


def test_put_preflight_allows_frontend(api, auth_api):
    body = generate(auth_api).json()
    response = api.options(urlsplit(body["upload_url"]).path, HTTP_ORIGIN=FRONTEND,
                           HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
                           HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert "PUT" in response["Access-Control-Allow-Methods"]


def test_put_with_forged_or_expired_token_is_refused(api, auth_api, clip_bytes, settings):
    body = generate(auth_api).json()
    forged = put(api, body["upload_url"] + "x", clip_bytes)
    assert forged.status_code == 403 and forged.json()["error"] == "UPLOAD_URL_INVALID"
    settings.UPLOAD_URL_TTL = -1
    expired = put(api, body["upload_url"], clip_bytes)
    assert expired.status_code == 403


def test_put_enforces_size_limit_and_keeps_nothing(api, auth_api, clip_bytes, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    body = generate(auth_api).json()
    response = put(api, body["upload_url"], clip_bytes)
    assert response.status_code == 413
    assert response.json()["error"] == "PAYLOAD_TOO_LARGE"
    assert not storage.local_path(body["file_key"]).exists()
    assert not list(storage.local_path(body["file_key"]).parent.glob("*")) if \
        storage.local_path(body["file_key"]).parent.exists() else True


def test_put_content_type_must_match_signed_one(api, auth_api, clip_bytes):
    body = generate(auth_api).json()
    response = put(api, body["upload_url"], clip_bytes, content_type="text/plain")
    assert response.status_code == 400 and response.json()["error"] == "CONTENT_TYPE_MISMATCH"


def test_non_media_upload_is_refused_and_marked_invalid_with_reason(auth_api, api):
    body = generate(auth_api).json()
    response = put(api, body["upload_url"], b"this is not a video at all" * 100)
    assert response.status_code == 422 and response.json()["error"] == "MEDIA_UNSUPPORTED_FORMAT"
    video = Video.objects.get(key=body["file_key"])
    assert video.status == "invalid" and video.invalid_code == "MEDIA_UNSUPPORTED_FORMAT"
    assert video.invalid_reason
    assert not storage.local_path(body["file_key"]).exists()  # refused media is not kept
    meta = auth_api.get(f"/api/videos/{video.id}/metadata")
    assert meta.status_code == 200 and meta.json()["duration"] is None


def test_videos_list_retrieve_metadata(auth_api, clip_bytes):
    first = upload(auth_api, clip_bytes, "first.mp4")
    second = upload(auth_api, clip_bytes, "second.mp4")
    listing = auth_api.get("/api/videos")
    assert listing.status_code == 200
    results = listing.json()["results"]
    assert [v["file_key"] for v in results] == [second["file_key"], first["file_key"]]
    assert listing.json()["count"] == 2
    video_id = results[0]["id"]
    one = auth_api.get(f"/api/videos/{video_id}")
    assert one.status_code == 200 and one.json()["jobs"] == []
    meta = auth_api.get(f"/api/videos/{video_id}/metadata").json()
    assert set(meta) == {"duration", "width", "height", "frameRate", "videoCodec", "audioCodec", "filesize"}
    assert meta["width"] == 160 and meta["height"] == 90
    assert meta["frameRate"] == pytest.approx(25, abs=0.01)
    assert meta["duration"] == pytest.approx(1.0, abs=0.1)
    assert meta["videoCodec"] == "h264" and meta["audioCodec"] == "aac"
    assert meta["filesize"] == len(clip_bytes)


def test_audio_only_metadata_has_null_dimensions(auth_api, tmp_path):
    path = tmp_path / "tone.m4a"
    make_clip(path, seconds=0.5, video=False)
    body = upload(auth_api, path.read_bytes(), "tone.m4a", "audio/mp4")
    video = Video.objects.get(key=body["file_key"])
    meta = auth_api.get(f"/api/videos/{video.id}/metadata").json()
    assert meta["width"] is None and meta["height"] is None and meta["videoCodec"] is None
    assert meta["audioCodec"] == "aac"


def test_other_users_video_is_404(auth_api, other_api, clip_bytes):
    body = upload(auth_api, clip_bytes)
    video = Video.objects.get(key=body["file_key"])
    for path in (f"/api/videos/{video.id}", f"/api/videos/{video.id}/metadata"):
        response = other_api.get(path)
        assert response.status_code == 404 and response.json()["error"] == "VIDEO_NOT_FOUND"
    assert other_api.delete(f"/api/videos/{video.id}").status_code == 404
    assert other_api.get("/api/videos").json()["count"] == 0
    assert auth_api.get("/api/videos/999999").status_code == 404


def test_delete_removes_row_and_file(auth_api, clip_bytes):
    body = upload(auth_api, clip_bytes)
    video = Video.objects.get(key=body["file_key"])
    response = auth_api.delete(f"/api/videos/{video.id}")
    assert response.status_code == 200 and response.json()["success"] is True
    assert not Video.objects.filter(pk=video.id).exists()
    assert not storage.local_path(body["file_key"]).exists()
