"""Exceptions raised by the rendering pipeline (no Django imports here)."""

from __future__ import annotations

from typing import Any


class ScenarioInvalid(Exception):
    """A scenario failed validation or 1.3 → 2.0 migration; `problems` lists every problem found."""

    def __init__(self, problems: list[dict[str, Any]]):
        self.problems = problems
        head = "; ".join(f"{p['path'] or '<root>'}: {p['message']}" for p in problems[:5])
        more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} scenario problem(s): {head}{more}")


class RenderError(Exception):
    """A render failed for a reason the job can report (`code` is a stable RENDER_* code)."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None):
        self.code = code
        self.message = message
        self.details = details or {}
        super().__init__(f"{code}: {message}")


class RenderCancelled(Exception):
    """The caller's should_cancel() returned true; nothing was written to the output path."""


RENDER_PLUGIN_NOT_FOUND = "RENDER_PLUGIN_NOT_FOUND"
RENDER_SOURCE_INVALID = "RENDER_SOURCE_INVALID"
RENDER_SCENARIO_INVALID = "RENDER_SCENARIO_INVALID"
RENDER_BROWSER_FAILED = "RENDER_BROWSER_FAILED"
RENDER_ENCODER_FAILED = "RENDER_ENCODER_FAILED"
RENDER_FAILED = "RENDER_FAILED"
