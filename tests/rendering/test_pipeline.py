"""End-to-end rendering with real Chromium and real encoders on a generated clip (no Django, no DB)."""

from __future__ import annotations

import base64
import copy
import functools
import http.server
import json
import sys
import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chromium_only import _close_browsers, _isolated_media_and_cache  # noqa: E402, F401  (fixtures)
from testmedia import make_clip  # noqa: E402

from rendering.pipeline import (  # noqa: E402
    RenderCancelled,
    RendererConfig,
    RenderError,
    RenderOptions,
    probe_encoder,
    render_video,
    validate_scenario,
)
from rendering.pipeline import capture as capture_mod  # noqa: E402
from rendering.pipeline.capture import (  # noqa: E402
    CaptureJob,
    OverlayStream,
    acquire_workers,
    active_frames,
    plan_segments,
    release_workers,
)
from rendering.pipeline.compose import ColorSpec, OverlayCanvas  # noqa: E402
from rendering.pipeline.plugins import resolve_plugins  # noqa: E402
from rendering.pipeline.scenario import active_intervals, plugin_names  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "scenarios"
# The animation catalogue's bundled plugins (the worker passes the published ones; here: all of them).
CATALOGUE = {p.name: str(p) for p in (ROOT / "assets" / "plugins").iterdir() if (p / "manifest.json").is_file()}
W, H, FPS, SECONDS = 640, 360, 30, 6.0
NOISE = 4.0  # mean |diff| allowed between a re-encoded frame and its source (codec noise)
CLEAR = 12.0  # mean |diff| that a caption must exceed in its region


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "source.mp4"
    # A clear 2-D gradient (captions must differ from it) with a stereo 48 kHz tone, encoded near-lossless.
    make_clip(path, seconds=SECONDS, width=W, height=H, fps=FPS, pattern="ramp2d", audio_rate=48000,
              audio_channels=2, x264={"preset": "ultrafast", "crf": "16"})
    return path


@pytest.fixture
def config(tmp_path) -> RendererConfig:
    return RendererConfig(work_dir=str(tmp_path))


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text("utf-8"))


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray").astype(np.int16) for f in c.decode(video=0)]


@functools.cache
def source_frames(path: str) -> list[np.ndarray]:
    return frames_of(Path(path))


def region_diff(a: np.ndarray, b: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """Mean |a - b| over a box given as fractions (x0, y0, x1, y1) of the frame."""
    h, w = a.shape
    x0, y0, x1, y1 = int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)
    return float(np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).mean())


BOTTOM = (0.2, 0.72, 0.8, 0.98)  # where the sample captions sit (anchored bottom-centre at y 0.82..0.9)
TITLE = (0.03, 0.03, 0.11, 0.1)  # "ECG" at the top left
WHOLE = (0.0, 0.0, 1.0, 1.0)
# The 1.3 sample's text nodes sit on a "free" track: the library positions them against the stage, so
# (0.5, 0.5) is the frame centre.
CENTER = (0.3, 0.44, 0.7, 0.56)


def assert_same_media(out: Path, clip: Path, *, fps: float = FPS, width: int = W, height: int = H) -> None:
    with av.open(str(out)) as c, av.open(str(clip)) as s:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (width, height)
        assert float(v.average_rate) == pytest.approx(fps, rel=1e-3)
        frames = sum(1 for _ in c.decode(video=0))
        assert frames == round(SECONDS * fps)
        assert c.streams.audio, "audio stream kept"
        src_dur = s.duration / 1e6
        assert c.duration / 1e6 == pytest.approx(src_dur, abs=0.1)
    with av.open(str(out)) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
        rate = c.streams.audio[0].rate
    assert samples / rate == pytest.approx(SECONDS, abs=0.1)


def test_probe_encoder_falls_back_to_x264_without_nvenc(config):
    enc = probe_encoder(config)
    assert enc in ("libx264", "h264_nvenc")
    assert probe_encoder(RendererConfig(encoder="libx264")) == "libx264"


