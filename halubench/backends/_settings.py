"""Typed settings of judge files, one class per backend (registered with the backend in ``_registry``).

A judge file, ``--base-url`` and ``--judge-arg`` are validated against its
backend's class before any data is loaded (``extra="forbid"``: a misspelt key
is one line naming the file, the key and the keys allowed there), and the
backend receives the validated instance. Defaults are written here, once: a
backend reads typed attributes (``settings.threshold``,
``settings.generation.max_tokens``) and never restates a default or re-checks
a range.

``not_reply`` lists the keys that cannot change a reply or its status
(placement, batching, prices, card metadata): the cache key and the run's
identity keep every other key, so a new setting can only make them stricter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from halubench.backends._retry import RetryPolicy
from halubench.config import NonNegativeFloat, PositiveInt, Strict


class Price(Strict):
    """US dollars per million tokens, and the day they were read off the provider's price page."""

    model_config = ConfigDict(frozen=True)

    input: NonNegativeFloat
    output: NonNegativeFloat
    as_of: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None = None


class Generation(BaseModel):
    """Sampling fields of the request body (or vLLM's ``SamplingParams``).

    The common ones are typed; any other field passes through, because each
    server has its own (vLLM's ``repetition_penalty``, OpenAI's ``logit_bias``)
    and the server, not this list, is the authority on them.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

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


# The judge card: keys every judge file may carry that never change a reply or its status (in the card's order).
CARD_KEYS = ("display_name", "provider", "weights", "parameters", "license", "url", "kind")


NOT_REPLY_SETTINGS = frozenset({"description", "price_per_million", "retry", *CARD_KEYS})


class JudgeSettings(Strict):
    """What any judge file may carry besides ``judge`` and ``backend``: its card and template overrides.

    ``not_reply`` lists the keys (dotted for a key inside a block) that cannot
    change a reply or its status; the cache key and the run's identity keep
    every other key, so a new setting can only make them stricter.
    """

    model_config = ConfigDict(frozen=True)
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
    """Batches take minutes to hours: poll soon (small batches end fast), then less and less often."""

    model_config = ConfigDict(frozen=True)

    first_s: Annotated[float, Field(gt=0)] = 10.0
    factor: Annotated[float, Field(ge=1)] = 1.5
    max_s: Annotated[float, Field(gt=0)] = 300.0


class RateLimit(Strict):
    """Per-minute limits to pace a judge by, for a server that sends no rate-limit headers (vLLM,
    llama.cpp, TGI, a proxy in front of them) or to stay below what it sends (a key shared with other
    jobs): the lower of the two binds. Counted as OpenAI counts: a call's tokens are its prompt plus
    its ``max_tokens``."""

    model_config = ConfigDict(frozen=True)

    requests_per_minute: Annotated[float, Field(gt=0)] | None = None
    tokens_per_minute: Annotated[float, Field(gt=0)] | None = None

    def per_minute(self) -> dict[str, float]:
        """The stated limits by the names the providers' headers give them."""
        stated = {"requests": self.requests_per_minute, "tokens": self.tokens_per_minute}
        return {name: limit for name, limit in stated.items() if limit is not None}


# Batch mode sends the same request body by another route, at another price: never a reply's identity.
BATCH_KEYS = frozenset({"batch", "batch_fallback", "batch_wait_s", "batch_poll", "batch_size", "batch_discount",
                        "batch_price_per_million"})


class ApiSettings(JudgeSettings):
    """``openai`` and ``anthropic`` API judges; the ``batch*`` keys are batch mode's.

    ``batch``, ``batch_fallback`` and ``batch_wait_s`` come last: they are also
    the ``--batch*`` flags, which results files have always listed after the
    judge file's own keys.
    """

    not_reply: ClassVar[frozenset[str]] = NOT_REPLY_SETTINGS | BATCH_KEYS | {"rate_limit"}
    # Greedy, 600 new tokens, under whatever the judge file sets. An int 0: the cache keys of judges
    # that never set a temperature were made with it.
    default_generation: ClassVar[Mapping[str, Any]] = {"temperature": 0, "max_tokens": 600}

    model: Annotated[str, Field(min_length=1)]
    base_url: str | None = None  # None: the SDK's variable (OPENAI_BASE_URL, ...), else the provider's API
    api_key_env: str | None = None  # None: the SDK's own variable (OPENAI_API_KEY, ...)
    generation: Generation = Generation()
    context_window: PositiveInt | None = None
    price_per_million: Price | None = None
    retry: RetryPolicy = RetryPolicy()
    rate_limit: RateLimit | None = None  # None: paced by the server's own headers, if it sends any
    batch_poll: BatchPoll = BatchPoll()
    batch_size: PositiveInt | None = None  # None: the provider's limit
    batch_discount: Annotated[float, Field(ge=0, le=1)] | None = None
    batch_price_per_million: Price | None = None
    batch: bool = False
    batch_fallback: Literal["batch", "sync"] = "batch"  # failed items: a follow-up batch, or ordinary calls
    batch_wait_s: NonNegativeFloat | None = None  # None: until the batches end

    def request_generation(self) -> dict[str, Any]:
        """The sampling fields every request carries: the defaults, then each field the judge file set."""
        return {**self.default_generation, **self.generation.model_dump(exclude_unset=True)}


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
    # A float 0.0 here, as the in-process engine's cache keys were made (a server client is an ``openai`` judge).
    default_generation: ClassVar[Mapping[str, Any]] = {"temperature": 0.0, "max_tokens": 600}
    # Placement only (not in the cache key): every GPU the heads divide evenly, and the prefix cache.
    default_engine: ClassVar[Mapping[str, Any]] = {"enable_prefix_caching": True, "tensor_parallel_size": "auto"}

    revision: str | None = None  # None: the hub's main (the commit loaded is in the cache key either way)
    chat_template: str | None = None  # None: the model's own; else a .jinja file beside the judge file
    served_model_name: str | None = None  # the name `vllm serve --served-model-name` gave the model
    engine: dict[str, Any] | None = None

    def engine_args(self) -> dict[str, Any]:
        """``vllm.LLM``'s arguments: the defaults, then each one the judge file set."""
        return {**self.default_engine, **(self.engine or {})}


