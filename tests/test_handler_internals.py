"""The private Django/asgiref details ``ecg.handler`` relies on, checked against the installed versions.

If one of these fails after an upgrade, ``ecg/handler.py`` (the only module that uses them) must be adapted
or its optimisation dropped (stock ``django.core.handlers.asgi.ASGIHandler`` works, at a higher CPU cost per
request: docs/PERFORMANCE.md "API load"). Streams and requests would otherwise silently lose the savings or
park one thread per open stream.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading

import asgiref
import django
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.core.handlers.base import BaseHandler

from ecg import handler


def test_written_against_these_versions():
    assert django.get_version().startswith(handler.PRIVATE_API_VERSIONS["django"]), (
        "Django changed: re-check ecg/handler.py's use of BaseHandler._middleware_chain, then update "
        "PRIVATE_API_VERSIONS")
    major, minor = (int(part) for part in asgiref.__version__.split(".")[:2])
    want = tuple(int(part) for part in handler.PRIVATE_API_VERSIONS["asgiref"].split("."))
    assert (major, minor) >= want and major == want[0], "asgiref changed: re-check ecg/handler.py"


def test_django_builds_a_middleware_chain_attribute_we_can_wrap():
    base = BaseHandler()
    base.load_middleware(is_async=False)
    assert callable(base._middleware_chain)
    ours = handler.ASGIHandler()
    assert inspect.iscoroutinefunction(ours._middleware_chain)  # our one-hop, slot-limited chain
    assert "load_middleware" in vars(handler.ASGIHandler)
    assert inspect.iscoroutinefunction(DjangoASGIHandler.handle)


def test_thread_sensitive_contexts_take_an_executor():
    assert handler._executor_contexts_supported()
    assert isinstance(SyncToAsync.thread_sensitive_context, contextvars.ContextVar)
    assert hasattr(SyncToAsync.context_to_thread_executor, "pop")


def test_release_request_thread_retires_the_requests_executor():
    async def main() -> tuple[threading.Thread, threading.Thread, bool]:
        async with ThreadSensitiveContext():
            first = await sync_to_async(threading.current_thread, thread_sensitive=True)()
            context = SyncToAsync.thread_sensitive_context.get()
            held = context in SyncToAsync.context_to_thread_executor
            handler.release_request_thread()
            released = context not in SyncToAsync.context_to_thread_executor
            second = await sync_to_async(threading.current_thread, thread_sensitive=True)()
            return first, second, held and released

    first, second, released = asyncio.run(main())
    assert released, "asgiref no longer keeps the per-context executor where release_request_thread looks"
    assert first is not second  # the parked thread was handed back; a later call got a fresh executor


def test_route_lets_an_asgi_app_take_a_request_before_django():
    """``ASGIHandler.route`` is where a request can bypass Django (e.g. a streamed upload); None means Django."""
    sent: list[dict] = []

    async def plain(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    class Routed(handler.ASGIHandler):
        def route(self, scope):
            return plain if scope["path"] == "/intercepted" else None

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/intercepted", "method": "PUT", "headers": [], "query_string": b""}
    asyncio.run(Routed()(scope, receive, send))
    assert sent[0] == {"type": "http.response.start", "status": 204, "headers": []}
    assert handler.ASGIHandler().route(scope) is None
