"""Typed settings of judge files, one class per backend (registered with the backend in ``_registry``).

A judge file, ``--base-url`` and ``--judge-arg`` are validated against its
backend's class before any data is loaded (``extra="forbid"``: a misspelt key
is one line naming the file, the key and the keys allowed there). Defaults are
written here, once; a backend reads its typed settings and never restates them.

``not_reply`` lists the keys that cannot change a reply or its status
(placement, batching, prices, card metadata): the cache key and the run's
identity keep every other key, so a new setting can only make them stricter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from halubench.config import NonNegativeFloat, PositiveInt, Strict
from halubench.errors import ConfigError


class Price(Strict):
    """US dollars per million tokens, and the day they were read off the provider's price page."""

    input: NonNegativeFloat
    output: NonNegativeFloat
    as_of: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None


class Retry(Strict):
    """The fields of ``halubench.backends.retry.RetryPolicy``, which checks their ranges."""

    max_attempts: PositiveInt | None = None
    base_delay_s: NonNegativeFloat | None = None
    max_delay_s: NonNegativeFloat | None = None
    request_timeout_s: NonNegativeFloat | None = None
    deadline_s: NonNegativeFloat | None = None


class Generation(BaseModel):
    """Sampling fields of the request body (or vLLM's ``SamplingParams``).

    The common ones are typed; any other field passes through, because each
    server has its own (vLLM's ``repetition_penalty``, OpenAI's ``logit_bias``)
    and the server, not this list, is the authority on them.
    """

    model_config = ConfigDict(extra="allow")

    temperature: NonNegativeFloat | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    top_k: int | None = None
    max_tokens: PositiveInt | None = None
    max_completion_tokens: PositiveInt | None = None
    stop: list[str] | str | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    extra_body: dict[str, Any] | None = None


# Keys every judge file may carry that never change a reply or its status.
CARD_KEYS = frozenset({"display_name", "provider", "weights", "parameters", "license", "url", "kind"})


NOT_REPLY_SETTINGS = frozenset({"description", "price_per_million", "retry", *CARD_KEYS})


class JudgeSettings(Strict):
    """What any judge file may carry besides ``judge`` and ``backend``: its card and template overrides.

    ``not_reply`` lists the keys (dotted for a key inside a block) that cannot
    change a reply or its status; the cache key and the run's identity keep
    every other key, so a new setting can only make them stricter.
    """

    not_reply: ClassVar[frozenset[str]] = NOT_REPLY_SETTINGS

    description: str | None = None
    display_name: str | None = None
    provider: str | None = None
    weights: Literal["open", "closed", "none"] | None = None
    parameters: str | None = None  # "70B"; null where not public
    license: str | None = None
    url: str | None = None
    kind: Literal["llm", "fine-tuned", "classifier", "baseline"] | None = None
    templates: dict[str, str] | None = None  # prompt template name -> file beside the judge file


class BatchPoll(Strict):
    """How often batch mode polls (see ``halubench.backends.batch.PollPolicy``)."""

    first_s: Annotated[float, Field(gt=0)] | None = None
    factor: Annotated[float, Field(ge=1)] | None = None
    max_s: Annotated[float, Field(gt=0)] | None = None


# Batch mode sends the same request body by another route, at another price: never a reply's identity.
BATCH_KEYS = frozenset({"batch", "batch_fallback", "batch_wait_s", "batch_poll", "batch_size", "batch_discount",
                        "batch_price_per_million"})


class ApiSettings(JudgeSettings):
    """``openai`` and ``anthropic`` API judges; the ``batch*`` keys are batch mode's."""

    not_reply: ClassVar[frozenset[str]] = NOT_REPLY_SETTINGS | BATCH_KEYS

    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    generation: Generation | None = None
    context_window: PositiveInt | None = None
    price_per_million: Price | None = None
    retry: Retry | None = None
    batch: bool | None = None
    batch_fallback: Literal["batch", "sync"] | None = None
    batch_wait_s: NonNegativeFloat | None = None
    batch_poll: BatchPoll | None = None
    batch_size: PositiveInt | None = None
    batch_discount: Annotated[float, Field(ge=0, le=1)] | None = None
    batch_price_per_million: Price | None = None


