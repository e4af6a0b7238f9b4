"""The leaderboard as data: one board per task, a row per measured run and per reported row.

Generic over tasks: the columns come from each summary's first breakdown
(``by_domain`` for HaluBench, ``by_setting`` / ``by_responder`` for RefChecker)
and its labels, never from a list of HaluBench's domains. The rows are built
once, in the board's order, and every view reads them as they are: the
terminal report, the Markdown file and the static site; the CSV file is the
one table made of them (``to_csv_frame``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from halubench.board._reported import ReportedTable, load_reported
from halubench.results import REPRODUCED, RunSummary, StoredRun, describe_failures, load_runs
from halubench.scoring import macro_interval

if TYPE_CHECKING:
    import pandas as pd

MEASURED, REPORTED = "measured", "reported"
HEAD_COLUMNS = ("kind", "provenance", "judge", "run_id", "config_id", "ranked", "apart", "endpoint", "model", "n",
                "data", "run_date")
GROUP_PARTS = ("acc", "lo", "hi", "n")  # per group: accuracy, its 95% CI, rows
TAIL_COLUMNS = (
    "acc_micro", "acc_micro_lo", "acc_micro_hi", "acc_macro", "acc_macro_lo", "acc_macro_hi",
    "unparsed_rate", "truncated_rate", "error_rate", "cost_per_1000_usd", "latency_p50_s", "note", "same_model",
    "ensemble_of", "auroc", "auroc_scored", "auroc_coverage",
)
# One row of a board, by column (HEAD_COLUMNS, GROUP_PARTS per group as ``acc:<group>``, TAIL_COLUMNS):
# a dict, as the columns depend on the task's groups. A reported row lacks the figures a paper does
# not give (CIs, rates, cost, latency, AUROC): read those with ``.get``. A run's figure may be None.
BoardRow = dict[str, Any]


def _is_count(column: str) -> bool:
    """Row counts (``n``, ``n:<group>``, ``auroc_scored``): integers in every table, blank where absent."""
    return column in ("n", "auroc_scored") or column.startswith("n:")


def partial_auroc(row: BoardRow) -> bool:
    """An AUROC over only some of the run's rows (the others have no score): never shown or sorted as if
    it covered them all, since it may rank a judge on its easy rows (``auroc_coverage`` says how many)."""
    coverage = row.get("auroc_coverage")
    return not missing(row.get("auroc")) and not missing(coverage) and coverage < 1


def dataset_label(summary: RunSummary) -> str:
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
    """One task's table: a row per measured run and per reported row, in the board's order
    (the main board, best first, then the runs measured differently)."""

    task: str
    breakdown: str | None
    groups: list[str]  # column order
    group_names: dict[str, str]  # group -> name shown (a paper's spelling when it has one)
    labels: list[str]
    rows: list[BoardRow]
    reported: ReportedTable | None = None
    runs: dict[str, StoredRun] = field(default_factory=dict)  # run_id -> run

    @property
    def columns(self) -> list[str]:
        return _columns(self.groups)

    def row(self, run_id: str) -> BoardRow:
        """A measured run's row."""
        return next(r for r in self.rows if r["run_id"] == run_id)

    @property
    def frame(self) -> pd.DataFrame:
        """The rows as a pandas frame, one column per figure (for notebooks and the CSV file); counts
        stay integers (pandas' nullable ``Int64``) beside rows that have none."""
        import pandas as pd  # here, not at the top: importing halubench.board (every command) stays light

        return _counts_as_integers(pd.DataFrame(self.rows, columns=self.columns))


def _columns(groups: list[str]) -> list[str]:
    return [*HEAD_COLUMNS, *(f"{p}:{g}" for g in groups for p in GROUP_PARTS), *TAIL_COLUMNS]


def _incomplete(summary: RunSummary) -> str:
    rows, reasons = describe_failures(summary.get("failures") or {}, "failed row", shown=2, separator=", ")
    return f"incomplete: {rows}" + (f" ({reasons})" if reasons else "")


