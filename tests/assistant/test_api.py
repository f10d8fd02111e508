"""POST /api/v1/chatbot end to end through HTTP, in the shapes the unchanged editor sends and reads."""

from __future__ import annotations

import json
import threading

import dramatiq
import jsonpatch
import pytest
from asgiref.sync import async_to_sync
from fake_llm import Step, anthropic_answer, openai_answer
from rest_framework.test import APIClient
from support import PASSWORD

pytestmark = [
    pytest.mark.django_db,
]

URL = "/api/v1/chatbot"
FRONTEND = "http://localhost:3000"


def turn(prompt: str, scenario: dict | None, history: list | None = None) -> dict:
    """The editor's request body (ChatBotContainer)."""
    return {"prompt": prompt, "conversation_history": history or [
        {"id": "m1", "content": "안녕하세요! 자막 편집을 도와드릴게요.", "sender": "bot",
         "timestamp": "2026-11-29T00:00:00.000Z"}], "scenario_data": scenario, "use_langchain": True}


def body_of(response) -> dict:
    """The JSON answer, whether it was streamed (a model was asked) or not."""
    if response.streaming:
        async def collect() -> bytes:
            return b"".join([chunk async for chunk in response.streaming_content])

        raw = async_to_sync(collect)()
        assert response["Content-Type"].startswith("application/json")
        return json.loads(raw)
    return response.json()


def editor_reads(body: dict) -> None:
    """What the editor does with the answer: throw on ``error``, ``completion.trim()``, apply patches."""
    assert "error" not in body
    assert isinstance(body["completion"], str) and body["completion"].strip()
    assert isinstance(body["has_scenario_edits"], bool) and isinstance(body["json_patches"], list)
    assert isinstance(body["edit_result"]["explanation"], str)
    assert {"stop_reason", "usage", "processing_time_ms"} <= set(body)


def test_not_configured_answers_plainly_in_the_prompt_language(auth_api, editor_scenario, assistant_settings):
    assistant_settings(provider="none")
    ko = auth_api.post(URL, turn("모든 자막을 노란색으로 바꿔줘", editor_scenario), format="json")
    assert ko.status_code == 200
    body = ko.json()
    editor_reads(body)
    assert body["code"] == "ASSISTANT_NOT_CONFIGURED" and body["has_scenario_edits"] is False
    assert "설정되지 않았습니다" in body["completion"]
    en = auth_api.post(URL, turn("make every loud word bounce", editor_scenario), format="json").json()
    assert en["code"] == "ASSISTANT_NOT_CONFIGURED" and "not configured" in en["completion"]


def test_auto_without_a_local_model_is_not_configured(auth_api, editor_scenario, assistant_settings):
    assistant_settings(provider="auto")  # tests run no in-process worker, so auto never picks local here
    body = auth_api.post(URL, turn("hello", editor_scenario), format="json").json()
    assert body["code"] == "ASSISTANT_NOT_CONFIGURED"


def test_openai_compatible_model_edits_the_captions(auth_api, editor_scenario, assistant_settings, fake_llm):
    assistant_settings(provider="openai", base_url=f"{fake_llm.url}/v1", model="qwen2.5-7b-instruct",
                       api_key="")
    loud = "/cues/1/root/children/2"
    fake_llm.script(Step(body=openai_answer({"reply": "큰 소리 단어를 키웠어요.", "patches": [
        {"op": "add", "path": f"{loud}/style/fontSizeRel", "value": 0.08},
        {"op": "add", "path": "/cues/0/root/children/1/pluginChain",
         "value": [{"name": "pulse", "params": {"maxScale": 1.3}}]},
        {"op": "add", "path": "/cues/0/root/children/0/pluginChain", "value": [{"name": "nope@1.0.0"}]},
    ]})))
    response = auth_api.post(URL, turn("큰 소리 단어를 크게 해줘", editor_scenario), format="json")
    assert response.status_code == 200
    body = body_of(response)
    editor_reads(body)
    assert body["has_scenario_edits"] is True and body["edit_result"]["applied"] == 2
    assert body["completion"].startswith("큰 소리 단어를 키웠어요.")
    assert "nope@1.0.0" in body["edit_result"]["explanation"]  # the refused edit is explained
    edited = jsonpatch.apply_patch(editor_scenario, body["json_patches"])
    assert edited["cues"][1]["root"]["children"][2]["style"]["fontSizeRel"] == 0.08
    assert edited["cues"][0]["root"]["children"][1]["pluginChain"][0]["name"] == "pulse@2.0.0"
    # what the model was told: the words with their loudness, the catalogue, the conversation, the language
    sent = fake_llm.requests[0]["body"]
    system = sent["messages"][0]["content"]
    assert f"{loud} | AMAZING | 2.70s-3.50s | -9.8dB | 260Hz" in system and "cwi-loud@2.0.0" in system
    assert "in Korean" in system
    assert sent["messages"][1:] == [{"role": "user", "content": "큰 소리 단어를 크게 해줘"}]


