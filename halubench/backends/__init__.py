"""Judge backends, imported lazily so the SDKs and engines load only when used."""

from __future__ import annotations

import importlib

from halubench.backends.base import Judge
from halubench.errors import ConfigError
from halubench.judge_spec import JudgeSpec

# A new backend also registers the schema of its judge-file keys in halubench.settings_schema.JUDGE_SCHEMAS.
BACKENDS: dict[str, str] = {
    "constant": "halubench.backends.offline:ConstantJudge",
    "random": "halubench.backends.offline:RandomJudge",
    "lexical": "halubench.backends.offline:LexicalJudge",
    "openai": "halubench.backends.openai_api:OpenAIJudge",
    "anthropic": "halubench.backends.anthropic_api:AnthropicJudge",
    "vllm": "halubench.backends.vllm_engine:vllm_judge",
    "transformers": "halubench.backends.transformers_judge:TransformersJudge",
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
        from halubench.backends.batch import BatchJudge

        return BatchJudge(judge)
    return judge
