"""What every provider returns, how it fails, and the retry policy shared by the HTTP providers."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

logger = logging.getLogger(__name__)

# Statuses worth another try: rate limited, overloaded, or a gateway in between that gave up.
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
MAX_RETRY_AFTER = 20.0


@dataclass
class ModelOutput:
    """The structured answer (``reply`` + ``patches``) and what the provider said about the call."""

    data: dict[str, Any]
    stop_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    model: str = ""


class ProviderError(Exception):
    """A provider call failed; ``transient`` says whether trying again could help."""

    def __init__(self, code: str, message: str, *, transient: bool = False, status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.transient = transient
        self.status = status
        self.retry_after = retry_after


def parse_json_object(text: Any) -> dict[str, Any]:
    """The structured answer as a dict; a model that broke its schema is a (non-transient) error."""
    if isinstance(text, dict):
        return text
    if not isinstance(text, str):
        raise ProviderError("ASSISTANT_BAD_MODEL_OUTPUT", "the model returned no content")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProviderError("ASSISTANT_BAD_MODEL_OUTPUT", f"the model's answer is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ProviderError("ASSISTANT_BAD_MODEL_OUTPUT", "the model's answer is not a JSON object")
    return data


def salvage_truncated(text: str) -> dict[str, Any] | None:
    """The complete part of a JSON answer cut off at the token limit: ``{"reply": ..., "patches": [a, b, <cut``
    becomes the object with the operations that were complete. None when nothing whole can be recovered."""
    end = len(text)
    for _ in range(200):
        end = text.rfind("}", 0, end)
        if end < 0:
            return None
        for closing in ("]}", "}"):
            try:
                data = json.loads(text[: end + 1] + closing)
            except ValueError:
                continue
            if isinstance(data, dict) and isinstance(data.get("patches", []), list):
                return data
    return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return min(MAX_RETRY_AFTER, max(0.0, parsed.timestamp() - time.time())) if parsed else None


def error_from_response(response: httpx.Response, provider: str) -> ProviderError:
    try:
        body = response.json()
        detail = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(detail, dict):
            detail = detail.get("message") or detail.get("type") or detail
    except ValueError:
        detail = response.text[:200]
    transient = response.status_code in TRANSIENT_STATUSES
    return ProviderError("ASSISTANT_PROVIDER_ERROR", f"{provider} answered {response.status_code}: {detail}",
                         transient=transient, status=response.status_code, retry_after=_retry_after(response))


async def with_retries(call: Callable[[], Awaitable[ModelOutput]], *, retries: int, deadline: float,
                       backoff: float = 0.5, label: str = "") -> ModelOutput:
    """Run ``call``; on a transient failure try again (exponential backoff with jitter, or the server's
    Retry-After) while attempts and the deadline (``time.monotonic()`` value) allow."""
    attempt = 0
    while True:
        try:
            return await call()
        except ProviderError as exc:
            error = exc
        except httpx.TimeoutException as exc:
            error = ProviderError("ASSISTANT_TIMEOUT", f"{label} timed out ({type(exc).__name__})", transient=True)
        except httpx.TransportError as exc:
            error = ProviderError("ASSISTANT_PROVIDER_UNREACHABLE", f"{label} unreachable: {exc}", transient=True)
        if not error.transient or attempt >= retries:
            raise error
        delay = error.retry_after if error.retry_after is not None else backoff * (2**attempt)
        delay *= 1 + random.random() * 0.25
        if time.monotonic() + delay >= deadline:
            raise error
        attempt += 1
        logger.warning("assistant: %s failed (%s), retry %d in %.1fs", label, error.code, attempt, delay)
        await asyncio.sleep(delay)


async def post_with_retries(url: str, body: dict[str, Any], headers: dict[str, str], *,
                            parse: Callable[[Any], ModelOutput], provider: str, label: str, http_timeout: float,
                            retries: int, deadline: float,
                            transport: httpx.AsyncBaseTransport | None = None) -> ModelOutput:
    """POST ``body`` as JSON and ``parse`` the answer, each attempt bounded by ``http_timeout`` and what is left
    of the turn's ``deadline``; transient failures are retried (``with_retries``). Shared by the HTTP providers."""

    async def call() -> ModelOutput:
        timeout = max(0.1, min(http_timeout, deadline - time.monotonic()))
        async with httpx.AsyncClient(timeout=timeout, transport=transport) as client:
            response = await client.post(url, json=body, headers=headers)
        if response.status_code >= 400:
            raise error_from_response(response, provider)
        return parse(response.json())

    return await with_retries(call, retries=retries, deadline=deadline, label=label)
