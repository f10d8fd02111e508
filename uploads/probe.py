"""Media probing with PyAV: what the file really is, never what the client claimed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import av

logger = logging.getLogger(__name__)


class MediaInvalid(Exception):
    """The file is not decodable audio/video; ``reason`` is safe to show to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    """Open the container and read stream facts; decodes one packet per stream to prove it is real media."""
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise MediaInvalid("not a readable media file") from exc
    with container:
        video = next((s for s in container.streams.video if s.codec_context is not None), None)
        audio = next(iter(container.streams.audio), None)
        if video is None and audio is None:
            raise MediaInvalid("no audio or video stream")
        # Cover art in audio files is a single still "video" frame: treat it as audio-only.
        if video is not None and video.disposition & av.stream.Disposition.attached_pic:
            video = None
        duration = None
        if container.duration:
            duration = container.duration / av.time_base
        else:
            stream = video or audio
            if stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
        try:
            _decode_one(container, video or audio)
        except (av.error.FFmpegError, StopIteration) as exc:
            raise MediaInvalid("the media stream cannot be decoded") from exc
        rate = None
        if video is not None:
            rate_q = video.average_rate or video.base_rate or video.guessed_rate
            rate = round(float(rate_q), 3) if rate_q else None
        return MediaInfo(
            duration=round(duration, 3) if duration else None,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            frame_rate=rate,
            video_codec=video.codec_context.name if video is not None else None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            has_audio=audio is not None,
            has_video=video is not None,
            container=container.format.name,
        )


def _decode_one(container, stream) -> None:
    for packet in container.demux(stream):
        for _frame in packet.decode():
            return
    raise StopIteration
