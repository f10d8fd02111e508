"""Constants and helpers shared by test modules (importable; conftest.py is not)."""

from __future__ import annotations

from rest_framework.test import APIClient

PASSWORD = "correct-Horse-battery-9"
FRONTEND = "http://localhost:3000"


def bearer_client(user) -> APIClient:
    from accounts.services import issue_tokens

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user).access}")
    return client
