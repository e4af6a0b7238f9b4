"""A run's summary: metrics, usage, provenance and its configuration identity, in one place.

The runner, the lm-eval importer and ensembles all write runs; building their
summaries here keeps one definition of identity, completeness and provenance,
so a run is comparable with another whatever produced it.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from halubench._version import __version__
from halubench.backends import RunCost
from halubench.config import (
    PACKAGE_DIR,
    builtin_dirs,
    config_id,
    dataset_identity,
    endpoint_info,
    identity_options,
    run_config,
    selection_identity,
    variant,
)
from halubench.data import TaskSpec
from halubench.results import RunSummary, RunUsage, failure_reasons
from halubench.scoring import SampleRecord


class NamedTemplate(Protocol):
    """What a summary needs of a prompt template: a ``PromptTemplate``, or an ensemble's members' by hash."""

    @property
    def name(self) -> str: ...

    @property
    def sha256(self) -> str: ...


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def machine_platform() -> str:
    """The operating system and processor ("Linux-x86_64"), which can move a local model's figures; not the
    kernel build or C library (``platform.platform()``), which differ on nearly every machine, say nothing of
    a run and would mark a machine in published files."""
    return f"{platform.system()}-{platform.machine()}"


def portable_path(path: str | Path, results_dir: Path) -> str:
    """A path fit for a published file: ``halubench:`` inside the package, else relative to the results."""
    absolute = Path(path).resolve()
    for root, prefix in [*((d, f"halubench:{d.name}") for d in builtin_dirs()), (PACKAGE_DIR, "halubench:")]:
        if absolute.is_relative_to(root):
            rest = absolute.relative_to(root).as_posix()
            return f"{prefix}/{rest}" if not prefix.endswith(":") else f"{prefix}{rest}"
    return Path(os.path.relpath(absolute, results_dir.resolve())).as_posix()


def portable_provenance(value: Any, results_dir: Path) -> Any:
    """Dataset provenance with every local path made portable (hub ids are left alone)."""
    if isinstance(value, Mapping):
        local = value.get("source") in ("file", "directory", "download")
        return {
            k: portable_path(v, results_dir) if isinstance(v, str) and (k == "cache" or (local and k == "path"))
            else portable_provenance(v, results_dir)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [portable_provenance(v, results_dir) for v in value]
    return value


def _percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def usage_summary(records: Sequence[SampleRecord], cost: RunCost) -> RunUsage:
    """Tokens, cost, latency and model versions; the cost is given, as the records cannot price themselves."""
    def total(key: str) -> int | None:
        values = [r[key] for r in records if r.get(key) is not None]
        return sum(values) if values else None

    answered = [r for r in records if r["status"] not in ("error", "too_long")]
    latencies = sorted(r["latency_s"] for r in answered if r.get("latency_s") is not None)
    return {
        "input_tokens": total("input_tokens"),
        "output_tokens": total("output_tokens"),
        "cost_usd": cost.usd,
        "cost_per_1000_usd": cost.usd * 1000 / len(records) if cost.usd is not None and records else None,
        "latency_p50_s": _percentile(latencies, 50),
        "latency_p95_s": _percentile(latencies, 95),
        "model_versions": dict(Counter(r["model_version"] for r in records if r.get("model_version"))),
        "cached_replies": sum(1 for r in records if r.get("cached")),
        "called": sum(1 for r in records if not r.get("cached")),
        **({"mode": cost.mode, "prices_as_of": cost.prices_as_of} if cost.mode is not None else {}),
    }


def build_summary(
    *,
    task: TaskSpec,
    judge: str,
    judge_settings: Mapping[str, Any],
    public_settings: Mapping[str, Any],
    endpoint_url: str | None,
    dataset: Mapping[str, Any],
    rows_available: int,
    limit: int | None,
    seed: int,
    domains: Sequence[str],
    template: NamedTemplate,
    default_template: NamedTemplate,
    records: Sequence[SampleRecord],
    metrics: Mapping[str, Any],
    excluded: Mapping[str, Any],
    results_dir: Path,
    started_at: str,
    cost: RunCost,
    published_dataset: Mapping[str, Any] | None = None,
    extra_variant: Sequence[str] = (),
    extra_provenance: Mapping[str, Any] | None = None,
    ensemble: Mapping[str, Any] | None = None,
) -> RunSummary:
    """The summary a results file holds, whole: nothing is added to it afterwards.

    ``judge_settings`` are the reply-affecting ones. ``cost`` is what the records
    cannot say (the prices of the mode that answered, an ensemble's members' sum).
    ``published_dataset`` is the dataset provenance when the caller has it in its
    published form already (an ensemble: its members'); else it is ``dataset``
    with local paths made portable. ``extra_variant`` adds to the ways the run
    departs from its task's default; ``ensemble`` marks an ensemble's run.
    """
    endpoint = endpoint_info(endpoint_url)
    selection = selection_identity(limit, seed, domains)
    options = identity_options(task.options)
    config = run_config(
        task=task.name, dataset=dataset_identity(dataset), selection=selection, options=options,
        template_sha256=template.sha256, judge=judge_settings, endpoint=endpoint,
    )
    failures = failure_reasons(records)
    return {
        "task": task.name,
        "judge": judge,
        "config_id": config_id(config),
        "config": config,
        "variant": variant(
            selection, options, identity_options(task.default_options),
            {"name": template.name, "sha256": template.sha256}, default_template.sha256,
        ) + list(extra_variant),
        "complete": not failures,
        "failures": failures,
        "endpoint": endpoint,
        "n": len(records),
        **({"excluded": dict(excluded)} if excluded else {}),
        "labels": list(task.labels),
        "positive_label": task.positive_label,
        "metrics": dict(metrics),
        # At the judge file's prices, which are the official API's: the board hides the cost of a
        # run against another endpoint (``endpoint.official`` false), whose real cost is unknown.
        "usage": usage_summary(records, cost),
        "provenance": {
            "harness_version": __version__,
            "python": sys.version.split()[0],
            "platform": machine_platform(),
            "task_file": portable_path(task.source, results_dir) if task.source else None,
            "dataset": published_dataset if published_dataset is not None
            else portable_provenance(dict(dataset), results_dir),
            "selection": {"rows_available": rows_available, "domains": list(domains), "limit": limit, "seed": seed},
            "prompt_template": {"name": template.name, "sha256": template.sha256},
            "judge": dict(public_settings),
            **dict(extra_provenance or {}),
            "started_at": started_at,
            "finished_at": now(),
        },
        **({"ensemble": dict(ensemble)} if ensemble is not None else {}),
    }
