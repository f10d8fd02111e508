"""Subtitle exports of a finished transcript (pysubs2 writes SRT, WebVTT and ASS correctly).

Speakers are kept where the format allows: ASS has a per-event Name field, WebVTT has voice spans
(``<v SPEAKER_00>``); SRT has neither, so the speaker is written as a ``SPEAKER_00:`` prefix only when the
transcript has more than one speaker.
"""

from __future__ import annotations

import json

import pysubs2

FORMATS = {"srt": ("application/x-subrip", "srt"), "vtt": ("text/vtt", "vtt"),
           "ass": ("text/x-ssa", "ass"), "json": ("application/json", "json")}


def export(result: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result, ensure_ascii=False, indent=2)
    multi = len(result.get("speakers") or []) > 1
    subs = pysubs2.SSAFile()
    for segment in result.get("segments", []):
        speaker = (segment.get("speaker") or {}).get("speaker_id") or ""
        text = segment.get("text", "").strip()
        if fmt == "vtt" and speaker:
            text = f"<v {speaker}>{text}"
        elif fmt == "srt" and multi and speaker:
            text = f"{speaker}: {text}"
        subs.append(pysubs2.SSAEvent(start=int(round(segment["start"] * 1000)), end=int(round(segment["end"] * 1000)),
                                     text=text, name=speaker if fmt == "ass" else ""))
    return subs.to_string(fmt)
