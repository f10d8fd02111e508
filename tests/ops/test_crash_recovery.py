"""Jobs survive faults: real ``rundramatiq`` workers, one killed (SIGKILL) or stopped (SIGTERM) mid-job.

Each test runs on both production brokers (the ``real_broker`` fixture): Redis and RabbitMQ. The workers get
small recovery timings through their environment: Redis declares a worker dead after 2 s without a heartbeat
and sweeps dead workers on every command (RabbitMQ redelivers as soon as the killed worker's connection
drops), and a job's heartbeat is stale after 3 s. Production keeps the defaults (60 s and 300 s, see
docs/OPERATIONS.md); the mechanism is the same.

Every wait is on a condition with a generous timeout (a loaded CI machine can be several times slower): the
job row, which workers write before they log, and then the log line itself.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support import WorkerProcess, queued_message_count, wait_for
from testmedia import make_clip

from rendering.models import RenderJob
from transcription.models import TranscriptionJob
from uploads import storage

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("real_broker")]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Generous bounds on waits that normally take seconds: a worker boots (Django, the ASR model) and runs a job.
START_TIMEOUT = 240
FINISH_TIMEOUT = 300
FAST_RECOVERY = {
    "ECG_BROKER_HEARTBEAT_TIMEOUT": "2",  # seconds without a broker heartbeat before a worker is dead
    "ECG_BROKER_MAINTENANCE_CHANCE": "1000000",  # sweep dead workers' unacked messages on every command
    "ECG_JOB_STALE_SECONDS": "3",
    "ECG_JOB_HEARTBEAT_SECONDS": "0.5",
    "ECG_PROGRESS_MIN_INTERVAL": "0.2",
}


def _upload(client, data: bytes, name: str, content_type: str) -> str:
    body = client.post("/api/upload-video/generate-url", {"filename": name, "content_type": content_type},
                       format="json").json()
    assert client.generic("PUT", urlsplit(body["upload_url"]).path, data,
                          content_type=content_type).status_code == 200
    return body["fileKey"]


class ProgressWatch:
    """Polls a job row and keeps every progress value seen, to prove progress never went backwards."""

    def __init__(self, model, job_id: str) -> None:
        self.model, self.job_id, self.seen = model, job_id, []

    def job(self):
        job = self.model.objects.get(pk=self.job_id)
        self.seen.append(job.progress)
        return job

    def until(self, predicate, *, timeout: float, message: str):
        return wait_for(lambda: job if predicate(job := self.job()) else None, timeout=timeout, interval=0.1,
                        message=message)


def _assert_completed_once(watch: ProgressWatch, killed_worker: str, survivor: WorkerProcess) -> str:
    job = watch.until(lambda j: j.status in ("completed", "failed", "cancelled"), timeout=FINISH_TIMEOUT,
                      message="the job to finish on the second worker")
    assert job.status == "completed", (job.error_code, job.error_message, survivor.log()[-4000:])
    assert job.progress == 100 and job.stage == "done"
    assert watch.seen == sorted(watch.seen), "progress went backwards"
    # The row says who finished it: the completing UPDATE only succeeds from "processing", once.
    assert job.attempts == 2, "claimed once by the killed worker and once by the survivor"
    assert job.worker and job.worker != killed_worker
    # The survivor logs "completed" after that UPDATE: wait for the line instead of reading the log once.
    log = survivor.wait_for_log(f"job {job.pk} completed")
    assert log.count(f"job {job.pk} completed") == 1, log[-4000:]
    return log


def _kill_mid_job(worker: WorkerProcess, watch: ProgressWatch, *, sig: int, stage_progress: int):
    running = watch.until(lambda j: j.status == "processing" and j.progress >= stage_progress,
                          timeout=START_TIMEOUT, message="the job to be under way")
    if sig == signal.SIGKILL:
        worker.kill()  # the whole process group: dramatiq's master and its worker process, no cleanup at all
    else:
        # What a process manager does on stop (docker stop, systemd KillMode=mixed): SIGTERM to the master,
        # which forwards it once to its worker processes. (A second SIGTERM would mean "kill now".)
        os.kill(worker.process.pid, signal.SIGTERM)
        worker.process.wait(timeout=120)  # it stops by itself (a hang fails here); the exit code is checked
    return running


def test_sigkill_mid_transcription_is_redelivered_and_completes_once(auth_api):
    first = WorkerProcess("transcription", extra_env=FAST_RECOVERY)
    second = None
    try:
        key = _upload(auth_api, (FIXTURES / "media" / "dialogue.wav").read_bytes(), "dialogue.wav", "audio/wav")
        job_id = auth_api.post("/api/upload-video/request-process", {"fileKey": key}, format="json").json()["job_id"]
        watch = ProgressWatch(TranscriptionJob, job_id)
        running = _kill_mid_job(first, watch, sig=signal.SIGKILL, stage_progress=5)
        first_log = first.log()
        killed = TranscriptionJob.objects.get(pk=job_id)
        assert killed.status == "processing" and killed.progress < 100, "the job finished before the kill"
        assert killed.worker == running.worker and killed.attempts == 1

        second = WorkerProcess("transcription", extra_env=FAST_RECOVERY)
        log = _assert_completed_once(watch, running.worker, second)
        assert f"job {job_id} completed" not in first_log
        assert f"job {job_id} reclaimed from a silent worker" in log, log[-4000:]
        job = TranscriptionJob.objects.get(pk=job_id)
        assert TranscriptionJob.objects.filter(video__key=key).count() == 1
        assert job.result["segments"] and len(job.result["speakers"]) >= 1
        status = auth_api.get(f"/api/upload-video/status/{job_id}").json()
        assert status["status"] == "completed" and status["progress"] == 100
        # Nothing is left to run it a third time: the broker holds no message for the queue any more (on Redis
        # that includes unacked ones, so the survivor acked it), and the job stays as it is.
        wait_for(lambda: queued_message_count("transcription") == 0, timeout=60,
                 message="the broker to hold no message for the job")
        assert TranscriptionJob.objects.get(pk=job_id).attempts == 2
        assert second.log().count(f"job {job_id} completed") == 1
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_sigterm_mid_transcription_requeues_and_another_worker_finishes(auth_api):
    first = WorkerProcess("transcription", extra_env=FAST_RECOVERY)
    second = None
    try:
        key = _upload(auth_api, (FIXTURES / "media" / "dialogue.wav").read_bytes(), "dialogue.wav", "audio/wav")
        job_id = auth_api.post("/api/upload-video/request-process", {"fileKey": key}, format="json").json()["job_id"]
        watch = ProgressWatch(TranscriptionJob, job_id)
        running = _kill_mid_job(first, watch, sig=signal.SIGTERM, stage_progress=5)
        log = first.log()  # complete: the process has exited
        assert first.process.returncode == 0, log[-4000:]  # it stopped by itself
        stopped = TranscriptionJob.objects.get(pk=job_id)
        assert stopped.status == "queued" and stopped.worker == "", (stopped.status, log[-4000:])
        assert f"job {job_id} interrupted by worker shutdown; requeued" in log

        second = WorkerProcess("transcription", extra_env=FAST_RECOVERY)
        log = _assert_completed_once(watch, running.worker, second)
        assert f"job {job_id} claimed" in log and "reclaimed" not in log, log[-4000:]
        assert TranscriptionJob.objects.filter(video__key=key).count() == 1
    finally:
        first.stop()
        if second is not None:
            second.stop()


@pytest.fixture(scope="module")
def render_clip(tmp_path_factory) -> bytes:
    """Long enough (about 6 s of rendering here) for a signal to land mid-render; encoded once per module."""
    path = tmp_path_factory.mktemp("render-clip") / "clip.mp4"
    make_clip(path, seconds=60.0, width=320, height=180, fps=25)
    return path.read_bytes()


def test_sigkill_mid_render_is_redelivered_and_writes_one_output(auth_api, render_clip):
    from rendering import runner

    first = WorkerProcess("render", extra_env=FAST_RECOVERY)
    second = None
    try:
        key = _upload(auth_api, render_clip, "clip.mp4", "video/mp4")
        scenario = json.loads((FIXTURES / "scenarios" / "scenario-v2.json").read_text())
        created = auth_api.post("/api/render/create", {"fileKey": key, "scenario": scenario}, format="json")
        assert created.status_code == 200, created.content
        job_id = created.json()["jobId"]
        watch = ProgressWatch(RenderJob, job_id)
        running = _kill_mid_job(first, watch, sig=signal.SIGKILL, stage_progress=3)
        killed = RenderJob.objects.get(pk=job_id)
        assert killed.status == "processing" and killed.progress < 100, first.log()[-4000:]

        second = WorkerProcess("render", extra_env=FAST_RECOVERY)
        _assert_completed_once(watch, running.worker, second)
        job = RenderJob.objects.get(pk=job_id)
        assert job.output_key == runner.output_key(job) and storage.exists(job.output_key)
        assert storage.size(job.output_key) == job.output_size > 0
        # One output file under the job's prefix, and no half-written temp file next to it.
        out_dir = storage.local_path(job.output_key).parent
        assert [p.name for p in out_dir.iterdir()] == [Path(job.output_key).name]
        assert RenderJob.objects.filter(video__key=key).count() == 1
        status = auth_api.get(f"/api/render/{job_id}/status").json()
        assert status["status"] == "completed" and status["progress"] == 100 and status["downloadUrl"]
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_sigterm_mid_render_requeues_and_another_worker_finishes(auth_api, render_clip):
    from rendering import runner

    first = WorkerProcess("render", extra_env=FAST_RECOVERY)
    second = None
    try:
        key = _upload(auth_api, render_clip, "clip.mp4", "video/mp4")
        scenario = json.loads((FIXTURES / "scenarios" / "scenario-v2.json").read_text())
        job_id = auth_api.post("/api/render/create", {"fileKey": key, "scenario": scenario},
                               format="json").json()["jobId"]
        watch = ProgressWatch(RenderJob, job_id)
        _kill_mid_job(first, watch, sig=signal.SIGTERM, stage_progress=3)
        log = first.log()
        assert first.process.returncode == 0, log[-4000:]
        stopped = RenderJob.objects.get(pk=job_id)
        assert stopped.status == "queued" and stopped.worker == "", (stopped.status, log[-4000:])
        assert f"job {job_id} interrupted by worker shutdown; requeued" in log
        assert not storage.exists(runner.output_key(stopped))  # nothing half-written under the final key

        second = WorkerProcess("render", extra_env=FAST_RECOVERY)
        job = watch.until(lambda j: j.status in ("completed", "failed", "cancelled"), timeout=FINISH_TIMEOUT,
                          message="the render to finish")
        assert job.status == "completed", (job.error_code, second.log()[-4000:])
        assert job.progress == 100 and watch.seen == sorted(watch.seen)
        out_dir = storage.local_path(job.output_key).parent
        assert [p.name for p in out_dir.iterdir()] == [Path(job.output_key).name]
    finally:
        first.stop()
        if second is not None:
            second.stop()
