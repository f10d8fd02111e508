"""render_video: validate → probe → resolve plugins → capture overlays (parallel pages) → blend → encode.

The main thread decodes, blends and encodes in frame order while the browser workers capture later
segments. Frames with nothing visible go straight from the decoder to the encoder. The output is
written to a temporary name next to `out_path` and renamed only when complete.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

import av
from av.video.frame import PictureType

from mediasafe import MediaRefused, open_media

from .capture import (
    CaptureJob,
    OverlayStream,
    acquire_workers,
    active_frames,
    check_page_assets,
    default_parallel_pages,
    plan_segments,
    release_workers,
)
from .compose import OverlayCanvas, blend_yuv420
from .encode import CONTAINER_FORMAT, AudioHandler, add_video_stream, probe_encoder, video_codec_for
from .errors import (
    RENDER_FAILED,
    RENDER_SCENARIO_INVALID,
    RENDER_SOURCE_INVALID,
    RenderCancelled,
    RenderError,
    ScenarioInvalid,
)
from .options import RendererConfig, RenderOptions, RenderResult, check_options
from .plugins import resolve_plugins
from .probe import SourceInfo, probe_source
from .scenario import active_intervals, plugin_names, size_problems, validate_scenario

logger = logging.getLogger(__name__)

CHECK_EVERY = 5  # frames between report()/should_cancel() calls


def _noop_report(done: int, total: int) -> None:
    return None


def _never() -> bool:
    return False


def _even(v: int) -> int:
    return max(2, v - (v % 2))


def output_geometry(info: SourceInfo, options: RenderOptions) -> tuple[int, int, int, int]:
    """(out_w, out_h, comp_w, comp_h): composite at the source size unless the aspect ratio changes."""
    out_w = _even(options.width or info.width)
    out_h = _even(options.height or info.height)
    src_w, src_h = _even(info.width), _even(info.height)
    if abs(out_w / out_h - src_w / src_h) <= 0.01 * (src_w / src_h):
        return out_w, out_h, src_w, src_h
    return out_w, out_h, out_w, out_h


def _check_options(options: RenderOptions) -> None:
    """The pipeline's own guard (it runs without the API too: ``manage.py render``, bench), same bounds."""
    _clean, problems = check_options({k: v for k, v in asdict(options).items() if v is not None})
    if problems:
        messages = [problem["message"] for problem in problems]
        raise RenderError("RENDER_INVALID_INPUT", "; ".join(messages), {"problems": messages})


