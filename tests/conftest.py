"""Shared fixtures: users, API clients (Bearer and cookie), an isolated media root, a clean cache."""

from __future__ import annotations

import itertools

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from support import PASSWORD, bearer_client

_emails = itertools.count(1)


@pytest.fixture(autouse=True)
def _isolated_media_and_cache(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.WORK_DIR = tmp_path / "work"
    settings.PUBLIC_BASE_URL = "http://testserver"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db, django_user_model):
    def make(email: str | None = None, password: str = PASSWORD, **extra):
        email = email or f"user{next(_emails)}@example.com"
        return django_user_model.objects.create_user(email=email, password=password,
                                                     username=extra.pop("username", email.split("@")[0]),
                                                     **extra)
    return make


@pytest.fixture
def user(make_user):
    return make_user("kim@example.com", username="kim")


@pytest.fixture
def other_user(make_user):
    return make_user("lee@example.com", username="lee")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def auth_api(user):
    return bearer_client(user)


@pytest.fixture
def other_api(other_user):
    return bearer_client(other_user)


@pytest.fixture(params=["redis", "rabbitmq"])
def real_broker(request, monkeypatch) -> str:
    """Run a worker integration test on each production broker (docs/OPERATIONS.md documents both).

    The session's broker (from the settings) is used as is; the other kind is swapped in for the test when
    its URL is in ``ECG_TEST_RABBITMQ_URL`` / ``ECG_TEST_REDIS_URL`` (``.ci/run`` sets RabbitMQ's), and worker
    processes get it as ``ECG_BROKER_URL``. Without a URL for that kind the variant is skipped, as the whole
    worker integration suite is skipped without a real broker.
    """
    import os

    from support import TEST_BROKER_URLS, broker_kind, flush_broker, swap_broker

    kind = request.param
    if broker_kind() == kind:
        flush_broker()
        yield kind
        flush_broker()
        return
    url = os.environ.get(TEST_BROKER_URLS[kind], "")
    if not url:
        pytest.skip(f"the {kind} variant needs a {kind} broker: set {TEST_BROKER_URLS[kind]} "
                    f"(or make it the session's broker with ECG_BROKER_URL)")
    restore = swap_broker(url)
    monkeypatch.setenv("ECG_BROKER_URL", url)
    try:
        assert broker_kind() == kind
        flush_broker()
        yield kind
        flush_broker()
    finally:
        restore()
