"""Overlay capture: the render page in headless Chromium (Playwright sync API), frame by frame.

Each browser lives in its own worker thread (Playwright's sync objects belong to the thread that made
them); the module keeps a pool of these workers so a worker process reuses its browsers and pages
across jobs, restarting a browser that crashed. Work is cut into segments of consecutive frames; each
segment is rebuilt exactly (a "pre-roll" of DOM-only seeks from the start of its run of active frames,
and Math.random reseeded from the job seed and frame number), so any page renders any segment with the
same pixels as a single sequential page would.

Per frame the page seeks and inspects the overlay; only frames whose visible state changed are painted
and captured, clipped to the box holding captions (CDP Page.captureScreenshot, PNG).
"""

from __future__ import annotations

import atexit
import base64
import json
import logging
import math
import mimetypes
import os
import queue
import signal
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np

from .compose import OverlayCanvas, PreparedOverlay
from .errors import (
    RENDER_BROWSER_FAILED,
    RENDER_PLUGIN_NOT_FOUND,
    RENDER_SCENARIO_INVALID,
    RenderCancelled,
    RenderError,
)
from .plugins import ResolvedPlugin, fetch_origin_file

logger = logging.getLogger(__name__)

ORIGIN = "http://ecg.render"
PAGE_URL = f"{ORIGIN}/page/render.html"
REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE_DIR = REPO_ROOT / "rendering" / "page"
NODE_MODULES = Path(os.environ.get("ECG_RENDER_NODE_MODULES", str(REPO_ROOT / "node_modules")))
VENDOR_PACKAGES = ("motiontext-renderer", "gsap")

BASE_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Not --run-all-compositor-stages-before-draw: it did not keep stale tiles out of screenshots under
    # load (the page's wait for the raster does, see ecgAdvanceBatch), and it keeps every idle browser
    # producing frames (~7 % of a core each, all day, in every worker process).
]
# Headless Chromium paces frames at 60 Hz, so each screenshot waits ~33 ms. These flags remove the
# pacing but make the compositor spin (a full core even on a static page), which costs more than it
# saves on a small machine; we amortize the latency with batched tiles and parallel pages instead.
# Kept (off) for the comparison in docs/RENDERING.md.
FAST_FRAME_ARGS = [
    "--disable-frame-rate-limit",
    "--disable-gpu-vsync",
]
EXTRA_ARGS = ["--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--disable-extensions"]
ADVANCE_BATCH = 120  # frames per page call at most (~0.1–0.3 s of page work: cancellation stays prompt)
# CDP screenshot of a strip: lossless PNG with alpha; `optimizeForSpeed` picks Chromium's fast PNG
# settings (docs/RENDERING.md compares the options).
SCREENSHOT = {"format": "png", "optimizeForSpeed": True, "fromSurface": True, "captureBeyondViewport": False}
SEGMENT_TIMEOUT = 600.0
CANCEL_POLL = 0.25  # seconds between should_cancel() checks while the main thread waits for a segment
CANCEL_GRACE = 1.0  # seconds a page gets to notice a cancel by itself before its browser is killed
KILL_WAIT = 30.0  # seconds to wait for a worker thread to come back from a killed browser (a loaded machine is slow)
KILL_AGAIN = 0.5  # seconds between kills of a browser whose page has not come back yet


def check_page_assets() -> None:
    """The render page's vendored modules must be installed (`npm ci` at the repository root)."""
    for rel in ("motiontext-renderer/dist/index.js", "gsap/dist/gsap.min.js"):
        if not (NODE_MODULES / rel).is_file():
            raise RenderError(
                RENDER_BROWSER_FAILED, f"render page asset node_modules/{rel} is missing: run `npm ci` in {REPO_ROOT}"
            )


def launch_args(fast_frames: bool = False) -> list[str]:
    return [*BASE_ARGS, *(FAST_FRAME_ARGS if fast_frames else []), *EXTRA_ARGS]


