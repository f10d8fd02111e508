"""Small HTTP facts shared by views and services: the client's IP and allowed origins."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from rest_framework.throttling import BaseThrottle


def client_ip(request) -> str:
    """The client address: the socket peer unless ``ECG_TRUSTED_PROXY_COUNT`` proxies are trusted.

    Delegates to DRF's throttle identity so rate limits and login throttles agree on who a client is.
    """
    return BaseThrottle().get_ident(request)


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
