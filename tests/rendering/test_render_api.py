"""API.md section 4: create (validation, source resolution), status, cancel, history, quota, limits."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from testmedia import make_clip

from ecg.jobs import JobStatus
from rendering.models import RenderJob
from uploads import storage

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"
STATUS_FIELDS = {"jobId", "status", "progress", "estimatedTimeRemaining", "startedAt", "completedAt", "downloadUrl",
                 "error", "errorCode", "fileSize", "duration"}


def scenario(version: str = "2") -> dict:
    name = "scenario-v2.json" if version == "2" else "scenario-v1.3.json"
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture(scope="session")
def clip_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("render-clips") / "clip.mp4"
    make_clip(path, seconds=1.0, width=320, height=180, fps=25)
    return path.read_bytes()


def upload(client, data: bytes, name: str = "clip.mp4") -> dict:
    body = client.post("/api/upload-video/generate-url", {"filename": name, "content_type": "video/mp4"},
                       format="json").json()
    assert client.generic("PUT", urlsplit(body["upload_url"]).path, data, content_type="video/mp4").status_code == 200
    return body


def create(client, **body):
    body.setdefault("scenario", scenario())
    return client.post("/api/render/create", body, format="json")


def render_error(response) -> dict:
    body = response.json()
    assert isinstance(body["detail"], dict)
    assert set(body["detail"]) >= {"error", "code", "message", "details"}
    return body["detail"]


def test_create_with_file_key_defaults_to_source_options(auth_api, clip_bytes):
    key = upload(auth_api, clip_bytes)["fileKey"]
    response = create(auth_api, fileKey=key)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"jobId", "status", "estimatedTime", "createdAt", "sourceVideo"}
    assert body["status"] == "queued" and isinstance(body["estimatedTime"], int)
    assert body["sourceVideo"]["filename"] == "clip.mp4"
    job = RenderJob.objects.get(pk=body["jobId"])
    assert job.options == {"width": 320, "height": 180, "fps": 25.0, "quality": 90, "format": "mp4"}
    assert job.scenario["version"] == "2.0" and job.scenario_original == scenario()


def test_create_migrates_v13(auth_api, clip_bytes):
    key = upload(auth_api, clip_bytes)["fileKey"]
    body = create(auth_api, fileKey=key, scenario=scenario("1.3")).json()
    job = RenderJob.objects.get(pk=body["jobId"])
    assert job.scenario["version"] == "2.0" and job.scenario_version == "1.3"
    assert job.scenario["cues"][0]["domLifetime"] == [0.4, 2.6]


def test_source_resolution_order_and_blob(auth_api, clip_bytes, user):
    _limit(user, concurrent_renders=10)
    first = upload(auth_api, clip_bytes, "first.mp4")
    latest = upload(auth_api, clip_bytes, "latest.mp4")
    by_blob = create(auth_api, videoUrl="blob:http://localhost:3000/6f0c-11").json()
    assert by_blob["sourceVideo"]["filename"] == "latest.mp4"
    by_key = create(auth_api, videoUrl="blob:x", fileKey=first["fileKey"]).json()
    assert by_key["sourceVideo"]["filename"] == "first.mp4"
    local_url = storage.download_url(first["fileKey"], "first.mp4")
    by_url = create(auth_api, videoUrl=local_url).json()
    assert by_url["sourceVideo"]["filename"] == "first.mp4"
    assert latest["fileKey"] != first["fileKey"]


def test_create_from_transcription_job(auth_api, clip_bytes, user):
    from transcription.models import TranscriptionJob
    from uploads.models import Video

    key = upload(auth_api, clip_bytes)["fileKey"]
    video = Video.objects.get(key=key)
    tjob = TranscriptionJob.objects.create(owner=user, video=video)
    body = create(auth_api, jobId=str(tjob.pk), videoUrl="blob:whatever").json()
    assert RenderJob.objects.get(pk=body["jobId"]).transcription_job_id == tjob.pk


def test_foreign_or_external_sources_are_refused(auth_api, other_api, clip_bytes):
    key = upload(auth_api, clip_bytes)["fileKey"]
    for body in ({"fileKey": key}, {"videoUrl": "https://example.com/video.mp4"}, {"videoUrl": "blob:x"}, {}):
        response = create(other_api, **body)
        assert response.status_code == 400
        assert render_error(response)["code"] == "RENDER_INVALID_INPUT"


def test_validation_lists_every_problem_with_paths(auth_api, clip_bytes):
    key = upload(auth_api, clip_bytes)["fileKey"]
    bad = scenario()
    bad["cues"][0]["track"] = "nope"
    bad["cues"][1]["root"]["children"][0]["baseTime"] = [3.3, "x"]
    response = create(auth_api, fileKey=key, scenario=bad,
                      options={"width": 641, "height": 99999, "fps": 0, "quality": 101, "format": "avi"})
    assert response.status_code == 400
    detail = render_error(response)
    assert detail["code"] == "RENDER_INVALID_INPUT"
    paths = {p["path"] for p in detail["details"]["problems"]}
    assert {"options.width", "options.height", "options.fps", "options.quality", "options.format"} <= paths
    assert any(p.startswith("scenario.cues[0].track") for p in paths)
    assert any(p.startswith("scenario.cues[1].root.children[0].baseTime") for p in paths)
    assert RenderJob.objects.count() == 0


def test_missing_scenario_is_render_invalid_input(auth_api):
    response = auth_api.post("/api/render/create", {"videoUrl": "blob:x"}, format="json")
    assert response.status_code == 400
    assert render_error(response)["code"] == "RENDER_INVALID_INPUT"


def test_anonymous_is_render_auth_error(api):
    for response in (create(api, videoUrl="blob:x"), api.get("/api/render/quota"), api.get("/api/render/history")):
        assert response.status_code == 401
        assert render_error(response)["code"] == "RENDER_AUTH_ERROR"


def test_status_cancel_and_not_found(auth_api, other_api, clip_bytes):
    key = upload(auth_api, clip_bytes)["fileKey"]
    job_id = create(auth_api, fileKey=key).json()["jobId"]
    status = auth_api.get(f"/api/render/{job_id}/status").json()
    assert set(status) == STATUS_FIELDS
    assert status["status"] == "queued" and status["progress"] == 0 and status["downloadUrl"] is None
    foreign = other_api.get(f"/api/render/{job_id}/status")
    assert foreign.status_code == 404 and render_error(foreign)["code"] == "RENDER_JOB_NOT_FOUND"
    assert auth_api.get("/api/render/not-a-job/status").status_code == 404
    assert other_api.post(f"/api/render/{job_id}/cancel").status_code == 404
    cancel = auth_api.post(f"/api/render/{job_id}/cancel").json()
    assert cancel["success"] is True and cancel["message"]
    after = auth_api.get(f"/api/render/{job_id}/status").json()
    assert after["status"] == "cancelled" and after["errorCode"] == "CANCELLED"
    again = auth_api.post(f"/api/render/{job_id}/cancel").json()
    assert again["success"] is False


def test_history_is_bare_array_newest_first_with_limit(auth_api, clip_bytes):
    key = upload(auth_api, clip_bytes, "talk.mp4")["fileKey"]
    ids = [create(auth_api, fileKey=key).json()["jobId"] for _ in range(2)]
    for job_id in ids:
        auth_api.post(f"/api/render/{job_id}/cancel")
    history = auth_api.get("/api/render/history?limit=10").json()
    assert isinstance(history, list) and [h["jobId"] for h in history] == ids[::-1]
    assert set(history[0]) == {"jobId", "videoName", "status", "createdAt", "completedAt", "downloadUrl", "fileSize",
                               "duration"}
    assert history[0]["videoName"] == "talk.mp4"
    assert len(auth_api.get("/api/render/history?limit=1").json()) == 1
    assert len(auth_api.get("/api/render/history?limit=0").json()) == 1


def _limit(user, **fields):
    from accounts.models import QuotaOverride

    QuotaOverride.objects.update_or_create(user=user, defaults=fields)


def test_daily_quota(auth_api, clip_bytes, user):
    _limit(user, daily_renders=1, concurrent_renders=5)
    key = upload(auth_api, clip_bytes)["fileKey"]
    assert create(auth_api, fileKey=key).status_code == 200
    response = create(auth_api, fileKey=key)
    assert response.status_code == 403
    detail = render_error(response)
    assert detail["code"] == "RENDER_QUOTA_DAILY_EXCEEDED"
    assert detail["details"]["quota_type"] == "daily" and detail["details"]["used"] == 1
    assert detail["details"]["limit"] == 1 and "T" in detail["details"]["resets_at"]


def test_monthly_quota(auth_api, clip_bytes, user):
    _limit(user, daily_renders=10, monthly_renders=1, concurrent_renders=5)
    key = upload(auth_api, clip_bytes)["fileKey"]
    assert create(auth_api, fileKey=key).status_code == 200
    response = create(auth_api, fileKey=key)
    assert response.status_code == 403 and render_error(response)["code"] == "RENDER_QUOTA_MONTHLY_EXCEEDED"


def test_concurrent_quota_and_cancel_frees_slot(auth_api, clip_bytes, user):
    _limit(user, concurrent_renders=1)
    key = upload(auth_api, clip_bytes)["fileKey"]
    first = create(auth_api, fileKey=key).json()["jobId"]
    blocked = create(auth_api, fileKey=key)
    assert blocked.status_code == 429 and render_error(blocked)["code"] == "RENDER_QUOTA_CONCURRENT_EXCEEDED"
    auth_api.post(f"/api/render/{first}/cancel")
    assert create(auth_api, fileKey=key).status_code == 200


def test_cancelled_and_internal_failures_do_not_count(auth_api, clip_bytes, user):
    _limit(user, daily_renders=2, concurrent_renders=5)
    key = upload(auth_api, clip_bytes)["fileKey"]
    a, b = (create(auth_api, fileKey=key).json()["jobId"] for _ in range(2))
    RenderJob.objects.filter(pk=a).update(status=JobStatus.CANCELLED)
    RenderJob.objects.filter(pk=b).update(status=JobStatus.FAILED, error_code="INTERNAL")
    quota = auth_api.get("/api/render/quota").json()
    assert quota["daily"]["used"] == 0 and quota["concurrent"]["used"] == 0
    c = create(auth_api, fileKey=key).json()["jobId"]
    RenderJob.objects.filter(pk=c).update(status=JobStatus.FAILED, error_code="RENDER_PLUGIN_NOT_FOUND")
    assert auth_api.get("/api/render/quota").json()["daily"]["used"] == 1


def test_quota_endpoint_shape_and_plan_limits(auth_api, user):
    from accounts.models import Plan

    user.plan = Plan.objects.create(name="pro", daily_renders=50, monthly_renders=500, concurrent_renders=4)
    user.save()
    quota = auth_api.get("/api/render/quota").json()
    assert set(quota) == {"daily", "monthly", "concurrent"}
    assert quota["daily"]["limit"] == 50 and quota["monthly"]["limit"] == 500 and quota["concurrent"]["limit"] == 4
    assert quota["daily"]["used"] == 0 and quota["daily"]["resetsAt"].endswith("+09:00")
    assert set(quota["concurrent"]) == {"used", "limit"}


def test_rate_limit_on_create(auth_api, clip_bytes, settings, user):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    _limit(user, concurrent_renders=50, daily_renders=50)
    SimpleRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "render_create": "2/minute"}
    try:
        key = upload(auth_api, clip_bytes)["fileKey"]
        assert create(auth_api, fileKey=key).status_code == 200
        assert create(auth_api, fileKey=key).status_code == 200
        limited = create(auth_api, fileKey=key)
        assert limited.status_code == 429 and render_error(limited)["code"] == "RENDER_RATE_LIMIT_EXCEEDED"
        assert int(limited["Retry-After"]) >= 1
    finally:
        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES


@pytest.mark.django_db(transaction=True)
def test_simultaneous_creates_never_exceed_quota(user, clip_bytes):
    """20 simultaneous creates against 3 remaining renders create exactly 3 jobs (the check is atomic)."""
    from django.db import connection
    from support import bearer_client

    _limit(user, daily_renders=3, concurrent_renders=100)
    client = bearer_client(user)
    key = upload(client, clip_bytes)["fileKey"]
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def attempt():
        try:
            worker = bearer_client(user)
            barrier.wait()
            statuses.append(create(worker, fileKey=key).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert RenderJob.objects.filter(owner=user).count() == 3
    assert sorted(statuses) == [200] * 3 + [403] * 17
