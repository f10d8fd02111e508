"""The provider adapters against a local server speaking each API: structured output, errors, retries."""

from __future__ import annotations

import asyncio
import time

import pytest
from fake_llm import Step, anthropic_answer, openai_answer

from assistant.prompts import OUTPUT_SCHEMA, TOOL_NAME, ChatPrompt
from assistant.providers.anthropic import AnthropicProvider
from assistant.providers.base import ProviderError
from assistant.providers.openai import OpenAIChatProvider

PROMPT = ChatPrompt(system="rules", messages=[{"role": "user", "content": "make it yellow"}], max_tokens=256)
EDIT = {"reply": "Done.", "patches": [{"op": "add", "path": "/cues/0/root/children/0/style/color",
                                       "value": "#ffff00"}]}


def run(coro):
    return asyncio.run(coro)


def openai(server, **kw):
    return OpenAIChatProvider(base_url=f"{server.url}/v1", api_key=kw.pop("api_key", "sk-test"), model="m1",
                              http_timeout=kw.pop("http_timeout", 5), retries=kw.pop("retries", 2), **kw)


def anthropic(server, **kw):
    return AnthropicProvider(base_url=server.url, api_key="ak-test", model="claude-x",
                             http_timeout=kw.pop("http_timeout", 5), retries=kw.pop("retries", 2), **kw)


def test_openai_structured_output_request_and_answer(fake_llm):
    fake_llm.script(Step(body=openai_answer(EDIT)))
    out = run(openai(fake_llm).complete(PROMPT, deadline=time.monotonic() + 10))
    assert out.data == EDIT and out.stop_reason == "stop" and out.usage["total_tokens"] == 120
    (req,) = fake_llm.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == "Bearer sk-test"
    body = req["body"]
    assert body["model"] == "m1" and body["stream"] is False
    assert body["messages"][0] == {"role": "system", "content": "rules"}
    assert body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": TOOL_NAME, "schema": OUTPUT_SCHEMA, "strict": False}}


def test_openai_json_mode_for_servers_without_json_schema(fake_llm):
    fake_llm.script(Step(body=openai_answer(EDIT)))
    run(openai(fake_llm, api_key="", response_format="json_object").complete(PROMPT, deadline=time.monotonic() + 10))
    (req,) = fake_llm.requests
    assert req["body"]["response_format"] == {"type": "json_object"}
    assert "JSON schema" in req["body"]["messages"][0]["content"]
    assert "Authorization" not in req["headers"]  # local servers (llama.cpp, Ollama) need no key


def test_openai_retries_transient_errors_then_succeeds(fake_llm):
    fake_llm.script(Step(503, {"error": {"message": "overloaded"}}),
                    Step(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "0"}),
                    Step(body=openai_answer(EDIT)))
    out = run(openai(fake_llm).complete(PROMPT, deadline=time.monotonic() + 30))
    assert out.data == EDIT and len(fake_llm.requests) == 3


def test_openai_does_not_retry_client_errors(fake_llm):
    fake_llm.script(Step(401, {"error": {"message": "bad key", "type": "invalid_request_error"}}))
    with pytest.raises(ProviderError) as caught:
        run(openai(fake_llm).complete(PROMPT, deadline=time.monotonic() + 30))
    assert caught.value.status == 401 and not caught.value.transient and "bad key" in caught.value.message
    assert len(fake_llm.requests) == 1


def test_openai_gives_up_after_the_retry_budget(fake_llm):
    fake_llm.script(*[Step(502, {"error": {"message": "bad gateway"}}) for _ in range(5)])
    with pytest.raises(ProviderError) as caught:
        run(openai(fake_llm, retries=1).complete(PROMPT, deadline=time.monotonic() + 30))
    assert caught.value.status == 502 and len(fake_llm.requests) == 2


def test_openai_timeout_is_retried_and_reported(fake_llm):
    fake_llm.script(Step(body=openai_answer(EDIT), delay=1.5), Step(body=openai_answer(EDIT), delay=1.5))
    with pytest.raises(ProviderError) as caught:
        run(openai(fake_llm, http_timeout=0.3, retries=1).complete(PROMPT, deadline=time.monotonic() + 30))
    assert caught.value.code == "ASSISTANT_TIMEOUT" and len(fake_llm.requests) == 2


def test_openai_non_json_content_is_a_bad_output(fake_llm):
    answer = openai_answer({})
    answer["choices"][0]["message"]["content"] = "Sure! I made it yellow."
    fake_llm.script(Step(body=answer))
    with pytest.raises(ProviderError) as caught:
        run(openai(fake_llm).complete(PROMPT, deadline=time.monotonic() + 10))
    assert caught.value.code == "ASSISTANT_BAD_MODEL_OUTPUT" and len(fake_llm.requests) == 1


def test_anthropic_forces_the_tool_and_reads_its_input(fake_llm):
    fake_llm.script(Step(body=anthropic_answer(EDIT)))
    out = run(anthropic(fake_llm).complete(PROMPT, deadline=time.monotonic() + 10))
    assert out.data == EDIT and out.stop_reason == "tool_use" and out.usage == {"input_tokens": 100,
                                                                                 "output_tokens": 20}
    (req,) = fake_llm.requests
    assert req["path"] == "/v1/messages"
    assert req["headers"]["x-api-key"] == "ak-test" and req["headers"]["anthropic-version"] == "2023-06-01"
    body = req["body"]
    assert body["system"] == "rules" and body["messages"] == PROMPT.messages and body["max_tokens"] == 256
    assert body["tools"][0]["name"] == TOOL_NAME and body["tools"][0]["input_schema"] == OUTPUT_SCHEMA
    assert body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}


def test_anthropic_overloaded_529_is_retried(fake_llm):
    fake_llm.script(Step(529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
                    Step(body=anthropic_answer(EDIT)))
    out = run(anthropic(fake_llm).complete(PROMPT, deadline=time.monotonic() + 30))
    assert out.data == EDIT and len(fake_llm.requests) == 2


def test_anthropic_invalid_request_is_not_retried(fake_llm):
    fake_llm.script(Step(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                          "message": "max_tokens: too large"}}))
    with pytest.raises(ProviderError) as caught:
        run(anthropic(fake_llm).complete(PROMPT, deadline=time.monotonic() + 30))
    assert "max_tokens" in caught.value.message and len(fake_llm.requests) == 1


def test_anthropic_text_only_answer_means_no_edits(fake_llm):
    fake_llm.script(Step(body={"type": "message", "model": "claude-x", "stop_reason": "end_turn",
                               "content": [{"type": "text", "text": "Which clip do you mean?"}], "usage": {}}))
    out = run(anthropic(fake_llm).complete(PROMPT, deadline=time.monotonic() + 10))
    assert out.data == {"reply": "Which clip do you mean?", "patches": []}


def test_unreachable_server_is_transient_and_reported(fake_llm):
    provider = OpenAIChatProvider(base_url="http://127.0.0.1:9/v1", api_key="", model="m", http_timeout=1,
                                  retries=1)
    with pytest.raises(ProviderError) as caught:
        run(provider.complete(PROMPT, deadline=time.monotonic() + 10))
    assert caught.value.code == "ASSISTANT_PROVIDER_UNREACHABLE" and caught.value.transient
