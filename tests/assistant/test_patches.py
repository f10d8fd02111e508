"""Safe edits on editor-shaped scenarios: what applies is returned, what would break the scenario is not."""

from __future__ import annotations

import copy

import jsonpatch
import pytest

from assistant.catalogue import check_params, published_animations, resolve_key
from assistant.context import describe_scenario, language_of, words_of
from assistant.patches import apply_edits

# The catalogue is the asset app's published rows (loaded into the test database by its post_migrate step).
pytestmark = pytest.mark.django_db

WORD = "/cues/1/root/children/{}"


def test_returned_patches_reproduce_the_validated_result(editor_scenario):
    ops = [
        {"op": "add", "path": WORD.format(0) + "/pluginChain", "value": [{"name": "pulse@2.0.0", "params": {}}]},
        {"op": "add", "path": WORD.format(1) + "/style/color", "value": "#ffff00"},  # no style yet: parent added
        {"op": "replace", "path": "/tracks/0/defaultStyle/color", "value": "#ffee00"},
    ]
    before = copy.deepcopy(editor_scenario)
    result = apply_edits(editor_scenario, ops)
    assert editor_scenario == before  # the input is never modified
    assert result.rejected == []
    assert jsonpatch.apply_patch(editor_scenario, result.patches) == result.scenario
    assert result.scenario["cues"][1]["root"]["children"][1]["style"] == {"color": "#ffff00"}
    assert {"op": "add", "path": WORD.format(1) + "/style", "value": {}} in result.patches
    assert all(p["op"] in ("add", "replace", "remove") for p in result.patches)


def test_plugin_entries_are_repaired_against_the_manifest(editor_scenario):
    ops = [{"op": "add", "path": WORD.format(3) + "/pluginChain",
            "value": [{"name": "pulse", "params": {"maxScale": 9, "madeUp": True}}]}]
    result = apply_edits(editor_scenario, ops)
    (entry,) = result.scenario["cues"][1]["root"]["children"][3]["pluginChain"]
    assert entry["name"] == "pulse@2.0.0"  # bare name -> catalogue key
    assert entry["params"] == {"maxScale": 2.5, "cycles": 1}  # clamped, unknown dropped, defaults filled
    assert entry["timeOffset"] == [0, 0]  # the manifest's default window
    assert result.repaired == 1 and result.rejected == []
    assert jsonpatch.apply_patch(editor_scenario, result.patches) == result.scenario


def test_unknown_animations_bad_params_and_broken_structure_are_refused(editor_scenario):
    ops = [
        {"op": "add", "path": WORD.format(0) + "/pluginChain", "value": [{"name": "sparkle@9.9.9", "params": {}}]},
        {"op": "add", "path": WORD.format(1) + "/pluginChain",
         "value": [{"name": "fadein@2.0.0", "params": {"ease": "wobbly"}}]},
        {"op": "replace", "path": WORD.format(3) + "/baseTime", "value": [3.9, 3.5]},  # end before start
        {"op": "replace", "path": WORD.format(0) + "/eType", "value": "sparkles"},
        {"op": "replace", "path": "/version", "value": "1.3"},  # outside the captions
        {"op": "move", "from": WORD.format(0), "path": WORD.format(1)},  # not an op the editor applies
        {"op": "remove", "path": "/cues/42"},  # does not exist
        {"op": "add", "path": WORD.format(2) + "/style/color", "value": "#ff0000"},  # fine
    ]
    result = apply_edits(editor_scenario, ops)
    reasons = {r.op["path"]: r.reason for r in result.rejected}
    assert "unknown animation" in reasons[WORD.format(0) + "/pluginChain"]
    assert "ease" in reasons[WORD.format(1) + "/pluginChain"]
    assert "invalid" in reasons[WORD.format(3) + "/baseTime"]
    assert "invalid" in reasons[WORD.format(0) + "/eType"]
    assert "only cues" in reasons["/version"]
    assert "op must be" in reasons[WORD.format(1)]
    assert "does not apply" in reasons["/cues/42"]
    assert result.patches == [{"op": "add", "path": WORD.format(2) + "/style/color", "value": "#ff0000"}]


def test_existing_editor_plugin_entries_are_kept_as_the_editor_wrote_them(editor_scenario):
    """The editor's cwi-color entry (bare name, palette from define) survives an edit of the same chain."""
    chain_path = WORD.format(2) + "/pluginChain"
    existing = editor_scenario["cues"][1]["root"]["children"][2]["pluginChain"][0]
    ops = [{"op": "replace", "path": chain_path, "value": [existing, {"name": "pulse@2.0.0", "params": {}}]}]
    result = apply_edits(editor_scenario, ops)
    assert result.rejected == []
    chain = result.scenario["cues"][1]["root"]["children"][2]["pluginChain"]
    assert chain[0] == existing and chain[1]["name"] == "pulse@2.0.0"


