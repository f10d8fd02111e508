"""Unit tests without a speech model: words per language, loop and duration clean-up, the model registry and
its setup-time assembly, per-language model choice. Run with ``-p no:django``."""

from __future__ import annotations

import hashlib
import json
import sys

import pytest

from transcription.pipeline import models, words
from transcription.pipeline.asr import Word, collapse_loops, give_durations


def w(text: str, start: float, end: float, p: float = 0.9) -> Word:
    return Word(text, start, end, p)


def test_japanese_tokens_become_bunsetsu_phrases_with_times_of_their_characters():
    tokens = [w("今日", 0.0, 0.4), w("は", 0.4, 0.5), w("とても", 0.5, 1.0, 0.5), w("良い", 1.0, 1.3),
              w("天気", 1.3, 1.7), w("ですね。", 1.7, 2.3)]  # fmt: skip
    out = words.regroup(tokens, "ja")
    assert [x.text for x in out] == ["今日は", "とても", "良い", "天気ですね。"]
    assert (out[0].start, out[0].end) == (0.0, 0.5)
    assert (out[-1].start, out[-1].end) == (1.3, 2.3)
    assert out[1].probability == 0.5  # the least sure token decides


def test_a_multi_character_token_split_across_phrases_shares_its_time_evenly():
    out = words.regroup([w("今天天气", 0.0, 0.8), w("很好", 0.8, 1.2)], "zh")
    assert [x.text for x in out][:2] == ["今天", "天气"]
    assert (out[0].start, out[0].end) == (0.0, 0.4)
    assert (out[1].start, out[1].end) == (0.4, 0.8)


def test_spaced_languages_keep_whisper_words():
    ko = [w(" 오늘은", 0.0, 0.5), w(" 날씨가", 0.5, 1.0)]
    assert words.regroup(ko, "ko") is ko
    assert words.joiner("ko") == " " and words.joiner("ja") == ""


def test_a_phrase_repeated_in_a_loop_is_kept_once():
    loop = [x for k in range(4) for x in (w("我只能", k, k + 0.3), w("說一句話", k + 0.3, k + 0.9))]
    out = collapse_loops([w("你好", -1.0, -0.5), *loop, w("再見", 9.0, 9.5)])
    assert [x.text for x in out] == ["你好", "我只能", "說一句話", "再見"]
    normal = [w("very", 0, 1), w("very", 1, 2), w("good", 2, 3)]  # a word said twice is not a loop
    assert collapse_loops(normal) == normal


def test_zero_length_words_get_a_duration_from_free_time_or_a_long_neighbour():
    ws = [w("a", 0.0, 0.5), w("b", 0.5, 0.5), w("c", 0.9, 0.9), w("d", 0.9, 1.4)]
    give_durations(ws)
    assert all(x.end - x.start >= 0.06 - 1e-9 for x in ws), [(x.start, x.end) for x in ws]
    assert all(a.end <= b.start + 1e-9 for a, b in zip(ws, ws[1:], strict=False))


def test_language_model_map():
    table = models.parse_language_models("en=tiny.en, *=base")
    assert table == {"en": "tiny.en", "*": "base"}
    assert models.model_for("en", override="", language_models="en=tiny.en,*=base") == "tiny.en"
    assert models.model_for("ko", override="", language_models="en=tiny.en,*=base") == "base"
    assert models.model_for(None, override="", language_models="en=tiny.en,*=base") == "base"
    assert models.model_for("ko", override="tiny.en", language_models="en=tiny.en,*=base") == "tiny.en"
    for bad in ("en=tiny.en", "xx=base,*=base", "ko", "*="):
        with pytest.raises(ValueError):
            models.parse_language_models(bad)


def test_supported_languages_follow_the_configured_models():
    assert {"en", "ko", "ja", "zh"} <= models.supported_languages(override="", language_models="en=tiny.en,*=base")
    assert models.supported_languages(override="tiny.en", language_models="*=base") == {"en"}
    assert models.supported_languages(override="Systran/faster-whisper-small", language_models="*=base") > {"ko"}
    assert not models.is_multilingual("distil-whisper/foo.en")


def test_whisper_language_list_matches_faster_whisper():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert set(models.WHISPER_LANGUAGES) == set(_LANGUAGE_CODES)


def test_default_offline_models_are_assembled_and_verified():
    path, name = models.resolve("base")
    assert name == "whisper-base"
    assert models.is_multilingual("base") and not models.is_multilingual("tiny.en")
    entry = models.manifest()["base"]
    assert models.verified("base", models.model_root() / "base", entry)


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Two installed 'packages' holding the halves of a file, and a manifest entry describing the whole."""
    blob = bytes(range(256)) * 40
    for i, half in enumerate((blob[:5000], blob[5000:]), start=1):
        pkg = tmp_path / "site" / f"fakepart{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"model.bin.part{i}").write_bytes(half)
    (tmp_path / "site" / "fakepart1" / "data" / "config.json").write_text('{"x": 1}')
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    sys.modules.pop("fakepart1", None)
    sys.modules.pop("fakepart2", None)
    entry = {
        "multilingual": True,
        "files": {
            "model.bin": {"parts": [["fakepart1", "data/model.bin.part1"], ["fakepart2", "data/model.bin.part2"]],
                          "size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()},
            "config.json": {"parts": [["fakepart1", "data/config.json"]], "size": 8,
                            "sha256": hashlib.sha256(b'{"x": 1}').hexdigest()},
        },
    }  # fmt: skip
    return entry, blob, tmp_path


def test_assembly_joins_parts_verifies_and_is_idempotent(fake_parts):
    entry, blob, tmp = fake_parts
    root = tmp / "models"
    target = models.assemble("fake", entry, root, log=lambda _: None)
    assert (target / "model.bin").read_bytes() == blob
    assert json.loads((target / "config.json").read_text()) == {"x": 1}
    assert models.verified("fake", target, entry)
    stamp = (target / "model.bin").stat().st_mtime_ns
    models.assemble("fake", entry, root, log=lambda _: None)
    assert (target / "model.bin").stat().st_mtime_ns == stamp  # verified: left alone


def test_assembly_refuses_a_part_that_does_not_match_its_hash(fake_parts):
    entry, _, tmp = fake_parts
    (tmp / "site" / "fakepart2" / "data" / "model.bin.part2").write_bytes(b"tampered")
    with pytest.raises(models.ModelMissing, match="expected"):
        models.assemble("fake", entry, tmp / "models", log=lambda _: None)
    assert not (tmp / "models" / "fake" / "model.bin").exists()
    assert not models.verified("fake", tmp / "models" / "fake", entry)


def test_a_missing_assembled_model_is_a_clear_deployment_error(monkeypatch, tmp_path):
    monkeypatch.setenv(models.MODEL_DIR_ENV, str(tmp_path))
    with pytest.raises(models.ModelMissing, match="scripts/setup.sh"):
        models.resolve("base")


def test_a_loop_in_an_unspaced_script_is_seen_and_cut_at_character_level():
    from transcription.pipeline.asr import has_loop

    looping = "你好,見見見,見見見,見見,見見見,見見見,見見見"
    assert has_loop(looping) and has_loop("the the the the")
    assert not has_loop("哈哈哈,今天天气很好") and not has_loop("very very good")
    tokens = [w(ch, i * 0.1, (i + 1) * 0.1) for i, ch in enumerate(looping + "我们去公园")]
    text = "".join(x.text for x in words.regroup(tokens, "zh"))
    assert text.startswith("你好,見") and "見見見見" not in text and text.endswith("我们去公园")
