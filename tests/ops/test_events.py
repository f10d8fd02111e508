"""API.md section 5: the job progress stream (SSE) against a real uvicorn server on loopback.

The server runs Django's ASGI handler in a thread of the test process, so the tests can drive jobs through
``ecg.jobs`` (exactly what workers call) and look inside the server (thread count, open subscriptions).
Both delivery modes are covered: pushes through Redis pub/sub (when ``REDIS_URL`` is set; polling is then
switched off so only a push can deliver an event) and polling of the job row without Redis.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from datetime import timedelta

import httpx
import pytest
from django.db.models import F
from support import LiveServer, make_video, wait_for

from ecg.jobs import ACTIVE, JobStatus, claim, report_progress, transition
from ops import events
from rendering.models import RenderJob
from rendering.services import render_cancel
from transcription.models import TranscriptionJob

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
EVENT_TIMEOUT = 60.0  # generous: only guards against a hang (pushes arrive in milliseconds, a loaded CI is slow)
RELEASE_TIMEOUT = 30.0  # for the server to drop a finished or abandoned stream's subscription


@pytest.fixture
def live():
    with LiveServer() as server:
        yield server


@pytest.fixture(params=["push", "poll"])
def mode(request, settings):
    """push: Redis notifications only (no polling, no pings). poll: no Redis, re-read every 0.2 s."""
    if request.param == "push":
        if not settings.REDIS_URL:
            pytest.skip("push mode needs REDIS_URL (Redis pub/sub)")
        settings.SSE_POLL_SECONDS = 3600
        settings.SSE_HEARTBEAT_SECONDS = 3600
    else:
        settings.REDIS_URL = ""
        settings.SSE_POLL_SECONDS = 0.2
        settings.SSE_HEARTBEAT_SECONDS = 3600
    return request.param


def token_for(user) -> str:
    from accounts.services import issue_tokens

    return issue_tokens(user).access


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {token_for(user)}"}


def make_transcription(user) -> TranscriptionJob:
    return TranscriptionJob.objects.create(owner=user, video=make_video(user), estimated_seconds=20.0,
                                           media_duration=4.5)


def make_render(user) -> RenderJob:
    scenario = {"version": "2.0", "cues": []}
    return RenderJob.objects.create(owner=user, video=make_video(user), scenario=scenario, scenario_original=scenario,
                                    options={"width": 320, "height": 180, "fps": 25, "quality": 90, "format": "mp4"},
                                    estimated_seconds=10.0, media_duration=1.0)


TRANSCRIPT = {
    "segments": [{"id": 0, "start": 0.5, "end": 1.5, "start_time": 0.5, "end_time": 1.5, "duration": 1.0,
                  "text": "hello", "confidence": 0.9,
                  "speaker": {"speaker_id": "SPEAKER_00", "confidence": 0.8, "gender": None, "age_group": None},
                  "emotion": None,
                  "words": [{"word": "hello", "start": 0.5, "end": 1.5, "confidence": 0.9, "speaker_id": "SPEAKER_00",
                             "volume_db": -20.0, "pitch_hz": 180.0, "harmonics_ratio": 10.0,
                             "spectral_centroid": 1500.0}]}],
    "speakers": ["SPEAKER_00"], "speaker_details": {}, "language": "en", "metadata": {}, "volume_statistics": {},
    "pitch_statistics": {},
}


async def sse(response: httpx.Response):
    """Yield ("data", payload) / ("event", name) / ("comment", text) frames as they arrive."""
    name, data = None, []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield ("event", name) if name else ("data", json.loads("\n".join(data)))
            name, data = None, []
        elif line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line.startswith("event:"):
            name = line[6:].strip()


async def next_data(frames) -> dict:
    async def first():
        async for kind, value in frames:
            if kind == "data":
                return value
        raise AssertionError("the stream ended before the next event")
    return await asyncio.wait_for(first(), EVENT_TIMEOUT)


def state_of(payload: dict) -> tuple:
    return payload.get("status"), payload.get("progress"), payload.get("stage")


async def next_change(frames, previous: dict) -> dict:
    """The next event whose status/progress/stage differ from ``previous``.

    A stream that wakes for a reason of its own (the pub/sub hub connecting late on a loaded machine wakes every
    stream to re-read) may send the same state again with a fresher ETA; a test waits for the change it made.
    """
    while state_of(payload := await next_data(frames)) == state_of(previous):
        pass
    return payload


async def rest(frames) -> list[tuple[str, object]]:
    async def collect():
        return [frame async for frame in frames]
    return await asyncio.wait_for(collect(), EVENT_TIMEOUT)


async def in_thread(fn, *args, **kwargs):
    """Run ORM work (what a worker does) in a thread that gives its database connection back afterwards."""
    def call():
        from django.db import connection

        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()
    return await asyncio.to_thread(call)


def hub_listeners() -> int:
    return sum(hub.listeners() for hub in list(events._hubs.values()))


def test_transcription_stream_sees_each_change_and_ends_on_completion(live, user, mode):
    job = make_transcription(user)
    headers = bearer(user)

    async def scenario():
        async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=EVENT_TIMEOUT) as client:
            async with client.stream("GET", f"/api/jobs/{job.pk}/events") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                assert response.headers["cache-control"].startswith("no-cache")
                frames = sse(response)
                seen = [await next_data(frames)]
                assert await in_thread(claim, TranscriptionJob, job.pk)
                seen.append(await next_change(frames, seen[-1]))
                for progress, stage in ((12, "extracting_audio"), (40, "transcribing"), (85, "analyzing")):
                    assert await in_thread(report_progress, TranscriptionJob, job.pk, progress, stage=stage)
                    seen.append(await next_change(frames, seen[-1]))
                assert await in_thread(transition, TranscriptionJob, job.pk, to=JobStatus.COMPLETED,
                                               from_states=[JobStatus.PROCESSING], progress=100, stage="done",
                                               result=TRANSCRIPT)
                seen.append(await next_change(frames, seen[-1]))
                tail = await rest(frames)  # the server closes the stream after the terminal state
            status = (await client.get(f"/api/upload-video/status/{job.pk}")).json()
        return seen, tail, status

    seen, tail, status = asyncio.run(scenario())
    assert [(e["status"], e["progress"], e["stage"]) for e in seen] == [
        ("pending", 0, "queued"), ("processing", 0, "queued"), ("processing", 12, "extracting_audio"),
        ("processing", 40, "transcribing"), ("processing", 85, "analyzing"), ("completed", 100, "done")]
    assert all(set(e) == set(status) for e in seen)  # the status endpoint's payload, field for field
    assert seen[-1] == status and seen[-1]["result"] == TRANSCRIPT
    assert tail == [("event", "end")]
    wait_for(lambda: hub_listeners() == 0, timeout=RELEASE_TIMEOUT, message="the subscription to be released")


def test_a_ticking_eta_alone_sends_no_event_and_the_next_event_carries_it(live, user, monkeypatch, settings):
    """Poll mode re-reads the job; its ETA is recomputed from the clock at every read. Only a change of the job
    is an event (as in push mode, where nothing publishes a tick), so a slow worker cannot show a phantom
    intermediate state, and the next real event carries the fresh ETA."""
    settings.REDIS_URL = ""
    settings.SSE_POLL_SECONDS = 0.05
    settings.SSE_HEARTBEAT_SECONDS = 3600
    job = make_transcription(user)
    reads = {"n": 0}
    original = events.read_payload

    def counted(ref):
        result = original(ref)
        reads["n"] += 1
        return result
    monkeypatch.setattr(events, "read_payload", counted)
    headers = bearer(user)

    async def scenario():
        async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=EVENT_TIMEOUT) as client:
            async with client.stream("GET", f"/api/jobs/{job.pk}/events") as response:
                frames = sse(response)
                await next_data(frames)
                assert await in_thread(claim, TranscriptionJob, job.pk)
                claimed = await next_data(frames)
                # The clock moves 6 s for this job (no notification, nothing else changes) ...
                await in_thread(lambda: TranscriptionJob.objects.filter(pk=job.pk).update(
                    started_at=F("started_at") - timedelta(seconds=6)))
                seen_reads = reads["n"]
                # ... and the stream re-reads it twice (it now computes another ETA) before the next change.
                await asyncio.wait_for(_until(lambda: reads["n"] >= seen_reads + 2), EVENT_TIMEOUT)
                assert await in_thread(report_progress, TranscriptionJob, job.pk, 5, stage="extracting_audio")
                progressed = await next_data(frames)
                assert await in_thread(events_transition_completed, job.pk)
                await rest(frames)
        return claimed, progressed

    claimed, progressed = asyncio.run(scenario())
    assert (claimed["status"], claimed["progress"], claimed["stage"]) == ("processing", 0, "queued")
    assert (progressed["status"], progressed["progress"], progressed["stage"]) == ("processing", 5, "extracting_audio")
    assert progressed["estimated_time_remaining"] < claimed["estimated_time_remaining"]  # the fresh ETA


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(0.02)


def events_transition_completed(job_id) -> bool:
    return transition(TranscriptionJob, job_id, to=JobStatus.COMPLETED, from_states=[JobStatus.PROCESSING],
                      progress=100, stage="done", result=TRANSCRIPT)


def test_render_stream_uses_the_render_payload_and_ends_on_cancel(live, user, mode):
    job = make_render(user)
    token = token_for(user)

    async def scenario():
        async with httpx.AsyncClient(base_url=live.url, timeout=EVENT_TIMEOUT) as client:
            # The editor's cookie credential works too (a GET needs no Origin).
            client.cookies.set("access_token", token)
            async with client.stream("GET", f"/api/jobs/{job.pk}/events") as response:
                assert response.status_code == 200
                frames = sse(response)
                first = await next_data(frames)
                assert await in_thread(claim, RenderJob, job.pk)
                assert await in_thread(report_progress, RenderJob, job.pk, 41)
                running = [await next_data(frames)]
                while running[-1]["progress"] != 41:  # the claim and the progress may arrive as two events
                    running.append(await next_data(frames))
                fresh = await in_thread(RenderJob.objects.get, pk=job.pk)
                assert await in_thread(lambda: render_cancel(job=fresh))
                last = await next_change(frames, running[-1])
                tail = await rest(frames)
            status = (await client.get(f"/api/render/{job.pk}/status")).json()
        return first, running, last, tail, status

    first, running, last, tail, status = asyncio.run(scenario())
    assert first["jobId"] == str(job.pk) and first["status"] == "queued" and first["progress"] == 0
    assert running[-1]["status"] == "processing" and running[-1]["progress"] == 41
    assert last["status"] == "cancelled" and last["errorCode"] == "CANCELLED"
    assert last == status and tail == [("event", "end")]


def test_finished_job_sends_its_state_once_and_closes(live, user, settings):
    job = make_render(user)
    transition(RenderJob, job.pk, to=JobStatus.FAILED, from_states=ACTIVE, error_code="INTERNAL")
    response = httpx.get(f"{live.url}/api/jobs/{job.pk}/events", headers=bearer(user), timeout=EVENT_TIMEOUT)
    assert response.status_code == 200
    frames = [block for block in response.text.split("\n\n") if block]
    assert frames[0].startswith("retry:")
    payload = json.loads(frames[1].removeprefix("data: "))
    assert payload["status"] == "failed" and payload["errorCode"] == "INTERNAL"
    assert frames[2:] == ["event: end\ndata: {}"]


def test_heartbeat_comments_keep_an_idle_stream_open(live, user, settings):
    settings.SSE_HEARTBEAT_SECONDS = 0.3
    job = make_transcription(user)
    headers = bearer(user)

    async def scenario():
        async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=EVENT_TIMEOUT) as client:
            async with client.stream("GET", f"/api/jobs/{job.pk}/events") as response:
                frames = sse(response)
                pings = 0
                async for kind, value in frames:
                    if kind == "comment":
                        assert value == "ping"
                        pings += 1
                        if pings == 3:
                            break
        return pings

    assert asyncio.run(asyncio.wait_for(scenario(), EVENT_TIMEOUT)) == 3


def test_unknown_foreign_and_anonymous_requests_get_json_errors(live, user, other_user):
    job = make_transcription(other_user)
    with httpx.Client(base_url=live.url, timeout=EVENT_TIMEOUT) as client:
        for job_id in (job.pk, uuid.uuid4(), "not-a-uuid"):
            response = client.get(f"/api/jobs/{job_id}/events", headers=bearer(user))
            assert response.status_code == 404
            assert response.json()["error"] == "JOB_NOT_FOUND" and response.json()["detail"]
        anonymous = client.get(f"/api/jobs/{job.pk}/events")
        assert anonymous.status_code == 401 and anonymous.json()["error"] == "AUTHENTICATION_REQUIRED"
        forged = client.get(f"/api/jobs/{job.pk}/events", headers={"Authorization": "Bearer nope"})
        assert forged.status_code == 401 and forged.json()["error"] == "INVALID_TOKEN"
        wrong_method = client.post(f"/api/jobs/{job.pk}/events", headers=bearer(other_user))
        assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "METHOD_NOT_ALLOWED"


def test_fifty_concurrent_streams_hold_no_thread_each_and_all_end(live, make_user, mode):
    users = [make_user() for _ in range(10)]
    jobs = [make_transcription(u) for u in users]
    headers = [bearer(u) for u in users]
    clients_per_job = 5
    opened = asyncio.Event()

    async def listen(client, job, headers, ready: list):
        async with client.stream("GET", f"/api/jobs/{job.pk}/events", headers=headers) as response:
            assert response.status_code == 200
            frames = sse(response)
            first = await next_data(frames)
            ready.append(1)
            await opened.wait()
            payloads = [first]
            async for kind, value in frames:
                if kind == "data":
                    payloads.append(value)
            return payloads

    async def scenario():
        baseline = threading.active_count()
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=live.url, timeout=60, limits=limits) as client:
            ready: list = []
            tasks = [asyncio.create_task(listen(client, job, auth, ready))
                     for job, auth in zip(jobs, headers, strict=True) for _ in range(clients_per_job)]
            deadline = time.monotonic() + 60
            while len(ready) < len(tasks) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(ready) == len(tasks) == 50
            await asyncio.sleep(0.3)  # let any per-request thread that would linger show up
            threads_while_open = threading.active_count()
            if mode == "push":
                assert hub_listeners() == 50
            opened.set()

            def finish_all():
                for job in jobs:
                    assert claim(TranscriptionJob, job.pk)
                    report_progress(TranscriptionJob, job.pk, 50, stage="transcribing")
                    assert transition(TranscriptionJob, job.pk, to=JobStatus.COMPLETED,
                                      from_states=[JobStatus.PROCESSING], progress=100, stage="done",
                                      result=TRANSCRIPT)

            await in_thread(finish_all)
            results = await asyncio.wait_for(asyncio.gather(*tasks), 60)
        return baseline, threads_while_open, results

    baseline, threads_while_open, results = asyncio.run(scenario())
    # 50 open streams cost no thread each: only the event loop's small shared executor may have grown.
    assert threads_while_open - baseline < 15, (baseline, threads_while_open)
    assert len(results) == 50
    for payloads in results:
        assert payloads[0]["status"] == "pending"
        assert payloads[-1]["status"] == "completed" and payloads[-1]["progress"] == 100
        progress = [p["progress"] for p in payloads]
        assert progress == sorted(progress)
    wait_for(lambda: hub_listeners() == 0, timeout=RELEASE_TIMEOUT, message="all subscriptions to be released")


def test_client_disconnect_releases_the_subscription(live, user, settings):
    if not settings.REDIS_URL:
        pytest.skip("subscriptions exist only with Redis pub/sub")
    job = make_transcription(user)
    headers = bearer(user)

    async def scenario():
        async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=EVENT_TIMEOUT) as client:
            async with client.stream("GET", f"/api/jobs/{job.pk}/events") as response:
                await next_data(sse(response))
                assert hub_listeners() == 1
        # leaving the block closed the connection mid-stream

    asyncio.run(scenario())
    wait_for(lambda: hub_listeners() == 0, timeout=RELEASE_TIMEOUT, message="the server to notice the disconnect")


def test_publish_reaches_subscribers_only_after_commit(settings):
    """A notification inside a transaction waits for the commit (a stream would otherwise read old state)."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis")
    import redis
    from django.db import transaction

    job_id = str(uuid.uuid4())
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    channel = events.channel_prefix() + job_id
    pubsub.subscribe(channel)
    wait_for(lambda: pubsub.get_message() is None and dict(client.pubsub_numsub(channel)).get(channel.encode()),
             timeout=30, interval=0.05, message="Redis to confirm the subscription")
    try:
        with transaction.atomic():
            events.publish(job_id)
            assert pubsub.get_message(timeout=0.3) is None
        message = pubsub.get_message(timeout=EVENT_TIMEOUT)
        assert message is not None and message["channel"].decode().endswith(job_id)
    finally:
        pubsub.close()
        client.close()


