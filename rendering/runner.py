"""What a render worker does with one job id: fetch the source, render the captions, store the output."""

from __future__ import annotations

import contextlib
import functools
import logging
import tempfile
from pathlib import Path

from django.conf import settings

from ecg.jobs import JobCancelled, JobFailure, JobReporter, TransientJobError, execute
from rendering.models import RenderJob
from rendering.pipeline.options import DEFAULT_FORMAT, DEFAULT_QUALITY
from rendering.plugin_sources import local_plugin_dirs
from uploads import storage

logger = logging.getLogger(__name__)
MAX_RETRIES = 3
CONTENT_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}


def renderer_config():
    from rendering.pipeline import RendererConfig

    return RendererConfig(chromium_path=settings.CHROMIUM_PATH, plugin_origin=settings.PLUGIN_ORIGIN,
                          encoder=settings.RENDER_ENCODER, parallel_pages=settings.RENDER_PARALLEL_PAGES,
                          work_dir=str(settings.WORK_DIR))


def job_plugin_dirs(scenario: dict) -> dict[str, str]:
    """Local folders of the published catalogue plugins this scenario names (see plugin_sources)."""
    from rendering.pipeline.scenario import plugin_names

    return local_plugin_dirs(plugin_names(scenario), settings.WORK_DIR)


def output_key(job: RenderJob) -> str:
    return f"renders/{job.owner_id}/{job.pk}/{job.output_name}"


def run(job_id: str) -> None:
    execute(RenderJob, job_id, functools.partial(_work, job_id), max_retries=MAX_RETRIES)


def _work(job_id: str, reporter: JobReporter) -> dict:
    from rendering.pipeline import RenderCancelled, RenderError, RenderOptions, render_video

    job = RenderJob.objects.select_related("video").get(pk=job_id)
    reporter.progress(1, "downloading")
    settings.WORK_DIR.mkdir(parents=True, exist_ok=True)
    options = job.options
    fmt = options.get("format", DEFAULT_FORMAT)
    with contextlib.ExitStack() as stack:
        try:
            source = stack.enter_context(storage.local_copy(job.video.key))
        except FileNotFoundError as exc:
            raise JobFailure("RENDER_SOURCE_INVALID", "The source video is missing from storage.") from exc
        except Exception as exc:
            raise TransientJobError(f"could not fetch {job.video.key}: {exc}") from exc
        tmp_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=settings.WORK_DIR, prefix="render-")))
        out_path = tmp_dir / f"out.{fmt}"

        def report(done: int, total: int) -> None:
            reporter.progress(2 + int(95 * done / max(total, 1)), "rendering", frames_done=done, frames_total=total)

        logger.info("render job %s: rendering %s (%s)", job_id, job.video.key, options)
        try:
            result = render_video(
                str(source), job.scenario,
                RenderOptions(width=options.get("width"), height=options.get("height"), fps=options.get("fps"),
                              quality=options.get("quality", DEFAULT_QUALITY), format=fmt),
                str(out_path), config=renderer_config(), seed=job.seed, report=report,
                should_cancel=reporter.cancelled, plugin_dirs=job_plugin_dirs(job.scenario))
        except RenderCancelled as exc:
            raise JobCancelled(job_id) from exc
        except RenderError as exc:
            raise JobFailure(exc.code, exc.message) from exc
        reporter.progress(98, "uploading")
        key = output_key(job)
        try:
            storage.save_file(key, out_path, CONTENT_TYPES.get(fmt, "application/octet-stream"))
        except Exception as exc:
            raise TransientJobError(f"could not store {key}: {exc}") from exc
    return {"output_key": key, "output_size": result.size_bytes, "output_duration": round(result.duration, 3),
            "frames_done": result.frames_total, "frames_total": result.frames_total,
            "frames_captured": result.frames_captured, "encoder": result.encoder, "timings": result.timings or {}}
