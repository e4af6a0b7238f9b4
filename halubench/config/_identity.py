"""A run's configuration identity: what must be equal for two runs to be the same measurement.

Results used to be keyed by (task, judge) alone, so a 32-row ``--domain`` run
silently replaced a full run and runs scored by different gold rules sat side by
side. The identity names everything that changes the rows, the prompt, the gold
rule or the replies: the task, the data (by content: hub revision or file
sha256, never a local path), the selection, the task options, the prompt
template's sha256, and the judge's reply-affecting settings with its endpoint.
Its hash, ``config_id``, names the run's files, so different configurations
live side by side and re-running one replaces only its own files.

``variant`` says in words how a configuration departs from its task's default
(selection, options, template); the leaderboard ranks only default
configurations on the same data and lists the rest apart with these words.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

# Endpoints whose prices the judge files quote; any other host is a local or private server.
OFFICIAL_HOSTS = frozenset({"api.openai.com", "api.anthropic.com"})
# Task options that say where data lives, not what it is: the dataset identity covers the content.
LOCATION_OPTIONS = frozenset({"annotations"})


def identity_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in LOCATION_OPTIONS}


def dataset_identity(provenance: Mapping[str, Any]) -> dict[str, Any]:
    """The data's identity by content: where a path appears in provenance, only its hash counts."""
    source = provenance.get("source")
    if source == "hub":
        return {key: provenance.get(key) for key in ("source", "path", "name", "split", "revision")}
    if source == "file":
        return {"source": "file", "sha256": provenance.get("sha256")}
    if source == "refchecker":
        annotations = provenance.get("annotations") or {}
        references = provenance.get("references") or {}
        return {
            "source": "refchecker",
            "settings": list(provenance.get("settings") or []),
            "annotations_commit": annotations.get("commit"),
            # A local annotations folder that differs from the pinned commit is other data.
            "annotations_modified": annotations.get("identical_to_commit") is False,
            "references": provenance.get("references_sha256")
            or {k: {f: v.get(f) for f in ("source", "path", "name", "split") if f in v} for k, v in references.items()},
            "fail_on": provenance.get("fail_on"),
        }
    return {"source": source}


def selection_identity(limit: int | None, seed: int, domains: Sequence[str]) -> dict[str, Any]:
    """The seed only matters when rows are drawn; domains are a set."""
    return {"limit": limit, "seed": seed if limit is not None else None, "domains": sorted(set(domains))}


def endpoint_info(url: str | None) -> dict[str, Any] | None:
    """The URL a judge called, reduced to what may be published: no credentials, no query."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    shown = f"{host}:{parts.port}" if parts.port else host
    return {
        "url": f"{parts.scheme}://{shown}{parts.path}".rstrip("/"),
        "host": shown,
        "official": host in OFFICIAL_HOSTS,
    }


def run_config(
    *,
    task: str,
    dataset: Mapping[str, Any],
    selection: Mapping[str, Any],
    options: Mapping[str, Any],
    template_sha256: str,
    judge: Mapping[str, Any],
    endpoint: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "task": task,
        "dataset": dict(dataset),
        "selection": dict(selection),
        "options": dict(options),
        "template_sha256": template_sha256,
        "judge": {**judge, "endpoint": endpoint["url"] if endpoint else None},
    }


def config_id(config: Mapping[str, Any]) -> str:
    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def variant(
    selection: Mapping[str, Any],
    options: Mapping[str, Any],
    default_options: Mapping[str, Any],
    template: Mapping[str, Any],
    default_template_sha256: str,
) -> list[str]:
    """How this configuration departs from the task's default, one phrase each; [] for the default."""
    differs = []
    if selection.get("limit") is not None:
        differs.append(f"--limit {selection['limit']} (seed {selection.get('seed')})")
    if selection.get("domains"):
        differs.append(f"only {', '.join(selection['domains'])}")
    for key in sorted(set(options) | set(default_options)):
        if options.get(key) != default_options.get(key):
            differs.append(f"option {key}={_plain(options.get(key))}")
    if template.get("sha256") != default_template_sha256:
        differs.append(f"template {template.get('name')} ({str(template.get('sha256'))[:8]})")
    return differs


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return "null" if value is None else str(value)
