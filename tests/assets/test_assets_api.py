"""API.md section 7 through HTTP: the asset list, favorites for two users, the legacy favorites API,
the plugin origin, and usage counts from render creation."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient
from support import FRONTEND, PASSWORD
from testmedia import make_clip

from assets.models import Animation, Favorite

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scenarios"
ASSET_FIELDS = {"id", "title", "category", "description", "pluginKey", "thumbnailPath", "iconName", "authorId",
                "authorName", "isPro", "price", "rating", "downloads", "likes", "usageCount", "tags", "isFavorite",
                "createdAt", "updatedAt"}
EDITOR_KEYS = {f"{n}@2.0.0" for n in (
    "rotation", "typewriter", "elastic", "glitch", "magnetic", "fadein", "scalepop", "slideup", "cwi-bouncing",
    "cwi-color", "cwi-loud", "cwi-whisper", "bobY", "flames", "fliptype", "glow", "pulse", "spin")}


def keys(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [a["pluginKey"] for a in response.json()["assets"]]


def test_anonymous_list_has_the_18_animations(api):
    response = api.get("/api/v1/assets")
    assert set(keys(response)) == EDITOR_KEYS
    for asset in response.json()["assets"]:
        assert set(asset) == ASSET_FIELDS
        assert asset["isFavorite"] is False and asset["likes"] == 0 and asset["isPro"] is False
        assert asset["thumbnailPath"] == "assets/thumbnail.svg" and asset["tags"] and asset["title"]
        assert isinstance(asset["id"], str) and asset["price"] == 0


def test_filters_language_and_unpublished(api):
    assert set(keys(api.get("/api/v1/assets?category=Unique"))) == {"glitch@2.0.0", "magnetic@2.0.0", "flames@2.0.0"}
    assert keys(api.get("/api/v1/assets?is_pro=true")) == []
    assert len(keys(api.get("/api/v1/assets?is_pro=false"))) == 18
    Animation.objects.filter(plugin_key="spin@2.0.0").update(is_published=False, is_pro=True)
    assert "spin@2.0.0" not in keys(api.get("/api/v1/assets"))
    bad = api.get("/api/v1/assets?category=Loud")
    assert bad.status_code == 422 and bad.json()["error"] == "VALIDATION_ERROR"
    ko = {a["pluginKey"]: a["title"] for a in api.get("/api/v1/assets").json()["assets"]}
    en = {a["pluginKey"]: a["title"] for a in api.get("/api/v1/assets", HTTP_ACCEPT_LANGUAGE="en").json()["assets"]}
    assert ko["rotation@2.0.0"] == "회전 등장" and en["rotation@2.0.0"] == "Rotation"


def test_favorites_are_per_user(auth_api, other_api, api):
    # The editor's shapes: URL-encoded key, JSON content type, no body.
    add = auth_api.generic("POST", "/api/v1/assets/rotation%402.0.0/favorite", "", content_type="application/json")
    assert add.status_code == 200 and add.json() == {"isFavorite": True, "likes": 1}
    again = auth_api.generic("POST", "/api/v1/assets/rotation%402.0.0/favorite", "", content_type="application/json")
    assert again.json() == {"isFavorite": True, "likes": 1}  # idempotent
    other_api.generic("POST", "/api/v1/assets/cwi-color%402.0.0/favorite", "", content_type="application/json")
    other_api.generic("POST", "/api/v1/assets/rotation@2.0.0/favorite", "", content_type="application/json")

    mine = {a["pluginKey"]: a for a in auth_api.get("/api/v1/assets").json()["assets"]}
    theirs = {a["pluginKey"]: a for a in other_api.get("/api/v1/assets").json()["assets"]}
    assert mine["rotation@2.0.0"]["isFavorite"] and not mine["cwi-color@2.0.0"]["isFavorite"]
    assert theirs["rotation@2.0.0"]["isFavorite"] and theirs["cwi-color@2.0.0"]["isFavorite"]
    assert mine["rotation@2.0.0"]["likes"] == 2 and mine["cwi-color@2.0.0"]["likes"] == 1
    assert keys(auth_api.get("/api/v1/assets/favorites")) == ["rotation@2.0.0"]
    assert keys(other_api.get("/api/v1/assets/favorites")) == ["rotation@2.0.0", "cwi-color@2.0.0"]
    assert not any(a["isFavorite"] for a in api.get("/api/v1/assets").json()["assets"])

    gone = auth_api.generic("DELETE", "/api/v1/assets/rotation%402.0.0/favorite", "", content_type="application/json")
    assert gone.json() == {"isFavorite": False, "likes": 1}
    assert auth_api.delete("/api/v1/assets/rotation%402.0.0/favorite").json()["isFavorite"] is False
    assert keys(auth_api.get("/api/v1/assets/favorites")) == []


def test_favorite_errors_use_the_envelope(auth_api, api):
    unknown = auth_api.post("/api/v1/assets/sparkle%409.9.9/favorite", content_type="application/json")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "ASSET_NOT_FOUND" and unknown.json()["details"] == {"pluginKey": "sparkle@9.9.9"}
    anonymous = api.post("/api/v1/assets/rotation%402.0.0/favorite", content_type="application/json")
    assert anonymous.status_code == 401 and anonymous.json()["error"]
    assert api.get("/api/v1/assets/favorites").status_code == 401


def test_cookie_auth_writes_follow_the_origin_rule(user):
    browser = APIClient()
    login = browser.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert login.status_code == 200
    url = "/api/v1/assets/glow%402.0.0/favorite"
    refused = browser.post(url, content_type="application/json", HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403 and refused.json()["error"] == "ORIGIN_NOT_ALLOWED"
    assert not Favorite.objects.exists()
    assert browser.post(url, content_type="application/json", HTTP_ORIGIN=FRONTEND).json()["isFavorite"] is True
    # Reads need no Origin.
    assert keys(browser.get("/api/v1/assets/favorites")) == ["glow@2.0.0"]


def test_legacy_favorites_api(auth_api, user):
    assert auth_api.get("/api/v1/favorites").json() == {"favorites": [], "total": 0}
    added = auth_api.post("/api/v1/favorites", {"plugin_key": "pulse@2.0.0"}, format="json")
    assert added.status_code == 201
    assert set(added.json()) == {"id", "user_id", "plugin_key", "created_at", "updated_at"}
    assert added.json()["user_id"] == user.pk
    listed = auth_api.get("/api/v1/favorites").json()
    assert listed["total"] == 1 and listed["favorites"][0]["plugin_key"] == "pulse@2.0.0"
    toggled = auth_api.post("/api/v1/favorites/toggle", {"plugin_key": "pulse@2.0.0"}, format="json").json()
    assert toggled["is_favorite"] is False and toggled["message"]
    toggled = auth_api.post("/api/v1/favorites/toggle", {"plugin_key": "spin@2.0.0"}, format="json").json()
    assert toggled["is_favorite"] is True
    removed = auth_api.delete("/api/v1/favorites", {"plugin_key": "spin@2.0.0"}, format="json")
    assert removed.status_code == 200 and removed.json()["is_favorite"] is False
    missing = auth_api.post("/api/v1/favorites", {}, format="json")
    assert missing.status_code == 422 and "plugin_key" in json.dumps(missing.json()["details"])
    assert auth_api.post("/api/v1/favorites", {"plugin_key": "nope@1.0.0"}, format="json").status_code == 404


@pytest.mark.parametrize("key", ["%00", "a%00b@1.0.0", "junk", "..", "x@y", "%E2%80%AE@1.0.0"])
def test_malformed_key_is_a_404_envelope_on_every_favorite_route(auth_api, key):
    """A key that is not `name@version` (a NUL byte broke PostgreSQL: 500) is 404 ASSET_NOT_FOUND."""
    for method in ("post", "delete"):
        response = getattr(auth_api, method)(f"/api/v1/assets/{key}/favorite")
        assert response.status_code == 404, (method, key, response.content[:300])
        assert response.json()["error"] == "ASSET_NOT_FOUND"
    assert auth_api.get(f"/plugins/{key}/manifest.json").status_code == 404
    assert Favorite.objects.count() == 0


@pytest.mark.parametrize("key", ["a\x00b@1.0.0", "\x00", "junk", "x@y"])
def test_legacy_bodies_with_a_malformed_key_are_a_clear_4xx(auth_api, key):
    for method, path in (("post", "/api/v1/favorites"), ("delete", "/api/v1/favorites"),
                         ("post", "/api/v1/favorites/toggle")):
        response = getattr(auth_api, method)(path, {"plugin_key": key}, format="json")
        assert 400 <= response.status_code < 500, (method, path, key, response.content[:300])
        assert response.json()["error"] in {"ASSET_NOT_FOUND", "VALIDATION_ERROR"}, response.content[:300]
    assert Favorite.objects.count() == 0


def test_plugin_origin_serves_published_files(api):
    manifest = api.get("/plugins/rotation@2.0.0/manifest.json", HTTP_ORIGIN=FRONTEND)
    assert manifest.status_code == 200
    assert manifest.json()["name"] == "rotation" and manifest.json()["pluginApi"] == "3.0"
    assert manifest["Access-Control-Allow-Origin"] == FRONTEND
    assert manifest["Cache-Control"] == "public, max-age=31536000, immutable"
    module = api.get("/plugins/rotation%402.0.0/index.mjs", HTTP_ORIGIN=FRONTEND)
    assert module.status_code == 200 and module["Content-Type"].startswith("text/javascript")
    assert b"export function animate" in module.content
    thumb = api.get("/plugins/flames@2.0.0/assets/thumbnail.svg")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/svg+xml" and thumb["ETag"]
    assert api.get("/plugins/flames@2.0.0/assets/thumbnail.svg", HTTP_IF_NONE_MATCH=thumb["ETag"]).status_code == 304
    assert "Access-Control-Allow-Origin" not in api.get("/plugins/rotation@2.0.0/manifest.json",
                                                        HTTP_ORIGIN="https://evil.example")
    preflight = api.options("/plugins/rotation@2.0.0/index.mjs", HTTP_ORIGIN=FRONTEND,
                            HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert preflight.status_code == 200 and preflight["Access-Control-Allow-Origin"] == FRONTEND


@pytest.mark.parametrize("path", [
    "/plugins/rotation@2.0.0/",  # no directory listing
    "/plugins/rotation@2.0.0/assets/",
    "/plugins/rotation@2.0.0/../fadein@2.0.0/manifest.json",
    "/plugins/rotation@2.0.0/%2e%2e/fadein@2.0.0/manifest.json",
    "/plugins/rotation@2.0.0/..%2f..%2fcatalogue.py",
    "/plugins/rotation@2.0.0/assets/../../../models.py",
    "/plugins/rotation@2.0.0/missing.js",
    "/plugins/sparkle@9.9.9/manifest.json",
])
def test_plugin_origin_refuses_anything_else(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "NOT_FOUND"


def test_plugin_origin_hides_unpublished_and_refuses_writes(api):
    Animation.objects.filter(plugin_key="glow@2.0.0").update(is_published=False)
    assert api.get("/plugins/glow@2.0.0/manifest.json").status_code == 404
    assert api.post("/plugins/rotation@2.0.0/manifest.json").status_code == 405


@pytest.fixture
def uploaded_clip(auth_api, tmp_path) -> str:
    path = tmp_path / "clip.mp4"
    make_clip(path, seconds=1.0, width=160, height=90, fps=25)
    body = auth_api.post("/api/upload-video/generate-url", {"filename": "clip.mp4", "content_type": "video/mp4"},
                         format="json").json()
    put = auth_api.generic("PUT", urlsplit(body["upload_url"]).path, path.read_bytes(), content_type="video/mp4")
    assert put.status_code == 200
    return body["fileKey"]


def test_usage_counted_when_a_render_is_created(auth_api, uploaded_clip):
    scenario = json.loads((FIXTURES / "scenario-v2.json").read_text())
    key = uploaded_clip
    words = scenario["cues"][0]["root"]["children"]
    words[0]["pluginChain"] = [{"name": "glow@2.0.0", "params": {}, "timeOffset": [0, 0]},
                               {"name": "spin@2.0.0", "params": {}, "timeOffset": [0, 0]}]
    words[1]["pluginChain"] = [{"name": "glow@2.0.0", "params": {}, "timeOffset": [0, 0]}]
    response = auth_api.post("/api/render/create", {"fileKey": key, "scenario": scenario}, format="json")
    assert response.status_code == 200, response.content
    counts = dict(Animation.objects.filter(plugin_key__in=["glow@2.0.0", "spin@2.0.0", "pulse@2.0.0"])
                  .values_list("plugin_key", "usage_count"))
    assert counts == {"glow@2.0.0": 1, "spin@2.0.0": 1, "pulse@2.0.0": 0}  # once per job, not per word
    listed = {a["pluginKey"]: a["usageCount"] for a in auth_api.get("/api/v1/assets").json()["assets"]}
    assert listed["glow@2.0.0"] == 1


def test_editor_request_shapes_over_real_http(live_server, make_user):
    """A real HTTP server: percent-encoded keys reach the view, a JSON content type with no body is fine."""
    for n in (1, 2):
        make_user(f"http{n}@example.com")

    def call(method: str, path: str, token: str | None = None, body: bytes | None = None):
        req = urllib.request.Request(live_server.url + path, data=body, method=method,  # noqa: S310 - test server
                                     headers={"Content-Type": "application/json", "Origin": FRONTEND})
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - the test server
                status, raw, headers = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as exc:
            status, raw, headers = exc.code, exc.read(), exc.headers
        headers = {k.lower(): v for k, v in headers.items()}
        return status, json.loads(raw) if "json" in headers.get("content-type", "") else raw, headers

    tokens = []
    for n in (1, 2):
        status, body, _ = call("POST", "/api/auth/login",
                               body=json.dumps({"email": f"http{n}@example.com", "password": PASSWORD}).encode())
        assert status == 200, body
        tokens.append(body["access_token"])
    status, body, headers = call("GET", "/api/v1/assets")
    assert status == 200 and len(body["assets"]) == 18, headers
    assert headers["access-control-allow-origin"] == FRONTEND
    status, body, _ = call("POST", "/api/v1/assets/cwi-loud%402.0.0/favorite", tokens[0])
    assert (status, body) == (200, {"isFavorite": True, "likes": 1})
    status, body, _ = call("POST", "/api/v1/assets/fliptype%402.0.0/favorite", tokens[1])
    assert status == 200
    assert [a["pluginKey"] for a in call("GET", "/api/v1/assets/favorites", tokens[0])[1]["assets"]] == [
        "cwi-loud@2.0.0"]
    assert [a["pluginKey"] for a in call("GET", "/api/v1/assets/favorites", tokens[1])[1]["assets"]] == [
        "fliptype@2.0.0"]
    status, body, _ = call("DELETE", "/api/v1/assets/cwi-loud%402.0.0/favorite", tokens[0])
    assert (status, body) == (200, {"isFavorite": False, "likes": 0})
    status, body, _ = call("POST", "/api/v1/assets/nope%401.0.0/favorite", tokens[0])
    assert status == 404 and body["error"] == "ASSET_NOT_FOUND"
    status, module, headers = call("GET", "/plugins/typewriter%402.0.0/index.mjs")
    assert status == 200 and headers["content-type"].startswith("text/javascript") and b"export" in module
    assert headers["access-control-allow-origin"] == FRONTEND and "immutable" in headers["cache-control"]
