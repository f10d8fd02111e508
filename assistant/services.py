"""The assistant's flow: ask the configured model for edits, keep the safe ones, answer in the editor's shape.

Remote providers (OpenAI-compatible, Anthropic) are called from the request itself with an async HTTP
client: the request waits on the network, not on a thread. The local model runs on the worker tier: the
request enqueues an id and awaits the worker's answer (``assistant.results``) up to the deadline. Prompt
building and patch validation are CPU work on the request's data and run off the event loop.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from asgiref.sync import sync_to_async

from assistant import config as assistant_config
from assistant import results
from assistant.catalogue import Catalogue
from assistant.context import language_of
from assistant.patches import EditResult, apply_edits
from assistant.prompts import ChatPrompt, build_prompt, constrained_schema
from assistant.providers.base import ModelOutput, ProviderError
from ecg.exceptions import ApplicationError

logger = logging.getLogger(__name__)

# Language follows the prompt (not the browser's Accept-Language): a Korean question gets a Korean answer.
MESSAGES: dict[str, dict[str, str]] = {
    "not_configured": {
        "ko": "AI 자막 도우미가 아직 설정되지 않았습니다. 관리자가 언어 모델을 연결하면 사용할 수 있습니다.",
        "en": "The caption assistant is not configured yet. It will work once an administrator connects a "
              "language model.",
    },
    "applied": {"ko": "요청하신 변경을 적용했습니다.", "en": "I applied the requested change."},
    "no_change": {"ko": "변경할 내용이 없습니다.", "en": "Nothing needed to change."},
    "refused": {
        "ko": "다음 변경은 적용하지 못했습니다: {reasons}",
        "en": "I could not apply some changes: {reasons}",
    },
    "none_applied": {
        "ko": "요청하신 변경을 안전하게 적용할 수 없었습니다. 다른 표현으로 다시 요청해 주세요.",
        "en": "I could not apply the requested change safely. Please try rephrasing it.",
    },
}


class AssistantError(ApplicationError):
    status = 502
    code = "ASSISTANT_PROVIDER_ERROR"


def message(key: str, language: str, **kwargs: Any) -> str:
    return MESSAGES[key][language if language in ("ko", "en") else "en"].format(**kwargs)


def _provider(cfg: assistant_config.AssistantConfig) -> Any:
    if cfg.provider == "openai":
        from assistant.providers.openai import OpenAIChatProvider

        return OpenAIChatProvider(base_url=cfg.base_url, api_key=cfg.api_key, model=cfg.model,
                                  http_timeout=cfg.http_timeout, retries=cfg.retries,
                                  response_format=cfg.response_format)
    if cfg.provider == "anthropic":
        from assistant.providers.anthropic import AnthropicProvider

        return AnthropicProvider(base_url=cfg.base_url, api_key=cfg.api_key, model=cfg.model,
                                 http_timeout=cfg.http_timeout, retries=cfg.retries)
    raise ValueError(cfg.provider)


def _prepare(*, prompt: str, history: list, scenario: dict, language: str,
             cfg: assistant_config.AssistantConfig, catalogue: Catalogue) -> ChatPrompt:
    local = cfg.provider == "local"
    max_words = cfg.local_max_words if local else cfg.max_words
    chat = build_prompt(prompt=prompt, history=history, scenario=scenario, language=language,
                        max_words=max_words, max_tokens=min(cfg.max_tokens, 768) if local else cfg.max_tokens,
                        catalogue=catalogue)
    if local:
        chat.schema = constrained_schema(scenario, max_words=max_words, catalogue=catalogue)
    return chat


async def _ask_local(chat: ChatPrompt, cfg: assistant_config.AssistantConfig, deadline: float) -> ModelOutput:
    from assistant.actors import generate_reply

    request_id = uuid.uuid4().hex
    remaining = deadline - time.monotonic()
    payload = {"system": chat.system, "messages": chat.messages, "schema": chat.schema,
               "max_tokens": chat.max_tokens, "expires_at": time.time() + remaining}
    await sync_to_async(results.put_request, thread_sensitive=False)(request_id, payload, remaining)
    await sync_to_async(generate_reply.send, thread_sensitive=False)(request_id)
    answer = await results.wait_result(request_id, deadline - time.monotonic())
    if answer is None:
        logger.warning("assistant: local request %s timed out after %.0fs", request_id, cfg.timeout)
        raise ProviderError("ASSISTANT_TIMEOUT", "the local model did not answer in time", transient=True)
    if not answer.get("ok"):
        raise ProviderError(str(answer.get("code") or "ASSISTANT_PROVIDER_ERROR"), str(answer.get("message")))
    return ModelOutput(data=answer["data"], stop_reason=answer.get("stop_reason"), usage=answer.get("usage") or {},
                       model=str(answer.get("model") or ""))


def run_local_request(request_id: str) -> None:
    """Worker side: run the waiting prompt through the local model and leave the answer for the request."""
    from assistant.providers.local import LocalLlamaProvider

    payload = results.take_request(request_id)
    if payload is None:
        logger.info("assistant: request %s is gone (answered, expired or redelivered)", request_id)
        return
    if payload.get("expires_at", 0) < time.time():
        logger.info("assistant: request %s expired before a worker took it", request_id)
        return
    cfg = assistant_config.load()
    provider = LocalLlamaProvider(model=cfg.model, n_ctx=cfg.local_ctx, n_threads=cfg.local_threads)
    chat = ChatPrompt(system=payload["system"], messages=payload["messages"], schema=payload["schema"],
                      max_tokens=int(payload.get("max_tokens") or 768))
    started = time.monotonic()
    try:
        out = provider.complete_sync(chat)
    except ProviderError as exc:
        logger.warning("assistant: request %s failed: %s", request_id, exc)
        results.put_result(request_id, {"ok": False, "code": exc.code, "message": exc.message})
        return
    except Exception:
        logger.exception("assistant: request %s crashed", request_id)
        results.put_result(request_id, {"ok": False, "code": "ASSISTANT_PROVIDER_ERROR",
                                        "message": "local inference failed"})
        return
    logger.info("assistant: request %s answered by %s in %.1fs (%s)", request_id, out.model,
                time.monotonic() - started, out.usage)
    results.put_result(request_id, {"ok": True, "data": out.data, "stop_reason": out.stop_reason,
                                    "usage": out.usage, "model": out.model})


def _rejection_summary(edit: EditResult, limit: int = 3) -> str:
    parts = [f"{r.op.get('path', '?')} ({r.reason})" for r in edit.rejected[:limit]]
    if len(edit.rejected) > limit:
        parts.append(f"+{len(edit.rejected) - limit}")
    return "; ".join(parts)


def _answer(*, out: ModelOutput | None, edit: EditResult | None, language: str, started: float,
            completion: str | None = None, code: str | None = None) -> dict[str, Any]:
    reply = completion
    if reply is None:
        reply = str((out.data if out else {}).get("reply") or "").strip()
    patches = edit.patches if edit else []
    explanation = reply
    if edit is not None:
        proposed = bool(edit.patches or edit.rejected)
        if proposed and not patches:
            explanation = reply = message("none_applied", language) + (f" ({_rejection_summary(edit)})"
                                                                       if edit.rejected else "")
        elif edit.rejected:
            explanation = f"{reply or message('applied', language)} " + message(
                "refused", language, reasons=_rejection_summary(edit))
        if not reply:
            reply = message("applied" if patches else "no_change", language)
        if not explanation:
            explanation = reply
    body: dict[str, Any] = {
        "completion": reply,
        "has_scenario_edits": bool(patches),
        "json_patches": patches,
        "edit_result": {
            "success": bool(patches),
            "explanation": explanation.strip(),
            "applied": len(patches),
            "repaired": edit.repaired if edit else 0,
            "rejected": [{"op": r.op.get("op"), "path": r.op.get("path"), "reason": r.reason}
                         for r in (edit.rejected if edit else [])],
        },
        "stop_reason": out.stop_reason if out else None,
        "usage": out.usage if out else {},
        "processing_time_ms": round((time.monotonic() - started) * 1000),
    }
    if out is not None:
        body["model"] = out.model
    if code:
        body["code"] = code
    return body


async def chat(*, prompt: str, history: list[dict[str, Any]], scenario: dict | None,
               user_id: Any = None) -> dict[str, Any]:
    """Answer one chat turn in the editor's response shape (see docs/ASSISTANT.md)."""
    started = time.monotonic()
    language = language_of(prompt)
    cfg = assistant_config.load()
    if cfg.provider == "none":
        return _answer(out=None, edit=None, language=language, started=started,
                       completion=message("not_configured", language), code="ASSISTANT_NOT_CONFIGURED")
    scenario = scenario if isinstance(scenario, dict) else {}
    deadline = started + cfg.timeout
    catalogue = await sync_to_async(Catalogue.load)()  # the one read of the catalogue (may use the database)
    chat_prompt = await sync_to_async(_prepare, thread_sensitive=False)(
        prompt=prompt, history=history, scenario=scenario, language=language, cfg=cfg, catalogue=catalogue)
    try:
        if cfg.provider == "local":
            out = await _ask_local(chat_prompt, cfg, deadline)
        else:
            out = await _provider(cfg).complete(chat_prompt, deadline=deadline)
    except ProviderError as exc:
        logger.warning("assistant: %s provider failed for user %s: %s", cfg.provider, user_id, exc)
        if exc.code == "ASSISTANT_TIMEOUT":
            raise AssistantError("ASSISTANT_TIMEOUT", _timeout_message(language), status=504) from exc
        if exc.code == "ASSISTANT_NOT_CONFIGURED":
            return _answer(out=None, edit=None, language=language, started=started,
                           completion=message("not_configured", language), code="ASSISTANT_NOT_CONFIGURED")
        raise AssistantError(exc.code, _failure_message(language), status=502,
                             details={"provider": cfg.provider}) from exc
    edit = await sync_to_async(apply_edits, thread_sensitive=False)(scenario, out.data.get("patches") or [],
                                                                    catalogue)
    logger.info("assistant: user %s, %s/%s: %d patch(es) applied, %d refused, %d repaired", user_id,
                cfg.provider, out.model, len(edit.patches), len(edit.rejected), edit.repaired)
    return _answer(out=out, edit=edit, language=language, started=started)


def _timeout_message(language: str) -> str:
    return ("AI 도우미의 응답이 너무 오래 걸립니다. 잠시 후 다시 시도해 주세요." if language == "ko"
            else "The assistant took too long to answer. Please try again in a moment.")


def _failure_message(language: str) -> str:
    return ("AI 도우미가 지금 응답할 수 없습니다. 잠시 후 다시 시도해 주세요." if language == "ko"
            else "The assistant cannot answer right now. Please try again in a moment.")
