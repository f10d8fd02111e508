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
import unicodedata
import zlib
from dataclasses import dataclass, field

import numpy as np

from . import models, words
from .audio import SAMPLE_RATE
from .config import PipelineConfig
from .errors import LANGUAGE_UNSUPPORTED, PipelineError
from .progress import Progress

logger = logging.getLogger(__name__)

OFFLINE_MODEL_ID = models.TINY_EN_ID
package_dir = models.package_dir

# Decoder guards (docs/TRANSCRIPTION.md, "Decoding"). Decoding is deterministic: beam search at temperature 0
# only. faster-whisper's own fallback samples at rising temperatures, which makes the same file give different
# text on every run; our fallback for a window that fails the guards is a deterministic re-decode with a
# repetition penalty and a no-repeat n-gram constraint, kept only when it scores better.
COMPRESSION_RATIO_THRESHOLD = 2.4  # gzip ratio of a window's text above which it is a repetition loop
LOG_PROB_THRESHOLD = -1.0  # mean token log-probability below which a window is unreliable
NO_SPEECH_THRESHOLD = 0.6  # Whisper's no-speech probability above which (with a low log-prob) a window is silence
FALLBACK_REPETITION_PENALTY = 1.3
FALLBACK_NO_REPEAT_NGRAM = 4
LOOP_MIN_REPEATS = 3  # a word sequence repeated this many times in a row is a decoder loop: keep one copy
LOOP_MAX_PERIOD = 12  # longest repeated unit (in words) looked for
MIN_WORD_S = 0.06  # a zero-length word is widened to this much where there is room

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


def resolve_model(model: str) -> tuple[str, str]:
    """Return ``(path_or_id_to_load, name_to_report)`` (see ``models.resolve``)."""
    return models.resolve(model)


def _whisper_languages() -> tuple[str, ...]:
    return tuple(models.WHISPER_LANGUAGES)


def compression_ratio(text: str) -> float:
    """gzip compression ratio of ``text`` (Whisper's repetition measure; loops compress very well)."""
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data))) if data else 0.0


_NOT_TEXT = re.compile(r"[\W_]+")
_LOOP = re.compile(r"(.{1,12}?)\1{3,}")


def has_loop(text: str) -> bool:
    """A unit of 1–12 letters repeated four or more times in a row, ignoring spaces and punctuation.

    Character-level, so it also sees loops in unspaced scripts whose token "words" vary ("見見見,見見,見見見")."""
    return _LOOP.search(_NOT_TEXT.sub("", text)) is not None


def collapse_loops(group: list[Word]) -> list[Word]:
    """Drop the 2nd.. copies of a word sequence repeated ``LOOP_MIN_REPEATS``+ times in a row.

    The compression-ratio guard catches long loops of one window; a loop of a short phrase three or four times
    can stay under the ratio, and it is never real speech in a caption, so it is cut here whatever its score.
    """
    out = list(group)
    i = 0
    while i < len(out):
        collapsed = False
        for period in range(1, LOOP_MAX_PERIOD + 1):
            unit = [w.text.strip() for w in out[i : i + period]]
            if len(unit) < period:
                break
            reps = 1
            while [w.text.strip() for w in out[i + reps * period : i + (reps + 1) * period]] == unit:
                reps += 1
            if reps >= LOOP_MIN_REPEATS and (period > 1 or len("".join(unit)) > 0):
                del out[i + period : i + reps * period]
                collapsed = True
                break
        if not collapsed:
            i += 1
    if len(out) != len(group):
        logger.info("collapsed a decoder loop: %d word(s) -> %d", len(group), len(out))
    return out


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


def _clean_words(group: list[Word]) -> list[Word]:
    """Drop empty and artificial tokens; NFC text; keep times ordered and non-negative."""
    out: list[Word] = []
    for w in group:
        if not w.text.strip() or _ARTIFICIAL_TOKEN.match(w.text) or "\ufffd" in w.text:
            continue  # (U+FFFD: a token cut inside a multi-byte character at a window's end)
        w.text = unicodedata.normalize("NFC", w.text)
        start = max(0.0, float(w.start))
        end = max(start, float(w.end))
        if out and start < out[-1].start:
            start = out[-1].start
            end = max(end, start)
        w.start, w.end = start, end
        out.append(w)
    return out


