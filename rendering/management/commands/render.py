"""manage.py render <media> <scenario.json> [-o out.mp4] [--width --height --fps --quality --format]."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rendering.pipeline.options import DEFAULT_FORMAT, DEFAULT_QUALITY, FORMATS


class Command(BaseCommand):
    help = "Burn a MotionText scenario (2.0 or 1.3) into a local media file, without the web service."

    def add_arguments(self, parser):
        parser.add_argument("media")
        parser.add_argument("scenario")
        parser.add_argument("-o", "--output")
        parser.add_argument("--width", type=int)
        parser.add_argument("--height", type=int)
        parser.add_argument("--fps", type=float)
        parser.add_argument("--quality", type=int, default=DEFAULT_QUALITY)
        parser.add_argument("--format", choices=FORMATS)
        parser.add_argument("--seed", type=int)

    def handle(self, *args, media: str, scenario: str, output: str | None, **options):
        from rendering.pipeline import RenderError, RenderOptions, render_video
        from rendering.runner import job_plugin_dirs, renderer_config
        from rendering.services import check_scenario, validate_options
        from uploads.probe import MediaInvalid, probe

        source = Path(media)
        if not source.is_file():
            raise CommandError(f"no such file: {media}")
        try:
            raw = json.loads(Path(scenario).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read scenario: {exc}") from exc
        migrated, problems = check_scenario(raw)
        try:
            info = probe(source)
        except MediaInvalid as exc:
            raise CommandError(f"{media}: {exc.reason}") from exc
        fmt = options["format"] or (Path(output).suffix.lstrip(".") if output else DEFAULT_FORMAT)
        resolved, option_problems = validate_options(
            {k: options[k] for k in ("width", "height", "fps", "quality") if options[k] is not None} | {"format": fmt},
            source=info)
        for problem in problems + option_problems:
            self.stderr.write(f"{problem['path']}: {problem['message']}")
        if problems or option_problems:
            raise CommandError("invalid scenario or options")
        out = Path(output or source.with_name(f"{source.stem}.captioned.{fmt}"))
        started = time.monotonic()

        def report(done: int, total: int) -> None:
            if done % 150 == 0 or done == total:
                self.stderr.write(f"frames {done}/{total}")

        try:
            result = render_video(str(source), migrated, RenderOptions(**resolved), str(out), config=renderer_config(),
                                  seed=options["seed"] or random.randrange(1, 2**31), report=report,
                                  plugin_dirs=job_plugin_dirs(migrated))
        except RenderError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        elapsed = time.monotonic() - started
        self.stdout.write(f"{out}: {result.width}x{result.height} {result.fps:g} fps, {result.duration:.2f}s, "
                          f"{result.frames_captured}/{result.frames_total} frames captured, {result.encoder}, "
                          f"{elapsed:.1f}s wall (RTF {elapsed / max(result.duration, 1e-6):.2f})")