# --------------------------------------------------------------------------------------------------
# Job description and results
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Segment:
    index: int
    start: int  # first frame (inclusive)
    end: int  # last frame (exclusive)
    run_start: int  # first frame of the run of active frames holding this segment


@dataclass
class CaptureJob:
    """Everything a page needs to render one job's overlay."""

    job_key: str
    scenario: dict
    plugins: list[ResolvedPlugin]
    width: int
    height: int
    fps: float
    seed: int
    cancel: threading.Event = field(default_factory=threading.Event)
    pad: int | None = None  # how far a filter the page cannot size (url(), unknown) may paint; None: auto
    max_tiles: int = 120  # frames captured per screenshot (at most): one per ADVANCE_BATCH when all change
    live_on_screen: bool = False  # keep the live stage in the viewport (ecgSeek + screenshot tools)
    # Capture only the damage rectangle of a frame that differs from the previous capture in part (off:
    # every changed frame captures its whole caption box; kept for tests and the benchmark).
    damage: bool = True

    @property
    def tile_area(self) -> int:
        if self.live_on_screen:
            return 0
        return max(2, min(4 * self.height, 8192))

    @property
    def viewport(self) -> tuple[int, int]:
        return (self.width, self.height if self.live_on_screen else max(self.height, self.tile_area))


@dataclass
class Strip:
    """One screenshot holding several tiles, kept PNG-compressed until the compositor needs it."""

    png: bytes
    x0: int
    y0: int
    w: int
    h: int


@dataclass
class TileRef:
    """One capture: the rectangle it covers in the frame, where that lies in its strip, the frame's
    whole caption box, and whether it replaces the overlay (full) or patches the previous capture."""

    strip: Strip
    rect: tuple[int, int, int, int]  # x, y, w, h in the frame
    sx: int  # position of rect inside the strip
    sy: int
    bbox: tuple[int, int, int, int]  # the frame's caption box (what is blended)
    full: bool
    base: int | None  # frame of the capture this one patches (None for a full capture)


@dataclass
class SegmentResult:
    segment: Segment
    frames: list[int | None]  # per frame: key into `overlays`, or None when nothing is visible
    overlays: dict[int, TileRef]
    captured: int
    seconds: float
    capture_seconds: float


def plan_segments(active: list[bool], fps: float, segment_seconds: float) -> list[Segment]:
    """Cut the runs of active frames into segments of at most `segment_seconds`."""
    max_len = max(1, int(round(segment_seconds * fps)))
    segments: list[Segment] = []
    n = len(active)
    i = 0
    while i < n:
        if not active[i]:
            i += 1
            continue
        run_start = i
        while i < n and active[i]:
            i += 1
        run_end = i
        for s in range(run_start, run_end, max_len):
            segments.append(Segment(len(segments), s, min(run_end, s + max_len), run_start))
    return segments


def active_frames(intervals: list[tuple[float, float]], frames_total: int, fps: float) -> list[bool]:
    """Frame n is active when t = n / fps lies in any interval (closed; a tiny epsilon errs wide)."""
    active = [False] * frames_total
    eps = 1e-6
    for lo, hi in intervals:
        first = 0 if lo == -math.inf else max(0, math.ceil((lo - eps) * fps))
        last = frames_total - 1 if hi == math.inf else min(frames_total - 1, math.floor((hi + eps) * fps))
        for k in range(first, last + 1):
            active[k] = True
    return active


