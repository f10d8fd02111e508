"""Job change notifications: one Redis ``PUBLISH`` per won state change or progress write.

This is the publishing half of the live job events (the job core calls it); the Server-Sent Events stream
that listens lives above the apps in ``ops.events``. With Redis configured a notification is one
``PUBLISH`` on a channel named after the job; without Redis it does nothing and streams poll the job row.
A notification carries no state: listeners re-read the job, so a lost one only delays an event.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

_publisher: Any = None


def redis_url() -> str:
    return getattr(settings, "REDIS_URL", "") or ""


def channel_prefix() -> str:
    """Redis pub/sub ignores the database index, so channels carry the namespace instead (whatever the broker:
    with RabbitMQ, Redis still carries these notifications)."""
    namespace = getattr(settings, "BROKER_NAMESPACE", "") or "ecg"
    return f"{namespace}:job-events:"


def publish(job_id: Any) -> None:
    """Tell listening streams that job ``job_id`` changed; after commit, and never raising.

    The database row is the truth; a lost notification only delays an event until the stream's next
    safety re-read, so a Redis hiccup must never fail the job that is reporting.
    """
    if not redis_url():
        return
    transaction.on_commit(lambda: _publish_now(str(job_id)))


def _publish_now(job_id: str) -> None:
    global _publisher
    try:
        if _publisher is None:
            import redis

            # redis-py's pool is thread-safe and re-created after fork, so one client serves the process.
            _publisher = redis.Redis.from_url(redis_url(), socket_connect_timeout=2, socket_timeout=2)
        _publisher.publish(channel_prefix() + job_id, b"1")
    except Exception as exc:  # noqa: BLE001 (notifications are best effort by design)
        logger.warning("job %s: could not publish a progress notification: %s", job_id, exc)