def test_render_v2_sample(clip, tmp_path, config):
    out = tmp_path / "v2.mp4"
    calls = []
    res = render_video(
        str(clip),
        load("scenario-v2.json"),
        RenderOptions(),
        str(out),
        config=config,
        seed=3,
        report=lambda d, t: calls.append((d, t)),
    )
    assert res.path == str(out) and out.is_file() and res.size_bytes == out.stat().st_size
    assert (res.width, res.height, res.fps, res.frames_total) == (W, H, 30.0, 180)
    assert 0 < res.frames_captured < 20  # static captions: a handful of distinct overlay states
    assert res.encoder == probe_encoder(config)
    assert calls[-1] == (180, 180) and all(a[0] <= b[0] for a, b in zip(calls, calls[1:], strict=False))
    assert_same_media(out, clip)
    o, s = frames_of(out), source_frames(str(clip))
    # t = 1.5 s: cue-0 visible at the bottom; the title is visible throughout.
    assert region_diff(o[45], s[45], BOTTOM) > CLEAR
    assert region_diff(o[45], s[45], TITLE) > CLEAR / 2
    # t = 2.8 s: between cues, the caption area is the source (within codec noise).
    assert region_diff(o[84], s[84], BOTTOM) < NOISE
    # t = 4 s: cue-1 (blue text) visible.
    assert region_diff(o[120], s[120], BOTTOM) > CLEAR
    # The middle of the frame never has captions.
    for k in (10, 45, 120, 170):
        assert region_diff(o[k], s[k], (0.3, 0.3, 0.7, 0.6)) < NOISE


def test_render_v13_sample_with_fade(clip, tmp_path, config):
    out = tmp_path / "v13.mov"
    res = render_video(
        str(clip),
        load("scenario-v1.3.json"),
        RenderOptions(format="mov", quality=80),
        str(out),
        config=config,
        seed=1,
        plugin_dirs=CATALOGUE,
    )
    assert res.frames_total == 180
    assert res.frames_captured > 50  # every fading frame differs
    assert_same_media(out, clip)
    o, s = frames_of(out), source_frames(str(clip))
    # No cue before 0.4 s and between 2.6 and 3.0 s: whole frame equals the source.
    for k in (0, 6, 84, 88):
        assert region_diff(o[k], s[k], WHOLE) < NOISE, k
    assert region_diff(o[45], s[45], CENTER) > CLEAR
    # fadein@2.0.0 on cue 2 (window from 3.0 s): early in the fade the text is faint, later strong.
    # (The library ends a "30%" window 30% after the end of baseTime, so it is still fading at 5.3 s.)
    early, late = region_diff(o[92], s[92], CENTER), region_diff(o[160], s[160], CENTER)
    assert late > CLEAR / 2 and late > 5 * early


def fade_scenario() -> dict:
    data = load("scenario-v2.json")
    data["cues"] = data["cues"][:1]
    del data["tracks"][0]["defaultBoxStyle"]  # no caption box: only the words themselves
    for child in data["cues"][0]["root"]["children"]:
        # Library semantics: the end offset is relative to the end of baseTime, so "-50%" ends the fade
        # half-way through the word; the window here is [0.4, 0.7] for the first word.
        child["pluginChain"] = [{"name": "ecg-fadein@1.0.0", "params": {"from": 0}, "timeOffset": ["0%", "-50%"]}]
        child["baseTime"] = [0.4, 1.0]
    return data


def test_plugin_animation_is_visible(clip, tmp_path, config):
    out = tmp_path / "fade.mp4"
    res = render_video(str(clip), fade_scenario(), RenderOptions(), str(out), config=config, seed=1)
    o, s = frames_of(out), source_frames(str(clip))
    words = (0.25, 0.8, 0.75, 0.92)
    early = region_diff(o[13], s[13], words)  # t = 0.433 s: fade at ~11%
    after = region_diff(o[30], s[30], words)  # t = 1.0 s: fade over
    assert after > CLEAR and after > 2 * early
    assert abs(region_diff(o[40], s[40], words) - after) < 1.5  # static after the fade
    assert res.frames_captured < 30  # only the fading frames (+ box appearance) were captured


