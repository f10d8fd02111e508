"""The S3 path against a real S3-compatible server (moto in server mode): presigned PUT, probe, download."""

from __future__ import annotations

import pytest
import requests
from support import moto_s3_server
from testmedia import make_clip

from uploads import storage
from uploads.models import Video

pytestmark = pytest.mark.django_db
BUCKET = "ecg-test-bucket"


@pytest.fixture(scope="module")
def s3_endpoint():
    endpoint, server = moto_s3_server(BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_settings(settings, s3_endpoint):
    settings.S3_BUCKET = BUCKET
    settings.S3_ENDPOINT_URL = s3_endpoint
    settings.STORAGES = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": BUCKET, "endpoint_url": s3_endpoint, "region_name": "us-east-1",
            "access_key": "test", "secret_key": "test", "signature_version": "s3v4", "file_overwrite": True,
            "querystring_auth": True, "default_acl": None}},
        "staticfiles": settings.STORAGES["staticfiles"],
    }
    return settings


def test_presigned_put_then_probe_and_download(s3_settings, auth_api, tmp_path, s3_endpoint):
    clip = tmp_path / "clip.mp4"
    make_clip(clip, seconds=1.0)
    data = clip.read_bytes()

    body = auth_api.post("/api/upload-video/generate-url",
                         {"filename": "My Clip.mp4", "content_type": "video/mp4"}, format="json").json()
    assert body["upload_url"].startswith(s3_endpoint + f"/{BUCKET}/uploads/")
    assert "X-Amz-Signature" in body["upload_url"]

    # The browser's real HTTP PUT straight to storage, with the Content-Type the URL was signed for.
    put = requests.put(body["upload_url"], data=data, headers={"Content-Type": "video/mp4"}, timeout=30)
    assert put.status_code == 200, put.text
    # Signed with the Content-Type (real S3 refuses another type; moto does not check signatures).
    assert "X-Amz-SignedHeaders=content-type%3Bhost" in body["upload_url"] or \
        "X-Amz-SignedHeaders=content-type;host" in body["upload_url"]

    video = Video.objects.get(key=body["file_key"])
    assert video.status == "pending_upload"  # S3 does not tell us; the first read probes it
    meta = auth_api.get(f"/api/videos/{video.id}/metadata").json()
    assert meta["width"] == 160 and meta["videoCodec"] == "h264" and meta["filesize"] == len(data)
    video.refresh_from_db()
    assert video.status == "ready"

    url = storage.download_url(video.key, "My_Clip.mp4")
    got = requests.get(url, timeout=30)
    assert got.status_code == 200 and got.content == data
    assert "attachment" in got.headers["Content-Disposition"]

    assert auth_api.delete(f"/api/videos/{video.id}").status_code == 200
    assert not storage.exists(video.key)
    assert requests.get(url, timeout=30).status_code in (403, 404)
