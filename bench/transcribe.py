#!/usr/bin/env python3
"""Benchmark the transcription pipeline on ~60 s of generated two-voice speech (numbers for docs/PERFORMANCE.md).

Prints wall time per stage (cold = first job in a fresh process, including model loading; warm = the same
job again with the models cached), the real-time factor (wall ÷ audio duration), peak RSS, model and device,
and how well the speakers were recovered against the generated turns.

    .venv/bin/python bench/transcribe.py [--seconds 60] [--audio FILE] [--runs 2] [--threads 0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from transcription.pipeline import PIPELINE_STAGES, PipelineConfig, benchmark_estimate_seconds, run_pipeline  # noqa: E402


def stage_times(events: list[tuple[float, str, float]], end: float) -> dict[str, float]:
    """Wall seconds per stage from the (time, stage, fraction) report stream."""
    starts: dict[str, float] = {}
    for t, stage, _ in events:
        starts.setdefault(stage, t)
    order = [s for s in PIPELINE_STAGES if s in starts]
    out = {}
    for i, s in enumerate(order):
        nxt = starts[order[i + 1]] if i + 1 < len(order) else end
        out[s] = nxt - starts[s]
    return out


def speaker_accuracy(result: dict, turns: list[dict]) -> float:
    """Share of words whose speaker matches the generated turn (best label mapping: A/B to the two ids)."""
    pairs = []
    for seg in result["segments"]:
        for w in seg["words"]:
            mid = (w["start"] + w["end"]) / 2
            turn = min(
                turns,
                key=lambda t: 0 if t["start"] <= mid <= t["end"] else min(abs(mid - t["start"]), abs(mid - t["end"])),
            )
            pairs.append((turn["speaker"], w["speaker_id"]))
    if not pairs:
        return 0.0
    ids = sorted({p[1] for p in pairs})
    best = 0
    for a_id in ids:
        hits = sum(1 for truth, got in pairs if (truth == "A") == (got == a_id))
        best = max(best, hits)
    return best / len(pairs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--audio", type=Path, default=Path("/tmp/ecg-bench/dialogue-60s.wav"))
    ap.add_argument("--runs", type=int, default=2, help="1 cold + (runs-1) warm")
    ap.add_argument("--threads", type=int, default=0, help="CTranslate2 cpu_threads (0 = default)")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()

    if not args.audio.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "make_test_media.py"),
                "--bench",
                str(args.audio),
                "--seconds",
                str(args.seconds),
            ],
            check=True,
        )
    sidecar = args.audio.with_suffix(".json")
    turns = json.loads(sidecar.read_text())["turns"] if sidecar.exists() else []

    config = PipelineConfig(cpu_threads=args.threads)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), python "
        f"{platform.python_version()}"
    )
    runs = []
    for i in range(args.runs):
        events: list[tuple[float, str, float]] = []
        t0 = time.perf_counter()
        result = run_pipeline(
            str(args.audio),
            config=config,
            report=lambda s, f, ev=events, t0=t0: ev.append((time.perf_counter() - t0, s, f)),
        )
        wall = time.perf_counter() - t0
        duration = result["metadata"]["duration"]
        stages = stage_times(events, wall)
        label = "cold" if i == 0 else "warm"
        acc = speaker_accuracy(result, turns) if turns else None
        runs.append(
            {
                "run": label,
                "wall_s": round(wall, 2),
                "rtf": round(wall / duration, 3),
                "stages_s": {k: round(v, 2) for k, v in stages.items()},
                "speakers": result["speakers"],
                "speaker_word_accuracy": acc,
                "segments": result["metadata"]["total_segments"],
            }
        )
        print(f"\nrun {i + 1} ({label}): {wall:.2f} s for {duration:.1f} s audio -> RTF {wall / duration:.3f}")
        for k, v in stages.items():
            print(f"  {k:<17} {v:7.2f} s   RTF {v / duration:.4f}")
        print(
            f"  speakers {result['speakers']}, {result['metadata']['total_segments']} segments, "
            f"speaker word accuracy {acc if acc is None else round(acc, 3)}"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    md = result["metadata"]
    print(f"\nmodel {md['model']}  engine {md['engine']}  device {md['device']}  compute_type {config.compute_type}")
    print(f"peak RSS {peak_mb:.0f} MiB")
    estimate = benchmark_estimate_seconds(duration, config)
    print(f"benchmark_estimate_seconds({duration:.1f}) with warm models = {estimate} s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "duration": duration,
                    "runs": runs,
                    "peak_rss_mib": round(peak_mb),
                    "model": md["model"],
                    "engine": md["engine"],
                    "device": md["device"],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
