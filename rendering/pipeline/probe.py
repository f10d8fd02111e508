"""Source probing: one demux pass (no decoding) for exact frame timing, plus a first-frame decode check."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from mediasafe import MediaRefused, check_limits, open_media

from .compose import ColorSpec, color_spec_for
from .errors import RENDER_SOURCE_INVALID, RenderError


@dataclass(frozen=True)
class SourceInfo:
    width: int
    height: int
    fps: Fraction
    duration: float  # video duration: first frame to the end of the last one
    frames: int
    start: float  # pts of the first video frame, seconds
    has_audio: bool
    audio_codec: str | None
    pix_fmt: str
    color: ColorSpec


def probe_source(path: str) -> SourceInfo:
    if not Path(path).is_file():
        raise RenderError(RENDER_SOURCE_INVALID, "the source video file does not exist")
    try:
        with open_media(path) as container:
            if not container.streams.video:
                raise RenderError(RENDER_SOURCE_INVALID, "the source has no video stream")
            vs = container.streams.video[0]
            duration = container.duration / av.time_base if container.duration else None
            check_limits(width=vs.codec_context.width, height=vs.codec_context.height, duration=duration)
            tb = vs.time_base
            rate = vs.average_rate or vs.guessed_rate or vs.base_rate
            if not rate or rate <= 0:
                rate = Fraction(30, 1)
            first = None
            last_end = None
            count = 0
            for packet in container.demux(vs):
                if packet.size == 0 or packet.pts is None:
                    continue
                count += 1
                dur = packet.duration or (int(round(1 / (rate * tb))) if tb else 0)
                first = packet.pts if first is None else min(first, packet.pts)
                end = packet.pts + dur
                last_end = end if last_end is None else max(last_end, end)
            audio = container.streams.audio[0] if container.streams.audio else None
            audio_codec = audio.codec_context.name if audio is not None else None
        if count == 0 or first is None:
            raise RenderError(RENDER_SOURCE_INVALID, "the source has no video frames")
        # Decode the first frame now so an undecodable file fails before the browser starts.
        with open_media(path) as container:
            vs = container.streams.video[0]
            frame = next(container.decode(vs), None)
            if frame is None:
                raise RenderError(RENDER_SOURCE_INVALID, "the source video cannot be decoded")
            width, height, pix_fmt = frame.width, frame.height, frame.format.name
            color = color_spec_for(frame)
    except RenderError:
        raise
    except MediaRefused as exc:
        raise RenderError(RENDER_SOURCE_INVALID, exc.message, {"reason": exc.code, **exc.details}) from exc
    except (av.FFmpegError, OSError, ValueError, StopIteration) as exc:
        raise RenderError(RENDER_SOURCE_INVALID, f"the source video cannot be read: {exc}") from exc
    duration = float((last_end - first) * tb) if tb else count / float(rate)
    return SourceInfo(
        width=width,
        height=height,
        fps=Fraction(rate).limit_denominator(100000),
        duration=duration,
        frames=count,
        start=float(first * tb) if tb else 0.0,
        has_audio=audio is not None,
        audio_codec=audio_codec,
        pix_fmt=pix_fmt,
        color=color,
    )
