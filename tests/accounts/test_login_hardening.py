"""Issue #11, login and accounts (items 7-12): client IPs, login limits, logout, the admin login, signing keys.

The races run as real concurrent HTTP requests against uvicorn (in a thread of the test process, so the
server and the test share the cache); run this module with ``ECG_CACHE_URL=redis://...`` to check the same
limits on the Redis cache that production uses.
"""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import jwt
import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient
from support import FRONTEND, PASSWORD, CountingPasswordHasher, LiveServer, concurrently

from ecg.http import client_ip

pytestmark = pytest.mark.django_db
OLD_COMMITTED_KEY = "django-insecure-ecg-development-key-do-not-use-in-production"


def login(client, email: str, password: str, **extra):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json", **extra)


# --- item 7: the client address ------------------------------------------------------------------------
@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, "", "10.0.0.1"),
    (0, "1.2.3.4", "10.0.0.1"),  # no trusted proxy: the header is the client's own text
    (0, "1.2.3.4, 5.6.7.8", "10.0.0.1"),
    (1, "1.2.3.4", "1.2.3.4"),
    (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the left entry was written by the client
    (2, "6.6.6.6, 1.2.3.4, 172.16.0.2", "1.2.3.4"),
    (2, "172.16.0.2", "10.0.0.1"),  # fewer entries than proxies: did not come through them
    (1, " , ", "10.0.0.1"),
])
def test_client_ip_is_the_peer_unless_proxies_are_trusted(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_rotating_x_forwarded_for_does_not_escape_the_login_limit(api, settings):
    """The old code keyed the per-IP counter by the client's own X-Forwarded-For header."""
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    for i in range(3):
        assert login(api, f"nobody{i}@example.com", "x-bad-pass", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
                     ).status_code == 401
    blocked = login(api, "nobody9@example.com", "x-bad-pass", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert blocked.status_code == 429


def test_rotating_x_forwarded_for_does_not_escape_drf_throttles(api, settings):
    from accounts.views import AuthThrottle

    old = AuthThrottle.THROTTLE_RATES
    AuthThrottle.THROTTLE_RATES = {**old, "auth": "3/minute"}
    try:
        codes = [api.post("/api/auth/signup", {}, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
                 for i in range(4)]
    finally:
        AuthThrottle.THROTTLE_RATES = old
    assert codes == [422, 422, 422, 429]


# --- items 8 and 9: atomic counting, per email+IP and per IP, Retry-After, equal cost ------------------------
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_logins_never_pass_the_limit(make_user, settings):
    """30 wrong passwords at once: the old check-then-count let 19 reach the password check (401)."""
    settings.LOGIN_FAILURE_LIMIT = 5
    user = make_user("target@example.com")
    with LiveServer() as server, httpx.Client(base_url=server.url, timeout=60) as http:
        codes = concurrently(30, lambda i: http.post("/api/auth/login", json={
            "email": user.email, "password": f"wrong-{i}"}).status_code)
        assert sorted(codes) == [401] * 5 + [429] * 25
        # ... and the right password from that address is refused too until the window ends.
        assert http.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 429


def test_a_stranger_cannot_lock_a_user_out_from_elsewhere(make_user):
    """The old code counted failures per email alone: 5 wrong logins from anywhere locked the owner out."""
    user = make_user("victim@example.com")
    attacker = APIClient(REMOTE_ADDR="198.51.100.66")
    for _ in range(5):
        assert login(attacker, user.email, "wrong-guess").status_code == 401
    blocked = login(attacker, user.email, PASSWORD)
    assert blocked.status_code == 429 and blocked.json()["error"] == "RATE_LIMITED"
    owner = APIClient(REMOTE_ADDR="203.0.113.10")
    assert login(owner, user.email, PASSWORD).status_code == 200


def test_a_success_forgets_that_emails_failures_from_that_address(make_user):
    user = make_user("forgetful@example.com")
    for _ in range(4):
        assert login(APIClient(), user.email, "wrong-guess").status_code == 401
    assert login(APIClient(), user.email, PASSWORD).status_code == 200
    for _ in range(5):
        assert login(APIClient(), user.email, "wrong-again").status_code == 401


def test_retry_after_is_the_time_left_in_the_window(api, user, settings, monkeypatch):
    """The old code always answered Retry-After: 900."""
    from accounts import login_throttle

    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_FAILURE_WINDOW = 900
    now = time.time()
    monkeypatch.setattr(login_throttle.time, "time", lambda: now)
    login(api, user.email, "wrong-1")
    login(api, user.email, "wrong-2")
    monkeypatch.setattr(login_throttle.time, "time", lambda: now + 600)
    blocked = login(api, user.email, PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) == 300


@pytest.fixture
def counting_hasher(settings):
    settings.PASSWORD_HASHERS = ["support.CountingPasswordHasher"]
    CountingPasswordHasher.calls = 0
    return CountingPasswordHasher


def test_unknown_emails_cost_the_same_hash_as_wrong_passwords(api, make_user, counting_hasher):
    """The old code answered an unknown email without hashing (20 ms against 920 ms): an email oracle."""
    make_user("known@example.com")
    make_user("googler@example.com", password=None)  # a Google user: no usable password
    costs = {}
    for email in ("known@example.com", "ghost@example.com", "googler@example.com"):
        counting_hasher.calls = 0
        response = login(APIClient(REMOTE_ADDR=f"10.1.1.{len(costs) + 1}"), email, "wrong-password")
        assert response.status_code == 401
        costs[email] = counting_hasher.calls
    assert costs == {"known@example.com": 1, "ghost@example.com": 1, "googler@example.com": 1}


# --- item 10: logout ---------------------------------------------------------------------------------------
def test_logout_revokes_the_access_token_at_once(user):
    """The old code left a logged-out access token valid for the rest of its 60 minutes."""
    client = APIClient()
    access = login(client, user.email, PASSWORD).json()["access_token"]
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert bearer.get("/api/auth/me").status_code == 200
    assert bearer.post("/api/auth/logout", format="json").status_code == 200
    refused = bearer.get("/api/auth/me")
    assert refused.status_code == 401 and refused.json()["error"] == "INVALID_TOKEN"
    # Its cookie twin (the same token) is refused as well.
    browser = APIClient()
    browser.cookies["access_token"] = access
    assert browser.get("/api/auth/me").status_code == 401


def test_cookie_logout_from_a_foreign_origin_is_refused(user):
    """The old code let any site log a user out (the cookies travel by themselves)."""
    browser = APIClient()
    login(browser, user.email, PASSWORD)
    evil = browser.post("/api/auth/logout", format="json", HTTP_ORIGIN="https://evil.example")
    assert evil.status_code == 403 and evil.json()["error"] == "ORIGIN_NOT_ALLOWED"
    assert "refresh_token" not in evil.cookies  # nothing cleared
    assert browser.get("/api/auth/me").status_code == 200
    assert browser.post("/api/auth/logout", format="json", HTTP_ORIGIN=FRONTEND).status_code == 200
    assert browser.get("/api/auth/me").status_code == 401


# --- item 11: the admin login ---------------------------------------------------------------------------
def test_admin_login_is_throttled_like_the_api_login(make_user):
    """The old admin login took 12 wrong passwords and then logged in with the right one."""
    make_user("ops@example.com", is_staff=True, is_superuser=True)
    browser = Client()
    for i in range(12):
        response = browser.post("/admin/login/", {"username": "ops@example.com", "password": f"wrong-{i}"})
        assert response.status_code in (200, 429)
    blocked = browser.post("/admin/login/?next=/admin/", {"username": "ops@example.com", "password": PASSWORD})
    assert blocked.status_code == 429
    assert 0 < int(blocked["Retry-After"]) <= 900
    assert [error.code for error in blocked.context["form"].non_field_errors().as_data()] == ["rate_limited"]
    assert browser.get("/admin/").status_code == 302  # still logged out
    # The API login shares the counters: the same email from the same address is blocked there too.
    assert login(APIClient(), "ops@example.com", PASSWORD).status_code == 429
    # Another address logs in to the admin normally.
    other = Client(REMOTE_ADDR="203.0.113.5")
    assert other.post("/admin/login/?next=/admin/", {"username": "ops@example.com", "password": PASSWORD},
                      ).status_code == 302
    assert other.get("/admin/").status_code == 200


# --- item 12: no committed key signs anything ------------------------------------------------------------
def test_a_token_forged_with_the_old_committed_key_is_refused(user, settings):
    """The old settings signed JWTs with the repository's development key when SECRET_KEY was unset."""
    assert settings.SECRET_KEY != OLD_COMMITTED_KEY
    now = int(time.time())
    forged = jwt.encode({"token_type": "access", "exp": now + int(timedelta(hours=1).total_seconds()), "iat": now,
                         "jti": "forged", "user_id": str(user.pk)}, OLD_COMMITTED_KEY, algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get("/api/auth/me").status_code == 401
