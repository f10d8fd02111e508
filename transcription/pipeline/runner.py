"""Runs the stages in order: audio → ASR → alignment → speakers → acoustics/emotion → result."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from . import acoustics, alignment, asr, emotion, speakers
from .audio import load_audio
from .config import PipelineConfig
from .progress import Progress
from .result import build_result

logger = logging.getLogger(__name__)

# Measured with bench/transcribe.py (see docs/PERFORMANCE.md): seconds of wall time per second of audio for
# each stage, faster-whisper tiny.en int8 on the 2-core CPU reference machine, warm models.
CPU_TINY_STAGE_RTF = {
    "extracting_audio": 0.0005,
    "transcribing": 0.046,
    "aligning": 0.0002,
    "diarizing": 0.003,
    "analyzing": 0.0105,
    "finalizing": 0.0001,
}
# One-off cost of loading the models in a fresh worker process (Whisper + voice encoder + their imports),
# measured likewise as cold minus warm wall time: 2.9–6.0 s over several runs.
CPU_TINY_LOAD_S = 5.0
# Whisper sizes relative to tiny, from parameter counts (39M, 74M, 244M, 769M, 1550M) — CTranslate2 decode time
# scales roughly with them. Not measured here (only tiny ships offline); treat as order-of-magnitude.
MODEL_SCALE = {"tiny": 1.0, "base": 1.9, "small": 6.0, "medium": 17.0, "large": 34.0, "turbo": 8.0}
# A CUDA GPU runs whisperx's batched inference roughly 20× faster than this CPU per audio second (published
# whisperx figures; no GPU was available to measure). Acoustics and decoding stay on the CPU.
GPU_SPEEDUP = 20.0
EMOTION_RTF = 0.05  # a base-size wav2vec2 classifier on CPU, per audio second (order of magnitude)


def _model_scale(model: str) -> float:
    name = (model or "tiny").lower()
    for key in ("large", "medium", "turbo", "small", "base", "tiny"):
        if key in name:
            return MODEL_SCALE[key]
    return MODEL_SCALE["small"]  # unknown custom model: assume a mid-size one


def stage_seconds(duration: float, config: PipelineConfig) -> dict[str, float]:
    """Expected wall time per stage for ``duration`` seconds of audio (also the progress-bar weights)."""
    rtf = dict(CPU_TINY_STAGE_RTF)
    scale = _model_scale(config.model)
    rtf["transcribing"] *= scale
    if config.device.startswith("cuda"):
        rtf["transcribing"] /= GPU_SPEEDUP
        rtf["aligning"] = rtf["transcribing"] * 0.2  # wav2vec2 forced alignment
        rtf["diarizing"] = rtf["transcribing"] * 0.5  # pyannote or the voice encoder on GPU
    if config.emotion_model:
        rtf["analyzing"] += EMOTION_RTF / (GPU_SPEEDUP if config.device.startswith("cuda") else 1.0)
    return {k: v * max(duration, 0.0) for k, v in rtf.items()}


def benchmark_estimate_seconds(duration: float, config: PipelineConfig) -> float:
    """Wall time for ``config`` from the benchmarked per-stage speeds × duration, plus model loading when the
    worker has not loaded this configuration's models yet. (The web tier cannot see the worker's config and
    uses the measured real-time factor instead: ``ecg.estimates.estimate_seconds``.)"""
    total = sum(stage_seconds(duration, config).values())
    if not _models_loaded(config):
        total += CPU_TINY_LOAD_S * max(1.0, _model_scale(config.model) ** 0.5)
    return round(total + 0.5, 1)


def _models_loaded(config: PipelineConfig) -> bool:
    return asr.engine_loaded(config)


def run_pipeline(
    media_path: str,
    *,
    language: str = "auto",
    config: PipelineConfig,
    max_duration: float | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    report: Callable[[str, float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    stage_timings: dict[str, float] | None = None,
) -> dict:
    """Transcribe ``media_path`` into the API.md 2.1 ``result`` dict.

    ``stage_timings``, when given, receives the wall seconds of each stage (measured here, once: the job keeps
    them for the admin).

    Raises PipelineError (bad media / unsupported language: fail the job with its code), PipelineCancelled
    (``should_cancel()`` turned true), FileNotFoundError (the stored file is gone) or an internal exception.
    """
    t0 = time.perf_counter()
    requested = (language or "auto").strip().lower() or "auto"
    asr.normalize_language(requested, multilingual=True, model_name=config.model or asr.OFFLINE_MODEL_ID)

    # Every stage scales linearly with the duration, so the per-second costs are the progress-bar weights.
    weights = stage_seconds(1.0, config)
    progress = Progress(report, should_cancel, weights)

    progress.stage("extracting_audio")
    decoded = load_audio(media_path, max_duration=max_duration, progress=progress)
    audio = decoded.samples

    progress.stage("transcribing")
    engine = asr.get_engine(config)
    lang = asr.normalize_language(requested, multilingual=engine.multilingual, model_name=engine.model_name)
    transcript = engine.transcribe(audio, language=lang, progress=progress)
    n_words = sum(len(s.words) for s in transcript.segments)
    logger.info(
        "ASR (%s, %s): %d segment(s), %d word(s), language %s",
        engine.name,
        engine.model_name,
        len(transcript.segments),
        n_words,
        transcript.language,
    )

    progress.stage("aligning")
    if n_words:
        transcript = engine.align(audio, transcript, progress=progress)
    tracks = acoustics.loudness_track(audio, progress)
    alignment.trim_word_edges(transcript, tracks)

    progress.stage("diarizing")
    if n_words:
        if engine.can_diarize():
            transcript = engine.diarize(
                audio, transcript, min_speakers=min_speakers, max_speakers=max_speakers, progress=progress
            )
            speakers.rename_by_appearance(transcript)
        else:
            transcript = speakers.assign_speakers(
                audio,
                transcript,
                threshold=config.speaker_threshold,
                device=config.device,
                min_speakers=min_speakers,
                max_speakers=max_speakers,
                progress=progress,
            )
        speakers.split_by_speaker(transcript)

    progress.stage("analyzing")
    emotion_share = 0.5 if (config.emotion_model and n_words) else 0.0
    acoustics.analyze(audio, tracks, progress, 0.0, 1.0 - emotion_share)
    measures = [
        [acoustics.word_measures(audio, tracks, w.start, w.end) for w in seg.words] for seg in transcript.segments
    ]
    if config.emotion_model and transcript.segments:
        sub = _SubProgress(progress, 1.0 - emotion_share, 1.0)
        emotions = emotion.classify_segments(
            audio, transcript.segments, model=config.emotion_model, device=config.device, progress=sub
        )
    else:
        emotions = [None] * len(transcript.segments)

    progress.stage("finalizing")
    flat = [m for seg in measures for m in seg]
    result = build_result(
        transcript,
        measures=measures,
        emotions=emotions,
        volume_statistics=acoustics.volume_statistics([m["volume_db"] for m in flat]),
        pitch_statistics=acoustics.pitch_statistics([m["pitch_hz"] for m in flat]),
        duration=decoded.duration,
        language_requested=requested,
        model_name=engine.model_name,
        engine=engine.name,
        config=config,
        processing_time=time.perf_counter() - t0,
    )
    progress.finish()
    if stage_timings is not None:
        stage_timings.update({stage: round(seconds, 3) for stage, seconds in progress.stage_seconds.items()})
    logger.info(
        "pipeline done: %.1f s audio in %.1f s (stages: %s)",
        decoded.duration,
        result["metadata"]["processing_time"],
        {k: round(v, 2) for k, v in progress.stage_seconds.items()},
    )
    return result


class _SubProgress:
    """Maps a sub-task's 0..1 onto [lo, hi] of the current stage (same interface as Progress.update)."""

    def __init__(self, progress: Progress, lo: float, hi: float) -> None:
        self.progress, self.lo, self.hi = progress, lo, hi

    def update(self, fraction: float) -> None:
        self.progress.update(self.lo + (self.hi - self.lo) * fraction)

    def check(self, force: bool = False) -> None:
        self.progress.check(force)