def test_params_edit_inside_an_entry_is_checked_against_its_animation(editor_scenario):
    base = apply_edits(editor_scenario, [{"op": "add", "path": WORD.format(0) + "/pluginChain",
                                          "value": [{"name": "pulse@2.0.0", "params": {}}]}]).scenario
    result = apply_edits(base, [{"op": "replace", "path": WORD.format(0) + "/pluginChain/0/params/maxScale",
                                 "value": 7}])
    assert result.scenario["cues"][1]["root"]["children"][0]["pluginChain"][0]["params"]["maxScale"] == 2.5
    assert jsonpatch.apply_patch(base, result.patches) == result.scenario


def test_selection_compressed_scenario_paths_are_relative_to_what_was_sent(editor_scenario):
    compressed = {**editor_scenario, "cues": [editor_scenario["cues"][2]]}  # the editor kept clip c3 only
    ops = [{"op": "add", "path": "/cues/0/root/children/1/style/color", "value": "#00ff00"},
           {"op": "add", "path": "/cues/2/root/children/0/style/color", "value": "#00ff00"}]  # not in what was sent
    result = apply_edits(compressed, ops)
    assert result.scenario["cues"][0]["root"]["children"][1]["style"]["color"] == "#00ff00"
    assert [r.op["path"] for r in result.rejected] == ["/cues/2/root/children/0/style/color"]


def test_removing_a_word_does_not_count_shifted_existing_problems_as_new(editor_scenario):
    """A problem the sent scenario already has (here a malformed plugin name) moves when the word before it
    is removed, which must not make the removal look harmful."""
    editor_scenario["cues"][1]["root"]["children"][3]["pluginChain"] = [{"name": "not a name!"}]
    result = apply_edits(editor_scenario, [{"op": "remove", "path": WORD.format(0)}])
    assert result.rejected == [] and len(result.patches) == 1


def test_duplicate_ids_are_refused(editor_scenario):
    clone = copy.deepcopy(editor_scenario["cues"][0]["root"]["children"][0])
    result = apply_edits(editor_scenario, [{"op": "add", "path": "/cues/0/root/children/-", "value": clone}])
    assert result.patches == [] and "invalid" in result.rejected[0].reason


@pytest.mark.parametrize("garbage", [None, "patch", {"op": "add"}, [1, 2]])
def test_garbage_from_the_model_is_refused_not_raised(editor_scenario, garbage):
    result = apply_edits(editor_scenario, garbage if isinstance(garbage, list) else [garbage])
    assert result.patches == [] and result.scenario == editor_scenario


def test_words_carry_their_voice_features_and_pointers(editor_scenario):
    words = words_of(editor_scenario)
    loud = max(words, key=lambda w: w.loudness_db)
    assert (loud.text, loud.pointer, loud.pitch_hz) == ("AMAZING", WORD.format(2), 260)
    text = describe_scenario(editor_scenario, max_words=100)
    assert f"{WORD.format(2)} | AMAZING | 2.70s-3.50s | -9.8dB | 260Hz | cwi-color" in text
    assert "max -9.8 dB" in text


def test_catalogue_is_the_published_asset_catalogue():
    keys = {a.key for a in published_animations()}
    assert {"pulse@2.0.0", "fadein@2.0.0", "cwi-loud@2.0.0"} <= keys and len(keys) == 18
    assert resolve_key("fadein").key == "fadein@2.0.0"  # a bare name means @2.0.0
    fixed, problems = check_params(resolve_key("fadein@2.0.0"), {"staggerDelay": "0.2", "ease": "back.out"})
    assert fixed == {"staggerDelay": 0.2, "ease": "back.out"} and problems == []


def test_language_follows_the_prompt():
    assert language_of("모든 자막을 노란색으로") == "ko"
    assert language_of("make every loud word bounce") == "en"


def test_later_edits_inside_an_added_value_do_not_rewrite_earlier_patches(editor_scenario):
    chain = WORD.format(0) + "/pluginChain"
    ops = [{"op": "add", "path": chain, "value": [{"name": "pulse@2.0.0", "params": {}}]},
           {"op": "add", "path": chain + "/-", "value": {"name": "fadein@2.0.0", "params": {}}}]
    result = apply_edits(editor_scenario, ops)
    assert len(result.patches[0]["value"]) == 1  # still what the first operation added
    assert result.patches[1]["path"] == chain + "/1"
    assert jsonpatch.apply_patch(editor_scenario, result.patches) == result.scenario
    assert [e["name"] for e in result.scenario["cues"][1]["root"]["children"][0]["pluginChain"]] == [
        "pulse@2.0.0", "fadein@2.0.0"]
