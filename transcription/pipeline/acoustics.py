"""Stage 4 — acoustic measures: frame tracks computed once per file, then aggregated over each word's span.

Tracks on a 10 ms grid (frame i is centred on t = i × 10 ms):
- loudness: mean-square energy of a 25 ms window → dBFS (0 dBFS = full-scale; a full-scale sine is −3 dBFS);
- F0: Praat's autocorrelation pitch (praat-parselmouth), 0 where unvoiced;
- HNR: Praat's cross-correlation harmonicity in dB, NaN where Praat finds no periodicity (silence);
- spectral centroid: numpy rFFT of a 32 ms Hann window, NaN for (near-)silent frames.
Praat is the reference implementation phoneticians use for pitch and HNR; parselmouth runs it in-process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .audio import SAMPLE_RATE
from .progress import Progress

logger = logging.getLogger(__name__)

HOP_S = 0.01
HOP = int(SAMPLE_RATE * HOP_S)  # 160 samples
RMS_WIN = 400  # 25 ms
FFT_WIN = 512  # 32 ms
PITCH_FLOOR_HZ = 75.0  # Praat's default floor; sets a 40 ms analysis window
PITCH_CEILING_HZ = 600.0  # high enough for raised female/child voices
DB_FLOOR = -120.0  # measurement floor: digital silence has no finite dBFS
BLOCK_FRAMES = 6000  # process tracks in 60 s blocks to bound memory and poll cancellation
PRAAT_BLOCK_S = 30.0
# Praat treats frames below this fraction of the block's peak amplitude as silent (its defaults: 0.03 for
# pitch, 0.1 for HNR); applied to the levelled signal (see _levelled), so one value fits both.
PRAAT_SILENCE = 0.03
AGC_WINDOW_S = 0.4
PRAAT_MARGIN_S = 0.1


@dataclass
class FrameTracks:
    power: np.ndarray  # mean square per frame (linear, full scale = 1)
    db: np.ndarray  # dBFS per frame, floored at DB_FLOOR
    f0: np.ndarray | None = None  # Hz, 0 = unvoiced
    hnr: np.ndarray | None = None  # dB, NaN = not measurable
    centroid: np.ndarray | None = None  # Hz, NaN = silent frame

    @property
    def n(self) -> int:
        return int(self.power.shape[0])

    def index(self, t: float) -> int:
        return int(round(t / HOP_S))

    def span(self, start: float, end: float) -> slice:
        """Frames whose centres fall within [start, end] (at least one frame)."""
        i = max(0, min(self.n - 1, self.index(start)))
        j = max(i + 1, min(self.n, self.index(end) + 1))
        return slice(i, j)


def _frames(x: np.ndarray, win: int, first: int, count: int) -> np.ndarray:
    """Windows of ``win`` samples centred on frames ``first .. first+count`` (zero-padded at the edges)."""
    start = first * HOP - win // 2
    stop = (first + count - 1) * HOP + win - win // 2
    lo, hi = max(0, start), min(x.shape[0], stop)
    seg = np.zeros(stop - start, np.float32)
    seg[lo - start : hi - start] = x[lo:hi]
    return np.lib.stride_tricks.sliding_window_view(seg, win)[::HOP][:count]


def n_frames(audio: np.ndarray) -> int:
    return audio.shape[0] // HOP + 1


def loudness_track(audio: np.ndarray, progress: Progress | None = None) -> FrameTracks:
    """Frame energies (cheap; also used by the aligning stage to trim silence from word edges)."""
    n = n_frames(audio)
    power = np.empty(n, np.float64)
    for first in range(0, n, BLOCK_FRAMES):
        count = min(BLOCK_FRAMES, n - first)
        fr = _frames(audio, RMS_WIN, first, count).astype(np.float64)
        power[first : first + count] = np.mean(fr * fr, axis=1)
        if progress is not None:
            progress.check()
    with np.errstate(divide="ignore"):
        db = np.maximum(10.0 * np.log10(power), DB_FLOOR)
    return FrameTracks(power=power, db=db)


def _levelled(audio: np.ndarray, tracks: FrameTracks) -> np.ndarray:
    """Audio divided by its slowly varying RMS envelope (~0.4 s), never amplifying below the silence level.

    Praat decides "silent" relative to the loudest sample of the analysed sound, so a quiet word next to a
    loud one would lose its pitch. F0 and HNR are ratios within a few pitch periods, so removing the slow gain
    changes does not alter them; it only keeps Praat's voicing decision per word independent of the others.
    """
    width = max(1, int(AGC_WINDOW_S / HOP_S))
    env_power = np.convolve(tracks.power, np.ones(width) / width, mode="same")
    floor = 10.0 ** (silence_threshold_db(tracks) / 10.0)
    gain_frames = 1.0 / np.sqrt(np.maximum(env_power, floor))
    t_frames = np.arange(tracks.n) * HOP
    gain = np.interp(np.arange(audio.shape[0]), t_frames, gain_frames)
    out = audio.astype(np.float64) * gain
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    return out / peak if peak > 0 else out


def _praat_tracks(audio: np.ndarray, tracks: FrameTracks, progress: Progress, lo: float, hi: float) -> None:
    import parselmouth

    audio = _levelled(audio, tracks)
    n = tracks.n
    f0 = np.zeros(n, np.float64)
    hnr = np.full(n, np.nan, np.float64)
    total = audio.shape[0] / SAMPLE_RATE
    t0 = 0.0
    while t0 < total:
        t1 = min(total, t0 + PRAAT_BLOCK_S)
        a = max(0.0, t0 - PRAAT_MARGIN_S)
        b = min(total, t1 + PRAAT_MARGIN_S)
        chunk = audio[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]
        if chunk.shape[0] >= int(0.1 * SAMPLE_RATE):  # Praat needs a few pitch periods
            snd = parselmouth.Sound(chunk, sampling_frequency=SAMPLE_RATE, start_time=a)
            pitch = snd.to_pitch_ac(
                time_step=HOP_S,
                pitch_floor=PITCH_FLOOR_HZ,
                pitch_ceiling=PITCH_CEILING_HZ,
                silence_threshold=PRAAT_SILENCE,
            )
            freqs = pitch.selected_array["frequency"]
            for t, v in zip(pitch.xs(), freqs, strict=True):
                if t0 <= t < t1:
                    i = tracks.index(t)
                    if 0 <= i < n:
                        f0[i] = v
            harm = snd.to_harmonicity_cc(time_step=HOP_S, minimum_pitch=PITCH_FLOOR_HZ, silence_threshold=PRAAT_SILENCE)
            for t, v in zip(harm.xs(), harm.values[0], strict=True):
                if t0 <= t < t1 and v > -199.0:  # Praat writes −200 dB where there is no periodicity
                    i = tracks.index(t)
                    if 0 <= i < n:
                        hnr[i] = v
        t0 = t1
        progress.update(lo + (hi - lo) * (t0 / total if total else 1.0))
    tracks.f0, tracks.hnr = f0, hnr


def _centroid_track(audio: np.ndarray, tracks: FrameTracks, progress: Progress, lo: float, hi: float) -> None:
    n = tracks.n
    out = np.full(n, np.nan, np.float64)
    window = np.hanning(FFT_WIN).astype(np.float32)
    freqs = np.fft.rfftfreq(FFT_WIN, 1.0 / SAMPLE_RATE)
    for first in range(0, n, BLOCK_FRAMES):
        count = min(BLOCK_FRAMES, n - first)
        mag = np.abs(np.fft.rfft(_frames(audio, FFT_WIN, first, count) * window, axis=1))
        total = mag.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            c = (mag @ freqs) / total
        c[total < 1e-6] = np.nan
        out[first : first + count] = c
        progress.update(lo + (hi - lo) * (first + count) / n)
    tracks.centroid = out


def analyze(audio: np.ndarray, tracks: FrameTracks, progress: Progress, lo: float = 0.0, hi: float = 1.0) -> None:
    """Add the F0, HNR and spectral-centroid tracks to ``tracks`` (the loudness track already exists)."""
    mid = lo + (hi - lo) * 0.8
    _praat_tracks(audio, tracks, progress, lo, mid)
    _centroid_track(audio, tracks, progress, mid, hi)


def _r(v: float | None, nd: int) -> float | None:
    if v is None or not np.isfinite(v):
        return None
    return round(float(v), nd)


def word_measures(audio: np.ndarray, tracks: FrameTracks, start: float, end: float) -> dict:
    """volume_db: RMS over the span's samples; pitch_hz: median voiced F0; harmonics_ratio: mean HNR of
    periodic frames; spectral_centroid: energy-weighted mean of frame centroids. None when not measurable."""
    if end - start < 0.02:  # zero-length word times: measure the 20 ms around them
        mid = (start + end) / 2
        start, end = mid - 0.01, mid + 0.01
    s = max(0, int(start * SAMPLE_RATE))
    e = min(audio.shape[0], max(s + 1, int(end * SAMPLE_RATE)))
    x = audio[s:e].astype(np.float64)
    ms = float(np.mean(x * x)) if x.size else 0.0
    volume = max(DB_FLOOR, 10.0 * np.log10(ms)) if ms > 0 else DB_FLOOR
    sl = tracks.span(start, end)
    pitch = None
    if tracks.f0 is not None:
        voiced = tracks.f0[sl]
        voiced = voiced[voiced > 0]
        pitch = float(np.median(voiced)) if voiced.size else None
    hnr = None
    if tracks.hnr is not None:
        h = tracks.hnr[sl]
        h = h[np.isfinite(h)]
        hnr = float(np.mean(h)) if h.size else None
    centroid = None
    if tracks.centroid is not None:
        c = tracks.centroid[sl]
        w = tracks.power[sl]
        ok = np.isfinite(c) & (w > 0)
        centroid = float(np.average(c[ok], weights=w[ok])) if ok.any() else None
    return {
        "volume_db": _r(volume, 2),
        "pitch_hz": _r(pitch, 1),
        "harmonics_ratio": _r(hnr, 2),
        "spectral_centroid": _r(centroid, 1),
    }


def volume_statistics(word_db: list[float]) -> dict:
    """File-level loudness summary over the words' volumes.

    baseline = median word volume (the speaker's normal level in this file); the spread is the robust standard
    deviation (1.4826 × median absolute deviation); whisper/loud thresholds sit two spreads below/above the
    baseline, clamped to 6–12 dB away (6 dB = half/double the amplitude): a flat recording flags almost
    nothing, a dynamic one flags its outliers, and a bimodal one (loud and quiet passages) still flags both.
    """
    v = np.asarray([x for x in word_db if x is not None], np.float64)
    if v.size == 0:
        keys = (
            "global_min_db",
            "global_max_db",
            "global_mean_db",
            "baseline_db",
            "whisper_threshold_db",
            "loud_threshold_db",
        )
        return dict.fromkeys(keys)
    baseline = float(np.median(v))
    spread = 1.4826 * float(np.median(np.abs(v - baseline)))
    margin = min(12.0, max(6.0, 2.0 * spread))
    return {
        "global_min_db": round(float(v.min()), 2),
        "global_max_db": round(float(v.max()), 2),
        "global_mean_db": round(float(v.mean()), 2),
        "baseline_db": round(baseline, 2),
        "whisper_threshold_db": round(baseline - margin, 2),
        "loud_threshold_db": round(baseline + margin, 2),
    }


def pitch_statistics(word_pitch: list[float | None]) -> dict:
    """Range and mean of the words' median F0 (word medians resist Praat's occasional octave jumps)."""
    v = np.asarray([x for x in word_pitch if x is not None], np.float64)
    if v.size == 0:
        return {"global_min_hz": None, "global_max_hz": None, "global_mean_hz": None}
    return {
        "global_min_hz": round(float(v.min()), 1),
        "global_max_hz": round(float(v.max()), 1),
        "global_mean_hz": round(float(v.mean()), 1),
    }


def silence_threshold_db(tracks: FrameTracks) -> float:
    """Level below which a frame counts as silence for trimming word edges.

    10 dB above the noise floor (10th percentile of frame levels), but never more than 40 dB under the loud
    speech level (95th percentile), so digital silence or a very quiet room does not push it into the noise.
    """
    if tracks.n == 0:
        return DB_FLOOR
    floor = float(np.percentile(tracks.db, 10))
    peak = float(np.percentile(tracks.db, 95))
    return max(floor + 10.0, peak - 40.0)


OCTAVE_RANGE = 1.8  # a word's F0 beyond this factor of its speaker's median voice is an octave error


def reject_octave_errors(
    spans: list[tuple[str | None, float, float]], measures: list[dict], tracks: FrameTracks
) -> int:
    """Re-measure ``pitch_hz`` of words far outside their speaker's range; returns how many changed.

    Praat's autocorrelation sometimes locks onto the second harmonic (or half the period) — typically in the
    creaky or breathy end of a sentence, or in noise — giving 200–577 Hz for a voice at 83–131 Hz. Each
    speaker's range is the median of all voiced frames of their words ×/÷ ``OCTAVE_RANGE``; a word outside it
    takes the median of its frames inside the range, or ``null`` when it has fewer than three such frames.
    ``spans`` are (speaker, start, end) per word, in the order of ``measures``.
    """
    if tracks.f0 is None:
        return 0
    frames: dict[str | None, list[np.ndarray]] = {}
    for (speaker, start, end), _m in zip(spans, measures, strict=True):
        f = tracks.f0[tracks.span(start, end)]
        frames.setdefault(speaker, []).append(f[f > 0])
    centre = {}
    for speaker, chunks in frames.items():
        voiced = np.concatenate(chunks) if chunks else np.zeros(0)
        if voiced.size:
            centre[speaker] = float(np.median(voiced))
    changed = 0
    for (speaker, start, end), m in zip(spans, measures, strict=True):
        pitch, mid = m.get("pitch_hz"), centre.get(speaker)
        if pitch is None or mid is None or mid / OCTAVE_RANGE <= pitch <= mid * OCTAVE_RANGE:
            continue
        f = tracks.f0[tracks.span(start, end)]
        ok = f[(f >= mid / OCTAVE_RANGE) & (f <= mid * OCTAVE_RANGE)]
        m["pitch_hz"] = _r(float(np.median(ok)), 1) if ok.size >= 3 else None
        changed += 1
    return changed
