"""The closing lines of ``halubench run``: what the run cost and what went wrong, read from its summary.

The per-domain table says how good the judge was; these lines say whether the
figures can be trusted and what they cost (rows from cache vs called, tokens,
money, latency, the model version the API really answered with, rows without a
verdict and why). All of it is in the results JSON already; printed here so
nobody has to open it to notice 30 errors or an unexpected model version.
Keys that only some runs carry (``truncated``, ``failures``, ``usage.mode``) are
shown when present; an incomplete run is flagged by the CLI on stderr.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from halubench.report._formatting import count, money, seconds
from halubench.results import RunSummary
from halubench.scoring import SampleRecord

TOP_REASONS = 3
REASON_CHARS = 90  # an error message is text; a long one is cut, a number never is


def summary_lines(summary: RunSummary, samples: Sequence[SampleRecord], path: Path) -> list[str]:
    usage = summary.get("usage") or {}
    overall = summary["metrics"]["overall"]
    lines = [f"rows: {count(summary['n'])} judged, {count(usage.get('cached_replies', 0))} from cache, "
             f"{count(usage.get('called', summary['n']))} called"
             + (f" ({usage['mode']})" if usage.get("mode") else "")]
    if usage.get("input_tokens") is not None:
        lines.append(f"tokens: {count(usage['input_tokens'])} in, {count(usage.get('output_tokens'))} out")
    if usage.get("cost_usd") is not None:
        dated = f"dated {usage['prices_as_of']}" if usage.get("prices_as_of") else "undated"
        lines.append(f"cost: {money(usage['cost_usd'])} ({money(usage.get('cost_per_1000_usd'))} per 1,000 rows; "
                     f"prices from the judge file, {dated})")
    if usage.get("latency_p95_s"):  # in-process judges answer in no measurable time
        lines.append(f"latency: p50 {seconds(usage['latency_p50_s'])}, p95 {seconds(usage.get('latency_p95_s'))}")
    versions = usage.get("model_versions") or {}
    if versions:
        lines.append("model version" + ("s" if len(versions) > 1 else "") + " answering: "
                     + ", ".join(f"{name} ({count(n)})" for name, n in sorted(versions.items(), key=_most)))
    lines.append(_outcomes(overall))
    lines += [f"  {line}" for line in _reasons(summary, samples)]
    lines.append(f"results: {path}")
    return lines


def _most(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _outcomes(overall: Mapping[str, Any]) -> str:
    parts = [("unparsed", overall.get("unparsed")), ("truncated", overall.get("truncated")),
             ("errors", overall.get("errors")), ("too long", overall.get("too_long"))]
    shown = ", ".join(f"{count(n)} {name}" for name, n in parts if n is not None)
    return f"without a verdict: {shown}"


def _reasons(summary: RunSummary, samples: Sequence[SampleRecord]) -> list[str]:
    """Top reasons for failed calls (the summary's ``failures`` when it has them) and truncated replies."""
    failures = Counter(summary.get("failures") or Counter(
        s["error"] for s in samples if s.get("status") == "error" and s.get("error")))
    truncated = Counter(f"finish reason {s.get('finish_reason') or 'none (empty reply)'}"
                        for s in samples if s.get("status") == "truncated")
    lines = []
    for kind, reasons in (("errors", failures), ("truncated", truncated)):
        top = reasons.most_common(TOP_REASONS)
        if top:
            more = len(reasons) - len(top)
            lines.append(f"{kind}: " + "; ".join(f"{n} × {_cut(reason)}" for reason, n in top)
                         + (f"; {more} other reasons" if more else ""))
    return lines


def _cut(reason: str) -> str:
    reason = " ".join(str(reason).split())
    return reason if len(reason) <= REASON_CHARS else reason[:REASON_CHARS - 1] + "…"
