"""Google login (API.md section 1) end to end through the views, with Google's endpoints faked (no network).

Google is faked at ``requests.Session.request``, the one call that allauth's OAuth2 client and userinfo
fetch both go through; any other URL fails the test, so nothing can reach the network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from unittest import mock
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.test import Client

from accounts import google

User = get_user_model()

CLIENT_ID = "test-client.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"
FRONTEND_URL = "http://frontend.test"
PUBLIC_BASE_URL = "https://api.example.test"
TOKEN_URL = "https://oauth2.googleapis.com/token"
USERINFO_URL = "https://www.googleapis.com/oauth2/v2/userinfo"
LOGIN = "/api/auth/google/login"
CALLBACK = "/api/auth/google/callback"
SUCCESS_URL = f"{FRONTEND_URL}/auth/callback?success=true"


def _google_app(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> dict:
    return {"google": {"APP": {"client_id": client_id, "secret": secret, "key": ""},
                       "SCOPE": ["openid", "profile", "email"],
                       "AUTH_PARAMS": {"access_type": "online", "prompt": "select_account"},
                       "OAUTH_PKCE_ENABLED": True}}


@pytest.fixture(autouse=True)
def google_settings(settings):
    settings.GOOGLE_CLIENT_ID = CLIENT_ID
    settings.GOOGLE_CLIENT_SECRET = CLIENT_SECRET
    settings.SOCIALACCOUNT_PROVIDERS = _google_app()
    settings.FRONTEND_URL = FRONTEND_URL
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    return settings


def _id_token(claims: dict) -> str:
    now = int(time.time())
    payload = {"iss": "https://accounts.google.com", "aud": CLIENT_ID, "azp": CLIENT_ID, "iat": now,
               "exp": now + 3600, **claims}
    # Any key: a token fetched straight from Google over TLS is not signature-checked (OIDC Core 3.1.3.7).
    return jwt.encode(payload, "not-googles-key-but-long-enough-for-hs256", algorithm="HS256")


def _response(url: str, status: int, body: dict) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.url = url
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    response._content = json.dumps(body).encode()
    return response


class FakeGoogle:
    """Google's token and userinfo endpoints; records what was sent to them."""

    def __init__(self) -> None:
        self.claims: dict = {"sub": "110248495921238986420", "email": "hong@gmail.com", "email_verified": True,
                             "name": "Hong Gildong"}
        self.use_id_token = True
        self.token_status = 200
        self.calls: list[tuple[str, str, dict]] = []

    def handle(self, session, method, url, **kwargs) -> requests.Response:
        self.calls.append((method, url, kwargs))
        if url == TOKEN_URL and method == "POST":
            if self.token_status != 200:
                return _response(url, self.token_status, {"error": "invalid_grant"})
            body = {"access_token": "ya29.fake-access", "expires_in": 3599, "token_type": "Bearer",
                    "scope": "openid email profile"}
            if self.use_id_token:
                body["id_token"] = _id_token(self.claims)
            return _response(url, 200, body)
        if url == USERINFO_URL and method == "GET":
            assert kwargs["headers"]["Authorization"] == "Bearer ya29.fake-access"
            info = {"id": self.claims["sub"], "email": self.claims.get("email"),
                    "verified_email": self.claims.get("email_verified", False)}
            if self.claims.get("name"):
                info["name"] = self.claims["name"]
            return _response(url, 200, info)
        raise AssertionError(f"unexpected outgoing request: {method} {url}")

    @property
    def token_requests(self) -> list[dict]:
        return [kwargs["data"] for method, url, kwargs in self.calls if url == TOKEN_URL]


@pytest.fixture
def fake_google():
    fake = FakeGoogle()

    def request(session, method, url, **kwargs):
        return fake.handle(session, method, url, **kwargs)

    with mock.patch.object(requests.Session, "request", new=request):
        yield fake


def _start(client: Client) -> dict[str, list[str]]:
    """Begin a login; the state cookie stays in the client. Returns the consent URL's query."""
    response = client.get(LOGIN)
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)


def _finish(client: Client, **extra):
    state = _start(client)["state"][0]
    return client.get(CALLBACK, {"code": "4/fake-code", "state": state}, **extra)


def _error_message(response) -> str:
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{FRONTEND_URL}/auth/callback?error=")
    query = urlsplit(location).query
    assert "+" not in query  # spaces are %20 for decodeURIComponent
    return unquote(query.removeprefix("error="))


def _assert_no_auth_cookies(response) -> None:
    assert "access_token" not in response.cookies
    assert "refresh_token" not in response.cookies