# --------------------------------------------------------------------------------------------------
# Browser workers
# --------------------------------------------------------------------------------------------------
def _content_type(path: Path) -> str:
    if path.suffix in (".mjs", ".js"):
        return "text/javascript; charset=utf-8"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class BrowserWorker:
    """One thread owning one Playwright instance, one Chromium and one page."""

    def __init__(self, chromium_path: str, name: str):
        self.chromium_path = chromium_path
        self.name = name
        self._tasks: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.dead = False
        self.busy = False
        self.leased = False
        # Touched only inside the thread:
        self._pw = None
        self._browser = None
        self._context = None
        self._page = None
        self._cdp = None
        self._viewport: tuple[int, int] | None = None
        self._job_key: str | None = None
        self._last_seeked: int | None = None
        self._plugins: dict[str, ResolvedPlugin] = {}
        self._console: list[str] = []
        # On the browser's command line (Chromium ignores unknown switches): finds its processes to kill.
        self.marker = f"--ecg-render-worker={os.getpid()}-{id(self):x}"
        self._thread.start()

    # -- thread plumbing ---------------------------------------------------------------------------
    def submit(self, fn: Callable[[BrowserWorker], Any]) -> Future:
        fut: Future = Future()
        self._tasks.put((fn, fut))
        return fut

    def _run(self) -> None:
        while True:
            fn, fut = self._tasks.get()
            if fn is None:
                self._shutdown()
                fut.set_result(None)
                return
            if not fut.set_running_or_notify_cancel():
                continue
            self.busy = True
            try:
                fut.set_result(fn(self))
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                fut.set_exception(exc)
            finally:
                self.busy = False

    def close(self, wait: float = 0.0) -> None:
        """Stop the thread (closing its browser); wait up to `wait` seconds for that to finish."""
        fut: Future = Future()
        self._tasks.put((None, fut))
        if wait > 0:
            try:
                fut.result(timeout=wait)
            except Exception:  # noqa: BLE001, S110 - best effort at shutdown
                pass

    def kill_browser(self) -> int:
        """Kill this worker's Chromium (any thread): the only way to stop a page stuck in one long call.

        A scenario can make a single page call (renderer init, a pre-roll, a batch of seeks) take minutes;
        Playwright's sync objects cannot be used from another thread, so cancel ends the browser's
        processes instead. The worker thread's call then fails at once and the next job starts a new
        browser. Returns the number of processes signalled.
        """
        killed = 0
        for pid in _process_tree(_pids_with_arg(self.marker)):
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                continue
        if killed:
            logger.info("render browser %s killed (%d processes)", self.name, killed)
        return killed

    # -- browser lifecycle (worker thread only) ----------------------------------------------------
    def _shutdown(self) -> None:
        for obj in (self._browser, self._pw):
            try:
                if obj is self._browser and obj is not None:
                    obj.close()
                elif obj is not None:
                    obj.stop()
            except Exception:  # noqa: BLE001, S110 - best effort during shutdown
                pass
        self._pw = self._browser = self._context = self._page = self._cdp = None

    def _ensure_browser(self) -> None:
        if self._browser is not None and self._browser.is_connected() and self._page and not self._page.is_closed():
            return
        self._shutdown()
        from playwright.sync_api import sync_playwright

        started = time.monotonic()
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=self.chromium_path, headless=True, args=[*launch_args(), self.marker]
            )
        except Exception as exc:
            self._shutdown()
            raise RenderError(RENDER_BROWSER_FAILED, f"Chromium could not be started: {exc}") from exc
        self._context = self._browser.new_context(
            viewport={"width": 1280, "height": 720}, device_scale_factor=1, java_script_enabled=True
        )
        self._context.route("**/*", self._route)
        self._page = self._context.new_page()
        self._page.on("console", lambda m: self._console.append(f"{m.type}: {m.text}"[:500]))
        self._page.on("pageerror", lambda e: self._console.append(f"pageerror: {e}"[:500]))
        self._cdp = self._context.new_cdp_session(self._page)
        self._viewport = None
        self._job_key = None
        logger.info("render browser %s started in %.2fs", self.name, time.monotonic() - started)

    def _route(self, route) -> None:
        """Serve the render page, its vendored modules and the job's plugins; block everything else."""
        url = urllib.parse.urlsplit(route.request.url)
        if f"{url.scheme}://{url.netloc}" != ORIGIN:
            route.abort("blockedbyclient")
            return
        path = urllib.parse.unquote(url.path)
        target: Path | None = None
        parts = [p for p in path.split("/") if p]
        if any(p in (".", "..") for p in parts):
            route.fulfill(status=400, body="bad path")
            return
        if len(parts) >= 2 and parts[0] == "page":
            target = PAGE_DIR.joinpath(*parts[1:])
        elif len(parts) >= 3 and parts[0] == "vendor" and parts[1] in VENDOR_PACKAGES:
            target = NODE_MODULES.joinpath(*parts[1:])
        elif len(parts) >= 3 and parts[0] == "plugins" and parts[1] in self._plugins:
            plugin = self._plugins[parts[1]]
            target = Path(plugin.directory).joinpath(*parts[2:])
            if not target.is_file():
                target = fetch_origin_file(plugin, "/".join(parts[2:]))
        if target is None or not target.is_file():
            route.fulfill(status=404, body="not found", headers={"content-type": "text/plain"})
            return
        route.fulfill(status=200, body=target.read_bytes(), headers={"content-type": _content_type(target)})

    def _load_job(self, job: CaptureJob) -> None:
        """Navigate (resets all page state), then init the renderer for this job."""
        page = self._page
        viewport = job.viewport
        if self._viewport != viewport:
            page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
            self._viewport = viewport
        self._plugins = {p.full_name: p for p in job.plugins}
        self._console.clear()
        page.goto(PAGE_URL, wait_until="load")
        page.wait_for_function("window.ecgPageReady === true", timeout=30_000)
        self._cdp.send("Emulation.setDefaultBackgroundColorOverride", {"color": {"r": 0, "g": 0, "b": 0, "a": 0}})
        cfg = {
            "plugins": [
                {
                    "name": p.name,
                    "version": p.version,
                    "entryUrl": f"{ORIGIN}/plugins/{p.full_name}/{p.entry}",
                    "baseUrl": f"{ORIGIN}/plugins/{p.full_name}/",
                    "manifest": p.manifest,
                }
                for p in job.plugins
            ],
            "width": job.width,
            "height": job.height,
            "fps": job.fps,
            "seed": job.seed & 0xFFFFFFFF,
            "pad": job.pad,
            "tileArea": job.tile_area,
            "liveOnScreen": job.live_on_screen,
            "damage": job.damage,
        }
        # The scenario goes as one JSON string parsed by the page: Playwright's own argument serialization
        # walks every value in Python and took seconds for a long scenario (GIL-bound, not cancellable).
        res = page.evaluate("([cfg, s]) => ecgInit({...cfg, scenario: JSON.parse(s)})",
                            [cfg, json.dumps(job.scenario, ensure_ascii=False, allow_nan=False)])
        if not res.get("ok"):
            if res.get("pluginErrors"):
                errs = res["pluginErrors"]
                names = ", ".join(e["plugin"] for e in errs)
                raise RenderError(
                    RENDER_PLUGIN_NOT_FOUND,
                    f"plugin {names} could not be loaded: {errs[0]['message']}",
                    {"plugin": errs[0]["plugin"], "errors": errs},
                )
            raise RenderError(RENDER_SCENARIO_INVALID, f"the renderer rejected the scenario: {res.get('error')}")
        self._job_key = job.job_key
        self._last_seeked = None

    # -- segment capture (worker thread) -----------------------------------------------------------
    def capture_segment(self, job: CaptureJob, seg: Segment, *, retry: bool = True) -> SegmentResult:
        from playwright.sync_api import Error as PlaywrightError

        try:
            return self._capture_segment(job, seg)
        except PlaywrightError as exc:
            if job.cancel.is_set():
                raise RenderCancelled() from exc
            logger.warning("render browser %s failed (%s); restarting it", self.name, exc)
            self._shutdown()
            if not retry:
                raise RenderError(RENDER_BROWSER_FAILED, f"the render browser failed: {exc}") from exc
            return self.capture_segment(job, seg, retry=False)

    def _capture_segment(self, job: CaptureJob, seg: Segment) -> SegmentResult:
        started = time.monotonic()
        self._ensure_browser()
        if job.cancel.is_set():
            raise RenderCancelled()
        if self._job_key != job.job_key:
            self._load_job(job)
        page, cdp = self._page, self._cdp
        # Rebuild the sequential state at seg.start with DOM-only seeks (no paint, no capture).
        preroll_from = seg.run_start
        if self._last_seeked is not None and seg.run_start <= self._last_seeked < seg.start:
            preroll_from = self._last_seeked + 1
        if preroll_from < seg.start:
            page.evaluate("([a, b]) => ecgPreroll(a, b)", [preroll_from, seg.start])
        page.evaluate("() => ecgResetSignature()")
        frames: list[int | None] = [None] * (seg.end - seg.start)
        overlays: dict[int, TileRef] = {}
        current: int | None = None  # the latest capture (what a patch applies to)
        captured = 0
        capture_seconds = 0.0
        n = seg.start
        while n < seg.end:
            if job.cancel.is_set():
                raise RenderCancelled()
            # The page waits until the batch's frame is rastered before it answers (render.mjs): a
            # screenshot's forced redraw alone could show parts of the previous frame on a busy machine.
            res = page.evaluate(
                "([a, b, m]) => ecgAdvanceBatch(a, b, m)", [n, min(seg.end, n + ADVANCE_BATCH), job.max_tiles]
            )
            tiles = res["tiles"]
            keys: list[int] = []
            before = current  # what code -2 (same as the last capture of an earlier batch) means
            if tiles:
                x0, y0, cw, ch = res["clip"]
                t0 = time.monotonic()
                shot = cdp.send(
                    "Page.captureScreenshot",
                    {**SCREENSHOT, "clip": {"x": x0, "y": y0, "width": cw, "height": ch, "scale": 1}},
                )
                strip = Strip(base64.b64decode(shot["data"]), x0, y0, cw, ch)
                capture_seconds += time.monotonic() - t0
                for tile in tiles:
                    full = bool(tile["full"])
                    overlays[tile["frame"]] = TileRef(
                        strip,
                        tuple(tile["rect"]),
                        tile["x"] - x0,
                        tile["y"] - y0,
                        tuple(tile["bbox"]),
                        full,
                        None if full else current,
                    )
                    if not full and current is None:
                        raise RenderError(RENDER_BROWSER_FAILED, "the render page sent a patch with nothing to patch")
                    current = tile["frame"]
                    keys.append(tile["frame"])
                captured += len(tiles)
            for i, code in enumerate(res["codes"]):
                if code == -1:
                    frames[n + i - seg.start] = None
                elif code == -2:
                    frames[n + i - seg.start] = before
                else:
                    frames[n + i - seg.start] = keys[code]
            n = res["next"]
        self._last_seeked = seg.end - 1
        return SegmentResult(seg, frames, overlays, captured, time.monotonic() - started, capture_seconds)

    # -- free-form calls for tools (bench, tests) --------------------------------------------------
    def call(self, job: CaptureJob, fn: Callable[[Any, Any], Any]) -> Any:
        """Run fn(page, cdp) in this worker with the job loaded (fresh page state)."""
        self._ensure_browser()
        self._load_job(job)
        self._job_key = None  # the caller may leave the page in any state
        return fn(self._page, self._cdp)

    def console_tail(self) -> list[str]:
        return list(self._console[-20:])


