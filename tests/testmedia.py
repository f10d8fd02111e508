"""The one generator of synthetic test media (tests and bench/render.py): real H.264/AAC files made with PyAV.

Pixel and audio checks depend on what is in the frames, so the picture and the sound are parameters, not
hidden choices: ``pattern`` picks one of the gradients below, ``audio_rate``/``audio_channels`` the tone's
format, ``x264`` the encoder options (quality of the source matters to tests that diff frames).

Patterns (``i`` is the frame index, ``x``/``y`` the pixel position):

* ``"ramp"``     grey horizontal ramp sliding 5 levels per frame: R = G = B = (x·255/w + 5i) mod 256
* ``"ramp2d"``   R = (x + 2i) mod 256, G = y·255 // h, B = 128 (a caption region differs clearly from it)
* ``"diagonal"`` R = (x + y + 3i) mod 256, G = x·255 // (w − 1), B = the (x + y) diagonal rolled by i rows
  (changes everywhere every frame: the encoder's worst case, used by the render benchmark)
* ``"still"``    a constant dark slate, R, G, B = 30, 34, 48 (any change in a frame comes from the captions)

The tone is always 440 Hz at amplitude 0.3, interleaved with the video in presentation order.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

PATTERNS = ("ramp", "ramp2d", "diagonal", "still")
STILL_RGB = (30, 34, 48)


def _frames(pattern: str, width: int, height: int) -> Callable[[int], np.ndarray]:
    if pattern == "ramp":
        x = np.linspace(0, 255, width).astype(np.int32)

        def ramp(i: int) -> np.ndarray:
            return np.stack([np.tile((x + i * 5) % 256, (height, 1)).astype(np.uint8)] * 3, axis=-1)

        return ramp
    if pattern == "still":
        slate = np.full((height, width, 3), STILL_RGB, np.uint8)
        return lambda i: slate
    yy, xx = np.mgrid[0:height, 0:width].astype(np.int32)
    if pattern == "ramp2d":
        green = (yy * 255 // height).astype(np.uint8)

        def ramp2d(i: int) -> np.ndarray:
            img = np.empty((height, width, 3), np.uint8)
            img[..., 0] = ((xx + 2 * i) % 256).astype(np.uint8)
            img[..., 1] = green
            img[..., 2] = 128
            return img

        return ramp2d
    if pattern == "diagonal":
        diag = ((xx + yy) % 256).astype(np.uint8)
        img = np.empty((height, width, 3), np.uint8)
        img[..., 1] = (xx * 255 // max(1, width - 1)).astype(np.uint8)

        def diagonal(i: int) -> np.ndarray:
            np.add(diag, np.uint8((i * 3) % 256), out=img[..., 0], casting="unsafe")
            img[..., 2] = np.roll(diag, i, axis=0)
            return img

        return diagonal
    raise ValueError(f"unknown pattern {pattern!r}; one of {PATTERNS}")


def make_clip(path: str | Path, *, seconds: float = 1.0, width: int = 160, height: int = 90, fps: int = 25,
              video: bool = True, audio: bool = True, pattern: str = "ramp", audio_rate: int = 44100,
              audio_channels: int = 1, x264: dict[str, str] | None = None) -> None:
    """Write ``seconds`` of ``pattern`` at ``width``×``height``/``fps`` (and/or the tone) to an mp4 at ``path``."""
    frames = int(round(seconds * fps))
    samples = -(-int(round(seconds * audio_rate)) // 1024) * 1024  # whole AAC frames covering the video
    picture = _frames(pattern, width, height) if video else None
    with av.open(str(path), "w") as out:
        vstream = astream = None
        if video:
            vstream = out.add_stream("libx264", rate=fps, options=dict(x264 or {}))
            vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        if audio:
            layout = "mono" if audio_channels == 1 else "stereo"
            astream = out.add_stream("aac", rate=audio_rate, layout=layout)
        sent = 0  # audio samples written so far

        def audio_until(limit: int) -> None:
            nonlocal sent
            while sent < min(limit, samples):
                n = min(1024, samples - sent)
                t = (np.arange(n) + sent) / audio_rate
                tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(np.stack([tone] * audio_channels), format="fltp",
                                                   layout=astream.layout.name)
                frame.sample_rate, frame.pts = audio_rate, sent
                for packet in astream.encode(frame):
                    out.mux(packet)
                sent += n

        for i in range(frames if video else 0):
            frame = av.VideoFrame.from_ndarray(picture(i), format="rgb24")
            frame.pts = i
            for packet in vstream.encode(frame):
                out.mux(packet)
            if astream is not None:
                audio_until(int((i + 1) / fps * audio_rate))
        if astream is not None:
            audio_until(samples)
        for stream in (vstream, astream):
            if stream is not None:
                for packet in stream.encode(None):
                    out.mux(packet)
