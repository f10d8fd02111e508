"""The whole render path through the API with a real broker (Redis, RabbitMQ) and a real worker process."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import av
import pytest
from support import WorkerProcess, wait_for
from testmedia import make_clip

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_broker")]
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"


def test_create_poll_download_through_real_worker(auth_api, tmp_path):
    clip = tmp_path / "holiday.mp4"
    make_clip(clip, seconds=3.0, width=320, height=180, fps=25)
    worker = WorkerProcess("render")
    try:
        body = auth_api.post("/api/upload-video/generate-url", {"filename": "holiday.mp4", "content_type": "video/mp4"},
                             format="json").json()
        assert auth_api.generic("PUT", urlsplit(body["upload_url"]).path, clip.read_bytes(),
                                content_type="video/mp4").status_code == 200
        scenario = json.loads((SAMPLES / "scenario-v1.3.json").read_text())
        created = auth_api.post("/api/render/create", {"videoUrl": "blob:http://localhost:3000/x", "scenario": scenario,
                                                       "options": {"format": "mp4", "quality": 80}}, format="json")
        assert created.status_code == 200, created.content
        job_id = created.json()["jobId"]

        def done():
            status = auth_api.get(f"/api/render/{job_id}/status").json()
            return status if status["status"] in ("completed", "failed", "cancelled") else None

        status = wait_for(done, timeout=240, interval=0.5, message="the render to finish")
        assert status["status"] == "completed", (status, worker.log()[-4000:])
        assert status["progress"] == 100 and status["errorCode"] is None
        assert status["duration"] == pytest.approx(3.0, abs=0.1) and status["fileSize"] > 0
        url = status["downloadUrl"]
        assert url and "/api/files/" in url
        download = auth_api.get(urlsplit(url).path)
        assert download.status_code == 200
        assert 'filename="holiday.mp4"' in download["Content-Disposition"]
        out = tmp_path / "out.mp4"
        out.write_bytes(b"".join(download.streaming_content))
        with av.open(str(out)) as container:
            assert container.streams.video[0].codec_context.width == 320
            assert len(container.streams.audio) == 1
        history = auth_api.get("/api/render/history").json()
        assert history[0]["jobId"] == job_id and history[0]["downloadUrl"]
    finally:
        worker.stop()
