"""``POST /api/v1/chatbot``: the editor's caption assistant (an async view; docs/ASSISTANT.md).

Async because a turn can wait seconds for a model. The project's ASGI handler runs the middleware chain
on a request thread (ecg/handler.py), so a view that simply awaited the model would park that thread and
a handler slot for the whole turn; instead the checks run first (their errors keep their HTTP statuses) and
the answer is a streamed JSON body: the wait happens on the event loop with no thread, and a failure of
the model after that point arrives as the error envelope (with ``status``) in a 200 body.
Authentication, the Origin rule for cookie auth and the rate limits are the project's own DRF classes, run
once up front; errors leave in the one envelope (ecg.exceptions).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.authentication import CookieOrBearerJWTAuthentication
from assistant import config as assistant_config
from assistant import services
from ecg.exceptions import (
    ApplicationError,
    ValidationFailed,
    api_exception_handler,
    default_message,
    error_body,
    error_response,
)
from ecg.handler import release_request_thread
from ecg.http import ClientIpUserThrottle, client_ip

logger = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 4000
MAX_HISTORY_ITEMS = 50


class _CurrentRates:
    """Read the rate from the current settings (DRF binds the rates table once, at import)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AssistantUserThrottle(_CurrentRates, ClientIpUserThrottle):
    scope = "assistant_user"


class AssistantUserDayThrottle(_CurrentRates, ClientIpUserThrottle):
    scope = "assistant_user_day"


class AssistantIPThrottle(_CurrentRates, SimpleRateThrottle):
    """Per client address whoever is signed in: many accounts behind one address share a limit."""

    scope = "assistant_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


THROTTLES = (AssistantIPThrottle, AssistantUserThrottle, AssistantUserDayThrottle)


def _gate(request: HttpRequest) -> Any:
    """Authenticate (Bearer, or the cookie from an allowed Origin) and count the request against the limits."""
    drf_request = Request(request, parsers=[JSONParser()], authenticators=[CookieOrBearerJWTAuthentication()])
    user = drf_request.user
    if not (user and user.is_authenticated):
        raise drf.NotAuthenticated()
    waits = [t.wait() for t in (cls() for cls in THROTTLES) if not t.allow_request(drf_request, None)]
    if waits:
        raise drf.Throttled(wait=max((w for w in waits if w is not None), default=None))
    return user


def _drf_error(request: HttpRequest, exc: Exception) -> JsonResponse:
    response = api_exception_handler(exc, {"request": request})
    out = JsonResponse(response.data, status=response.status_code, json_dumps_params={"ensure_ascii": False})
    for key, value in response.items():
        if key.lower() != "content-type":
            out[key] = value
    return out


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApplicationError("INVALID_JSON", status=400) from exc
    if not isinstance(data, dict):
        raise ValidationFailed(details={"fields": {"non_field_errors": ["The body must be a JSON object."]}})
    fields: dict[str, list[str]] = {}
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        fields["prompt"] = ["A non-empty string is required."]
    elif len(prompt) > MAX_PROMPT_CHARS:
        fields["prompt"] = [f"At most {MAX_PROMPT_CHARS} characters."]
    history = data.get("conversation_history")
    if history is None:
        history = []
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        fields["conversation_history"] = ["A list of messages is expected."]
    scenario = data.get("scenario_data")
    if scenario is not None and not isinstance(scenario, dict):
        fields["scenario_data"] = ["A MotionText scenario object is expected."]
    if fields:
        raise ValidationFailed(details={"fields": fields})
    return {"prompt": prompt.strip(), "history": history[-MAX_HISTORY_ITEMS:], "scenario": scenario}


KEEPALIVE_SECONDS = 10.0


async def _answer_stream(request: HttpRequest, data: dict[str, Any], user_id: Any) -> AsyncIterator[bytes]:
    """The answer as a streamed JSON body: blank padding every few seconds while the model works (JSON may
    start with whitespace; it keeps proxies from closing an idle connection), then the one JSON object."""
    release_request_thread()  # the answer streams while the model works: no parked thread (ecg.handler)
    task = asyncio.ensure_future(services.chat(prompt=data["prompt"], history=data["history"],
                                               scenario=data["scenario"], user_id=user_id))
    try:
        while not task.done():
            done, _ = await asyncio.wait({task}, timeout=KEEPALIVE_SECONDS)
            if not done:
                yield b" "
        try:
            body = task.result()
        except ApplicationError as exc:
            body = error_body(request.path, exc.code, exc.message, exc.status, exc.details)
            body["status"] = exc.status
        except Exception:
            logger.exception("assistant: chat turn failed for user %s", user_id)
            body = error_body(request.path, "INTERNAL_ERROR", default_message("INTERNAL_ERROR"), 500)
            body["status"] = 500
        yield json.dumps(body, ensure_ascii=False).encode()
    finally:
        if not task.done():  # the client went away: stop waiting for the model
            task.cancel()


@csrf_exempt
async def chatbot(request: HttpRequest) -> HttpResponseBase:
    if request.method != "POST":
        response = error_response(request, "METHOD_NOT_ALLOWED", default_message("METHOD_NOT_ALLOWED"), 405)
        response["Allow"] = "POST, OPTIONS"
        return response
    try:
        user = await sync_to_async(_gate)(request)
    except drf.APIException as exc:
        return _drf_error(request, exc)
    cfg = assistant_config.load()
    limit = cfg.max_body_bytes
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    raw = request.read(limit + 1) if declared <= limit else b""
    if declared > limit or len(raw) > limit:
        return error_response(request, "ASSISTANT_PAYLOAD_TOO_LARGE",
                              f"The request is larger than {limit // 1024} KiB; select fewer clips and try again.",
                              413, {"max_bytes": limit})
    try:
        data = _parse(raw)
        if cfg.provider == "none":  # answered at once: nothing to wait for
            body = await services.chat(prompt=data["prompt"], history=data["history"], scenario=data["scenario"],
                                       user_id=user.pk)
            return JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    except ApplicationError as exc:
        return error_response(request, exc.code, exc.message, exc.status, exc.details, exc.headers)
    # A model is asked: stream the answer so that no request thread (and no handler slot) waits with it.
    response = StreamingHttpResponse(_answer_stream(request, data, user.pk),
                                     content_type="application/json; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response
