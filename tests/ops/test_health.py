"""API.md section 6: liveness and readiness, with each dependency taken down for real.

"Down" means what an operator would see: the database settings point at a port nobody listens on (or, for
SQLite, a file that cannot be opened), the broker URL at a closed port, the media root under a regular
file so nothing can be written there, S3 at a closed endpoint or a bucket that does not exist.
"""

from __future__ import annotations

import socket

import boto3
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_down(monkeypatch, tmp_path):
    """Only new connections are affected: the readiness probe opens a fresh one on purpose."""
    if connection.vendor == "sqlite":
        monkeypatch.setitem(connection.settings_dict, "NAME", str(tmp_path / "missing-dir" / "db.sqlite3"))
    else:
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", str(closed_port()))


@pytest.fixture
def broker_down(settings):
    settings.DRAMATIQ_BROKER = {**settings.DRAMATIQ_BROKER, "BROKER": "dramatiq.brokers.redis.RedisBroker",
                                "OPTIONS": {"url": f"redis://127.0.0.1:{closed_port()}/0"}}


@pytest.fixture
def storage_down(settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a regular file where the media root's parent should be")
    settings.MEDIA_ROOT = blocker / "media"


def ready(client, **headers):
    response = client.get("/health/ready", **headers)
    assert response["Content-Type"].startswith("application/json")
    return response


def test_liveness_needs_no_io(client, database_down, broker_down, storage_down, django_assert_num_queries):
    with django_assert_num_queries(0):
        for path in ("/health", "/health/"):
            response = client.get(path)
            assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_when_everything_answers(client, settings):
    response = ready(client)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok", "broker": "ok", "storage": "ok"}
    assert body["checks"]["database"]["backend"] == connection.vendor
    assert body["checks"]["broker"]["backend"] == ("redis" if settings.REDIS_URL else "stub")
    assert body["checks"]["storage"]["backend"] == "local"
    assert not any(settings.MEDIA_ROOT.glob(".ready-*"))  # the probe file is cleaned up


@pytest.mark.parametrize("down", ["database", "broker", "storage"])
def test_each_dependency_down_answers_503_naming_it(request, client, down):
    request.getfixturevalue(f"{down}_down")
    response = ready(client, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "NOT_READY" and body["detail"] == body["message"]
    assert down in body["message"]
    assert body["details"]["failing"] == [down]
    checks = body["details"]["checks"]
    assert checks[down]["status"] == "down" and checks[down]["error"]
    assert all(check["status"] == "ok" for name, check in checks.items() if name != down)


def test_everything_down_names_every_part(client, database_down, broker_down, storage_down):
    response = ready(client)
    assert response.status_code == 503
    assert response.json()["details"]["failing"] == ["database", "broker", "storage"]


def test_errors_are_not_cached_and_leak_no_internals(client, database_down):
    response = ready(client)
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    text = response.content.decode()
    assert "127.0.0.1" not in text and "missing-dir" not in text  # hosts and paths stay in the log


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = closed_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket="ecg-ready")
    yield endpoint
    server.stop()


def use_s3(settings, endpoint: str, bucket: str) -> None:
    settings.S3_BUCKET = bucket
    settings.STORAGES = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": bucket, "endpoint_url": endpoint, "region_name": "us-east-1", "access_key": "test",
            "secret_key": "test", "signature_version": "s3v4"}},
        "staticfiles": settings.STORAGES["staticfiles"],
    }


def test_s3_storage_ready_and_down(client, settings, s3_endpoint):
    use_s3(settings, s3_endpoint, "ecg-ready")
    response = ready(client)
    assert response.status_code == 200 and response.json()["checks"]["storage"]["backend"] == "s3"

    use_s3(settings, s3_endpoint, "no-such-bucket")
    response = ready(client)
    assert response.status_code == 503 and response.json()["details"]["failing"] == ["storage"]

    use_s3(settings, f"http://127.0.0.1:{closed_port()}", "ecg-ready")
    response = ready(client)
    assert response.status_code == 503 and response.json()["details"]["failing"] == ["storage"]


def test_a_hanging_dependency_counts_as_down_without_holding_the_probe(monkeypatch):
    import threading

    from ops import health

    release, finished = threading.Event(), threading.Event()

    def hangs() -> str:
        release.wait(30)
        finished.set()
        return "never in time"

    monkeypatch.setitem(health.CHECKS, "broker", hangs)
    try:
        results = health.run_checks(timeout=0.5)
        assert not finished.is_set()  # the answer came while the check was still stuck
    finally:
        release.set()
    assert results["broker"] == {"status": "down", "error": "Timeout", "ms": 500.0}
    assert results["database"]["status"] == results["storage"]["status"] == "ok"
