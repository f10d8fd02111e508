"""Stage 3b — who spoke each word: offline voice-embedding clustering (or pyannote through whisperx).

Offline method: words are grouped into short "speech units" (split at pauses and capped at a few seconds, so
one unit rarely holds two voices); each unit is embedded with Resemblyzer's GE2E voice encoder (weights ship
inside the PyPI package, CPU-fast); units are clustered agglomeratively (average linkage on cosine distance)
and clusters closer than ``speaker_threshold`` cosine similarity merge. Optional min/max speaker hints
re-cut the same dendrogram. Every word gets its unit's speaker; segments are then split wherever the speaker
changes, so a segment never mixes voices.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from .asr import Segment, Transcript, Word, package_dir
from .audio import SAMPLE_RATE
from .progress import Progress

logger = logging.getLogger(__name__)

UNIT_GAP_S = 0.3  # a pause this long may be a turn change: start a new unit
UNIT_MAX_S = 3.0  # long units risk spanning a turn change without a pause
RELIABLE_UNIT_S = 1.0  # shorter units embed noisily: they are assigned to clusters, not used to form them
MIN_SPEAKER_S = 1.5  # a "speaker" with less total speech than this is merged into its nearest neighbour
# Noise pulls the embeddings of one voice apart (same-voice similarity 0.64-0.88 at 10 dB SNR pink noise vs
# 0.66-0.83 clean) while two voices stay far apart (0.27-0.51 in the same noise): below CLEAN_SNR_DB of
# loud-speech-to-floor range the merge threshold is lowered, by up to NOISE_THRESHOLD_DROP at 15 dB or less.
CLEAN_SNR_DB = 30.0
NOISE_THRESHOLD_DROP = 0.15
EMBED_BATCH = 32

_ENCODERS: dict[str, object] = {}
_LOCK = threading.Lock()


@dataclass
class Unit:
    words: list[Word] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


def voice_encoder(device: str = "cpu"):
    """The process-wide Resemblyzer encoder (weights located on disk, not fetched)."""
    with _LOCK:
        enc = _ENCODERS.get(device)
        if enc is None:
            pkg = package_dir("resemblyzer")
            if pkg is None or not (pkg / "pretrained.pt").is_file():
                raise RuntimeError("resemblyzer (with its bundled pretrained.pt) is not installed")
            from resemblyzer import VoiceEncoder

            enc = VoiceEncoder(
                device="cuda" if device.startswith("cuda") else "cpu",
                verbose=False,
                weights_fpath=pkg / "pretrained.pt",
            )
            # The first mel spectrogram imports librosa and compiles its numba kernels (seconds, once per
            # process): pay that at load time, not in the middle of the first job.
            from resemblyzer import audio as r_audio

            r_audio.wav_to_mel_spectrogram(np.zeros(SAMPLE_RATE, np.float32))
            _ENCODERS[device] = enc
            logger.info("loaded Resemblyzer voice encoder on %s", device)
        return enc


def warm_up(device: str = "cpu") -> None:
    """Load the encoder and embed two seconds of tone once: torch's first forward pass allocates and selects
    its kernels, which otherwise lands in the first job."""
    import torch

    enc = voice_encoder(device)
    from resemblyzer import audio as r_audio

    tone = (0.1 * np.sin(2 * np.pi * 150 * np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE)).astype(np.float32)
    mel = r_audio.wav_to_mel_spectrogram(tone)[:160]
    with torch.no_grad():
        enc(torch.from_numpy(np.stack([mel])).to(enc.device))


def build_units(words: list[Word]) -> list[Unit]:
    units: list[Unit] = []
    cur = Unit()
    for w in words:
        if cur.words and (w.start - cur.end >= UNIT_GAP_S or w.end - cur.start > UNIT_MAX_S):
            units.append(cur)
            cur = Unit()
        cur.words.append(w)
    if cur.words:
        units.append(cur)
    return units


def embed_units(audio: np.ndarray, units: list[Unit], device: str, progress: Progress) -> np.ndarray:
    """One L2-normalised 256-d embedding per unit (mean of Resemblyzer's 1.6 s partial embeddings)."""
    import torch
    from resemblyzer import audio as r_audio

    enc = voice_encoder(device)
    mels: list[np.ndarray] = []
    owner: list[int] = []
    for k, u in enumerate(units):
        s = max(0, int((u.start - 0.05) * SAMPLE_RATE))
        e = min(audio.shape[0], int((u.end + 0.05) * SAMPLE_RATE))
        wav = audio[s:e].astype(np.float32)
        # Level-normalise so loudness differences are not mistaken for a different voice.
        wav = r_audio.normalize_volume(wav, -30, increase_only=False) if np.any(wav) else wav
        wav_slices, mel_slices = enc.compute_partial_slices(len(wav), rate=1.3, min_coverage=0.75)
        if wav_slices[-1].stop >= len(wav):
            wav = np.pad(wav, (0, wav_slices[-1].stop - len(wav)))
        mel = r_audio.wav_to_mel_spectrogram(wav)
        for sl in mel_slices:
            mels.append(mel[sl])
            owner.append(k)
        progress.update(0.5 * (k + 1) / len(units))
    partials = []
    for i in range(0, len(mels), EMBED_BATCH):
        batch = torch.from_numpy(np.stack(mels[i : i + EMBED_BATCH])).to(enc.device)
        with torch.no_grad():
            partials.append(enc(batch).cpu().numpy())
        progress.update(0.5 + 0.4 * min(1.0, (i + EMBED_BATCH) / len(mels)))
    part = np.concatenate(partials)
    own = np.asarray(owner)
    emb = np.stack([part[own == k].mean(axis=0) for k in range(len(units))])
    return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)


