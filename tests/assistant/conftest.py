from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from fake_llm import FakeLLMServer

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "assistant" / "editor-scenario.json"


@pytest.fixture
def editor_scenario() -> dict:
    """An editor-made scenario: clips as cues, one text node per word with voice features, a cwi plugin."""
    return copy.deepcopy(json.loads(FIXTURE.read_text(encoding="utf-8")))


@pytest.fixture
def fake_llm():
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def assistant_settings(settings):
    def configure(**values):
        settings.ASSISTANT = {**settings.ASSISTANT, **{k.upper(): v for k, v in values.items()}}
        return settings.ASSISTANT
    return configure
