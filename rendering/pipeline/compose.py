"""Compositing: blend the captured RGBA overlay onto decoded YUV 4:2:0 frames, inside its box only.

Each capture (a whole caption box or a damage patch) is converted once, not per frame, into
premultiplied Y/U/V planes plus inverse-alpha weights at the frame's chroma resolution (OverlayCanvas);
each frame then costs one small integer blend per plane over the caption box:
out = P + ((src * (256 - A)) >> 8). Frames without an overlay are never touched (they go straight to
the encoder).
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


class OverlayCanvas:
    """The current overlay as premultiplied YUV 4:2:0 blend planes over the whole frame.

    Captures arrive in frame order as either a full caption box (everything else becomes transparent)
    or a damage patch (only that rectangle changed since the previous capture). Each is converted once,
    into its rectangle of the planes; a frame then blends the planes inside its caption box. Keeping
    whole-frame planes (a few MB) lets a patch land anywhere without re-converting the rest.
    """

    def __init__(self, spec: ColorSpec, width: int, height: int):
        self.width, self.height = width - width % 2, height - height % 2
        self._m, self._off = _yuv_matrix(spec)
        h, w = self.height, self.width
        self.py = np.zeros((h, w), np.uint16)
        self.iy = np.full((h, w), 256, np.uint16)
        self.pu = np.zeros((h // 2, w // 2), np.uint16)
        self.pv = np.zeros((h // 2, w // 2), np.uint16)
        self.ic = np.full((h // 2, w // 2), 256, np.uint16)
        self._used: tuple[int, int, int, int] | None = None  # (x0, y0, x1, y1) that may hold content

    def clear(self) -> None:
        """Make the whole overlay transparent (only the area painted since the last clear is touched)."""
        if self._used is None:
            return
        x0, y0, x1, y1 = self._used
        self.py[y0:y1, x0:x1] = 0
        self.iy[y0:y1, x0:x1] = 256
        cx0, cy0, cx1, cy1 = x0 // 2, y0 // 2, x1 // 2, y1 // 2
        self.pu[cy0:cy1, cx0:cx1] = 0
        self.pv[cy0:cy1, cx0:cx1] = 0
        self.ic[cy0:cy1, cx0:cx1] = 256
        self._used = None

    def paint(self, rgba: np.ndarray, x: int, y: int) -> None:
        """Replace the rectangle at (x, y) with a straight-alpha RGBA capture.

        The page aligns rectangles to even pixels (a 2x2 chroma sample never straddles a patch edge);
        the parts outside the frame are dropped.
        """
        if x % 2 or y % 2 or rgba.shape[0] % 2 or rgba.shape[1] % 2:
            raise ValueError(f"overlay patch at ({x}, {y}) size {rgba.shape[1]}x{rgba.shape[0]} is not even-aligned")
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + rgba.shape[1]), min(self.height, y + rgba.shape[0])
        if x1 <= x0 or y1 <= y0:
            return
        src = rgba[y0 - y : y1 - y, x0 - x : x1 - x]
        a = src[..., 3].astype(np.float32)
        a *= np.float32(1.0 / 255.0)
        r, g, b = (src[..., k].astype(np.float32) for k in range(3))
        m, off = self._m, self._off
        # Plain weighted sums rather than a matmul: BLAS would spin up (and spin-wait) its own threads.
        planes = []
        for k in range(3):
            plane = r * m[k, 0]
            plane += g * m[k, 1]
            plane += b * m[k, 2]
            plane += off[k]
            plane *= a  # premultiply
            planes.append(plane)
        yp, up, vp = planes
        self.py[y0:y1, x0:x1] = np.rint(yp)
        self.iy[y0:y1, x0:x1] = np.rint((1.0 - a) * 256.0)
        # 2x2 means of premultiplied chroma and of alpha (correct downsampling of premultiplied colour).
        cx0, cy0, cx1, cy1 = x0 // 2, y0 // 2, x1 // 2, y1 // 2
        for dst, p in ((self.pu, up), (self.pv, vp)):
            dst[cy0:cy1, cx0:cx1] = np.rint((p[0::2, 0::2] + p[1::2, 0::2] + p[0::2, 1::2] + p[1::2, 1::2]) * 0.25)
        ac = (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) * 0.25
        self.ic[cy0:cy1, cx0:cx1] = np.rint((1.0 - ac) * 256.0)
        if self._used is None:
            self._used = (x0, y0, x1, y1)
        else:
            u = self._used
            self._used = (min(u[0], x0), min(u[1], y0), max(u[2], x1), max(u[3], y1))

    def view(self, box: tuple[int, int, int, int]) -> PreparedOverlay:
        """The planes inside `box` (x, y, w, h; even-aligned), as views for blend_yuv420."""
        x, y, w, h = box
        x0, y0 = max(0, x - x % 2), max(0, y - y % 2)
        x1, y1 = min(self.width, x + w + (x + w) % 2), min(self.height, y + h + (y + h) % 2)
        if x1 <= x0 or y1 <= y0:
            z = np.zeros((0, 0), np.uint16)
            return PreparedOverlay(0, 0, 0, 0, z, z, z, z, z, empty=True)
        cs = np.s_[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
        return PreparedOverlay(
            x0,
            y0,
            x1 - x0,
            y1 - y0,
            self.py[y0:y1, x0:x1],
            self.iy[y0:y1, x0:x1],
            self.pu[cs],
            self.pv[cs],
            self.ic[cs],
        )


def _blend_plane(plane: np.ndarray, p: np.ndarray, inv: np.ndarray) -> None:
    acc = plane.astype(np.uint16)
    acc *= inv
    acc += 128
    acc >>= 8
    acc += p
    np.minimum(acc, 255, out=acc)
    plane[...] = acc


def plane_array(plane) -> np.ndarray:
    """A writable (height, width) uint8 view of one frame plane (rows are line_size apart)."""
    return np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]


def blend_yuv420(frame: av.VideoFrame, ov: PreparedOverlay) -> av.VideoFrame:
    """Return a new yuv420p frame: `frame` with the overlay blended in.

    The decoder's frame is never written (it may still be a reference for later frames): its planes
    are copied once into a fresh frame (a plain memcpy per plane, no repacking), then only the
    caption box is blended, in place.
    """
    if ov.empty or ov.w == 0 or ov.h == 0:
        return frame
    out = av.VideoFrame(frame.width, frame.height, "yuv420p")
    planes = []
    for src, dst in zip(frame.planes, out.planes, strict=True):
        d = plane_array(dst)
        d[...] = plane_array(src)
        planes.append(d)
    y_plane, u_plane, v_plane = planes
    x, y, w, h = ov.x, ov.y, ov.w, ov.h
    _blend_plane(y_plane[y : y + h, x : x + w], ov.py, ov.iy)
    cx, cy, cw, ch = x // 2, y // 2, w // 2, h // 2
    _blend_plane(u_plane[cy : cy + ch, cx : cx + cw], ov.pu, ov.ic)
    _blend_plane(v_plane[cy : cy + ch, cx : cx + cw], ov.pv, ov.ic)
    out.pts = frame.pts
    if frame.time_base is not None:
        out.time_base = frame.time_base
    return out


def blend_rgb_full(rgb: np.ndarray, rgba: np.ndarray) -> np.ndarray:
    """Naive full-frame straight-alpha blend in RGB (the benchmark's baseline path)."""
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    out = rgba[..., :3].astype(np.float32) * a + rgb.astype(np.float32) * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
