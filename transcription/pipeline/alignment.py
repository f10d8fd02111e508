"""Stage 3a — word-time clean-up shared by all engines.

faster-whisper's word times come from cross-attention (DTW) during ASR and are often stretched into the
surrounding silence (the first word of a chunk typically starts at the chunk's padded start). Captions that
light up before anyone speaks look broken, so each word's edges are pulled in to where the audio is actually
above the silence level. Words only ever shrink, so their order and monotonicity are preserved. (whisperx
additionally force-aligns with wav2vec2 in its own ``align`` before this runs.)
"""

from __future__ import annotations

import numpy as np

from .acoustics import HOP_S, FrameTracks, silence_threshold_db
from .asr import Transcript

MIN_WORD_S = 0.05


def trim_word_edges(transcript: Transcript, tracks: FrameTracks) -> Transcript:
    """Trim leading/trailing sub-threshold frames from every word (keeping ≥ 50 ms); segment bounds follow."""
    threshold = silence_threshold_db(tracks)
    loud = tracks.db >= threshold
    for seg in transcript.segments:
        for w in seg.words:
            sl = tracks.span(w.start, w.end)
            idx = np.flatnonzero(loud[sl])
            if idx.size == 0:
                continue  # nothing audible: keep the engine's times rather than invent new ones
            first = (sl.start + idx[0]) * HOP_S - HOP_S / 2
            last = (sl.start + idx[-1]) * HOP_S + HOP_S / 2
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
