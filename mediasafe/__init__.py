"""Opening untrusted media with PyAV: the one safe way, shared by upload probing and both pipelines.

FFmpeg's format guessing will happily open an uploaded HLS playlist, an ``ffconcat`` list or an image
sequence, and those demuxers open *other* files or URLs named inside the upload (an ``.m3u8`` whose segment
is ``file:/some/server/path`` was read back as that file). A protocol whitelist alone does not stop that: a
playlist may name ``file:`` paths. So:

1. The container family is decided from the file's leading bytes (``sniff_format``), never from the name or
   the client's Content-Type, and only real single-file media containers are accepted (``ALLOWED_FORMATS``).
2. FFmpeg is told that format (no guessing), opens the path through the ``file`` protocol only, and may
   open nothing else (``protocol_whitelist=file``).
3. Decoders refuse frames above ``MAX_PIXELS`` (FFmpeg's ``max_pixels``), so even the stream-info probe
   cannot allocate a 16000x16000 picture; ``check_limits`` refuses dimensions and durations read from the
   container headers before any frame is decoded.

This package imports no Django and sits below every layer (pyproject.toml's import contracts): the upload
probe and the transcription and rendering pipelines all open media through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av

# Sniffed family -> the FFmpeg demuxer forced for it. Every one reads a single self-contained file.
ALLOWED_FORMATS: dict[str, str] = {
    "mov": "mov",  # .mp4 .mov .m4a .3gp (ISO BMFF / QuickTime); external data references stay off (FFmpeg default)
    "matroska": "matroska",  # .mkv .webm
    "avi": "avi",
    "mpegts": "mpegts",  # .ts .mts .m2ts (camera files)
    "mp3": "mp3",
    "aac": "aac",  # raw ADTS .aac
    "wav": "wav",
    "flac": "flac",
    "ogg": "ogg",  # .ogg .opus .oga
}
# Names FFmpeg reports for those demuxers (``container.format.name``): checked again after opening.
ALLOWED_DEMUXERS = frozenset(ALLOWED_FORMATS.values()) | {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"}

MAX_WIDTH = 3840  # the long side; portrait sources (2160x3840) are accepted too
MAX_HEIGHT = 2160  # the short side
MAX_PIXELS = MAX_WIDTH * MAX_HEIGHT
MAX_DURATION = 4 * 3600.0  # seconds; plans may set lower limits per job

MEDIA_INVALID = "MEDIA_INVALID"
MEDIA_UNSUPPORTED_FORMAT = "MEDIA_UNSUPPORTED_FORMAT"
MEDIA_TOO_LARGE = "MEDIA_TOO_LARGE"
MEDIA_TOO_LONG = "MEDIA_TOO_LONG"

_HEAD = 512
_MOV_ATOMS = {b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"}


class MediaRefused(Exception):
    """The file is not media we open; ``code`` is stable, ``message`` is safe to show to the user."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or {}


def _sniff(head: bytes) -> str | None:
    if len(head) >= 8 and head[4:8] in _MOV_ATOMS:
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and len(head) >= 12:
        return {b"AVI ": "avi", b"WAVE": "wav"}.get(head[8:12])
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
        return "mpegts"
    if len(head) > 388 and head[4] == head[196] == head[388] == 0x47:
        return "mpegts"  # M2TS: 192-byte packets with a 4-byte time code
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:
            return "aac"  # ADTS sync word, layer 0
        if head[1] & 0xE0 == 0xE0 and (head[1] >> 1) & 3:
            return "mp3"  # MPEG audio frame sync, layer I-III
    return None


def sniff_format(path: str | Path) -> str | None:
    """The container family from the file's first bytes (after any ID3 tag), or None when not allowed."""
    with open(path, "rb") as fh:
        head = fh.read(_HEAD)
        if head.startswith(b"ID3") and len(head) >= 10:
            size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
            fh.seek(10 + size + (10 if head[5] & 0x10 else 0))
            after = fh.read(_HEAD)
            family = _sniff(after)
            # An ID3 tag precedes MP3 (and sometimes FLAC or ADTS); anything else behind it is refused.
            return family if family in ("mp3", "aac", "flac") else None
    return _sniff(head)


def open_media(path: str | Path, *, max_pixels: int = MAX_PIXELS) -> av.container.InputContainer:
    """Open ``path`` for reading as one of ``ALLOWED_FORMATS``; raise ``MediaRefused`` otherwise.

    Raises ``FileNotFoundError`` for a missing file (a storage problem, not the user's media).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(str(path))
    try:
        family = sniff_format(path)
    except OSError as exc:
        raise MediaRefused(MEDIA_INVALID, "The file cannot be read.") from exc
    if family is None:
        raise MediaRefused(MEDIA_UNSUPPORTED_FORMAT,
                           "Only audio and video files (MP4, MOV, M4A, WebM, MKV, AVI, MPEG-TS, MP3, AAC, WAV, "
                           "FLAC, Ogg) are accepted.")
    try:
        container = av.open(
            "file:" + str(path.resolve()), mode="r", format=ALLOWED_FORMATS[family],
            container_options={"protocol_whitelist": "file"},
            options={"max_pixels": str(max_pixels)},
            metadata_errors="ignore",
        )
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise MediaRefused(MEDIA_INVALID, "The file is not a readable audio or video file.") from exc
    if container.format.name not in ALLOWED_DEMUXERS:  # defence in depth: never reached with a forced format
        container.close()
        raise MediaRefused(MEDIA_UNSUPPORTED_FORMAT, f"The {container.format.name} format is not accepted.")
    for stream in container.streams.video:  # the stream-info probe had the cap; the decoders opened later too
        stream.codec_context.options = {**stream.codec_context.options, "max_pixels": str(max_pixels)}
    return container


def check_limits(*, width: int | None, height: int | None, duration: float | None,
                 max_duration: float | None = None) -> None:
    """Refuse sources larger than 3840x2160 (either orientation) or longer than ``max_duration``."""
    max_duration = MAX_DURATION if max_duration is None else max_duration
    if width and height:
        long_side, short_side = max(width, height), min(width, height)
        if long_side > MAX_WIDTH or short_side > MAX_HEIGHT:
            raise MediaRefused(
                MEDIA_TOO_LARGE, f"The video is {width}x{height}; the maximum is {MAX_WIDTH}x{MAX_HEIGHT}.",
                {"width": width, "height": height, "max_width": MAX_WIDTH, "max_height": MAX_HEIGHT})
    if duration is not None and duration > max_duration:
        raise MediaRefused(
            MEDIA_TOO_LONG, f"The media is {duration:.0f} s long; the maximum is {max_duration:.0f} s.",
            {"duration": round(duration, 3), "max_duration": max_duration})
