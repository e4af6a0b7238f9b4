"""A run's summary as stored: its top-level keys typed, the JSON itself plain.

``halubench.run`` builds a summary once from its inputs; every reader gets it
inside a ``StoredRun``. The keys below are in their order on disk
(docs/results-format.md).
"""

from __future__ import annotations

from typing import Any

from typing_extensions import NotRequired, TypedDict  # NotRequired: Python 3.11's typing


class RunUsage(TypedDict):
    """Tokens, cost, latency and model versions of a run's rows."""

    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None  # None: unknown (no price for a mode that answered), never free
    cost_per_1000_usd: float | None
    latency_p50_s: float | None  # over answered rows
    latency_p95_s: float | None
    model_versions: dict[str, int]  # version -> rows it answered
    cached_replies: int
    called: int
    mode: NotRequired[str]  # a run that called a judge: sync or batch, the prices its rows cost
    prices_as_of: NotRequired[str | None]


class RunSummary(TypedDict):
    """A results summary (``<config_id>.json``)."""

    format: NotRequired[str]  # FORMAT (FORMAT_V1 upgraded on reading); written by ``write_run``
    task: str
    judge: str
    config_id: str  # hash of ``config``: names the run's files
    config: dict[str, Any]  # the configuration identity (halubench.config)
    variant: list[str]  # how the configuration departs from the task's default; [] for the default
    complete: bool
    failures: dict[str, int]  # failed rows by reason, most common first (``failure_reasons``)
    endpoint: dict[str, Any] | None
    n: int
    excluded: NotRequired[dict[str, Any]]  # rows the loader left out, when it left any out
    labels: list[str]
    positive_label: str | None
    metrics: dict[str, Any]
    usage: RunUsage
    provenance: dict[str, Any]
    ensemble: NotRequired[dict[str, Any]]  # an ensemble's rule, member run ids and weights
    samples_file: NotRequired[str]  # beside the summary; written by ``write_run``
    texts_file: NotRequired[str]