class LlamaCppGeneration(Strict):
    """Decoding for the ``llamacpp`` backend: greedy at 600 new tokens (the Lynx paper's) unless set.

    With a temperature above 0, llama.cpp's own samplers (top-k, top-p, min-p,
    temperature, then a draw seeded with ``seed`` for each row) pick the tokens,
    with llama-cpp-python's defaults.
    """

    model_config = ConfigDict(frozen=True)

    temperature: NonNegativeFloat = 0.0
    top_k: Annotated[int, Field(ge=0)] = 40
    top_p: Annotated[float, Field(gt=0, le=1)] = 0.95
    min_p: Annotated[float, Field(ge=0, le=1)] = 0.05
    seed: Annotated[int, Field(ge=0)] = 0
    max_tokens: PositiveInt = 600
    stop: list[str] = []  # besides the model's end-of-turn tokens, which always stop a reply


# Where and how fast llama.cpp computes a reply, never which reply: a run resumed with more threads,
# on a GPU or with more rows at once reuses what is cached.
LLAMACPP_PLACEMENT = frozenset({"n_gpu_layers", "n_threads", "n_threads_batch", "n_batch", "n_parallel"})


class LlamaCppSettings(JudgeSettings):
    """``llamacpp``: a GGUF file on llama-cpp-python, in process (``gguf:PATH`` or a judge file).

    ``n_ctx`` is the longest prompt plus reply one row may take (a longer prompt
    is ``too_long``); the KV cache holds that many tokens in all, shared by up
    to ``n_parallel`` rows decoded together, so memory does not grow with it.
    """

    not_reply: ClassVar[frozenset[str]] = NOT_REPLY_SETTINGS | LLAMACPP_PLACEMENT

    model: Annotated[str, Field(min_length=1)]  # a .gguf path, owner/repo/file.gguf, or with `file` a hub repo
    file: str | None = None  # the .gguf file inside the hub repository `model`
    revision: str | None = None  # a hub file's commit or branch; None: main (the file's sha256 is the identity)
    chat_template: str | None = None  # None: the GGUF file's own; else a .jinja file beside the judge file
    n_ctx: PositiveInt | None = None  # None: the context the model was trained with (GGUF metadata)
    generation: LlamaCppGeneration = LlamaCppGeneration()
    # llama.cpp's flash attention: faster on CPUs and GPUs, and it skips the cells of other rows in a shared
    # cache; it changes the last bits of the logits, so it is part of the identity.
    flash_attn: bool = True
    n_parallel: PositiveInt = 4
    n_gpu_layers: Annotated[int, Field(ge=-1)] = -1  # -1: every layer on the GPU where llama.cpp has one
    n_threads: PositiveInt | None = None  # None: llama-cpp-python's default (half the cores) for decoding
    n_threads_batch: PositiveInt | None = None  # None: every core, for prompts
    n_batch: PositiveInt = 512  # tokens per llama_decode call


class TransformersSettings(JudgeSettings):
    """``transformers``: classifier judges in process (see ``halubench.backends`` (classifier judges)).

    Device and batch sizes decide where and how fast a score is computed, not
    which verdict: a run resumed on a GPU reuses the cache of a CPU run.
    """

    not_reply: ClassVar[frozenset[str]] = NOT_REPLY_SETTINGS | {"device", "batch_size", "max_batch_tokens"}

    model: Annotated[str, Field(min_length=1)]  # a hub id or a local folder
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
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    device: str = "auto"  # auto (a GPU when there is one), cpu, cuda, cuda:1
    batch_size: PositiveInt = 32
    max_batch_tokens: PositiveInt = 16384


class ConstantSettings(JudgeSettings):
    verdict: str


class RandomSettings(JudgeSettings):
    seed: int = 0


class LexicalSettings(JudgeSettings):
    threshold: Annotated[float, Field(ge=0, le=1)] = 0.75
