#!/usr/bin/env python3
"""Load benchmark of the API as deployed: uvicorn workers, PostgreSQL, Redis, on loopback.

Two measurements (numbers for docs/PERFORMANCE.md, "API load"):

1. Status polling: C concurrent authenticated pollers (default 50 and 200) hit the transcription and render
   status endpoints of running jobs, together offering ``--rate`` requests/s (the editor polls every 2 s,
   so 200 clients at 500 req/s is 5x its real rate); then the same clients without pauses (capacity).
   Prints achieved requests/s, p50/p95/p99 latency and errors.
2. Progress streams (SSE): opens N concurrent ``/api/jobs/{id}/events`` streams, holds them (pings flow),
   then moves every job forward once and measures how long each push takes to reach its streams.
   Prints streams held, time to first event, push latency p50/p95/p99, errors, server threads and RSS.

The load generator is a small HTTP/1.1 keep-alive client on uvloop + httptools (the same parser uvicorn
uses), so on a small machine the client costs as little CPU as possible next to the server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ecg_bench REDIS_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python bench/api.py [--workers 2] [--duration 10] [--clients 50,200] [--rate 500] \\
        [--streams 1000,4000] [--server-env KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# --- a minimal HTTP/1.1 client ----------------------------------------------------------------------
class _Parser:
    """httptools callbacks: collect status and body; ``done`` when a full response was read."""

    def __init__(self) -> None:
        import httptools

        self.parser = httptools.HttpResponseParser(self)
        self.reset()

    def reset(self) -> None:
        self.done = False
        self.body = bytearray()
        self.status = 0

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_message_complete(self) -> None:
        self.done = True


class Connection:
    """One keep-alive connection issuing GETs one at a time (a poller)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.state = _Parser()

    async def get(self, path: str, headers: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + self.host.encode() + b"\r\n" + headers + b"\r\n"
        )
        state = self.state
        state.reset()
        while not state.done:
            data = await self.reader.read(65536)
            if not data:
                await self.close()
                raise ConnectionError("server closed the connection")
            state.parser.feed_data(data)
        return state.status, bytes(state.body)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


class _StreamParser:
    """httptools callbacks for an SSE response: hands each complete ``data:`` payload to ``on_event``."""

    def __init__(self, on_event) -> None:
        import httptools

        self.parser = httptools.HttpResponseParser(self)
        self.on_event = on_event
        self.buffer = b""
        self.status = 0
        self.ended = False

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.buffer += body
        while b"\n\n" in self.buffer:
            frame, self.buffer = self.buffer.split(b"\n\n", 1)
            for line in frame.split(b"\n"):
                if line.startswith(b"data: ") and line != b"data: {}":
                    self.on_event(json.loads(line[6:]))
                elif line.startswith(b": ping"):
                    self.on_event(None)

    def on_message_complete(self) -> None:
        self.ended = True


# --- fixtures ---------------------------------------------------------------------------------------
@dataclass
class Fixtures:
    tokens: list[str]
    transcription_ids: list[str]
    render_ids: list[str]


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecg.settings")
    import django

    django.setup()


def ensure_database(url: str) -> None:
    """CREATE DATABASE when it does not exist yet (PostgreSQL URLs only)."""
    from urllib.parse import urlsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = url[: url.rfind("/")] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')  # noqa: S608 (our own configuration)


