"""The admin as an operator uses it, in a real browser (Playwright + Chromium) against a live server.

A staff user logs in through the admin login form, lowers a customer's daily render limit through the
QuotaOverride inline, the API then refuses the customer's second render, and the staff user opens a finished
transcription (transcript preview), a finished render (output player that really loads the video) and the
operations dashboard (bars for the jobs created here). A screenshot of the dashboard is left in tmp_path.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.utils import timezone
from support import PASSWORD, broker_is_real, flush_broker
from testmedia import make_clip

from accounts.models import QuotaOverride
from ecg.jobs import JobStatus
from ops.dashboard import quota_zone
from rendering.models import RenderJob
from transcription.models import TranscriptionJob
from uploads import storage
from uploads.models import Video

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BROWSER_TIMEOUT_MS = 90_000  # Playwright's 30 s default is tight for Chromium on a loaded CI machine


def chromium_path() -> str:
    return getattr(settings, "CHROMIUM_PATH", "") or "/usr/bin/chromium"


@pytest.fixture
def browser(monkeypatch):
    """One headless Chromium per test; ORM calls in this thread are allowed while Playwright's loop runs."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(chromium_path()).exists():
        pytest.skip(f"Chromium not found at {chromium_path()}")
    # Playwright's sync API keeps an event loop in this thread; Django would refuse ORM calls from it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            yield pw, instance
        finally:
            instance.close()
            # While Playwright's loop is current, Django keeps this thread's DB connections in context-local
            # storage that pytest-django's teardown never sees: close them here, or PostgreSQL cannot drop the
            # test database ("being accessed by other users").
            from django.db import connections

            connections.close_all()


def dialogue_result() -> dict:
    """A transcript in the API 2.1 shape, built from the dialogue fixture's script (two speakers)."""
    script = json.loads((FIXTURES / "media" / "dialogue.json").read_text())
    segments = []
    for index, turn in enumerate(script["turns"]):
        speaker = f"SPEAKER_{index:02d}"
        words = turn["text"].split()
        step = (turn["end"] - turn["start"]) / len(words)
        segments.append({
            "id": index, "start": turn["start"], "end": turn["end"], "start_time": turn["start"],
            "end_time": turn["end"], "duration": round(turn["end"] - turn["start"], 3), "text": turn["text"],
            "confidence": 0.9, "speaker": {"speaker_id": speaker, "confidence": 0.85, "gender": None,
                                           "age_group": None},
            "emotion": None,
            "words": [{"word": word, "start": round(turn["start"] + i * step, 3),
                       "end": round(turn["start"] + (i + 1) * step, 3), "confidence": 0.9, "speaker_id": speaker,
                       "volume_db": -20.0, "pitch_hz": 150.0, "harmonics_ratio": 10.0, "spectral_centroid": 1500.0}
                      for i, word in enumerate(words)],
        })
    return {"segments": segments, "speakers": ["SPEAKER_00", "SPEAKER_01"], "language": "en",
            "speaker_details": {s["speaker"]["speaker_id"]: {"total_duration": s["duration"], "segment_count": 1,
                                                             "avg_confidence": 0.85} for s in segments},
            "metadata": {"duration": script["duration"], "language": "en", "language_requested": "auto",
                         "model": "tiny", "engine": "faster-whisper", "device": "cpu", "processing_time": 3.1,
                         "total_segments": 2, "unique_speakers": 2, "emotion_model": None}}


def history(owner, video, now) -> dict[tuple[str, str], int]:
    """Two weeks of earlier jobs (some failed) so that the chart has shape; returns (day, kind) → count."""
    expected: dict[tuple[str, str], int] = {}
    scenario = {"version": "2.0", "cues": []}
    for days_ago in range(1, 14):
        created = (now.astimezone(quota_zone()) - timedelta(days=days_ago)).replace(hour=12, minute=0)
        day = created.date().isoformat()
        for n in range(days_ago % 4 + 1):
            failed = n == 2
            TranscriptionJob.objects.create(
                owner=owner, video=video, created_at=created, media_duration=12.0, engine="faster-whisper",
                status=JobStatus.FAILED if failed else JobStatus.COMPLETED,
                error_code="MEDIA_INVALID" if failed else "",
                started_at=created, finished_at=created + timedelta(seconds=4 + n))
        expected[(day, "transcription")] = days_ago % 4 + 1
        if days_ago % 3 == 0:
            RenderJob.objects.create(owner=owner, video=video, scenario=scenario, scenario_original=scenario,
                                     created_at=created, media_duration=12.0, encoder="libx264",
                                     status=JobStatus.COMPLETED, started_at=created,
                                     finished_at=created + timedelta(seconds=15))
            expected[(day, "render")] = 1
    return expected