def give_durations(all_words: list[Word]) -> None:
    """Widen zero-length (or near-zero) words to ``MIN_WORD_S`` into the free time around them.

    Whisper's cross-attention times put some words at one instant (start == end); such a word cannot be shown,
    and measuring "its" loudness measured whatever was at that instant (−120 dB in digital silence). Room is
    taken from the gap after the word, then before it, then from a longer neighbour; a word that still has no
    duration keeps its instant and is left out of the file statistics (``result``/``acoustics``).
    """
    for i, w in enumerate(all_words):
        need = MIN_WORD_S - (w.end - w.start)
        if need <= 0:
            continue
        nxt = all_words[i + 1].start if i + 1 < len(all_words) else w.end + need
        grow = max(0.0, min(need, nxt - w.end))
        w.end += grow
        need -= grow
        prev = all_words[i - 1].end if i else 0.0
        grow = max(0.0, min(need, w.start - prev))
        w.start -= grow
        need -= grow
        if need > 1e-9 and i + 1 < len(all_words):
            n = all_words[i + 1]
            if n.start <= w.end + 1e-9 and n.end - n.start > MIN_WORD_S + need:
                n.start += need
                w.end += need
                need = 0.0
        if need > 1e-9 and i:
            p = all_words[i - 1]
            if p.end >= w.start - 1e-9 and p.end - p.start > MIN_WORD_S + need:
                p.end -= need
                w.start -= need
        w.start, w.end = round(w.start, 3), round(w.end, 3)


def _segments_from_words(groups: list[list[Word]], language: str | None = None) -> list[Segment]:
    segs = []
    for group in groups:
        group = collapse_loops(_clean_words(group))
        group = words.regroup(group, language)
        if group:
            segs.append(Segment(start=group[0].start, end=max(w.end for w in group), words=group))
    give_durations([w for s in segs for w in s.words])
    for s in segs:
        s.start, s.end = s.words[0].start, max(w.end for w in s.words)
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


def _warm_up_tone() -> np.ndarray:
    """2 s of a modulated 150 Hz tone: enough signal for a warm-up decode or detection pass."""
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    return (0.1 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)


