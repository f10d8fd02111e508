"""The whisperx engine (GPU tier) through the real pipeline: batched ASR, wav2vec2 alignment, speakers.

whisperx is an optional dependency with its own pins (requirements-whisperx.txt: torch 2.8, CUDA), so this
module is skipped where it is not installed; run it with ``scripts/test_whisperx.sh``. It runs on CPU too.
No alignment weights ship offline, so the test builds a tiny randomly initialised wav2vec2 CTC model with an
English letter vocabulary: its alignments are not accurate, but the whole whisperx code path (model loading
by path, CTC forced alignment, word assembly) runs for real. Diarization uses the offline voice-embedding
method here (pyannote's weights need a Hugging Face token and a download). The one-speaker clip is used
because whisperx merges VAD regions into 30 s chunks and tiny.en decodes only the first turn of the short
two-voice dialogue (the faster-whisper engine re-decodes such skipped speech; whisperx has no such pass).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.whisperx

whisperx = pytest.importorskip("whisperx")  # the optional GPU-tier dependency is the only gate

from transcription.pipeline import PipelineConfig, run_pipeline  # noqa: E402
from transcription.pipeline.asr import get_engine  # noqa: E402

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
LETTERS = "abcdefghijklmnopqrstuvwxyz'"


@pytest.fixture(scope="module")
def tiny_align_model(tmp_path_factory) -> str:
    import torch
    import transformers

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny-wav2vec2-ctc")
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    for ch in LETTERS:
        vocab[ch] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = transformers.Wav2Vec2CTCTokenizer(
        str(out / "vocab.json"), unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|"
    )
    extractor = transformers.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True, return_attention_mask=True
    )
    transformers.Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(out)
    config = transformers.Wav2Vec2Config(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(32, 32, 32),
        conv_stride=(5, 4, 8),  # 160 samples = 10 ms per frame
        conv_kernel=(10, 4, 8),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        pad_token_id=0,
    )
    transformers.Wav2Vec2ForCTC(config).save_pretrained(out)
    return str(out)


@pytest.fixture(scope="module", autouse=True)
def punkt_tab(tmp_path_factory):
    """whisperx splits sentences with NLTK Punkt; an untrained Punkt model (empty parameter files) is a real
    Punkt tokenizer that splits on sentence punctuation, and needs no download."""
    import nltk

    root = tmp_path_factory.mktemp("nltk_data")
    lang = root / "tokenizers" / "punkt_tab" / "english"
    lang.mkdir(parents=True)
    for name in ("collocations.tab", "sent_starters.txt", "abbrev_types.txt", "ortho_context.tab"):
        (lang / name).write_text("")
    nltk.data.path.insert(0, str(root))
    yield
    nltk.data.path.remove(str(root))


def test_whisperx_engine_runs_the_whole_pipeline(tiny_align_model):
    config = PipelineConfig(  # tiny.en for everything: the GPU-tier venv does not assemble the base model
        engine="whisperx", model="tiny.en", device="cpu", compute_type="int8", batch_size=4,
        align_model=tiny_align_model,
    )
    events: list[tuple[str, float]] = []
    result = run_pipeline(str(MEDIA / "speech.mp4"), config=config, report=lambda s, f: events.append((s, f)))

    assert result["metadata"]["engine"] == "whisperx"
    assert result["metadata"]["model"] == "Systran/faster-whisper-tiny.en"
    assert result["language"] == "en"
    text = " ".join(s["text"] for s in result["segments"]).lower()
    for word in ("hello", "welcome", "video", "speaker"):
        assert word in text, text
    words = [w for s in result["segments"] for w in s["words"]]
    assert len(words) >= 8
    for prev, cur in zip(words, words[1:], strict=False):
        assert cur["start"] >= prev["start"]
    for seg in result["segments"]:
        assert seg["words"]
        assert {w["speaker_id"] for w in seg["words"]} == {seg["speaker"]["speaker_id"]}
        for w in seg["words"]:
            assert seg["start"] <= w["start"] <= w["end"] <= seg["end"]
            assert w["word"] == w["word"].strip() and re.search(r"\w", w["word"])
    assert result["speakers"] == ["SPEAKER_00"]
    fractions = [f for _, f in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert get_engine(config) is get_engine(config)  # loaded once, reused
