"""The stale-job reaper: the rule, its race with a live worker, the command, the periodic actor and its schedule."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import dramatiq
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from support import broker_messages, flush_broker, make_video, wait_for

import ops.actors  # noqa: F401  (declares the periodic actor on the broker)
import rendering.actors  # noqa: F401
import transcription.actors  # noqa: F401
from ecg import jobs
from ecg.jobs import JobStatus
from ops import reaper
from rendering.models import RenderJob
from transcription import runner
from transcription.models import TranscriptionJob
from uploads.models import Video

pytestmark = pytest.mark.django_db(transaction=True)
MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"


@pytest.fixture(autouse=True)
def _clean_broker(settings):
    settings.JOB_HEARTBEAT_STALE_SECONDS = 300
    settings.JOB_MAX_ATTEMPTS = 3
    flush_broker()
    cache.delete_many([reaper.SCHEDULED_KEY, reaper.TICK_KEY])
    yield
    flush_broker()


def transcription(user, *, silent_for: float, attempts: int = 1, status: str = JobStatus.PROCESSING,
                  video: Video | None = None) -> TranscriptionJob:
    now = timezone.now()
    return TranscriptionJob.objects.create(
        owner=user, video=video or make_video(user, fixture="speech.mp4"), status=status, attempts=attempts,
        progress=40,
        stage="transcribing", worker="lost-host:123:456", started_at=now - timedelta(seconds=silent_for + 60),
        heartbeat_at=now - timedelta(seconds=silent_for), media_duration=4.5)


def render(user, *, silent_for: float, attempts: int = 1) -> RenderJob:
    import json

    scenario = json.loads((MEDIA.parent / "scenarios" / "scenario-v2.json").read_text())
    now = timezone.now()
    return RenderJob.objects.create(
        owner=user, video=make_video(user, fixture="speech.mp4"), status=JobStatus.PROCESSING, attempts=attempts,
        progress=50,
        stage="rendering", worker="lost-host:9:9", scenario=scenario, scenario_original=scenario,
        options={"width": 320, "height": 180, "fps": 25, "quality": 90, "format": "mp4"},
        started_at=now - timedelta(seconds=silent_for + 60), heartbeat_at=now - timedelta(seconds=silent_for))


def job_ids(queue: str) -> list[str]:
    return [m.args[0] for m in broker_messages(queue)]


def test_stale_jobs_of_both_kinds_are_requeued_and_sent_again(user):
    lost_t = transcription(user, silent_for=301)
    lost_r = render(user, silent_for=900, attempts=2)
    alive = transcription(user, silent_for=5)
    queued = transcription(user, silent_for=3000, status=JobStatus.QUEUED)
    done = transcription(user, silent_for=3000, status=JobStatus.COMPLETED)

    result = reaper.reap()

    assert sorted(result.requeued) == sorted([("transcription.TranscriptionJob", str(lost_t.pk)),
                                              ("rendering.RenderJob", str(lost_r.pk))])
    assert result.failed == []
    for job in (lost_t, lost_r):
        job.refresh_from_db()
        assert job.status == JobStatus.QUEUED and job.worker == "" and job.stage == "queued"
        assert job.progress >= 40  # progress never goes backwards, even across a requeue
    assert job_ids("transcription") == [str(lost_t.pk)]
    assert job_ids("render") == [str(lost_r.pk)]
    for job, status in ((alive, JobStatus.PROCESSING), (queued, JobStatus.QUEUED), (done, JobStatus.COMPLETED)):
        job.refresh_from_db()
        assert job.status == status
    assert reaper.reap().total == 0  # nothing stale is left


def test_out_of_attempts_fails_worker_lost(user, auth_api):
    job = transcription(user, silent_for=400, attempts=3)
    lost_render = render(user, silent_for=400, attempts=3)

    result = reaper.reap()

    assert {label for label, _ in result.failed} == {"transcription.TranscriptionJob", "rendering.RenderJob"}
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error_code == "WORKER_LOST" and job.finished_at
    assert broker_messages("transcription") == []
    status = auth_api.get(f"/api/upload-video/status/{job.pk}").json()
    assert status["status"] == "failed" and status["error"]["code"] == "WORKER_LOST"
    render_status = auth_api.get(f"/api/render/{lost_render.pk}/status").json()
    assert render_status["status"] == "failed" and render_status["errorCode"] == "WORKER_LOST"


def test_a_heartbeat_at_the_last_moment_keeps_the_job(user):
    """The reaper's UPDATE re-checks staleness: a worker that beats between the SELECT and it keeps its job."""
    job = transcription(user, silent_for=400)
    stale_before = jobs.stale_cutoff()
    TranscriptionJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())  # the worker is alive after all

    assert jobs.recover(TranscriptionJob, job, lambda _job: None, stale_before=stale_before) is None

    job.refresh_from_db()
    assert job.status == JobStatus.PROCESSING and job.worker == "lost-host:123:456"
    exhausted = transcription(user, silent_for=400, attempts=3)
    TranscriptionJob.objects.filter(pk=exhausted.pk).update(heartbeat_at=timezone.now())
    assert jobs.recover(TranscriptionJob, exhausted, lambda _job: None, stale_before=stale_before) is None
    exhausted.refresh_from_db()
    assert exhausted.status == JobStatus.PROCESSING


