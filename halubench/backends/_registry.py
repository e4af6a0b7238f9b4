"""Judge backends, imported lazily so the SDKs and engines load only when used."""

from __future__ import annotations

import importlib

from halubench.backends._base import Judge
from halubench.backends._judge_spec import JudgeSpec
from halubench.errors import ConfigError

# A new backend also registers the schema of its judge-file keys in halubench.backends.JUDGE_SCHEMAS.
BACKENDS: dict[str, str] = {
    "constant": "halubench.backends._offline:ConstantJudge",
    "random": "halubench.backends._offline:RandomJudge",
    "lexical": "halubench.backends._offline:LexicalJudge",
    "openai": "halubench.backends._openai:OpenAIJudge",
    "anthropic": "halubench.backends._anthropic:AnthropicJudge",
    "vllm": "halubench.backends._vllm:vllm_judge",
    "transformers": "halubench.backends._transformers:TransformersJudge",
}


def build_judge(spec: JudgeSpec) -> Judge:
    target = BACKENDS.get(spec.backend)
    if target is None:
        raise ConfigError(
            f"judge {spec.name}: unknown backend {spec.backend!r}; known: {', '.join(sorted(BACKENDS))}"
        )
    module, attr = target.split(":")
    judge = getattr(importlib.import_module(module), attr)(spec)
    if spec.settings.get("batch"):
        from halubench.backends._batch_judge import BatchJudge

        return BatchJudge(judge)
    return judge