def decode_png(data: bytes) -> np.ndarray:
    """Decode one PNG to straight-alpha RGBA. A fresh single-threaded decoder per image: a reused
    (frame-threaded) one returns frames with a delay, i.e. the previous screenshot."""
    ctx = av.CodecContext.create("png", "r")
    ctx.thread_count = 1
    frames = ctx.decode(av.Packet(data))
    frames += ctx.decode(None)
    return frames[0].to_ndarray(format="rgba")


def _fit(rgba: np.ndarray, w: int, h: int) -> np.ndarray:
    """The decoded strip as exactly h x w: itself when it already is (the usual case; no 10 MB copy per
    screenshot), else cut or zero-padded (Chromium may return a pixel more or less at a fractional clip)."""
    if rgba.shape[0] == h and rgba.shape[1] == w:
        return rgba
    out = np.zeros((h, w, 4), np.uint8)
    hh, ww = min(h, rgba.shape[0]), min(w, rgba.shape[1])
    out[:hh, :ww] = rgba[:hh, :ww]
    return out


# --------------------------------------------------------------------------------------------------
# Module-level pool (per worker process)
# --------------------------------------------------------------------------------------------------
_POOL_LOCK = threading.Lock()
_POOL: list[BrowserWorker] = []


def _pids_with_arg(arg: str) -> list[int]:
    """Processes whose command line holds ``arg`` exactly (Linux /proc; nothing elsewhere)."""
    found = []
    needle = arg.encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "cmdline").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _process_tree(roots: list[int]) -> list[int]:
    """``roots`` and all their descendants (children first killed last does not matter with SIGKILL)."""
    if not roots:
        return []
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        if pid not in out:
            out.append(pid)
            todo.extend(children.get(pid, []))
    return out


