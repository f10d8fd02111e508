"""Small HTTP facts shared by views and services: the client's IP and allowed origins."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


def client_ip(request) -> str:
    """The client address every throttle, login limit and log line uses.

    With no trusted proxies (``ECG_TRUSTED_PROXY_COUNT=0``, the default) it is the socket peer, full stop:
    ``X-Forwarded-For`` is written by the client and proves nothing. Behind N trusted proxies each of them
    appended the address it saw, so the client is the Nth entry from the right; anything further left was
    written by the client. A header with fewer than N entries did not pass through all of our proxies, so
    the peer address is used. (DRF's own ``NUM_PROXIES=None`` would read the client-written left end.)
    """
    peer = request.META.get("REMOTE_ADDR", "") or ""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return peer
    return forwarded[-proxies]


class ClientIpAnonThrottle(AnonRateThrottle):
    """DRF's anonymous throttle keyed by :func:`client_ip`."""

    def get_ident(self, request) -> str:
        return client_ip(request)


class ClientIpUserThrottle(UserRateThrottle):
    """DRF's per-user throttle; anonymous callers are keyed by :func:`client_ip`."""

    def get_ident(self, request) -> str:
        return client_ip(request)


_MAX_BIGINT = 2**63 - 1


def parse_id(value) -> int | None:
    """A database id from a URL: ASCII digits within the 64-bit range, else ``None`` (a 404, never a 500).

    ``str.isdigit`` is not enough: ``"²".isdigit()`` and ``"١".isdigit()`` are true, and ``int("²")`` raises.
    """
    text = str(value)
    if not (text.isascii() and text.isdecimal()) or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= _MAX_BIGINT else None


def shown_id(value, limit: int = 64) -> str:
    """An id as it may be quoted back in an error message: printable and bounded."""
    text = "".join(ch for ch in str(value) if ch.isprintable())
    return text if len(text) <= limit else text[:limit] + "…"


def allowed_origins() -> set[str]:
    return {o.rstrip("/") for o in [*settings.FRONTEND_ORIGINS, settings.PUBLIC_BASE_URL]}


def request_origin(request) -> str | None:
    """The Origin header, or the origin part of Referer when a browser left Origin out."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin and origin != "null":
        return origin.rstrip("/")
    referer = request.META.get("HTTP_REFERER")
    if referer:
        parts = urlsplit(referer)
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return None


def origin_is_allowed(request) -> bool:
    return request_origin(request) in allowed_origins()
