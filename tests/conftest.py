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
