"""The whole transcription path through the API with a real broker (Redis, RabbitMQ) and a real worker process."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support import WorkerProcess, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_broker")]
MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"


def test_upload_request_poll_result_through_real_worker(auth_api):
    worker = WorkerProcess("transcription")
    try:
        body = auth_api.post("/api/upload-video/generate-url", {"filename": "speech.mp4", "content_type": "video/mp4"},
                             format="json").json()
        put = auth_api.generic("PUT", urlsplit(body["upload_url"]).path, (MEDIA / "speech.mp4").read_bytes(),
                               content_type="video/mp4")
        assert put.status_code == 200
        job_id = auth_api.post("/api/upload-video/request-process", {"fileKey": body["fileKey"], "language": "auto"},
                               format="json").json()["job_id"]
        seen: list[int] = []

        def finished():
            status = auth_api.get(f"/api/upload-video/status/{job_id}").json()
            seen.append(status["progress"])
            return status if status["status"] in ("completed", "failed") else None

        # The worker warms its models up before it takes the job (ecg.worker.WarmUp): allow for that.
        status = wait_for(finished, timeout=420, interval=0.5, message="the job to finish")
        assert status["status"] == "completed", (status, worker.log()[-3000:])
        assert seen == sorted(seen) and status["progress"] == 100
        result = status["result"]
        assert isinstance(result["speakers"], list) and result["speakers"]
        assert "welcome" in " ".join(s["text"].lower() for s in result["segments"])
        for segment in result["segments"]:
            assert segment["start_time"] == segment["start"] and segment["end_time"] == segment["end"]
            assert all(w["volume_db"] is not None for w in segment["words"])
        assert result["metadata"]["engine"] == "faster-whisper"
    finally:
        worker.stop()


def _upload(client, name: str, content_type: str) -> str:
    body = client.post("/api/upload-video/generate-url", {"filename": name, "content_type": content_type},
                       format="json").json()
    assert client.generic("PUT", urlsplit(body["upload_url"]).path, (MEDIA / name).read_bytes(),
                          content_type=content_type).status_code == 200
    return body["fileKey"]


def test_cancel_running_job_frees_the_worker_for_the_next(auth_api):
    worker = WorkerProcess("transcription", threads=1)
    try:
        long_key = _upload(auth_api, "dialogue.wav", "audio/wav")
        short_key = _upload(auth_api, "speech.mp4", "video/mp4")
        first = auth_api.post("/api/upload-video/request-process", {"fileKey": long_key}, format="json").json()
        second = auth_api.post("/api/upload-video/request-process", {"fileKey": short_key}, format="json").json()
        wait_for(lambda: auth_api.get(f"/api/upload-video/status/{first['job_id']}").json()["status"] == "processing",
                 timeout=300, message="the first job to start (after the worker's warm-up)")
        assert auth_api.post(f"/api/upload-video/cancel/{first['job_id']}").json()["success"] is True
        # The single worker thread must leave the cancelled job and pick up the next one.
        status = wait_for(lambda: (s := auth_api.get(f"/api/upload-video/status/{second['job_id']}").json())["status"]
                          in ("completed", "failed") and s, timeout=300, message="the second job")
        assert status["status"] == "completed", worker.log()[-3000:]
        first_status = auth_api.get(f"/api/upload-video/status/{first['job_id']}").json()
        assert first_status["status"] == "failed" and first_status["error"]["code"] == "CANCELLED"
        assert first_status["result"] is None
        # The thread left the first job at a cancel checkpoint (not by running it to the end and dropping the
        # result) before it claimed the second; the lines are logged after the row changes, so wait for them.
        log = worker.wait_for_log(f"job {second['job_id']} completed")
        stopped, claimed = f"job {first['job_id']} stopped: cancelled", f"job {second['job_id']} claimed"
        assert stopped in log and claimed in log, log[-3000:]
        assert log.index(stopped) < log.index(claimed)
        assert f"job {first['job_id']} finished work but was cancelled meanwhile" not in log
    finally:
        worker.stop()
