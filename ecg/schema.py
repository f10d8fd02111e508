"""The OpenAPI 3 description of the API (drf-spectacular), served at ``/api/schema`` and ``/api/docs``.

Three pieces complete what drf-spectacular infers from the DRF views:
- ``AutoSchema`` documents the error responses every operation can give, in the envelope of its area
  (API.md section 0: flat, auth validation list, render object), so clients and the fuzzer see them;
- ``accounts.schema.CookieOrBearerScheme`` (with the authentication it describes) documents the Bearer header
  *or* ``access_token`` cookie;
- ``add_plain_django_paths`` adds the endpoints that are plain Django views (Google redirects, the signed
  upload PUT and download, the SSE stream, health probes, the schema itself).
Everything here is description only: no view changes behaviour because of this module.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from rest_framework import permissions, serializers

from ecg.exceptions import error_area


# --- error envelopes (schema only) ------------------------------------------------------------------
class ErrorSerializer(serializers.Serializer):
    """The flat envelope: every non-2xx outside ``/api/render`` (and non-validation errors in auth)."""

    detail = serializers.CharField(help_text="Human message (localized; Korean unless Accept-Language: en).")
    error = serializers.CharField(help_text="Stable machine code, e.g. JOB_NOT_FOUND, VALIDATION_ERROR.")
    message = serializers.CharField(help_text="Same human message as detail.")
    details = serializers.DictField(required=False, help_text="Optional context; validation: details.fields.")


class AuthValidationItemSerializer(serializers.Serializer):
    loc = serializers.ListField(child=serializers.CharField(), help_text='e.g. ["body", "email"]')
    msg = serializers.CharField()
    message = serializers.CharField()
    type = serializers.CharField()


class AuthValidationErrorSerializer(serializers.Serializer):
    """``/api/auth/*`` request validation (422): ``detail`` is a FastAPI-style list."""

    detail = AuthValidationItemSerializer(many=True)
    error = serializers.ChoiceField(choices=["VALIDATION_ERROR"])
    message = serializers.CharField(help_text="All messages joined.")


class RenderErrorDetailSerializer(serializers.Serializer):
    error = serializers.CharField()
    code = serializers.CharField(help_text="RENDER_* code, e.g. RENDER_INVALID_INPUT, RENDER_JOB_NOT_FOUND.")
    message = serializers.CharField()
    details = serializers.DictField(help_text="Quota errors: quota_type, used, limit, resets_at; "
                                              "validation: fields and problems.")


class RenderErrorSerializer(serializers.Serializer):
    """``/api/render/*`` errors: ``detail`` is an object; ``error``/``code``/``message`` repeated beside it."""

    detail = RenderErrorDetailSerializer()
    error = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()




def error_schema(path: str, status: int) -> type[serializers.Serializer]:
    area = error_area(path)
    if area == "render":
        return RenderErrorSerializer
    if area == "auth" and status == 422:
        return AuthValidationErrorSerializer
    return ErrorSerializer


_DESCRIPTIONS = {
    "400": "Malformed request (invalid JSON, or render input problems)",
    "401": "Not authenticated, or the token is invalid or expired",
    "403": "Forbidden (cookie-authenticated write from a foreign Origin, inactive account, quota)",
    "404": "Not found (a foreign id answers exactly like an unknown one)",
    "409": "Conflicts with the current state",
    "413": "Payload too large",
    "415": "Unsupported Content-Type",
    "422": "Request validation failed",
    "429": "Rate limited (see Retry-After)",
    "503": "Not ready",
}


# --- operations -------------------------------------------------------------------------------------
class AutoSchema(BaseAutoSchema):
    """drf-spectacular's schema plus the error responses each operation can produce."""

    def _error_statuses(self) -> set[int]:
        view = self.view
        method = self.method.upper()
        area = error_area(self.path)
        statuses: set[int] = set()
        perms = [p.__class__ for p in view.get_permissions()]
        needs_auth = permissions.AllowAny not in perms
        if needs_auth:
            statuses.add(401)
            if method not in permissions.SAFE_METHODS:
                statuses.add(403)  # cookie credentials from an origin outside the allow-list
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            statuses.add(404)  # an unknown or foreign id, or a page past the end
        if method in ("POST", "PUT", "PATCH"):
            statuses |= {400, 415}  # unparsable JSON, a non-JSON body
            statuses.add(400 if area == "render" else 422)
        if getattr(view, "throttle_classes", None):
            statuses.add(429)
        return statuses

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in sorted(self._error_statuses()):
            code = str(status)
            if code not in responses:
                response = self._get_response_for_code(error_schema(self.path, status), code)
                response["description"] = _DESCRIPTIONS.get(code, "Error")
                responses[code] = response
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer"}, "description": "Seconds to wait"}
        return dict(sorted(responses.items()))


# --- plain Django views -----------------------------------------------------------------------------
def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(status: int, description: str | None = None) -> dict:
    return _json(_ref("Error"), description or _DESCRIPTIONS.get(str(status), "Error"))


def _path_param(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


_AUTH = [{"bearerAuth": []}, {"cookieAuth": []}]
_REDIRECT = {"description": "Redirect", "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}}}


def _chatbot_request() -> dict:
    message = {"type": "object", "properties": {
        "id": {"type": "string"}, "content": {"type": "string"}, "sender": {"type": "string", "enum": ["user", "bot"]},
        "timestamp": {"type": "string"}}}
    return {"type": "object", "required": ["prompt"], "properties": {
        "prompt": {"type": "string", "minLength": 1, "maxLength": 4000, "pattern": r"\S"},
        "conversation_history": {"type": "array", "items": message},
        "scenario_data": {"type": "object", "description": "MotionText 2.0 scenario (may be compressed to the "
                                                           "selected cues)"},
        "use_langchain": {"type": "boolean", "description": "Accepted and ignored"}}}


def _chatbot_response() -> dict:
    patch = {"type": "object", "required": ["op", "path"], "properties": {
        "op": {"type": "string", "enum": ["add", "replace", "remove"]}, "path": {"type": "string"}, "value": {}}}
    return {"type": "object", "required": ["completion", "has_scenario_edits", "json_patches", "edit_result",
                                           "stop_reason", "usage", "processing_time_ms"], "properties": {
        "completion": {"type": "string"},
        "has_scenario_edits": {"type": "boolean"},
        "json_patches": {"type": "array", "items": patch},
        "edit_result": {"type": "object", "required": ["success", "explanation"], "properties": {
            "success": {"type": "boolean"}, "explanation": {"type": "string"},
            "applied": {"type": "integer"}, "repaired": {"type": "integer"},
            "rejected": {"type": "array", "items": {"type": "object", "properties": {
                "op": {"type": "string", "nullable": True}, "path": {"type": "string", "nullable": True},
                "reason": {"type": "string"}}}}}},
        "stop_reason": {"type": "string", "nullable": True},
        "usage": {"type": "object"},
        "processing_time_ms": {"type": "integer"},
        "model": {"type": "string"},
        "code": {"type": "string", "enum": ["ASSISTANT_NOT_CONFIGURED"],
                 "description": "Only when no model is configured"}}}


def _plain_paths() -> dict[str, dict]:
    ready_checks = {"type": "object", "additionalProperties": {
        "type": "object", "required": ["status", "ms"],
        "properties": {"status": {"type": "string", "enum": ["ok", "down"]}, "backend": {"type": "string"},
                       "error": {"type": "string", "description": "Exception class of the failure"},
                       "ms": {"type": "number"}}}}
    return {
        "/api/auth/google/login": {"get": {
            "operationId": "auth_google_login", "tags": ["auth"], "security": [{}],
            "summary": "Start Google login: redirect to Google's consent page (state + PKCE in a signed cookie)",
            "responses": {"302": _REDIRECT}}},
        "/api/auth/google/callback": {"get": {
            "operationId": "auth_google_callback", "tags": ["auth"], "security": [{}],
            "summary": "Google's redirect back: sets the JWT cookies and redirects to "
                       "{FRONTEND_URL}/auth/callback?success=true, or ?error=<message>",
            "parameters": [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
                           for name in ("code", "state", "error")],
            "responses": {"302": _REDIRECT}}},
        "/api/upload-video/upload/{token}": {"put": {
            "operationId": "upload_video_upload_put", "tags": ["upload-video"], "security": [{}],
            "summary": "Signed local upload target (the URL is the credential; no auth header)",
            "parameters": [_path_param("token", "Signed, expiring upload token from generate-url")],
            "requestBody": {"required": True, "description": "The raw file, with the Content-Type the URL was "
                                                             "issued for",
                            "content": {"video/*": {"schema": {"type": "string", "format": "binary"}},
                                        "audio/*": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {
                "200": _json({"type": "object", "required": ["success", "file_key", "fileKey", "size", "status"],
                              "properties": {"success": {"type": "boolean"}, "file_key": {"type": "string"},
                                             "fileKey": {"type": "string"}, "size": {"type": "integer"},
                                             "status": {"type": "string"}}}, "Stored"),
                "400": _error(400, "Content-Type differs from the one the URL was signed for"),
                "403": _error(403, "The upload URL is invalid or has expired"),
                "405": _error(405, "Method not allowed"),
                "413": _error(413)}}},
        "/plugins/{plugin_key}/{path}": {"get": {
            "operationId": "plugin_origin_file", "tags": ["assets"], "security": [{}],
            "summary": "Plugin origin: a published animation's manifest.json, entry module (text/javascript) or "
                       "asset; CORS for the frontend origins, immutable caching per version",
            "parameters": [_path_param("plugin_key", "name@version (may be URL-encoded)"),
                           _path_param("path", "A file of the plugin's folder, e.g. index.mjs")],
            "responses": {
                "200": {"description": "The file", "content": {"*/*": {"schema": {"type": "string",
                                                                                 "format": "binary"}}}},
                "304": {"description": "Not modified (If-None-Match)"},
                "404": _error(404, "Unknown, unpublished, or not a file of that plugin")}}},
        "/api/files/{token}": {"get": {
            "operationId": "files_download", "tags": ["files"], "security": [{}],
            "summary": "Signed, expiring local download (an attachment named after the source video)",
            "parameters": [_path_param("token", "Signed download token from a downloadUrl")],
            "responses": {
                "200": {"description": "The file", "content": {"application/octet-stream": {
                    "schema": {"type": "string", "format": "binary"}}}},
                "403": _error(403, "The download link is invalid or has expired"),
                "404": _error(404)}}},
        "/api/jobs/{job_id}/events": {"get": {
            "operationId": "jobs_events", "tags": ["jobs"], "security": _AUTH,
            "summary": "Server-Sent Events: the job's status payload on every change, until its terminal state",
            "description": "Works for transcription and render job ids. Each `data:` line holds the same JSON as "
                           "the job's status endpoint (`/api/upload-video/status/{job_id}` or "
                           "`/api/render/{job_id}/status`). Comments (`: ping`) keep proxies open every ~15 s. "
                           "After the terminal state an `end` event is sent and the stream closes; EventSource "
                           "clients should close on it (or on a completed/failed status) instead of reconnecting.",
            "parameters": [_path_param("job_id", "Transcription or render job id")],
            "responses": {
                "200": {"description": "text/event-stream", "content": {"text/event-stream": {
                    "schema": {"type": "string"}}}},
                "401": _error(401), "404": _error(404)}}},
        "/api/v1/chatbot": {"post": {
            "operationId": "chatbot", "tags": ["assistant"], "security": _AUTH,
            "summary": "The editor's caption assistant: a reply and RFC 6902 patches for the scenario it sent",
            "description": "The model chosen by configuration (docs/ASSISTANT.md) proposes patches; only those that "
                           "apply to `scenario_data` and leave it valid are returned, with paths relative to it. "
                           "Without a model the answer is 200 with `code: ASSISTANT_NOT_CONFIGURED` and a "
                           "`completion` saying so, in the prompt's language. Rate-limited per user and per address.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _chatbot_request()}}},
            "responses": {
                "200": _json({"oneOf": [_chatbot_response(), _ref("Error")]},
                             "The reply (and the edits that apply). Streamed once a model is asked: a model "
                             "failure then arrives here as the error envelope with `status` 502/504"),
                "400": _error(400, "INVALID_JSON"), "401": _error(401),
                "403": _error(403, "ORIGIN_NOT_ALLOWED (cookie from a foreign origin)"),
                "413": _error(413, "ASSISTANT_PAYLOAD_TOO_LARGE"), "422": _error(422),
                "429": {**_error(429), "headers": {"Retry-After": {"schema": {"type": "integer"},
                                                                   "description": "Seconds to wait"}}}}}},
        "/health": {"get": {
            "operationId": "health_live", "tags": ["operations"], "security": [{}],
            "summary": "Liveness (no I/O)",
            "responses": {"200": _json({"type": "object", "required": ["status"],
                                        "properties": {"status": {"type": "string", "enum": ["ok"]}}}, "Alive")}}},
        "/health/ready": {"get": {
            "operationId": "health_ready", "tags": ["operations"], "security": [{}],
            "summary": "Readiness: database, broker and storage",
            "responses": {
                "200": _json({"type": "object", "required": ["status", "checks"],
                              "properties": {"status": {"type": "string", "enum": ["ok"]}, "checks": ready_checks}},
                             "Ready"),
                "503": _json({"allOf": [_ref("Error"), {"type": "object", "properties": {"details": {
                    "type": "object", "properties": {"failing": {"type": "array", "items": {
                        "type": "string", "enum": ["database", "broker", "storage"]}}, "checks": ready_checks}}}}]},
                    "Not ready: details.failing names the parts that are down")}}},
        "/api/schema": {"get": {
            "operationId": "schema", "tags": ["operations"], "security": [{}],
            "summary": "This OpenAPI 3 document (JSON; YAML with Accept: application/vnd.oai.openapi)",
            "responses": {"200": {"description": "OpenAPI document", "content": {
                "application/vnd.oai.openapi+json": {"schema": {"type": "object"}}}}}}},
        "/api/docs": {"get": {
            "operationId": "docs", "tags": ["operations"], "security": [{}],
            "summary": "Interactive documentation (Swagger UI, served from this server's static files)",
            "responses": {"200": {"description": "HTML page", "content": {"text/html": {
                "schema": {"type": "string"}}}}}}},
    }


def add_plain_django_paths(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """Postprocessing hook: add the non-DRF endpoints (their errors use the ``Error`` component)."""
    paths = result.setdefault("paths", {})
    for path, item in _plain_paths().items():
        paths.setdefault(path, {}).update(item)
    result["paths"] = dict(sorted(paths.items()))
    return result