def make_fixtures(users: int) -> Fixtures:
    """``users`` users, each with one running transcription and one running render job (at 37 %)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import User
    from accounts.services import issue_tokens
    from ecg.jobs import claim, report_progress
    from rendering.models import RenderJob
    from transcription.models import TranscriptionJob
    from uploads.models import Video

    run = secrets.token_hex(4)
    fixtures = Fixtures([], [], [])
    for i in range(users):
        user = User.objects.create_user(
            email=f"bench-{run}-{i}@example.com", password=secrets.token_urlsafe(16), username=f"bench-{run}-{i}"
        )
        video = Video.objects.create(
            owner=user,
            key=f"uploads/{user.pk}/{run}/clip.mp4",
            original_filename="clip.mp4",
            content_type="video/mp4",
            status=Video.Status.READY,
            size=10_000_000,
            duration=120.0,
            width=1280,
            height=720,
            frame_rate=30.0,
        )
        tjob = TranscriptionJob.objects.create(owner=user, video=video, estimated_seconds=60.0, media_duration=120.0)
        scenario = {"version": "2.0", "cues": []}
        rjob = RenderJob.objects.create(
            owner=user,
            video=video,
            scenario=scenario,
            scenario_original=scenario,
            options={"width": 1280, "height": 720, "fps": 30, "quality": 90, "format": "mp4"},
            estimated_seconds=90.0,
            media_duration=120.0,
        )
        for model, job in ((TranscriptionJob, tjob), (RenderJob, rjob)):
            claim(model, job.pk)
            report_progress(model, job.pk, 37, stage="transcribing" if model is TranscriptionJob else None)
        fixtures.tokens.append(issue_tokens(user).access)
        fixtures.transcription_ids.append(str(tjob.pk))
        fixtures.render_ids.append(str(rjob.pk))
    return fixtures


def advance_all(fixtures: Fixtures, progress: int) -> dict[str, float]:
    """Move every job forward (what workers do); returns when each job's write started (perf_counter)."""
    from ecg.jobs import report_progress
    from rendering.models import RenderJob
    from transcription.models import TranscriptionJob

    started: dict[str, float] = {}
    for tid, rid in zip(fixtures.transcription_ids, fixtures.render_ids, strict=True):
        started[tid] = time.perf_counter()
        report_progress(TranscriptionJob, tid, progress, stage="analyzing")
        started[rid] = time.perf_counter()
        report_progress(RenderJob, rid, progress)
    return started


