"""Hand-off between the web request and the worker that runs local inference.

The message carries only an id: the prompt waits under that id (Redis when configured, else the process's
cache, which the in-process worker shares), and the worker leaves its answer under the id's result key.
With Redis the request waits on ``BLPOP`` from an asyncio client, so no thread is held while the model
thinks; without Redis (embedded mode, one process) it polls the local cache from the event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache

_sync_client: Any = None


def _redis_url() -> str:
    return getattr(settings, "REDIS_URL", "") or ""


def _prefix() -> str:
    namespace = (getattr(settings, "DRAMATIQ_BROKER", {}) or {}).get("OPTIONS", {}).get("namespace") or "ecg"
    return f"{namespace}:assistant:"


def _client() -> Any:
    global _sync_client
    if _sync_client is None:
        import redis

        _sync_client = redis.Redis.from_url(_redis_url())
    return _sync_client


def put_request(request_id: str, payload: dict[str, Any], ttl: float) -> None:
    key, ttl_s = f"{_prefix()}req:{request_id}", max(1, int(ttl) + 1)
    if _redis_url():
        _client().set(key, json.dumps(payload), ex=ttl_s)
    else:
        cache.set(key, payload, ttl_s)


def take_request(request_id: str) -> dict[str, Any] | None:
    """The waiting prompt, removed (a redelivered message finds nothing and does nothing)."""
    key = f"{_prefix()}req:{request_id}"
    if _redis_url():
        raw = _client().getdel(key)
        return json.loads(raw) if raw else None
    payload = cache.get(key)
    cache.delete(key)
    return payload


def put_result(request_id: str, result: dict[str, Any], ttl: float = 120) -> None:
    key = f"{_prefix()}res:{request_id}"
    if _redis_url():
        pipe = _client().pipeline()
        pipe.rpush(key, json.dumps(result))
        pipe.expire(key, int(ttl))
        pipe.execute()
    else:
        cache.set(key, result, ttl)


async def wait_result(request_id: str, timeout: float) -> dict[str, Any] | None:
    """The worker's answer, or None when ``timeout`` seconds pass first."""
    key = f"{_prefix()}res:{request_id}"
    if _redis_url():
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(_redis_url())
        try:
            got = await client.blpop([key], timeout=max(0.01, timeout))
        finally:
            await client.aclose()
        return json.loads(got[1]) if got else None
    deadline = time.monotonic() + timeout
    while True:
        result = cache.get(key)
        if result is not None:
            cache.delete(key)
            return result
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(0.05)