# --- the ASGI handler the streams (and every other request) are served by (ecg.handler) ----------------------
def test_handler_serves_sync_views_on_a_few_reused_threads(live, user, settings, monkeypatch):
    """At most ASGI_THREADS views run at once per process, on threads reused from request to request."""
    from transcription import selectors

    settings.ASGI_THREADS = 2
    job = make_transcription(user)
    headers = bearer(user)
    lock = threading.Lock()
    state = {"now": 0, "max": 0, "threads": set()}
    original = selectors.status_payload

    def observed(job):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
            state["threads"].add(threading.current_thread().name)
        time.sleep(0.05)  # long enough for concurrent requests to overlap if nothing held them back
        with lock:
            state["now"] -= 1
        return original(job)

    monkeypatch.setattr(selectors, "status_payload", observed)

    async def burst(n: int):
        async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=60) as client:
            return await asyncio.gather(*(client.get(f"/api/upload-video/status/{job.pk}") for _ in range(n)))

    responses = asyncio.run(burst(20))
    assert [r.status_code for r in responses] == [200] * 20
    assert all(r.json()["job_id"] == str(job.pk) for r in responses)
    assert state["max"] == 2  # the other 18 waited on the event loop, not in a thread
    assert len(state["threads"]) <= 2  # polled GETs hold their slot throughout: no thread per waiting request

    state["threads"].clear()
    with httpx.Client(base_url=live.url, headers=headers, timeout=30) as client:
        for _ in range(10):
            assert client.get(f"/api/upload-video/status/{job.pk}").status_code == 200
    assert len(state["threads"]) == 1  # one after another: the same thread every time


