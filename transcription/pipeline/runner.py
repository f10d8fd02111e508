"""Runs the stages in order: audio → ASR → alignment → speakers → acoustics/emotion → result."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from . import acoustics, alignment, asr, emotion, models, speakers, words
from .audio import load_audio
from .config import PipelineConfig
from .errors import LANGUAGE_UNSUPPORTED, PipelineError
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
# scales roughly with them. base (offline) was measured only on a loaded machine (docs/PERFORMANCE.md);
# the others are not measured: treat as order-of-magnitude.
MODEL_SCALE = {"tiny": 1.0, "base": 1.9, "small": 6.0, "medium": 17.0, "large": 34.0, "turbo": 8.0}
# A CUDA GPU runs whisperx's batched inference roughly 20× faster than this CPU per audio second (published
# whisperx figures; no GPU was available to measure). Acoustics and decoding stay on the CPU.
GPU_SPEEDUP = 20.0
MIN_STATS_WORD_S = 0.02  # words shorter than this (no room to widen them) stay out of the file statistics
EMOTION_RTF = 0.05  # a base-size wav2vec2 classifier on CPU, per audio second (order of magnitude)


def _model_scale(model: str) -> float:
    name = (model or "tiny").lower()
    for key in ("large", "medium", "turbo", "small", "base", "tiny"):
        if key in name:
            return MODEL_SCALE[key]
    return MODEL_SCALE["small"]  # unknown custom model: assume a mid-size one


def stage_seconds(duration: float, config: PipelineConfig, language: str | None = None) -> dict[str, float]:
    """Expected wall time per stage for ``duration`` seconds of audio (also the progress-bar weights)."""
    rtf = dict(CPU_TINY_STAGE_RTF)
    scale = _model_scale(asr.model_for(config, language))
    rtf["transcribing"] *= scale
    if config.device.startswith("cuda"):
        rtf["transcribing"] /= GPU_SPEEDUP
        rtf["aligning"] = rtf["transcribing"] * 0.2  # wav2vec2 forced alignment
        rtf["diarizing"] = rtf["transcribing"] * 0.5  # pyannote or the voice encoder on GPU
    if config.emotion_model:
        rtf["analyzing"] += EMOTION_RTF / (GPU_SPEEDUP if config.device.startswith("cuda") else 1.0)
    return {k: v * max(duration, 0.0) for k, v in rtf.items()}


def benchmark_estimate_seconds(duration: float, config: PipelineConfig, language: str | None = None) -> float:
    """Wall time for ``config`` from the benchmarked per-stage speeds × duration, plus model loading when the
    worker has not loaded the model for ``language`` (None/"auto": the detection model) yet. (The web tier
    cannot see the worker's config and uses the measured real-time factor instead:
    ``ecg.estimates.estimate_seconds``.)"""
    language = None if language in (None, "", "auto") else language
    total = sum(stage_seconds(duration, config, language).values())
    if not asr.engine_loaded(config, language):
        total += CPU_TINY_LOAD_S * max(1.0, _model_scale(asr.model_for(config, language)) ** 0.5)
    return round(total + 0.5, 1)


def warm_up(config: PipelineConfig) -> dict[str, float]:
    """Load every model a worker with ``config`` uses and run each once, so no job pays a cold start.

    Returns seconds per part (logged by the worker). Covers the Whisper model of every configured language
    (plus Silero VAD), the voice encoder (torch + librosa/numba on first use), Praat and the word segmenter.
    """
    import numpy as np

    from .audio import SAMPLE_RATE

    times: dict[str, float] = {}
    for name in models.configured_models(override=config.model, language_models=config.language_models):
        t = time.perf_counter()
        asr.get_engine(config, name).warm_up()
        times[f"asr:{name}"] = round(time.perf_counter() - t, 2)
    detect = config.detection_config()
    if detect is not config:  # "auto" detects with its own copy of the detection model
        t = time.perf_counter()
        asr.get_engine(detect, asr.model_for(config, None)).warm_up_detection()
        times[f"asr-detect:{detect.compute_type}"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    speakers.warm_up(config.device)
    times["speakers"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    tone = (0.1 * np.sin(2 * np.pi * 150 * np.arange(SAMPLE_RATE) / SAMPLE_RATE)).astype(np.float32)
    tracks = acoustics.loudness_track(tone)
    acoustics.analyze(tone, tracks, Progress(None, None, stage_seconds(1.0, config)), 0.0, 1.0)
    words.phrases("今日は", "ja")
    words.phrases("今天", "zh")
    times["acoustics"] = round(time.perf_counter() - t, 2)
    if config.emotion_model:
        t = time.perf_counter()
        emotion.warm_up(config.emotion_model, config.device)
        times["emotion"] = round(time.perf_counter() - t, 2)
    logger.info("models warm: %s", times)
    return times


def resolve_language(requested: str, config: PipelineConfig) -> str | None:
    """Validate the requested code against the configured models (before any decoding); None = detect."""
    lang = asr.normalize_language(requested, multilingual=True, model_name=config.model or "")
    if lang is None:
        return None
    supported = models.supported_languages(override=config.model, language_models=config.language_models)
    model = asr.model_for(config, lang)
    if lang not in supported or (lang != "en" and not models.is_multilingual(model)):
        raise PipelineError(
            LANGUAGE_UNSUPPORTED,
            f"No configured speech model can transcribe {lang!r} (the model for it is {model or 'tiny.en'}).",
            {"language": lang, "model": model},
        )
    return lang


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
    lang = resolve_language(requested, config)

    # Every stage scales linearly with the duration, so the per-second costs are the progress-bar weights.
    weights = stage_seconds(1.0, config, lang)
    progress = Progress(report, should_cancel, weights)

    progress.stage("extracting_audio")
    decoded = load_audio(media_path, max_duration=max_duration, progress=progress)
    audio = decoded.samples

    progress.stage("transcribing")
    probability = None
    if lang is None:
        # "auto": the multilingual detection model decides (an English-only model never does: it would call
        # every language English), then the model configured for that language transcribes.
        detector = asr.get_engine(config.detection_config(), asr.model_for(config, None))
        progress.check(force=True)
        lang, probability = detector.detect_language(audio, models.auto_candidates(config.auto_languages))
        logger.info("detected language %s (p=%s) with %s", lang, probability, detector.model_name)
        progress.check(force=True)
    engine = asr.get_engine(config, asr.model_for(config, lang))
    progress.check(force=True)
    if lang is not None and lang != "en" and not engine.multilingual:
        raise PipelineError(
            LANGUAGE_UNSUPPORTED,
            f"The speech model {engine.model_name} is English-only and cannot transcribe {lang!r}.",
            {"language": lang, "model": engine.model_name},
        )
    transcript = engine.transcribe(audio, language=lang, progress=progress)
    if lang is None:  # nothing to detect from (no speech): report what the engine decided, if anything
        lang = transcript.language if transcript.segments else None
    transcript.language = lang
    if probability is not None:
        transcript.language_probability = probability
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
                frame_db=tracks.db,
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
    all_words = [w for seg in transcript.segments for w in seg.words]
    flat = [m for seg in measures for m in seg]
    fixed = acoustics.reject_octave_errors([(w.speaker, w.start, w.end) for w in all_words], flat, tracks)
    if fixed:
        logger.info("pitch: %d word(s) outside their speaker's range re-measured", fixed)
    # File statistics only over words with a real duration that are not digital silence: a word Whisper put
    # at one instant (or in a gap) measures nothing about the voice.
    stats = [
        m
        for w, m in zip(all_words, flat, strict=True)
        if w.end - w.start >= MIN_STATS_WORD_S and m["volume_db"] is not None and m["volume_db"] > acoustics.DB_FLOOR
    ]
    result = build_result(
        transcript,
        measures=measures,
        emotions=emotions,
        volume_statistics=acoustics.volume_statistics([m["volume_db"] for m in stats]),
        pitch_statistics=acoustics.pitch_statistics([m["pitch_hz"] for m in stats]),
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