def test_anthropic_model_edits_the_captions(auth_api, editor_scenario, assistant_settings, fake_llm):
    assistant_settings(provider="anthropic", base_url=fake_llm.url, model="claude-test", api_key="k")
    fake_llm.script(Step(body=anthropic_answer({"reply": "Made the first clip yellow.", "patches": [
        {"op": "add", "path": f"/cues/0/root/children/{i}/style/color", "value": "#ffd400"} for i in range(3)]})))
    history = [{"id": "1", "content": "hi", "sender": "user", "timestamp": "t"},
               {"id": "2", "content": "Hello! How can I help?", "sender": "bot", "timestamp": "t"}]
    body = body_of(auth_api.post(URL, turn("make the first clip yellow", editor_scenario, history), format="json"))
    editor_reads(body)
    assert body["has_scenario_edits"] is True and len(body["json_patches"]) == 6  # 3 colours + 3 new style objects
    assert body["edit_result"]["explanation"] == "Made the first clip yellow."
    assert body["usage"] == {"input_tokens": 100, "output_tokens": 20} and body["stop_reason"] == "tool_use"
    sent = fake_llm.requests[0]["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]


def test_selection_compressed_scenario_round_trip(auth_api, editor_scenario, assistant_settings, fake_llm):
    assistant_settings(provider="openai", base_url=f"{fake_llm.url}/v1", model="m")
    compressed = {**editor_scenario, "cues": [editor_scenario["cues"][2]]}
    fake_llm.script(Step(body=openai_answer({"reply": "ok", "patches": [
        {"op": "add", "path": "/cues/0/root/children/0/pluginChain",
         "value": [{"name": "fadein@2.0.0", "params": {}}]}]})))
    body = body_of(auth_api.post(URL, turn("apply fadein", compressed), format="json"))
    assert body["json_patches"][0]["path"] == "/cues/0/root/children/0/pluginChain"
    assert "quiet" in fake_llm.requests[0]["body"]["messages"][0]["content"]
    assert "AMAZING" not in fake_llm.requests[0]["body"]["messages"][0]["content"]


def test_a_question_gets_an_answer_without_edits(auth_api, editor_scenario, assistant_settings, fake_llm):
    assistant_settings(provider="openai", base_url=f"{fake_llm.url}/v1", model="m")
    fake_llm.script(Step(body=openai_answer({"reply": "There are 3 clips.", "patches": []})))
    body = body_of(auth_api.post(URL, turn("how many clips are there?", editor_scenario), format="json"))
    editor_reads(body)
    assert body == {**body, "completion": "There are 3 clips.", "has_scenario_edits": False, "json_patches": []}


def test_provider_failure_is_an_error_with_a_code(auth_api, editor_scenario, assistant_settings, fake_llm):
    assistant_settings(provider="openai", base_url=f"{fake_llm.url}/v1", model="m", retries=0)
    fake_llm.script(Step(401, {"error": {"message": "invalid api key"}}))
    response = auth_api.post(URL, turn("hello", editor_scenario), format="json")
    assert response.status_code == 200  # streamed: the status was sent before the model failed
    body = body_of(response)
    assert body["error"] == "ASSISTANT_PROVIDER_ERROR" and body["status"] == 502  # the editor throws on `error`
    assert "invalid api key" not in json.dumps(body)


def test_provider_timeout_is_504(auth_api, editor_scenario, assistant_settings, fake_llm):
    assistant_settings(provider="openai", base_url=f"{fake_llm.url}/v1", model="m", retries=0, http_timeout=0.3)
    fake_llm.script(Step(body=openai_answer({"reply": "late", "patches": []}), delay=1.5))
    body = body_of(auth_api.post(URL, turn("hello", editor_scenario), format="json"))
    assert body["error"] == "ASSISTANT_TIMEOUT" and body["status"] == 504 and body["message"]


def test_authentication_is_required(api, editor_scenario, assistant_settings):
    assistant_settings(provider="none")
    response = api.post(URL, turn("hello", editor_scenario), format="json")
    assert response.status_code == 401 and response.json()["error"] == "AUTHENTICATION_REQUIRED"


def test_same_origin_cookie_works_and_a_foreign_origin_is_refused(user, editor_scenario, assistant_settings,
                                                                    settings):
    assistant_settings(provider="none")
    browser = APIClient()
    assert browser.post("/api/auth/login", {"email": user.email, "password": PASSWORD},
                        format="json").status_code == 200
    evil = browser.post(URL, turn("hello", editor_scenario), format="json", HTTP_ORIGIN="https://evil.example")
    assert evil.status_code == 403 and evil.json()["error"] == "ORIGIN_NOT_ALLOWED"
    same = browser.post(URL, turn("hello", editor_scenario), format="json", HTTP_ORIGIN=settings.PUBLIC_BASE_URL)
    assert same.status_code == 200 and same.json()["code"] == "ASSISTANT_NOT_CONFIGURED"
    dev = browser.post(URL, turn("hello", editor_scenario), format="json", HTTP_ORIGIN=FRONTEND)
    assert dev.status_code == 200


def test_body_size_limit(auth_api, editor_scenario, assistant_settings):
    assistant_settings(provider="none", max_body_bytes=2048)
    response = auth_api.post(URL, turn("hello", editor_scenario), format="json")
    assert response.status_code == 413 and response.json()["error"] == "ASSISTANT_PAYLOAD_TOO_LARGE"
    assert response.json()["details"] == {"max_bytes": 2048}


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "INVALID_JSON"),
    (json.dumps({"prompt": "", "scenario_data": {}}).encode(), 422, "VALIDATION_ERROR"),
    (json.dumps({"prompt": "hi", "scenario_data": "x"}).encode(), 422, "VALIDATION_ERROR"),
    (json.dumps({"prompt": "hi", "conversation_history": "x"}).encode(), 422, "VALIDATION_ERROR"),
    (json.dumps(["prompt"]).encode(), 422, "VALIDATION_ERROR"),
])
def test_bad_requests_get_a_clear_error(auth_api, assistant_settings, body, status, code):
    assistant_settings(provider="none")
    response = auth_api.post(URL, body, content_type="application/json")
    assert response.status_code == status and response.json()["error"] == code