def test_handler_keeps_the_middleware_behaviour(live):
    with httpx.Client(base_url=live.url, timeout=30) as client:
        missing = client.get("/api/nowhere", headers={"Accept-Language": "en"})
        assert missing.status_code == 404 and missing.json() == {
            "detail": "Not found.", "error": "NOT_FOUND", "message": "Not found."}
        assert client.get("/health/").json() == {"status": "ok"}  # optional trailing slash, no redirect
        preflight = client.options("/api/render/create", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert preflight.headers["access-control-allow-credentials"] == "true"
        anonymous = client.get("/api/auth/me")
        assert anonymous.status_code == 401 and anonymous.json()["error"] == "AUTHENTICATION_REQUIRED"
        assert anonymous.headers["x-content-type-options"] == "nosniff"  # SecurityMiddleware ran


def test_web_processes_pool_database_connections_and_other_processes_do_not(tmp_path):
    """ecg.asgi turns the bounded PostgreSQL pool on; workers and manage.py (plain settings) keep it off."""
    import os
    import subprocess
    import sys

    probe = ("from django.db import connection; "
             "print(repr(connection.settings_dict['OPTIONS'].get('pool')), connection.settings_dict['CONN_MAX_AGE'])")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("ECG_DB_POOL", "ECG_ASGI"))},
           "DATABASE_URL": "postgres://ecg@127.0.0.1:5432/ecg", "ECG_INPROCESS_WORKER": "false",
           "DJANGO_SETTINGS_MODULE": "ecg.settings"}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    def run(code: str) -> str:
        return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                              check=True, timeout=120).stdout.strip()

    web = run("import ecg.asgi; " + probe)
    assert web == "{'min_size': 2, 'max_size': 24, 'timeout': 10.0} 0"
    plain = run("import django; django.setup(); " + probe)
    assert plain == "None 0"
