"""Per-segment emotion through the real transformers audio-classification path.

No emotion weights ship offline, so the test builds a tiny randomly initialised Wav2Vec2 classifier with the
labels neutral/joy/anger and saves it like any local checkpoint. Its predictions are meaningless; what is
tested is that the pipeline reports exactly what the configured model says, per segment, and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import transformers

from transcription.pipeline import PipelineConfig, run_pipeline

MEDIA = Path(__file__).resolve().parent.parent / "fixtures" / "media"
LABELS = ["neutral", "joy", "anger"]


@pytest.fixture(scope="module")
def tiny_emotion_model(tmp_path_factory) -> str:
    import torch

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny-emotion")
    config = transformers.Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(32, 32, 32),
        conv_stride=(5, 4, 4),
        conv_kernel=(10, 4, 4),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    transformers.Wav2Vec2ForSequenceClassification(config).save_pretrained(out)
    transformers.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True, return_attention_mask=True
    ).save_pretrained(out)
    return str(out)


def test_each_segment_gets_the_models_emotion(tiny_emotion_model):
    config = PipelineConfig(emotion_model=tiny_emotion_model)
    result = run_pipeline(str(MEDIA / "dialogue.wav"), config=config)
    assert result["metadata"]["emotion_model"] == tiny_emotion_model
    assert len(result["segments"]) >= 2
    for seg in result["segments"]:
        emo = seg["emotion"]
        assert set(emo) == {"emotion", "confidence", "probabilities"}
        assert set(emo["probabilities"]) == set(LABELS)
        assert sum(emo["probabilities"].values()) == pytest.approx(1.0, abs=0.01)
        assert emo["emotion"] == max(emo["probabilities"], key=emo["probabilities"].get)
        assert emo["confidence"] == emo["probabilities"][emo["emotion"]]


def test_same_audio_same_emotion(tiny_emotion_model):
    """Deterministic: the numbers come from the model on the audio, not from chance."""
    config = PipelineConfig(emotion_model=tiny_emotion_model)
    a = run_pipeline(str(MEDIA / "single_speaker.wav"), config=config)
    b = run_pipeline(str(MEDIA / "single_speaker.wav"), config=config)
    assert [s["emotion"] for s in a["segments"]] == [s["emotion"] for s in b["segments"]]


def test_no_model_no_emotion():
    result = run_pipeline(str(MEDIA / "single_speaker.wav"), config=PipelineConfig())
    assert all(s["emotion"] is None for s in result["segments"])
    assert result["metadata"]["emotion_model"] is None