def acquire_workers(count: int, chromium_path: str) -> list[BrowserWorker]:
    """Take `count` idle workers from the pool (starting threads as needed); release them after."""
    with _POOL_LOCK:
        free = [w for w in _POOL if not w.dead and not w.busy and not w.leased and w.chromium_path == chromium_path]
        while len(free) < count:
            w = BrowserWorker(chromium_path, f"ecg-render-browser-{len(_POOL)}")
            _POOL.append(w)
            free.append(w)
        chosen = free[:count]
        for w in chosen:
            w.leased = True
        return chosen


def release_workers(workers: list[BrowserWorker]) -> None:
    with _POOL_LOCK:
        for w in workers:
            w.leased = False
            if w.dead and w in _POOL:
                _POOL.remove(w)
                w.close()


def shutdown_pool() -> None:
    """Close every pooled browser and stop its thread (tests, process exit)."""
    with _POOL_LOCK:
        workers = list(_POOL)
        _POOL.clear()
    for w in workers:
        w.close(wait=15.0)


# Browser threads are daemons; stop them (and their Chromium) before the interpreter tears down.
atexit.register(shutdown_pool)


def default_parallel_pages(parallel_pages: int) -> int:
    """Capture mostly waits for Chromium's frame clock; batching hides most of it, two pages the rest."""
    if parallel_pages > 0:
        return parallel_pages
    cpus = os.cpu_count() or 1
    return max(2, min(8, cpus))


