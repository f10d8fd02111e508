"""API.md section 1 (local accounts) and the global rules of section 0 that auth exercises."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from support import FRONTEND, PASSWORD

pytestmark = pytest.mark.django_db

USER_FIELDS = {"id", "username", "name", "email", "auth_provider", "is_active", "is_verified", "created_at"}


def signup(client, **overrides):
    body = {"username": "kim", "email": "Kim@Example.com", "password": PASSWORD, **overrides}
    return client.post("/api/auth/signup", body, format="json")


def test_signup_returns_201_tokens_user_and_cookies(api):
    response = signup(api)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"access_token", "token_type", "user"}
    assert body["token_type"] == "bearer"
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2
    user = body["user"]
    assert set(user) == USER_FIELDS
    assert user["email"] == "kim@example.com"
    assert user["username"] == user["name"] == "kim"
    assert user["auth_provider"] == "local"
    assert user["is_active"] is True and user["is_verified"] is False
    assert user["created_at"].endswith("Z") or "+" in user["created_at"]
    for name in ("access_token", "refresh_token"):
        cookie = response.cookies[name]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
    assert response.cookies["access_token"].value == body["access_token"]


def test_signup_duplicate_email_is_409_with_string_detail_case_insensitive(api, user):
    response = signup(api, email="KIM@example.COM")
    assert response.status_code == 409
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["error"] == "EMAIL_EXISTS"


def test_signup_validation_is_422_list_with_loc_and_messages(api):
    response = signup(api, email="not-an-email", password="123")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert isinstance(body["detail"], list) and body["detail"]
    locs = {tuple(item["loc"]) for item in body["detail"]}
    assert ("body", "email") in locs
    for item in body["detail"]:
        assert set(item) >= {"loc", "msg", "message", "type"}
        assert item["msg"] == item["message"]
    assert body["message"]


def test_signup_password_validators_apply(api):
    response = signup(api, password="password")  # too common
    assert response.status_code == 422
    assert ("body", "password") in {tuple(item["loc"]) for item in response.json()["detail"]}


def test_signup_missing_fields_lists_each(api):
    response = api.post("/api/auth/signup", {}, format="json")
    assert response.status_code == 422
    locs = {tuple(item["loc"]) for item in response.json()["detail"]}
    assert locs == {("body", "username"), ("body", "email"), ("body", "password")}


def test_messages_korean_by_default_english_on_request(api, user):
    ko = api.post("/api/auth/login", {"email": user.email, "password": "wrong-password"}, format="json")
    en = api.post("/api/auth/login", {"email": user.email, "password": "wrong-password"}, format="json",
                  HTTP_ACCEPT_LANGUAGE="en")
    assert en.json()["detail"] == "Incorrect email or password."
    assert ko.json()["detail"] != en.json()["detail"]
    assert any("\uac00" <= ch <= "\ud7a3" for ch in ko.json()["detail"])  # Hangul syllables


def test_login_success_and_same_401_for_unknown_email_and_wrong_password(api, user):
    ok = api.post("/api/auth/login", {"email": "KIM@example.com", "password": PASSWORD}, format="json")
    assert ok.status_code == 200
    assert set(ok.json()) == {"access_token", "token_type", "user"} and set(ok.json()["user"]) == USER_FIELDS
    assert ok.json()["user"]["id"] == user.id and ok.json()["token_type"] == "bearer"
    assert "access_token" in ok.cookies and "refresh_token" in ok.cookies
    wrong = api.post("/api/auth/login", {"email": user.email, "password": "nope-nope"}, format="json")
    unknown = api.post("/api/auth/login", {"email": "ghost@example.com", "password": "nope-nope"}, format="json")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert isinstance(wrong.json()["detail"], str)


def test_login_inactive_account_is_403(api, make_user):
    inactive = make_user("sleepy@example.com", is_active=False)
    response = api.post("/api/auth/login", {"email": inactive.email, "password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "ACCOUNT_INACTIVE"


def test_login_throttled_per_email_after_failures(api, user, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert api.post("/api/auth/login", {"email": user.email, "password": "bad-pass"},
                        format="json").status_code == 401
    blocked = api.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "RATE_LIMITED"
    assert int(blocked["Retry-After"]) > 0


def test_login_throttled_per_ip_across_emails(api, make_user, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    for i in range(3):
        api.post("/api/auth/login", {"email": f"nobody{i}@example.com", "password": "x-bad"}, format="json")
    victim = make_user("fresh@example.com")
    blocked = api.post("/api/auth/login", {"email": victim.email, "password": PASSWORD}, format="json")
    assert blocked.status_code == 429
    other_ip = APIClient(REMOTE_ADDR="10.9.8.7")
    assert other_ip.post("/api/auth/login", {"email": victim.email, "password": PASSWORD},
                         format="json").status_code == 200


def test_me_with_bearer_and_anonymous_401(api, auth_api, user):
    me = auth_api.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["id"] == user.id and set(me.json()) == USER_FIELDS
    anonymous = api.get("/api/auth/me")
    assert anonymous.status_code == 401
    assert isinstance(anonymous.json()["detail"], str)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert bad.get("/api/auth/me").status_code == 401


def test_cookie_only_auth_after_reload(user):
    browser = APIClient()
    login = browser.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert login.status_code == 200
    # The editor kept the token in memory only; after a reload it sends nothing but its cookies.
    me = browser.get("/api/auth/me", content_type="application/json")
    assert me.status_code == 200 and me.json()["email"] == user.email


def test_cookie_authenticated_write_requires_allowed_origin(user):
    browser = APIClient()
    browser.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    body = {"filename": "clip.mp4", "content_type": "video/mp4"}
    no_origin = browser.post("/api/upload-video/generate-url", body, format="json")
    assert no_origin.status_code == 403
    assert no_origin.json()["error"] == "ORIGIN_NOT_ALLOWED"
    evil = browser.post("/api/upload-video/generate-url", body, format="json", HTTP_ORIGIN="https://evil.example")
    assert evil.status_code == 403
    good = browser.post("/api/upload-video/generate-url", body, format="json", HTTP_ORIGIN=FRONTEND)
    assert good.status_code == 200
    by_referer = browser.post("/api/upload-video/generate-url", body, format="json",
                              HTTP_REFERER=f"{FRONTEND}/editor")
    assert by_referer.status_code == 200


def test_bearer_write_needs_no_origin(auth_api):
    response = auth_api.post("/api/upload-video/generate-url", {"filename": "a.mp4", "content_type": "video/mp4"},
                             format="json")
    assert response.status_code == 200


def test_refresh_rotates_and_old_token_is_refused(user):
    browser = APIClient()
    browser.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    old_refresh = browser.cookies["refresh_token"].value
    rotated = browser.post("/api/auth/refresh", format="json", HTTP_ORIGIN=FRONTEND)
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access_token", "token_type"}
    assert rotated.json()["token_type"] == "bearer"
    new_refresh = rotated.cookies["refresh_token"].value
    assert new_refresh and new_refresh != old_refresh
    assert rotated.cookies["access_token"].value == rotated.json()["access_token"]
    # The old refresh token no longer works, by body or by cookie.
    assert APIClient().post("/api/auth/refresh", {"refresh_token": old_refresh}, format="json").status_code == 401
    # The new one does (sent in the body, as a non-browser client would).
    assert APIClient().post("/api/auth/refresh", {"refresh_token": new_refresh}, format="json").status_code == 200


def test_refresh_without_token_is_401(api):
    assert api.post("/api/auth/refresh", format="json", HTTP_ORIGIN=FRONTEND).status_code == 401


def test_refresh_cookie_from_foreign_origin_is_refused(user):
    browser = APIClient()
    browser.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    response = browser.post("/api/auth/refresh", format="json", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403


def test_logout_clears_cookies_and_revokes_refresh(user):
    browser = APIClient()
    browser.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    refresh = browser.cookies["refresh_token"].value
    out = browser.post("/api/auth/logout", format="json", HTTP_ORIGIN=FRONTEND)
    assert out.status_code == 200 and set(out.json()) == {"message"} and out.json()["message"]
    assert out.cookies["access_token"].value == "" and out.cookies["refresh_token"].value == ""
    assert APIClient().post("/api/auth/refresh", {"refresh_token": refresh}, format="json").status_code == 401


def test_trailing_slash_works_without_redirect(api, user):
    response = api.post("/api/auth/login/", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200


def test_errors_are_json_for_404_405_and_unknown_paths(api, auth_api):
    missing = api.get("/api/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "NOT_FOUND"
    wrong_method = auth_api.get("/api/auth/login")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "METHOD_NOT_ALLOWED"
    outside = api.get("/nothing/here")
    assert outside.status_code == 404 and outside["Content-Type"].startswith("application/json")


def test_malformed_json_body_is_enveloped(api):
    response = api.generic("POST", "/api/auth/login", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == "INVALID_JSON"


def test_cors_preflight_allows_frontend_with_credentials(api):
    response = api.options("/api/auth/login", HTTP_ORIGIN=FRONTEND, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                           HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, authorization")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "authorization" in response["Access-Control-Allow-Headers"].lower()
    foreign = api.options("/api/auth/login", HTTP_ORIGIN="https://evil.example",
                          HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in foreign


def test_security_headers_present(api):
    response = api.get("/api/auth/me")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