@pytest.mark.django_db
def test_login_redirects_to_google_consent_with_state_and_pkce(client):
    response = client.get(LOGIN)

    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert (url.scheme, url.netloc, url.path) == ("https", "accounts.google.com", "/o/oauth2/v2/auth")
    query = parse_qs(url.query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [f"{PUBLIC_BASE_URL}/api/auth/google/callback"]
    assert query["response_type"] == ["code"]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    assert len(query["state"][0]) >= 32
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0]
    cookie = response.cookies[google.STATE_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/api/auth/google"
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_each_login_gets_a_fresh_state(client):
    assert _start(client)["state"] != _start(Client())["state"]


@pytest.mark.django_db
def test_login_without_google_config_redirects_to_frontend_with_error(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = _google_app(client_id="", secret="")

    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="en")

    assert _error_message(response) == "Google login is not configured."
    assert google.STATE_COOKIE not in response.cookies


@pytest.mark.django_db
def test_callback_creates_google_user_and_sets_jwt_cookies(client, fake_google):
    consent = _start(client)
    response = client.get(CALLBACK, {"code": "4/fake-code", "state": consent["state"][0]})

    assert response.status_code == 302
    assert response["Location"] == SUCCESS_URL
    user = User.objects.get(email="hong@gmail.com")
    assert user.auth_provider == "google"
    assert user.is_verified is True
    assert user.username == "Hong Gildong"
    assert not user.has_usable_password()
    assert SocialAccount.objects.get(user=user, provider="google").uid == "110248495921238986420"

    # The code exchange: our redirect_uri, our secret, and the PKCE verifier matching the challenge.
    (sent,) = fake_google.token_requests
    assert sent["code"] == "4/fake-code"
    assert sent["client_id"] == CLIENT_ID
    assert sent["client_secret"] == CLIENT_SECRET
    assert sent["redirect_uri"] == f"{PUBLIC_BASE_URL}/api/auth/google/callback"
    digest = base64.urlsafe_b64encode(hashlib.sha256(sent["code_verifier"].encode()).digest()).rstrip(b"=")
    assert digest.decode() == consent["code_challenge"][0]

    access, refresh = response.cookies["access_token"], response.cookies["refresh_token"]
    assert access["httponly"] and refresh["httponly"]
    assert access.value and refresh.value
    assert access.value not in response["Location"]
    assert response.cookies[google.STATE_COOKIE]["max-age"] == 0  # state used up

    # The cookie alone is the editor's credential after the redirect.
    browser = Client()
    browser.cookies["access_token"] = access.value
    me = browser.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == "hong@gmail.com"
    assert me.json()["auth_provider"] == "google"
    assert me.json()["is_verified"] is True


@pytest.mark.django_db
def test_callback_reads_userinfo_when_no_id_token_and_names_user_from_email(client, fake_google):
    fake_google.use_id_token = False
    fake_google.claims = {"sub": "42", "email": "Someone.Else@Gmail.com", "email_verified": True}

    response = _finish(client)

    assert response["Location"] == SUCCESS_URL
    user = User.objects.get(email="someone.else@gmail.com")
    assert user.username == "Someone.Else"
    assert user.auth_provider == "google"
    assert [url for _, url, _ in fake_google.calls] == [TOKEN_URL, USERINFO_URL]


@pytest.mark.django_db
def test_existing_google_user_logs_in_without_duplicate(client, fake_google):
    assert _finish(client)["Location"] == SUCCESS_URL
    first = User.objects.get(email="hong@gmail.com")

    again = _finish(Client())

    assert again["Location"] == SUCCESS_URL
    assert "access_token" in again.cookies
    assert User.objects.count() == 1
    assert SocialAccount.objects.filter(user=first).count() == 1


@pytest.mark.django_db
def test_google_user_is_found_by_sub_after_email_change(client, fake_google):
    _finish(client)
    fake_google.claims = {**fake_google.claims, "email": "hong.new@gmail.com"}

    response = _finish(Client())

    assert response["Location"] == SUCCESS_URL
    assert User.objects.count() == 1
    assert SocialAccount.objects.get().extra_data["email"] == "hong.new@gmail.com"


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["forged", "위조된-상태", ""])
def test_state_mismatch_is_refused_without_cookies_or_google_calls(client, fake_google, state):
    _start(client)

    response = client.get(CALLBACK, {"code": "4/fake-code", "state": state}, HTTP_ACCEPT_LANGUAGE="en")

    assert _error_message(response) == "Your Google sign-in expired or could not be verified. Please try again."
    _assert_no_auth_cookies(response)
    assert fake_google.calls == []
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("cookie", [None, "tampered"])
def test_missing_or_tampered_state_cookie_is_refused(client, fake_google, cookie):
    state = _start(Client())["state"][0]  # a state issued to another browser
    if cookie:
        client.cookies[google.STATE_COOKIE] = cookie

    response = client.get(CALLBACK, {"code": "4/fake-code", "state": state}, HTTP_ACCEPT_LANGUAGE="en")

    assert "expired or could not be verified" in _error_message(response)
    _assert_no_auth_cookies(response)
    assert fake_google.calls == []


