"""The embedded in-process Dramatiq worker used when no real broker is configured."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading

import dramatiq
from django.conf import settings

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_worker: dramatiq.Worker | None = None


def import_actor_modules() -> None:
    """Import every installed app's ``actors`` module so its actors are declared on the broker."""
    from django.apps import apps

    for config in apps.get_app_configs():
        if importlib.util.find_spec(f"{config.name}.actors") is not None:
            importlib.import_module(f"{config.name}.actors")


def start_inprocess_worker() -> dramatiq.Worker | None:
    """Start (once per process) a worker thread draining the StubBroker's queues."""
    global _worker
    if not settings.ECG_INPROCESS_WORKER:
        return None
    with _lock:
        if _worker is not None:
            return _worker
        import_actor_modules()
        broker = dramatiq.get_broker()
        # One thread: ML and render jobs are CPU-bound and the embedded mode is for one developer.
        _worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=500)
        _worker.start()
        logger.info("in-process dramatiq worker started on %s (queues: %s)", type(broker).__name__,
                    ", ".join(sorted(broker.get_declared_queues())))
        return _worker


def inprocess_worker_running() -> bool:
    """Whether this process drains the queues itself (embedded mode, started by the ASGI entry point)."""
    return _worker is not None
