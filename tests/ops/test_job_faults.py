"""Storage and database outages during a job are retried (never reported as success); outputs are atomic.

A real Dramatiq worker (in this process, on the configured broker: StubBroker or Redis) runs the real
transcription actor; the outage is injected at the storage / database call the runner makes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dramatiq
import pytest
from django.db import OperationalError
from support import flush_broker, wait_for

from ecg import jobs
from ecg.jobs import JobStatus
from transcription.actors import run_transcription
from transcription.models import TranscriptionJob
from uploads import storage
from uploads.models import Video

pytestmark = pytest.mark.django_db(transaction=True)
MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
FAST_RETRY = {"min_backoff": 200, "max_backoff": 400}  # the actor's own backoff is 2 s → 60 s


@pytest.fixture
def worker():
    flush_broker()
    worker = dramatiq.Worker(dramatiq.get_broker(), queues={"transcription"}, worker_threads=1, worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()
    flush_broker()


@pytest.fixture
def queued_job(user) -> TranscriptionJob:
    key = storage.new_upload_key(user.pk, "speech.mp4")
    target = storage.local_path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MEDIA / "speech.mp4", target)
    video = Video.objects.create(owner=user, key=key, original_filename="speech.mp4", content_type="video/mp4",
                                 status=Video.Status.READY, size=target.stat().st_size, duration=4.5, has_audio=True)
    return TranscriptionJob.objects.create(owner=user, video=video, media_duration=4.5)


def watch_statuses(job_id) -> tuple[list[str], object]:
    seen: list[str] = []

    def finished():
        job = TranscriptionJob.objects.get(pk=job_id)
        if not seen or seen[-1] != job.status:
            seen.append(job.status)
        return job if job.status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED) else None

    return seen, finished


def test_storage_outage_is_retried_then_succeeds(worker, queued_job, monkeypatch):
    real_local_copy = storage.local_copy
    calls: list[str] = []

    def flaky_local_copy(key):
        calls.append(key)
        if len(calls) == 1:
            raise ConnectionError("S3 endpoint unreachable")
        return real_local_copy(key)

    monkeypatch.setattr(storage, "local_copy", flaky_local_copy)
    run_transcription.send_with_options(args=(str(queued_job.pk),), **FAST_RETRY)
    seen, finished = watch_statuses(queued_job.pk)
    job = wait_for(finished, timeout=90, interval=0.05, message="the job to finish")

    assert job.status == JobStatus.COMPLETED, (job.error_code, job.error_message)
    assert len(calls) == 2 and job.attempts == 2 and job.progress == 100
    assert job.result["segments"] and job.error_code == ""
    assert "failed" not in seen and seen[-1] == "completed"


def test_storage_outage_that_outlasts_the_retries_fails_the_job(worker, queued_job, monkeypatch):
    def down(key):
        raise ConnectionError("S3 endpoint unreachable")

    monkeypatch.setattr(storage, "local_copy", down)
    run_transcription.send_with_options(args=(str(queued_job.pk),), **FAST_RETRY)
    seen, finished = watch_statuses(queued_job.pk)
    job = wait_for(finished, timeout=60, interval=0.05, message="the job to give up")

    assert job.status == JobStatus.FAILED and job.error_code == "INTERNAL"
    assert "temporary error" in job.error_message and "unreachable" in job.error_traceback
    assert job.attempts == 4  # the first run and the actor's 3 retries
    assert job.result is None and "completed" not in seen


def test_database_outage_mid_job_is_retried_and_the_job_reclaimed(worker, queued_job, monkeypatch, settings):
    """The database drops mid-transcription, so even giving the job back fails: it stays ``processing``.
    The retried message finds it still heartbeating, waits until it goes stale, reclaims it and finishes."""
    settings.JOB_HEARTBEAT_STALE_SECONDS = 2
    settings.JOB_HEARTBEAT_INTERVAL = 0.5
    real_report, real_requeue = jobs.report_progress, jobs.requeue
    outage = {"reports": 0, "requeues": 0}

    def report_progress(model, job_id, progress, *, stage=None, **fields):
        if stage == "transcribing" and not outage["reports"]:
            outage["reports"] += 1
            raise OperationalError("server closed the connection unexpectedly")
        return real_report(model, job_id, progress, stage=stage, **fields)

    def requeue(model, job_id):
        outage["requeues"] += 1
        if outage["requeues"] == 1:
            raise OperationalError("could not connect to server")
        return real_requeue(model, job_id)

    monkeypatch.setattr(jobs, "report_progress", report_progress)
    monkeypatch.setattr(jobs, "requeue", requeue)
    run_transcription.send_with_options(args=(str(queued_job.pk),), **FAST_RETRY)
    seen, finished = watch_statuses(queued_job.pk)
    job = wait_for(finished, timeout=90, interval=0.05, message="the job to finish")

    assert job.status == JobStatus.COMPLETED, (job.error_code, job.error_message)
    assert outage == {"reports": 1, "requeues": 1}
    assert job.attempts == 2 and job.progress == 100 and job.result["segments"]
    assert "queued" not in seen[1:] and "failed" not in seen  # never given back, never failed: reclaimed


def test_a_failed_output_upload_leaves_nothing_under_the_final_key(tmp_path, monkeypatch):
    """save_file writes a temporary name and renames: an interrupted copy never appears under the key."""
    source = tmp_path / "out.mp4"
    source.write_bytes(b"x" * 1_000_000)
    key = "renders/1/job/out.mp4"
    real_copy = shutil.copyfile

    def interrupted_copy(src, dst, *args, **kwargs):
        Path(dst).write_bytes(Path(src).read_bytes()[:1000])
        raise OSError("No space left on device")

    monkeypatch.setattr(shutil, "copyfile", interrupted_copy)
    with pytest.raises(OSError):
        storage.save_file(key, source, "video/mp4")
    assert not storage.exists(key)

    monkeypatch.setattr(shutil, "copyfile", real_copy)
    storage.save_file(key, source, "video/mp4")
    assert storage.size(key) == 1_000_000


def test_heartbeat_keeps_a_quiet_job_fresh_and_stops_past_its_time_limit(queued_job, settings, caplog):
    import logging

    caplog.set_level(logging.ERROR, logger="ecg.jobs")
    settings.JOB_HEARTBEAT_INTERVAL = 0.1
    assert jobs.claim(TranscriptionJob, queued_job.pk)

    def beat():
        return TranscriptionJob.objects.get(pk=queued_job.pk).heartbeat_at

    claimed_at = beat()
    with jobs.JobHeartbeat(TranscriptionJob, queued_job.pk, jobs.worker_name(), max_seconds=2.0) as heartbeat:
        # No progress at all meanwhile, yet the row's heartbeat moves.
        wait_for(lambda: beat() > claimed_at, timeout=30, interval=0.05, message="a heartbeat without progress")
        # Past max_seconds the thread gives up by itself (the job is left to go stale) and says why.
        heartbeat._thread.join(timeout=60)
        assert not heartbeat._thread.is_alive()
        assert any("past its time limit" in r.getMessage() for r in caplog.records)

    TranscriptionJob.objects.filter(pk=queued_job.pk).update(worker="someone-else")
    with jobs.JobHeartbeat(TranscriptionJob, queued_job.pk, jobs.worker_name()) as heartbeat:
        heartbeat._thread.join(timeout=60)  # only bounds a hang: it stops at its first beat
        assert not heartbeat._thread.is_alive()  # reclaimed by another worker: it stops beating for it
