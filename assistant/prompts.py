"""The instructions, the conversation and the output schema sent to every model, whatever its provider."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.catalogue import Catalogue
from assistant.context import describe_animations, describe_scenario

TOOL_NAME = "edit_scenario"

# The one shape every provider must answer in (JSON schema response_format, tool input, or a grammar).
OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reply": {"type": "string", "description": "Short answer to the user, in the user's language."},
        "patches": {
            "type": "array",
            "description": "RFC 6902 operations on the scenario (empty when nothing should change).",
            "items": {
                "type": "object",
                "properties": {
                    "op": {"type": "string", "enum": ["add", "replace", "remove"]},
                    "path": {"type": "string", "description": "JSON pointer, e.g. /cues/0/root/children/2/style"},
                    "value": {"description": "The new value (not for remove)."},
                },
                "required": ["op", "path"],
            },
        },
    },
    "required": ["reply", "patches"],
}

_RULES = """You are the caption assistant of a video caption editor. Captions are a MotionText 2.0 scenario:
each clip is a cue whose root group holds one text node per word. You change captions by returning RFC 6902
JSON patch operations (op add, replace or remove) whose paths are the JSON pointers listed below.
- A word's animations are its "pluginChain": a list of {"name": "<key>", "params": {...}}. Use only the
  animation keys listed under Animations, with their parameters. To give a word an animation, add or replace
  "<word pointer>/pluginChain" with the whole list (keep animations it already has unless asked otherwise).
- A word's look is its "style" object (color as "#rrggbb", fontSizeRel as a fraction of the video height
  such as 0.06, fontWeight such as "700"). Set one property with add "<word pointer>/style/color".
  All captions of a track follow "/tracks/<i>/defaultStyle".
- Loudness is in dB (closer to 0 is louder) and pitch in Hz; use them for requests about loud, quiet,
  high or low words. Never invent words, times or pointers; edit only what the request asks for.
- If the request is a question or cannot be done with these tools, return no patches and answer it.
- "reply" is one or two short sentences saying what you changed, in {language}."""


@dataclass
class ChatPrompt:
    """A provider-neutral request: system text, alternating user/assistant turns and the output schema."""

    system: str
    messages: list[dict[str, str]]
    schema: dict[str, Any] = field(default_factory=lambda: OUTPUT_SCHEMA)
    max_tokens: int = 2048


def build_prompt(*, prompt: str, history: list[dict[str, Any]], scenario: dict, language: str,
                 max_words: int, max_history: int = 8, max_tokens: int = 2048,
                 catalogue: Catalogue | None = None) -> ChatPrompt:
    catalogue = catalogue or Catalogue.load()
    language_name = "Korean" if language == "ko" else "English"
    system = "\n\n".join([
        _RULES.replace("{language}", language_name),
        "Animations:\n" + (describe_animations(catalogue.animations) or "(none)"),
        "Scenario:\n" + describe_scenario(scenario, max_words=max_words),
    ])
    messages: list[dict[str, str]] = []
    for item in history[-max_history:]:
        role = "assistant" if item.get("sender") == "bot" else "user"
        content = str(item.get("content") or "").strip()
        if not content:
            continue
        if messages and messages[-1]["role"] == role:  # providers want alternating turns
            messages[-1]["content"] += "\n" + content
        else:
            messages.append({"role": role, "content": content})
    while messages and messages[0]["role"] != "user":
        messages.pop(0)
    if messages and messages[-1]["role"] == "user":
        messages[-1]["content"] += "\n" + prompt
    else:
        messages.append({"role": "user", "content": prompt})
    return ChatPrompt(system=system, messages=messages, max_tokens=max_tokens)


def constrained_schema(scenario: dict, *, max_words: int, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """A tighter output schema for small local models (turned into a grammar): paths can only name the
    listed words' animation list or style properties, and animation names only come from the catalogue."""
    from assistant.context import words_of

    words = words_of(scenario)[:max_words]
    keys = [a.key for a in (catalogue or Catalogue.load()).animations]
    if not words:
        return {**OUTPUT_SCHEMA, "properties": {**OUTPUT_SCHEMA["properties"], "patches": {
            "type": "array", "maxItems": 0, "items": {"type": "object"}}}}
    chains = [f"{w.pointer}/pluginChain" for w in words]
    entry = {"type": "object", "properties": {"name": {"type": "string", "enum": keys}, "params": {"type": "object"}},
             "required": ["name", "params"]}
    variants: list[dict[str, Any]] = [
        {"type": "object", "properties": {"op": {"type": "string", "enum": ["add"]},
                                          "path": {"type": "string", "enum": [f"{w.pointer}/style/color"
                                                                              for w in words]},
                                          "value": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}},
         "required": ["op", "path", "value"]},
        {"type": "object", "properties": {"op": {"type": "string", "enum": ["add"]},
                                          "path": {"type": "string", "enum": [f"{w.pointer}/style/fontSizeRel"
                                                                              for w in words]},
                                          "value": {"type": "number"}},
         "required": ["op", "path", "value"]},
    ]
    # No `remove` for the bundled small model: it repeats edits, and a second remove of the same chain no longer
    # applies. Its grammar keeps to `add` (which also replaces), so every edit it can write applies; configured
    # (remote) models keep the full add/replace/remove set.
    if keys:
        variants.insert(0, {"type": "object", "properties": {
            "op": {"type": "string", "enum": ["add"]}, "path": {"type": "string", "enum": chains},
            "value": {"type": "array", "items": entry, "minItems": 1, "maxItems": 3}},
            "required": ["op", "path", "value"]})
    return {"type": "object", "properties": {
        "reply": {"type": "string"},
        # a small model tends to keep listing edits: bound them so the answer closes within the token budget
        "patches": {"type": "array", "items": {"anyOf": variants}, "maxItems": min(16, max_words * 2)}},
        "required": ["reply", "patches"]}