# vLLM engine arguments that decide where and how fast a reply is computed, not which reply: a run
# resumed on another GPU count reuses what is cached.
VLLM_PLACEMENT_ARGS = frozenset({
    "tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size", "distributed_executor_backend",
    "gpu_memory_utilization", "kv_cache_memory_bytes", "enable_prefix_caching", "max_num_seqs",
    "max_num_batched_tokens", "swap_space", "cpu_offload_gb", "enforce_eager", "disable_log_stats",
})


class VllmSettings(ApiSettings):
    """``vllm``: in process, or a ``vllm serve`` client with ``base_url`` (then the API keys apply).

    ``engine`` stays a free mapping: vLLM's ``EngineArgs`` has well over a hundred
    fields that change between releases, and vLLM itself rejects a wrong one
    when the engine starts.
    """

    not_reply: ClassVar[frozenset[str]] = ApiSettings.not_reply | {f"engine.{k}" for k in VLLM_PLACEMENT_ARGS}

    revision: str | None = None
    chat_template: str | None = None
    served_model_name: str | None = None
    engine: dict[str, Any] | None = None


class TransformersSettings(JudgeSettings):
    """``transformers``: classifier judges in process (see ``halubench.backends`` (classifier judges)).

    Device and batch sizes decide where and how fast a score is computed, not
    which verdict: a run resumed on a GPU reuses the cache of a CPU run.
    """

    not_reply: ClassVar[frozenset[str]] = NOT_REPLY_SETTINGS | {"device", "batch_size", "max_batch_tokens"}

    model: str
    revision: str | None = None
    trust_remote_code: bool = False
    tokenizer: str | None = None  # hub id or folder when the model repository ships none (HHEM)
    architecture: Literal["sequence-classification", "seq2seq"] | None = None  # None: from the model's config
    template: str | None = None  # a prompt with {premise} and {hypothesis}; None: the tokenizer's pair encoding
    labels: dict[int, str] | None = None  # class index -> role (entailment, neutral, contradiction, not_entailment)
    label_tokens: dict[str, int | str] | None = None  # seq2seq: role -> token id or text
    threshold: Annotated[float, Field(ge=0, le=1)] = 0.5
    max_length: PositiveInt | None = None
    chunk_tokens: PositiveInt | None = None
    chunk_overlap: Annotated[int, Field(ge=0)] = 64
    dtype: Literal["float32", "float16", "bfloat16"] | None = None
    device: str | None = None  # auto (a GPU when there is one), cpu, cuda, cuda:1
    batch_size: PositiveInt = 32
    max_batch_tokens: PositiveInt = 16384


class ConstantSettings(JudgeSettings):
    verdict: str


class RandomSettings(JudgeSettings):
    seed: int = 0


class LexicalSettings(JudgeSettings):
    threshold: Annotated[float, Field(ge=0, le=1)] = 0.75


JUDGE_SCHEMAS: dict[str, type[JudgeSettings]] = {
    "openai": ApiSettings,
    "anthropic": ApiSettings,
    "vllm": VllmSettings,
    "transformers": TransformersSettings,
    "constant": ConstantSettings,
    "random": RandomSettings,
    "lexical": LexicalSettings,
}


def judge_schema(backend: str, where: str) -> type[JudgeSettings]:
    try:
        return JUDGE_SCHEMAS[backend]
    except KeyError:
        raise ConfigError(
            f"{where}: unknown backend {backend!r}; known: {', '.join(sorted(JUDGE_SCHEMAS))}"
        ) from None


def reply_settings(backend: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` less the backend's ``not_reply`` keys (a backend without a schema: the common list).

    A block left empty is dropped: every backend reads an empty block as an
    absent one, so ``engine: {tensor_parallel_size: 8}`` and no ``engine`` key
    must give the same key.
    """
    excluded = JUDGE_SCHEMAS.get(backend, JudgeSettings).not_reply
    return _without(settings, excluded, "")


def _without(settings: Mapping[str, Any], excluded: frozenset[str], prefix: str) -> dict[str, Any]:
    kept = {}
    for key, value in settings.items():
        path = f"{prefix}{key}"
        if path in excluded:
            continue
        if isinstance(value, Mapping):
            value = _without(value, excluded, f"{path}.")
            if not value:
                continue
        kept[key] = value
    return kept