def test_unknown_plugin_fails_cleanly(clip, tmp_path, config):
    data = load("scenario-v2.json")
    data["cues"][0]["root"]["children"][0]["pluginChain"] = [{"name": "sparkle@9.9.9", "timeOffset": ["0%", "0%"]}]
    out = tmp_path / "x.mp4"
    with pytest.raises(RenderError) as info:
        render_video(str(clip), data, RenderOptions(), str(out), config=config, seed=1)
    assert info.value.code == "RENDER_PLUGIN_NOT_FOUND"
    assert "sparkle@9.9.9" in info.value.message
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def plugin_origin(tmp_path):
    """A local plugin server: one good plugin, one whose module throws, one with a bad manifest."""
    root = tmp_path / "origin"
    good = root / "plugins" / "remote-fade@1.0.0"
    good.mkdir(parents=True)
    builtin = ROOT / "rendering" / "plugins" / "ecg-fadein@1.0.0"
    manifest = json.loads((builtin / "manifest.json").read_text())
    manifest.update(name="remote-fade", version="1.0.0")
    (good / "manifest.json").write_text(json.dumps(manifest))
    (good / "index.mjs").write_text((builtin / "index.mjs").read_text())
    broken = root / "plugins" / "broken@1.0.0"
    broken.mkdir(parents=True)
    manifest.update(name="broken", version="1.0.0")
    (broken / "manifest.json").write_text(json.dumps(manifest))
    (broken / "index.mjs").write_text("throw new Error('boom');\nexport default {};\n")
    bad = root / "plugins" / "badmanifest@1.0.0"
    bad.mkdir(parents=True)
    (bad / "manifest.json").write_text(json.dumps({"name": "badmanifest", "version": "1.0.0"}))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def with_plugin(name: str) -> dict:
    data = load("scenario-v2.json")
    data["cues"] = data["cues"][:1]
    data["cues"][0]["root"]["children"][0]["pluginChain"] = [{"name": name, "timeOffset": ["0%", "0%"]}]
    return data


def test_plugins_from_origin_and_broken_plugins(clip, tmp_path, plugin_origin):
    work = tmp_path / "work"
    cfg = RendererConfig(plugin_origin=plugin_origin, work_dir=str(work))
    out = tmp_path / "remote.mp4"
    render_video(str(clip), with_plugin("remote-fade@1.0.0"), RenderOptions(), str(out), config=cfg, seed=1)
    assert out.is_file()
    assert (work / "ecg-plugin-cache" / "remote-fade@1.0.0" / "index.mjs").is_file()
    # Not on the origin but built in: falls back to the built-in folder.
    render_video(str(clip), with_plugin("ecg-pop@1.0.0"), RenderOptions(), str(out), config=cfg, seed=1)
    for name in ("broken@1.0.0", "badmanifest@1.0.0", "missing@1.0.0"):
        target = tmp_path / f"{name}.mp4"
        with pytest.raises(RenderError) as info:
            render_video(str(clip), with_plugin(name), RenderOptions(), str(target), config=cfg, seed=1)
        assert info.value.code == "RENDER_PLUGIN_NOT_FOUND", name
        assert name in info.value.message
        assert not target.exists()


def test_undecodable_source_fails_cleanly(tmp_path, config):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 50)
    out = tmp_path / "out.mp4"
    with pytest.raises(RenderError) as info:
        render_video(str(bad), load("scenario-v2.json"), RenderOptions(), str(out), config=config, seed=1)
    assert info.value.code == "RENDER_SOURCE_INVALID"
    with pytest.raises(RenderError) as info:
        render_video(
            str(tmp_path / "nope.mp4"), load("scenario-v2.json"), RenderOptions(), str(out), config=config, seed=1
        )
    assert info.value.code == "RENDER_SOURCE_INVALID"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4"]


def test_cancel_leaves_nothing_behind(clip, tmp_path, config):
    out_dir = tmp_path / "out"
    out = out_dir / "cancelled.mp4"
    checks = {"n": 0}

    def should_cancel() -> bool:
        checks["n"] += 1
        return checks["n"] > 10

    with pytest.raises(RenderCancelled):
        render_video(
            str(clip),
            load("scenario-v1.3.json"),
            RenderOptions(),
            str(out),
            config=config,
            seed=1,
            should_cancel=should_cancel,
            plugin_dirs=CATALOGUE,
        )
    assert checks["n"] == 11
    assert list(out_dir.iterdir()) == []
    # The pooled browser is still usable after a cancelled job.
    render_video(str(clip), load("scenario-v1.3.json"), RenderOptions(), str(out), config=config, seed=1,
                 plugin_dirs=CATALOGUE)
    assert out.is_file()


