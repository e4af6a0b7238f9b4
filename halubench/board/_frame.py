"""The leaderboard as data: one pandas frame per task, measured runs and reported rows.

Generic over tasks: the columns come from each summary's first breakdown
(``by_domain`` for HaluBench, ``by_setting`` / ``by_responder`` for RefChecker)
and its labels, never from a list of HaluBench's domains. The terminal report,
the Markdown and CSV files and the static site all render these frames.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from halubench.board._reported import ReportedTable, load_reported
from halubench.results import StoredRun
from halubench.scoring import macro_interval

MEASURED, REPORTED = "measured", "reported"
HEAD_COLUMNS = ("kind", "judge", "run_id", "config_id", "ranked", "apart", "endpoint", "model", "n", "data",
                "run_date")
GROUP_PARTS = ("acc", "lo", "hi", "n")  # per group: accuracy, its 95% CI, rows
TAIL_COLUMNS = (
    "acc_micro", "acc_micro_lo", "acc_micro_hi", "acc_macro", "acc_macro_lo", "acc_macro_hi",
    "unparsed_rate", "truncated_rate", "error_rate", "cost_per_1000_usd", "latency_p50_s", "note", "same_model",
    "ensemble_of", "auroc",
)


def dataset_label(summary: dict[str, Any]) -> str:
    """Where the rows came from, short: hub id and revision, or file name and hash (no local paths)."""
    provenance = summary.get("provenance", {})
    dataset = provenance.get("dataset") or {}
    if dataset.get("source") == "hub":
        revision = dataset.get("revision")
        label = f"{dataset.get('path')}@{revision[:7]}" if revision else str(dataset.get("path"))
    elif dataset.get("source") == "file":
        label = f"{Path(str(dataset.get('path'))).name} ({str(dataset.get('sha256', ''))[:8]})"
    elif dataset.get("source") == "refchecker":
        commit = str((dataset.get("annotations") or {}).get("commit") or "")[:7]
        label = f"RefChecker annotations@{commit or '?'}"
        if dataset.get("references_sha256"):
            label += f", references ({dataset['references_sha256'][:8]})"
    else:
        label = str(dataset.get("source") or "?")
    selection = provenance.get("selection") or {}
    if selection.get("limit"):
        label += f", {selection['limit']} drawn (seed {selection.get('seed')})"
    if selection.get("domains"):
        label += f", only {', '.join(selection['domains'])}"
    return label


def _rate(metrics: dict[str, Any], *keys: str) -> float | None:
    return sum(metrics.get(k, 0) for k in keys) / metrics["n"] if metrics.get("n") else None


@dataclass
class Leaderboard:
    """One task's table: ``frame`` has a row per measured run and per reported row."""

    task: str
    breakdown: str | None
    groups: list[str]  # column order
    group_names: dict[str, str]  # group -> name shown (a paper's spelling when it has one)
    labels: list[str]
    frame: pd.DataFrame
    reported: ReportedTable | None = None
    runs: dict[str, StoredRun] = field(default_factory=dict)  # run_id -> run


def failures_text(summary: dict[str, Any]) -> str:
    failures = summary.get("failures") or {}
    count = sum(failures.values())
    top = ", ".join(f"{reason} x{n}" for reason, n in list(failures.items())[:2])
    return f"incomplete: {count} failed row{'s' if count != 1 else ''}" + (f" ({top})" if top else "")


def comparable_set(runs: list[StoredRun]) -> tuple[set[str], dict[str, str]]:
    """Which runs a task's main board ranks, and for every other run what differs.

    Ranked: complete runs of the task's default configuration (whole task, the
    task file's options, its own template) on one dataset identity, the one most
    such runs share (ties: the most recently finished). Everything else is listed
    apart with the reason, never ranked beside them.
    """
    apart: dict[str, str] = {}
    for run in runs:
        if not run.complete:
            apart[run.run_id] = failures_text(run.summary)
        elif run.variant:
            apart[run.run_id] = "; ".join(run.variant)
    candidates = [r for r in runs if r.run_id not in apart]
    if candidates:
        counts = Counter(r.dataset_key for r in candidates)
        latest = {r.dataset_key: (r.summary.get("provenance") or {}).get("finished_at") or "" for r in candidates}
        main = max(counts, key=lambda key: (counts[key], latest[key]))
        for run in candidates:
            if run.dataset_key != main:
                apart[run.run_id] = f"other data: {dataset_label(run.summary)}"
    ranked = {r.run_id for r in runs if r.run_id not in apart}
    return ranked, apart


