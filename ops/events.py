"""Live job progress: change notifications and the Server-Sent Events stream (API.md section 5).

Workers call ``ecg.notify.publish(job_id)`` (from ``ecg.jobs``) after every won state change and progress
write. With Redis configured that is one ``PUBLISH`` on a channel named after the job; without Redis it does
nothing and streams fall back to cheap polling of the job row. A notification carries no state: the stream
re-reads the job through the same selector and payload builder as the status endpoint, so the two can
never disagree (and the payload is localized and its download URL signed for the listening user).

``GET /api/jobs/{job_id}/events`` is an async Django view. Each process keeps one Redis connection
(a pattern subscription shared by all of its streams, see ``_Hub``); an open stream is an asyncio task
waiting on an ``asyncio.Event``, not a thread. Database reads run briefly on the event loop's shared
executor (``thread_sensitive=False``), and the per-request thread that Django's ASGI handler keeps for
thread-sensitive work is handed back once the response starts streaming (``ecg.handler.release_request_thread``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from rest_framework import exceptions as drf

from ecg.exceptions import ApplicationError, NotFoundError, default_message, error_response
from ecg.handler import release_request_thread
from ecg.http import shown_id
from ecg.jobs import TERMINAL, JobKind, job_kinds
from ecg.notify import channel_prefix, publish, redis_url  # noqa: F401  (publish: re-exported for callers)

logger = logging.getLogger(__name__)

# --- settings ---------------------------------------------------------------------------------------
def heartbeat_seconds() -> float:
    """Seconds between ``: ping`` comments; proxies close connections that stay silent for ~30-60 s."""
    return float(getattr(settings, "SSE_HEARTBEAT_SECONDS", 15.0))


def poll_seconds() -> float:
    """Seconds between re-reads of the job row when no Redis notifications are available."""
    return float(getattr(settings, "SSE_POLL_SECONDS", 1.0))


# --- subscribing (one Redis connection per process and event loop) ----------------------------------
@dataclass(eq=False)
class Subscription:
    """One stream's interest in one job: ``changed`` is set whenever a notification for it arrives."""

    job_id: str
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class _Hub:
    """A single pattern subscription fanning notifications out to this process's open streams.

    Per-stream subscriptions would cost one Redis connection per open stream; here it is one per process.
    While Redis is unreachable ``connected`` is False and streams poll; on reconnect every stream is woken
    to re-read, since notifications sent meanwhile were lost.
    """

    def __init__(self, url: str, prefix: str) -> None:
        self.url, self.prefix = url, prefix
        self.waiters: dict[str, set[Subscription]] = {}
        self.connected = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def subscribe(self, job_id: str, *, wait: float = 2.0) -> Subscription:
        subscription = Subscription(job_id)
        self.waiters.setdefault(job_id, set()).add(subscription)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ecg-job-events-hub")
        if not self.connected.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.connected.wait(), wait)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        group = self.waiters.get(subscription.job_id)
        if group is not None:
            group.discard(subscription)
            if not group:
                del self.waiters[subscription.job_id]
        if not self.waiters and self._task is not None:
            # Nobody listens in this process: drop the Redis connection until the next stream opens.
            self._task.cancel()
            self._task = None
            self.connected.clear()

    def listeners(self) -> int:
        return sum(len(group) for group in self.waiters.values())

    def _wake(self, job_id: str) -> None:
        for subscription in self.waiters.get(job_id, ()):
            subscription.changed.set()

    def _wake_all(self) -> None:
        for group in self.waiters.values():
            for subscription in group:
                subscription.changed.set()

    async def _run(self) -> None:
        import redis.asyncio as aioredis

        backoff = 0.5
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2, health_check_interval=30)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(self.prefix + "*")
                self.connected.set()
                backoff = 0.5
                self._wake_all()
                while True:
                    message = await pubsub.get_message(timeout=30.0)
                    if message is None or message.get("type") != "pmessage":
                        continue
                    channel = message["channel"]
                    channel = channel.decode() if isinstance(channel, bytes) else str(channel)
                    self._wake(channel[len(self.prefix):])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 (keep serving streams by polling, and reconnect)
                logger.warning("job events: Redis subscription lost (%s); streams poll meanwhile", exc)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Hub] = weakref.WeakKeyDictionary()


def hub() -> _Hub | None:
    """This event loop's hub, or None when Redis is not configured (streams then poll)."""
    url = redis_url()
    if not url:
        return None
    loop = asyncio.get_running_loop()
    current = _hubs.get(loop)
    if current is None or current.url != url or current.prefix != channel_prefix():
        current = _hubs[loop] = _Hub(url, channel_prefix())
    return current


# --- reading the job --------------------------------------------------------------------------------
@dataclass
class JobRef:
    """Which job a stream follows: its kind gives the owner lookup and the status payload."""

    kind: JobKind
    job_id: str
    user: Any


