"""API.md section 2 (request-process, status, cancel, export, legacy results) with the real pipeline.

Jobs are run in this process by calling the worker's runner directly (the same code the Dramatiq actor
calls); the broker path with a real worker process is covered in test_transcription_worker.py.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support import FRONTEND

from transcription import runner
from transcription.models import TranscriptionJob

pytestmark = pytest.mark.django_db
MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
SEGMENT_FIELDS = {"id", "start", "end", "start_time", "end_time", "duration", "text", "confidence", "speaker",
                  "emotion", "words"}
WORD_FIELDS = {"word", "start", "end", "confidence", "speaker_id", "volume_db", "pitch_hz", "harmonics_ratio",
               "spectral_centroid"}
STATUS_FIELDS = {"job_id", "status", "progress", "stage", "current_stage", "estimated_time_remaining", "error",
                 "result"}


def upload(client, name: str, content_type: str = "video/mp4", *, status: int = 200) -> str:
    body = client.post("/api/upload-video/generate-url", {"filename": name, "content_type": content_type},
                       format="json").json()
    data = (MEDIA / name).read_bytes()
    response = client.generic("PUT", urlsplit(body["upload_url"]).path, data, content_type=content_type)
    assert response.status_code == status, response.content
    return body["fileKey"]


def request_process(client, key: str, language: str | None = None):
    body = {"fileKey": key} if language is None else {"fileKey": key, "language": language}
    return client.post("/api/upload-video/request-process", body, format="json")


@pytest.fixture
def speech_key(auth_api) -> str:
    return upload(auth_api, "speech.mp4")


def test_request_process_shape_and_pending_status(auth_api, speech_key):
    response = request_process(auth_api, speech_key)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"job_id", "status", "estimated_time", "message"}
    assert body["status"] == "pending"
    assert isinstance(body["estimated_time"], int) and body["estimated_time"] > 0
    status = auth_api.get(f"/api/upload-video/status/{body['job_id']}").json()
    assert set(status) == STATUS_FIELDS
    assert status["status"] == "pending" and status["stage"] == "queued" and status["progress"] == 0
    assert status["current_stage"] == "대기 중" and status["error"] is None and status["result"] is None
    english = auth_api.get(f"/api/upload-video/status/{body['job_id']}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["current_stage"] == "Waiting in queue"


def test_identical_request_returns_the_same_job(auth_api, speech_key):
    first = request_process(auth_api, speech_key).json()
    second = request_process(auth_api, speech_key, "auto").json()
    assert first["job_id"] == second["job_id"]
    other_language = request_process(auth_api, speech_key, "en").json()
    assert other_language["job_id"] != first["job_id"]
    assert TranscriptionJob.objects.count() == 2


def test_request_process_errors(auth_api, other_api, speech_key):
    missing = request_process(auth_api, "uploads/1/nope/clip.mp4")
    assert missing.status_code == 404 and missing.json()["error"] == "FILE_NOT_FOUND"
    foreign = request_process(other_api, speech_key)
    assert foreign.status_code == 404
    not_uploaded = auth_api.post("/api/upload-video/generate-url", {"filename": "later.mp4",
                                                                     "content_type": "video/mp4"}, format="json")
    pending = request_process(auth_api, not_uploaded.json()["fileKey"])
    assert pending.status_code == 409 and pending.json()["error"] == "FILE_NOT_UPLOADED"
    no_key = auth_api.post("/api/upload-video/request-process", {}, format="json")
    assert no_key.status_code == 422 and "fileKey" in no_key.json()["details"]["fields"]
    bad_language = request_process(auth_api, speech_key, "<script>")
    assert bad_language.status_code == 422


def test_bad_media_rejected_with_codes(auth_api):
    # The local upload already refuses it (422 with its code); the key stays invalid for request-process.
    corrupt = request_process(auth_api, upload(auth_api, "corrupt.mp4", status=422))
    assert corrupt.status_code == 400 and corrupt.json()["error"] == "MEDIA_INVALID"
    no_audio = request_process(auth_api, upload(auth_api, "no_audio.mp4"))
    assert no_audio.status_code == 400 and no_audio.json()["error"] == "NO_AUDIO_STREAM"


def test_media_too_long_for_plan(auth_api, speech_key, user):
    from accounts.models import QuotaOverride

    QuotaOverride.objects.create(user=user, max_media_seconds=2)
    response = request_process(auth_api, speech_key)
    assert response.status_code == 400 and response.json()["error"] == "MEDIA_TOO_LONG"


def test_status_of_foreign_or_unknown_job_is_404(auth_api, other_api, speech_key):
    job_id = request_process(auth_api, speech_key).json()["job_id"]
    assert other_api.get(f"/api/upload-video/status/{job_id}").status_code == 404
    assert auth_api.get("/api/upload-video/status/00000000-0000-0000-0000-000000000000").status_code == 404
    assert auth_api.get("/api/upload-video/status/not-a-uuid").status_code == 404
    assert other_api.post(f"/api/upload-video/cancel/{job_id}").status_code == 404


def test_full_job_result_matches_contract_and_exports(auth_api, speech_key):
    job_id = request_process(auth_api, speech_key).json()["job_id"]
    runner.run(job_id)
    status = auth_api.get(f"/api/upload-video/status/{job_id}").json()
    assert status["status"] == "completed" and status["progress"] == 100 and status["stage"] == "done"
    assert status["estimated_time_remaining"] == 0 and status["error"] is None
    result = status["result"]
    assert {"segments", "speakers", "speaker_details", "language", "metadata", "volume_statistics",
            "pitch_statistics"} <= set(result)
    assert isinstance(result["speakers"], list) and result["speakers"] == ["SPEAKER_00"]
    assert result["language"] == "en"
    text = " ".join(s["text"] for s in result["segments"]).lower()
    for word in ("hello", "welcome", "speaker"):
        assert word in text
    for segment in result["segments"]:
        assert set(segment) == SEGMENT_FIELDS
        assert segment["start"] == segment["start_time"] and segment["end"] == segment["end_time"]
        assert segment["emotion"] is None
        assert segment["speaker"]["speaker_id"] in result["speakers"]
        for word in segment["words"]:
            assert set(word) == WORD_FIELDS
            assert word["speaker_id"] == segment["speaker"]["speaker_id"]
    meta = result["metadata"]
    assert meta["engine"] == "faster-whisper" and meta["device"] == "cpu" and meta["model"]
    assert meta["language_requested"] == "auto"
    job = TranscriptionJob.objects.get(pk=job_id)
    assert job.engine == "faster-whisper" and job.detected_language == "en" and job.real_time_factor is not None
    assert {"extracting_audio", "transcribing", "diarizing", "analyzing"} <= set(job.stage_timings)

    legacy = auth_api.get(f"/api/results/{job_id}").json()
    assert set(legacy) == {"jobId", "status", "metadata", "segments", "speakers"}  # no "error" key at all
    assert legacy["jobId"] == job_id and legacy["status"] == "success"
    assert legacy["metadata"] == result["metadata"] and legacy["speakers"] == result["speaker_details"]
    assert isinstance(legacy["speakers"], dict) and "SPEAKER_00" in legacy["speakers"]
    assert legacy["segments"] == result["segments"]

    srt = auth_api.get(f"/api/upload-video/result/{job_id}/export?format=srt")
    assert srt.status_code == 200 and "attachment" in srt["Content-Disposition"]
    assert "-->" in srt.content.decode() and "ello" in srt.content.decode()
    vtt = auth_api.get(f"/api/upload-video/result/{job_id}/export?format=vtt").content.decode()
    assert vtt.startswith("WEBVTT") and "<v SPEAKER_00>" in vtt
    ass = auth_api.get(f"/api/upload-video/result/{job_id}/export?format=ass").content.decode()
    assert "[Events]" in ass and ",SPEAKER_00," in ass
    as_json = auth_api.get(f"/api/upload-video/result/{job_id}/export?format=json").json()
    assert as_json["segments"] == result["segments"]
    assert auth_api.get(f"/api/upload-video/result/{job_id}/export?format=doc").status_code == 422

    # A finished job cannot be cancelled; a redelivered message for it is a no-op.
    cancel = auth_api.post(f"/api/upload-video/cancel/{job_id}", HTTP_ORIGIN=FRONTEND).json()
    assert cancel == {"success": False, "job_id": job_id, "status": "completed", "message": cancel["message"]}
    runner.run(job_id)
    assert TranscriptionJob.objects.get(pk=job_id).result == result


def test_export_before_completion_and_legacy_not_completed(auth_api, speech_key):
    job_id = request_process(auth_api, speech_key).json()["job_id"]
    assert auth_api.get(f"/api/upload-video/result/{job_id}/export?format=srt").status_code == 409
    legacy = auth_api.get(f"/api/results/{job_id}")
    assert legacy.status_code == 404 and legacy.json()["error"] == "JOB_NOT_COMPLETED"


def test_cancel_queued_job_reports_failed_cancelled(auth_api, speech_key):
    job_id = request_process(auth_api, speech_key).json()["job_id"]
    response = auth_api.post(f"/api/upload-video/cancel/{job_id}").json()
    assert set(response) == {"success", "job_id", "status", "message"} and response["job_id"] == job_id
    assert response["success"] is True and response["status"] == "failed"
    assert isinstance(response["message"], str) and response["message"]
    legacy = auth_api.get(f"/api/results/{job_id}").json()
    error = {"code": "CANCELLED", "message": legacy["error"]["message"]}
    assert legacy == {"jobId": job_id, "status": "failed", "error": error, "metadata": {}, "segments": [],
                      "speakers": {}}
    status = auth_api.get(f"/api/upload-video/status/{job_id}").json()
    assert status["status"] == "failed" and status["error"]["code"] == "CANCELLED"
    runner.run(job_id)  # the message arrives later: the worker must not resurrect it
    assert TranscriptionJob.objects.get(pk=job_id).status == "cancelled"
    # a cancelled job no longer blocks a new identical request
    assert request_process(auth_api, speech_key).json()["job_id"] != job_id


@pytest.mark.django_db(transaction=True)
def test_cancel_running_job_stops_the_work(auth_api, speech_key, caplog):
    import logging

    from support import wait_for

    caplog.set_level(logging.INFO, logger="ecg.jobs")
    job_id = request_process(auth_api, speech_key).json()["job_id"]
    worker = threading.Thread(target=runner.run, args=(job_id,))
    worker.start()
    wait_for(lambda: TranscriptionJob.objects.get(pk=job_id).status != "queued", timeout=60, interval=0.05,
             message="the job to start")
    assert auth_api.post(f"/api/upload-video/cancel/{job_id}").json()["success"] is True
    worker.join(timeout=120)  # only bounds a hang: the cancel checkpoint runs every JOB_CANCEL_CHECK_INTERVAL
    assert not worker.is_alive()
    job = TranscriptionJob.objects.get(pk=job_id)
    assert job.status == "cancelled" and job.result is None
    # It stopped at a cancel checkpoint, not by running the whole pipeline and dropping the result.
    messages = [r.getMessage() for r in caplog.records if r.name == "ecg.jobs"]
    assert f"job {job_id} stopped: cancelled" in messages, messages
    assert not any("result dropped" in m for m in messages), messages


def test_progress_is_monotonic_and_reports_intermediate_values(auth_api, speech_key, monkeypatch, settings):
    from ecg import jobs

    seen: list[tuple[int, str | None]] = []
    original = jobs.report_progress

    def spy(model, job_id, progress, *, stage=None, **fields):
        seen.append((progress, stage))
        return original(model, job_id, progress, stage=stage, **fields)

    monkeypatch.setattr(jobs, "report_progress", spy)
    settings.JOB_PROGRESS_MIN_INTERVAL = 0.0
    job_id = request_process(auth_api, speech_key).json()["job_id"]
    runner.run(job_id)
    values = [p for p, _s in seen]
    assert values == sorted(values)
    assert len({p for p in values if 5 < p < 95}) >= 3
    assert {"downloading", "extracting_audio", "transcribing", "analyzing"} <= {s for _p, s in seen if s}


def test_rate_limit_on_request_process(auth_api, speech_key, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "transcription_request": "2/minute"}}
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    try:
        assert request_process(auth_api, speech_key).status_code == 200
        assert request_process(auth_api, speech_key).status_code == 200
        limited = request_process(auth_api, speech_key)
        assert limited.status_code == 429 and limited.json()["error"] == "RATE_LIMITED"
        assert int(limited["Retry-After"]) >= 1
    finally:
        from rest_framework.settings import api_settings

        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