def test_only_post(auth_api):
    response = auth_api.get(URL)
    assert response.status_code == 405 and response.json()["error"] == "METHOD_NOT_ALLOWED"


def test_rate_limited_per_user_and_per_ip(make_user, editor_scenario, assistant_settings, settings):
    from support import bearer_client

    assistant_settings(provider="none")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "assistant_user": "2/minute",
        "assistant_ip": "3/minute"}}
    first, second = bearer_client(make_user()), bearer_client(make_user())
    assert [first.post(URL, turn("hi", {}), format="json").status_code for _ in range(3)] == [200, 200, 429]
    blocked = first.post(URL, turn("hi", {}), format="json")
    assert blocked.json()["error"] == "RATE_LIMITED" and int(blocked["Retry-After"]) > 0
    # the second user has their own allowance, but the address they share with the first is now spent
    assert second.post(URL, turn("hi", {}), format="json").status_code == 429


def test_local_model_request_runs_on_the_worker_queue(auth_api, editor_scenario, assistant_settings, monkeypatch):
    """The web request enqueues an id on the ``assistant`` queue and awaits the worker's answer."""
    from assistant.providers import local
    from assistant.providers.base import ModelOutput

    seen: dict = {}

    def fake_complete(self, prompt):  # stands in for llama.cpp; the hand-off around it is real
        seen["thread"] = threading.current_thread().name
        seen["schema"] = prompt.schema
        return ModelOutput(data={"reply": "Done", "patches": [
            {"op": "add", "path": "/cues/2/root/children/0/style/color", "value": "#aabbcc"}]}, model="tiny.gguf")

    monkeypatch.setattr(local.LocalLlamaProvider, "complete_sync", fake_complete)
    assistant_settings(provider="local", timeout=30)
    broker = dramatiq.get_broker()
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        body = body_of(auth_api.post(URL, turn("color the quiet words", editor_scenario), format="json"))
    finally:
        worker.stop()
    editor_reads(body)
    assert body["json_patches"][-1] == {"op": "add", "path": "/cues/2/root/children/0/style/color",
                                        "value": "#aabbcc"}
    assert seen["thread"] != threading.current_thread().name
    # the local model gets the grammar-backed schema: only real word pointers, only catalogue keys
    variants = seen["schema"]["properties"]["patches"]["items"]["anyOf"]
    assert "/cues/1/root/children/2/pluginChain" in variants[0]["properties"]["path"]["enum"]
    assert "cwi-loud@2.0.0" in variants[0]["properties"]["value"]["items"]["properties"]["name"]["enum"]


def test_local_request_times_out_without_a_worker(auth_api, editor_scenario, assistant_settings):
    assistant_settings(provider="local", timeout=0.5)
    body = body_of(auth_api.post(URL, turn("hello", editor_scenario), format="json"))
    assert body["error"] == "ASSISTANT_TIMEOUT" and body["status"] == 504
