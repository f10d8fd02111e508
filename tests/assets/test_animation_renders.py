"""All 18 catalogue animations rendered for real (Chromium + encoder) on a tiny clip: each one moves
over its window, a render is reproducible, and 1 or 2 capture pages give the same frames (no Django)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import av
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chromium_only import _close_browsers, _isolated_media_and_cache  # noqa: E402, F401  (fixtures)
from testmedia import STILL_RGB, make_clip  # noqa: E402

from rendering.pipeline import RendererConfig, RenderOptions, render_video  # noqa: E402

PLUGINS = ROOT / "assets" / "plugins"
CATALOGUE = {p.name: str(p) for p in PLUGINS.iterdir() if (p / "manifest.json").is_file()}
NAMES = ["rotation", "typewriter", "elastic", "glitch", "magnetic", "fadein", "scalepop", "slideup", "cwi-bouncing",
         "cwi-color", "cwi-loud", "cwi-whisper", "bobY", "flames", "fliptype", "glow", "pulse", "spin"]
W, H, FPS, SECONDS = 480, 270, 20, 1.6
COLS, ROWS = 3, 6
START, END = 0.25, 1.35  # every animation's window (its word's baseTime, offsets 0)


def cell(i: int) -> tuple[int, int, int, int]:
    """Pixel box (x0, y0, x1, y1) of animation i's grid cell."""
    c, r = i % COLS, i // COLS
    return c * W // COLS, r * H // ROWS, (c + 1) * W // COLS, (r + 1) * H // ROWS


