"""What the model is told about the scenario: every caption word with its JSON pointer, timing, voice
features (loudness, pitch) and current look, plus the clips and tracks.

The model edits with RFC 6902 patches whose paths are relative to the scenario the editor sent, so every
item is listed under the exact pointer it lives at; a compact text table costs far fewer tokens than the
scenario's JSON and tells the model nothing it could misread.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from assistant.catalogue import Animation

_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")

# Where a word's measured voice features may sit in an editor-made scenario: on the node itself, in a
# data/meta object, or as the loudness plugin's measured input (API.md: volume_db dBFS, pitch_hz Hz).
_LOUDNESS_KEYS = ("volume_db", "volumeDb", "loudness_db", "loudnessDb", "loudness")
_PITCH_KEYS = ("pitch_hz", "pitchHz", "pitch")
_FEATURE_HOLDERS = ("data", "meta", "metadata", "acoustics", "features", "voice")


def language_of(text: str) -> str:
    """``ko`` when the prompt has Hangul, else ``en``: replies follow the language of the prompt."""
    return "ko" if _HANGUL.search(text or "") else "en"


@dataclass
class Word:
    pointer: str
    node_id: str
    text: str
    start: float | None
    end: float | None
    loudness_db: float | None = None
    pitch_hz: float | None = None
    plugins: list[str] = field(default_factory=list)
    style: dict[str, Any] = field(default_factory=dict)
    clip: int = 0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _feature(node: dict, keys: tuple[str, ...]) -> float | None:
    holders = [node] + [node[h] for h in _FEATURE_HOLDERS if isinstance(node.get(h), dict)]
    for holder in holders:
        for key in keys:
            value = _number(holder.get(key))
            if value is not None:
                return value
    for spec in node.get("pluginChain") or []:
        if isinstance(spec, dict) and isinstance(spec.get("params"), dict):
            for key in keys:
                value = _number(spec["params"].get(key))
                if value is not None:
                    return value
    return None


def _span(value: Any) -> tuple[float | None, float | None]:
    if isinstance(value, list) and len(value) == 2:
        return _number(value[0]), _number(value[1])
    return None, None


def words_of(scenario: dict) -> list[Word]:
    """Every text node of every cue, in document order, with its JSON pointer."""
    out: list[Word] = []

    def walk(node: Any, pointer: str, clip: int, inherited: tuple[float | None, float | None]) -> None:
        if not isinstance(node, dict):
            return
        span = _span(node.get("displayTime")) if "displayTime" in node else inherited
        if node.get("eType") == "text":
            start, end = _span(node.get("baseTime")) if "baseTime" in node else span
            out.append(Word(
                pointer=pointer, node_id=str(node.get("id", "")), text=str(node.get("text", "")),
                start=start, end=end, loudness_db=_feature(node, _LOUDNESS_KEYS),
                pitch_hz=_feature(node, _PITCH_KEYS),
                plugins=[str(s.get("name")) for s in node.get("pluginChain") or [] if isinstance(s, dict)],
                style=node["style"] if isinstance(node.get("style"), dict) else {}, clip=clip))
        children = node.get("children")
        if isinstance(children, list):
            for i, child in enumerate(children):
                walk(child, f"{pointer}/children/{i}", clip, span)

    for i, cue in enumerate(scenario.get("cues") or []):
        if isinstance(cue, dict):
            walk(cue.get("root"), f"/cues/{i}/root", i, _span(cue.get("displayTime")))
    return out


def _fmt(value: float | None, unit: str, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def describe_animations(animations: tuple[Animation, ...]) -> str:
    lines = []
    for a in animations:
        params = []
        for key, spec in a.schema.items():
            if not isinstance(spec, dict):
                continue
            bits = [str(spec.get("type", "any"))]
            if "enum" in spec:
                bits.append("one of " + "|".join(map(str, spec["enum"])))
            if "min" in spec or "max" in spec:
                bits.append(f"{spec.get('min', '')}..{spec.get('max', '')}")
            if "default" in spec:
                bits.append(f"default {json.dumps(spec['default'], ensure_ascii=False)}")
            params.append(f"{key} ({', '.join(bits)})")
        lines.append(f"- {a.key}: {a.description or a.title}. params: {'; '.join(params) or 'none'}")
    return "\n".join(lines)


def describe_scenario(scenario: dict, *, max_words: int) -> str:
    """The scenario as the model reads it: tracks, clips and up to ``max_words`` words."""
    lines = ["Tracks:"]
    for i, track in enumerate(scenario.get("tracks") or []):
        if isinstance(track, dict):
            style = json.dumps(track.get("defaultStyle") or {}, ensure_ascii=False, separators=(",", ":"))
            lines.append(f"  /tracks/{i} id={track.get('id')} type={track.get('type')} defaultStyle={style}")
    lines.append("Clips (cues):")
    for i, cue in enumerate(scenario.get("cues") or []):
        if isinstance(cue, dict):
            root = cue.get("root") if isinstance(cue.get("root"), dict) else {}
            start, end = _span(root.get("displayTime"))
            lines.append(f"  /cues/{i}/root id={root.get('id')} track={cue.get('track')} "
                         f"time={_fmt(start, 's', 2)}-{_fmt(end, 's', 2)}")
    words = words_of(scenario)
    loud = [w.loudness_db for w in words if w.loudness_db is not None]
    if loud:
        mean = sum(loud) / len(loud)
        lines.append(f"Loudness over all words: min {min(loud):.1f} dB, mean {mean:.1f} dB, max {max(loud):.1f} dB "
                     "(higher = louder; 'loud' means clearly above the mean).")
    lines.append("Words (pointer | text | time | loudness | pitch | animations | style):")
    for w in words[:max_words]:
        style = json.dumps(w.style, ensure_ascii=False, separators=(",", ":")) if w.style else "{}"
        lines.append(f"  {w.pointer} | {w.text} | {_fmt(w.start, 's', 2)}-{_fmt(w.end, 's', 2)} | "
                     f"{_fmt(w.loudness_db, 'dB')} | {_fmt(w.pitch_hz, 'Hz', 0)} | "
                     f"{','.join(w.plugins) or '-'} | {style}")
    if len(words) > max_words:
        lines.append(f"  ... {len(words) - max_words} more words not listed (edit only the listed ones).")
    return "\n".join(lines)