# --- the server -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, workers: int, env: dict[str, str], app: str = "ecg.asgi:application") -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        *(["--factory", app.removesuffix("()")] if app.endswith("()") else [app]),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
        "--backlog",
        "4096",
    ]
    process = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    time.sleep(1.0)  # let every worker finish importing
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def worker_stats(process: subprocess.Popen) -> list[tuple[int, int, float]]:
    """(pid, threads, RSS MiB) of each uvicorn worker process (children of the supervisor)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(process.pid):
            threads = int(fields["Threads"].strip())
            rss = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
            out.append((int(pid), threads, round(rss, 1)))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """user + system CPU seconds consumed so far by these processes (all their threads)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def database_backends() -> list[int]:
    """PostgreSQL backend pids serving our database (the servers' pooled connections)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


# --- measurements -----------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    ended: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU ms per measured request, by process group

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def line(self, label: str) -> str:
        seconds = self.ended - self.started
        ms = [v * 1000 for v in self.latencies]
        return (
            f"{label:<34} {len(ms) / seconds:8.1f} req/s   p50 {pct(ms, 50):6.1f} ms   p95 {pct(ms, 95):6.1f} ms"
            f"   p99 {pct(ms, 99):6.1f} ms   max {max(ms, default=float('nan')):7.1f} ms   n={len(ms)}"
            f"   errors={sum(self.errors.values())}{' ' + json.dumps(self.errors) if self.errors else ''}"
        ) + (f"\n{'':35}CPU ms/request: " + "  ".join(f"{k} {v:.2f}" for k, v in self.cpu.items()) if self.cpu else "")


async def poll(
    host: str,
    port: int,
    fixtures: Fixtures,
    clients: int,
    duration: float,
    rate: float | None,
    server_pids: list[int],
    db_pids: list[int],
    warmup: float = 2.0,
) -> Run:
    """``clients`` pollers; each polls every clients/rate s (rate None: back to back). Status 200 only."""
    run = Run()
    interval = clients / rate if rate else 0.0
    loop = asyncio.get_running_loop()
    begin = loop.time() + 0.5
    measure_from, stop_at = begin + warmup, begin + warmup + duration

    async def client(i: int) -> None:
        conn = Connection(host, port)
        index = i % len(fixtures.tokens)
        headers = f"Authorization: Bearer {fixtures.tokens[index]}\r\nAccept: application/json\r\n".encode()
        paths = [
            f"/api/upload-video/status/{fixtures.transcription_ids[index]}",
            f"/api/render/{fixtures.render_ids[index]}/status",
        ]
        next_at = begin + (random.random() * interval if interval else 0.0)
        n = i
        while True:
            now = loop.time()
            if now >= stop_at:
                break
            if interval and next_at > now:
                await asyncio.sleep(next_at - now)
            sent = loop.time()
            try:
                status, body = await conn.get(paths[n % 2], headers)
            except (OSError, ConnectionError) as exc:
                run.error(type(exc).__name__)
                await conn.close()
                continue
            finally:
                n += 1
                next_at += interval
            done = loop.time()
            if sent >= measure_from and done <= stop_at:
                if status == 200 and b'"progress":37' in body:
                    run.latencies.append(done - sent)
                else:
                    run.error(f"HTTP {status}")
        await conn.close()

    async def account() -> dict[str, float]:
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        before = {"server": cpu_seconds(server_pids), "postgres": cpu_seconds(db_pids), "client": time.process_time()}
        await asyncio.sleep(max(0.0, stop_at - loop.time()))
        after = {"server": cpu_seconds(server_pids), "postgres": cpu_seconds(db_pids), "client": time.process_time()}
        return {key: after[key] - before[key] for key in before}

    used, *_ = await asyncio.gather(account(), *(client(i) for i in range(clients)))
    run.started, run.ended = measure_from, stop_at
    if run.latencies:
        run.cpu = {key: value * 1000 / len(run.latencies) for key, value in used.items()}
    return run


async def hold_streams(host: str, port: int, fixtures: Fixtures, count: int, hold: float, server) -> dict:
    """Open ``count`` SSE streams, hold them, push one change to every job, measure, close."""
    loop = asyncio.get_running_loop()
    first_event: list[float] = []
    arrivals: list[tuple[str, float]] = []
    errors: dict[str, int] = {}
    pings = [0]
    finished = asyncio.Event()
    alive = [0]
    writers: list[asyncio.StreamWriter] = []
    open_gate = asyncio.Semaphore(256)  # connection bursts beyond the listen backlog would be refused

    async def stream(i: int) -> None:
        index = i % len(fixtures.tokens)
        job_id = (fixtures.transcription_ids if i % 2 == 0 else fixtures.render_ids)[index]
        got_first = asyncio.Event()
        got_push = asyncio.Event()

        def on_event(payload) -> None:
            if payload is None:
                pings[0] += 1
            elif not got_first.is_set():
                got_first.set()
            elif payload.get("progress") == 64 and not got_push.is_set():
                arrivals.append((job_id, time.perf_counter()))
                got_push.set()

        parser = _StreamParser(on_event)
        try:
            async with open_gate:
                started = loop.time()
                reader, writer = await asyncio.open_connection(host, port)
                writers.append(writer)
                writer.write(
                    f"GET /api/jobs/{job_id}/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer "
                    f"{fixtures.tokens[index]}\r\nAccept: text/event-stream\r\n\r\n".encode()
                )

                async def read() -> None:
                    while not parser.ended:
                        data = await reader.read(65536)
                        if not data:
                            break
                        parser.parser.feed_data(data)

                reader_task = asyncio.create_task(read())
                await asyncio.wait(
                    [reader_task, asyncio.create_task(got_first.wait())],
                    return_when=asyncio.FIRST_COMPLETED,
                    timeout=60,
                )
                if not got_first.is_set():
                    raise ConnectionError(f"no first event (HTTP {parser.status})")
                first_event.append(loop.time() - started)
            alive[0] += 1
            await finished.wait()
            reader_task.cancel()
        except (OSError, ConnectionError) as exc:
            key = type(exc).__name__ if not isinstance(exc, ConnectionError) else str(exc)
            errors[key] = errors.get(key, 0) + 1

    began = loop.time()
    tasks = [asyncio.create_task(stream(i)) for i in range(count)]
    while len(first_event) + sum(errors.values()) < count and loop.time() - began < 120:
        await asyncio.sleep(0.1)
    open_seconds = loop.time() - began
    await asyncio.sleep(hold)
    stats = worker_stats(server)
    written = await asyncio.to_thread(advance_all, fixtures, 64)
    deadline = loop.time() + 30
    while len(arrivals) < len(first_event) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    finished.set()
    for writer in writers:
        writer.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    push_latency = [arrived - written[job_id] for job_id, arrived in arrivals]
    return {
        "count": count,
        "held": alive[0],
        "open_s": open_seconds,
        "first": first_event,
        "push": push_latency,
        "errors": errors,
        "pings": pings[0],
        "workers": stats,
    }


def reset_progress(fixtures: Fixtures) -> None:
    """Put every job back at 37 % (the pollers check they read a live job)."""
    from rendering.models import RenderJob
    from transcription.models import TranscriptionJob

    TranscriptionJob.objects.filter(pk__in=fixtures.transcription_ids).update(progress=37)
    RenderJob.objects.filter(pk__in=fixtures.render_ids).update(progress=37)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="uvicorn worker processes")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per level")
    parser.add_argument("--clients", default="50,200", help="concurrent pollers per level")
    parser.add_argument("--rate", type=float, default=500.0, help="requests/s offered by all pollers together")
    parser.add_argument("--no-capacity", action="store_true", help="skip the back-to-back (capacity) runs")
    parser.add_argument("--streams", default="1000,4000", help="concurrent SSE streams per level ('' to skip)")
    parser.add_argument("--hold", type=float, default=12.0, help="seconds to hold the streams before the push")
    parser.add_argument("--users", type=int, default=200, help="users (each with two running jobs)")
    parser.add_argument(
        "--app",
        default="ecg.asgi:application",
        help="ASGI app to serve; 'module:factory()' for a factory, e.g. django.core.asgi:get_asgi_application() "
        "for Django's stock handler (then pass --server-env ECG_DB_POOL=true/false)",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the server (e.g. DB_CONN_MAX_AGE=60)",
    )
    args = parser.parse_args()

    env = {
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ecg_bench"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/11"),
        "ECG_CACHE_URL": os.environ.get("ECG_CACHE_URL", "redis://127.0.0.1:6379/12"),
        "ECG_BROKER_NAMESPACE": os.environ.get("ECG_BROKER_NAMESPACE", "ecg-bench"),
        "SECRET_KEY": os.environ.get("SECRET_KEY", secrets.token_urlsafe(48)),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "ECG_SSE_HEARTBEAT_SECONDS": "5",
    }
    server_env = dict(env)
    for item in args.server_env:
        key, _, value = item.partition("=")
        server_env[key] = value
    if env["DATABASE_URL"].startswith("postgres"):
        ensure_database(env["DATABASE_URL"])
    setup_django(env)
    from django.conf import settings
    from django.db import connection

    fixtures = make_fixtures(args.users)
    port = free_port()
    print(f"server: uvicorn {args.app} --workers {args.workers} (uvloop, httptools) on 127.0.0.1:{port}")
    print(
        f"database: {connection.vendor} {settings.DATABASES['default']['NAME']}, "
        f"CONN_MAX_AGE={server_env.get('DB_CONN_MAX_AGE', '0')}, "
        f"pool={server_env.get('ECG_DB_POOL', 'true (ecg.asgi default)')}, broker/cache: Redis; users: {args.users}; "
        f"extra server env: {args.server_env or 'none'}"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f}")
    server = start_server(port, args.workers, server_env, args.app)
    try:
        import uvloop

        runner = uvloop.run
        print("\nstatus polling (transcription + render status, alternating; 200 with the live payload only)")
        server_pids = [pid for pid, _threads, _rss in worker_stats(server)]
        # Warm up: every worker imports lazily, opens its database pool and fills its caches.
        runner(poll("127.0.0.1", port, fixtures, 20, 2.0, None, server_pids, [], warmup=0.5))
        for clients in [int(c) for c in args.clients.split(",") if c]:
            for rate in [args.rate] + ([] if args.no_capacity else [None]):
                db_pids = database_backends()
                run = runner(poll("127.0.0.1", port, fixtures, clients, args.duration, rate, server_pids, db_pids))
                label = f"{clients} clients @ {rate:.0f} req/s offered" if rate else f"{clients} clients back to back"
                print(run.line(label))
        print(f"server workers after polling (pid, threads, RSS MiB): {worker_stats(server)}")
        levels = [int(c) for c in args.streams.split(",") if c]
        if levels:
            print(f"\nprogress streams (SSE; held {args.hold:.0f} s with 5 s pings, then one push to every job)")
        for count in levels:
            result = runner(hold_streams("127.0.0.1", port, fixtures, count, args.hold, server))
            first = [v * 1000 for v in result["first"]]
            push = [v * 1000 for v in result["push"]]
            print(
                f"{count:>5} streams: held {result['held']:>5}   opened in {result['open_s']:5.1f} s   "
                f"first event p50 {pct(first, 50):6.1f} / p95 {pct(first, 95):6.1f} / p99 {pct(first, 99):6.1f} ms"
                f"   push p50 {pct(push, 50):6.1f} / p95 {pct(push, 95):6.1f} / p99 {pct(push, 99):6.1f} ms "
                f"({len(push)} delivered)   pings {result['pings']}   errors {result['errors'] or 0}"
            )
            print(f"       workers while holding (pid, threads, RSS MiB): {result['workers']}")
            reset_progress(fixtures)
            time.sleep(2)
        print(
            f"\nload average after: {os.getloadavg()[0]:.2f}; "
            f"median of the three: {statistics.median(os.getloadavg()):.2f}"
        )
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
