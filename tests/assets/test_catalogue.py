"""The 18 bundled animations: the editor's keys, parameters and defaults, the module contract, the
frame-exact rules (no wall clock, no unseeded randomness), and the idempotent catalogue loader."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assets.bundles import check_manifest
from assets.catalogue import BUNDLED_DIR, sync_bundled
from assets.models import Animation
from assets.selectors import published_animations

ROOT = Path(__file__).resolve().parents[2]
# PLUGINS.md section 4: every parameter the editor seeds, with its default (plus our optional `voice`).
EDITOR = {
    "rotation": ("dom", {"rotationDegrees": 360, "animationDuration": 1.5, "staggerDelay": 0.1, "perspective": 800,
                         "axisX": False, "axisY": True, "axisZ": False}),
    "typewriter": ("dom", {"typingSpeed": 0.05, "cursorBlink": True, "cursorChar": "|", "showCursor": True,
                           "soundEffect": False}),
    "elastic": ("dom", {"bounceStrength": 0.7, "animationDuration": 1.5, "staggerDelay": 0.1, "startScale": 0,
                        "overshoot": 1.3}),
    "glitch": ("dom", {"glitchIntensity": 5, "animationDuration": 2, "glitchFrequency": 0.3, "colorSeparation": True,
                       "noiseEffect": True}),
    "magnetic": ("dom", {"magnetStrength": 15, "animationDuration": 1.2, "attractionDelay": 0.1, "elasticity": 0.8}),
    "fadein": ("dom", {"staggerDelay": 0.1, "animationDuration": 0.8, "startOpacity": 0, "scaleStart": 0.9,
                       "ease": "power2.out"}),
    "scalepop": ("dom", {"popScale": 1.5, "animationDuration": 1.2, "staggerDelay": 0.08, "bounceStrength": 0.6,
                         "colorPop": True}),
    "slideup": ("dom", {"slideDistance": 30, "animationDuration": 1, "staggerDelay": 0.12, "easeType": "power2.out",
                        "blurEffect": True}),
    "cwi-bouncing": ("hybrid", {"speaker": "", "palette": {}, "color": "", "waveHeight": 12, "voice": {}}),
    "cwi-color": ("dom", {"speaker": "", "palette": {}, "color": "", "bulk": False}),
    "cwi-loud": ("dom", {"speaker": "", "palette": {}, "color": "", "pulse": {"scale": 2.15, "lift": 12},
                         "tremble": {"ampPx": 1.5, "freq": 12}, "voice": {}}),
    "cwi-whisper": ("dom", {"speaker": "", "palette": {}, "color": "", "shrink": {"scale": 0.6, "drop": 6},
                            "flutter": {"amp": 0.02, "freq": 8}, "voice": {}}),
    "bobY": ("hybrid", {"amplitudePx": 8, "cycles": 1}),
    "flames": ("dom", {"baseOpacity": 0.8, "flicker": 0.3, "cycles": 12}),
    "fliptype": ("hybrid", {"typingSpeed": 15, "flipDuration": 0.6, "flipAngle": 180, "flipDirection": "horizontal",
                            "typingDelay": 0.3}),
    "glow": ("dom", {"color": "#00ffff", "intensity": 0.4, "pulse": True, "cycles": 8}),
    "pulse": ("hybrid", {"maxScale": 1.2, "cycles": 1}),
    "spin": ("channel", {"fullTurns": 1}),
}
# Wall clock, timers and unseeded randomness would make frames depend on when they are rendered.
FORBIDDEN = re.compile(r"Math\.random|Date\.now|new Date|performance\.now|setTimeout|setInterval|"
                       r"requestAnimationFrame|export default|\.play\(")


def manifest(name: str) -> dict:
    return json.loads((BUNDLED_DIR / f"{name}@2.0.0" / "manifest.json").read_text())


@pytest.mark.parametrize("name", sorted(EDITOR))
def test_manifest_matches_the_editor(name):
    m = manifest(name)
    kind, params = EDITOR[name]
    assert (m["name"], m["version"], m["pluginApi"], m["entry"], m["type"]) == (name, "2.0.0", "3.0", "index.mjs", kind)
    assert {k: f["default"] for k, f in m["schema"].items()} == params
    offset = {"bobY": [0, 0], "pulse": [0, 0], "spin": [0, 0], "cwi-color": ["0%", "-10%"]}.get(name, [-0.3, 0.3])
    assert m["timeOffset"] == offset
    files = {str(p.relative_to(BUNDLED_DIR / f"{name}@2.0.0")): p.read_bytes()
             for p in (BUNDLED_DIR / f"{name}@2.0.0").rglob("*") if p.is_file()}
    check_manifest(m, files)  # the same checks a staff upload passes
    assert "assets/thumbnail.svg" in files and files["assets/thumbnail.svg"].startswith(b"<svg")
    for path in m.get("preload", []):
        assert path in files


@pytest.mark.parametrize("name", sorted(EDITOR))
def test_module_contract_and_frame_exact_rules(name):
    source = (BUNDLED_DIR / f"{name}@2.0.0" / "index.mjs").read_text()
    assert f'export const name = "{name}";' in source and 'export const version = "2.0.0";' in source
    kind = EDITOR[name][0]
    assert ("export function animate(" in source) == (kind != "channel")
    assert ("export function evalChannels(" in source) == (kind != "dom")
    code = re.sub(r"//[^\n]*", "", source)  # comments may name what the code avoids
    assert not FORBIDDEN.search(code), FORBIDDEN.search(code)
    assert not re.search(r"^\s*import\b|\bimport\(", code, re.M)  # self-contained (Blob URL import)


def test_fadein_is_not_a_copy_of_ecg_fadein():
    ours = (BUNDLED_DIR / "fadein@2.0.0" / "index.mjs").read_bytes()
    assert ours != (ROOT / "rendering" / "plugins" / "ecg-fadein@1.0.0" / "index.mjs").read_bytes()
    assert not (ROOT / "rendering" / "plugins" / "fadein@2.0.0").exists()  # one implementation


@pytest.mark.django_db
def test_loader_is_idempotent_and_keeps_staff_edits():
    assert Animation.objects.count() == 18  # present after migrate
    Animation.objects.filter(plugin_key="glow@2.0.0").update(title="네온", is_published=False, manifest={})
    Animation.objects.filter(plugin_key="spin@2.0.0").delete()
    assert sync_bundled(Animation.objects) == 1
    assert sync_bundled(Animation.objects) == 0
    glow = Animation.objects.get(plugin_key="glow@2.0.0")
    assert (glow.title, glow.is_published, glow.manifest["name"]) == ("네온", False, "glow")
    assert Animation.objects.count() == 18


@pytest.mark.django_db
def test_published_animations_for_scenario_writers():
    Animation.objects.filter(plugin_key="spin@2.0.0").update(is_published=False)
    rows = published_animations()
    assert len(rows) == 17 and "spin@2.0.0" not in {r["key"] for r in rows}
    loud = next(r for r in rows if r["key"] == "cwi-loud@2.0.0")
    assert loud["type"] == "dom" and loud["timeOffset"] == [-0.3, 0.3] and loud["titleEn"] == "Loud"
    assert loud["schema"]["pulse"]["properties"]["scale"]["default"] == 2.15
