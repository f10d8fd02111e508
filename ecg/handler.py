"""Django's ASGI handler, made cheaper per request for an app whose middleware and API views are sync.

Measured on the status endpoints (bench/api.py, docs/PERFORMANCE.md "API load"), Django's stock handler
spends more CPU on moving each request between the event loop and threads than on the view itself:

1. In async mode every ``MiddlewareMixin`` middleware hops to a thread for its ``process_request`` and again
   for its ``process_response`` (about 16 hops for our middleware list), and the sync view hops once more.
   Here the middleware chain is built in sync mode and entered with a single hop; async views (the SSE
   stream, ``/health``) are still awaited on the event loop (Django runs them with ``async_to_sync``).
2. Every request gets a fresh single-thread executor (a new OS thread, joined by yet another new thread at
   the end). Here idle executors are reused, like the threads of a threaded WSGI server; each request still
   runs all its sync code on one thread, one call at a time (asgiref's thread-sensitive contract).
3. At most ``ASGI_THREADS`` requests per process run their sync code at once; the others wait on the event
   loop (not in a thread). A hundred threads contending for one GIL cost about a third more CPU per request
   than a few at a time, and no request finishes sooner for it. Bodyless requests with short responses (the
   polled GETs) take their slot for the whole request, so a process keeps about ``ASGI_THREADS`` threads
   however many clients poll it; requests with a body take it only around the middleware and view, so a
   slow upload never holds one, and file downloads and streams are not limited at all.

Long-lived responses keep Django's own per-request context, whose thread the stream hands back once it is
streaming (``ops.events``): a reused thread must never be parked under an open stream.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler

logger = logging.getLogger(__name__)

STREAM_PATHS = re.compile(r"^/api/jobs/[^/]+/events/?$")
LONG_RESPONSES = re.compile(r"^/api/files/")  # downloads: a slow client may take minutes
BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_IDLE_THREADS = 256  # kept for reuse; bursts beyond this get fresh threads that end with their request
_holds_slot: contextvars.ContextVar[bool] = contextvars.ContextVar("ecg_holds_slot", default=False)


def _executor_contexts_supported() -> bool:
    """``ThreadSensitiveContext(executor=...)`` exists from asgiref 3.9 on."""
    try:
        ThreadSensitiveContext(executor=None)
    except TypeError:
        return False
    return True


class ASGIHandler(DjangoASGIHandler):
    """See the module docstring; behaves exactly like Django's handler otherwise."""

    def __init__(self) -> None:
        self._idle: list[ThreadPoolExecutor] = []
        self._reuse_threads = _executor_contexts_supported()
        self._slots: asyncio.Semaphore | None = None
        super().__init__()

    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:  # created in the serving event loop
            self._slots = asyncio.Semaphore(max(1, int(getattr(settings, "ASGI_THREADS", 16))))
        return self._slots

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        chain = sync_to_async(self._middleware_chain, thread_sensitive=True)

        async def limited_chain(request):
            if _holds_slot.get():  # a bodyless request took its slot for the whole request already
                return await chain(request)
            async with self.slots():
                return await chain(request)

        self._middleware_chain = limited_chain

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self._reuse_threads or STREAM_PATHS.match(path):
            await super().__call__(scope, receive, send)
            return
        if scope.get("method") in BODYLESS and not LONG_RESPONSES.match(path):
            async with self.slots():
                token = _holds_slot.set(True)
                try:
                    await self._handle_on_reused_thread(scope, receive, send)
                finally:
                    _holds_slot.reset(token)
        else:
            await self._handle_on_reused_thread(scope, receive, send)

    async def _handle_on_reused_thread(self, scope, receive, send) -> None:
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(max_workers=1,
                                                                            thread_name_prefix="request")
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            if len(self._idle) < MAX_IDLE_THREADS:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)
