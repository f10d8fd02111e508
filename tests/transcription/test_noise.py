"""One voice in pink noise (10 dB SNR) and over a music bed (−15 dB), through the real pipeline (tiny.en).

Fixtures: tests/fixtures/media/noisy_*.wav from scripts/make_test_media.py; noisy.json has each sentence's
exact start/end (from the clean synthesis). Checked: word-edge trimming never makes the sentence-final word
ends worse than the untrimmed (engine) times, one voice stays one speaker, no octave jumps in ``pitch_hz``,
and no word without a duration reaches the statistics. No Django needed (``-p no:django``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from statistics import median

import pytest

from transcription.pipeline import PipelineConfig, acoustics, alignment, asr, run_pipeline
from transcription.pipeline.audio import load_audio
from transcription.pipeline.progress import Progress

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
META = json.loads((MEDIA / "noisy.json").read_text())
CONFIG = PipelineConfig()
NOISY = ["noisy_pink.wav", "noisy_music.wav"]
_cache: dict[str, dict] = {}


def transcribe(name: str) -> dict:
    if name not in _cache:
        _cache[name] = run_pipeline(str(MEDIA / name), language="en", config=CONFIG)
    return _cache[name]


def final_word_end_errors(words: list) -> list[float]:
    """|end of the last word of each sentence − the sentence's true end|."""
    errors = []
    for s in META["sentences"]:
        inside = [x for x in words if s["start"] - 0.3 <= x.start <= s["end"]]
        assert inside, s
        errors.append(abs(inside[-1].end - s["end"]))
    return errors


@pytest.mark.parametrize("name", NOISY)
def test_edge_trim_never_ends_sentence_final_words_worse_than_untrimmed(name):
    audio = load_audio(str(MEDIA / name)).samples
    engine = asr.get_engine(CONFIG, "tiny.en")
    raw = engine.transcribe(audio, language="en", progress=Progress(None, None, {"transcribing": 1.0}))
    tracks = acoustics.loudness_track(audio)
    assert alignment.is_noisy(tracks)
    trimmed = alignment.trim_word_edges(copy.deepcopy(raw), tracks)
    before = final_word_end_errors([w for s in raw.segments for w in s.words])
    after = final_word_end_errors([w for s in trimmed.segments for w in s.words])
    assert median(after) <= median(before) + 0.01, (before, after)
    assert max(after) < 0.15, after  # no sentence-final word cut 70-450 ms short


def test_clean_speech_is_still_trimmed_to_the_audible_part():
    audio = load_audio(str(MEDIA / "single_speaker.wav")).samples
    tracks = acoustics.loudness_track(audio)
    assert not alignment.is_noisy(tracks)
    assert alignment.trim_threshold_db(tracks) == acoustics.silence_threshold_db(tracks)


@pytest.mark.parametrize("name", NOISY)
def test_one_voice_in_noise_stays_one_speaker(name):
    result = transcribe(name)
    assert result["speakers"] == ["SPEAKER_00"]
    text = " ".join(s["text"] for s in result["segments"]).lower()
    assert "river" in text and "rain" in text and "city" in text


@pytest.mark.parametrize("name", NOISY)
def test_pitch_stays_in_the_speakers_range(name):
    result = transcribe(name)
    pitches = [w["pitch_hz"] for s in result["segments"] for w in s["words"] if w["pitch_hz"] is not None]
    assert len(pitches) >= 10
    centre = median(pitches)
    assert 70.0 < centre < 200.0  # the Piper "joe" voice
    assert all(centre / acoustics.OCTAVE_RANGE <= p <= centre * acoustics.OCTAVE_RANGE for p in pitches), pitches
    ps = result["pitch_statistics"]
    assert ps["global_max_hz"] <= centre * acoustics.OCTAVE_RANGE


def test_octave_jump_is_remeasured_within_the_speakers_range():
    tracks = acoustics.FrameTracks(power=[0.0] * 300, db=[0.0] * 300)
    import numpy as np

    tracks.power, tracks.db = np.ones(300), np.zeros(300)
    tracks.f0 = np.full(300, 110.0)
    tracks.f0[200:230] = 220.0  # the second harmonic, 30 frames
    tracks.f0[260:300] = 330.0  # only octave-error frames in the last word
    spans = [("A", 0.0, 0.9), ("A", 1.0, 1.9), ("A", 1.95, 2.5), ("A", 2.6, 2.99)]
    measures = [{"pitch_hz": 110.0}, {"pitch_hz": 110.0}, {"pitch_hz": 220.0}, {"pitch_hz": 330.0}]
    assert acoustics.reject_octave_errors(spans, measures, tracks) == 2
    assert measures[2]["pitch_hz"] == 110.0  # the word's in-range frames
    assert measures[3]["pitch_hz"] is None  # nothing plausible left: not measured rather than wrong


@pytest.mark.parametrize("name", [*NOISY, "dialogue.wav"])
def test_every_word_has_a_duration_and_statistics_ignore_silence(name):
    result = (
        run_pipeline(str(MEDIA / name), language="en", config=CONFIG) if name == "dialogue.wav" else transcribe(name)
    )
    words = [w for s in result["segments"] for w in s["words"]]
    assert all(w["end"] - w["start"] >= 0.02 for w in words), [(w["word"], w["start"], w["end"]) for w in words]
    vs = result["volume_statistics"]
    assert vs["global_min_db"] > acoustics.DB_FLOOR


def test_two_voices_in_the_same_noise_stay_two_speakers():
    """The noise-lowered merge threshold must not merge different voices: the dialogue under pink noise."""
    import sys

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    from make_test_media import _speech_rms, pink_noise, write_wav

    clean = load_audio(str(MEDIA / "dialogue.wav")).samples
    noisy = clean + pink_noise(len(clean), seed=3) * _speech_rms(clean) * 10 ** (-10 / 20)
    path = Path(__file__).resolve().parents[2] / "var" / "dialogue_pink_test.wav"
    path.parent.mkdir(exist_ok=True)
    write_wav(path, noisy.astype(np.float32))
    result = run_pipeline(str(path), language="en", config=CONFIG)
    assert result["speakers"] == ["SPEAKER_00", "SPEAKER_01"]
    switch = json.loads((MEDIA / "dialogue.json").read_text())["switch_time"]
    words = [w for s in result["segments"] for w in s["words"]]
    assert {w["speaker_id"] for w in words if w["end"] <= switch} == {"SPEAKER_00"}
    assert {w["speaker_id"] for w in words if w["start"] >= switch} == {"SPEAKER_01"}
