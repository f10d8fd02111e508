"""Admin operations dashboard (ops.dashboard, ops.admin_views) and the job admins' read-only pages and operations."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.utils import timezone

from accounts.models import QuotaOverride
from ecg.jobs import JobStatus
from ops import dashboard
from rendering import quotas
from rendering.models import RenderJob
from transcription.models import TranscriptionJob
from uploads.models import Video

pytestmark = pytest.mark.django_db
SCENARIO = {"version": "2.0", "cues": []}


@pytest.fixture
def staff(make_user):
    return make_user("ops@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def video(user) -> Video:
    return Video.objects.create(owner=user, key=f"uploads/{user.pk}/v/talk.mp4", original_filename="talk.mp4",
                                content_type="video/mp4", status=Video.Status.READY, duration=10.0)


def local_noon(days_ago: int, now: datetime) -> datetime:
    """Noon in the quota time zone ``days_ago`` days before ``now``: unambiguously inside that local day."""
    local = now.astimezone(ZoneInfo(settings.QUOTA_TIME_ZONE)) - timedelta(days=days_ago)
    return local.replace(hour=12, minute=0, second=0, microsecond=0)


def tjob(video, **fields) -> TranscriptionJob:
    return TranscriptionJob.objects.create(owner=video.owner, video=video, **fields)


def rjob(video, **fields) -> RenderJob:
    return RenderJob.objects.create(owner=fields.pop("owner", video.owner), video=video, scenario=SCENARIO,
                                    scenario_original=SCENARIO, **fields)


def finished(start: datetime, seconds: float, media: float, **fields) -> dict:
    return {"status": JobStatus.COMPLETED, "started_at": start, "finished_at": start + timedelta(seconds=seconds),
            "media_duration": media, "progress": 100, **fields}


# --- selectors -----------------------------------------------------------------------------------------
def test_jobs_per_day_counts_local_days_without_gaps(video):
    now = timezone.now()
    tjob(video, created_at=local_noon(0, now))
    tjob(video, created_at=local_noon(0, now), status=JobStatus.FAILED, error_code="MEDIA_INVALID")
    tjob(video, created_at=local_noon(3, now))
    rjob(video, created_at=local_noon(3, now), status=JobStatus.FAILED, error_code="TIMEOUT")
    rjob(video, created_at=local_noon(29, now))
    rjob(video, created_at=local_noon(30, now))  # outside a 30-day window

    days = dashboard.jobs_per_day(days=30, now=now)

    assert len(days) == 30
    assert [d.day for d in days] == sorted(d.day for d in days)
    assert days[-1].day == local_noon(0, now).date() and days[0].day == local_noon(29, now).date()
    by_day = {d.day: d for d in days}
    today, three, first = (by_day[local_noon(n, now).date()] for n in (0, 3, 29))
    assert (today.total("transcription"), today.failed("transcription"), today.total("render")) == (2, 1, 0)
    assert (three.total("transcription"), three.total("render"), three.failed("render")) == (1, 1, 1)
    assert (first.total("render"), first.total("transcription")) == (1, 0)
    assert sum(d.total("transcription") + d.total("render") for d in days) == 5


def test_failure_rate_excludes_cancellations_and_counts_stale_workers(video):
    now = timezone.now()
    for _ in range(3):
        tjob(video, status=JobStatus.COMPLETED)
    tjob(video, status=JobStatus.FAILED, error_code="NO_AUDIO_STREAM")
    tjob(video, status=JobStatus.CANCELLED, error_code="CANCELLED")
    tjob(video, status=JobStatus.PROCESSING, heartbeat_at=now - timedelta(hours=2))
    tjob(video, status=JobStatus.PROCESSING, heartbeat_at=now)
    tjob(video, status=JobStatus.QUEUED)

    stats = {s.kind: s for s in dashboard.failure_stats(since=dashboard.window_start(30, now), now=now)}

    t = stats["transcription"]
    assert (t.completed, t.failed, t.cancelled, t.active, t.stale) == (3, 1, 1, 3, 1)
    assert t.failure_rate == pytest.approx(0.25)
    assert stats["render"].failure_rate is None  # nothing finished: no rate rather than a fake 0 %


def test_top_error_codes_across_kinds(video):
    for code, n in (("MEDIA_INVALID", 3), ("INTERNAL", 1)):
        for _ in range(n):
            tjob(video, status=JobStatus.FAILED, error_code=code)
    for _ in range(2):
        rjob(video, status=JobStatus.FAILED, error_code="RENDER_SOURCE_INVALID")
    rjob(video, status=JobStatus.CANCELLED, error_code="CANCELLED")  # not a failure

    errors = dashboard.top_error_codes(since=dashboard.window_start(30, timezone.now()))

    assert [(e.kind, e.code, e.count) for e in errors] == [
        ("transcription", "MEDIA_INVALID", 3), ("render", "RENDER_SOURCE_INVALID", 2), ("transcription", "INTERNAL", 1)]


def test_real_time_factor_per_engine_is_duration_weighted(video):
    start = timezone.now() - timedelta(hours=1)
    tjob(video, **finished(start, 5, 10, engine="faster-whisper"))
    tjob(video, **finished(start, 30, 20, engine="faster-whisper"))
    tjob(video, **finished(start, 2, 10, engine="whisperx"))
    tjob(video, status=JobStatus.FAILED, started_at=start, finished_at=start + timedelta(seconds=99),
         media_duration=10, engine="whisperx")  # failed: not a speed sample
    rjob(video, **finished(start, 12, 8, encoder="libx264"))

    speeds = {(s.kind, s.engine): s for s in dashboard.engine_speeds(since=dashboard.window_start(30, start))}

    assert set(speeds) == {("transcription", "faster-whisper"), ("transcription", "whisperx"), ("render", "libx264")}
    fw = speeds[("transcription", "faster-whisper")]
    assert (fw.jobs, fw.media_seconds, fw.processing_seconds) == (2, 30.0, 35.0)
    assert fw.real_time_factor == pytest.approx(35 / 30)
    assert speeds[("transcription", "whisperx")].real_time_factor == pytest.approx(0.2)
    assert speeds[("render", "libx264")].real_time_factor == pytest.approx(1.5)


def test_render_quota_rows_agree_with_the_enforced_quota(video, user, other_user):
    other_video = Video.objects.create(owner=other_user, key="uploads/x/clip.mp4", original_filename="clip.mp4",
                                       content_type="video/mp4")
    QuotaOverride.objects.create(user=user, daily_renders=2)
    for status in (JobStatus.COMPLETED, JobStatus.PROCESSING, JobStatus.CANCELLED):
        rjob(video, status=status)
    rjob(video, status=JobStatus.FAILED, error_code="INTERNAL")  # our fault: not counted
    rjob(other_video, status=JobStatus.COMPLETED)

    rows = dashboard.render_quota_usage()

    assert [r.email for r in rows] == [user.email, other_user.email]
    for row, who in zip(rows, (user, other_user), strict=True):
        use = quotas.usage(who)
        assert (row.daily.used, row.daily.limit) == (use.daily.used, use.daily.limit)
        assert (row.monthly.used, row.monthly.limit) == (use.monthly.used, use.monthly.limit)
        assert (row.concurrent.used, row.concurrent.limit) == (use.concurrent.used, use.concurrent.limit)
    assert (rows[0].daily.used, rows[0].daily.limit, rows[0].at_limit) == (2, 2, True)
    assert rows[1].at_limit is False


# --- the page ------------------------------------------------------------------------------------------
def test_dashboard_is_staff_only(client, make_user):
    response = client.get("/admin/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    client.force_login(make_user("plain@example.com"))
    assert client.get("/admin/dashboard/").status_code == 302


def test_dashboard_page_renders_chart_tables_and_escapes_data(admin_client, video, user):
    now = timezone.now()
    tjob(video, created_at=local_noon(1, now), **finished(local_noon(1, now), 4, 8, engine="<i>engine</i>"))
    rjob(video, created_at=local_noon(1, now), status=JobStatus.FAILED, error_code="<script>alert(1)</script>")

    response = admin_client.get("/admin/dashboard/")

    assert response.status_code == 200
    html = response.content.decode()
    svg = re.search(r'<svg class="ecg-chart" id="jobs-per-day".*?</svg>', html, re.S).group(0)
    bars = re.findall(r'<rect class="bar bar-(\w+)" data-day="([\d-]+)" data-kind="\w+" data-count="(\d+)"', svg)
    day = local_noon(1, now).date().isoformat()
    assert sorted(bars) == [("render", day, "1"), ("transcription", day, "1")]
    assert svg.count('class="bar-failed"') == 1
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<i>engine</i>" not in html and "&lt;i&gt;engine&lt;/i&gt;" in html
    assert f'data-user="{user.email}"' in html
    assert 'class="ops-num rtf">0.50<' in html


def test_admin_index_links_to_the_dashboard(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert 'href="/admin/dashboard/"' in html
    assert "app-accounts" in html  # the stock app list is still there


def test_admin_index_puts_the_everyday_models_first_and_one_accounts_section(admin_client):
    response = admin_client.get("/admin/")
    apps = response.context["app_list"]
    first = apps[0]
    assert first["app_label"] == "operations"
    assert [m["object_name"] for m in first["models"]] == ["User", "Plan", "Video", "TranscriptionJob", "RenderJob"]
    names = [str(app["name"]).lower() for app in apps]
    assert names.count("accounts") == 1  # allauth's e-mail addresses folded into ours
    accounts = next(app for app in apps if app["app_label"] == "accounts")
    assert "EmailAddress" in [m["object_name"] for m in accounts["models"]]
    rest = {m["object_name"] for app in apps[1:] for m in app["models"]}
    assert {"Site", "SocialToken", "Task", "BlacklistedToken"} <= rest  # still reachable
    html = response.content.decode()
    assert 'href="/admin/dashboard/"' in html and 'href="/admin/rendering/renderjob/"' in html
    assert admin_client.get("/admin/accounts/").status_code == 200  # per-app pages keep the stock list


def test_user_list_counts_renders_today_without_a_query_per_row(admin_client, make_user, video,
                                                                django_assert_max_num_queries):
    for i in range(3):
        owner = make_user(f"u{i}@example.com", username=f"u{i}")
        rjob(video, owner=owner)
    admin_client.get("/admin/accounts/user/")  # warm caches (content types, sessions)
    with django_assert_max_num_queries(12) as captured:
        html = admin_client.get("/admin/accounts/user/").content.decode()
    few_users = len(captured)
    for i in range(3, 13):
        owner = make_user(f"u{i}@example.com", username=f"u{i}")
        rjob(video, owner=owner)
    with django_assert_max_num_queries(few_users) as captured:
        html = admin_client.get("/admin/accounts/user/").content.decode()
    assert "1/" in html  # today's render against the daily limit


# --- job admins ----------------------------------------------------------------------------------------
RESULT = {
    "segments": [
        {"id": 0, "start": 0.5, "end": 2.25, "text": "안녕하세요 <b>everyone</b>",
         "speaker": {"speaker_id": "SPEAKER_00", "confidence": 0.9}, "emotion": None, "words": []},
        {"id": 1, "start": 2.5, "end": None, "text": "second", "speaker": None},
    ],
    "speakers": ["SPEAKER_00"], "language": "ko",
}


def test_transcription_job_page_is_read_only_with_transcript_preview(admin_client, video):
    job = tjob(video, result=RESULT, **finished(timezone.now(), 3, 5, engine="faster-whisper"))

    html = admin_client.get(f"/admin/transcription/transcriptionjob/{job.pk}/change/").content.decode()

    assert 'class="transcript-preview"' in html
    assert "2 segments · 1 speakers · language ko" in html
    assert "안녕하세요 &lt;b&gt;everyone&lt;/b&gt;" in html and "0.50–2.25" in html and "2.50–?" in html
    assert 'name="_save"' not in html  # read-only: no form to write a stale status back
    assert 'class="job-op job-op-replay"' in html and 'class="job-op job-op-cancel"' not in html


def test_job_add_is_disabled(admin_client):
    assert admin_client.get("/admin/transcription/transcriptionjob/add/").status_code == 403
    assert admin_client.get("/admin/rendering/renderjob/add/").status_code == 403


def test_render_job_page_shows_output_player(admin_client, video, tmp_path):
    from uploads import storage

    done = rjob(video, output_key="renders/1/x/talk.mp4", output_size=5, **finished(timezone.now(), 3, 5))
    (tmp_path / "out.mp4").write_bytes(b"12345")
    storage.save_file(done.output_key, tmp_path / "out.mp4", "video/mp4")
    running = rjob(video, status=JobStatus.PROCESSING)

    html = admin_client.get(f"/admin/rendering/renderjob/{done.pk}/change/").content.decode()
    assert re.search(r'<video src="http://testserver/api/files/[^"]+" controls', html)
    html = admin_client.get(f"/admin/rendering/renderjob/{running.pk}/change/").content.decode()
    assert "<video" not in html and 'class="job-op job-op-cancel"' in html
    assert 'class="job-op job-op-replay"' not in html  # in place only once finished; as a new job any time


def test_job_page_buttons_go_through_the_services(admin_client, video, staff):
    job = tjob(video, status=JobStatus.FAILED, error_code="INTERNAL", error_message="boom")
    url = f"/admin/transcription/transcriptionjob/{job.pk}/operate/replay/"

    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url)

    assert response.status_code == 302 and response["Location"].endswith(f"/{job.pk}/change/")
    job.refresh_from_db()
    assert (job.status, job.error_code, job.progress) == (JobStatus.QUEUED, "", 0)
    assert LogEntry.objects.filter(user=staff, object_id=str(job.pk)).exists()

    response = admin_client.post(f"/admin/transcription/transcriptionjob/{job.pk}/operate/cancel/")
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.error_code == "CANCELLED"

    response = admin_client.post(f"/admin/transcription/transcriptionjob/{job.pk}/operate/replay_new/")
    new = TranscriptionJob.objects.exclude(pk=job.pk).get()
    assert response["Location"].endswith(f"/{new.pk}/change/") and new.status == JobStatus.QUEUED
    assert admin_client.post(f"/admin/transcription/transcriptionjob/{job.pk}/operate/nope/").status_code == 403


def test_cancel_action_reports_jobs_that_had_already_finished(admin_client, video):
    active = rjob(video, status=JobStatus.PROCESSING)
    done = rjob(video, **finished(timezone.now(), 1, 1))

    response = admin_client.post("/admin/rendering/renderjob/", {
        "action": "cancel_jobs", "_selected_action": [str(active.pk), str(done.pk)]}, follow=True)

    texts = [str(m) for m in response.context["messages"]]
    assert any(f"{done.pk}: already completed" in t for t in texts)
    assert any(t.endswith(": 1 job(s)") for t in texts)
    active.refresh_from_db()
    done.refresh_from_db()
    assert (active.status, done.status) == (JobStatus.CANCELLED, JobStatus.COMPLETED)


def test_operations_need_the_change_permission(client, make_user, video):
    from django.contrib.auth.models import Permission

    viewer = make_user("viewer@example.com", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_transcriptionjob"))
    client.force_login(viewer)
    job = tjob(video, status=JobStatus.FAILED)

    html = client.get(f"/admin/transcription/transcriptionjob/{job.pk}/change/").content.decode()
    assert 'class="job-op ' not in html
    assert client.post(f"/admin/transcription/transcriptionjob/{job.pk}/operate/replay/").status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
