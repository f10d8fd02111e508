"""Stage 1 — decode any stored upload to 16 kHz mono float32 with PyAV (FFmpeg's demuxers and decoders).

PyAV is already the project's media library (probing, rendering), so decoding in-process needs no ffmpeg
binary and no temporary WAV file: the samples go straight into one numpy array.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from mediasafe import MediaRefused, open_media

from .errors import MEDIA_INVALID, MEDIA_TOO_LONG, NO_AUDIO_STREAM, PipelineError
from .progress import Progress

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class DecodedAudio:
    samples: np.ndarray  # float32, mono, SAMPLE_RATE
    sample_rate: int
    duration: float  # seconds of decoded audio
    source_codec: str
    source_rate: int
    source_channels: int


def _container_duration(container: av.container.InputContainer, stream: av.audio.AudioStream) -> float | None:
    """Best-effort duration from metadata, so MEDIA_TOO_LONG is raised before decoding anything."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _too_long(seconds: float, max_duration: float) -> PipelineError:
    return PipelineError(
        MEDIA_TOO_LONG,
        f"The media is {seconds:.0f} s long; the limit is {max_duration:.0f} s.",
        {"duration": round(seconds, 3), "max_duration": max_duration},
    )


def load_audio(path: str, *, max_duration: float | None = None, progress: Progress | None = None) -> DecodedAudio:
    """Decode the first audio stream of ``path``; raises PipelineError for unusable media."""
    if not Path(path).is_file():
        # A missing file is our (storage) problem, not the user's media: let the actor treat it as internal.
        raise FileNotFoundError(path)
    try:
        container = open_media(path)  # accepted containers only, no other file or URL is opened
    except MediaRefused as exc:
        logger.info("cannot open media %s: %s", path, exc)
        raise PipelineError(MEDIA_INVALID, exc.message, {"reason": exc.code}) from exc

    with container:
        if not container.streams.audio:
            raise PipelineError(NO_AUDIO_STREAM, "The file has no audio track.")
        stream = container.streams.audio[0]
        meta_duration = _container_duration(container, stream)
        if max_duration is not None and meta_duration is not None and meta_duration > max_duration:
            raise _too_long(meta_duration, max_duration)
        codec = stream.codec_context.name if stream.codec_context else "unknown"
        src_rate = stream.rate or 0
        src_channels = stream.channels or 0
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        n_samples = 0
        limit = None if max_duration is None else int(max_duration * SAMPLE_RATE) + SAMPLE_RATE // 10
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler count samples; broken timestamps must not stall it
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().reshape(-1)
                    chunks.append(arr)
                    n_samples += arr.shape[0]
                if limit is not None and n_samples > limit:
                    raise _too_long(n_samples / SAMPLE_RATE, max_duration or 0.0)
                if progress is not None:
                    position = n_samples / SAMPLE_RATE
                    progress.update(position / meta_duration if meta_duration else 0.0)
            for out in resampler.resample(None):
                arr = out.to_ndarray().reshape(-1)
                chunks.append(arr)
                n_samples += arr.shape[0]
        except PipelineError:
            raise
        except (av.FFmpegError, ValueError, EOFError) as exc:
            logger.info("cannot decode audio of %s: %s", path, exc)
            raise PipelineError(MEDIA_INVALID, "The audio track could not be decoded.") from exc

    if n_samples == 0:
        raise PipelineError(MEDIA_INVALID, "The audio track contains no decodable audio.")
    samples = np.concatenate(chunks).astype(np.float32, copy=False)
    if not np.all(np.isfinite(samples)):
        samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
    duration = samples.shape[0] / SAMPLE_RATE
    if max_duration is not None and duration > max_duration:
        raise _too_long(duration, max_duration)
    logger.info("decoded %s: %.2f s of %s audio (%d Hz, %d ch)", path, duration, codec, src_rate, src_channels)
    return DecodedAudio(samples, SAMPLE_RATE, duration, codec, src_rate, src_channels)
