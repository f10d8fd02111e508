"""The transcription pipeline end to end on generated speech, with the real (shipped) tiny.en model.

Nothing is mocked: audio is decoded by PyAV, recognised by faster-whisper, speakers come from Resemblyzer
embeddings, acoustics from Praat/numpy. Fixtures are made by scripts/make_test_media.py; their sidecar JSON
files say what is in them. No Django needed (run with ``-p no:django``).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from transcription.pipeline import (
    MEDIA_INVALID,
    MEDIA_TOO_LONG,
    NO_AUDIO_STREAM,
    PIPELINE_STAGES,
    PipelineCancelled,
    PipelineConfig,
    PipelineError,
    benchmark_estimate_seconds,
    run_pipeline,
)
from transcription.pipeline.errors import LANGUAGE_UNSUPPORTED

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
CONFIG = PipelineConfig()


def sidecar(name: str) -> dict:
    return json.loads((MEDIA / name).read_text())


def norm(word: str) -> str:
    return re.sub(r"[^a-z0-9']", "", word.lower())


def all_words(result: dict) -> list[dict]:
    return [w for s in result["segments"] for w in s["words"]]


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, float]] = []

    def __call__(self, stage: str, fraction: float) -> None:
        self.events.append((stage, fraction))


_cache: dict[str, tuple[dict, Recorder]] = {}


def transcribe(name: str, **kw) -> tuple[dict, Recorder]:
    """Run the pipeline once per fixture file for the whole module (each run is real work)."""
    if name not in _cache:
        rec = Recorder()
        _cache[name] = (run_pipeline(str(MEDIA / name), config=CONFIG, report=rec, **kw), rec)
    return _cache[name]


# ----------------------------------------------------------------------------------------------- recognition


def test_known_sentence_comes_back_in_order_with_monotonic_times():
    result, _ = transcribe("single_speaker.wav")
    meta = sidecar("single_speaker.json")
    got = [norm(w["word"]) for w in all_words(result)]
    expected = [norm(w) for w in meta["text"].split()]
    # every expected word, in order (a subsequence: tiny.en may add nothing, but we tolerate one stray word)
    it = iter(got)
    assert all(any(g == e for g in it) for e in expected), got
    assert len(got) <= len(expected) + 1

    words = all_words(result)
    for prev, cur in zip(words, words[1:], strict=False):
        assert cur["start"] >= prev["start"]
        assert cur["start"] >= prev["end"] - 1e-3  # no overlap
    for w in words:
        assert 0.0 <= w["start"] <= w["end"] <= meta["duration"] + 1e-3
    # speech starts after 0.4 s of silence; word edges are trimmed to the audible part
    assert words[0]["start"] == pytest.approx(0.4, abs=0.15)
    assert words[-1]["end"] <= meta["duration"] - 0.3  # 0.5 s of trailing silence is not a word
    assert result["language"] == "en"
    assert result["metadata"]["language_requested"] == "auto"


def test_mp4_with_h264_and_aac_is_transcribed():
    result, _ = transcribe("speech.mp4")
    text = " ".join(s["text"] for s in result["segments"]).lower()
    for word in ("hello", "welcome", "video", "speaker"):
        assert word in text
    assert result["speakers"] == ["SPEAKER_00"]


def test_requested_english_is_honoured():
    rec = Recorder()
    result = run_pipeline(str(MEDIA / "speech.mp4"), language="en", config=CONFIG, report=rec)
    assert result["metadata"]["language_requested"] == "en"
    assert result["language"] == "en"


@pytest.mark.parametrize("language", ["ko", "ja", "xx-not-a-language"])
def test_language_the_english_only_model_cannot_do_is_refused_not_forced(language):
    with pytest.raises(PipelineError) as exc:
        run_pipeline(str(MEDIA / "speech.mp4"), language=language, config=PipelineConfig(model="tiny.en"))
    assert exc.value.code == LANGUAGE_UNSUPPORTED
    assert exc.value.message


# -------------------------------------------------------------------------------------------------- speakers


def test_one_voice_is_one_speaker():
    result, _ = transcribe("single_speaker.wav")
    assert result["speakers"] == ["SPEAKER_00"]
    assert {w["speaker_id"] for w in all_words(result)} == {"SPEAKER_00"}


def test_dialogue_yields_two_speakers_switching_at_the_right_time():
    result, _ = transcribe("dialogue.wav")
    meta = sidecar("dialogue.json")
    switch = meta["switch_time"]
    assert result["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
    assert result["metadata"]["unique_speakers"] == 2

    words = all_words(result)
    before = [w["speaker_id"] for w in words if w["end"] <= switch]
    after = [w["speaker_id"] for w in words if w["start"] >= switch]
    assert len(before) >= 10 and len(after) >= 10  # both turns were transcribed
    assert set(before) == {"SPEAKER_00"}
    assert set(after) == {"SPEAKER_01"}

    # the first segment of the second speaker starts at the switch (within the 0.6 s pause + a little)
    first_b = next(s for s in result["segments"] if s["speaker"]["speaker_id"] == "SPEAKER_01")
    assert abs(first_b["start"] - meta["turns"][1]["start"]) < 0.5

    # a segment never mixes speakers, and its speaker is its words' speaker
    for seg in result["segments"]:
        assert {w["speaker_id"] for w in seg["words"]} == {seg["speaker"]["speaker_id"]}
        assert 0.0 <= seg["speaker"]["confidence"] <= 1.0

    details = result["speaker_details"]
    assert set(details) == {"SPEAKER_00", "SPEAKER_01"}
    for sid, d in details.items():
        segs = [s for s in result["segments"] if s["speaker"]["speaker_id"] == sid]
        assert d["segment_count"] == len(segs)
        assert d["total_duration"] == pytest.approx(sum(s["duration"] for s in segs), abs=0.01)


def test_max_speakers_hint_is_honoured():
    result = run_pipeline(str(MEDIA / "dialogue.wav"), config=CONFIG, max_speakers=1)
    assert result["speakers"] == ["SPEAKER_00"]


def test_voices_differ_in_measured_pitch():
    """Speaker B (espeak-ng female variant, raised pitch) measures clearly higher than A (Piper joe)."""
    result, _ = transcribe("dialogue.wav")
    by_speaker: dict[str, list[float]] = {}
    for w in all_words(result):
        if w["pitch_hz"] is not None:
            by_speaker.setdefault(w["speaker_id"], []).append(w["pitch_hz"])
    a = float(np.median(by_speaker["SPEAKER_00"]))
    b = float(np.median(by_speaker["SPEAKER_01"]))
    assert b > a * 1.5, (a, b)


# ------------------------------------------------------------------------------------------------- acoustics


def test_loud_word_is_measured_louder_than_quiet_word():
    result, _ = transcribe("loud_quiet.wav")
    meta = sidecar("loud_quiet.json")
    words = {norm(w["word"]): w for w in all_words(result)}
    loud, quiet = words[meta["loud_word"]], words[meta["quiet_word"]]
    # the quiet sentence was scaled 26 dB down; word spans include some consonants and edges
    assert loud["volume_db"] - quiet["volume_db"] > 15.0, (loud, quiet)
    # and every word of the quiet sentence is quieter than every word of the loud one
    lq = [w for w in all_words(result) if w["start"] < meta["loud_span"][1]]
    qq = [w for w in all_words(result) if w["start"] >= meta["quiet_span"][0] - 0.1]
    assert max(w["volume_db"] for w in qq) < min(w["volume_db"] for w in lq)
    # the statistics see both levels: the quiet words fall under the whisper threshold, loud ones above baseline
    vs = result["volume_statistics"]
    assert vs["global_min_db"] < vs["whisper_threshold_db"] < vs["baseline_db"] < vs["loud_threshold_db"]
    assert quiet["volume_db"] < vs["baseline_db"] < loud["volume_db"]
    # pitch is level-independent: the same voice measures the same range quietly
    assert quiet["pitch_hz"] is not None and loud["pitch_hz"] is not None


def test_acoustic_values_are_measured_not_constant():
    result, _ = transcribe("single_speaker.wav")
    words = all_words(result)
    pitches = [w["pitch_hz"] for w in words if w["pitch_hz"] is not None]
    assert len(pitches) >= len(words) * 0.7  # voiced words get a pitch
    assert len(set(pitches)) >= 4
    assert all(60.0 <= p <= 400.0 for p in pitches)
    for key in ("volume_db", "harmonics_ratio", "spectral_centroid"):
        values = [w[key] for w in words if w[key] is not None]
        assert len(values) >= len(words) * 0.7
        assert len(set(values)) >= 4, key
    assert all(-120.0 <= w["volume_db"] <= 0.0 for w in words)
    assert all(100.0 <= w["spectral_centroid"] <= 8000.0 for w in words)
    ps = result["pitch_statistics"]
    assert ps["global_min_hz"] <= ps["global_mean_hz"] <= ps["global_max_hz"]
    assert ps["global_min_hz"] == min(pitches) and ps["global_max_hz"] == max(pitches)


# ------------------------------------------------------------------------------------------ media edge cases


def test_silent_video_completes_with_nothing_invented():
    result, rec = transcribe("silent.mp4")
    assert result["segments"] == []
    assert result["speakers"] == []
    assert result["speaker_details"] == {}
    assert result["metadata"]["total_segments"] == 0
    assert result["metadata"]["unique_speakers"] == 0
    assert result["metadata"]["duration"] == pytest.approx(3.0, abs=0.1)
    assert all(v is None for v in result["volume_statistics"].values())
    assert all(v is None for v in result["pitch_statistics"].values())
    assert [s for s, _ in rec.events][-1] == "finalizing"
    assert rec.events[-1][1] == 1.0


@pytest.mark.parametrize(
    ("name", "code"),
    [("no_audio.mp4", NO_AUDIO_STREAM), ("corrupt.mp4", MEDIA_INVALID)],
)
def test_unusable_media_fails_with_its_code(name, code):
    rec = Recorder()
    with pytest.raises(PipelineError) as exc:
        run_pipeline(str(MEDIA / name), config=CONFIG, report=rec)
    assert exc.value.code == code
    assert exc.value.message
    assert {s for s, _ in rec.events} <= {"extracting_audio"}


def test_text_file_is_media_invalid(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 50)
    with pytest.raises(PipelineError) as exc:
        run_pipeline(str(bad), config=CONFIG)
    assert exc.value.code == MEDIA_INVALID


def test_missing_file_is_not_blamed_on_the_user(tmp_path):
    with pytest.raises(FileNotFoundError):
        run_pipeline(str(tmp_path / "gone.mp4"), config=CONFIG)


def test_too_long_media_fails_before_transcribing():
    rec = Recorder()
    with pytest.raises(PipelineError) as exc:
        run_pipeline(str(MEDIA / "dialogue.wav"), config=CONFIG, max_duration=5.0, report=rec)
    assert exc.value.code == MEDIA_TOO_LONG
    assert exc.value.details["max_duration"] == 5.0
    assert exc.value.details["duration"] > 5.0
    assert "transcribing" not in {s for s, _ in rec.events}
    # a limit above the duration is fine
    assert run_pipeline(str(MEDIA / "single_speaker.wav"), config=CONFIG, max_duration=60.0)["segments"]


# ------------------------------------------------------------------------------------- progress and cancelling


def test_progress_is_monotonic_in_stage_order_with_intermediate_asr_values():
    _, rec = transcribe("dialogue.wav")
    fractions = [f for _, f in rec.events]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    seen = []
    for s, _ in rec.events:
        if not seen or seen[-1] != s:
            seen.append(s)
    assert seen == list(PIPELINE_STAGES)
    asr = [f for s, f in rec.events if s == "transcribing"]
    start_asr = asr[0]
    end_asr = next(f for s, f in rec.events if s == "aligning")
    assert any(start_asr < f < end_asr for f in asr), asr  # moved with the decoded position, not one jump


def test_cancel_during_transcription_stops_promptly():
    state = {"cancel_at": None, "stages": []}

    def report(stage: str, fraction: float) -> None:
        state["stages"].append(stage)
        if stage == "transcribing" and state["cancel_at"] is None:
            state["cancel_at"] = time.monotonic()

    with pytest.raises(PipelineCancelled):
        run_pipeline(
            str(MEDIA / "dialogue.wav"),
            config=CONFIG,
            report=report,
            should_cancel=lambda: state["cancel_at"] is not None,
        )
    assert "aligning" not in state["stages"]
    # functional bound ("within a few seconds" per API.md), not a performance assertion
    assert time.monotonic() - state["cancel_at"] < 5.0


def test_cancel_before_start_raises_immediately():
    rec = Recorder()
    with pytest.raises(PipelineCancelled):
        run_pipeline(str(MEDIA / "dialogue.wav"), config=CONFIG, report=rec, should_cancel=lambda: True)
    assert {s for s, _ in rec.events} <= {"extracting_audio"}


# -------------------------------------------------------------------------------------------- result shape

SEGMENT_KEYS = {
    "id", "start", "end", "start_time", "end_time", "duration", "text", "confidence", "speaker", "emotion", "words",
}  # fmt: skip
WORD_KEYS = {
    "word", "start", "end", "confidence", "speaker_id", "volume_db", "pitch_hz", "harmonics_ratio",
    "spectral_centroid",
}  # fmt: skip
METADATA_KEYS = {
    "duration", "language", "language_requested", "model", "engine", "device", "processing_time",
    "total_segments", "unique_speakers", "emotion_model",
}  # fmt: skip


def _decimals_ok(v: float, places: int) -> bool:
    return round(v, places) == v


@pytest.mark.parametrize("name", ["dialogue.wav", "single_speaker.wav"])
def test_result_matches_api_2_1_field_by_field(name):
    result, _ = transcribe(name)
    json.dumps(result)  # plain JSON types only
    assert set(result) == {
        "segments", "speakers", "speaker_details", "language", "metadata", "volume_statistics", "pitch_statistics",
    }  # fmt: skip
    assert isinstance(result["speakers"], list) and all(isinstance(s, str) for s in result["speakers"])
    assert result["segments"]
    for i, seg in enumerate(result["segments"]):
        assert set(seg) == SEGMENT_KEYS
        assert seg["id"] == i
        assert seg["start"] == seg["start_time"] and seg["end"] == seg["end_time"]
        assert seg["duration"] == pytest.approx(seg["end"] - seg["start"], abs=1e-3)
        assert seg["start"] <= seg["end"]
        for key in ("start", "end", "duration"):
            assert _decimals_ok(seg[key], 3)
        assert isinstance(seg["text"], str) and seg["text"] == seg["text"].strip() and seg["text"]
        assert "[" not in seg["text"]
        assert 0.0 <= seg["confidence"] <= 1.0
        assert set(seg["speaker"]) == {"speaker_id", "confidence", "gender", "age_group"}
        assert seg["speaker"]["speaker_id"] in result["speakers"]
        assert seg["speaker"]["gender"] is None and seg["speaker"]["age_group"] is None
        assert seg["emotion"] is None  # no emotion model configured: never invented
        assert seg["words"]
        assert " ".join(norm(w["word"]) for w in seg["words"]) == " ".join(
            norm(t) for t in seg["text"].split() if norm(t)
        )
        for w in seg["words"]:
            assert set(w) == WORD_KEYS
            assert isinstance(w["word"], str) and w["word"] == w["word"].strip() and w["word"]
            assert seg["start"] <= w["start"] <= w["end"] <= seg["end"]
            assert _decimals_ok(w["start"], 3) and _decimals_ok(w["end"], 3)
            assert 0.0 <= w["confidence"] <= 1.0
            assert w["speaker_id"] == seg["speaker"]["speaker_id"]
            assert isinstance(w["volume_db"], float)
            assert w["pitch_hz"] is None or isinstance(w["pitch_hz"], float)
    for sid, d in result["speaker_details"].items():
        assert sid in result["speakers"]
        assert set(d) == {"total_duration", "segment_count", "avg_confidence"}
    md = result["metadata"]
    assert set(md) == METADATA_KEYS
    assert md["model"] == "Systran/faster-whisper-tiny.en"
    assert md["engine"] == "faster-whisper"
    assert md["device"] == "cpu"
    assert md["language"] == result["language"] == "en"
    assert md["total_segments"] == len(result["segments"])
    assert md["unique_speakers"] == len(result["speakers"])
    assert md["emotion_model"] is None
    assert md["processing_time"] > 0
    assert set(result["volume_statistics"]) == {
        "global_min_db", "global_max_db", "global_mean_db", "baseline_db", "whisper_threshold_db", "loud_threshold_db",
    }  # fmt: skip
    assert set(result["pitch_statistics"]) == {"global_min_hz", "global_max_hz", "global_mean_hz"}
    vs = result["volume_statistics"]
    assert vs["global_min_db"] <= vs["global_mean_db"] <= vs["global_max_db"]
    assert vs["whisper_threshold_db"] < vs["baseline_db"] < vs["loud_threshold_db"]


# ------------------------------------------------------------------------------------ caching and estimates


def test_models_load_once_per_process():
    from transcription.pipeline.asr import get_engine
    from transcription.pipeline.speakers import voice_encoder

    transcribe("single_speaker.wav")
    assert get_engine(CONFIG) is get_engine(PipelineConfig())
    assert voice_encoder("cpu") is voice_encoder("cpu")


def test_estimate_is_proportional_and_includes_cold_start():
    from transcription.pipeline.asr import engine_loaded

    transcribe("single_speaker.wav")
    assert engine_loaded(CONFIG)
    short, long = benchmark_estimate_seconds(60.0, CONFIG), benchmark_estimate_seconds(600.0, CONFIG)
    assert 0 < short < long
    assert long < 600.0 * 0.3  # the tiny model runs far faster than real time on CPU
    cold = PipelineConfig(model=CONFIG.model, cpu_threads=1)  # a configuration no worker has loaded yet
    assert benchmark_estimate_seconds(60.0, cold) > short
    bigger = PipelineConfig(model="large-v3")
    tiny = PipelineConfig(model="/models/tiny")
    assert benchmark_estimate_seconds(60.0, bigger) > benchmark_estimate_seconds(60.0, tiny)


def test_config_rejects_unknown_engine():
    with pytest.raises(ValueError):
        PipelineConfig(engine="nope")
