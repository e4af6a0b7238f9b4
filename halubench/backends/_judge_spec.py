"""A resolved judge: its name, its backend and the backend's typed settings; and its identity.

``settings`` is the backend's ``JudgeSettings`` instance, validated once when
the judge was resolved (``resolve_judge``) and handed to the backend as it is.
Secrets never live here: API keys come from the SDKs' environment variables,
and ``public_settings`` strips anything that looks like a credential before
settings reach a results file.

The run's identity and the reply cache key are built from the keys the judge
file and the command line set (typed, so ``temperature: 0`` and ``0.0`` hash
alike), never from the schema's defaults, so the keys of every existing cache
and results file stay valid when a default is added.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halubench.backends._settings import JudgeSettings

_SECRET_KEY = re.compile(r"(api_?key|secret|password|authorization|^headers$)", re.IGNORECASE)


@dataclass(frozen=True)
class JudgeSpec:
    name: str
    backend: str
    settings: JudgeSettings
    source: Path | None = None  # the judge file; None for an ad-hoc judge

    @property
    def model(self) -> str | None:
        """The model a judge calls or loads; None for the offline judges, which have none."""
        return getattr(self.settings, "model", None)

    def template_override(self, template_name: str) -> tuple[str, Path | None] | None:
        templates = self.settings.templates or {}
        if template_name in templates:
            return templates[template_name], self.source.parent if self.source else None
        return None

    def public_settings(self) -> dict[str, Any]:
        return _redact({"backend": self.backend, "model": self.model, **self._given()})

    def reply_settings(self) -> dict[str, Any]:
        """Backend, model and every setting given that can change a reply or its status (no credentials).

        Built by exclusion: every setting is in unless the backend's schema lists
        it in ``not_reply`` (prices, description, card metadata, retry policy,
        vLLM placement). The cache key and the run's identity both use it, so it
        is plain JSON data and depends on nothing but the settings given.
        """
        return reply_part(self.backend, self.model, self._given(), type(self.settings).not_reply)

    def _given(self) -> dict[str, Any]:
        """The settings the judge file and the command line set, typed, without the model."""
        given = self.settings.model_dump(exclude_unset=True)
        given.pop("model", None)
        return given


def reply_part(
    backend: str, model: str | None, settings: Mapping[str, Any], not_reply: frozenset[str]
) -> dict[str, Any]:
    """``settings`` less the ``not_reply`` keys (dotted for a key inside a block), with backend and model first.

    A block left empty is dropped: every backend reads an empty block as an
    absent one, so ``engine: {tensor_parallel_size: 8}`` and no ``engine`` key
    must give the same key.
    """
    return _redact({"backend": backend, "model": model, **_without(settings, not_reply, "")})


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


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _redact(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value
