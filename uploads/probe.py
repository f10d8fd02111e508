"""Media probing with PyAV: what the file really is, never what the client claimed.

Only container headers are read (``mediasafe.open_media``: sniffed format, ``file`` protocol only, capped
decoder size): probing runs inside web requests, so it never decodes a frame. Whether the streams really
decode is found out by the workers, which decode anyway and fail the job with a clear code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import av

from mediasafe import MEDIA_INVALID, MediaRefused, check_limits, open_media

logger = logging.getLogger(__name__)


class MediaInvalid(Exception):
    """The file is not acceptable audio/video; ``code`` is stable and ``reason`` is safe to show to the user."""

    def __init__(self, reason: str, code: str = MEDIA_INVALID, details: dict | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.details = details or {}


@dataclass(frozen=True)
class MediaInfo:
    duration: float | None
    width: int | None
    height: int | None
    frame_rate: float | None
    video_codec: str | None
    audio_codec: str | None
    has_audio: bool
    has_video: bool
    container: str


def probe(path: str | Path) -> MediaInfo:
    """Read stream facts from the container headers and refuse sources over the documented limits."""
    try:
        container = open_media(path)
    except MediaRefused as exc:
        raise MediaInvalid(exc.message, exc.code, exc.details) from exc
    except FileNotFoundError as exc:
        raise MediaInvalid("the file is missing") from exc
    with container:
        video = next((s for s in container.streams.video if s.codec_context is not None), None)
        audio = next(iter(container.streams.audio), None)
        # Cover art in audio files is a single still "video" frame: treat it as audio-only.
        if video is not None and video.disposition & av.stream.Disposition.attached_pic:
            video = None
        if video is None and audio is None:
            raise MediaInvalid("no audio or video stream")
        width = video.codec_context.width if video is not None else None
        height = video.codec_context.height if video is not None else None
        if video is not None and not (width and height):
            raise MediaInvalid("the video stream has no picture size")
        duration = None
        if container.duration:
            duration = container.duration / av.time_base
        else:
            stream = video or audio
            if stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
        try:
            check_limits(width=width, height=height, duration=duration)
        except MediaRefused as exc:
            raise MediaInvalid(exc.message, exc.code, exc.details) from exc
        rate = None
        if video is not None:
            rate_q = video.average_rate or video.base_rate or video.guessed_rate
            rate = round(float(rate_q), 3) if rate_q else None
        return MediaInfo(
            duration=round(duration, 3) if duration else None,
            width=width,
            height=height,
            frame_rate=rate,
            video_codec=video.codec_context.name if video is not None else None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            has_audio=audio is not None,
            has_video=video is not None,
            container=container.format.name,
        )
