"""Constants and helpers shared by test modules (importable; conftest.py is not)."""

from __future__ import annotations

import itertools

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from rest_framework.test import APIClient

PASSWORD = "correct-Horse-battery-9"
FRONTEND = "http://localhost:3000"


def bearer_client(user) -> APIClient:
    from accounts.services import issue_tokens

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user).access}")
    return client


def make_video(user, *, fixture: str | None = None, name: str = "clip.mp4", duration: float = 4.5):
    """A ready ``Video`` row of ``user``; with ``fixture`` (a file in tests/fixtures/media) its file is stored too."""
    import shutil
    import uuid
    from pathlib import Path

    from uploads import storage
    from uploads.models import Video

    if fixture is None:
        return Video.objects.create(owner=user, key=f"uploads/{user.pk}/{uuid.uuid4()}/{name}", original_filename=name,
                                    content_type="video/mp4", status=Video.Status.READY, size=1000, duration=duration)
    key = storage.new_upload_key(user.pk, fixture)
    target = storage.local_path(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__).resolve().parent / "fixtures" / "media" / fixture, target)
    return Video.objects.create(owner=user, key=key, original_filename=fixture, content_type="video/mp4",
                                status=Video.Status.READY, size=target.stat().st_size, duration=duration,
                                has_audio=True)


def broker_is_real() -> bool:
    """A broker shared with other processes (Redis or RabbitMQ), not the in-process StubBroker."""
    from django.conf import settings

    return bool(settings.BROKER_URL)


# The worker integration tests run on every production broker: Redis (REDIS_URL / ECG_BROKER_URL=redis://) and
# RabbitMQ. The session's own broker comes from the settings; the other one, when its URL is given here, is
# swapped in for the test (see ``swap_broker``). .ci/run sets both.
TEST_BROKER_URLS = {"redis": "ECG_TEST_REDIS_URL", "rabbitmq": "ECG_TEST_RABBITMQ_URL"}


def broker_kind(broker=None) -> str:
    """"redis", "rabbitmq" or "stub": which kind of Dramatiq broker ``broker`` (default: the global one) is."""
    import dramatiq

    name = type(broker or dramatiq.get_broker()).__name__
    return {"RedisBroker": "redis", "RabbitmqBroker": "rabbitmq"}.get(name, "stub")


def swap_broker(url: str):
    """Make a broker for ``url`` (built by the same settings function as production) the global one and move
    every declared actor onto it; return a function that puts the previous broker back."""
    import dramatiq
    from django.utils.module_loading import import_string
    from django_dramatiq.utils import load_middleware

    from ecg.settings import dramatiq_broker

    config = dramatiq_broker(url)
    new = import_string(config["BROKER"])(middleware=[load_middleware(m) for m in config["MIDDLEWARE"]],
                                          **config["OPTIONS"])
    old = dramatiq.get_broker()

    def move(source, target) -> None:
        for name in source.get_declared_actors():
            actor = source.get_actor(name)
            actor.broker = target
            target.declare_actor(actor)
        dramatiq.set_broker(target)

    move(old, new)

    def restore() -> None:
        move(new, old)
        new.close()
    return restore


_worker_ids = itertools.count(1)