def test_requeued_job_runs_to_completion(user):
    job = transcription(user, silent_for=600)
    reaper.reap()
    [message] = broker_messages("transcription")

    runner.run(message.args[0])  # what the worker receiving the re-sent message does

    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED and job.progress == 100 and job.attempts == 2
    assert "welcome" in " ".join(s["text"].lower() for s in job.result["segments"])


def test_message_for_a_stale_job_out_of_attempts_fails_it(user):
    """claim() refuses a fourth claim; the worker holding the message then fails the job instead of dropping it."""
    job = transcription(user, silent_for=400, attempts=3)
    runner.run(str(job.pk))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error_code == "WORKER_LOST" and job.attempts == 3


def test_command_dry_run_then_reap(user):
    from io import StringIO

    lost = transcription(user, silent_for=400)
    dead = transcription(user, silent_for=400, attempts=5)

    out = StringIO()
    call_command("reap_stale_jobs", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"transcription.TranscriptionJob {lost.pk}: would be requeued" in text
    assert f"transcription.TranscriptionJob {dead.pk}: would be failed WORKER_LOST" in text
    assert "1 would be requeued, 1 would be failed" in text
    lost.refresh_from_db()
    assert lost.status == JobStatus.PROCESSING and broker_messages("transcription") == []

    out = StringIO()
    call_command("reap_stale_jobs", stdout=out)
    assert "1 requeued, 1 failed" in out.getvalue()
    lost.refresh_from_db()
    dead.refresh_from_db()
    assert (lost.status, dead.status, dead.error_code) == ("queued", "failed", "WORKER_LOST")
    assert job_ids("transcription") == [str(lost.pk)]


def test_schedule_command_starts_one_chain(settings):
    from io import StringIO

    settings.REAPER_INTERVAL = 30
    out = StringIO()
    call_command("reap_stale_jobs", "--schedule", stdout=out)
    call_command("reap_stale_jobs", "--schedule", stdout=out)
    assert out.getvalue().splitlines() == ["periodic reaper scheduled (every 30s on queue 'default')",
                                           "periodic reaper already scheduled (every 30s on queue 'default')"]
    [message] = broker_messages("default")
    assert message.actor_name == "reap_stale_jobs_periodically" and message.queue_name == "default"


def test_periodic_actor_reaps_and_reschedules_itself_once(user, settings):
    settings.REAPER_INTERVAL = 20
    lost = transcription(user, silent_for=400)

    before = int(time.time() * 1000)
    ops.actors.reap_stale_jobs_periodically()  # one run, as a worker would do it
    lost.refresh_from_db()
    assert lost.status == JobStatus.QUEUED
    [next_run] = broker_messages("default")
    assert next_run.actor_name == "reap_stale_jobs_periodically"
    assert next_run.options["eta"] >= before + 20_000  # the next run is delayed by the interval
    assert cache.get(reaper.SCHEDULED_KEY)

    # A second chain (say two workers booted at once) running now finds the tick lock and ends.
    ops.actors.reap_stale_jobs_periodically()
    assert len(broker_messages("default")) == 1


def test_default_queue_workers_start_exactly_one_schedule(user, settings, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="ops.reaper")
    settings.REAPER_INTERVAL = 60
    lost = transcription(user, silent_for=400)
    broker = dramatiq.get_broker()
    render_only = dramatiq.Worker(broker, queues={"render"}, worker_threads=1, worker_timeout=100)
    workers = [render_only, *(dramatiq.Worker(broker, queues={"default"}, worker_threads=1, worker_timeout=100)
                              for _ in range(2))]
    try:
        render_only.start()  # runs the after_worker_boot hooks before it returns
        assert cache.get(reaper.SCHEDULED_KEY) is None  # a worker not serving "default" leaves it alone
        for worker in workers[1:]:
            worker.start()
        # The reaper logs its summary after the requeue, and the job's message is sent after the row changes:
        # wait for those, not for the row alone.
        wait_for(lambda: any(r.name == "ops.reaper" and r.getMessage().startswith("reaper: 1 requeued")
                             for r in caplog.records), timeout=60, message="the periodic reaper's first run")
        wait_for(lambda: job_ids("transcription"), timeout=60, message="the requeued job's message")
    finally:
        for worker in workers:
            worker.stop()
    messages = [r.getMessage() for r in caplog.records if r.name == "ops.reaper"]
    assert sum(m.startswith("reaper: periodic schedule started") for m in messages) == 1, messages
    assert sum(m.startswith("reaper: 1 requeued") for m in messages) == 1, messages
    assert job_ids("transcription") == [str(lost.pk)]