def animated_scenario() -> dict:
    """Every word animated (karaoke wipe, pop, loudness with seeded shake) and a static title."""
    data = load("scenario-v2.json")
    for cue in data["cues"][:2]:
        for i, child in enumerate(cue["root"]["children"]):
            s, e = child["baseTime"]
            child["pluginChain"] = [
                {"name": "ecg-karaoke@1.0.0", "timeOffset": ["0%", "0%"]},
                {"name": "ecg-pop@1.0.0", "baseTime": [s, s + 0.3], "timeOffset": ["0%", "0%"]},
                {"name": "ecg-loudness@1.0.0", "params": {"volume_db": -6 - i}, "timeOffset": ["0%", "0%"]},
            ]
    return validate_scenario(data)


def capture_all(
    scenario: dict, *, pages: int, segment_seconds: float, frames: int = 180, damage: bool = True
):
    """Every frame's overlay as (x, y, stacked blend planes) or None, the segments and the stream."""
    plugins = resolve_plugins(plugin_names(scenario))
    job = CaptureJob(
        f"seams-{pages}-{segment_seconds}-{damage}",
        scenario,
        plugins,
        W,
        H,
        float(FPS),
        seed=42,
        damage=damage,
    )
    segments = plan_segments(active_frames(active_intervals(scenario), frames, FPS), FPS, segment_seconds)
    workers = acquire_workers(pages, "/usr/bin/chromium")
    try:
        stream = OverlayStream(job, segments, frames, workers, OverlayCanvas(ColorSpec("bt601"), W, H))
        out = []
        for k in range(frames):
            ov = stream.overlay_for(k)
            if ov is None:
                out.append(None)
                continue
            chroma = np.concatenate([ov.pu, ov.pv, ov.ic], axis=1)
            out.append((ov.x, ov.y, np.concatenate([ov.py, ov.iy], axis=1).copy(), chroma))
        return out, segments, stream
    finally:
        release_workers(workers)


def same_overlays(a: list, b: list) -> bool:
    """Bit-identical overlays for every frame."""

    def same(x, y) -> bool:
        if x is None or y is None:
            return x is None and y is None
        return x[:2] == y[:2] and all(np.array_equal(p, q) for p, q in zip(x[2:], y[2:], strict=True))

    return all(same(x, y) for x, y in zip(a, b, strict=True))


def assert_same_overlays(a: list, b: list, what: str) -> None:
    """Frame by frame the same overlays, up to Skia's rounding: a blurred shadow may come out one code
    value apart at an isolated pixel, depending on the raster tile geometry around it. Anything else
    (a missed damage region, a wrong animation state) differs by far more, over many pixels."""
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        assert (x is None) == (y is None), f"{what}: frame {k} is visible in one only"
        if x is None:
            continue
        assert x[:2] == y[:2], f"{what}: frame {k}: box {x[:2]} != {y[:2]}"
        for p, q in zip(x[2:], y[2:], strict=True):
            assert p.shape == q.shape, f"{what}: frame {k}: box size differs"
            d = np.abs(p.astype(np.int32) - q.astype(np.int32))
            assert d.max() <= 1 and np.count_nonzero(d) <= 4, (
                f"{what}: frame {k}: {np.count_nonzero(d)} samples differ, by up to {d.max()}"
            )


def test_chunk_seams_identical_with_parallel_pages():
    scenario = animated_scenario()
    sequential, segs1, stream1 = capture_all(scenario, pages=1, segment_seconds=1000)
    chunked, segs2, _ = capture_all(scenario, pages=2, segment_seconds=0.35)
    assert len(segs1) == 1 and len(segs2) > 10
    seams = [s.start for s in segs2 if s.start != s.run_start]
    assert seams, "some segments start inside a run (pre-roll needed)"
    # Pre-roll rebuilds the exact state at a seam, and a segment's first (whole) capture equals the
    # patched overlay of the sequential run.
    assert_same_overlays(chunked, sequential, f"seams at {seams}")
    assert stream1.captured > 60  # the animation really changes most caption frames
    assert sum(o is None for o in sequential) == 0  # the title is visible throughout


def karaoke_scenario() -> dict:
    """Karaoke wipes only (with a glow): most changed frames only move a clip edge."""
    data = load("scenario-v2.json")
    data["tracks"][0]["defaultStyle"]["textShadow"] = "0 0 12px #ff00ff"
    for cue in data["cues"][:2]:
        for child in cue["root"]["children"]:
            child["pluginChain"] = [{"name": "ecg-karaoke@1.0.0", "timeOffset": ["0%", "0%"]}]
    return validate_scenario(data)


