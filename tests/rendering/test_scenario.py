"""Scenario validation (every problem with its path) and 1.3 → 2.0 migration. Pure Python, no browser."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rendering.pipeline import ScenarioInvalid, migrate_v13, plugin_names, validate_scenario  # noqa: E402
from rendering.pipeline.scenario import active_intervals  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "scenarios"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text("utf-8"))


def problems_of(data) -> dict[str, str]:
    with pytest.raises(ScenarioInvalid) as info:
        validate_scenario(data)
    return {p["path"]: p["code"] for p in info.value.problems}


def test_samples_validate():
    v2 = validate_scenario(load("scenario-v2.json"))
    assert v2["version"] == "2.0"
    assert plugin_names(v2) == []
    v13 = validate_scenario(load("scenario-v1.3.json"))
    assert v13["version"] == "2.0"
    assert plugin_names(v13) == ["fadein@2.0.0"]


def test_v13_migration_output():
    out = migrate_v13(load("scenario-v1.3.json"))
    assert out["version"] == "2.0"
    assert out["pluginApiVersion"] == "3.0"
    cue1, cue2 = out["cues"]
    assert cue1["domLifetime"] == [0.4, 2.6]
    assert "hintTime" not in cue1
    root = cue1["root"]
    assert root["id"] == "cue-clip-1-n0"
    assert root["eType"] == "group"
    assert "e_type" not in root
    child = root["children"][0]
    assert child["id"] == "cue-clip-1-n0-0"
    assert child["eType"] == "text"
    assert child["displayTime"] == [0.4, 2.6]
    assert "absStart" not in child and "absEnd" not in child
    plugin = cue2["root"]["children"][0]["pluginChain"][0]
    assert plugin == {"name": "fadein@2.0.0", "params": {}, "timeOffset": ["0%", "30%"]}
    # The migrated scenario is itself valid 2.0 and migration is stable.
    assert validate_scenario(out) == out
    assert migrate_v13(load("scenario-v1.3.json")) == out


def test_v13_migration_maps_definitions_offsets_and_single_plugin():
    data = {
        "version": "1.3",
        "timebase": {"unit": "seconds"},
        "stage": {"baseAspect": "16:9"},
        "definitions": {"palette": {"a": "#fff"}},
        "tracks": [{"id": "t", "type": "free", "layer": 1}],
        "cues": [
            {
                "id": "c",
                "track": "t",
                "root": {
                    "e_type": "group",
                    "children": [
                        {
                            "e_type": "text",
                            "text": "x",
                            "absStart": 1,
                            "absEnd": 2,
                            "plugin": {"name": "ecg-pop@1.0.0", "relStart": -0.1, "relEnd": 0.2},
                            "pluginChain": [
                                {
                                    "name": "ecg-fadein@1.0.0",
                                    "params": {"c": "definitions.palette"},
                                    "t0": 0,
                                    "t1": -0.5,
                                },
                                {"name": "ecg-pop@1.0.0", "relStartPct": 0.125, "relEndPct": -0.5},
                            ],
                        }
                    ],
                },
            }
        ],
    }
    out = migrate_v13(data)
    assert out["define"] == {"palette": {"a": "#fff"}} and "definitions" not in out
    chain = out["cues"][0]["root"]["children"][0]["pluginChain"]
    assert chain[0] == {"name": "ecg-pop@1.0.0", "timeOffset": [-0.1, 0.2]}
    assert chain[1] == {"name": "ecg-fadein@1.0.0", "params": {"c": "define.palette"}, "timeOffset": [0, -0.5]}
    assert chain[2] == {"name": "ecg-pop@1.0.0", "timeOffset": ["12.5%", "-50%"]}
    validate_scenario(out)


def test_v13_unmappable_parts_are_problems_with_paths():
    data = load("scenario-v1.3.json")
    data["wordStream"] = {"tokens": []}
    data["cues"][0]["hintTime"] = 3
    del data["cues"][1]["root"]["children"][0]["absEnd"]
    data["cues"][1]["root"]["children"][0]["pluginChain"][0]["relEndPct"] = "lots"
    with pytest.raises(ScenarioInvalid) as info:
        migrate_v13(data)
    paths = {p["path"]: p["code"] for p in info.value.problems}
    assert paths == {
        "wordStream": "unmappable",
        "cues[0].hintTime": "unmappable",
        "cues[1].root.children[0].absEnd": "unmappable",
        "cues[1].root.children[0].pluginChain[0].relEndPct": "unmappable",
    }
    # validate_scenario reports the same problems for a 1.3 document.
    assert set(problems_of(data)) >= set(paths)


def test_every_problem_is_listed_with_its_path():
    data = load("scenario-v2.json")
    cues = data["cues"]
    cues[0]["track"] = "nope"
    cues[0]["root"]["children"][0]["baseTime"] = [1.0, 0.5]
    cues[0]["root"]["children"][1]["baseTime"] = [float("nan"), 1.3]
    cues[0]["root"]["children"][2]["id"] = "w-0-1"
    cues[0]["root"]["children"][3]["eType"] = "paragraph"
    cues[1]["domLifetime"] = [3.0, float("inf")]
    cues[1]["root"]["children"][0]["pluginChain"] = [
        {"name": "fade in!", "timeOffset": ["0%", "soon"]},
        {"name": "ecg-pop@1.0.0", "timeOffset": [0]},
    ]
    del cues[1]["root"]["children"][1]["id"]
    cues[2]["root"]["layout"]["position"] = "define.nowhere.x"
    data["tracks"][1]["type"] = "floating"
    found = problems_of(data)
    assert found == {
        "cues[0].track": "unknown_track",
        "cues[0].root.children[0].baseTime": "time_order",
        "cues[0].root.children[1].baseTime[0]": "not_finite",
        "cues[0].root.children[2].id": "duplicate_id",
        "cues[0].root.children[3].eType": "invalid_etype",
        "cues[1].domLifetime[1]": "not_finite",
        "cues[1].root.children[0].pluginChain[0].name": "invalid_plugin_name",
        "cues[1].root.children[0].pluginChain[0].timeOffset[1]": "invalid_time_offset",
        "cues[1].root.children[0].pluginChain[1].timeOffset": "invalid_time_offset",
        "cues[1].root.children[1].id": "required",
        "cues[2].root.layout.position": "define_unresolved",
        "tracks[1].type": "invalid_value",
    }


def test_structure_problems():
    assert problems_of([]) == {"": "type"}
    assert problems_of({"version": "3.1"}) == {"version": "unsupported_version"}
    found = problems_of({"version": "2.0", "timebase": {"unit": "frames"}, "stage": {}, "tracks": {}, "cues": [1]})
    assert found == {
        "timebase.unit": "invalid_value",
        "stage.baseAspect": "invalid_value",
        "tracks": "required",
        "cues[0]": "type",
    }


def test_plugin_needs_a_finite_window():
    data = load("scenario-v2.json")
    title = data["cues"][2]["root"]
    del title["displayTime"]
    del data["cues"][2]["domLifetime"]
    title["pluginChain"] = [{"name": "ecg-pop@1.0.0"}]
    assert problems_of(data) == {"cues[2].root.pluginChain[0]": "missing_time"}


def test_valid_offsets_and_define_references():
    data = load("scenario-v2.json")
    data["define"]["fade"] = {"name": "ecg-fadein@1.0.0", "window": ["10%", -0.25]}
    child = data["cues"][0]["root"]["children"][0]
    child["pluginChain"] = [
        {"name": "define.fade.name", "timeOffset": "define.fade.window", "params": {"from": 0.2}},
        {"name": "ecg-pop@1.0.0", "timeOffset": [-0.1, "-50%"], "compose": "add"},
    ]
    out = validate_scenario(data)
    assert plugin_names(out) == ["ecg-fadein@1.0.0", "ecg-pop@1.0.0"]


def test_active_intervals_follow_the_renderer_rules():
    v2 = validate_scenario(load("scenario-v2.json"))
    assert active_intervals(v2) == [(0.4, 2.6), (3.0, 5.5), (0.0, 6.0)]
    no_dom = copy.deepcopy(v2)
    del no_dom["cues"][0]["domLifetime"]
    # Without domLifetime the library mounts from min(display) - 0.5 but nodes only show in displayTime.
    assert active_intervals(no_dom)[0] == (0.4, 2.6)


def test_bare_plugin_names_mean_version_2():
    """The editor writes bare names (`cwi-color`) beside full ones; both register, a bare one is @2.0.0."""
    data = load("scenario-v2.json")
    data["cues"][0]["root"]["children"][0]["pluginChain"] = [
        {"name": "cwi-loud@2.0.0", "params": {"pulse": {"scale": 2}}, "timeOffset": [-0.3, 0.3]},
        {"name": "cwi-color", "params": {"speaker": "S1"}, "timeOffset": [0, -0.05]},
    ]
    assert plugin_names(validate_scenario(data)) == ["cwi-color@2.0.0", "cwi-loud@2.0.0"]
