"""Judges: one interface for API clients, batch APIs, vLLM, llama.cpp, classifiers and offline floors.

A judge is resolved from a judge file or ``provider:model`` into a
``JudgeSpec`` with typed settings, built by its backend's registry entry, and
answers ``JudgeRequest`` objects (prompt and text fields, never the gold label)
with ``Reply`` objects. The reply cache and pricing live here too. Backends
whose SDK or engine is heavy are imported only when asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from halubench.backends._api_judge import ApiJudge
from halubench.backends._base import Judge, JudgeRequest, Reply, RequestJudge
from halubench.backends._batch_judge import BatchJudge, with_batch_flags
from halubench.backends._cache import ReplyCache, cache_key, cache_keys
from halubench.backends._classifier_inputs import (
    Pair,
    chunk_spans,
    hypothesis_rule,
    label_roles,
    render_pair,
    split_sentences,
)
from halubench.backends._judge_spec import JudgeSpec
from halubench.backends._logprobs import TokenChoice, first_label_probability
from halubench.backends._offline import lexical_verdict
from halubench.backends._pricing import RunCost, run_cost
from halubench.backends._ratelimit import RateLimiter, read_limits
from halubench.backends._registry import BACKENDS, Backend, build_judge, recorded_reply_settings
from halubench.backends._resolve import resolve_judge
from halubench.backends._retry import RetryPolicy, call_with_retries, classify_status, parse_retry_after
from halubench.backends._settings import CARD_KEYS, ApiSettings, JudgeSettings

if TYPE_CHECKING:
    from halubench.backends._llamacpp import LlamaCppJudge
    from halubench.backends._openai import OpenAIJudge
    from halubench.backends._transformers import TransformersJudge
    from halubench.backends._vllm import (
        VLLMEngineJudge,
        auto_tensor_parallel,
        verdict_score,
        vllm_judge,
    )

# Imported on first use: their SDKs and engines take seconds to import.
_LAZY = {
    "LlamaCppJudge": "halubench.backends._llamacpp",
    "OpenAIJudge": "halubench.backends._openai",
    "TransformersJudge": "halubench.backends._transformers",
    "VLLMEngineJudge": "halubench.backends._vllm",
    "auto_tensor_parallel": "halubench.backends._vllm",
    "verdict_score": "halubench.backends._vllm",
    "vllm_judge": "halubench.backends._vllm",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "CARD_KEYS",
    "ApiJudge",
    "ApiSettings",
    "BACKENDS",
    "Backend",
    "BatchJudge",
    "Judge",
    "JudgeRequest",
    "JudgeSettings",
    "JudgeSpec",
    "LlamaCppJudge",
    "OpenAIJudge",
    "Pair",
    "Reply",
    "ReplyCache",
    "RequestJudge",
    "RetryPolicy",
    "RateLimiter",
    "RunCost",
    "TokenChoice",
    "TransformersJudge",
    "VLLMEngineJudge",
    "auto_tensor_parallel",
    "build_judge",
    "cache_key",
    "cache_keys",
    "call_with_retries",
    "chunk_spans",
    "classify_status",
    "first_label_probability",
    "hypothesis_rule",
    "label_roles",
    "lexical_verdict",
    "parse_retry_after",
    "read_limits",
    "recorded_reply_settings",
    "render_pair",
    "resolve_judge",
    "run_cost",
    "split_sentences",
    "verdict_score",
    "vllm_judge",
    "with_batch_flags",
]
