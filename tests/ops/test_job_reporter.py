"""JobReporter's write throttle and claim() going through the one transition helper (events included)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from support import make_video

from ecg import jobs
from ecg.jobs import JobReporter, JobStatus, claim
from transcription.models import TranscriptionJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(user):
    return TranscriptionJob.objects.create(owner=user, video=make_video(user), status=JobStatus.PROCESSING,
                                           started_at=timezone.now(), heartbeat_at=timezone.now())


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def updates(context: CaptureQueriesContext) -> int:
    return sum(q["sql"].lstrip().upper().startswith("UPDATE") for q in context.captured_queries)


def test_progress_with_extra_fields_is_written_at_most_once_a_second(job, settings):
    settings.JOB_PROGRESS_MIN_INTERVAL = 1.0
    reporter = JobReporter(TranscriptionJob, job.pk)
    reporter._clock = clock = FakeClock()
    with CaptureQueriesContext(connection) as context:
        reporter.progress(10, "transcribing", media_duration=1.0)  # a new stage: written at once
        for frame in range(1, 50):  # 49 reports within 0.98 s, each with extra fields and more percent
            clock.now += 0.02
            reporter.progress(10 + frame, media_duration=float(frame))
    assert updates(context) == 1
    clock.now += 0.05  # 1.03 s after the first write
    with CaptureQueriesContext(connection) as context:
        reporter.progress(60, media_duration=2.0)
        reporter.progress(61, media_duration=3.0)
    assert updates(context) == 1
    job.refresh_from_db()
    assert (job.progress, job.media_duration, job.stage) == (60, 2.0, "transcribing")


def test_a_new_stage_is_written_at_once(job, settings):
    settings.JOB_PROGRESS_MIN_INTERVAL = 1.0
    reporter = JobReporter(TranscriptionJob, job.pk)
    reporter._clock = FakeClock()
    reporter.progress(10, "transcribing")
    reporter.progress(10, "aligning")
    job.refresh_from_db()
    assert job.stage == "aligning"


def test_claim_and_reclaim_go_through_transition_and_publish(user, job, settings, monkeypatch):
    settings.JOB_HEARTBEAT_STALE_SECONDS = 300
    settings.JOB_MAX_ATTEMPTS = 3
    published: list[str] = []
    monkeypatch.setattr(jobs.notify, "publish", lambda job_id: published.append(str(job_id)))
    queued = TranscriptionJob.objects.create(owner=user, video=job.video, status=JobStatus.QUEUED)

    assert claim(TranscriptionJob, queued.pk)
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (JobStatus.PROCESSING, 1) and queued.started_at is not None
    assert published == [str(queued.pk)]

    first_start = timezone.now() - timedelta(minutes=20)
    TranscriptionJob.objects.filter(pk=queued.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=400),
                                                         started_at=first_start, worker="gone:1:1")
    assert claim(TranscriptionJob, queued.pk)  # the silent worker's job is reclaimed
    queued.refresh_from_db()
    assert queued.attempts == 2 and queued.worker != "gone:1:1" and queued.started_at == first_start
    assert published == [str(queued.pk)] * 2

    assert not claim(TranscriptionJob, queued.pk)  # fresh heartbeat now: not ours to take
    assert published == [str(queued.pk)] * 2
