"""Stage 6 — assemble the transcript exactly in the shape of API.md section 2.1 (the editor reads it as is)."""

from __future__ import annotations

from .asr import Segment, Transcript
from .config import PipelineConfig


def _r3(v: float) -> float:
    return float(round(float(v), 3))


def _mean(values: list[float], weights: list[float] | None = None) -> float | None:
    pairs = [(v, w) for v, w in zip(values, weights or [1.0] * len(values), strict=True) if v is not None]
    if not pairs:
        return None
    total = sum(max(float(w), 1e-6) for _, w in pairs)
    return float(sum(float(v) * max(float(w), 1e-6) for v, w in pairs) / total)


def segment_dict(i: int, seg: Segment, measures: list[dict], emotion: dict | None) -> dict:
    words = []
    for w, m in zip(seg.words, measures, strict=True):
        words.append(
            {
                "word": w.text.strip(),
                "start": _r3(w.start),
                "end": _r3(w.end),
                "confidence": None if w.probability is None else round(float(w.probability), 3),
                "speaker_id": w.speaker,
                **m,
            }
        )
    durations = [max(w.end - w.start, 0.0) for w in seg.words]
    confidence = _mean([w.probability for w in seg.words])
    speaker_conf = _mean([w.speaker_confidence for w in seg.words], durations)
    start, end = _r3(seg.start), _r3(seg.end)
    return {
        "id": i,
        "start": start,
        "end": end,
        "start_time": start,
        "end_time": end,
        "duration": _r3(end - start),
        "text": seg.text,
        "confidence": None if confidence is None else round(confidence, 3),
        "speaker": {
            "speaker_id": seg.words[0].speaker if seg.words else None,
            "confidence": None if speaker_conf is None else round(speaker_conf, 3),
            "gender": None,
            "age_group": None,
        },
        "emotion": emotion,
        "words": words,
    }


def build_result(
    transcript: Transcript,
    *,
    measures: list[list[dict]],
    emotions: list[dict | None],
    volume_statistics: dict,
    pitch_statistics: dict,
    duration: float,
    language_requested: str,
    model_name: str,
    engine: str,
    config: PipelineConfig,
    processing_time: float,
) -> dict:
    rows = zip(transcript.segments, measures, emotions, strict=True)
    segments = [segment_dict(i, s, m, e) for i, (s, m, e) in enumerate(rows)]
    speakers: list[str] = []
    details: dict[str, dict] = {}
    for seg in segments:
        sid = seg["speaker"]["speaker_id"]
        if sid is None:
            continue
        if sid not in details:
            speakers.append(sid)
            details[sid] = {"total_duration": 0.0, "segment_count": 0, "_conf": []}
        details[sid]["total_duration"] += seg["duration"]
        details[sid]["segment_count"] += 1
        if seg["speaker"]["confidence"] is not None:
            details[sid]["_conf"].append(seg["speaker"]["confidence"])
    for d in details.values():
        conf = d.pop("_conf")
        d["total_duration"] = _r3(d["total_duration"])
        d["avg_confidence"] = round(sum(conf) / len(conf), 3) if conf else None
    return {
        "segments": segments,
        "speakers": speakers,
        "speaker_details": details,
        "language": transcript.language,
        "metadata": {
            "duration": _r3(duration),
            "language": transcript.language,
            "language_requested": language_requested,
            "model": model_name,
            "engine": engine,
            "device": config.device,
            "processing_time": round(processing_time, 2),
            "total_segments": len(segments),
            "unique_speakers": len(speakers),
            "emotion_model": config.emotion_model or None,
        },
        "volume_statistics": volume_statistics,
        "pitch_statistics": pitch_statistics,
    }
