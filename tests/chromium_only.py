"""Fixtures for render tests that drive the pipeline's Chromium pool directly and need no Django.

Import both names into such a test module: ``_isolated_media_and_cache`` then overrides the Django conftest
fixture of the same name, and ``_close_browsers`` shuts the module's browser pool down at its end.
"""

from __future__ import annotations

import pytest

from rendering.pipeline import capture


@pytest.fixture(autouse=True)
def _isolated_media_and_cache():
    """Overrides the Django conftest fixture of the same name: these tests need no Django."""
    yield


@pytest.fixture(scope="module", autouse=True)
def _close_browsers():
    yield
    capture.shutdown_pool()
