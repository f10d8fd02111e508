"""No cold start: a worker loads and exercises every model before it takes jobs, and /health/ready says so."""

from __future__ import annotations

import threading

import pytest

from ecg import worker

pytestmark = pytest.mark.django_db

_gate = threading.Event()
_calls: list[str] = []


def slow_warm_up() -> dict:
    _calls.append("warm")
    assert _gate.wait(60), "test never released the warm-up"
    return {"models": 1}


def failing_warm_up() -> dict:
    raise RuntimeError("model missing")


@pytest.fixture
def embedded(monkeypatch, settings):
    """This process acts as the embedded worker's host (without a real worker thread)."""
    monkeypatch.setattr(worker, "_worker", object())
    monkeypatch.setattr(worker, "_warm_state", dict(worker._warm_state))
    monkeypatch.setattr(worker, "_start_heartbeat", lambda: None)
    _gate.clear()
    _calls.clear()
    yield settings


def test_ready_says_warming_until_the_embedded_worker_is_warm(client, embedded):
    embedded.WORKER_WARM_UP = {"transcription": f"{__name__}.slow_warm_up"}
    worker._warm_state["state"] = "warming"
    thread = threading.Thread(target=worker.warm_up, args=({"transcription"},))
    thread.start()
    try:
        response = client.get("/health/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["error"] == "NOT_READY" and "workers" in body["details"]["failing"]
        assert body["details"]["workers"]["embedded"] == "warming"
    finally:
        _gate.set()
        thread.join(60)
    response = client.get("/health/ready")
    assert response.status_code == 200
    workers = response.json()["workers"]
    assert workers["embedded"] == "warm" and workers["queues"]["transcription"]["warm"] is True
    assert _calls == ["warm"]


def test_a_failed_warm_up_is_reported_not_hidden(client, embedded):
    embedded.WORKER_WARM_UP = {"transcription": f"{__name__}.failing_warm_up"}
    state = worker.warm_up({"transcription"})
    assert state["state"] == "failed" and "model missing" in state["error"]
    body = client.get("/health/ready").json()
    assert body["details"]["workers"]["embedded"] == "failed"


def test_a_worker_of_other_queues_warms_nothing(embedded):
    embedded.WORKER_WARM_UP = {"transcription": f"{__name__}.failing_warm_up"}
    assert worker.warm_up({"render"})["state"] == "warm"


def test_real_warm_up_loads_every_configured_model_and_the_voice_encoder():
    from transcription import runner
    from transcription.pipeline import asr, speakers

    times = runner.warm_up()
    config = runner.pipeline_config()
    for language in (None, "en", "ko", "ja", "zh"):
        assert asr.engine_loaded(config, language), language
    assert "cpu" in speakers._ENCODERS
    assert {"asr:base", "asr:tiny.en", "speakers", "acoustics"} <= set(times)
