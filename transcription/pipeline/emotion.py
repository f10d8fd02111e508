"""Stage 5 — per-segment emotion, only when an audio-classification model is configured (else null).

Uses the transformers ``audio-classification`` pipeline, so any local checkpoint of that task (wav2vec2 /
HuBERT / WavLM emotion fine-tunes) works unchanged. No model ships offline, so the default is off and the
result says ``emotion: null``; nothing is ever guessed.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from .asr import Segment
from .audio import SAMPLE_RATE
from .progress import Progress

logger = logging.getLogger(__name__)

MIN_CLIP_S = 0.5  # shorter segments are padded with their surrounding audio up to this length

_CLASSIFIERS: dict[tuple[str, str], object] = {}
_LOCK = threading.Lock()


def classifier(model: str, device: str):
    """Process-wide transformers pipeline for ``model`` (a local path; hub ids only from the local cache)."""
    key = (model, device)
    with _LOCK:
        clf = _CLASSIFIERS.get(key)
        if clf is None:
            from transformers import pipeline

            clf = pipeline(
                "audio-classification",
                model=model,
                device=device if device != "cpu" else -1,
                local_files_only=True,
            )
            _CLASSIFIERS[key] = clf
            logger.info("loaded emotion model %s on %s", model, device)
        return clf


def classify_segments(
    audio: np.ndarray, segments: list[Segment], *, model: str, device: str, progress: Progress
) -> list[dict | None]:
    """One ``{"emotion", "confidence", "probabilities"}`` per segment, from the model's own scores."""
    clf = classifier(model, device)
    out: list[dict | None] = []
    total = audio.shape[0] / SAMPLE_RATE
    for i, seg in enumerate(segments):
        start, end = seg.start, seg.end
        if end - start < MIN_CLIP_S:
            mid = (start + end) / 2
            start, end = max(0.0, mid - MIN_CLIP_S / 2), min(total, mid + MIN_CLIP_S / 2)
        clip = audio[int(start * SAMPLE_RATE) : max(int(start * SAMPLE_RATE) + 1, int(end * SAMPLE_RATE))]
        scores = clf({"raw": clip.astype(np.float32), "sampling_rate": SAMPLE_RATE}, top_k=None)
        if not scores:
            out.append(None)
        else:
            best = max(scores, key=lambda s: s["score"])
            out.append(
                {
                    "emotion": str(best["label"]),
                    "confidence": round(float(best["score"]), 3),
                    "probabilities": {str(s["label"]): round(float(s["score"]), 3) for s in scores},
                }
            )
        progress.update((i + 1) / len(segments))
    return out


def warm_up(model: str, device: str) -> None:
    """Load the classifier and run it once on half a second of tone (the first call builds its graph)."""
    clf = classifier(model, device)
    tone = (0.1 * np.sin(2 * np.pi * 150 * np.arange(SAMPLE_RATE // 2) / SAMPLE_RATE)).astype(np.float32)
    clf({"raw": tone, "sampling_rate": SAMPLE_RATE}, top_k=None)
