"""Anthropic Messages API: structured output by forcing one tool call whose input schema is the answer."""

from __future__ import annotations

from typing import Any

import httpx

from assistant.prompts import TOOL_NAME, ChatPrompt
from assistant.providers.base import ModelOutput, ProviderError, post_with_retries

API_VERSION = "2023-06-01"


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, *, base_url: str, api_key: str, model: str, http_timeout: float, retries: int,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.model = model
        self.http_timeout = http_timeout
        self.retries = retries
        self.transport = transport

    def body(self, prompt: ChatPrompt) -> dict[str, Any]:
        return {
            "model": self.model, "max_tokens": prompt.max_tokens, "system": prompt.system,
            "messages": prompt.messages, "temperature": 0.2,
            "tools": [{"name": TOOL_NAME, "description": "Reply to the user and edit the caption scenario.",
                       "input_schema": prompt.schema}],
            "tool_choice": {"type": "tool", "name": TOOL_NAME},
        }

    async def complete(self, prompt: ChatPrompt, *, deadline: float) -> ModelOutput:
        headers = {"x-api-key": self.api_key, "anthropic-version": API_VERSION, "content-type": "application/json"}
        body = self.body(prompt)

        return await post_with_retries(f"{self.base_url}/v1/messages", body, headers, parse=self.parse,
                                       provider="Anthropic", label="anthropic messages",
                                       http_timeout=self.http_timeout, retries=self.retries, deadline=deadline,
                                       transport=self.transport)

    def parse(self, payload: Any) -> ModelOutput:
        if not isinstance(payload, dict) or payload.get("type") == "error":
            raise ProviderError("ASSISTANT_BAD_MODEL_OUTPUT", "Anthropic answered without a message")
        for block in payload.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "tool_use" and block.get("name") == TOOL_NAME:
                data = block.get("input")
                if isinstance(data, dict):
                    return ModelOutput(data=data, stop_reason=payload.get("stop_reason"),
                                       usage=payload.get("usage") or {}, model=str(payload.get("model") or self.model))
        text = " ".join(b.get("text", "") for b in payload.get("content") or []
                        if isinstance(b, dict) and b.get("type") == "text").strip()
        if payload.get("stop_reason") == "max_tokens":
            raise ProviderError("ASSISTANT_BAD_MODEL_OUTPUT", "the answer was cut off at max_tokens")
        # No tool call: a plain text answer is still an answer, with no edits.
        return ModelOutput(data={"reply": text, "patches": []}, stop_reason=payload.get("stop_reason"),
                           usage=payload.get("usage") or {}, model=str(payload.get("model") or self.model))
