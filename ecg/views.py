"""Project-level views: JSON 404/500 handlers for paths outside DRF."""

from __future__ import annotations

from ecg.exceptions import default_message, error_response


def not_found(request, exception=None):
    return error_response(request, "NOT_FOUND", default_message("NOT_FOUND"), 404)


def server_error(request):
    return error_response(request, "INTERNAL_ERROR", default_message("INTERNAL_ERROR"), 500)


def csrf_failure(request, reason=""):
    return error_response(request, "ORIGIN_NOT_ALLOWED", default_message("ORIGIN_NOT_ALLOWED"), 403)
