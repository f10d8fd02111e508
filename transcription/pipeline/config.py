"""Pipeline configuration: a frozen value object the worker builds from Django settings.

Kept free of Django imports so the pipeline can run (and be tested, benchmarked) outside a Django process.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace

from .models import (
    DEFAULT_AUTO_LANGUAGES,
    DEFAULT_LANGUAGE_MODELS,
    auto_candidates,
    is_multilingual,
    model_for,
    parse_language_models,
)

ENGINES = ("auto", "faster-whisper", "whisperx")


@dataclass(frozen=True)
class PipelineConfig:
    """Every knob of the transcription pipeline; hashable, so it can key the per-process model caches."""

    engine: str = "auto"  # auto | faster-whisper | whisperx
    model: str = ""  # one model for every language (name, path or id); "" = the per-language map below
    # Per-language models, "LANG=MODEL,...,*=MODEL" (models.py); "*" also detects the language for "auto".
    language_models: str = DEFAULT_LANGUAGE_MODELS
    # Languages "auto" chooses between ("*" = all of Whisper's); default: the ones the editor offers.
    auto_languages: str = DEFAULT_AUTO_LANGUAGES
    device: str = "cpu"
    compute_type: str = "int8"
    # CTranslate2 type of the language-detection pass for "auto" ("" = float32 on CPU, compute_type elsewhere).
    # int8 on CPUs without VNNI (AVX2 only: u8 x s8 products saturate) shifted whisper-base's language
    # scores enough to call espeak Korean and Chinese English; detection is one encoder pass, float32
    # costs little there (docs/DECISIONS.md).
    detect_compute_type: str = ""
    batch_size: int = 8  # whisperx batched inference only
    cpu_threads: int = 0  # 0 = CTranslate2's default
    align_model: str = ""  # wav2vec2 CTC model path/id for whisperx alignment
    diarization_model: str = ""  # pyannote pipeline path/id for whisperx diarization
    hf_token: str = ""
    speaker_threshold: float = 0.75  # cosine similarity above which two voice clusters merge
    emotion_model: str = ""  # transformers audio-classification model path/id; "" = emotion null
    # Scratch space (the system temp dir, /tmp on Linux); today's engines keep audio in memory and write nothing.
    work_dir: str = field(default_factory=tempfile.gettempdir)

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown transcription engine {self.engine!r}; expected one of {ENGINES}")
        if not 0.0 < self.speaker_threshold < 1.0:
            raise ValueError("speaker_threshold must be a cosine similarity between 0 and 1")
        parse_language_models(self.language_models)  # fail at start-up, not in the first job
        auto_candidates(self.auto_languages)

    def detection_config(self) -> PipelineConfig:
        """The config the "auto" language detector loads its model with (its own compute type). An
        English-only detection model never runs to detect (it answers "en"): no second copy for it."""
        compute_type = self.detect_compute_type or ("float32" if self.device == "cpu" else self.compute_type)
        if compute_type == self.compute_type:
            return self
        detector = model_for(None, override=self.model, language_models=self.language_models)
        return replace(self, compute_type=compute_type) if is_multilingual(detector) else self