class WorkerProcess:
    """A real ``manage.py rundramatiq`` process on the test database, media root and broker.

    It inherits the environment, so under the ``real_broker`` fixture it uses that test's broker
    (``ECG_BROKER_URL``) while the cache and progress pub/sub stay on ``REDIS_URL``/``ECG_CACHE_URL``.
    """

    def __init__(self, *queues: str, threads: int = 1, extra_env: dict | None = None) -> None:
        import os
        import shutil
        import subprocess
        import sys
        from pathlib import Path

        from django.conf import settings
        from django.db import connection

        root = Path(__file__).resolve().parents[1]
        env = {**os.environ, "MEDIA_ROOT": str(settings.MEDIA_ROOT), "ECG_WORK_DIR": str(settings.WORK_DIR),
               "PYTHONUNBUFFERED": "1", "ECG_INPROCESS_WORKER": "false", **(extra_env or {})}
        db = connection.settings_dict
        if db["ENGINE"].endswith("sqlite3"):
            env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
        else:
            env["DATABASE_URL"] = (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
                                   f"{db['PORT'] or 5432}/{db['NAME']}")
        # One log per worker (a test that starts a second worker must not truncate the first one's log).
        self.log_path = Path(settings.WORK_DIR) / f"worker-{'-'.join(queues)}-{os.getpid()}-{next(_worker_ids)}.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        # setpriv --pdeathsig (util-linux): the worker gets SIGTERM when the test process dies, so a killed or
        # timed-out test run leaves no worker behind to consume the next run's messages from the same queues.
        stop_with_parent = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []
        self.process = subprocess.Popen(
            [*stop_with_parent, sys.executable, "manage.py", "rundramatiq", "--processes", "1",
             "--threads", str(threads), "--queues", *queues, "--skip-checks"],
            cwd=root, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, line: str, *, timeout: float = 60) -> str:
        """The log once it holds ``line``: a worker logs after the database writes a test waits on."""
        def holds():
            text = self.log()
            return text if line in text else None
        return wait_for(holds, timeout=timeout, interval=0.1, message=f"{line!r} in the worker's log")

    def kill(self, sig=None) -> None:
        import os
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, sig or signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Graceful stop: SIGTERM to the main process only (a second SIGTERM makes Dramatiq exit at once)."""
        import signal
        import subprocess

        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def flush_broker() -> None:
    """Drop every message of every declared queue (and their delay/dead-letter queues) on the global broker."""
    import dramatiq

    broker = dramatiq.get_broker()
    _with_fresh_connection(broker, broker.flush_all)  # RabbitMQ: purges the queues that exist on the server


def _with_fresh_connection(broker, call):
    """``call()``; on RabbitMQ, once more on a new connection if this thread's one died while the test waited
    (RabbitMQ drops a connection that missed its heartbeats; Dramatiq's own enqueue reconnects the same way)."""
    if broker_kind(broker) != "rabbitmq":
        return call()
    import pika.exceptions

    try:
        return call()
    except pika.exceptions.AMQPConnectionError:
        del broker.connection
        return call()


def wait_for(predicate, *, timeout: float, interval: float = 0.25, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` seconds pass (AssertionError).

    The one way tests wait on another process, thread, server or broker: on a condition, with a timeout that
    is generous (a CI machine can be several times slower than a laptop) because it only bounds a hang.
    """
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def broker_messages(queue_name: str, *, delayed: bool = True) -> list:
    """The Dramatiq messages waiting on ``queue_name`` (and its delay queue), for the Stub or the Redis broker."""
    import dramatiq
    from dramatiq import Message
    from dramatiq.common import dq_name

    broker = dramatiq.get_broker()
    names = [queue_name, dq_name(queue_name)] if delayed else [queue_name]
    encoded: list[bytes] = []
    for name in names:
        if hasattr(broker, "client"):  # RedisBroker: every enqueued, unacked message lives in "<ns>:<queue>.msgs"
            encoded += broker.client.hvals(f"{broker.namespace}:{name}.msgs")
        elif name in broker.queues:  # StubBroker
            encoded += list(broker.queues[name].queue)
    return [Message.decode(data) for data in encoded]


def queued_message_count(queue_name: str) -> int:
    """How many messages the global broker still holds for ``queue_name`` (its delay queue included).

    Redis and the StubBroker: every message not yet acked (``broker_messages``). RabbitMQ: the messages ready
    for delivery on the queue or its delay queue (RabbitMQ's count leaves out the ones a consumer holds).
    """
    import dramatiq

    broker = dramatiq.get_broker()
    if broker_kind(broker) == "rabbitmq":
        ready, delayed, _dead = _with_fresh_connection(broker, lambda: broker.get_queue_message_counts(queue_name))
        return ready + delayed
    return len(broker_messages(queue_name))


class CountingPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 that counts its hash computations (``encode``: a check or a dummy hash). Cheap for tests."""

    calls = 0
    iterations = 1000

    def encode(self, password, salt, iterations=None):
        type(self).calls += 1
        return super().encode(password, salt, iterations)


class LiveServer:
    """uvicorn serving our ASGI handler in a thread of the test process, as ``scripts/dev`` runs it.

    ``proxy_headers`` is off as in ``scripts/dev`` and docs/OPERATIONS.md: only ``ECG_TRUSTED_PROXY_COUNT``
    decides whether ``X-Forwarded-For`` is believed. In-thread, so the server shares the test's cache.
    """

    def __init__(self) -> None:
        import os
        import threading

        import uvicorn

        from ecg.handler import ASGIHandler

        port = int(os.environ.get("ECG_TEST_PORT", "0"))  # a fixed port when asked (default: any free one)
        config = uvicorn.Config(ASGIHandler(), host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                loop="asyncio", http="h11", proxy_headers=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-test", daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=60, interval=0.05, message="uvicorn to start")
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)


def concurrently(count: int, call) -> list:
    """Run ``call(index)`` in ``count`` threads released together; returns the results in index order."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(count, timeout=60)

    def run(index: int):
        barrier.wait()
        return call(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def moto_s3_server(bucket: str):
    """Start a local S3-compatible server (moto) with ``bucket`` created; returns ``(endpoint, server)``.

    The caller stops ``server``. Keys are ``test``/``test`` in ``us-east-1``.
    """
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=bucket)
    return endpoint, server
