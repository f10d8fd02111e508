"""Request plumbing that every path shares: optional trailing slashes and JSON-only errors."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

from ecg.exceptions import default_message, error_response

logger = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "AUTHENTICATION_REQUIRED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    500: "INTERNAL_ERROR",
}
_HTML_PREFIXES = ("/admin", "/accounts", "/static")


class TrailingSlashMiddleware(MiddlewareMixin):
    """Accept ``/api/x/`` as ``/api/x`` without a redirect (a redirect would turn a POST into a GET)."""

    def process_request(self, request: HttpRequest) -> None:
        path = request.path_info
        if len(path) > 1 and path.endswith("/") and not path.startswith(_HTML_PREFIXES):
            request.path_info = path.rstrip("/") or "/"
            request.path = request.path[: len(request.path) - (len(path) - len(request.path_info))]
        return None


class JsonErrorMiddleware(MiddlewareMixin):
    """Turn any non-JSON error response (Django's 404/405/500 pages, CSRF failures) into the envelope.

    DRF views already answer in the envelope; this catches everything else so that no HTML or plain
    text error page ever reaches the editor. The admin keeps its HTML pages.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code < 400 or request.path.startswith(_HTML_PREFIXES):
            return response
        content_type = response.get("Content-Type", "")
        if "json" in content_type or "event-stream" in content_type:
            return response
        code = _STATUS_CODES.get(response.status_code, "INTERNAL_ERROR" if response.status_code >= 500
                                 else "BAD_REQUEST")
        new = error_response(request, code, default_message(code), response.status_code)
        for header in ("Allow", "Retry-After", "Access-Control-Allow-Origin",
                       "Access-Control-Allow-Credentials", "Vary"):
            if header in response:
                new[header] = response[header]
        return new
