"""Render options (per job), renderer configuration (per worker) and the render result."""

from __future__ import annotations

from dataclasses import dataclass, field

FORMATS = ("mp4", "mov", "webm")


@dataclass(frozen=True)
class RenderOptions:
    """What the user asked for; None means "same as the source"."""

    width: int | None = None
    height: int | None = None
    fps: float | None = None
    quality: int = 90
    format: str = "mp4"


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
