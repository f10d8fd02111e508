"""Which model answers, from settings.ASSISTANT (every value comes from the environment)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

PROVIDERS = ("none", "local", "openai", "anthropic")
DEFAULT_BASE_URLS = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}


@dataclass(frozen=True)
class AssistantConfig:
    provider: str
    model: str
    base_url: str
    api_key: str
    response_format: str
    timeout: float
    http_timeout: float
    retries: int
    max_tokens: int
    max_body_bytes: int
    max_words: int
    local_max_words: int
    local_ctx: int
    local_threads: int


def _auto_provider(model: str) -> str:
    """The bundled model, where this process also runs the worker that would serve it (embedded mode).

    With a real broker the web process cannot know what its workers have installed, so a deployment
    that wants local inference says ``ECG_ASSISTANT_PROVIDER=local`` explicitly.
    """
    from assistant.providers.local import available
    from ecg.worker import inprocess_worker_running

    if inprocess_worker_running() and available(model):
        return "local"
    return "none"


def load() -> AssistantConfig:
    raw = dict(getattr(settings, "ASSISTANT", {}) or {})
    provider = str(raw.get("PROVIDER") or "auto").strip().lower()
    model = str(raw.get("MODEL") or "")
    if provider == "auto":
        provider = _auto_provider(model)
    if provider not in PROVIDERS:
        provider = "none"
    if provider in ("openai", "anthropic") and not model:
        provider = "none"  # a remote provider without a model name cannot be called
    if provider == "anthropic" and not raw.get("API_KEY"):
        provider = "none"
    return AssistantConfig(
        provider=provider, model=model,
        base_url=str(raw.get("BASE_URL") or DEFAULT_BASE_URLS.get(provider, "")),
        api_key=str(raw.get("API_KEY") or ""),
        response_format=str(raw.get("OPENAI_RESPONSE_FORMAT") or "json_schema"),
        timeout=float(raw.get("TIMEOUT", 60.0)), http_timeout=float(raw.get("HTTP_TIMEOUT", 30.0)),
        retries=int(raw.get("RETRIES", 2)), max_tokens=int(raw.get("MAX_TOKENS", 2048)),
        max_body_bytes=int(raw.get("MAX_BODY_BYTES", 4 * 1024 * 1024)),
        max_words=int(raw.get("MAX_WORDS", 600)), local_max_words=int(raw.get("LOCAL_MAX_WORDS", 40)),
        local_ctx=int(raw.get("LOCAL_CTX", 8192)), local_threads=int(raw.get("LOCAL_THREADS", 0)),
    )
