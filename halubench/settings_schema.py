"""Typed schemas of judge files, task files and their command-line overrides.

Why: a setting nobody reads is a silent lie. ``--judge-arg threshhold=0.99``
used to run with the default threshold and record the typo as if it had been
used. Every judge file, task file, ``--judge-arg`` and ``--option`` is now
checked here before any data is loaded or any call made (``extra="forbid"``),
and the first mistake stops the run with one line naming the file or flag, the
key and the keys allowed there.

Adding a backend: write one subclass of ``JudgeSettings`` (its keys, typed) in
the "Judge backends" section below and register it in ``JUDGE_SCHEMAS`` under
the backend's name (the name in ``halubench.backends.BACKENDS``). If some of its
keys cannot change a reply or its status (placement, batching, prices), list
them in its ``not_reply``; everything else is in the cache key and the run's
identity by default. A new task loader registers its options in ``TASK_OPTIONS``
the same way.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from halubench.errors import ConfigError

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """No unknown keys; numbers are accepted where text is expected (YAML reads ``revision: 1234`` as a number)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


# --- Judge files ---------------------------------------------------------------------------------


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


# --- Judge backends: one class each, registered in JUDGE_SCHEMAS ------------------------------------


class BatchPoll(Strict):
    """How often batch mode polls (see ``halubench.backends.batch.PollPolicy``)."""

    first_s: Annotated[float, Field(gt=0)] | None = None
    factor: Annotated[float, Field(ge=1)] | None = None
    max_s: Annotated[float, Field(gt=0)] | None = None


# Batch mode sends the same request body by another route, at another price: never a reply's identity.
BATCH_KEYS = frozenset({"batch", "batch_fallback", "batch_wait_s", "batch_poll", "batch_size", "batch_discount",
                        "batch_price_per_million"})


class ApiSettings(JudgeSettings):
    """``openai`` and ``anthropic`` (see ``halubench.backends.api``; ``batch*``: ``halubench.backends.batch``)."""

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
    """``transformers``: classifier judges in process (see ``halubench.backends.transformers_judge``).

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


# --- Task files and task options ----------------------------------------------------------------


class DatasetKwargs(Strict):
    revision: str | None = None  # the dataset's hub commit


class TaskFile(Strict):
    """A task file, in lm-eval's vocabulary where it has a word (see ``halubench.task``)."""

    task: str
    group: str | None = None
    description: str = ""
    dataset_path: str | None = None
    dataset_name: str | None = None
    dataset_kwargs: DatasetKwargs | None = None
    test_split: str = "test"
    doc_to_text: str
    doc_to_target: str | None = None
    doc_to_choice: Annotated[list[str], Field(min_length=2)]
    metadata: dict[str, Any] | None = None
    loader: str
    data_file: str | None = None
    positive_label: str | None = None
    breakdowns: list[str] = []
    options: dict[str, Any] | None = None
    scorer: str = "classification"  # a name in halubench.scorers.SCORERS


class NoOptions(Strict):
    """The ``halubench`` loader takes no options."""


RefCheckerSetting = Literal["zero", "noisy", "accurate"]


class RefCheckerClaimOptions(Strict):
    settings: list[RefCheckerSetting] | None = None  # None: all three
    annotations: str | None = None  # a local human_annotations_v1 folder

    @field_validator("settings", mode="before")
    @classmethod
    def _one_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class RefCheckerResponseOptions(RefCheckerClaimOptions):
    fail_on: Literal["contradiction", "not_entailment"] = "contradiction"


TASK_OPTIONS: dict[str, type[Strict]] = {
    "halubench": NoOptions,
    "refchecker-responses": RefCheckerResponseOptions,
    "refchecker-claims": RefCheckerClaimOptions,
}


def options_schema(loader: str, where: str) -> type[Strict]:
    try:
        return TASK_OPTIONS[loader]
    except KeyError:
        raise ConfigError(f"{where}: unknown loader {loader!r}; known: {', '.join(sorted(TASK_OPTIONS))}") from None


# --- Validation and its one-line errors ------------------------------------------------------------


def parse(schema: type[M], values: Mapping[str, Any], where: str, pairs: Sequence[str] = ()) -> M:
    """``values`` as a ``schema`` instance, or one ``ConfigError`` line about the first mistake.

    ``pairs`` are the ``KEY=VALUE`` flags behind ``values``: the error names the
    one that set the bad key (``where`` is then the flag, e.g. ``--judge-arg``).
    """
    try:
        return schema.model_validate(dict(values))
    except ValidationError as exc:
        # A misspelt key also leaves the right one missing: report the typo, it says more.
        error = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        top = str(error["loc"][0]) if error["loc"] else ""
        pair = next((p for p in pairs if p.partition("=")[0].strip().split(".")[0] == top), None)
        raise ConfigError(describe(error, schema, f"{where} {pair}" if pair else where)) from None


def validate(
    schema: type[BaseModel], values: Mapping[str, Any], where: str, pairs: Sequence[str] = ()
) -> dict[str, Any]:
    """The keys given in ``values``, typed (``temperature: 0`` becomes 0.0, so equal settings hash equal)."""
    return parse(schema, values, where, pairs).model_dump(exclude_unset=True)


def describe(error: ErrorDetails, schema: type[BaseModel], where: str) -> str:
    """One line: where, which key, what is wrong, and the keys allowed beside it."""
    model: type[BaseModel] | None = schema
    allowed = sorted(schema.model_fields)
    path: list[str] = []
    for part in error["loc"]:
        if model is None:
            break
        allowed = sorted(model.model_fields)
        if part in model.model_fields:
            path.append(str(part))
            model = _nested_model(model.model_fields[str(part)].annotation)
        elif error["type"] == "extra_forbidden" and part == error["loc"][-1]:
            path.append(str(part))
        else:
            break  # a union branch or a list index: the key so far says enough
    key = ".".join(path)
    keys = ", ".join(allowed) or "none"
    if error["type"] == "extra_forbidden":
        near = difflib.get_close_matches(path[-1], allowed, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return f"{where}: unknown key '{key}'{hint}; allowed keys: {keys}"
    if error["type"] == "missing":
        return f"{where}: missing key '{key}'; allowed keys: {keys}"
    got = repr(error.get("input"))
    got = got if len(got) <= 60 else got[:57] + "..."
    return f"{where}: key '{key}': {error['msg'].rstrip('.')} (got {got}); allowed keys: {keys}"


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X | None`` (or ``X`` itself), for reading nested keys."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _nested_model(arg)
            if found is not None:
                return found
    return None
