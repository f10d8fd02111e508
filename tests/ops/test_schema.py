"""API.md section 6: the OpenAPI 3 document at /api/schema and its docs page at /api/docs.

The document must be valid OpenAPI, list every endpoint of API.md with the shapes the editor reads
(camelCase for render and video metadata), and describe the errors in their envelopes. Whether real
responses match it is checked by fuzzing (test_schema_fuzz.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def contract_endpoints() -> set[tuple[str, str]]:
    """(method, path with parameters written as {}) of every row of docs/API.md's endpoint index."""
    text = (ROOT / "docs" / "API.md").read_text()
    index = text[text.index("## Endpoint index"):]
    rows = re.findall(r"^\|\s*([A-Z]+)\s*\|\s*`([^`]+)`", index, re.M)
    return {(method.lower(), re.sub(r"\{[^}]+\}", "{}", path)) for method, path in rows}


API_MD_PATHS = contract_endpoints()
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(scope="module")
def spec(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def resolve(spec: dict, schema: dict) -> dict:
    """Follow $ref, and the ``allOf: [$ref]`` + ``nullable`` wrapper used for nullable nested objects."""
    while True:
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif len(schema.get("allOf", [])) == 1:
            schema = schema["allOf"][0]
        else:
            return schema


def response_schema(spec: dict, method: str, path: str, status: str) -> dict:
    content = spec["paths"][path][method]["responses"][status]["content"]
    return resolve(spec, content["application/json"]["schema"])


def properties(spec: dict, schema: dict) -> set[str]:
    return set(resolve(spec, schema)["properties"])


def test_schema_is_valid_openapi_3(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"]


def test_schema_is_yaml_on_request(client):
    response = client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200 and response.content.startswith(b"openapi: 3.")


def test_every_path_of_the_contract_is_described(spec):
    described = {(method, re.sub(r"\{[^}]+\}", "{}", path))
                 for path, item in spec["paths"].items() for method in item if method in METHODS}
    assert len(API_MD_PATHS) >= 29  # the index parsed (a broken table must not pass as "nothing to check")
    assert API_MD_PATHS - described == set()  # every endpoint of docs/API.md is in the schema
    assert described - API_MD_PATHS == set()  # and nothing in the schema is missing from docs/API.md


def test_schema_answers_json_to_openapi_tools(client):
    response = client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response.json()["openapi"].startswith("3.")


def test_operations_have_unique_ids_summaries_and_responses(spec):
    ids = [op["operationId"] for item in spec["paths"].values() for method, op in item.items() if method in METHODS]
    assert len(ids) == len(set(ids))
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                assert op.get("summary"), (method, path)
                assert any(code.startswith(("2", "3")) for code in op["responses"]), (method, path)


def test_authentication_is_bearer_or_cookie(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["cookieAuth"]["in"] == "cookie" and schemes["cookieAuth"]["name"] == "access_token"
    either = [{"bearerAuth": []}, {"cookieAuth": []}]
    assert spec["paths"]["/api/render/create"]["post"]["security"] == either
    assert spec["paths"]["/api/jobs/{job_id}/events"]["get"]["security"] == either
    assert spec["paths"]["/api/auth/login"]["post"]["security"] == [{}]
    assert spec["paths"]["/health/ready"]["get"]["security"] == [{}]


def test_error_responses_use_the_envelope_of_their_area(spec):
    flat = properties(spec, {"$ref": "#/components/schemas/Error"})
    assert flat == {"detail", "error", "message", "details"}
    render = resolve(spec, {"$ref": "#/components/schemas/RenderError"})
    assert set(render["properties"]) == {"detail", "error", "code", "message"}
    assert properties(spec, render["properties"]["detail"]) == {"error", "code", "message", "details"}
    auth_422 = resolve(spec, {"$ref": "#/components/schemas/AuthValidationError"})
    assert auth_422["properties"]["detail"]["type"] == "array"
    assert properties(spec, auth_422["properties"]["detail"]["items"]) == {"loc", "msg", "message", "type"}

    checked = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            for status, response in op["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                ref = response["content"]["application/json"]["schema"]
                refs = [s["$ref"] for s in ref.get("allOf", [ref]) if "$ref" in s]
                name = refs[0].rsplit("/", 1)[-1]
                if path.startswith("/api/render"):
                    expected = {"RenderError"}
                elif path.startswith("/api/auth") and status == "422":
                    expected = {"AuthValidationError"}
                else:
                    expected = {"Error"}
                assert name in expected, (method, path, status, name)
                checked += 1
    assert checked > 60


def test_documented_errors_cover_auth_ownership_validation_and_limits(spec):
    codes = lambda method, path: set(spec["paths"][path][method]["responses"])  # noqa: E731
    assert {"200", "401", "404"} <= codes("get", "/api/upload-video/status/{job_id}")
    assert {"200", "400", "401", "403", "429"} <= codes("post", "/api/render/create")
    assert {"201", "409", "422", "429"} <= codes("post", "/api/auth/signup")
    assert {"200", "401", "403", "422", "429"} <= codes("post", "/api/auth/login")
    assert {"200", "401", "404", "409", "422"} <= codes("get", "/api/upload-video/result/{job_id}/export")
    assert {"200", "503"} <= codes("get", "/health/ready")
    assert "429" in codes("post", "/api/upload-video/generate-url")
    retry_after = spec["paths"]["/api/render/create"]["post"]["responses"]["429"]["headers"]["Retry-After"]
    assert retry_after["schema"]["type"] == "integer"


def test_shapes_the_editor_reads(spec):
    transcription = response_schema(spec, "get", "/api/upload-video/status/{job_id}", "200")
    assert set(transcription["properties"]) == {"job_id", "status", "progress", "stage", "current_stage",
                                                "estimated_time_remaining", "error", "result"}
    transcript = properties(spec, transcription["properties"]["result"])
    assert {"segments", "speakers", "speaker_details", "language", "metadata", "volume_statistics",
            "pitch_statistics"} == transcript
    result = resolve(spec, transcription["properties"]["result"])
    assert resolve(spec, result["properties"]["speakers"])["type"] == "array"  # never a dict here
    word = resolve(spec, resolve(spec, resolve(spec, result["properties"]["segments"])["items"])["properties"][
        "words"]["items"])
    assert {"volume_db", "pitch_hz", "harmonics_ratio", "spectral_centroid", "speaker_id"} <= set(word["properties"])

    render = response_schema(spec, "get", "/api/render/{job_id}/status", "200")
    assert set(render["properties"]) == {"jobId", "status", "progress", "estimatedTimeRemaining", "startedAt",
                                         "completedAt", "downloadUrl", "error", "errorCode", "fileSize", "duration"}
    created = response_schema(spec, "post", "/api/render/create", "200")
    assert set(created["properties"]) == {"jobId", "status", "estimatedTime", "createdAt", "sourceVideo"}
    body = resolve(spec, spec["paths"]["/api/render/create"]["post"]["requestBody"]["content"]["application/json"][
        "schema"])
    assert {"videoUrl", "fileKey", "jobId", "scenario", "options"} == set(body["properties"])
    history = response_schema(spec, "get", "/api/render/history", "200")
    assert history["type"] == "array"
    assert properties(spec, history["items"]) == {"jobId", "videoName", "status", "createdAt", "completedAt",
                                                  "downloadUrl", "fileSize", "duration"}
    quota = response_schema(spec, "get", "/api/render/quota", "200")
    assert properties(spec, quota["properties"]["daily"]) == {"used", "limit", "resetsAt"}

    metadata = response_schema(spec, "get", "/api/videos/{id}/metadata", "200")
    assert set(metadata["properties"]) == {"duration", "width", "height", "frameRate", "videoCodec", "audioCodec",
                                           "filesize"}
    upload = response_schema(spec, "post", "/api/upload-video/generate-url", "200")
    assert {"upload_url", "presigned_url", "url", "file_key", "fileKey", "expires_in", "expires_at"} <= set(
        upload["properties"])
    request_process = resolve(spec, spec["paths"]["/api/upload-video/request-process"]["post"]["requestBody"][
        "content"]["application/json"]["schema"])
    assert set(request_process["properties"]) == {"fileKey", "language"}
    login = response_schema(spec, "post", "/api/auth/login", "200")
    assert set(login["properties"]) == {"access_token", "token_type", "user"}
    assert set(properties(spec, login["properties"]["user"])) == {
        "id", "username", "name", "email", "auth_provider", "is_active", "is_verified", "created_at"}
    deleted = response_schema(spec, "delete", "/api/videos/{id}", "200")  # 200 with JSON, never a 204
    assert set(deleted["properties"]) == {"success", "id", "message"}
    events = spec["paths"]["/api/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    assert list(events) == ["text/event-stream"]


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def test_docs_page_is_served_with_local_assets_only(client, settings):
    response = client.get("/api/docs")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    parser = _Assets()
    parser.feed(html)
    assert parser.urls, "the page loads Swagger UI from somewhere"
    assert not re.search(r"https?://(?!localhost|testserver)", html)  # no CDN
    static = [url for url in parser.urls if url.startswith(settings.STATIC_URL)]
    assert any(url.endswith("swagger-ui-bundle.js") for url in static)
    for url in static:
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url  # shipped by drf-spectacular-sidecar
    # The init script is a file of its own (/api/docs?script, for the Content-Security-Policy), not inline.
    assert "<script>" not in html
    script = client.get("/api/docs?script=")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]
    assert "/api/schema" in script.content.decode()
