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

4. Django reads a request's whole body into a temporary file before any middleware or view runs: a 300 MiB
   PUT to a bogus upload URL was written to disk before its 403, and a declared 3 GiB body held the request
   open. Apps register a body reader for the few paths that take large bodies (``register_body_reader``):
   it runs instead of Django's, can refuse before reading anything, and streams the body where it belongs.
   The view then answers (through all middleware: CORS, the error envelope) from what the reader left in
   ``request.scope``. The foundation only offers the hook; it imports no app.

Long-lived responses keep Django's own per-request context, whose thread the stream hands back once it is
streaming (``release_request_thread``, called by ``ops.events``): a reused thread must never be parked under
an open stream.

This is the one module that relies on private details of Django and asgiref: ``BaseHandler._middleware_chain``
(replaced in ``load_middleware``), ``SyncToAsync.thread_sensitive_context`` and
``SyncToAsync.context_to_thread_executor`` (``release_request_thread``). ``tests/test_handler_internals.py``
checks each of them against the installed versions and fails loudly on an upgrade that changes them;
``PRIVATE_API_VERSIONS`` says which versions they were written against. Extend request routing in
``ASGIHandler.__call__`` (e.g. to take a request body before Django buffers it).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler

logger = logging.getLogger(__name__)

STREAM_PATHS = re.compile(r"^(/api/jobs/[^/]+/events|/api/v1/chatbot)/?$")  # long-lived: Django's own context
LONG_RESPONSES = re.compile(r"^/api/files/")  # downloads: a slow client may take minutes
BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_IDLE_THREADS = 256  # kept for reuse; bursts beyond this get fresh threads that end with their request
PRIVATE_API_VERSIONS = {"django": "5.2", "asgiref": "3.9"}  # checked by tests/test_handler_internals.py
_holds_slot: contextvars.ContextVar[bool] = contextvars.ContextVar("ecg_holds_slot", default=False)
_scope: contextvars.ContextVar[dict | None] = contextvars.ContextVar("ecg_scope", default=None)

BodyReader = Callable[[dict, Callable[[], Awaitable[dict]]], Awaitable[IO[bytes]]]
_body_readers: list[tuple[re.Pattern, frozenset[str], BodyReader]] = []
CLEANUP_KEY = "ecg.body_cleanup"  # scope key: a callable run after the response (drops unclaimed files)
_BODY_READ = "ecg.body_read"  # scope key: the body reader has returned (Django's listener runs from now on)
BODY_UNREAD_KEY = "ecg.body_unread"  # scope key: true when a body reader stopped before the end of the body


def register_body_reader(path: str, methods: set[str], reader: BodyReader) -> None:
    """Read bodies of ``methods`` requests whose path matches the regex ``path`` with ``reader(scope, receive)``.

    The reader returns the body file Django's request gets (may be empty), may put its outcome in the scope
    for the view, sets ``scope[BODY_UNREAD_KEY]`` when it stops before the end of the body (the server then
    closes the connection after the answer), and raises ``RequestAborted`` on a client disconnect.
    """
    _body_readers.append((re.compile(path), frozenset(methods), reader))


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

    def route(self, scope):
        """Extension point: an ASGI app that serves this request instead of Django (for example an upload body
        streamed to storage before Django would buffer it), or None for the usual path below."""
        return None

    async def __call__(self, scope, receive, send) -> None:
        app = self.route(scope) if scope["type"] == "http" else None
        if app is not None:
            await app(scope, receive, send)
            return
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

    async def handle(self, scope, receive, send) -> None:
        async def receive_after_body():
            # A body reader that refused part-way leaves the rest unread: Django's disconnect listener must
            # not be handed body messages (it asserts), nor make the server read the rest from the client.
            if scope.get(BODY_UNREAD_KEY) and scope.get(_BODY_READ):
                await asyncio.Event().wait()  # until cancelled once the response is sent
            return await receive()

        token = _scope.set(scope)
        try:
            await super().handle(scope, receive_after_body, send)
        finally:
            _scope.reset(token)
            cleanup: Any = scope.pop(CLEANUP_KEY, None)
            if cleanup is not None:
                cleanup()

    async def read_body(self, receive):
        scope = _scope.get()
        if scope is not None:
            path, method = scope.get("path", ""), scope.get("method", "")
            for pattern, methods, reader in _body_readers:
                if method in methods and pattern.match(path):
                    try:
                        return await reader(scope, receive)
                    finally:
                        scope[_BODY_READ] = True
        return await super().read_body(receive)

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


def release_request_thread() -> None:
    """Hand back the thread Django's ASGI handler reserved for this request's thread-sensitive calls.

    Django runs each request inside an asgiref ``ThreadSensitiveContext`` whose single-thread executor
    lives until the response is finished: harmless for a normal request, one parked OS thread per open
    connection for a stream. Everything a stream does afterwards is thread-insensitive, so the executor
    is retired here; a later thread-sensitive call (closing the response) simply gets a fresh one, which
    the context shuts down as usual. Best effort at run time (streams keep working if asgiref changes);
    the internals test is what fails loudly.
    """
    try:
        context = SyncToAsync.thread_sensitive_context.get(None)
        executor = SyncToAsync.context_to_thread_executor.pop(context, None) if context is not None else None
        if executor is not None:
            executor.shutdown(wait=False)
    except Exception:  # noqa: BLE001
        logger.debug("could not release the request thread", exc_info=True)
