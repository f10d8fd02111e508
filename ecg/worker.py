"""Dramatiq worker glue: the embedded in-process worker, and warming models up before a worker takes jobs.

Warm-up: a worker serving a queue listed in ``settings.WORKER_WARM_UP`` (queue → dotted path of a function, so
this foundation module imports no app) runs that function in ``before_worker_boot``, i.e. before its consumers
start: the first job after a restart finds every model loaded and exercised. Each warm worker then keeps a
short-lived cache entry per queue fresh, and ``/health/ready`` reports them (``worker_readiness``). The
embedded worker boots in a background thread, so the web process serves requests (and says "warming") while
its worker warms up; jobs sent meanwhile wait in the queue.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import socket
import threading
import time

import dramatiq
from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_worker: dramatiq.Worker | None = None
HEARTBEAT_S = 30.0
CACHE_KEY = "worker-warm:{queue}"

# This process's warm-up: idle (no worker booted here) → warming → warm | failed.
_warm_state: dict = {"state": "idle", "queues": [], "seconds": None, "error": None, "details": {}}
_heartbeat_stop = threading.Event()


def import_actor_modules() -> None:
    """Import every installed app's ``actors`` module so its actors are declared on the broker."""
    from django.apps import apps

    for config in apps.get_app_configs():
        if importlib.util.find_spec(f"{config.name}.actors") is not None:
            importlib.import_module(f"{config.name}.actors")


def warm_up(queues: set[str] | None) -> dict:
    """Run the warm-up of every queue this worker serves (None = all queues); returns this process's state."""
    targets = {q: path for q, path in getattr(settings, "WORKER_WARM_UP", {}).items() if queues is None or q in queues}
    if not targets or not getattr(settings, "WORKER_WARM_UP_ENABLED", True):
        _warm_state.update(state="warm", queues=[], seconds=0.0)  # nothing to warm for these queues
        return dict(_warm_state)
    _warm_state.update(state="warming", queues=sorted(targets), seconds=None, error=None, details={})
    started = time.perf_counter()
    try:
        for queue, path in targets.items():
            _warm_state["details"][queue] = import_string(path)()
    except Exception as exc:
        # The worker still starts (a job then fails with the real error); readiness says what went wrong.
        logger.exception("warm-up of %s failed", ", ".join(targets))
        _warm_state.update(state="failed", error=f"{type(exc).__name__}: {exc}")
        return dict(_warm_state)
    _warm_state.update(state="warm", seconds=round(time.perf_counter() - started, 2))
    logger.info("worker warm in %.1f s (queues: %s)", _warm_state["seconds"], ", ".join(sorted(targets)))
    _publish()
    _start_heartbeat()
    return dict(_warm_state)


def _publish() -> None:
    entry = {"host": socket.gethostname(), "pid": os.getpid(), "at": time.time(), "seconds": _warm_state["seconds"]}
    for queue in _warm_state["queues"]:
        try:
            cache.set(CACHE_KEY.format(queue=queue), entry, timeout=int(HEARTBEAT_S * 3))
        except Exception:  # noqa: BLE001 (a cache outage must not stop the worker)
            logger.warning("could not publish the warm state of queue %s", queue, exc_info=True)


def _start_heartbeat() -> None:
    def beat() -> None:
        while not _heartbeat_stop.wait(HEARTBEAT_S):
            _publish()

    _heartbeat_stop.clear()
    threading.Thread(target=beat, name="warm-heartbeat", daemon=True).start()


class WarmUp(dramatiq.Middleware):
    """Warm the models of the queues a worker serves before it consumes anything."""

    def before_worker_boot(self, broker, worker) -> None:
        queues = set(worker.queues) if getattr(worker, "queues", None) else None
        warm_up(queues)

    def before_worker_shutdown(self, broker, worker) -> None:
        _heartbeat_stop.set()


def worker_readiness() -> dict:
    """What ``/health/ready`` says about workers: this process's embedded worker, and warm workers per queue.

    ``ready`` is False only while this process's own (embedded) worker is warming up or failed to: remote
    workers are reported, not required — jobs wait in the queue for them.
    """
    queues = {}
    for queue in getattr(settings, "WORKER_WARM_UP", {}):
        try:
            entry = cache.get(CACHE_KEY.format(queue=queue))
        except Exception:  # noqa: BLE001
            entry = None
        queues[queue] = {"warm": entry is not None,
                         "seen_s_ago": None if entry is None else round(time.time() - entry["at"], 1)}
    embedded = _worker is not None
    state = _warm_state["state"] if embedded else None
    out = {"embedded": state, "queues": queues, "ready": state not in ("warming", "failed", "idle") or not embedded}
    if embedded and _warm_state["error"]:
        out["error"] = _warm_state["error"]
    return out


def start_inprocess_worker() -> dramatiq.Worker | None:
    """Start (once per process) a worker thread draining the StubBroker's queues; it warms up first."""
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
        _warm_state["state"] = "warming"
        worker = _worker

        def boot() -> None:  # warm-up runs in before_worker_boot: off the web process's start-up path
            worker.start()
            logger.info("in-process dramatiq worker started on %s (queues: %s)", type(broker).__name__,
                        ", ".join(sorted(broker.get_declared_queues())))

        threading.Thread(target=boot, name="inprocess-worker-boot", daemon=True).start()
        return _worker


def inprocess_worker_running() -> bool:
    """Whether this process drains the queues itself (embedded mode, started by the ASGI entry point)."""
    return _worker is not None