class AsrEngine:
    """What the pipeline needs from a recogniser; subclasses implement ``transcribe`` (and may align/diarize)."""

    name = "base"
    model_name = ""
    device = "cpu"
    multilingual = True

    def transcribe(self, audio: np.ndarray, *, language: str | None, progress: Progress) -> Transcript:
        raise NotImplementedError

    def detect_language(self, audio: np.ndarray, candidates: set[str] | None = None) -> tuple[str | None, float | None]:
        """Spoken language of ``audio`` among ``candidates`` (None: any); None when there is no speech."""
        raise NotImplementedError

    def warm_up(self) -> None:
        """Run the model once on a short synthetic signal so the first job pays no lazy initialisation."""

    def warm_up_detection(self) -> None:
        """Warm a copy of the model that only detects languages (engines without a cheaper path: warm_up)."""
        self.warm_up()

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

    def __init__(self, config: PipelineConfig, model: str = "") -> None:
        from faster_whisper import WhisperModel

        path, self.model_name = resolve_model(model if model else config.model)
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
        # One decode at a time per model: CTranslate2 models are thread-safe, but interleaving two jobs'
        # windows on the same threads only slows both down.
        self._lock = threading.Lock()
        logger.info("loaded faster-whisper model %s on %s (%s)", self.model_name, self.device, config.compute_type)

    def _decode(self, audio: np.ndarray, language: str | None, **kw) -> tuple[list, object]:
        segments, info = self.model.transcribe(
            audio,
            language=language,
            word_timestamps=True,
            beam_size=5,
            temperature=0.0,
            compression_ratio_threshold=COMPRESSION_RATIO_THRESHOLD,
            log_prob_threshold=LOG_PROB_THRESHOLD,
            # Not conditioning on the previous window keeps one hallucination from seeding the next ones
            # (the same default whisperx uses).
            condition_on_previous_text=False,
            **{"no_speech_threshold": NO_SPEECH_THRESHOLD, **kw},
        )
        return segments, info

    @staticmethod
    def _fails_guards(seg) -> bool:
        return (
            seg.compression_ratio > COMPRESSION_RATIO_THRESHOLD
            or seg.avg_logprob < LOG_PROB_THRESHOLD
            or has_loop(seg.text)
        )

    @staticmethod
    def _score(segs: list) -> tuple[bool, bool, float]:
        """Prefer output without a loop, then under the compression-ratio guard, then the higher log-prob."""
        text = "".join(s.text for s in segs)
        logprob = sum(s.avg_logprob for s in segs) / len(segs) if segs else -10.0
        return (not has_loop(text), compression_ratio(text) <= COMPRESSION_RATIO_THRESHOLD, logprob)

    def _run(self, audio: np.ndarray, language: str | None, progress: Progress, lo: float, hi: float, **kw):
        duration = max(audio.shape[0] / SAMPLE_RATE, 1e-6)
        groups: list[list[Word]] = []
        scored: list = []
        with self._lock:
            segments, info = self._decode(audio, language, **kw)
            for seg in segments:  # lazy: each iteration decodes the next window
                chosen = [seg]
                if self._fails_guards(seg) and seg.end - seg.start > 0.2:
                    # Deterministic fallback: the same window again, with repeats penalised.
                    retry, _ = self._decode(
                        audio,
                        language or info.language,
                        clip_timestamps=[round(seg.start, 3), round(seg.end, 3)],
                        vad_filter=False,
                        repetition_penalty=FALLBACK_REPETITION_PENALTY,
                        no_repeat_ngram_size=FALLBACK_NO_REPEAT_NGRAM,
                    )
                    retry = list(retry)
                    if retry and self._score(retry) > self._score(chosen):
                        logger.info(
                            "window %.1f-%.1f s failed the decoder guards (ratio %.2f, logprob %.2f): re-decoded",
                            seg.start, seg.end, seg.compression_ratio, seg.avg_logprob,
                        )  # fmt: skip
                        chosen = retry
                for s in chosen:
                    scored.append(s)
                    groups.append(
                        [Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in (s.words or [])]
                    )
                progress.update(lo + (hi - lo) * min(1.0, float(seg.end) / duration))
        return groups, info, scored

    def detect_language(self, audio: np.ndarray, candidates: set[str] | None = None) -> tuple[str | None, float | None]:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        if not self.multilingual:
            return "en", None
        # Judge the language on speech only (VAD-joined), so leading music or silence does not decide it.
        chunks = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=300, speech_pad_ms=100))
        if not chunks:
            return None, None
        speech = np.concatenate([audio[c["start"] : c["end"]] for c in chunks])[: 30 * SAMPLE_RATE]
        with self._lock:
            language, probability, ranked = self.model.detect_language(speech)
        if candidates:
            allowed = [(code, p) for code, p in ranked if code in candidates]
            if allowed:
                total = sum(p for _, p in allowed) or 1.0
                language, probability = allowed[0][0], allowed[0][1] / total  # renormalised among candidates
        return language, float(probability)

    def warm_up(self) -> None:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        tone = _warm_up_tone()
        get_speech_timestamps(tone, VadOptions())  # loads the Silero VAD model
        # One decode (encoder, beam search, word alignment) allocates this model's buffers. A few tokens are
        # enough: a tone decodes to hallucinated text up to the token limit, which took the multilingual
        # base 24 s at every worker start.
        with self._lock:
            list(self._decode(tone, "en", vad_filter=False, no_speech_threshold=None, max_new_tokens=16)[0])

    def warm_up_detection(self) -> None:
        """Warm a copy used only to detect languages: one detection pass (encoder + one decoder step), not a
        full decode; every worker start pays this."""
        if not self.multilingual:
            return
        with self._lock:
            self.model.detect_language(_warm_up_tone())

    def transcribe(self, audio: np.ndarray, *, language: str | None, progress: Progress) -> Transcript:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        groups, info, scored = self._run(audio, language, progress, 0.0, 0.6, vad_filter=True)
        detected = language or info.language
        if has_loop("".join(x.text for x in scored)):
            # A loop spread over several short segments ("見見見," "見見," ...) passes each segment's guards:
            # decode the file again, deterministically, with repeats penalised, and keep the better one.
            alt_groups, _, alt_scored = self._run(
                audio,
                detected,
                progress,
                0.6,
                0.85,
                vad_filter=True,
                repetition_penalty=FALLBACK_REPETITION_PENALTY,
                no_repeat_ngram_size=FALLBACK_NO_REPEAT_NGRAM,
            )
            if self._score(alt_scored) > self._score(scored):
                logger.info("first pass looped across segments: kept the repetition-penalised decode")
                groups = alt_groups
        all_words = [w for g in groups for w in g]

        # Whisper sometimes ends a 30 s window early (a segment ending in a lone timestamp makes it seek past
        # the rest of the window), silently dropping speech — typically right after a change of speaker — and
        # its no-speech test can discard a window of real but unusual speech. Speech that Silero VAD hears but
        # that got no word is decoded again on its own, as clips; the VAD has already judged it to be speech,
        # so Whisper's no-speech test is off for that pass (the loop guards stay on).
        progress.update(0.86)
        regions = [
            (t["start"] / SAMPLE_RATE, t["end"] / SAMPLE_RATE)
            for t in get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=300, speech_pad_ms=100))
        ]
        missing = _uncovered(regions, all_words, min_len=0.8)
        if missing:
            logger.info("re-decoding %d speech region(s) the first pass skipped: %s", len(missing), missing)
            clips: list[float] = []
            for s, e in missing:
                clips += [round(max(0.0, s - 0.1), 3), round(e + 0.1, 3)]
            extra, _, _ = self._run(
                audio, detected, progress, 0.87, 1.0, clip_timestamps=clips, vad_filter=False, no_speech_threshold=None
            )
            for g in extra:
                kept = [w for w in g if not any(o.start <= (w.start + w.end) / 2 <= o.end for o in all_words)]
                if kept:
                    groups.append(kept)
        groups.sort(key=lambda g: g[0].start if g else 0.0)
        progress.update(1.0)
        return Transcript(_segments_from_words(groups, detected), detected, float(info.language_probability))


