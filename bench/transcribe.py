#!/usr/bin/env python3
"""Benchmark the transcription pipeline (numbers for docs/PERFORMANCE.md).

Default (languages): for each offline model (tiny.en, base) and each test clip of the editor's languages
(en, ko, ja, zh; tests/fixtures/media), in a fresh process per model and mode:
- accuracy: WER for English, CER for ko/ja/zh, for the pipeline and for plain faster-whisper called with the
  same model on the same file (its defaults: beam 5, sampling temperature fallback);
- speed on 2 CPU threads: real-time factor of the whole pipeline, cold (first job of a process that did not
  warm up: model loading included) and warm (the same job again);
- first-job latency after start: a worker that warms up first (as workers now do) — warm-up seconds, then the
  first job's wall time against a warm job's (target: first ≤ 1.5 × warm).

    .venv/bin/python bench/transcribe.py [--models tiny.en,base] [--json out.json]
    .venv/bin/python bench/transcribe.py --dialogue [--seconds 60]     # the two-voice stage/RTF benchmark

Text normalisation for scoring: lower case, punctuation and spaces removed for CER; katakana folded to
hiragana (the Japanese reference is in kana). Kanji in Japanese output and traditional characters in Chinese
output count as errors against the kana / simplified references: CER here is an upper bound.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MEDIA = ROOT / "tests" / "fixtures" / "media"

from transcription.pipeline import (  # noqa: E402
    PIPELINE_STAGES,
    PipelineConfig,
    benchmark_estimate_seconds,
    run_pipeline,
)

THREADS = 2


def clips() -> list[dict]:
    """(language, file, reference text) of every scored clip."""
    langs = json.loads((MEDIA / "languages.json").read_text())
    noisy = json.loads((MEDIA / "noisy.json").read_text())
    return [
        {"lang": "en", "file": "single_speaker.wav",
         "ref": json.loads((MEDIA / "single_speaker.json").read_text())["text"]},
        {"lang": "en", "file": "speech.mp4", "ref": json.loads((MEDIA / "speech.json").read_text())["text"]},
        {"lang": "en", "file": "noisy_pink.wav", "ref": " ".join(s["text"] for s in noisy["sentences"])},
        *({"lang": k, "file": f"{k}.wav", "ref": v["text"]} for k, v in langs.items()),
    ]


# ------------------------------------------------------------------------------------------------- scoring


def _edits(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)


def error_rate(lang: str, ref: str, hyp: str) -> float:
    """WER for English, CER otherwise."""
    if lang == "en":
        r = re.findall(r"[a-z0-9']+", _fold(ref))
        h = re.findall(r"[a-z0-9']+", _fold(hyp))
    else:
        r = [c for c in _fold(ref) if c.isalnum()]
        h = [c for c in _fold(hyp) if c.isalnum()]
    return round(_edits(r, h) / max(1, len(r)), 3)


# ------------------------------------------------------------------------------------------------- children


def child(model: str, warm: bool) -> dict:
    """One fresh process: optionally warm up, then every clip the model can do, twice; then plain."""
    from transcription.pipeline import asr, models
    from transcription.pipeline.runner import warm_up

    config = PipelineConfig(model=model, cpu_threads=THREADS)
    out: dict = {"model": model, "warm_up_s": None, "jobs": []}
    if warm:
        t = time.perf_counter()
        warm_up(config)
        out["warm_up_s"] = round(time.perf_counter() - t, 2)
    todo = [c for c in clips() if c["lang"] == "en" or models.is_multilingual(model)]
    for rep in range(2 if warm else 1):
        for c in todo:
            t = time.perf_counter()
            r = run_pipeline(str(MEDIA / c["file"]), language=c["lang"], config=config)
            wall = time.perf_counter() - t
            text = (" " if c["lang"] in ("en", "ko") else "").join(s["text"] for s in r["segments"])
            duration = r["metadata"]["duration"]
            out["jobs"].append({"rep": rep, "lang": c["lang"], "file": c["file"], "wall_s": round(wall, 2),
                                "duration": duration, "rtf": round(wall / duration, 3),
                                "error": error_rate(c["lang"], c["ref"], text), "text": text})  # fmt: skip
    if warm:  # plain faster-whisper, same loaded model, its default decoding
        engine = asr.get_engine(config, model)
        out["plain"] = []
        for c in todo:
            texts = []
            for _ in range(2):  # twice: sampling fallback can change the text between runs
                segs, _info = engine.model.transcribe(str(MEDIA / c["file"]), language=c["lang"])
                texts.append((" " if c["lang"] in ("en", "ko") else "").join(s.text.strip() for s in segs))
            err = error_rate(c["lang"], c["ref"], texts[0])
            out["plain"].append({"lang": c["lang"], "file": c["file"], "error": err,
                                 "same_text_twice": texts[0] == texts[1], "text": texts[0]})  # fmt: skip
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def languages_main(args) -> int:
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU(s) (shared, loaded), {THREADS} CTranslate2 threads")
    report = {}
    for model in args.models.split(","):
        report[model] = {}
        for mode in ("cold", "warm"):
            proc = subprocess.run([sys.executable, __file__, "--child", model, "--mode", mode], capture_output=True,
                                  text=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": str(THREADS)})  # fmt: skip
            if proc.returncode:
                print(proc.stderr[-3000:])
                return 1
            report[model][mode] = json.loads(proc.stdout.strip().splitlines()[-1])
        cold, warm = report[model]["cold"], report[model]["warm"]
        print(f"\n== {model}: warm-up {warm['warm_up_s']} s, peak RSS {warm['peak_rss_mib']} MiB")
        print(f"{'clip':<20}{'lang':<6}{'err':>7}{'plain':>7}{'plain same':>11}{'RTF cold':>10}{'RTF warm':>10}"
              f"{'1st job':>9}{'warm job':>9}")  # fmt: skip
        for i, job in enumerate(j for j in warm["jobs"] if j["rep"] == 0):
            again = next(j for j in warm["jobs"] if j["rep"] == 1 and j["file"] == job["file"])
            c = next(j for j in cold["jobs"] if j["file"] == job["file"])
            plain = next(p for p in warm["plain"] if p["file"] == job["file"])
            first = f"{job['wall_s']:.2f}" if i == 0 else "-"
            print(f"{job['file']:<20}{job['lang']:<6}{job['error']:>7.3f}{plain['error']:>7.3f}"
                  f"{str(plain['same_text_twice']):>11}{c['rtf']:>10.3f}{again['rtf']:>10.3f}{first:>9}"
                  f"{again['wall_s']:>9.2f}")  # fmt: skip
        first_cold = cold["jobs"][0]
        first_warm = warm["jobs"][0]
        again = next(j for j in warm["jobs"] if j["rep"] == 1 and j["file"] == first_warm["file"])
        print(f"first job ({first_warm['file']}): cold process {first_cold['wall_s']} s, warmed-up process "
              f"{first_warm['wall_s']} s, warm {again['wall_s']} s -> first/warm "
              f"{first_warm['wall_s'] / again['wall_s']:.2f} (cold/warm {first_cold['wall_s'] / again['wall_s']:.2f})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


# ------------------------------------------------------------------------------------------ dialogue bench


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


def dialogue_main(args) -> int:
    if not args.audio.exists():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_test_media.py"), "--bench", str(args.audio),
                        "--seconds", str(args.seconds)], check=True)  # fmt: skip
    sidecar = args.audio.with_suffix(".json")
    turns = json.loads(sidecar.read_text())["turns"] if sidecar.exists() else []
    config = PipelineConfig(cpu_threads=args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s)")
    runs = []
    for i in range(args.runs):
        events: list[tuple[float, str, float]] = []
        t0 = time.perf_counter()
        def report(stage: str, fraction: float, ev=events, t0=t0) -> None:
            ev.append((time.perf_counter() - t0, stage, fraction))

        result = run_pipeline(str(args.audio), config=config, report=report)
        wall = time.perf_counter() - t0
        duration = result["metadata"]["duration"]
        stages = stage_times(events, wall)
        label = "cold" if i == 0 else "warm"
        acc = speaker_accuracy(result, turns) if turns else None
        runs.append({"run": label, "wall_s": round(wall, 2), "rtf": round(wall / duration, 3),
                     "stages_s": {k: round(v, 2) for k, v in stages.items()}, "speakers": result["speakers"],
                     "speaker_word_accuracy": acc})  # fmt: skip
        print(f"\nrun {i + 1} ({label}): {wall:.2f} s for {duration:.1f} s audio -> RTF {wall / duration:.3f}")
        for k, v in stages.items():
            print(f"  {k:<17} {v:7.2f} s   RTF {v / duration:.4f}")
        print(f"  speakers {result['speakers']}, speaker word accuracy {acc if acc is None else round(acc, 3)}")
    md = result["metadata"]
    print(f"\nmodel {md['model']}  engine {md['engine']}  device {md['device']}  compute_type {config.compute_type}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    estimate = benchmark_estimate_seconds(duration, config, md["language"])
    print(f"benchmark_estimate_seconds({duration:.1f}) with warm models = {estimate} s")
    if args.json:
        args.json.write_text(json.dumps({"duration": duration, "runs": runs, "model": md["model"]}, indent=2))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="tiny.en,base")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--mode", choices=["cold", "warm"], help=argparse.SUPPRESS)
    ap.add_argument("--dialogue", action="store_true", help="the ~60 s two-voice stage benchmark instead")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--audio", type=Path, default=Path("/tmp/ecg-bench/dialogue-60s.wav"))
    ap.add_argument("--runs", type=int, default=2, help="dialogue: 1 cold + (runs-1) warm")
    ap.add_argument("--threads", type=int, default=0, help="dialogue: CTranslate2 cpu_threads (0 = default)")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.mode == "warm"), ensure_ascii=False))
        return 0
    return dialogue_main(args) if args.dialogue else languages_main(args)


if __name__ == "__main__":
    sys.exit(main())
