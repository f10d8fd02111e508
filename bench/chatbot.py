#!/usr/bin/env python3
"""Benchmark the caption assistant (numbers for docs/PERFORMANCE.md).

1. Safe-edit cost (always): applying and validating a model's patches on a scenario of N words
   (``--words``), the server-side work of every chat turn whatever the model.
2. Offline model (when ``requirements-assistant.txt`` is installed): a typical edit ("make the loud words
   bigger") answered by the bundled SmolLM2-135M-Instruct through llama-cpp-python, cold (model load
   included) and warm, on ``--threads`` cores (default 2), with prompt/completion token counts.

    .venv/bin/python bench/chatbot.py [--words 2000] [--runs 3] [--threads 2] [--prompt "..."]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assets.catalogue import BUNDLED_DIR  # noqa: E402
from assistant.catalogue import Catalogue  # noqa: E402
from assistant.patches import apply_edits  # noqa: E402
from assistant.prompts import build_prompt, constrained_schema  # noqa: E402
from assistant.providers import local  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "assistant" / "editor-scenario.json"
CATALOGUE = Catalogue.from_folder(BUNDLED_DIR)  # the 18 animations we ship, without a database


def big_scenario(words: int) -> dict:
    """An editor-shaped scenario with ``words`` words in clips of 8, with voice features."""
    base = json.loads(FIXTURE.read_text(encoding="utf-8"))
    cues = []
    t = 0.0
    for c in range(0, words, 8):
        children = []
        for i in range(min(8, words - c)):
            children.append({"id": f"w-{c}-{i}", "eType": "text", "text": f"word{c + i}", "baseTime": [t, t + 0.3],
                             "volume_db": -30 + (c + i) % 25, "pitch_hz": 100 + (c + i) % 150})
            t += 0.3
        start = children[0]["baseTime"][0]
        cues.append({"id": f"cue-{c}", "track": "caption", "root": {
            "id": f"clip-{c}", "eType": "group", "displayTime": [start, t], "children": children}})
    base["cues"] = cues
    return base


def bench_edits(words: int, runs: int) -> None:
    scenario = big_scenario(words)
    ops = []
    for ci, cue in enumerate(scenario["cues"]):
        for wi, node in enumerate(cue["root"]["children"]):
            if node["volume_db"] > -12:  # "make loud words bigger": one style edit + one animation per loud word
                ptr = f"/cues/{ci}/root/children/{wi}"
                ops.append({"op": "add", "path": f"{ptr}/style/fontSizeRel", "value": 0.08})
                ops.append({"op": "add", "path": f"{ptr}/pluginChain", "value": [{"name": "pulse", "params": {}}]})
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = apply_edits(scenario, ops, CATALOGUE)
        times.append(time.perf_counter() - started)
    assert not result.rejected, result.rejected[:3]
    size = len(json.dumps(scenario))
    print(f"safe edits: {words} words ({size / 1e6:.2f} MB JSON), {len(ops)} ops proposed -> "
          f"{len(result.patches)} patches; median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f} ms) over {runs} runs")
    bad = copy.deepcopy(ops)
    bad.append({"op": "replace", "path": "/cues/0/root/children/0/baseTime", "value": [9, 1]})
    started = time.perf_counter()
    result = apply_edits(scenario, bad, CATALOGUE)
    print(f"  with one invalid op (one re-validation round): {(time.perf_counter() - started) * 1000:.0f} ms, "
          f"{len(result.rejected)} refused")


def bench_model(prompt: str, threads: int, runs: int) -> None:
    if not local.available():
        print("offline model: not installed (pip install -r requirements-assistant.txt); skipped")
        return
    scenario = json.loads(FIXTURE.read_text(encoding="utf-8"))
    chat = build_prompt(prompt=prompt, history=[], scenario=scenario, language="en", max_words=40, max_tokens=768,
                        catalogue=CATALOGUE)
    chat.schema = constrained_schema(scenario, max_words=40, catalogue=CATALOGUE)
    provider = local.LocalLlamaProvider(n_threads=threads, n_ctx=8192)
    rows = []
    for i in range(runs):
        started = time.perf_counter()
        out = provider.complete_sync(chat)
        wall = time.perf_counter() - started
        result = apply_edits(scenario, out.data.get("patches") or [], CATALOGUE)
        rows.append(wall)
        usage = out.usage
        print(f"  run {i + 1} ({'cold, model load included' if i == 0 else 'warm'}): {wall:.2f} s, "
              f"prompt {usage.get('prompt_tokens')} tok, completion {usage.get('completion_tokens')} tok, "
              f"{len(result.patches)} patches applied, {len(result.rejected)} refused; reply {out.data.get('reply')!r}")
        for r in result.rejected[:3]:
            print(f"    refused {r.op.get('op')} {r.op.get('path')}: {r.reason}")
    if len(rows) > 1:
        print(f"offline model ({local.bundled_model_path().name}, {threads} threads): cold {rows[0]:.2f} s, "
              f"warm median {statistics.median(rows[1:]):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prompt", default="Make the loud words bigger.")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs visible, {platform.processor() or 'cpu'}")
    bench_edits(args.words, args.runs)
    bench_model(args.prompt, args.threads, args.runs)


if __name__ == "__main__":
    main()