def _measured_row(run: StoredRun, groups: list[str], ranked: bool, apart: str | None) -> dict[str, Any]:
    summary = run.summary
    overall = summary["metrics"]["overall"]
    by_group = run.groups
    usage = summary.get("usage") or {}
    provenance = summary.get("provenance") or {}
    row: dict[str, Any] = {
        "kind": MEASURED,
        "judge": run.judge,
        "run_id": run.run_id,
        "config_id": run.config_id,
        "ranked": ranked,
        "apart": apart,
        "endpoint": run.private_endpoint,
        "model": run.model,
        "n": summary["n"],
        "data": dataset_label(summary),
        "run_date": (provenance.get("finished_at") or "")[:10] or None,
    }
    for group in groups:
        m = by_group.get(group)
        row[f"acc:{group}"] = m["accuracy"] if m else None
        row[f"lo:{group}"], row[f"hi:{group}"] = m["accuracy_ci95"] if m else (None, None)
        row[f"n:{group}"] = m["n"] if m else None
    row["acc_micro"] = overall["accuracy"]
    row["acc_micro_lo"], row["acc_micro_hi"] = overall["accuracy_ci95"]
    macro_key = f"{run.breakdown}_macro_accuracy"
    row["acc_macro"] = overall.get(macro_key)
    interval = macro_interval([(m["correct"], m["n"]) for m in by_group.values()])
    row["acc_macro_lo"], row["acc_macro_hi"] = interval or (None, None)
    row["unparsed_rate"] = _rate(overall, "unparsed")
    row["truncated_rate"] = _rate(overall, "truncated")
    row["error_rate"] = _rate(overall, "errors", "too_long")
    # The judge file's prices are the official API's: a run against another server has no known cost.
    row["cost_per_1000_usd"] = None if run.private_endpoint else usage.get("cost_per_1000_usd")
    row["latency_p50_s"] = usage.get("latency_p50_s")
    row["note"] = None
    # An ensemble (halubench.board) names its member runs, so a board can mark it and link them.
    ensemble = summary.get("ensemble")
    row["ensemble_of"] = ", ".join(ensemble["members"]) if ensemble else None
    row["auroc"] = overall.get("auroc")  # judges with scores only (halubench.scoring)
    return row


def _reported_row(table: ReportedTable, index: int, groups: list[str]) -> dict[str, Any]:
    reported = table.rows[index]
    row: dict[str, Any] = {
        "kind": REPORTED, "judge": reported.judge, "run_id": None, "config_id": None, "ranked": False,
        "apart": None, "endpoint": None, "model": None, "n": None,
        "data": table.source, "run_date": None,
    }
    for group in groups:
        row[f"acc:{group}"] = reported.accuracy.get(group)
    macro = table.overall_is.endswith("macro_accuracy")
    row["acc_macro" if macro else "acc_micro"] = reported.overall
    row["note"] = " ".join(reported.notes) or None
    return row


def _cross_links(measured: list[StoredRun], table: ReportedTable | None) -> dict[str, list[str]]:
    """Reported rows and measured runs of the same model, both ways (by row key)."""
    links: dict[str, list[str]] = {}
    if table is None:
        return links
    for reported in table.rows:
        # An ensemble is no single model, whatever its name says.
        for run in (r for r in measured if "ensemble" not in r.summary):
            if reported.matches(run.judge, run.model):
                links.setdefault(f"reported:{reported.judge}", []).append(run.judge)
                links.setdefault(run.run_id, []).append(reported.judge)
    return links


def build_leaderboards(runs: list[StoredRun], reported: list[ReportedTable] | None = None) -> list[Leaderboard]:
    """One leaderboard per task seen in ``runs`` or in a reported table, sorted by name."""
    reported = load_reported() if reported is None else reported
    by_task: dict[str, list[StoredRun]] = {}
    for run in runs:
        by_task.setdefault(run.task, []).append(run)
    tables = {t.task: t for t in reported}
    boards = []
    for task in sorted(set(by_task) | set(tables)):
        members, table = by_task.get(task, []), tables.get(task)
        breakdowns = Counter(r.breakdown for r in members if r.breakdown)
        breakdown = breakdowns.most_common(1)[0][0] if breakdowns else (table.breakdown if table else None)
        seen = {g for r in members if r.breakdown == breakdown for g in r.groups}
        printed = list(table.groups) if table else []
        groups = printed + sorted(seen - set(printed), key=lambda g: (g.lower(), g))
        labels = next((list(r.summary["labels"]) for r in members), [])
        ranked, apart = comparable_set(members)
        rows = [_measured_row(r, groups, r.run_id in ranked, apart.get(r.run_id)) for r in members]
        if table:
            rows += [_reported_row(table, i, groups) for i in range(len(table.rows))]
        links = _cross_links(members, table)
        for row in rows:
            key = row["run_id"] or f"reported:{row['judge']}"
            row["same_model"] = ", ".join(links.get(key, [])) or None
        columns = [*HEAD_COLUMNS, *(f"{p}:{g}" for g in groups for p in GROUP_PARTS), *TAIL_COLUMNS]
        frame = pd.DataFrame(rows, columns=columns)
        score = "acc_macro" if breakdown else "acc_micro"
        # The main board (ranked runs and the papers' reported rows) first, then runs measured differently.
        frame["_apart"] = frame["apart"].notna()
        frame = frame.sort_values(["_apart", score, "acc_micro"], ascending=[True, False, False],
                                  na_position="last", kind="stable").drop(columns="_apart")
        boards.append(Leaderboard(
            task=task, breakdown=breakdown, groups=groups,
            group_names={g: (table.groups.get(g, g) if table else g) for g in groups},
            labels=labels, frame=frame.reset_index(drop=True), reported=table,
            runs={r.run_id: r for r in members},
        ))
    return boards


def to_csv_frame(boards: list[Leaderboard]) -> pd.DataFrame:
    """Every board's numbers, unformatted (fractions, USD, seconds), with a task column."""
    frames = [board.frame.assign(task=board.task) for board in boards]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    first = ["task", "kind", "judge"]
    return frame[first + [c for c in frame.columns if c not in first]]


def missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
