"""How big is the JSON body of a long, realistic render scenario? (sizes DATA_UPLOAD_MAX_MEMORY_SIZE)

Builds the ``/api/render/create`` body for an N-minute video captioned word by word the way the editor does:
~3 words per second, cues of 8 words, every word with its own timing, speaker colour and a 2-plugin
animation chain with parameters, then prints the body size and checks the scenario validates.
Run: ``.venv/bin/python bench/scenario_size.py [minutes]`` (docs/DECISIONS.md "Request body limit").
"""

from __future__ import annotations

import json
import os
import sys

WORDS = ("captions", "make", "video", "easier", "to", "follow", "along", "together")


def scenario(minutes: float) -> dict:
    cues, t, words_per_cue, step = [], 0.0, 8, 1 / 3
    total = int(minutes * 60 * 3)
    for c in range(0, total, words_per_cue):
        start = t
        children = []
        for w in range(words_per_cue):
            children.append({
                "id": f"w-{c}-{w}", "eType": "text", "text": WORDS[w], "baseTime": [round(t, 3), round(t + step, 3)],
                "style": {"color": "#74c0fc" if c % 2 else "#ffe066", "fontWeight": "700"},
                "pluginChain": [
                    {"name": "fadein@2.0.0", "params": {"duration": 0.2, "easing": "ease-out"},
                     "timeOffset": ["0%", "30%"]},
                    {"name": "pop@2.0.0", "params": {"scale": 1.15, "color": "#ffffff"},
                     "timeOffset": ["30%", "100%"]},
                ]})
            t += step
        cues.append({"id": f"cue-{c}", "track": "caption", "domLifetime": [round(start, 3), round(t, 3)],
                     "root": {"id": f"clip-{c}", "eType": "group", "displayTime": [round(start, 3), round(t, 3)],
                              "layout": {"anchor": "bc", "position": {"x": 0.5, "y": 0.9}},
                              "children": children}})
    return {"version": "2.0", "pluginApiVersion": "3.0", "timebase": {"unit": "seconds", "fps": 30},
            "stage": {"baseAspect": "16:9"},
            "tracks": [{"id": "caption", "type": "subtitle", "layer": 1,
                        "defaultStyle": {"fontSizeRel": 0.055, "color": "#ffffff", "align": "center"}}],
            "cues": cues}


def main() -> None:
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    body = {"videoId": 1, "scenario": scenario(minutes), "options": {"format": "mp4", "quality": 90}}
    raw = json.dumps(body, separators=(",", ":")).encode()
    pretty = json.dumps(body, indent=2).encode()
    cues = len(body["scenario"]["cues"])
    words = sum(len(cue["root"]["children"]) for cue in body["scenario"]["cues"])
    print(f"{minutes:g} min: {cues} cues, {words} words; compact {len(raw) / 2**20:.2f} MiB, "
          f"indented {len(pretty) / 2**20:.2f} MiB")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecg.settings")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import django

    django.setup()
    from rendering.pipeline.scenario import validate_scenario

    validate_scenario(body["scenario"])
    print("scenario validates")


if __name__ == "__main__":
    main()
