"""Stage 3a — word-time clean-up shared by all engines.

faster-whisper's word times come from cross-attention (DTW) during ASR and are often stretched into the
surrounding silence (the first word of a chunk typically starts at the chunk's padded start). Captions that
light up before anyone speaks look broken, so each word's edges are pulled in to where the audio is actually
above the silence level. Words only ever shrink, so their order and monotonicity are preserved. (whisperx
additionally force-aligns with wav2vec2 in its own ``align`` before this runs.)

The trim is noise-aware. In clean audio (the loud speech ≥ 30 dB above the floor) the silence level sits
10 dB over the floor, as before. Over noise or a music bed that level is as loud as the fading end of a
sentence, and trimming to it ended sentence-final words 70–450 ms early; there the level is the noise floor
+ 5 dB (only frames that are plainly noise are cut), and a word start is only moved when ≥ 100 ms of noise
precede the speech in it (Whisper's starts in noise are late, not early: trimming them only makes them later).
Measured on tests/fixtures/media/noisy_*.wav (docs/PERFORMANCE.md): the trim now beats untrimmed times there.
"""

from __future__ import annotations

import numpy as np

from .acoustics import HOP_S, FrameTracks, silence_threshold_db
from .asr import Transcript

MIN_WORD_S = 0.05
CLEAN_SNR_DB = 30.0  # loud speech (95th percentile) this far above the floor (10th percentile): clean audio
NOISY_MARGIN_DB = 5.0  # in noisy audio, frames less than this above the noise floor are noise
NOISY_MIN_LEAD_S = 0.1  # in noisy audio, a start moves only past at least this much leading noise


def is_noisy(tracks: FrameTracks) -> bool:
    if tracks.n == 0:
        return False
    return float(np.percentile(tracks.db, 95) - np.percentile(tracks.db, 10)) < CLEAN_SNR_DB


def trim_threshold_db(tracks: FrameTracks) -> float:
    """Level under which a frame is silence (or noise) for trimming word edges (see the module docstring)."""
    if is_noisy(tracks):
        return float(np.percentile(tracks.db, 10)) + NOISY_MARGIN_DB
    return silence_threshold_db(tracks)


def trim_word_edges(transcript: Transcript, tracks: FrameTracks) -> Transcript:
    """Trim leading/trailing sub-threshold frames from every word (keeping ≥ 50 ms); segment bounds follow."""
    threshold = trim_threshold_db(tracks)
    noisy = is_noisy(tracks)
    loud = tracks.db >= threshold
    for seg in transcript.segments:
        for w in seg.words:
            sl = tracks.span(w.start, w.end)
            idx = np.flatnonzero(loud[sl])
            if idx.size == 0:
                continue  # nothing audible: keep the engine's times rather than invent new ones
            first = (sl.start + idx[0]) * HOP_S - HOP_S / 2
            last = (sl.start + idx[-1]) * HOP_S + HOP_S / 2
            if noisy and first - w.start < NOISY_MIN_LEAD_S:
                first = w.start
            start = min(max(w.start, first), w.end)
            end = max(min(w.end, last), start)
            if end - start < MIN_WORD_S:
                pad = (MIN_WORD_S - (end - start)) / 2
                start, end = max(w.start, start - pad), min(w.end, end + pad)
            w.start, w.end = round(start, 3), round(end, 3)
        if seg.words:
            seg.start = seg.words[0].start
            seg.end = max(w.end for w in seg.words)
    return transcript
