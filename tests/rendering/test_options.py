"""Render options have one validator with the documented bounds (docs/API.md 4) and defaults written once."""

from __future__ import annotations

import pytest

from rendering import services
from rendering.pipeline.errors import RenderError
from rendering.pipeline.options import BOUNDS, DEFAULT_FORMAT, DEFAULT_QUALITY, RenderOptions, check_options
from rendering.pipeline.render import _check_options
from rendering.serializers import RenderOptionsSerializer


def test_the_documented_bounds():
    assert {name: bounds[:2] for name, bounds in BOUNDS.items()} == {
        "width": (16, 3840), "height": (16, 2160), "fps": (1, 60), "quality": (1, 100)}
    assert (DEFAULT_QUALITY, DEFAULT_FORMAT) == (90, "mp4")
    assert (RenderOptions().quality, RenderOptions().format) == (90, "mp4")


@pytest.mark.parametrize(("name", "value", "code"), [
    ("width", 3842, "range"), ("width", 14, "range"), ("width", 641, "even"), ("height", 2162, "range"),
    ("fps", 61, "range"), ("fps", 0.5, "range"), ("quality", 0, "range"), ("quality", 101, "range"),
    ("quality", 50.5, "type"), ("fps", "30", "type"), ("width", True, "type"), ("format", "avi", "choice"),
    ("format", None, "choice"),
])
def test_every_caller_rejects_the_same_values(name, value, code):
    _clean, problems = check_options({name: value})
    assert [(p["path"], p["code"]) for p in problems] == [(f"options.{name}", code)]
    _options, api_problems = services.validate_options({name: value}, source=None)
    assert api_problems == problems
    if name != "format" and not isinstance(value, (bool, str)):
        with pytest.raises(RenderError):  # the pipeline's own guard (manage.py render, bench) agrees
            _check_options(RenderOptions(**{name: value}))


@pytest.mark.parametrize(("name", "value"), [("width", 16), ("width", 3840), ("height", 2160), ("fps", 1),
                                             ("fps", 60), ("fps", 29.97), ("quality", 1), ("quality", 100)])
def test_every_caller_accepts_the_bounds(name, value):
    assert check_options({name: value})[1] == []
    assert services.validate_options({name: value}, source=None)[1] == []
    _check_options(RenderOptions(**{name: value}))


def test_defaults_fill_what_is_absent():
    options, problems = services.validate_options({}, source=None)
    assert problems == [] and (options["quality"], options["format"]) == (90, "mp4")


def test_the_schema_serializer_reads_the_same_bounds():
    fields = RenderOptionsSerializer().fields
    for name, (lo, hi, _integer, _even) in BOUNDS.items():
        assert (fields[name].min_value, fields[name].max_value) == (lo, hi)
    assert fields["quality"].default == DEFAULT_QUALITY and fields["format"].default == DEFAULT_FORMAT
