"""Job kinds register once (ecg.jobs.JobKind) and the generic parts find them only through the registry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import make_video

from ecg.jobs import Job, JobStatus, find_job, job_kinds, kind_of
from rendering.models import RenderJob
from transcription.models import TranscriptionJob

ROOT = Path(__file__).resolve().parent.parent
APPS = ("accounts", "uploads", "transcription", "rendering", "ops", "assets", "assistant")


def test_each_job_app_registers_its_kind():
    kinds = {kind.name: kind for kind in job_kinds()}
    assert {"transcription", "render"} <= set(kinds)
    assert kinds["transcription"].model is TranscriptionJob and kinds["render"].model is RenderJob
    assert (kinds["transcription"].queue, kinds["render"].queue) == ("transcription", "render")
    assert kinds["render"].file_fields == ("output_key",) and kinds["render"].counts_toward_quota
    for kind in kinds.values():
        assert issubclass(kind.model, Job) and kind_of(kind.model) is kind


@pytest.mark.django_db
def test_find_job_looks_in_every_kind(user):
    video = make_video(user)
    transcription = TranscriptionJob.objects.create(owner=user, video=video)
    render = RenderJob.objects.create(owner=user, video=video, scenario={}, scenario_original={},
                                      status=JobStatus.COMPLETED, output_key="renders/x.mp4")
    assert find_job(transcription.pk) == (kind_of(TranscriptionJob), transcription)
    assert find_job(render.pk) == (kind_of(RenderJob), render)
    assert find_job("00000000-0000-0000-0000-000000000000") is None
    assert kind_of(RenderJob).files(RenderJob.objects.filter(video=video)) == ["renders/x.mp4"]


def test_the_foundation_names_no_app_outside_its_composition_root():
    """``ecg`` may name apps only where configuration does (settings, root URLconf); never by import or string."""
    pattern = re.compile(r"[\"'](" + "|".join(APPS) + r")\.")
    offenders = []
    for path in sorted((ROOT / "ecg").rglob("*.py")):
        if path.name in ("settings.py", "urls.py"):
            continue
        offenders += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                      if pattern.search(line)]
    assert offenders == []
