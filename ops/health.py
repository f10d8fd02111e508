"""Liveness and readiness probes (API.md section 6).

``/health`` answers as long as the process can run a view: no I/O, so a slow database never gets a
healthy web process restarted. ``/health/ready`` checks what a request needs (database, broker, storage)
and answers 503 naming every failing part, so a load balancer stops sending traffic while one is down.
Failure details stay in the log; the response names the part and the exception class only.
"""

from __future__ import annotations

import logging
import socket
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ecg.exceptions import error_response

logger = logging.getLogger(__name__)
TIMEOUT = 3.0  # seconds per dependency: a probe that hangs is as bad as one that fails


def check_database() -> str:
    """Open a fresh connection and run ``SELECT 1`` (a warm pooled connection would prove nothing)."""
    default = connections[DEFAULT_DB_ALIAS]
    options = {key: value for key, value in default.settings_dict.get("OPTIONS", {}).items() if key != "pool"}
    connection = type(default)({**default.settings_dict, "OPTIONS": options}, DEFAULT_DB_ALIAS)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()
    return connection.vendor


def check_broker() -> str:
    """PING the Redis broker; the StubBroker lives in this process and is always there."""
    config = getattr(settings, "DRAMATIQ_BROKER", {}) or {}
    broker = str(config.get("BROKER", ""))
    url = (config.get("OPTIONS") or {}).get("url") or ""
    if broker.endswith("StubBroker"):
        return "stub"
    if broker.endswith("RedisBroker"):
        import redis

        client = redis.Redis.from_url(url or "redis://127.0.0.1:6379/0", socket_connect_timeout=TIMEOUT,
                                      socket_timeout=TIMEOUT)
        try:
            if not client.ping():
                raise ConnectionError("Redis did not answer PING")
        finally:
            client.close()
        return "redis"
    # Any other broker (RabbitMQ, ...): its port must accept connections.
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout=TIMEOUT):
        pass
    return broker.rsplit(".", 1)[-1].lower() or "broker"


def check_storage() -> str:
    """S3: the bucket answers HeadBucket with our credentials. Local: MEDIA_ROOT takes a file."""
    from uploads import storage

    if storage.is_s3():
        from django.core.files.storage import default_storage

        default_storage.connection.meta.client.head_bucket(Bucket=settings.S3_BUCKET)
        return "s3"
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".ready-", delete=True) as probe:
        probe.write(b"ok")
        probe.flush()
    return "local"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "broker": check_broker,
    "storage": check_storage,
}


def _timed(check: Callable[[], str]) -> dict:
    started = time.perf_counter()
    try:
        result = {"status": "ok", "backend": check()}
    except Exception as exc:  # noqa: BLE001 (every failure of a dependency is "not ready")
        logger.warning("readiness: %s is down: %s: %s", check.__name__, type(exc).__name__, exc)
        result = {"status": "down", "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def run_checks(timeout: float = TIMEOUT + 1) -> dict[str, dict]:
    """Run every check at once; one that has not answered within ``timeout`` counts as down."""
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="ready")
    try:
        futures = {name: pool.submit(_timed, check) for name, check in CHECKS.items()}
        done, _pending = wait(futures.values(), timeout=timeout)
        results = {}
        for name, future in futures.items():
            if future in done:
                results[name] = future.result()
            else:
                logger.warning("readiness: %s did not answer within %.1f s", name, timeout)
                results[name] = {"status": "down", "error": "Timeout", "ms": round(timeout * 1000, 1)}
        return results
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a hung check must not hold the response


@require_GET
async def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process serves requests. No database, no broker, no storage."""
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, the broker and storage answer and this process's embedded worker (if
    any) has warmed its models; 503 naming what does not. Remote workers are reported under ``workers``."""
    checks = run_checks()
    failing = [name for name, result in checks.items() if result["status"] != "ok"]
    # Workers: whether they have loaded and warmed their models; the embedded worker of this process
    # must be warm for the process to be ready (ecg.worker.worker_readiness).
    from ecg.worker import worker_readiness

    workers = worker_readiness()
    if not workers["ready"]:
        failing.append("workers")
    if failing:
        message = _("Not ready: %(parts)s is unavailable.") % {"parts": ", ".join(failing)}
        return error_response(request, "NOT_READY", message, 503,
                              {"failing": failing, "checks": checks, "workers": workers})
    return JsonResponse({"status": "ok", "checks": checks, "workers": workers})