def render_video(
    source_path: str,
    scenario: dict,
    options: RenderOptions,
    out_path: str,
    *,
    config: RendererConfig,
    seed: int,
    report: Callable[[int, int], None] = _noop_report,
    should_cancel: Callable[[], bool] = _never,
    plugin_dirs: Mapping[str, str] | None = None,
) -> RenderResult:
    """Burn the scenario's captions into the source video; write `out_path` only on success.

    `plugin_dirs` maps name@version to a local plugin folder (the worker's published catalogue entries).
    """
    t_start = time.monotonic()
    timings: dict[str, float] = {}
    _check_options(options)
    try:
        scenario = validate_scenario(scenario)
    except ScenarioInvalid as exc:
        raise RenderError(RENDER_SCENARIO_INVALID, str(exc), {"problems": exc.problems}) from exc

    info = probe_source(source_path)
    timings["probe"] = time.monotonic() - t_start
    if dense := size_problems(scenario, info.duration):
        raise RenderError(RENDER_SCENARIO_INVALID, dense[0]["message"], {"problems": dense})
    out_w, out_h, comp_w, comp_h = output_geometry(info, options)
    out_fps = info.fps
    if options.fps and abs(options.fps - float(info.fps)) > 1e-3 * float(info.fps):
        # A rounded copy of the source rate (29.97 for 30000/1001) keeps the exact source rate.
        out_fps = Fraction(options.fps).limit_denominator(1001)
    if out_fps == info.fps:
        frames_total = info.frames
    else:
        frames_total = max(1, int(round(info.duration * float(out_fps))))

    t = time.monotonic()
    plugins = resolve_plugins(plugin_names(scenario), plugin_origin=config.plugin_origin, work_dir=config.work_dir,
                              plugin_dirs=plugin_dirs)
    timings["plugins"] = time.monotonic() - t

    h264 = probe_encoder(config) if options.format != "webm" else "libx264"
    vcodec = video_codec_for(options.format, h264)

    active = active_frames(active_intervals(scenario), frames_total, float(out_fps))
    segments = plan_segments(active, float(out_fps), config.segment_seconds)
    spec = info.color
    job = CaptureJob(
        job_key=uuid.uuid4().hex,
        scenario=scenario,
        plugins=plugins,
        width=comp_w,
        height=comp_h,
        fps=float(out_fps),
        seed=seed,
        damage=config.damage_capture,
    )
    workers = []
    stream: OverlayStream | None = None
    out_dir = Path(out_path).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp_path = str(out_dir / f".{Path(out_path).name}.{job.job_key}.partial.{options.format}")
    inp = out = None
    ok = False
    wait_overlay = 0.0
    blended = 0
    try:
        if segments:
            check_page_assets()
            pages = min(default_parallel_pages(config.parallel_pages), len(segments))
            workers = acquire_workers(pages, config.chromium_path)
            stream = OverlayStream(job, segments, frames_total, workers, OverlayCanvas(spec, comp_w, comp_h),
                                   should_cancel=should_cancel)
        timings["setup"] = time.monotonic() - t_start

        try:
            inp = open_media(source_path)
        except (MediaRefused, av.FFmpegError, OSError) as exc:
            raise RenderError(RENDER_SOURCE_INVALID, f"the source video cannot be read: {exc}") from exc
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        mux_options = {"movflags": "+faststart"} if options.format == "mp4" else {}
        out = av.open(tmp_path, "w", format=CONTAINER_FORMAT[options.format], options=mux_options)
        vout = add_video_stream(
            out,
            vcodec,
            width=out_w,
            height=out_h,
            rate=out_fps,
            quality=options.quality,
            x264_preset=config.x264_preset,
        )
        audio = AudioHandler(out, ain, options.format) if ain is not None else None
        tb_out = 1 / out_fps

        k = 0
        prev = None  # (source frame, prepared composition-size frame or None)
        eps = 0.25 / float(info.fps)
        fps_f = float(out_fps)

        def emit(src: av.VideoFrame, cache: list) -> None:
            nonlocal k, wait_overlay, blended
            if k % CHECK_EVERY == 0:
                report(k, frames_total)
                if should_cancel():
                    raise RenderCancelled()
            frame = cache[0]
            if frame is None:
                frame = src
                if frame.format.name != "yuv420p" or frame.width != comp_w or frame.height != comp_h:
                    frame = frame.reformat(width=comp_w, height=comp_h, format="yuv420p")
                cache[0] = frame
            if stream is not None:
                tw = time.monotonic()
                ov = stream.overlay_for(k)
                wait_overlay += time.monotonic() - tw
                if ov is not None:
                    frame = blend_yuv420(frame, ov)
                    blended += 1
            if comp_w != out_w or comp_h != out_h:
                frame = frame.reformat(width=out_w, height=out_h, format="yuv420p", interpolation="BICUBIC")
            frame.pts = k
            frame.time_base = tb_out
            frame.pict_type = PictureType.NONE
            for packet in vout.encode(frame):
                out.mux(packet)
            k += 1

        streams = [vin] + ([ain] if ain is not None else [])
        index = 0
        try:
            for packet in inp.demux(streams):
                if ain is not None and packet.stream.index == ain.index:
                    audio.handle(out, packet)
                    continue
                for frame in packet.decode():
                    ft = (float(frame.time) - info.start) if frame.time is not None else index / float(info.fps)
                    index += 1
                    if prev is not None:
                        while k < frames_total and k / fps_f < ft - eps:
                            emit(prev[0], prev[1])
                    prev = (frame, [None])
                    if k >= frames_total:
                        break
        except av.FFmpegError as exc:
            raise RenderError(RENDER_SOURCE_INVALID, f"the source video could not be decoded: {exc}") from exc
        if prev is None:
            raise RenderError(RENDER_SOURCE_INVALID, "the source video has no decodable frames")
        while k < frames_total:  # never drop: hold the last frame to the source's length
            emit(prev[0], prev[1])
        for packet in vout.encode(None):
            out.mux(packet)
        if audio is not None:
            audio.flush(out)
        out.close()
        out = None
        report(frames_total, frames_total)
        ok = True
    except (RenderError, RenderCancelled):
        raise
    except av.FFmpegError as exc:
        raise RenderError(RENDER_FAILED, f"encoding failed: {exc}") from exc
    finally:
        if stream is not None:
            if not ok:
                stream.close()
            timings["capture_pages"] = round(stream.segment_seconds, 3)
            timings["capture_screenshots"] = round(stream.capture_seconds, 3)
            timings["overlay_prepare"] = round(stream.prepare_seconds, 3)
            timings["captured_patches"] = stream.patches
            timings["captured_pixels_per_frame"] = round(stream.captured_pixels / max(1, stream.captured))
        if workers:
            release_workers(workers)
        for c in (inp, out):
            if c is not None:
                try:
                    c.close()
                except Exception:  # noqa: BLE001, S110 - already failing
                    pass
        if not ok:
            Path(tmp_path).unlink(missing_ok=True)
    Path(tmp_path).replace(out_path)
    total = time.monotonic() - t_start
    timings.update({"wait_overlay": round(wait_overlay, 3), "total": round(total, 3), "blended_frames": blended})
    captured = stream.captured if stream is not None else 0
    logger.info(
        "rendered %s: %d frames (%d captured, %d blended) in %.2fs with %s",
        out_path,
        frames_total,
        captured,
        blended,
        total,
        vcodec,
    )
    return RenderResult(
        path=out_path,
        duration=frames_total / float(out_fps),
        width=out_w,
        height=out_h,
        fps=float(out_fps),
        frames_total=frames_total,
        frames_captured=captured,
        encoder=vcodec,
        size_bytes=Path(out_path).stat().st_size,
        timings=timings,
    )
