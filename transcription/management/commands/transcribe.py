"""manage.py transcribe <media> [--language xx] [--json out.json]: run the pipeline on a local file."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Transcribe a local media file with the configured engine, without the web service or a broker."

    def add_arguments(self, parser):
        parser.add_argument("media")
        parser.add_argument("--language", default="auto")
        parser.add_argument("--json", dest="json_out", help="write the API.md 2.1 result here")
        parser.add_argument("--min-speakers", type=int)
        parser.add_argument("--max-speakers", type=int)

    def handle(self, *args, media: str, language: str, json_out: str | None, **options):
        from transcription.pipeline import PipelineError, run_pipeline
        from transcription.runner import pipeline_config

        if not Path(media).is_file():
            raise CommandError(f"no such file: {media}")
        last = {"stage": ""}

        def report(stage: str, fraction: float) -> None:
            if stage != last["stage"]:
                last["stage"] = stage
                self.stderr.write(f"[{fraction * 100:5.1f}%] {stage}")

        started = time.monotonic()
        try:
            result = run_pipeline(media, language=language, config=pipeline_config(), report=report,
                                  min_speakers=options.get("min_speakers"), max_speakers=options.get("max_speakers"))
        except PipelineError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        elapsed = time.monotonic() - started
        for segment in result["segments"]:
            speaker = segment["speaker"]["speaker_id"] if segment.get("speaker") else "-"
            self.stdout.write(f"{segment['start']:8.2f} {segment['end']:8.2f} {speaker:>10}  {segment['text']}")
        meta = result["metadata"]
        self.stderr.write(f"{meta['engine']} {meta['model']} on {meta['device']}: {meta['duration']:.1f}s audio in "
                          f"{elapsed:.1f}s (RTF {elapsed / max(meta['duration'], 1e-6):.2f}), "
                          f"language {result['language']}, {meta['unique_speakers']} speaker(s)")
        if json_out:
            target = sys.stdout if json_out == "-" else Path(json_out).open("w", encoding="utf-8")
            json.dump(result, target, ensure_ascii=False, indent=2)
