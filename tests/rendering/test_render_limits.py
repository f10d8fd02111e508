"""Render create refuses oversized sources and oversized scenarios up front (issue #11 items 6 and 14).

Old code: an 8K (or 16000x16000) "ready" video was accepted, used quota and failed later; a 20,000-cue
scenario on a 4.5 s clip was accepted and tied up a render worker.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.utils import timezone

from rendering.models import RenderJob
from rendering.pipeline import validate_scenario
from rendering.pipeline.errors import ScenarioInvalid
from rendering.pipeline.scenario import MAX_CUES, MAX_DEPTH, MAX_TEXT_LENGTH
from uploads import storage
from uploads.models import Video

pytestmark = pytest.mark.django_db
SAMPLE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "scenarios" / "scenario-v2.json").read_text())


def ready_video(user, *, width: int, height: int, duration: float) -> Video:
    """A row as an older probe left it: ready, with its facts recorded (the probe is not run again)."""
    key = storage.new_upload_key(user.pk, "clip.mp4")
    path = storage.local_path(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\0" * 100)
    return Video.objects.create(owner=user, key=key, original_filename="clip.mp4", content_type="video/mp4",
                                status=Video.Status.READY, width=width, height=height, duration=duration,
                                frame_rate=30.0, probed_at=timezone.now(), uploaded_at=timezone.now(), size=100)


def create(client, key: str, scenario: dict | None = None):
    return client.post("/api/render/create", {"fileKey": key, "scenario": scenario or SAMPLE}, format="json")


def problems(response) -> dict[str, dict]:
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert detail["code"] == "RENDER_INVALID_INPUT"
    return {p["code"]: p for p in detail["details"]["problems"]}


@pytest.mark.parametrize(("width", "height", "duration", "code"), [
    (7680, 4320, 10.0, "source_too_large"),
    (16000, 16000, 10.0, "source_too_large"),
    (1920, 1080, 5 * 3600.0, "source_too_long"),
])
def test_oversized_source_is_refused_before_quota(auth_api, user, settings, width, height, duration, code):
    settings.DEFAULT_DAILY_RENDERS = 0  # the quota is used up: the source problem must still come first
    video = ready_video(user, width=width, height=height, duration=duration)
    found = problems(create(auth_api, video.key))
    assert found[code]["path"] == "fileKey"
    assert RenderJob.objects.count() == 0


def test_source_within_limits_reaches_the_quota_check(auth_api, user, settings):
    settings.DEFAULT_DAILY_RENDERS = 0
    video = ready_video(user, width=2160, height=3840, duration=60.0)  # portrait 4K is within the limits
    response = create(auth_api, video.key)
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "RENDER_QUOTA_DAILY_EXCEEDED"


def heavy(cues: int) -> dict:
    data = copy.deepcopy(SAMPLE)
    data["cues"] = [{"id": f"c{i}", "track": "caption",
                     "root": {"id": f"g{i}", "eType": "group", "displayTime": [(i % 45) / 10, (i % 45) / 10 + 0.5],
                              "children": [{"id": f"t{i}", "eType": "text", "text": f"word {i}"}]}}
                    for i in range(cues)]
    return data


def test_scenario_too_dense_for_the_source(auth_api, user):
    """The report's case, scaled: far more cues than a 4.5 s clip can show."""
    video = ready_video(user, width=640, height=360, duration=4.5)
    found = problems(create(auth_api, video.key, heavy(600)))
    assert found["too_dense"]["path"] == "scenario.cues"
    assert RenderJob.objects.count() == 0
    assert create(auth_api, video.key, heavy(100)).status_code == 200  # a realistic amount is fine


def test_scenario_text_and_nesting_limits(auth_api, user):
    video = ready_video(user, width=640, height=360, duration=60.0)
    data = copy.deepcopy(SAMPLE)
    data["cues"][0]["root"]["children"][0]["text"] = "x" * (MAX_TEXT_LENGTH + 1)
    node = data["cues"][1]["root"]
    for depth in range(MAX_DEPTH + 2):
        child = {"id": f"deep{depth}", "eType": "group", "children": []}
        node.setdefault("children", []).append(child)
        node = child
    found = problems(create(auth_api, video.key, data))
    assert found["text_too_long"]["path"].startswith("scenario.cues[0].root.children[0].text")
    assert "too_deep" in found


def test_too_many_cues_is_refused_without_checking_each():
    with pytest.raises(ScenarioInvalid) as info:
        validate_scenario(heavy(MAX_CUES + 1))
    assert [p["code"] for p in info.value.problems] == ["too_many_cues"]
