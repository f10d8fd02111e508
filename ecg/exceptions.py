"""One error envelope for the whole API (API.md section 0).

Views raise ``ApplicationError`` (or let DRF raise its own exceptions); ``api_exception_handler`` turns
every error into the shape the editor reads. Three areas read errors differently:
- ``/api/auth/*``: request validation is 422 with ``detail`` as a FastAPI-style list;
- ``/api/render/*``: ``detail`` is an object ``{error, code, message, details}``;
- everything else: the flat ``{detail, error, message, details}``.
Messages are lazy translations, rendered under the request's active language (Korean by default).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """An expected failure with a stable machine code, a human message and an HTTP status."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(
        self,
        code: str | None = None,
        message: Any = None,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code = code or self.code
        self.message = message if message is not None else default_message(self.code)
        self.status = status or self.status
        self.details = details
        self.headers = headers or {}
        super().__init__(f"{self.code}: {self.message}")


class NotFoundError(ApplicationError):
    status = 404
    code = "NOT_FOUND"


class ConflictError(ApplicationError):
    status = 409
    code = "CONFLICT"


class ValidationFailed(ApplicationError):
    """Request validation failure with per-field messages (``details.fields``)."""

    status = 422
    code = "VALIDATION_ERROR"


_MESSAGES: dict[str, Any] = {
    "BAD_REQUEST": gettext_lazy("The request could not be processed."),
    "NOT_FOUND": gettext_lazy("Not found."),
    "METHOD_NOT_ALLOWED": gettext_lazy("This method is not allowed here."),
    "AUTHENTICATION_REQUIRED": gettext_lazy("Authentication is required."),
    "INVALID_TOKEN": gettext_lazy("The token is invalid or expired."),
    "PERMISSION_DENIED": gettext_lazy("You do not have permission to do this."),
    "ORIGIN_NOT_ALLOWED": gettext_lazy("This request's origin is not allowed."),
    "RATE_LIMITED": gettext_lazy("Too many requests. Please try again later."),
    "VALIDATION_ERROR": gettext_lazy("The request is invalid."),
    "INVALID_JSON": gettext_lazy("The request body is not valid JSON."),
    "UNSUPPORTED_MEDIA_TYPE": gettext_lazy("Unsupported content type."),
    "INTERNAL_ERROR": gettext_lazy("An internal error occurred. Please try again later."),
    "CONFLICT": gettext_lazy("The request conflicts with the current state."),
    "PAYLOAD_TOO_LARGE": gettext_lazy("The uploaded file is too large."),
}


def body_too_large_message() -> str:
    """The 413 message for a JSON body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, naming the limit."""
    from django.conf import settings

    return _("The request body is larger than the limit of %(mib)s MiB.") % {
        "mib": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20:g}"}


def default_message(code: str) -> Any:
    return _MESSAGES.get(code, _MESSAGES["BAD_REQUEST"])


def error_area(path: str) -> str:
    """Which error shape a path answers with: ``render``, ``auth`` or ``default`` (API.md section 0)."""
    if path.startswith("/api/render"):
        return "render"
    if path.startswith("/api/auth"):
        return "auth"
    return "default"


_RENDER_CODES = {
    400: "RENDER_INVALID_INPUT",
    401: "RENDER_AUTH_ERROR",
    403: "RENDER_FORBIDDEN",
    404: "RENDER_JOB_NOT_FOUND",
    422: "RENDER_INVALID_INPUT",
    429: "RENDER_RATE_LIMIT_EXCEEDED",
}


def error_body(path: str, code: str, message: Any, status: int, details: dict | None = None) -> dict:
    """Build the JSON body of an error for the API area that ``path`` belongs to."""
    message = str(message)
    if error_area(path) == "render":
        render_code = code if code.startswith("RENDER_") else _RENDER_CODES.get(status, "RENDER_FAILED")
        inner: dict[str, Any] = {"error": code, "code": render_code, "message": message,
                                 "details": details or {}}
        return {"detail": inner, "error": render_code, "code": render_code, "message": message}
    body: dict[str, Any] = {"detail": message, "error": code, "message": message}
    if details:
        body["details"] = details
    return body