def _locate(user: Any, job_id: str) -> JobRef:
    """Find the caller's job among every registered kind; foreign and unknown ids look the same."""
    for kind in job_kinds():
        try:
            job = kind.owned_by(user=user, job_id=job_id)
        except ApplicationError:
            continue
        return JobRef(kind, str(job.pk), user)
    raise NotFoundError("JOB_NOT_FOUND", _("Job %(id)s was not found.") % {"id": shown_id(job_id)},
                        details={"id": shown_id(job_id)})


def read_payload(ref: JobRef) -> tuple[dict, bool]:
    """(status payload, terminal?) exactly as the job's status endpoint would answer now."""
    job = ref.kind.owned_by(user=ref.user, job_id=ref.job_id)
    return ref.kind.status_payload(job), job.status in TERMINAL


def _db_call(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn`` on the loop's shared executor and give its connection back afterwards.

    ``thread_sensitive=False``: a long-lived stream must not pin a thread of its own. Closing (or
    returning to the pool) per call follows ``CONN_MAX_AGE`` like Django's own request cycle does.
    """

    def call(*args: Any, **kwargs: Any) -> Any:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(call, thread_sensitive=False)


def _authenticate_and_locate(request: HttpRequest, job_id: str) -> JobRef:
    from accounts.authentication import CookieOrBearerJWTAuthentication

    result = CookieOrBearerJWTAuthentication().authenticate(request)
    if result is None:
        raise drf.NotAuthenticated()
    return _locate(result[0], job_id)


# --- the stream -------------------------------------------------------------------------------------
def _event(payload: dict) -> bytes:
    return b"data: " + json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


async def stream(ref: JobRef) -> AsyncIterator[bytes]:
    """Yield SSE frames for ``ref``: the current state, every change, pings, and the end."""
    release_request_thread()  # a stream must not park a thread (ecg.handler)
    read = _db_call(read_payload)
    events_hub = hub()
    subscription = await events_hub.subscribe(ref.job_id) if events_hub else None
    heartbeat = heartbeat_seconds()
    last: dict | None = None
    last_write = time.monotonic()
    logger.debug("job %s: event stream opened (%s)", ref.job_id, "push" if subscription else "poll")
    try:
        yield b"retry: 5000\n\n"
        while True:
            try:
                payload, terminal = await read(ref)
            except NotFoundError:  # deleted while we watched (its video was deleted)
                return
            except Exception as exc:  # noqa: BLE001 (a database blip must not end the stream)
                logger.warning("job %s: event stream read failed: %s", ref.job_id, exc)
                payload, terminal = last, False
            if payload is not None and payload != last:
                last, last_write = payload, time.monotonic()
                yield _event(payload)
            if terminal:
                yield b"event: end\ndata: {}\n\n"
                return
            pushed = subscription is not None and events_hub is not None and events_hub.connected.is_set()
            until_ping = max(0.0, heartbeat - (time.monotonic() - last_write))
            # With pushes we only wake for notifications (and re-read at each ping as a safety net).
            timeout = until_ping if pushed else min(poll_seconds(), until_ping)
            if subscription is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(subscription.changed.wait(), timeout)
                subscription.changed.clear()
            else:
                await asyncio.sleep(timeout)
            if time.monotonic() - last_write >= heartbeat:
                last_write = time.monotonic()
                yield b": ping\n\n"
    finally:
        if subscription is not None and events_hub is not None:
            events_hub.unsubscribe(subscription)
        logger.debug("job %s: event stream closed", ref.job_id)


@csrf_exempt  # read-only: any other method is answered 405 below, never a CSRF 403
@require_GET
async def job_events(request: HttpRequest, job_id: str) -> HttpResponse:
    """``GET /api/jobs/{job_id}/events``: SSE of the job's status payload until its terminal state."""
    try:
        ref = await _db_call(_authenticate_and_locate)(request, job_id)
    except ApplicationError as exc:
        return error_response(request, exc.code, exc.message, exc.status, exc.details)
    except drf.NotAuthenticated:
        return error_response(request, "AUTHENTICATION_REQUIRED", default_message("AUTHENTICATION_REQUIRED"), 401,
                              headers={"WWW-Authenticate": 'Bearer realm="api"'})
    except drf.AuthenticationFailed:
        return error_response(request, "INVALID_TOKEN", default_message("INVALID_TOKEN"), 401,
                              headers={"WWW-Authenticate": 'Bearer realm="api"'})
    except drf.PermissionDenied as exc:  # a cookie from a foreign origin
        return error_response(request, getattr(exc, "code_override", "PERMISSION_DENIED"), exc.detail, 403)
    response = StreamingHttpResponse(stream(ref), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through unbuffered
    return response
