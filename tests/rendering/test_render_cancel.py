"""Cancel stops a render within a few seconds whatever the scenario (issue #11 item 14).

Old code: the main thread waited for a whole segment (``SEGMENT_TIMEOUT``) without asking should_cancel(),
and a page stuck in one long call (renderer init, pre-roll, a batch of seeks with 20,000 cues) could not be
interrupted, so a cancel took 110 s. Now the wait polls should_cancel() and a page still busy after a short
grace has its browser killed; the next job gets a fresh browser. Real Chromium, no Django.
"""

from __future__ import annotations

import copy
import json
import sys
import threading
from pathlib import Path

import pytest
from chromium_only import _close_browsers, _isolated_media_and_cache  # noqa: E402, F401  (fixtures)
from testmedia import make_clip

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rendering.pipeline import RenderCancelled, RendererConfig, RenderOptions, render_video  # noqa: E402
from rendering.pipeline.capture import (  # noqa: E402
    CaptureJob,
    OverlayStream,
    acquire_workers,
    active_frames,
    plan_segments,
    release_workers,
)
from rendering.pipeline.compose import ColorSpec, OverlayCanvas  # noqa: E402
from rendering.pipeline.scenario import active_intervals, validate_scenario  # noqa: E402

SAMPLE = json.loads((ROOT / "tests" / "fixtures" / "scenarios" / "scenario-v2.json").read_text())
W, H, FPS, FRAMES = 640, 360, 30.0, 135  # a 4.5 s clip


def heavy(cues: int) -> dict:
    data = copy.deepcopy(SAMPLE)
    data["cues"] = [{"id": f"c{i}", "track": "caption",
                     "root": {"id": f"g{i}", "eType": "group", "displayTime": [(i % 45) / 10, (i % 45) / 10 + 0.5],
                              "layout": {"anchor": "bc", "position": "define.caption.position"},
                              "children": [{"id": f"t{i}", "eType": "text", "text": f"word {i}"}]}}
                    for i in range(cues)]
    return validate_scenario(data)


def test_cancel_interrupts_pages_stuck_in_a_heavy_scenario(tmp_path):
    scenario = heavy(8000)  # minutes of page work per segment: only a kill ends it early
    job = CaptureJob("heavy-cancel", scenario, [], W, H, FPS, seed=1)
    segments = plan_segments(active_frames(active_intervals(scenario), FRAMES, FPS), FPS, 2.0)
    workers = acquire_workers(2, "/usr/bin/chromium")
    killed: list[str] = []
    loading = {worker.name: threading.Event() for worker in workers}
    for worker in workers:
        original = worker.kill_browser
        worker.kill_browser = lambda w=worker, f=original: (killed.append(w.name), f())[1]
        load = worker._load_job
        worker._load_job = lambda job, w=worker, f=load: (loading[w.name].set(), f(job))[1]
    asked = {"n": 0, "cancel_at": 0}

    def should_cancel() -> bool:
        asked["n"] += 1
        # The user cancels once both pages are inside the heavy renderer init (a condition, not a count of
        # polls: on a loaded machine the browsers may still be launching after any fixed number of polls).
        if not asked["cancel_at"] and all(event.is_set() for event in loading.values()):
            asked["cancel_at"] = asked["n"]
        return bool(asked["cancel_at"])

    try:
        stream = OverlayStream(job, segments, FRAMES, workers, OverlayCanvas(ColorSpec("bt601"), W, H),
                               should_cancel=should_cancel)
        in_flight = list(stream._futures.values())
        with pytest.raises(RenderCancelled):
            for k in range(FRAMES):
                stream.overlay_for(k)
        assert asked["n"] == asked["cancel_at"]  # nothing is asked after the cancel was seen
        stream.close()
        # close() returns only when every page has come back (here: because its browser was killed).
        assert all(f.done() for f in in_flight)
        assert killed
        assert not any(w.busy for w in workers)
    finally:
        for worker in workers:
            del worker.kill_browser
            del worker._load_job
        release_workers(workers)

    # The pool still renders after the kill: the next job starts a fresh browser.
    clip = tmp_path / "clip.mp4"
    make_clip(clip, seconds=1.0, width=W, height=H)
    out = tmp_path / "out.mp4"
    result = render_video(str(clip), SAMPLE, RenderOptions(), str(out), config=RendererConfig(work_dir=str(tmp_path)),
                          seed=1)
    assert out.is_file() and result.frames_captured > 0