def error_response(request, code: str, message: Any, status: int, details: dict | None = None,
                   headers: dict[str, str] | None = None) -> JsonResponse:
    """A plain Django JSON error response (for non-DRF views and middleware)."""
    path = getattr(request, "path", "") or ""
    response = JsonResponse(error_body(path, code, message, status, details), status=status,
                            json_dumps_params={"ensure_ascii": False})
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _flatten(detail: Any, prefix: tuple = ()) -> list[tuple[tuple, str, str]]:
    """Flatten DRF's nested ValidationError detail into (location, message, code) triples."""
    out: list[tuple[tuple, str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            loc = prefix if key == "non_field_errors" else (*prefix, key)
            out.extend(_flatten(value, loc))
    elif isinstance(detail, list):
        if all(isinstance(item, (str, drf.ErrorDetail)) for item in detail):
            for item in detail:
                out.append((prefix, str(item), getattr(item, "code", "invalid") or "invalid"))
        else:
            for index, item in enumerate(detail):
                out.extend(_flatten(item, (*prefix, index)))
    else:
        out.append((prefix, str(detail), getattr(detail, "code", "invalid") or "invalid"))
    return out


def _validation_response(path: str, detail: Any) -> Response:
    problems = _flatten(detail)
    area = error_area(path)
    if area == "auth":
        items = [{"loc": ["body", *[str(p) for p in loc]], "msg": msg, "message": msg, "type": code}
                 for loc, msg, code in problems]
        message = " ".join(item["msg"] for item in items) or str(default_message("VALIDATION_ERROR"))
        return Response({"detail": items, "error": "VALIDATION_ERROR", "message": message}, status=422)
    fields: dict[str, list[str]] = {}
    for loc, msg, _code in problems:
        fields.setdefault(".".join(str(p) for p in loc) or "non_field_errors", []).append(msg)
    if area == "render":
        render_problems = [{"path": ".".join(str(p) for p in loc), "message": msg, "code": code}
                           for loc, msg, code in problems]
        return Response(error_body(path, "RENDER_INVALID_INPUT", _("The render request is invalid."), 400,
                                   {"fields": fields, "problems": render_problems}), status=400)
    return Response(error_body(path, "VALIDATION_ERROR", default_message("VALIDATION_ERROR"), 422,
                               {"fields": fields}), status=422)


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF exception handler: every error leaves in the documented envelope."""
    request = context.get("request")
    path = getattr(request, "path", "") or ""
    headers: dict[str, str] = {}

    if isinstance(exc, ApplicationError):
        if isinstance(exc, ValidationFailed) and error_area(path) == "auth" and exc.details:
            return _validation_response(path, exc.details.get("fields", {}))
        response = Response(error_body(path, exc.code, exc.message, exc.status, exc.details), status=exc.status)
        for key, value in exc.headers.items():
            response[key] = value
        return response
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(path, "PAYLOAD_TOO_LARGE", body_too_large_message(), 413), status=413)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    if isinstance(exc, drf.ValidationError):
        return _validation_response(path, exc.detail)
    if isinstance(exc, drf.APIException):
        status = exc.status_code
        message: Any = exc.detail if isinstance(exc.detail, str) else exc.default_detail
        if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
            code = "AUTHENTICATION_REQUIRED" if isinstance(exc, drf.NotAuthenticated) else "INVALID_TOKEN"
            message = default_message(code)
            status = 401
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        elif isinstance(exc, drf.Throttled):
            code = "RATE_LIMITED"
            message = default_message(code)
            if exc.wait is not None:
                headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        elif isinstance(exc, drf.NotFound):
            code, message = "NOT_FOUND", default_message("NOT_FOUND")
        elif isinstance(exc, drf.MethodNotAllowed):
            code, message = "METHOD_NOT_ALLOWED", default_message("METHOD_NOT_ALLOWED")
        elif isinstance(exc, drf.PermissionDenied):
            code = getattr(exc, "code_override", None) or "PERMISSION_DENIED"
            message = exc.detail if code != "PERMISSION_DENIED" else default_message(code)
        elif isinstance(exc, drf.ParseError):
            code, message = "INVALID_JSON", default_message("INVALID_JSON")
        elif isinstance(exc, drf.UnsupportedMediaType):
            code, message = "UNSUPPORTED_MEDIA_TYPE", default_message("UNSUPPORTED_MEDIA_TYPE")
        else:
            code = str(getattr(exc, "default_code", "error")).upper()
        response = Response(error_body(path, code, message, status), status=status)
        for key, value in headers.items():
            response[key] = value
        return response

    logger.exception("Unhandled error on %s", path, exc_info=exc)
    return Response(error_body(path, "INTERNAL_ERROR", default_message("INTERNAL_ERROR"), 500), status=500)
