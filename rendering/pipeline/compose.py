"""Compositing: blend the captured RGBA overlay onto decoded YUV 4:2:0 frames, inside its box only.

The overlay is converted once per capture (not per frame) into premultiplied Y/U/V planes plus
inverse-alpha weights at the frame's chroma resolution; each frame then costs one small integer
blend per plane over the caption box: out = P + ((src * (256 - A)) >> 8). Frames without an overlay
are never touched (they go straight to the encoder).
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np

# (Kr, Kb) per matrix.
MATRICES = {"bt709": (0.2126, 0.0722), "bt601": (0.299, 0.114), "bt2020": (0.2627, 0.0593)}
# FFmpeg AVColorSpace values → our matrix names (1 = BT.709, 5/6 = BT.601, 9/10 = BT.2020).
_AVCOL_SPC = {1: "bt709", 5: "bt601", 6: "bt601", 9: "bt2020", 10: "bt2020"}


@dataclass(frozen=True)
class ColorSpec:
    matrix: str = "bt709"
    full_range: bool = False


def color_spec_for(frame: av.VideoFrame) -> ColorSpec:
    """The YUV matrix/range the source frame is tagged with (untagged: BT.709 for HD, BT.601 below)."""
    try:
        spc = int(frame.colorspace)
    except (TypeError, ValueError, AttributeError):
        spc = 2
    matrix = _AVCOL_SPC.get(spc) or ("bt709" if frame.height >= 720 else "bt601")
    try:
        full = int(frame.color_range) == 2
    except (TypeError, ValueError, AttributeError):
        full = False
    return ColorSpec(matrix, full)


@dataclass
class PreparedOverlay:
    """An overlay box ready to blend: even-aligned position, premultiplied planes, inverse alphas."""

    x: int
    y: int
    w: int
    h: int
    py: np.ndarray  # (h, w) uint16: alpha * Y
    iy: np.ndarray  # (h, w) uint16: 256 * (1 - alpha)
    pu: np.ndarray  # (h/2, w/2) uint16
    pv: np.ndarray
    ic: np.ndarray  # (h/2, w/2) uint16
    empty: bool = False


def _yuv_matrix(spec: ColorSpec) -> tuple[np.ndarray, np.ndarray]:
    """3x3 matrix and offset taking straight RGB (0–255) to Y, U, V code values for `spec`."""
    kr, kb = MATRICES[spec.matrix]
    kg = 1.0 - kr - kb
    rows = np.array(
        [
            [kr, kg, kb],
            [-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5],
            [0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))],
        ],
        np.float32,
    )
    if spec.full_range:
        return rows, np.array([0.0, 128.0, 128.0], np.float32)
    scale = np.array([[219.0 / 255.0], [224.0 / 255.0], [224.0 / 255.0]], np.float32)
    return rows * scale, np.array([16.0, 128.0, 128.0], np.float32)


def prepare_overlay(rgba: np.ndarray, x: int, y: int, spec: ColorSpec, frame_w: int, frame_h: int) -> PreparedOverlay:
    """Convert a straight-alpha RGBA capture at (x, y) into premultiplied YUV 4:2:0 blend planes."""
    # Trim to the pixels that carry alpha (the page pads its boxes generously), then clip to the frame
    # and to even coordinates/sizes (4:2:0 chroma covers 2x2 luma pixels).
    alpha = rgba[..., 3]
    rows = np.flatnonzero(alpha.any(axis=1))
    cols = np.flatnonzero(alpha.any(axis=0))
    if rows.size == 0:
        z = np.zeros((0, 0), np.uint16)
        return PreparedOverlay(0, 0, 0, 0, z, z, z, z, z, empty=True)
    x0, y0 = max(0, x + int(cols[0])), max(0, y + int(rows[0]))
    x1, y1 = min(frame_w, x + int(cols[-1]) + 1), min(frame_h, y + int(rows[-1]) + 1)
    ax0, ay0 = x0 - (x0 % 2), y0 - (y0 % 2)
    ax1, ay1 = min(frame_w - frame_w % 2, x1 + (x1 % 2)), min(frame_h - frame_h % 2, y1 + (y1 % 2))
    w, h = max(0, ax1 - ax0), max(0, ay1 - ay0)
    if w == 0 or h == 0:
        z = np.zeros((0, 0), np.uint16)
        return PreparedOverlay(0, 0, 0, 0, z, z, z, z, z, empty=True)
    buf = np.zeros((h, w, 4), np.float32)
    buf[y0 - ay0 : y1 - ay0, x0 - ax0 : x1 - ax0] = rgba[y0 - y : y1 - y, x0 - x : x1 - x]
    a = buf[..., 3] * np.float32(1.0 / 255.0)
    m, off = _yuv_matrix(spec)
    # Plain weighted sums rather than a matmul: BLAS would spin up (and spin-wait) its own threads.
    r, g, b = buf[..., 0], buf[..., 1], buf[..., 2]
    yuv = np.empty((h, w, 3), np.float32)
    for k in range(3):
        plane = yuv[..., k]
        np.multiply(r, m[k, 0], out=plane)
        plane += g * m[k, 1]
        plane += b * m[k, 2]
        plane += off[k]
        plane *= a  # premultiply
    # 2x2 means of premultiplied chroma and of alpha (correct downsampling of premultiplied colour).
    c = (yuv[0::2, 0::2, 1:] + yuv[1::2, 0::2, 1:] + yuv[0::2, 1::2, 1:] + yuv[1::2, 1::2, 1:]) * 0.25
    ac = (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) * 0.25
    inv = np.rint((1.0 - a) * 256.0).astype(np.uint16)
    return PreparedOverlay(
        ax0,
        ay0,
        w,
        h,
        np.rint(yuv[..., 0]).astype(np.uint16),
        inv,
        np.rint(c[..., 0]).astype(np.uint16),
        np.rint(c[..., 1]).astype(np.uint16),
        np.rint((1.0 - ac) * 256.0).astype(np.uint16),
        empty=False,
    )


def _blend_plane(plane: np.ndarray, p: np.ndarray, inv: np.ndarray) -> None:
    acc = plane.astype(np.uint16)
    acc *= inv
    acc += 128
    acc >>= 8
    acc += p
    np.minimum(acc, 255, out=acc)
    plane[...] = acc


def blend_yuv420(frame: av.VideoFrame, ov: PreparedOverlay) -> av.VideoFrame:
    """Return a new yuv420p frame: `frame` with the overlay blended in (the source frame is untouched)."""
    if ov.empty or ov.w == 0 or ov.h == 0:
        return frame
    W, H = frame.width, frame.height
    arr = np.ascontiguousarray(frame.to_ndarray())  # packed planes: Y, then U, then V
    flat = arr.reshape(-1)
    csize = (H // 2) * (W // 2)
    y_plane = flat[: H * W].reshape(H, W)
    u_plane = flat[H * W : H * W + csize].reshape(H // 2, W // 2)
    v_plane = flat[H * W + csize : H * W + 2 * csize].reshape(H // 2, W // 2)
    x, y, w, h = ov.x, ov.y, ov.w, ov.h
    _blend_plane(y_plane[y : y + h, x : x + w], ov.py, ov.iy)
    cx, cy, cw, ch = x // 2, y // 2, w // 2, h // 2
    _blend_plane(u_plane[cy : cy + ch, cx : cx + cw], ov.pu, ov.ic)
    _blend_plane(v_plane[cy : cy + ch, cx : cx + cw], ov.pv, ov.ic)
    out = av.VideoFrame.from_ndarray(arr, format="yuv420p")
    out.pts = frame.pts
    if frame.time_base is not None:
        out.time_base = frame.time_base
    return out


def blend_rgb_full(rgb: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    """Naive full-frame straight-alpha blend in RGB (the benchmark's baseline path)."""
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    out = rgba[..., :3].astype(np.float32) * a + rgb.astype(np.float32) * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
