"""``POST /api/v1/chatbot``: the editor's caption assistant (an async view; docs/ASSISTANT.md).

Async because a turn can wait seconds for a model: the request waits on the network or on the worker's
answer without holding a thread. Authentication, the Origin rule for cookie auth and the rate limits are
the project's own DRF classes, run once up front; errors leave in the one envelope (ecg.exceptions).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from accounts.authentication import CookieOrBearerJWTAuthentication
from assistant import config as assistant_config
from assistant import services
from ecg.exceptions import (
    ApplicationError,
    ValidationFailed,
    api_exception_handler,
    default_message,
    error_response,
)

logger = logging.getLogger(__name__)

MAX_PROMPT_CHARS = 4000
MAX_HISTORY_ITEMS = 50


class _CurrentRates:
    """Read the rate from the current settings (DRF binds the rates table once, at import)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AssistantUserThrottle(_CurrentRates, UserRateThrottle):
    scope = "assistant_user"


class AssistantUserDayThrottle(_CurrentRates, UserRateThrottle):
    scope = "assistant_user_day"


class AssistantIPThrottle(_CurrentRates, SimpleRateThrottle):
    """Per client address whoever is signed in: many accounts behind one address share a limit."""

    scope = "assistant_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


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


@csrf_exempt
async def chatbot(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        response = error_response(request, "METHOD_NOT_ALLOWED", default_message("METHOD_NOT_ALLOWED"), 405)
        response["Allow"] = "POST, OPTIONS"
        return response
    try:
        user = await sync_to_async(_gate)(request)
    except drf.APIException as exc:
        return _drf_error(request, exc)
    limit = assistant_config.load().max_body_bytes
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
        body = await services.chat(prompt=data["prompt"], history=data["history"], scenario=data["scenario"],
                                   user_id=user.pk)
    except ApplicationError as exc:
        return error_response(request, exc.code, exc.message, exc.status, exc.details, exc.headers)
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})