@pytest.mark.parametrize("make", [animated_scenario, karaoke_scenario])
def test_damage_patches_match_full_captures(make):
    """Capturing only what changed and patching the previous overlay gives, frame by frame, the overlay
    a whole capture of every changed frame gives (karaoke wipes, pops, seeded shake, glows, a title)."""
    scenario = make()
    patched, _, stream = capture_all(scenario, pages=1, segment_seconds=1000)
    full, _, full_stream = capture_all(scenario, pages=1, segment_seconds=1000, damage=False)
    assert full_stream.patches == 0
    assert stream.patches > 0.8 * stream.captured, "most changed frames are captured as patches"
    assert stream.captured_pixels < 0.2 * full_stream.captured_pixels
    if make is karaoke_scenario:
        # A wipe recaptures the strip its edge swept, not the word.
        assert stream.captured_pixels < 0.02 * full_stream.captured_pixels
    assert_same_overlays(patched, full, "patched vs whole")


GLOW_PLUGIN = """
export default {
  name: "test-glow",
  version: "1.0.0",
  animate(el) {
    return (p) => {
      const q = Math.min(1, Math.max(0, p));
      el.style.boxShadow = `${4 * q}px ${6 * q}px ${18 * q}px ${5 * q}px rgba(255, 200, 0, 0.9)`;
      el.style.filter = `drop-shadow(${10 * q}px ${-8 * q}px ${5 * q}px rgba(0, 80, 255, 0.9)) blur(${2 * q}px)`;
      el.style.outline = `${3 * q}px solid rgba(0, 255, 0, 0.8)`;
      el.style.outlineOffset = `${6 * q}px`;
    };
  },
};
"""


@pytest.fixture
def glow_origin(tmp_path):
    """A plugin origin serving test-glow@1.0.0 (box shadow, drop-shadow and blur filters, outline)."""
    folder = tmp_path / "glow" / "plugins" / "test-glow@1.0.0"
    folder.mkdir(parents=True)
    manifest = json.loads((ROOT / "rendering" / "plugins" / "ecg-fadein@1.0.0" / "manifest.json").read_text())
    manifest.update(name="test-glow", version="1.0.0", schema={})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "index.mjs").write_text(GLOW_PLUGIN)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "glow"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_caption_box_holds_all_ink(glow_origin, tmp_path):
    """Shadows, glows, filters, outlines and text strokes paint outside the boxes they belong to; the
    box the pipeline captures and blends must still hold every painted pixel. Reference: the whole
    frame of the live stage (nothing clipped), seeked frame by frame."""
    data = load("scenario-v2.json")
    data["cues"] = [c for c in data["cues"] if c["id"] in ("cue-0", "cue-1")]
    style = data["tracks"][0]["defaultStyle"]
    style["textShadow"] = "0 0 30px #ff00ff, 9px 12px 0 #00ffff"
    for child in data["cues"][0]["root"]["children"]:
        s = child["baseTime"][0]
        child["pluginChain"] = [
            {"name": "test-glow@1.0.0", "timeOffset": ["0%", "0%"]},
            {"name": "ecg-pop@1.0.0", "baseTime": [s, s + 0.3], "timeOffset": ["0%", "0%"]},
        ]
    data["cues"][1]["root"]["children"][1]["style"] = {"stroke": {"widthRel": 0.02, "color": "#ff0000"}}
    scenario = validate_scenario(data)
    plugins = resolve_plugins(plugin_names(scenario), plugin_origin=glow_origin, work_dir=str(tmp_path))
    frames = 165
    check = [15, 20, 31, 40, 48, 56, 62, 70, 75, 92, 100, 112, 125, 140, 160]

    live = CaptureJob("ink-live", scenario, plugins, W, H, float(FPS), seed=3, live_on_screen=True)
    [worker] = acquire_workers(1, "/usr/bin/chromium")
    try:

        def reference(page, cdp):
            out = {}
            for k in range(frames):
                page.evaluate("t => ecgSeek(t)", k / FPS)
                if k in check:
                    shot = cdp.send("Page.captureScreenshot", {"format": "png", "fromSurface": True})
                    out[k] = capture_mod.decode_png(base64.b64decode(shot["data"]))
            return out

        full = worker.submit(lambda w: w.call(live, reference)).result()
    finally:
        release_workers([worker])

    job = CaptureJob("ink-tiles", scenario, plugins, W, H, float(FPS), seed=3)
    segments = plan_segments(active_frames(active_intervals(scenario), frames, FPS), FPS, 1000)
    workers = acquire_workers(1, "/usr/bin/chromium")
    try:
        stream = OverlayStream(job, segments, frames, workers, OverlayCanvas(ColorSpec("bt601"), W, H))
        for k in range(frames):
            ov = stream.overlay_for(k)
            if k not in check:
                continue
            alpha = full[k][..., 3].copy()
            assert alpha.any(), f"frame {k}: the reference shows nothing"
            x, y, w, h = ov.x, ov.y, ov.w, ov.h
            alpha[y : y + h, x : x + w] = 0
            outside = np.argwhere(alpha > 0)
            assert outside.size == 0, f"frame {k}: ink outside the box {(x, y, w, h)} at {outside[:5].tolist()}"
    finally:
        release_workers(workers)


