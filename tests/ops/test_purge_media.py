"""Retention: ``manage.py purge_media`` deletes old uploads and render outputs, never files of running jobs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ecg.jobs import JobStatus
from ops.retention import purge
from rendering import quotas
from rendering.models import RenderJob
from transcription.models import TranscriptionJob
from uploads import storage
from uploads.models import Video

pytestmark = pytest.mark.django_db(transaction=True)  # file deletion runs on commit
SCENARIO = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "scenario-v2.json").read_text())


def stored(key: str, size: int = 1000) -> str:
    path = storage.local_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)
    return key


def video(user, *, created: datetime, name: str = "clip.mp4") -> Video:
    key = stored(storage.new_upload_key(user.pk, name), 5000)
    return Video.objects.create(owner=user, key=key, original_filename=name, content_type="video/mp4",
                                status=Video.Status.READY, created_at=created, duration=4.0)


def transcription(source: Video, *, created: datetime, status: str = JobStatus.COMPLETED) -> TranscriptionJob:
    return TranscriptionJob.objects.create(owner=source.owner, video=source, status=status, created_at=created,
                                           finished_at=created if status == JobStatus.COMPLETED else None)


def render(source: Video, *, created: datetime, status: str = JobStatus.COMPLETED, output: bool = True) -> RenderJob:
    job = RenderJob.objects.create(owner=source.owner, video=source, status=status, scenario=SCENARIO,
                                   scenario_original=SCENARIO, created_at=created,
                                   finished_at=created + timedelta(minutes=1) if status in ("completed", "failed")
                                   else None)
    if output:
        job.output_key = stored(f"renders/{source.owner_id}/{job.pk}/clip.mp4", 3000)
        job.save(update_fields=["output_key"])
    return job


def gone(key: str) -> bool:
    return not storage.exists(key)


def test_old_uploads_go_with_their_jobs_and_outputs_running_ones_stay(user):
    now = timezone.now()
    old, recent = now - timedelta(days=40), now - timedelta(days=2)

    expired = video(user, created=old)
    transcription(expired, created=old)
    expired_render = render(expired, created=old)

    busy = video(user, created=old)  # an old upload whose job is still running: nothing of it may go
    transcription(busy, created=old, status=JobStatus.PROCESSING)
    busy_render = render(busy, created=old, status=JobStatus.QUEUED)  # replayed in place: old output still there

    reused = video(user, created=old)  # old upload, rendered again two days ago: kept, old output goes
    old_output = render(reused, created=old)
    new_output = render(reused, created=recent)

    fresh = video(user, created=recent)

    report = purge(older_than_days=30)

    assert report.videos == [expired.key]
    assert not Video.objects.filter(pk=expired.pk).exists()
    assert not TranscriptionJob.objects.filter(video_id=expired.pk).exists()
    assert gone(expired.key) and gone(expired_render.output_key)

    assert Video.objects.filter(pk=busy.pk).exists() and not gone(busy.key)
    assert not gone(busy_render.output_key) and report.skipped_active == 1
    busy_render.refresh_from_db()
    assert busy_render.output_key and busy_render.status == JobStatus.QUEUED

    assert not gone(reused.key) and not gone(new_output.output_key)
    assert gone(old_output.output_key) and old_output.output_key in report.outputs
    assert not RenderJob.objects.filter(pk=old_output.pk).exists()  # its row is outside any quota window
    assert RenderJob.objects.get(pk=new_output.pk).output_key == new_output.output_key
    assert not gone(fresh.key)
    assert report.bytes_freed == 5000 + 3000 + 3000
    assert purge(older_than_days=30).videos == []  # idempotent


def test_purge_never_changes_this_months_render_quota(user):
    now = datetime(2030, 1, 20, 12, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    source = video(user, created=now - timedelta(days=15))
    job = render(source, created=now - timedelta(days=14))
    before = quotas.usage(user, now=now).monthly.used

    report = purge(older_than_days=7, now=now)

    assert report.videos == [] and report.outputs == [job.output_key] and report.render_rows == 0
    assert gone(job.output_key) and not gone(source.key)  # the file goes at the age limit ...
    job.refresh_from_db()
    assert job.output_key == "" and job.status == JobStatus.COMPLETED  # ... the row stays for the quota
    assert quotas.usage(user, now=now).monthly.used == before == 1

    next_month = datetime(2030, 2, 3, 12, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    assert purge(older_than_days=7, now=next_month).videos == [source.key]
    assert not RenderJob.objects.filter(pk=job.pk).exists() and gone(source.key)


def test_command_dry_run_reports_and_keeps_everything(user, settings):
    old = timezone.now() - timedelta(days=40)
    expired = video(user, created=old)
    output = render(expired, created=old).output_key

    out = StringIO()
    call_command("purge_media", "--older-than-days", "30", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"upload {expired.key}" in text and "would delete 1 upload(s)" in text
    assert Video.objects.filter(pk=expired.pk).exists() and not gone(expired.key) and not gone(output)

    settings.RETENTION_DAYS = 60  # the default age: nothing is that old
    out = StringIO()
    call_command("purge_media", stdout=out)
    assert "deleted 0 upload(s)" in out.getvalue() and "older than 60 day(s)" in out.getvalue()
    assert not gone(expired.key)

    out = StringIO()
    call_command("purge_media", "--older-than-days", "30", stdout=out)
    assert "deleted 1 upload(s)" in out.getvalue()
    assert gone(expired.key) and gone(output) and not Video.objects.filter(pk=expired.pk).exists()

    with pytest.raises(CommandError):
        call_command("purge_media", "--older-than-days", "0")
