"""Named judges (``judges/*.yaml``) and ad-hoc ones (``openai:gpt-4o-mini``).

A judge file names a ``backend`` and a ``model`` and keeps every other setting
(generation parameters, prices, context window, endpoint, template overrides)
in ``settings`` for the backend to read. Secrets never live here: API keys come
from the SDKs' environment variables, and ``public_settings`` strips anything
that looks like a credential before settings reach a results file.

Every judge file and ``--base-url`` / ``--judge-arg`` override is validated
against its backend's schema (``halubench.backends``) as the judge is
resolved, so a misspelt key stops the run before any data is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halubench.backends._settings import JudgeSettings, judge_schema, reply_settings
from halubench.config import apply_pairs, discover, validate
from halubench.errors import ConfigError

AD_HOC_PROVIDERS = ("openai", "anthropic", "vllm", "hf")
BACKEND_OF_PROVIDER = {"hf": "transformers"}  # `hf:<hub id or folder>` runs a classifier in process
_SECRET_KEY = re.compile(r"(api_?key|secret|password|authorization|^headers$)", re.IGNORECASE)


@dataclass(frozen=True)
class JudgeSpec:
    name: str
    backend: str
    model: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None

    @property
    def generation(self) -> dict[str, Any]:
        return dict(self.settings.get("generation") or {})

    def template_override(self, template_name: str) -> tuple[str, Path | None] | None:
        templates = self.settings.get("templates") or {}
        if template_name in templates:
            return templates[template_name], self.source.parent if self.source else None
        return None

    def public_settings(self) -> dict[str, Any]:
        return _redact({"backend": self.backend, "model": self.model, **self.settings})

    def reply_settings(self) -> dict[str, Any]:
        """Backend, model and every setting that can change a reply or its status (no credentials).

        Built by exclusion: every setting is in unless the backend's schema lists
        it in ``not_reply`` (prices, description, card metadata, retry policy,
        vLLM placement). The cache key and the run's identity both use it, so it
        is plain JSON data and depends on nothing but the settings.
        """
        kept = reply_settings(self.backend, self.settings)
        return _redact({"backend": self.backend, "model": self.model, **kept})


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _redact(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def resolve_judge(
    name: str, include_paths: Iterable[Path] = (), base_url: str | None = None, overrides: Sequence[str] = ()
) -> JudgeSpec:
    """A judge file by name, else ``provider:model``; ``base_url`` and ``overrides`` (KEY=VALUE) win."""
    found = discover("judge", include_paths)
    if name in found:
        definition = found[name]
        body = dict(definition.body)
        body.pop("judge")
        try:
            backend = body.pop("backend")
        except KeyError:
            raise ConfigError(f"{definition.path}: judge file needs the key 'backend'") from None
        spec = JudgeSpec(name, backend, body.pop("model", None), body, definition.path)
    elif ":" in name and name.split(":", 1)[0] in AD_HOC_PROVIDERS:
        provider, model = name.split(":", 1)
        if not model:
            raise ConfigError(f"judge {name!r} names no model; write {provider}:<model>")
        spec = JudgeSpec(name, BACKEND_OF_PROVIDER.get(provider, provider), model, {})
    else:
        valid = ", ".join(sorted(found))
        raise ConfigError(
            f"unknown judge '{name}'. Valid judges: {valid}; or an ad-hoc judge "
            f"{' / '.join(p + ':<model>' for p in AD_HOC_PROVIDERS)}"
        )
    where = str(spec.source or f"judge {name}")
    schema = judge_schema(spec.backend, where)
    model, settings = _checked(schema, spec.model, spec.settings, where)
    if base_url:
        model, settings = _checked(schema, model, {**settings, "base_url": base_url}, "--base-url")
    if overrides:
        merged = apply_pairs(settings, overrides, "--judge-arg", "engine.tensor_parallel_size=4")
        model, settings = _checked(schema, model, merged, "--judge-arg", overrides)
    return JudgeSpec(spec.name, spec.backend, model, settings, spec.source)


def _checked(
    schema: type[JudgeSettings], model: str | None, settings: Mapping[str, Any], where: str,
    pairs: Sequence[str] = (),
) -> tuple[str | None, dict[str, Any]]:
    """The model and settings, validated together (``--judge-arg model=...`` may replace the model)."""
    checked = validate(schema, {**({"model": model} if model is not None else {}), **settings}, where, pairs)
    return checked.pop("model", None), checked
