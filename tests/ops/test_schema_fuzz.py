"""Fuzz the API from its own OpenAPI document (schemathesis + Hypothesis), authenticated with a Bearer token.

For every operation, generated requests (valid and invalid) must never produce a 5xx; every response must
be one the document declares, with the declared content type and body shape; and every error must be in
the envelope of its area (API.md section 0). Examples are bounded so the whole run stays well under two
minutes; Hypothesis' database is off so that every run is the same size.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks as st_checks

from ecg.exceptions import error_area

pytestmark = [pytest.mark.django_db]

MAX_EXAMPLES = 25


def wsgi_app():
    """Django's WSGI handler, minus the per-request connection closing (the test's transaction must live).

    The same thing Django's test client does: ``close_old_connections`` would close the connection that
    holds this test's transaction at the end of every request.
    """
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    handler = WSGIHandler()

    def app(environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            result = handler(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                result.close()  # sends request_finished while close_old_connections is detached
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


@pytest.fixture(autouse=True)
def _fuzz_settings(settings):
    settings.PUBLIC_BASE_URL = "http://localhost"
    # Fuzzing sends far more requests than a person: the limits themselves are tested elsewhere.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        scope: "100000/minute" for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]}}


@pytest.fixture
def token(user) -> str:
    from accounts.services import issue_tokens

    return issue_tokens(user).access


@schemathesis.serializer("video/mp4", "audio/mpeg")
def _raw_media(ctx, value) -> bytes:
    """The upload PUT takes raw bytes under ``video/*``/``audio/*``; these give those ranges a wire type."""
    return value if isinstance(value, bytes) else str(value).encode()


# The document the app itself serves at /api/schema (fetched at collection: building it needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema", wsgi_app())



def assert_error_envelope(path: str, status: int, body) -> None:
    """API.md section 0: the three error shapes, chosen by the path's area."""
    assert isinstance(body, dict), body
    area = error_area(path)
    if area == "render":
        detail = body["detail"]
        assert isinstance(detail, dict) and {"error", "code", "message", "details"} <= set(detail), body
        assert detail["code"].startswith("RENDER_") and body["error"] == body["code"] == detail["code"], body
        assert isinstance(body["message"], str) and body["message"], body
    elif area == "auth" and status == 422:
        assert body["error"] == "VALIDATION_ERROR" and isinstance(body["message"], str), body
        assert isinstance(body["detail"], list) and body["detail"], body
        for item in body["detail"]:
            assert {"loc", "msg", "message", "type"} <= set(item) and item["loc"][0] == "body", body
    else:
        assert {"detail", "error", "message"} <= set(body), body
        assert isinstance(body["detail"], str) and body["detail"] == body["message"], body
        assert body["error"].isupper(), body
        assert isinstance(body.get("details", {}), dict), body


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, token):
    # (The SSE stream never hangs here: a generated id is never this user's job, so it answers 404 at once.)
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    case.validate_response(response, checks=[
        st_checks.not_a_server_error,
        st_checks.status_code_conformance,
        st_checks.content_type_conformance,
        st_checks.response_schema_conformance,
    ])
    if response.status_code >= 400:
        assert_error_envelope(case.operation.path, response.status_code, response.json())
