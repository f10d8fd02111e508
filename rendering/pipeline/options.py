"""Render options (per job), renderer configuration (per worker) and the render result."""

from __future__ import annotations

from dataclasses import dataclass, field

# The documented bounds and defaults of render options (docs/API.md section 4), written once: the API's
# validation, the pipeline's own guard and the OpenAPI schema all read them from here.
FORMATS = ("mp4", "mov", "webm")
DEFAULT_QUALITY = 90
DEFAULT_FORMAT = "mp4"
# name: (lowest, highest, integer?, even?)
BOUNDS: dict[str, tuple[int, int, bool, bool]] = {
    "width": (16, 3840, True, True),  # even: H.264/VP9 with 4:2:0 chroma need even sizes
    "height": (16, 2160, True, True),
    "fps": (1, 60, False, False),
    "quality": (1, 100, True, False),
}


@dataclass(frozen=True)
class RenderOptions:
    """What the user asked for; None means "same as the source"."""

    width: int | None = None
    height: int | None = None
    fps: float | None = None
    quality: int = DEFAULT_QUALITY
    format: str = DEFAULT_FORMAT


def check_options(raw: dict) -> tuple[dict, list[dict]]:
    """The one render-options validator: (the given values, cleaned; every problem, not just the first).

    Absent values stay absent (``None``): the caller fills them from the source video or the defaults.
    A problem is ``{"path": "options.<name>", "code": "type" | "range" | "even" | "choice", "message"}``.
    """
    import math

    problems: list[dict] = []
    clean: dict = {}
    for name, (lo, hi, integer, even) in BOUNDS.items():
        value = raw.get(name)
        if value is None:
            clean[name] = None
            continue
        path = f"options.{name}"
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
                or (integer and value != int(value))):
            problems.append({"path": path, "code": "type", "message": f"{name} must be a number"})
        elif not lo <= value <= hi:
            problems.append({"path": path, "code": "range", "message": f"{name} must be {lo}–{hi}"})
        elif even and int(value) % 2:
            problems.append({"path": path, "code": "even", "message": f"{name} must be even"})
        else:
            clean[name] = int(value) if integer else float(value)
            continue
        clean[name] = None
    fmt = raw.get("format")
    if "format" in raw and fmt not in FORMATS:
        problems.append({"path": "options.format", "code": "choice",
                         "message": f"format must be {', '.join(FORMATS[:-1])} or {FORMATS[-1]}"})
    clean["format"] = fmt if fmt in FORMATS else None
    return clean, problems


@dataclass(frozen=True)
class RendererConfig:
    """How this worker renders (from settings): browser, plugin origin, encoder choice."""

    chromium_path: str = "/usr/bin/chromium"
    plugin_origin: str = ""
    encoder: str = "auto"  # auto | libx264 | h264_nvenc
    parallel_pages: int = 0  # 0 = choose from the CPU count
    work_dir: str = "/tmp"  # noqa: S108 - the contract default; workers set their own
    x264_preset: str = "veryfast"
    segment_seconds: float = 4.0  # capture work unit; segments run on parallel pages
    # Capture only the part of a frame that changed since the previous capture (tests and the benchmark
    # turn it off to compare; the output is the same either way).
    damage_capture: bool = True


@dataclass
class RenderResult:
    path: str
    duration: float
    width: int
    height: int
    fps: float
    frames_total: int
    frames_captured: int
    encoder: str
    size_bytes: int
    timings: dict = field(default_factory=dict)
