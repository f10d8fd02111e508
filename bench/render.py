"""Caption render benchmark: optimized pipeline vs naive capture-every-frame vs plain re-encode.

Generates a clip (default 60 s 1280x720 30 fps, moving gradient + sine tone) and a realistic
scenario (a caption every ~2.5 s, karaoke + pop on every word, loudness emphasis on some), then
times, on the same clip and encoder settings:
  * the pipeline (rendering.pipeline.render_video),
  * a naive renderer: seek + full-page screenshot + full-frame RGB blend for every frame,
  * a plain decode → encode of the source with no overlay (the floor).

    .venv/bin/python bench/render.py [--seconds 60] [--width 1280 --height 720] [--skip-naive]
    .venv/bin/python bench/render.py --capture-methods   # compare screenshot methods
    .venv/bin/python bench/render.py --skip-naive --content-cost   # + x264 alone on plain vs captioned
    .venv/bin/python bench/render.py --skip-naive --style catalogue --repeat 1   # every word: one of the 18
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # testmedia: the one clip generator

from testmedia import make_clip  # noqa: E402

from rendering.pipeline import RendererConfig, RenderOptions, render_video, validate_scenario  # noqa: E402
from rendering.pipeline.capture import (  # noqa: E402
    CaptureJob,
    acquire_workers,
    decode_png,
    release_workers,
    shutdown_pool,
)
from rendering.pipeline.compose import blend_rgb_full  # noqa: E402
from rendering.pipeline.encode import AudioHandler, add_video_stream, probe_encoder  # noqa: E402
from rendering.pipeline.plugins import resolve_plugins  # noqa: E402
from rendering.pipeline.probe import probe_source  # noqa: E402
from rendering.pipeline.scenario import plugin_names  # noqa: E402

# The animation catalogue's bundled plugins (the 18 editor animations), as a worker passes them.
CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "assets" / "plugins"
CATALOGUE = {p.name: str(p) for p in sorted(CATALOGUE_DIR.iterdir()) if (p / "manifest.json").is_file()}


def catalogue_chain(w: int) -> list[dict]:
    """Word w's chain for style "catalogue": the 18 animations in turn, with the editor's defaults and
    default window (the manifest's timeOffset), as the editor writes them when an asset is applied."""
    key = list(CATALOGUE)[w % len(CATALOGUE)]
    manifest = json.loads((Path(CATALOGUE[key]) / "manifest.json").read_text())
    params = {k: f["default"] for k, f in manifest["schema"].items()}
    if key.startswith("cwi-"):
        params.update(speaker="S1", palette="define.speakerPalette")
    return [{"name": key, "params": params, "timeOffset": manifest.get("timeOffset") or ["0%", "100%"]}]


WORDS = (
    "we shipped the new caption renderer today and it keeps every frame exact while the video "
    "plays back smoothly so viewers can follow along with each word as it is spoken out loud"
).split()


def tree_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process and all its descendants (Chromium, the
    Playwright driver). Unlike wall time this is not skewed by other load on a shared machine."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                st = fh.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2 :].split()
        procs[int(pid)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    me = os.getpid()
    total = 0.0
    for pid, (_ppid, cpu) in procs.items():
        p = pid
        while p > 1 and p != me:
            p = procs.get(p, (0, 0))[0]
        if p == me:
            total += cpu
    return total


def make_scenario(seconds: float, seed: int = 1, style: str = "karaoke") -> dict:
    """A caption every ~2.5 s; every word pops in, every third word gets loudness emphasis and, with
    style "karaoke", every word also gets a colour wipe over its whole duration (so ~90% of frames
    change); style "pop" animates only the 0.25 s entrance of each word (+ emphasis); style "catalogue"
    gives every word one of the catalogue's 18 animations (in turn) and nothing else."""
    rnd = random.Random(seed)
    cues = []
    t, w = 0.3, 0
    while t + 2.2 <= seconds:
        n_words = rnd.randint(4, 6)
        span = 2.2
        bounds = sorted(rnd.uniform(t, t + span) for _ in range(n_words - 1))
        edges = [t, *bounds, t + span]
        children = []
        for j in range(n_words):
            ws, we = round(edges[j], 3), round(max(edges[j + 1], edges[j] + 0.05), 3)
            chain = [
                {
                    "name": "ecg-pop@1.0.0",
                    "params": {},
                    "baseTime": [ws, round(ws + 0.25, 3)],
                    "timeOffset": ["0%", "0%"],
                },
            ]
            if style == "karaoke":
                chain.insert(
                    0,
                    {"name": "ecg-karaoke@1.0.0", "params": {"highlightColor": "#ffe066"}, "timeOffset": ["0%", "0%"]},
                )
            if style == "catalogue":
                chain = catalogue_chain(w)
            elif w % 3 == 0:
                chain.append(
                    {
                        "name": "ecg-loudness@1.0.0",
                        "params": {"volume_db": round(rnd.uniform(-34, -8), 1), "loudColor": "#ff6b6b"},
                        "timeOffset": ["0%", "0%"],
                    }
                )
            children.append(
                {
                    "id": f"w{w}",
                    "eType": "text",
                    "text": WORDS[w % len(WORDS)],
                    "baseTime": [ws, we],
                    "pluginChain": chain,
                }
            )
            w += 1
        cid = len(cues)
        cues.append(
            {
                "id": f"cue-{cid}",
                "track": "caption",
                "domLifetime": [round(t, 3), round(t + span, 3)],
                "root": {
                    "id": f"clip-{cid}",
                    "eType": "group",
                    "displayTime": [round(t, 3), round(t + span, 3)],
                    "layout": {
                        "anchor": "bc",
                        "position": "define.caption.position",
                        "childrenLayout": "define.caption.childrenLayout",
                    },
                    "children": children,
                },
            }
        )
        t += 2.5
    return {
        "version": "2.0",
        "pluginApiVersion": "3.0",
        "timebase": {"unit": "seconds", "fps": 30},
        "stage": {"baseAspect": "16:9"},
        "define": {
            "caption": {
                "position": {"x": 0.5, "y": 0.9},
                "childrenLayout": {
                    "mode": "flow",
                    "direction": "horizontal",
                    "wrap": True,
                    "maxWidth": "90%",
                    "gap": 0.006,
                    "align": "center",
                    "justify": "center",
                },
            },
            "speakerPalette": {"S1": "#74c0fc"},
        },
        "tracks": [
            {
                "id": "caption",
                "type": "subtitle",
                "layer": 1,
                "defaultStyle": {"fontSizeRel": 0.055, "fontFamily": "sans-serif", "color": "#ffffff"},
                "defaultBoxStyle": {
                    "backgroundColor": "rgba(0,0,0,0.5)",
                    "padding": "0.3em 0.6em",
                    "borderRadius": "0.3em",
                },
            }
        ],
        "cues": cues,
    }


def transcode(src: str, dst: str, *, quality: int, preset: str, overlay=None) -> int:
    """Decode → (overlay(frame, k) → frame) → encode with the pipeline's encoder settings, audio copied.
    Returns the number of video frames written."""
    info = probe_source(src)
    inp = av.open(src)
    vin = inp.streams.video[0]
    vin.thread_type = "AUTO"
    ain = inp.streams.audio[0]
    out = av.open(dst, "w", format="mp4", options={"movflags": "+faststart"})
    vout = add_video_stream(
        out, "libx264", width=info.width, height=info.height, rate=info.fps, quality=quality, x264_preset=preset
    )
    audio = AudioHandler(out, ain, "mp4")
    k = 0
    for packet in inp.demux(vin, ain):
        if packet.stream.index == ain.index:
            audio.handle(out, packet)
            continue
        for frame in packet.decode():
            if overlay is not None:
                frame = overlay(frame, k)
            frame.pts, frame.time_base = k, 1 / info.fps
            frame.pict_type = av.video.frame.PictureType.NONE
            k += 1
            for p in vout.encode(frame):
                out.mux(p)
    for p in vout.encode(None):
        out.mux(p)
    out.close()
    inp.close()
    return k


def plain_reencode(src: str, dst: str, *, quality: int, preset: str) -> float:
    """The floor: decode → encode with no overlay. Returns seconds."""
    t0 = time.monotonic()
    transcode(src, dst, quality=quality, preset=preset)
    return time.monotonic() - t0


def naive_render(src: str, scenario: dict, dst: str, *, quality: int, preset: str, config: RendererConfig) -> dict:
    """Every frame: seek + paint, full-page screenshot, full-frame RGB blend, encode."""
    t0 = time.monotonic()
    info = probe_source(src)
    scenario = validate_scenario(scenario)
    plugins = resolve_plugins(plugin_names(scenario), plugin_dirs=CATALOGUE)
    fps = float(info.fps)
    job = CaptureJob("naive", scenario, plugins, info.width, info.height, fps, 7, live_on_screen=True)
    [worker] = acquire_workers(1, config.chromium_path)

    def run(page, cdp):
        def overlay(frame: av.VideoFrame, k: int) -> av.VideoFrame:
            page.evaluate("t => ecgSeek(t)", k / fps)
            rgba = decode_png(page.screenshot(type="png", omit_background=True))
            return av.VideoFrame.from_ndarray(blend_rgb_full(frame.to_ndarray(format="rgb24"), rgba), format="rgb24")

        return transcode(src, dst, quality=quality, preset=preset, overlay=overlay)

    try:
        frames = worker.submit(lambda w: w.call(job, run)).result()
    finally:
        release_workers([worker])
    return {"seconds": time.monotonic() - t0, "frames": frames}


def content_cost(src: str, captioned: str, *, quality: int, preset: str, seconds: float = 20.0) -> dict:
    """Encode-only CPU for the plain source vs the captioned output (frames decoded in advance, so only
    the encoder runs): how much more x264 spends because the captions are in the picture."""
    info = probe_source(src)
    limit = int(round(seconds * float(info.fps)))

    def frames(path: str) -> list[np.ndarray]:
        with av.open(path) as c:
            out = []
            for f in c.decode(video=0):
                out.append(f.to_ndarray(format="yuv420p"))
                if len(out) >= limit:
                    break
            return out

    def encode(arrays: list[np.ndarray], dst: str) -> float:
        c0 = tree_cpu_seconds()
        out = av.open(dst, "w")
        vs = add_video_stream(
            out, "libx264", width=info.width, height=info.height, rate=info.fps, quality=quality, x264_preset=preset
        )
        for i, a in enumerate(arrays):
            fr = av.VideoFrame.from_ndarray(a, format="yuv420p")
            fr.pts = i
            for p in vs.encode(fr):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
        out.close()
        return tree_cpu_seconds() - c0

    work = os.path.dirname(src)
    plain, with_captions = frames(src), frames(captioned)
    runs = [
        (encode(plain, os.path.join(work, "cc-a.mp4")), encode(with_captions, os.path.join(work, "cc-b.mp4")))
        for _ in range(2)
    ]
    return {"frames": len(plain), "plain_cpu": min(r[0] for r in runs), "captioned_cpu": min(r[1] for r in runs)}


def capture_methods(width: int, height: int, scenario: dict, config: RendererConfig, n: int = 60) -> dict:
    """Time the candidate capture methods on the same caption state (per call, ms)."""
    scenario = validate_scenario(scenario)
    plugins = resolve_plugins(plugin_names(scenario), plugin_dirs=CATALOGUE)
    job = CaptureJob("methods", scenario, plugins, width, height, 30.0, 7, live_on_screen=True)
    [worker] = acquire_workers(1, config.chromium_path)

    def run(page, cdp):
        results = {}
        frame0 = 1 * 30 + 5  # inside the first caption, mid-animation
        page.evaluate("t => ecgSeek(t)", frame0 / 30)
        info = page.evaluate("t => ecgSeek(t)", (frame0 + 1) / 30)
        x, y, w, h = info["bbox"]
        clip = {"x": x, "y": y, "width": w, "height": h, "scale": 1}
        png = av.CodecContext.create("png", "r")

        def timed(name, fn, move=True):
            total = 0.0
            for i in range(n):
                if move:  # a changed frame each time, like the real loop
                    page.evaluate("k => ecgSeek(k / 30)", frame0 + (i % 20))
                t = time.monotonic()
                fn()
                total += time.monotonic() - t
            results[name] = round(total / n * 1000, 2)

        timed("playwright page.screenshot full page png", lambda: page.screenshot(type="png", omit_background=True))
        timed(
            "playwright page.screenshot clip png",
            lambda: page.screenshot(
                type="png", omit_background=True, clip={k: clip[k] for k in ("x", "y", "width", "height")}
            ),
        )
        timed(
            "CDP captureScreenshot clip png optimizeForSpeed",
            lambda: cdp.send(
                "Page.captureScreenshot", {"format": "png", "clip": clip, "optimizeForSpeed": True, "fromSurface": True}
            ),
        )
        timed(
            "CDP captureScreenshot clip png",
            lambda: cdp.send("Page.captureScreenshot", {"format": "png", "clip": clip, "fromSurface": True}),
        )
        timed(
            "CDP captureScreenshot clip webp q100",
            lambda: cdp.send(
                "Page.captureScreenshot",
                {"format": "webp", "quality": 100, "clip": clip, "optimizeForSpeed": True, "fromSurface": True},
            ),
        )
        data = base64.b64decode(
            cdp.send("Page.captureScreenshot", {"format": "png", "clip": clip, "optimizeForSpeed": True})["data"]
        )
        timed("decode clip png in Python (PyAV)", lambda: png.decode(av.Packet(data)), move=False)
        timed("seek + inspect (no paint)", lambda: page.evaluate("() => ecgAdvance(40, 41)"), move=False)
        timed(
            "seek + paint (2 rAF)",
            lambda: page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"),
            move=False,
        )
        try:
            cdp.send("HeadlessExperimental.beginFrame", {"screenshot": {"format": "png"}})
            results["HeadlessExperimental.beginFrame"] = "available"
        except Exception as exc:  # noqa: BLE001
            results["HeadlessExperimental.beginFrame"] = f"unavailable: {str(exc)[:90]}"
        results["clip size"] = f"{w}x{h}"
        return results

    try:
        return worker.submit(lambda w: w.call(job, run)).result()
    finally:
        release_workers([worker])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--quality", type=int, default=90)
    ap.add_argument("--preset", default=RendererConfig.x264_preset)
    ap.add_argument("--pages", type=int, default=0, help="parallel pages (0 = auto)")
    ap.add_argument("--style", choices=("karaoke", "pop", "catalogue"), default="karaoke")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="floor/pipeline pairs to run (median reported)")
    ap.add_argument("--capture-methods", action="store_true")
    ap.add_argument(
        "--content-cost", action="store_true", help="also time x264 alone on the plain vs the captioned frames"
    )
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="ecg-bench-")
    config = RendererConfig(
        chromium_path=args.chromium, parallel_pages=args.pages, x264_preset=args.preset, work_dir=work, encoder="auto"
    )
    scenario = make_scenario(args.seconds, style=args.style)
    if args.capture_methods:
        print(json.dumps(capture_methods(args.width, args.height, scenario, config), indent=2))
        shutdown_pool()
        return
    src = os.path.join(work, "source.mp4")
    t = time.monotonic()
    make_clip(src, seconds=args.seconds, width=args.width, height=args.height, fps=30, pattern="diagonal",
              audio_rate=48000, audio_channels=2, x264={"preset": "ultrafast", "crf": "18"})
    print(f"clip: {args.seconds:.0f}s {args.width}x{args.height} 30fps + AAC, generated in {time.monotonic() - t:.1f}s")
    n_words = sum(len(c["root"]["children"]) for c in scenario["cues"])
    print(f"scenario ({args.style}): {len(scenario['cues'])} cues, {n_words} words")
    print(f"encoder: {probe_encoder(config)} preset={args.preset} quality={args.quality}; cpus={os.cpu_count()}")

    # Warm the browser pool once so every measurement below is steady-state (as in a worker process).
    warm = render_video(
        src,
        make_scenario(3.0),
        RenderOptions(quality=args.quality),
        os.path.join(work, "warm.mp4"),
        config=config,
        seed=1,
        plugin_dirs=CATALOGUE,
    )
    del warm

    # Floor and pipeline alternate `--repeat` times: on a shared machine a single pair can be off by 10 %,
    # so each pair's ratio is printed and the median pair is what the summary uses.
    pairs = []
    for i in range(args.repeat):
        c0 = tree_cpu_seconds()
        floor = plain_reencode(src, os.path.join(work, "plain.mp4"), quality=args.quality, preset=args.preset)
        floor_cpu = tree_cpu_seconds() - c0
        c0 = tree_cpu_seconds()
        t = time.monotonic()
        res = render_video(
            src, scenario, RenderOptions(quality=args.quality), os.path.join(work, "out.mp4"), config=config, seed=1,
            plugin_dirs=CATALOGUE,
        )
        wall = time.monotonic() - t
        cpu = tree_cpu_seconds() - c0
        pairs.append((wall / floor, cpu / floor_cpu, floor, floor_cpu, wall, cpu, res))
        print(
            f"pair {i + 1}: floor {floor:6.2f} s / {floor_cpu:6.2f} CPU-s, pipeline {wall:6.2f} s / {cpu:6.2f} CPU-s"
            f" -> {wall / floor:.2f}x wall, {cpu / floor_cpu:.2f}x CPU"
        )
    pairs.sort(key=lambda p: p[0])
    _, _, floor, floor_cpu, wall, cpu, res = pairs[len(pairs) // 2]
    print(f"plain re-encode (floor):  {floor:7.2f} s wall, {floor_cpu:7.2f} s CPU   (median pair of {len(pairs)})")
    print(
        f"pipeline:                 {wall:7.2f} s wall, {cpu:7.2f} s CPU; real-time factor {wall / args.seconds:.3f} "
        f"(x{args.seconds / wall:.2f} real time)"
    )
    print(f"  frames captured {res.frames_captured} / {res.frames_total}; timings {json.dumps(res.timings)}")
    print(f"  vs plain re-encode: {wall / floor:.2f}x the floor (wall), {cpu / floor_cpu:.2f}x (CPU)")
    print(f"  all pairs (wall): {', '.join(f'{p[0]:.2f}x' for p in pairs)}")
    if args.content_cost:
        cc = content_cost(src, os.path.join(work, "out.mp4"), quality=args.quality, preset=args.preset)
        print(
            f"  x264 alone, {cc['frames']} frames decoded in advance: plain {cc['plain_cpu']:.2f} CPU-s, "
            f"captioned {cc['captioned_cpu']:.2f} CPU-s ({cc['captioned_cpu'] / cc['plain_cpu']:.2f}x): "
            "the part of the ratio that is encoding the captions, not compositing them"
        )
    if not args.skip_naive:
        c0 = tree_cpu_seconds()
        naive = naive_render(
            src, scenario, os.path.join(work, "naive.mp4"), quality=args.quality, preset=args.preset, config=config
        )
        naive_cpu = tree_cpu_seconds() - c0
        print(
            f"naive (every frame, full page): {naive['seconds']:7.2f} s wall, {naive_cpu:7.2f} s CPU "
            f"for {naive['frames']} frames"
        )
        print(f"  pipeline is {naive['seconds'] / wall:.2f}x faster than naive (wall), {naive_cpu / cpu:.2f}x (CPU)")
    print(f"load average during the run: {os.getloadavg()}")
    shutdown_pool()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work dir:", work)


if __name__ == "__main__":
    main()
