"""request-process refuses, at request time, a language no configured model can transcribe (API.md 2), with
a localized ``message`` the editor shows; the web tier decides that without importing an ML engine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from transcription.models import TranscriptionJob

pytestmark = pytest.mark.django_db
MEDIA = Path(__file__).resolve().parents[1] / "fixtures" / "media"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def key(auth_api) -> str:
    body = auth_api.post("/api/upload-video/generate-url", {"filename": "ko.wav", "content_type": "audio/wav"},
                         format="json").json()
    assert auth_api.generic("PUT", urlsplit(body["upload_url"]).path, (MEDIA / "ko.wav").read_bytes(),
                            content_type="audio/wav").status_code == 200
    return body["fileKey"]


def request(client, key: str, language: str, **headers):
    return client.post("/api/upload-video/request-process", {"fileKey": key, "language": language}, format="json",
                       **headers)


@pytest.mark.parametrize("language", ["en", "ko", "ja", "zh", "auto"])
def test_every_editor_language_is_accepted_with_the_default_models(auth_api, key, language):
    response = request(auth_api, key, language)
    assert response.status_code == 200, response.json()
    assert TranscriptionJob.objects.get(pk=response.json()["job_id"]).language == language


def test_language_no_model_can_do_is_refused_before_a_job_exists(auth_api, key, settings):
    settings.ASR_MODEL = "tiny.en"  # an English-only deployment
    response = request(auth_api, key, "ko")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "LANGUAGE_UNSUPPORTED"
    assert "ko" in body["message"] and "설치된 음성 인식 모델" in body["message"]  # Korean by default
    assert body["details"]["supported"] == ["auto", "en"]
    english = request(auth_api, key, "ko", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["message"].startswith("No installed speech model can transcribe this language (ko)")
    assert not TranscriptionJob.objects.exists()
    assert request(auth_api, key, "en").status_code == 200


def test_unknown_language_code_is_refused_with_the_available_ones(auth_api, key):
    response = request(auth_api, key, "xx", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "LANGUAGE_UNSUPPORTED"
    assert "auto, en, ko, ja, zh" in body["message"]


def test_web_tier_imports_no_ml_engine():
    code = (
        "import django, os, sys, json; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'ecg.settings'); "
        "django.setup(); import ecg.urls, transcription.services, transcription.views, ops.health; "
        "from transcription import services; services.supported_languages(); "
        "print(json.dumps(sorted(m for m in ('torch', 'faster_whisper', 'ctranslate2', 'resemblyzer', 'budoux', "
        "'parselmouth', 'transformers') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "ECG_INPROCESS_WORKER": "false"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
