"""Named judges (``judges/*.yaml``) and ad-hoc ones (``openai:gpt-4o-mini``), resolved to a ``JudgeSpec``.

A judge file names a ``backend`` and (most backends) a ``model``; every other
key is a setting of that backend (generation parameters, prices, context
window, endpoint, template overrides). The file, then ``--base-url``, then the
``--judge-arg`` overrides are validated against the backend's settings class
in the registry, so a misspelt key stops the run before any data is loaded and
the backend receives settings it need not check again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from halubench.backends._judge_spec import JudgeSpec
from halubench.backends._registry import backend_entry
from halubench.config import apply_pairs, discover, parse
from halubench.errors import ConfigError

AD_HOC_PROVIDERS = ("openai", "anthropic", "vllm", "hf", "gguf")
# `hf:<hub id or folder>` runs a classifier in process; `gguf:<file or owner/repo/file.gguf>` a GGUF file on llama.cpp
BACKEND_OF_PROVIDER = {"hf": "transformers", "gguf": "llamacpp"}


def resolve_judge(
    name: str, include_paths: Iterable[Path] = (), base_url: str | None = None, overrides: Sequence[str] = ()
) -> JudgeSpec:
    """A judge file by name, else ``provider:model``; ``base_url`` and ``overrides`` (KEY=VALUE) win."""
    found = discover("judge", include_paths)
    source: Path | None = None
    if name in found:
        definition = found[name]
        source, where = definition.path, str(definition.path)
        values = dict(definition.body)
        values.pop("judge")
        try:
            backend = values.pop("backend")
        except KeyError:
            raise ConfigError(f"{definition.path}: judge file needs the key 'backend'") from None
        if values.get("model") is None:  # `model: null` is no model (the offline judges have none)
            values.pop("model", None)
    elif ":" in name and name.split(":", 1)[0] in AD_HOC_PROVIDERS:
        provider, model = name.split(":", 1)
        if not model:
            raise ConfigError(f"judge {name!r} names no model; write {provider}:<model>")
        backend, where, values = BACKEND_OF_PROVIDER.get(provider, provider), f"judge {name}", {"model": model}
        if provider == "gguf" and Path(model).is_file():  # named by the file alone: no local path in results
            name = f"gguf:{Path(model).name}"
    else:
        valid = ", ".join(sorted(found))
        raise ConfigError(
            f"unknown judge '{name}'. Valid judges: {valid}; or an ad-hoc judge "
            f"{' / '.join(p + ':<model>' for p in AD_HOC_PROVIDERS)}"
        )
    schema = backend_entry(backend, where).settings
    settings = parse(schema, values, where)
    if base_url:
        settings = parse(schema, {**settings.model_dump(exclude_unset=True), "base_url": base_url}, "--base-url")
    if overrides:
        merged = apply_pairs(settings.model_dump(exclude_unset=True), overrides, "--judge-arg",
                             "engine.tensor_parallel_size=4")
        settings = parse(schema, merged, "--judge-arg", overrides)
    return JudgeSpec(name, backend, settings, source)