def test_operator_console_end_to_end(browser, live_server, settings, make_user, tmp_path):
    pw, chromium = browser
    settings.PUBLIC_BASE_URL = live_server.url  # signed upload/download URLs must point at this server
    staff = make_user("ops@example.com", is_staff=True, is_superuser=True)
    customer = make_user("kim@example.com", username="kim")
    from accounts.services import issue_tokens

    api = pw.request.new_context(base_url=live_server.url, timeout=BROWSER_TIMEOUT_MS, extra_http_headers={
        "Authorization": f"Bearer {issue_tokens(customer).access}"})
    context = chromium.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)  # every wait below is on a selector/condition, bounded by this
    page = context.new_page()
    try:
        # --- the customer uploads a video through the API ---------------------------------------------
        make_clip(tmp_path / "clip.mp4", seconds=1.0, width=320, height=180)
        issued = api.post("/api/upload-video/generate-url",
                          data={"filename": "clip.mp4", "content_type": "video/mp4"}).json()
        put = api.put(urlsplit(issued["upload_url"]).path, data=(tmp_path / "clip.mp4").read_bytes(),
                      headers={"Content-Type": "video/mp4"})
        assert put.ok, put.text()

        # --- staff login through the admin form ---------------------------------------------------------
        page.goto(f"{live_server.url}/admin/")
        page.fill("#id_username", staff.email)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#ops-dashboard-link")
        assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME")

        # --- lower the customer's daily render limit via the QuotaOverride inline ----------------------
        page.goto(f"{live_server.url}/admin/accounts/user/{customer.pk}/change/")
        page.click("#quota_override-group .add-row a")
        page.fill("#id_quota_override-0-daily_renders", "1")
        page.fill("#id_quota_override-0-note", "trial account")
        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist .success")
        override = QuotaOverride.objects.get(user=customer)
        assert (override.daily_renders, override.monthly_renders, override.note) == (1, None, "trial account")

        # --- the API enforces it ----------------------------------------------------------------------
        scenario = json.loads((FIXTURES / "scenarios" / "scenario-v2.json").read_text())
        first = api.post("/api/render/create", data={"fileKey": issued["fileKey"], "scenario": scenario})
        assert first.status == 200, first.text()
        second = api.post("/api/render/create", data={"fileKey": issued["fileKey"], "scenario": scenario})
        assert second.status == 403, second.text()
        detail = second.json()["detail"]
        assert detail["code"] == "RENDER_QUOTA_DAILY_EXCEEDED" and detail["details"]["limit"] == 1
        page.goto(f"{live_server.url}/admin/accounts/user/{customer.pk}/change/")
        assert "today 1/1" in page.locator(".field-render_quota .readonly").inner_text()

        # --- a finished transcription shows its transcript ---------------------------------------------
        video = Video.objects.get(key=issued["fileKey"])
        now = timezone.now()
        result = dialogue_result()
        tjob = TranscriptionJob.objects.create(
            owner=customer, video=video, status=JobStatus.COMPLETED, progress=100, stage="completed", result=result,
            detected_language="en", engine="faster-whisper", model_name="tiny", device="cpu", media_duration=12.086,
            started_at=now - timedelta(seconds=6), finished_at=now)
        page.goto(f"{live_server.url}/admin/transcription/transcriptionjob/{tjob.pk}/change/")
        rows = page.locator("table.transcript-preview tbody tr.segment")
        assert rows.count() == 2
        assert rows.nth(1).is_visible()
        assert "SPEAKER_01" in rows.nth(1).inner_text() and "budget" in rows.nth(1).inner_text()
        assert "2 segments · 2 speakers · language en" in page.locator(".transcript-summary").inner_text()
        assert page.locator("button.job-op-replay").is_visible()
        assert page.locator("input[name=_save]").count() == 0  # read-only page
        page.screenshot(path=str(tmp_path / "transcription-job.png"), full_page=True)

        # --- a finished render shows a player that loads the output -----------------------------------
        make_clip(tmp_path / "out.mp4", seconds=1.0, width=320, height=180)
        rjob = RenderJob.objects.create(
            owner=customer, video=video, scenario=scenario, scenario_original=scenario, status=JobStatus.COMPLETED,
            progress=100, options={"width": 320, "height": 180, "fps": 25, "quality": 90, "format": "mp4"},
            media_duration=1.0, encoder="libx264", started_at=now - timedelta(seconds=2), finished_at=now)
        rjob.output_key = f"renders/{customer.pk}/{rjob.pk}/clip.mp4"
        storage.save_file(rjob.output_key, tmp_path / "out.mp4", "video/mp4")
        RenderJob.objects.filter(pk=rjob.pk).update(output_key=rjob.output_key,
                                                    output_size=(tmp_path / "out.mp4").stat().st_size,
                                                    output_duration=1.0)
        page.goto(f"{live_server.url}/admin/rendering/renderjob/{rjob.pk}/change/")
        player = page.locator(".field-output_player video")
        assert player.is_visible()
        page.wait_for_function("document.querySelector('.field-output_player video').readyState >= 1")
        duration = player.evaluate("v => [v.duration, v.videoWidth, v.videoHeight]")
        assert duration[0] == pytest.approx(1.0, abs=0.1) and duration[1:] == [320, 180]
        page.screenshot(path=str(tmp_path / "render-job.png"), full_page=True)

        # --- the dashboard chart has a bar per (day, kind) with jobs ----------------------------------
        expected = history(customer, video, now)
        today = now.astimezone(quota_zone()).date().isoformat()
        expected[(today, "transcription")] = 1
        expected[(today, "render")] = 2  # the API render and the finished one
        page.goto(f"{live_server.url}/admin/dashboard/")
        chart = page.locator("svg#jobs-per-day")
        assert chart.is_visible()
        bars = chart.locator("rect.bar")
        seen = {(bars.nth(i).get_attribute("data-day"), bars.nth(i).get_attribute("data-kind")):
                int(bars.nth(i).get_attribute("data-count")) for i in range(bars.count())}
        assert seen == expected
        heights = [float(bars.nth(i).get_attribute("height")) for i in range(bars.count())]
        assert all(h > 0 for h in heights)
        assert chart.locator("rect.bar-failed").count() == sum(1 for d in range(1, 14) if d % 4 + 1 > 2)
        assert page.locator("#quota-module tr.quota-row.at-limit .quota-daily").inner_text() == "2/1"
        assert page.locator("#speed-module tr.speed-row[data-engine=libx264] .rtf").inner_text()
        page.screenshot(path=str(tmp_path / "admin-dashboard.png"), full_page=True)
        assert (tmp_path / "admin-dashboard.png").stat().st_size > 10_000
    finally:
        context.close()
        api.dispose()
        if broker_is_real():
            flush_broker()  # the render enqueued above must not reach another test's worker