def test_parallel_render_output_is_identical(clip, tmp_path):
    data = animated_scenario()
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    render_video(
        str(clip), data, RenderOptions(), str(a), config=RendererConfig(parallel_pages=1, segment_seconds=1000), seed=5
    )
    render_video(
        str(clip), data, RenderOptions(), str(b), config=RendererConfig(parallel_pages=2, segment_seconds=0.5), seed=5
    )
    fa, fb = frames_of(a), frames_of(b)
    assert len(fa) == len(fb) == 180
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb, strict=True))


def test_webm_scaled_and_fps_change(clip, tmp_path, config):
    out = tmp_path / "small.webm"
    res = render_video(
        str(clip),
        load("scenario-v2.json"),
        RenderOptions(width=320, height=180, fps=24, quality=60, format="webm"),
        str(out),
        config=config,
        seed=1,
    )
    assert (res.width, res.height, res.fps, res.frames_total) == (320, 180, 24.0, 144)
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "vp9"
        assert c.streams.audio[0].codec_context.name == "opus"
        assert sum(1 for _ in c.decode(video=0)) == 144
        assert c.duration / 1e6 == pytest.approx(SECONDS, abs=0.1)
    o = frames_of(out)
    src = source_frames(str(clip))
    # output frame 36 (t = 1.5 s) shows source frame 45 with the caption; frame 67 (t = 2.79 s) none.
    small = [f[::2, ::2] for f in (src[45], src[84])]
    assert region_diff(o[36], small[0], BOTTOM) > CLEAR
    assert region_diff(o[67], small[1], BOTTOM) < NOISE * 2


def test_invalid_scenario_and_options_raise(clip, tmp_path, config):
    data = copy.deepcopy(load("scenario-v2.json"))
    data["cues"][0]["track"] = "missing"
    with pytest.raises(RenderError) as info:
        render_video(str(clip), data, RenderOptions(), str(tmp_path / "o.mp4"), config=config, seed=1)
    assert info.value.code == "RENDER_SCENARIO_INVALID"
    assert info.value.details["problems"][0]["path"] == "cues[0].track"
    with pytest.raises(RenderError) as info:
        render_video(
            str(clip),
            load("scenario-v2.json"),
            RenderOptions(format="avi"),
            str(tmp_path / "o.avi"),
            config=config,
            seed=1,
        )
    assert info.value.code == "RENDER_INVALID_INPUT"


def test_fraction_fps_source(tmp_path, config):
    src = tmp_path / "ntsc.mp4"
    out = av.open(str(src), "w")
    vs = out.add_stream("libx264", rate=Fraction(30000, 1001), options={"preset": "ultrafast"})
    vs.width, vs.height, vs.pix_fmt = 320, 180, "yuv420p"
    for i in range(60):
        f = av.VideoFrame.from_ndarray(np.full((180, 320, 3), i * 4 % 256, np.uint8), format="rgb24")
        f.pts = i
        for p in vs.encode(f):
            out.mux(p)
    for p in vs.encode(None):
        out.mux(p)
    out.close()
    res = render_video(
        str(src), load("scenario-v2.json"), RenderOptions(), str(tmp_path / "o.mp4"), config=config, seed=1
    )
    assert res.frames_total == 60
    assert res.fps == pytest.approx(29.97, abs=0.01)
    with av.open(str(tmp_path / "o.mp4")) as c:
        assert not c.streams.audio
        assert sum(1 for _ in c.decode(video=0)) == 60