def cluster(
    emb: np.ndarray,
    durations: np.ndarray,
    threshold: float,
    min_speakers: int | None,
    max_speakers: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (label per unit, similarity of each unit to its speaker's centroid)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    n = emb.shape[0]
    reliable = np.flatnonzero(durations >= RELIABLE_UNIT_S)
    if reliable.size < 2:
        reliable = np.arange(n)
    if reliable.size == 1:
        labels_r = np.array([1])
    else:
        z = linkage(emb[reliable], method="average", metric="cosine")
        labels_r = fcluster(z, t=1.0 - threshold, criterion="distance")
        k = len(set(labels_r.tolist()))
        lo = max(1, min_speakers or 1)
        hi = max(lo, max_speakers) if max_speakers else reliable.size
        if k < lo or k > hi:
            labels_r = fcluster(z, t=min(max(k, lo), hi, reliable.size), criterion="maxclust")

    def centroids(labels: np.ndarray, idx: np.ndarray) -> dict[int, np.ndarray]:
        out = {}
        for lab in sorted(set(labels.tolist())):
            members = idx[labels == lab]
            c = np.average(emb[members], axis=0, weights=np.maximum(durations[members], 1e-3))
            out[lab] = c / max(np.linalg.norm(c), 1e-9)
        return out

    cents = centroids(labels_r, reliable)
    # Dissolve "speakers" with too little speech (a cough, a cross-talk fragment), unless the caller asked
    # for at least that many speakers.
    while len(cents) > max(1, min_speakers or 1):
        totals = {lab: float(durations[reliable[labels_r == lab]].sum()) for lab in cents}
        small = min(totals, key=totals.get)
        if totals[small] >= MIN_SPEAKER_S:
            break
        others = {lab: c for lab, c in cents.items() if lab != small}
        members = reliable[labels_r == small]
        best = max(others, key=lambda lab: float(emb[members].mean(axis=0) @ others[lab]))
        labels_r = np.where(labels_r == small, best, labels_r)
        cents = centroids(labels_r, reliable)

    keys = list(cents)
    mat = np.stack([cents[k] for k in keys])
    sims = emb @ mat.T
    labels = np.asarray([keys[i] for i in sims.argmax(axis=1)])
    # Reliable units keep the cluster they formed; short ones take the nearest centroid.
    labels[reliable] = labels_r
    conf = np.asarray([sims[i, keys.index(labels[i])] for i in range(n)])
    return labels, np.clip(conf, 0.0, 1.0)


def split_by_speaker(transcript: Transcript) -> Transcript:
    """Split every segment at speaker changes (API: a segment never mixes speakers)."""
    out: list[Segment] = []
    for seg in transcript.segments:
        run: list[Word] = []
        for w in seg.words:
            if run and w.speaker != run[-1].speaker:
                out.append(Segment(run[0].start, max(x.end for x in run), run))
                run = []
            run.append(w)
        if run:
            out.append(Segment(run[0].start, max(x.end for x in run), run))
    for s in out:  # the first word of a split-off segment may carry no leading space; text is stripped anyway
        s.words[0].text = s.words[0].text.lstrip() if s.words else ""
    transcript.segments = out
    return transcript


def noise_adjusted_threshold(threshold: float, db: np.ndarray | None) -> float:
    """The merge threshold for this file: ``threshold`` in clean audio, lower in noise (see CLEAN_SNR_DB)."""
    if db is None or db.size == 0:
        return threshold
    snr = float(np.percentile(db, 95) - np.percentile(db, 10))
    if snr >= CLEAN_SNR_DB:
        return threshold
    return threshold - NOISE_THRESHOLD_DROP * min(1.0, (CLEAN_SNR_DB - snr) / 15.0)


def assign_speakers(
    audio: np.ndarray,
    transcript: Transcript,
    *,
    threshold: float,
    device: str,
    min_speakers: int | None,
    max_speakers: int | None,
    progress: Progress,
    frame_db: np.ndarray | None = None,
) -> Transcript:
    """Label every word with SPEAKER_NN (numbered by first appearance) using the offline method.

    ``frame_db`` (the 10 ms loudness track) lets the merge threshold follow the file's noise level."""
    words = [w for s in transcript.segments for w in s.words]
    if not words:
        return transcript
    adjusted = noise_adjusted_threshold(threshold, frame_db)
    if adjusted != threshold:
        logger.info("noisy audio: speaker merge threshold %.2f -> %.2f", threshold, adjusted)
        threshold = adjusted
    units = build_units(words)
    emb = embed_units(audio, units, device, progress)
    durations = np.asarray([u.duration for u in units])
    labels, conf = cluster(emb, durations, threshold, min_speakers, max_speakers)
    names: dict[int, str] = {}
    for u, lab, c in zip(units, labels.tolist(), conf.tolist(), strict=True):
        name = names.setdefault(lab, f"SPEAKER_{len(names):02d}")
        for w in u.words:
            w.speaker = name
            w.speaker_confidence = round(float(c), 3)
    logger.info("offline diarization: %d unit(s) -> %d speaker(s)", len(units), len(names))
    progress.update(1.0)
    transcript.speakers_assigned = True
    return transcript


def rename_by_appearance(transcript: Transcript) -> None:
    """Engine labels (e.g. pyannote's) renamed SPEAKER_00, SPEAKER_01, ... in order of first appearance."""
    names: dict[str | None, str] = {}
    for s in transcript.segments:
        for w in s.words:
            w.speaker = names.setdefault(w.speaker, f"SPEAKER_{len(names):02d}")