@pytest.mark.django_db
def test_denied_consent_redirects_with_error(client, fake_google):
    state = _start(client)["state"][0]

    response = client.get(CALLBACK, {"error": "access_denied", "state": state}, HTTP_ACCEPT_LANGUAGE="en")

    assert _error_message(response) == "Google sign-in was cancelled."
    _assert_no_auth_cookies(response)
    assert fake_google.calls == []


@pytest.mark.django_db
def test_token_exchange_failure_redirects_with_error(client, fake_google):
    fake_google.token_status = 400

    response = _finish(client, HTTP_ACCEPT_LANGUAGE="en")

    assert _error_message(response) == "Google sign-in failed. Please try again."
    _assert_no_auth_cookies(response)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_unverified_google_email_is_refused(client, fake_google):
    fake_google.claims["email_verified"] = False

    response = _finish(client, HTTP_ACCEPT_LANGUAGE="en")

    assert _error_message(response) == "Your Google account has no verified email address."
    _assert_no_auth_cookies(response)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_email_of_a_local_account_is_not_linked(client, fake_google):
    local = User.objects.create_user(email="Hong@gmail.com", password="correct-Horse-battery-9",
                                     username="hong")

    response = _finish(client, HTTP_ACCEPT_LANGUAGE="en")

    message = _error_message(response)
    assert "already registered with a password" in message
    assert "not linked" in message
    _assert_no_auth_cookies(response)
    assert list(User.objects.all()) == [local]
    local.refresh_from_db()
    assert local.auth_provider == "local" and local.has_usable_password()
    assert not SocialAccount.objects.exists()


@pytest.mark.django_db
def test_inactive_google_user_is_refused(client, fake_google):
    _finish(client)
    User.objects.update(is_active=False)

    response = _finish(Client(), HTTP_ACCEPT_LANGUAGE="en")

    assert _error_message(response) == "This account is inactive."
    _assert_no_auth_cookies(response)


@pytest.mark.django_db
def test_error_message_defaults_to_korean_and_follows_accept_language(client, fake_google):
    state = _start(client)["state"][0]
    params = {"error": "access_denied", "state": state}

    default = _error_message(client.get(CALLBACK, params))
    english = _error_message(client.get(CALLBACK, params, HTTP_ACCEPT_LANGUAGE="en"))

    assert english == "Google sign-in was cancelled."
    assert default == "Google 로그인이 취소되었습니다."


@pytest.mark.django_db
def test_unexpected_failure_still_lands_on_the_frontend(client, fake_google):
    with mock.patch.object(google, "_resolve_user", side_effect=RuntimeError("boom")):
        response = _finish(client, HTTP_ACCEPT_LANGUAGE="en")

    assert _error_message(response) == "Google sign-in failed. Please try again."
    _assert_no_auth_cookies(response)


@pytest.mark.django_db
def test_only_get_is_allowed(client):
    response = client.post(CALLBACK)

    assert response.status_code == 405
    assert response.json()["error"] == "METHOD_NOT_ALLOWED"


@pytest.mark.django_db
def test_a_state_works_once_even_when_its_cookie_is_replayed(client, fake_google):
    """Issue #11 item 16: a copied state cookie and callback URL used to log in again for 10 minutes."""
    state = _start(client)["state"][0]
    cookie = client.cookies[google.STATE_COOKIE].value
    first = client.get(CALLBACK, {"code": "4/fake-code", "state": state})
    assert first["Location"] == SUCCESS_URL

    replay = Client()
    replay.cookies[google.STATE_COOKIE] = cookie  # the browser dropped it; an attacker kept a copy
    response = replay.get(CALLBACK, {"code": "4/fake-code", "state": state}, HTTP_ACCEPT_LANGUAGE="en")

    assert "expired or could not be verified" in _error_message(response)
    _assert_no_auth_cookies(response)
    assert len(fake_google.token_requests) == 1  # the replay never reached Google
