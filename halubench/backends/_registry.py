"""One entry per judge backend: what builds its judges, and the schema of its judge-file keys.

A target is a ``"module:attr"`` string, imported when the first judge of that
backend is built: the SDKs and engines behind most backends take seconds to
import, and ``import halubench.backends`` stays light. Adding a backend is one
entry here: a ``Judge`` class (or a function of a ``JudgeSpec`` returning one)
and a ``JudgeSettings`` subclass with its keys, typed, their defaults and its
``not_reply`` keys (``_settings``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from halubench.backends._base import Judge
from halubench.backends._judge_spec import JudgeSpec, reply_part
from halubench.backends._settings import (
    ApiSettings,
    ConstantSettings,
    JudgeSettings,
    LexicalSettings,
    LlamaCppSettings,
    RandomSettings,
    TransformersSettings,
    VllmSettings,
)
from halubench.errors import ConfigError


@dataclass(frozen=True)
class Backend:
    target: str  # "module:attr": a Judge class, or a function of a JudgeSpec that returns a Judge
    settings: type[JudgeSettings]

    def load(self) -> Callable[[JudgeSpec], Judge]:
        module, attr = self.target.split(":")
        return getattr(importlib.import_module(module), attr)


BACKENDS: dict[str, Backend] = {
    "constant": Backend("halubench.backends._offline:ConstantJudge", ConstantSettings),
    "random": Backend("halubench.backends._offline:RandomJudge", RandomSettings),
    "lexical": Backend("halubench.backends._offline:LexicalJudge", LexicalSettings),
    "openai": Backend("halubench.backends._openai:OpenAIJudge", ApiSettings),
    "anthropic": Backend("halubench.backends._anthropic:AnthropicJudge", ApiSettings),
    "vllm": Backend("halubench.backends._vllm:vllm_judge", VllmSettings),
    "transformers": Backend("halubench.backends._transformers:TransformersJudge", TransformersSettings),
    "llamacpp": Backend("halubench.backends._llamacpp:LlamaCppJudge", LlamaCppSettings),
}


def backend_entry(name: str, where: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ConfigError(f"{where}: unknown backend {name!r}; known: {', '.join(sorted(BACKENDS))}") from None


def build_judge(spec: JudgeSpec) -> Judge:
    judge = backend_entry(spec.backend, f"judge {spec.name}").load()(spec)
    if isinstance(spec.settings, ApiSettings) and spec.settings.batch:
        from halubench.backends._batch_judge import BatchJudge

        return BatchJudge(judge)
    return judge


def recorded_reply_settings(backend: str, model: str | None, settings: Mapping[str, Any]) -> dict[str, Any]:
    """``JudgeSpec.reply_settings`` of a judge recorded in a results file: plain data, never re-validated.

    An old file may hold keys the schema has since dropped or renamed; its
    identity is computed by the same rule all the same (a backend no longer
    registered: the keys every judge file shares).
    """
    not_reply = BACKENDS[backend].settings.not_reply if backend in BACKENDS else JudgeSettings.not_reply
    return reply_part(backend, model, settings, not_reply)
