"""Caption rendering pipeline: MotionText scenario → overlay captured in Chromium → composited video.

No Django imports here; the render actor calls `validate_scenario` and `render_video`.
"""

from __future__ import annotations

from .encode import probe_encoder
from .errors import RenderCancelled, RenderError, ScenarioInvalid
from .migrate import migrate_v13
from .options import RendererConfig, RenderOptions, RenderResult
from .render import render_video
from .scenario import plugin_names, validate_scenario

__all__ = [
    "RenderCancelled",
    "RenderError",
    "RenderOptions",
    "RenderResult",
    "RendererConfig",
    "ScenarioInvalid",
    "migrate_v13",
    "plugin_names",
    "probe_encoder",
    "render_video",
    "validate_scenario",
]
