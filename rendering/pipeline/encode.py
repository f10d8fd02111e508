"""Encoding: encoder probing, quality → CRF mapping, output container/stream setup, audio copy/re-encode.

H.264 for mp4/mov: `h264_nvenc` only when an NVENC encoder actually opens and encodes a frame on this
machine (a build that lists it is not enough: H100/H200 have no NVENC), else `libx264`. webm: VP9
(`libvpx-vp9`) + Opus. Audio is copied when the container accepts the source codec, else re-encoded
(AAC for mp4/mov, Opus for webm).
"""

from __future__ import annotations

import logging
import threading
from fractions import Fraction

import av
import numpy as np

from .errors import RENDER_ENCODER_FAILED, RenderError

logger = logging.getLogger(__name__)

CONTAINER_FORMAT = {"mp4": "mp4", "mov": "mov", "webm": "webm"}
AUDIO_COPY_OK = {
    "mp4": {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"},
    "mov": {"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le", "pcm_s24le", "pcm_f32le"},
    "webm": {"opus", "vorbis"},
}

_probe_lock = threading.Lock()
_probe_cache: dict[str, str] = {}


def x264_crf(quality: int) -> int:
    """quality 1–100 → x264/NVENC CQ: 100 → 14 (visually lossless), 90 → 17, 75 → 22, 50 → 29, 1 → 45."""
    q = min(100, max(1, int(quality)))
    return int(round(45 - 0.31 * q))


def vp9_crf(quality: int) -> int:
    """quality 1–100 → libvpx-vp9 CRF (0–63, constant quality): 100 → 18, 90 → 21, 50 → 35, 1 → 52."""
    q = min(100, max(1, int(quality)))
    return int(round(52 - 0.34 * q))


def _nvenc_opens() -> bool:
    if "h264_nvenc" not in av.codecs_available:
        return False
    try:
        ctx = av.CodecContext.create("h264_nvenc", "w")
        ctx.width, ctx.height, ctx.pix_fmt = 256, 256, "yuv420p"
        ctx.time_base = Fraction(1, 30)
        ctx.framerate = Fraction(30, 1)
        ctx.open()
        frame = av.VideoFrame.from_ndarray(np.zeros((384, 256), np.uint8), format="yuv420p")
        frame.pts = 0
        packets = list(ctx.encode(frame)) + list(ctx.encode(None))
        return bool(packets)
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable here"
        logger.info("h264_nvenc is not usable here: %s", exc)
        return False


def probe_encoder(config) -> str:
    """The H.264 encoder to use: "h264_nvenc" only when it really encodes here, else "libx264"."""
    wanted = getattr(config, "encoder", "auto") or "auto"
    if wanted == "libx264":
        return "libx264"
    with _probe_lock:
        if "nvenc" not in _probe_cache:
            _probe_cache["nvenc"] = "h264_nvenc" if _nvenc_opens() else "libx264"
        found = _probe_cache["nvenc"]
    if wanted == "h264_nvenc" and found != "h264_nvenc":
        logger.warning("encoder h264_nvenc was configured but does not open here; using libx264")
    return found


def video_codec_for(fmt: str, h264_encoder: str) -> str:
    return "libvpx-vp9" if fmt == "webm" else h264_encoder


def add_video_stream(
    out: av.container.OutputContainer,
    codec: str,
    *,
    width: int,
    height: int,
    rate: Fraction,
    quality: int,
    x264_preset: str,
):
    """Create the output video stream with the quality mapping for its encoder."""
    if codec == "libx264":
        options = {"crf": str(x264_crf(quality)), "preset": x264_preset}
    elif codec == "h264_nvenc":
        options = {"rc": "vbr", "cq": str(x264_crf(quality)), "preset": "p4", "b": "0"}
    elif codec == "libvpx-vp9":
        # Constant quality needs b:v 0; row-mt + deadline realtime/cpu-used keep it usable on CPUs.
        options = {"crf": str(vp9_crf(quality)), "b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "5"}
    else:
        options = {}
    try:
        stream = out.add_stream(codec, rate=rate, options=options)
    except Exception as exc:  # noqa: BLE001
        raise RenderError(RENDER_ENCODER_FAILED, f"encoder {codec} is not available: {exc}") from exc
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.time_base = 1 / rate
    stream.thread_type = "AUTO"
    return stream


class AudioHandler:
    """Copy the source audio stream into the output when the container allows it, else re-encode."""

    def __init__(self, out, in_stream, fmt: str):
        self.in_stream = in_stream
        self.copy = in_stream.codec_context.name in AUDIO_COPY_OK[fmt]
        self.resampler = None
        if self.copy:
            self.stream = out.add_stream_from_template(in_stream)
        else:
            codec, rate = ("libopus", 48000) if fmt == "webm" else ("aac", in_stream.rate or 48000)
            if codec == "aac" and rate not in (8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000):
                rate = 48000
            layout = "stereo" if (in_stream.channels or 2) >= 2 else "mono"
            self.stream = out.add_stream(codec, rate=rate, layout=layout)
            self.stream.bit_rate = 160_000 if layout == "stereo" else 96_000
            fmt_name = "flt" if codec == "libopus" else "fltp"
            self.resampler = av.AudioResampler(format=fmt_name, layout=layout, rate=rate)
            self.next_pts = 0

    def handle(self, out, packet) -> None:
        if self.copy:
            if packet.dts is None:
                return
            packet.stream = self.stream
            out.mux(packet)
            return
        for frame in packet.decode():
            self._encode(out, frame)

    def _encode(self, out, frame) -> None:
        for rf in self.resampler.resample(frame):
            rf.pts = self.next_pts
            rf.time_base = Fraction(1, rf.sample_rate)
            self.next_pts += rf.samples
            for p in self.stream.encode(rf):
                out.mux(p)

    def flush(self, out) -> None:
        if self.copy:
            return
        for rf in self.resampler.resample(None):
            rf.pts = self.next_pts
            self.next_pts += rf.samples
            for p in self.stream.encode(rf):
                out.mux(p)
        for p in self.stream.encode(None):
            out.mux(p)