class OverlayStream:
    """Captures a job's segments on parallel pages and hands out per-frame overlays in frame order."""

    def __init__(
        self,
        job: CaptureJob,
        segments: list[Segment],
        frames_total: int,
        workers: list[BrowserWorker],
        canvas: OverlayCanvas,
        should_cancel: Callable[[], bool] | None = None,
    ):
        self.job = job
        self.should_cancel = should_cancel
        self.segments = segments
        self.workers = workers
        self.frames_total = frames_total
        self.canvas = canvas
        self._futures: dict[int, Future] = {}
        self._next_submit = 0
        self._lookahead = max(2, 2 * len(workers))
        self._current: SegmentResult | None = None
        # Captures are decoded and painted into the canvas lazily, in frame order, one strip at a time:
        # memory stays at a few compressed strips however long the look-ahead.
        self._strip: Strip | None = None
        self._strip_rgba: np.ndarray | None = None
        self._prepared_key: int | None = None
        self._prepared: PreparedOverlay | None = None
        self.prepare_seconds = 0.0
        self.captured = 0
        self.patches = 0
        self.captured_pixels = 0
        self.capture_seconds = 0.0
        self.segment_seconds = 0.0
        self._fill()

    def _fill(self) -> None:
        while self._next_submit < len(self.segments) and len(self._futures) < self._lookahead:
            seg = self.segments[self._next_submit]
            worker = self.workers[seg.index % len(self.workers)]
            self._futures[seg.index] = worker.submit(lambda w, s=seg: w.capture_segment(self.job, s))
            self._next_submit += 1

    def segment_for(self, frame: int) -> SegmentResult | None:
        cur = self._current
        if cur is not None and cur.segment.start <= frame < cur.segment.end:
            return cur
        # Segments are consumed in order; find the one holding `frame`, if any.
        while self._futures:
            idx = min(self._futures)
            seg = self.segments[idx]
            if frame < seg.start:
                return None
            fut = self._futures[idx]
            res = self._wait(fut)
            del self._futures[idx]
            self.captured += res.captured
            self.capture_seconds += res.capture_seconds
            self.segment_seconds += res.seconds
            self._fill()
            self._current = res
            if seg.start <= frame < seg.end:
                return res
        return None

    def _wait(self, fut: Future) -> SegmentResult:
        """The segment's result; a cancel is noticed within CANCEL_POLL (plus the caller's own throttle)."""
        deadline = time.monotonic() + SEGMENT_TIMEOUT
        while True:
            try:
                return fut.result(timeout=CANCEL_POLL)
            except TimeoutError:
                pass
            if self.should_cancel is not None and self.should_cancel():
                self.job.cancel.set()
                raise RenderCancelled()
            if time.monotonic() > deadline:
                for w in self.workers:
                    w.dead = True
                raise RenderError(RENDER_BROWSER_FAILED, "the render browser stopped responding")

    def overlay_for(self, frame: int) -> PreparedOverlay | None:
        """The overlay to blend onto `frame` (None: nothing visible). Call for every frame, in order:
        a damage patch applies to the capture before it."""
        res = self.segment_for(frame)
        if res is None:
            return None
        key = res.frames[frame - res.segment.start]
        if key is None:
            return None
        if key != self._prepared_key:
            t0 = time.monotonic()
            ref = res.overlays[key]
            if ref.full:
                self.canvas.clear()
            elif ref.base != self._prepared_key:
                raise RenderError(
                    RENDER_BROWSER_FAILED, f"capture of frame {key} patches frame {ref.base}, not {self._prepared_key}"
                )
            else:
                self.patches += 1
            if ref.strip is not self._strip:
                self._strip_rgba = _fit(decode_png(ref.strip.png), ref.strip.w, ref.strip.h)
                self._strip = ref.strip
            x, y, w, h = ref.rect
            self.canvas.paint(self._strip_rgba[ref.sy : ref.sy + h, ref.sx : ref.sx + w], x, y)
            self.captured_pixels += w * h
            self._prepared = self.canvas.view(ref.bbox)
            self._prepared_key = key
            self.prepare_seconds += time.monotonic() - t0
        return self._prepared

    def close(self) -> None:
        """Stop capturing: pending segments are dropped, a page still busy after CANCEL_GRACE is killed."""
        self.job.cancel.set()
        for fut in self._futures.values():
            fut.cancel()
        running = {fut: self.workers[idx % len(self.workers)] for idx, fut in self._futures.items()
                   if not fut.cancelled()}
        wait(running, timeout=CANCEL_GRACE)
        stuck = {fut: worker for fut, worker in running.items() if not fut.done()}
        # Kill until every page has come back (bounded), not once: a browser still being launched at the first
        # kill has no processes to find yet (or spawns some after the /proc scan), and its launch on a loaded
        # machine can outlast any fixed wait; killed again, its launch fails at once. Returning while a page
        # still runs would hand back a worker whose thread is busy with the cancelled job.
        deadline = time.monotonic() + KILL_WAIT
        while stuck and time.monotonic() < deadline:
            for worker in set(stuck.values()):
                worker.kill_browser()
            wait(stuck, timeout=min(KILL_AGAIN, max(0.0, deadline - time.monotonic())))
            stuck = {fut: worker for fut, worker in stuck.items() if not fut.done()}
        for worker in set(stuck.values()):  # its thread never came back: never lend this worker again
            logger.error("render browser %s: its page did not come back %.0fs after the kill", worker.name, KILL_WAIT)
            worker.dead = True
        self._futures.clear()
