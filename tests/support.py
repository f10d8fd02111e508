"""Constants and helpers shared by test modules (importable; conftest.py is not)."""

from __future__ import annotations

from rest_framework.test import APIClient

PASSWORD = "correct-Horse-battery-9"
FRONTEND = "http://localhost:3000"


def bearer_client(user) -> APIClient:
    from accounts.services import issue_tokens

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user).access}")
    return client


def make_clip(path, *, seconds: float = 1.0, width: int = 160, height: int = 90, fps: int = 25,
              audio: bool = True, video: bool = True) -> None:
    """Write a small real H.264/AAC mp4 (a moving gradient and a 440 Hz tone) with PyAV."""
    import av
    import numpy as np

    with av.open(str(path), "w") as out:
        vstream = astream = None
        if video:
            vstream = out.add_stream("libx264", rate=fps)
            vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        if audio:
            astream = out.add_stream("aac", rate=44100)
            astream.layout = "mono"
        if vstream is not None:
            for i in range(int(seconds * fps)):
                x = np.linspace(0, 255, width).astype(np.int32)
                img = np.stack([np.tile((x + i * 5) % 256, (height, 1)).astype(np.uint8)] * 3, axis=-1)
                for packet in vstream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    out.mux(packet)
            for packet in vstream.encode():
                out.mux(packet)
        if astream is not None:
            rate, n = 44100, int(seconds * 44100)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)
            for start in range(0, n, 1024):
                chunk = tone[start:start + 1024].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                frame.sample_rate = rate
                for packet in astream.encode(frame):
                    out.mux(packet)
            for packet in astream.encode():
                out.mux(packet)