def comparable_set(runs: list[StoredRun]) -> tuple[set[str], dict[str, str]]:
    """Which runs a task's main board ranks, and for every other run what differs.

    Ranked: complete runs of the task's default configuration (whole task, the
    task file's options, its own template) on one dataset identity, the one most
    such reproduced runs share (then most such runs; ties: the most recently
    finished), so submissions never move the board onto their data. Everything
    else is listed apart with the reason, never ranked beside them; the rule is
    the same for reproduced and submitted runs.
    """
    apart: dict[str, str] = {}
    for run in runs:
        if not run.complete:
            apart[run.run_id] = _incomplete(run.summary)
        elif run.variant:
            apart[run.run_id] = "; ".join(run.variant)
    candidates = [r for r in runs if r.run_id not in apart]
    if candidates:
        counts = Counter(r.dataset_key for r in candidates)
        reproduced = Counter(r.dataset_key for r in candidates if r.obtained == REPRODUCED)
        latest = {r.dataset_key: (r.summary.get("provenance") or {}).get("finished_at") or "" for r in candidates}
        main = max(counts, key=lambda key: (reproduced[key], counts[key], latest[key]))
        for run in candidates:
            if run.dataset_key != main:
                apart[run.run_id] = f"other data: {dataset_label(run.summary)}"
    ranked = {r.run_id for r in runs if r.run_id not in apart}
    return ranked, apart


def _measured_row(run: StoredRun, groups: list[str], ranked: bool, apart: str | None) -> BoardRow:
    summary = run.summary
    overall = summary["metrics"]["overall"]
    by_group = run.groups
    usage = summary.get("usage") or {}
    provenance = summary.get("provenance") or {}
    row: dict[str, Any] = {
        "kind": MEASURED,
        "provenance": run.obtained,  # how the row was obtained: reproduced, submitted (or, for a paper's, reported)
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
    # Over the rows with a score alone: failed calls, rows too long, unscored replies have none.
    scored = overall.get("scored") if row["auroc"] is not None else None
    row["auroc_scored"] = scored
    row["auroc_coverage"] = scored / summary["n"] if scored is not None and summary["n"] else None
    return row


def _reported_row(table: ReportedTable, index: int, groups: list[str]) -> BoardRow:
    reported = table.rows[index]
    row: dict[str, Any] = {
        "kind": REPORTED, "provenance": REPORTED, "judge": reported.judge, "run_id": None, "config_id": None,
        "ranked": False, "apart": None, "endpoint": None, "model": None, "n": None,
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
        rows = _board_order(rows, "acc_macro" if breakdown else "acc_micro")
        boards.append(Leaderboard(
            task=task, breakdown=breakdown, groups=groups,
            group_names={g: (table.groups.get(g, g) if table else g) for g in groups},
            labels=labels, rows=rows, reported=table, runs={r.run_id: r for r in members},
        ))
    return boards


def leaderboards(
    results_dir: str | Path = "results",
    *,
    tasks: str | Iterable[str] = (),
    reported: bool = True,
    submissions: str | Path | None = "submissions",
) -> list[Leaderboard]:
    """One board per task (``halubench report``): the runs of ``results_dir`` and the accepted submissions
    under ``submissions`` (None: none), only ``tasks`` when given, with the papers' figures unless
    ``reported`` is False."""
    boards = build_leaderboards(load_runs(Path(results_dir), submissions), None if reported else [])
    wanted = [tasks] if isinstance(tasks, str) else list(tasks)
    return [b for b in boards if b.task in wanted] if wanted else boards


def _board_order(rows: list[BoardRow], score: str) -> list[BoardRow]:
    """The main board (ranked runs and the papers' reported rows) first, then runs measured
    differently; each best first by ``score``, then micro accuracy; a row without a figure last."""
    def descending(value: Any) -> tuple[bool, float]:
        return (True, 0.0) if missing(value) else (False, -float(value))

    return sorted(rows, key=lambda r: (r["apart"] is not None, descending(r.get(score)),
                                       descending(r.get("acc_micro"))))


def to_csv_frame(boards: list[Leaderboard]) -> pd.DataFrame:
    """Every board's numbers, unformatted (fractions, USD, seconds), with a task column."""
    import pandas as pd

    frames = [board.frame.assign(task=board.task) for board in boards]
    frame = _counts_as_integers(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
    first = ["task", "kind", "judge"]
    return frame[first + [c for c in frame.columns if c not in first]]


def _counts_as_integers(frame: pd.DataFrame) -> pd.DataFrame:
    """A column of counts with a missing value would be float (``2628.0``) in plain pandas."""
    return frame.astype({c: "Int64" for c in frame.columns if _is_count(c)})


def missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