class WhisperXEngine(AsrEngine):
    """whisperx: batched faster-whisper behind pyannote VAD, wav2vec2 alignment, pyannote diarization."""

    name = "whisperx"

    def __init__(self, config: PipelineConfig, model: str = "") -> None:
        import whisperx

        self.config = config
        path, self.model_name = resolve_model(model if model else config.model)
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

    def detect_language(self, audio: np.ndarray, candidates: set[str] | None = None) -> tuple[str | None, float | None]:
        if not self.multilingual:
            return "en", None
        return str(self.model.detect_language(audio)), None  # whisperx offers no restriction to candidates

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


def _engine_key(config: PipelineConfig, model: str) -> tuple:
    name = resolve_engine_name(config)
    key = (name, model, config.device, config.compute_type, config.cpu_threads)
    if name == "whisperx":
        key += (config.batch_size, config.align_model, config.diarization_model, config.hf_token)
    return key


def model_for(config: PipelineConfig, language: str | None) -> str:
    """The model name that serves ``language`` (None: the language-detection model) under ``config``."""
    return models.model_for(language, override=config.model, language_models=config.language_models)


def engine_loaded(config: PipelineConfig, language: str | None = None) -> bool:
    """Whether this worker process already holds the model that serves ``language`` under ``config``."""
    return _engine_key(config, model_for(config, language)) in _ENGINES


def get_engine(config: PipelineConfig, model: str | None = None) -> AsrEngine:
    """The process-wide engine for ``config`` and ``model`` (default: the detection model); loaded once."""
    model = model_for(config, None) if model is None else model
    key = _engine_key(config, model)
    name = key[0]
    with _LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = WhisperXEngine(config, model) if name == "whisperx" else FasterWhisperEngine(config, model)
            _ENGINES[key] = engine
    return engine
