"""Developer commands: transcribe and render local files, replay jobs of both kinds."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import av
import pytest
from django.core.management import CommandError, call_command
from testmedia import make_clip

MEDIA = Path(__file__).resolve().parent / "fixtures" / "media"
SCENARIOS = Path(__file__).resolve().parent / "fixtures" / "scenarios"


def test_transcribe_command_writes_api_shaped_json(tmp_path):
    out, err = StringIO(), StringIO()
    target = tmp_path / "result.json"
    call_command("transcribe", str(MEDIA / "speech.mp4"), "--json", str(target), stdout=out, stderr=err)
    result = json.loads(target.read_text())
    assert result["speakers"] == ["SPEAKER_00"] and result["language"] == "en"
    assert "welcome" in out.getvalue().lower()
    assert "RTF" in err.getvalue()
    with pytest.raises(CommandError, match="NO_AUDIO_STREAM"):
        call_command("transcribe", str(MEDIA / "no_audio.mp4"), stdout=StringIO(), stderr=StringIO())


def test_render_command_burns_captions(tmp_path):
    source = tmp_path / "clip.mp4"
    make_clip(source, seconds=2.0, width=320, height=180, fps=25)
    target = tmp_path / "out.webm"
    out = StringIO()
    call_command("render", str(source), str(SCENARIOS / "scenario-v2.json"), "-o", str(target), "--width", "160",
                 "--height", "90", stdout=out, stderr=StringIO())
    assert "frames captured" in out.getvalue()
    with av.open(str(target)) as container:
        assert container.streams.video[0].codec_context.width == 160
        assert container.streams.video[0].codec_context.name == "vp9"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": "2.0", "tracks": [], "cues": [{"id": "c", "track": "missing"}]}))
    with pytest.raises(CommandError, match="invalid scenario"):
        call_command("render", str(source), str(bad), stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_replay_job_both_kinds(user, tmp_path):
    from ecg.jobs import JobStatus
    from rendering.models import RenderJob
    from transcription.models import TranscriptionJob
    from uploads import storage
    from uploads.models import Video

    key = f"uploads/{user.pk}/x/speech.mp4"
    storage.save_file(key, MEDIA / "speech.mp4", "video/mp4")
    video = Video.objects.create(owner=user, key=key, original_filename="speech.mp4", content_type="video/mp4",
                                 status=Video.Status.READY, duration=4.5, width=64, height=64, frame_rate=10)
    tjob = TranscriptionJob.objects.create(owner=user, video=video, status=JobStatus.FAILED, error_code="INTERNAL")
    out = StringIO()
    call_command("replay_job", str(tjob.pk), "--sync", stdout=out)
    tjob.refresh_from_db()
    assert tjob.status == JobStatus.COMPLETED and tjob.result["segments"]
    assert TranscriptionJob.objects.count() == 1

    scenario = json.loads((SCENARIOS / "scenario-v2.json").read_text())
    rjob = RenderJob.objects.create(owner=user, video=video, scenario=scenario, scenario_original=scenario,
                                    options={"width": 64, "height": 64, "fps": 10, "quality": 80, "format": "mp4"},
                                    status=JobStatus.COMPLETED, media_duration=4.5)
    call_command("replay_job", str(rjob.pk), "--new", "--sync", stdout=out)
    assert RenderJob.objects.count() == 2
    newest = RenderJob.objects.exclude(pk=rjob.pk).get()
    assert newest.status == JobStatus.COMPLETED and storage.exists(newest.output_key)
    with pytest.raises(CommandError, match="no job"):
        call_command("replay_job", "00000000-0000-0000-0000-000000000000")