def grid_scenario() -> dict:
    """One word per animation, each in its own grid cell, all animating over [START, END]."""
    cues = []
    for i, name in enumerate(NAMES):
        manifest = json.loads((PLUGINS / f"{name}@2.0.0" / "manifest.json").read_text())
        params = {k: f["default"] for k, f in manifest["schema"].items()}
        if name.startswith("cwi-"):
            params.update(speaker="S1", palette="define.speakerPalette")
        c, r = i % COLS, i // COLS
        word = {"id": f"w-{i}", "eType": "text", "text": "Wow ok", "baseTime": [START, END],
                "pluginChain": [{"name": f"{name}@2.0.0", "params": params, "timeOffset": [0, 0]}]}
        cues.append({"id": f"cue-{i}", "track": "caption", "domLifetime": [0.0, SECONDS],
                     "root": {"id": f"clip-{i}", "eType": "group", "displayTime": [0.0, SECONDS],
                              "layout": {"anchor": "cc", "position": {"x": (c + 0.5) / COLS, "y": (r + 0.5) / ROWS}},
                              "children": [word]}})
    return {"version": "2.0", "pluginApiVersion": "3.0", "timebase": {"unit": "seconds", "fps": FPS},
            "stage": {"baseAspect": "16:9"}, "define": {"speakerPalette": {"S1": "#ff3b30"}},
            "tracks": [{"id": "caption", "type": "subtitle", "layer": 1,
                        "defaultStyle": {"fontSizeRel": 0.06, "fontFamily": "sans-serif", "color": "#ffffff"}}],
            "cues": cues}


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A still, dark clip: any change in a cell comes from the captions."""
    path = tmp_path_factory.mktemp("clip") / "still.mp4"
    make_clip(path, seconds=SECONDS, width=W, height=H, fps=FPS, pattern="still", audio=False,
              x264={"preset": "ultrafast", "crf": "12"})
    return path


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray").astype(np.int16) for f in c.decode(video=0)]


@pytest.fixture(scope="module")
def renders(clip, tmp_path_factory) -> dict[str, list[np.ndarray]]:
    """The grid rendered three times: twice on one page, once on two pages with short segments."""
    out_dir = tmp_path_factory.mktemp("renders")
    scenario = grid_scenario()
    result = {}
    for label, cfg in (("one", RendererConfig(parallel_pages=1, segment_seconds=1000, work_dir=str(out_dir))),
                       ("again", RendererConfig(parallel_pages=1, segment_seconds=1000, work_dir=str(out_dir))),
                       ("two", RendererConfig(parallel_pages=2, segment_seconds=0.4, work_dir=str(out_dir)))):
        out = out_dir / f"{label}.mp4"
        res = render_video(str(clip), scenario, RenderOptions(), str(out), config=cfg, seed=7, plugin_dirs=CATALOGUE)
        assert res.frames_total == int(SECONDS * FPS)
        result[label] = frames_of(out)
    return result


def region(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return frame[y0:y1, x0:x1]


@pytest.mark.parametrize("i,name", list(enumerate(NAMES)))
def test_animation_moves_over_its_window(renders, i, name):
    frames = renders["one"]
    box = cell(i)
    at = [round(FPS * (START + f * (END - START))) for f in (0.04, 0.5, 0.96)]
    shots = [region(frames[k], box) for k in at]
    # The caption is drawn in its cell (brighter than the dark clip somewhere).
    assert max(int(s.max()) for s in shots) > 120, f"{name}: nothing drawn in its cell"
    diffs = [float(np.abs(a - b).mean()) for a, b in ((shots[0], shots[1]), (shots[1], shots[2]))]
    assert max(diffs) > 1.0, f"{name}: frames do not change over the window ({diffs})"


def differing(a: list[np.ndarray], b: list[np.ndarray]) -> dict[str, list[int]]:
    """Animation name -> the frames whose grid cell differs between two renders (a frame-exactness bug
    names its animation; pixels outside every cell are reported as "(outside the cells)")."""
    out: dict[str, list[int]] = {}
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        if np.array_equal(x, y):
            continue
        mask = x != y
        named = False
        for i, name in enumerate(NAMES):
            x0, y0, x1, y1 = cell(i)
            if mask[y0:y1, x0:x1].any():
                out.setdefault(name, []).append(k)
                named = True
        if not named:
            out.setdefault("(outside the cells)", []).append(k)
    return out


def test_same_scenario_renders_the_same_pixels_twice(renders):
    a, b = renders["one"], renders["again"]
    assert len(a) == len(b)
    diff = differing(a, b)
    assert not diff, f"animation -> frames that differ between two renders: {diff}"


def test_one_and_two_capture_pages_give_the_same_frames(renders):
    a, b = renders["one"], renders["two"]
    assert len(a) == len(b)
    diff = differing(a, b)
    assert not diff, f"animation -> frames that differ between 1 and 2 capture pages: {diff}"


def test_editor_chain_with_a_bare_name_and_a_define_palette(clip, tmp_path):
    """PLUGINS.md's example word: cwi-loud@2.0.0 then a bare `cwi-color` whose palette is a define."""
    word = {"id": "w-3-1", "eType": "text", "text": "wow", "baseTime": [0.3, 0.9], "pluginChain": [
        {"name": "cwi-loud@2.0.0", "params": {"pulse": {"scale": 2, "lift": 10}}, "timeOffset": [-0.3, 0.3]},
        {"name": "cwi-color", "params": {"speaker": "S1", "palette": "define.speakerPalette"},
         "timeOffset": [0, -0.05]}]}
    scenario = grid_scenario()
    scenario["define"]["speakerPalette"] = {"S1": "#1e90ff"}
    scenario["cues"] = [{"id": "cue-3", "track": "caption", "domLifetime": [0.0, SECONDS],
                         "root": {"id": "clip-3", "eType": "group", "displayTime": [0.0, SECONDS],
                                  "layout": {"anchor": "cc", "position": {"x": 0.5, "y": 0.5}}, "children": [word]}}]
    out = tmp_path / "chain.mp4"
    render_video(str(clip), scenario, RenderOptions(), str(out), config=RendererConfig(work_dir=str(tmp_path)),
                 seed=1, plugin_dirs=CATALOGUE)
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]
    middle = (slice(H // 3, 2 * H // 3), slice(W // 3, 2 * W // 3))
    before, swollen, after = (frames[round(FPS * t)][middle] for t in (0.05, 0.6, 1.4))
    ink = lambda f: int((np.abs(f - np.array(STILL_RGB)).sum(axis=2) > 90).sum())  # noqa: E731
    assert ink(swollen) > 1.8 * ink(after)  # cwi-loud: the word is much bigger mid-window
    text = after[np.abs(after - np.array(STILL_RGB)).sum(axis=2) > 90]
    assert text.size and text[:, 2].mean() > text[:, 0].mean() + 60  # cwi-color: the speaker's blue at the end
    assert ink(before) > 0  # plain text before the windows start
