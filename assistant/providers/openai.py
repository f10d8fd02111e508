"""OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp server, Ollama's /v1, hosted gateways).

Structured output through ``response_format``: a JSON schema where the server supports it (OpenAI, vLLM,
llama.cpp server, Ollama >= 0.5), else JSON mode (``json_object``) with the schema in the instructions.
No streaming: the editor waits for one answer.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from assistant.prompts import TOOL_NAME, ChatPrompt
from assistant.providers.base import ModelOutput, ProviderError, parse_json_object, post_with_retries


class OpenAIChatProvider:
    name = "openai"

    def __init__(self, *, base_url: str, api_key: str, model: str, http_timeout: float, retries: int,
                 response_format: str = "json_schema", transport: httpx.AsyncBaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.model = model
        self.http_timeout = http_timeout
        self.retries = retries
        self.response_format = response_format
        self.transport = transport

    def body(self, prompt: ChatPrompt) -> dict[str, Any]:
        system = prompt.system
        if self.response_format == "json_schema":
            response_format: dict[str, Any] = {"type": "json_schema", "json_schema": {
                "name": TOOL_NAME, "schema": prompt.schema, "strict": False}}
        else:
            response_format = {"type": "json_object"}
            system += "\n\nAnswer with one JSON object matching this JSON schema:\n" + json.dumps(prompt.schema)
        return {"model": self.model, "messages": [{"role": "system", "content": system}, *prompt.messages],
                "temperature": 0.2, "max_tokens": prompt.max_tokens, "stream": False,
                "response_format": response_format}

    async def complete(self, prompt: ChatPrompt, *, deadline: float) -> ModelOutput:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = self.body(prompt)

        return await post_with_retries(f"{self.base_url}/chat/completions", body, headers, parse=self.parse,
                                       provider="the model server", label="chat completions",
                                       http_timeout=self.http_timeout, retries=self.retries, deadline=deadline,
                                       transport=self.transport)

    def parse(self, payload: Any) -> ModelOutput:
        try:
            choice = payload["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ProviderError("ASSISTANT_BAD_MODEL_OUTPUT", "chat completions answer without a choice") from exc
        if message.get("refusal"):
            raise ProviderError("ASSISTANT_MODEL_REFUSED", str(message["refusal"]))
        content = message.get("content")
        if not content and message.get("tool_calls"):  # some gateways answer structured output as a tool call
            content = message["tool_calls"][0].get("function", {}).get("arguments")
        return ModelOutput(data=parse_json_object(content), stop_reason=choice.get("finish_reason"),
                           usage=payload.get("usage") or {}, model=str(payload.get("model") or self.model))
