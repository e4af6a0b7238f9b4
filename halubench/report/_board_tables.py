"""The leaderboard as text: rich tables in the terminal, Markdown and CSV files.

Reported rows carry a dagger and the citation under the table, so a printed
figure is never read as one this harness measured.
"""

from __future__ import annotations

from rich.console import Console
from tabulate import tabulate

from halubench.board import (
    AGREE,
    REPORTED,
    BoardRow,
    Leaderboard,
    board_contested,
    missing,
    partial_auroc,
    reproductions,
    run_verdicts,
)
from halubench.report._fit import Narrowing, Rows, drop, fitted
from halubench.report._formatting import count, interval, money, pct, seconds

REPORTED_MARK = "†"
PARTIAL_MARK = "‡"  # an AUROC over only the rows with a score (a note under the table says how many)
ENSEMBLE_MARK = "(ensemble)"


def _with_interval(value: float | None, low: float | None, high: float | None) -> str:
    shown = pct(value)
    return shown if missing(low) else f"{shown} ({interval(low, high)})"


def judge_label(r: BoardRow) -> str:
    """The judge's name, with the endpoint when it is not the provider's own (a local server)."""
    if r["kind"] == REPORTED:
        return f"{r['judge']} {REPORTED_MARK}"
    if isinstance(r.get("ensemble_of"), str):
        return f"{r['judge']} {ENSEMBLE_MARK}"
    return f"{r['judge']} @ {r['endpoint']}" if isinstance(r.get("endpoint"), str) else r["judge"]


def main_rows(board: Leaderboard) -> list[BoardRow]:
    """The ranked runs and the papers' reported rows: runs measured the same way."""
    return [r for r in board.rows if r["apart"] is None]


def apart_rows(board: Leaderboard) -> list[BoardRow]:
    """Runs measured differently (subset, options, template, data) or incomplete: listed, never ranked."""
    return [r for r in board.rows if r["apart"] is not None]


def display_rows(board: Leaderboard, rows: list[BoardRow] | None = None) -> Rows:
    """Strings, one column per figure a reader compares; the order of the board is kept."""
    breakdown = board.breakdown or "group"
    shown = []
    for r in main_rows(board) if rows is None else rows:
        row = {"judge": judge_label(r), "provenance": r["provenance"]}
        for group in board.groups:
            row[board.group_names[group]] = pct(r[f"acc:{group}"])
        row[f"{breakdown}-macro (95% CI)"] = _with_interval(r.get("acc_macro"), r.get("acc_macro_lo"),
                                                            r.get("acc_macro_hi"))
        row["micro (95% CI)"] = _with_interval(r.get("acc_micro"), r.get("acc_micro_lo"), r.get("acc_micro_hi"))
        row["AUROC %"] = auroc_text(r)
        row["unparsed %"] = pct(r.get("unparsed_rate"))
        row["truncated %"] = pct(r.get("truncated_rate"))
        row["errors %"] = pct(r.get("error_rate"))
        row["$ / 1k"] = money(r.get("cost_per_1000_usd"))
        row["p50 latency"] = seconds(r.get("latency_p50_s"))
        row["n"] = count(r["n"])
        if isinstance(r.get("apart"), str):
            row["measured differently"] = r["apart"]
        shown.append(row)
    return shown


def auroc_text(r: BoardRow) -> str:
    """AUROC in %, marked when it covers only some rows; a dash for judges that give no score."""
    return f"{pct(r['auroc'])} {PARTIAL_MARK}" if partial_auroc(r) else pct(r.get("auroc"))


def coverage_lines(rows: list[BoardRow]) -> list[str]:
    """What each marked AUROC covers: accuracy counts every row, AUROC only the rows with a score."""
    partial = [r for r in rows if partial_auroc(r)]
    if not partial:
        return []
    covered = "; ".join(f"{r['judge']} {count(r['auroc_scored'])} of {count(r['n'])} "
                        f"({pct(r['auroc_coverage'])}%)" for r in partial)
    return [f"{PARTIAL_MARK} AUROC over the rows with a score only (the rest failed or had none), not every "
            f"row as accuracy: {covered}"]


def footnotes(board: Leaderboard) -> list[str]:
    """Citation, caveat and per-row notes for the reported rows of a board."""
    if board.reported is None:
        return []
    table = board.reported
    lines = [f"{REPORTED_MARK} reported, not measured here: {table.citation}"
             + (f" {table.url}" if table.url else "")]
    if table.caveat:
        lines.append(table.caveat)
    lines += [f"{r['judge']}: {r['note']}" for r in board.rows if r["note"] is not None]
    return lines


def data_lines(board: Leaderboard) -> list[str]:
    return [f"{r['judge']} ({r['provenance']}): {r['data']}, run {r['run_date']}" for r in main_rows(board)
            if r["kind"] != REPORTED]


def ensemble_lines(board: Leaderboard) -> list[str]:
    """What each ensemble on the board votes with: its rule and its members' judges."""
    lines = []
    for run_id in (r["run_id"] for r in board.rows if r.get("ensemble_of") is not None):
        summary = board.runs[run_id].summary
        weights = summary["ensemble"].get("weights") or {}
        members = ", ".join(m["judge"] + (f" (weight {weights[m['judge']]:.2f})" if weights else "")
                            for m in summary["provenance"]["members"])
        lines.append(f"{summary['judge']} {ENSEMBLE_MARK}: {summary['ensemble']['rule']} of {members}, "
                     "from their stored runs (no model call)")
    return lines


def reproduction_lines(board: Leaderboard) -> list[str]:
    """Each judge with a submitted and a reproduced run on the main board: both figures and the paired test."""
    return [f"reproducibility check: {check.describe()}" for check in reproductions(board)]


def _without_intervals(rows: Rows) -> Rows:
    """The accuracy columns without their 95% CIs: "50.0 (41.1–58.9)" -> "50.0"."""
    ci = " (95% CI)"
    return [{k.removesuffix(ci): v.split(" (")[0] if k.endswith(ci) else v for k, v in row.items()} for row in rows]


# What a narrow terminal leaves out first: the least important figures for ranking judges.
NARROWINGS = (
    drop("latency", "p50 latency"),
    drop("cost", "$ / 1k"),
    Narrowing("95% CIs", _without_intervals),
    drop("row counts", "n"),
)
APART_TITLE = "not ranked: measured differently or incomplete"


def print_leaderboards(boards: list[Leaderboard], console: Console) -> None:
    for board in boards:
        _print_table(console, f"{board.task}: accuracy %", board, main_rows(board))
        for line in [*coverage_lines(main_rows(board)), *data_lines(board), *ensemble_lines(board),
                     *reproduction_lines(board), *footnotes(board)]:
            console.print(f"  {line}", highlight=False, soft_wrap=True)
        apart = apart_rows(board)
        if apart:
            _print_table(console, f"{board.task}: {APART_TITLE}", board, apart)
            for line in coverage_lines(apart):
                console.print(f"  {line}", highlight=False, soft_wrap=True)
        console.print()


def _print_table(console: Console, title: str, board: Leaderboard, rows: list[BoardRow]) -> None:
    """Every figure whole: a narrow terminal loses the least important columns (with a note), or stacks."""
    styles = ["dim italic" if r["kind"] == REPORTED else None for r in rows]
    table, left_out = fitted(display_rows(board, rows), console, NARROWINGS, title, styles,
                             left=("judge", "provenance"), prose=("measured differently",))
    console.print(table)
    if left_out:
        console.print(f"  narrow terminal: {', '.join(left_out)} left out (wider terminal or --markdown for all)",
                      highlight=False)


def _markdown_table(shown: Rows) -> str:
    escaped = [{k: v.replace("|", "\\|") for k, v in row.items()} for row in shown]
    return tabulate(escaped, headers="keys", tablefmt="pipe", disable_numparse=True)


def to_markdown(boards: list[Leaderboard]) -> str:
    parts = ["# halubench leaderboard", ""]
    for board in boards:
        parts += [f"## {board.task}", "", "Accuracy in %.", "", _markdown_table(display_rows(board)), ""]
        parts += [f"- {line}" for line in [*coverage_lines(main_rows(board)), *data_lines(board),
                                           *ensemble_lines(board), *reproduction_lines(board),
                                           *footnotes(board)]]
        parts.append("")
        apart = apart_rows(board)
        if apart:
            parts += [f"### {board.task}: {APART_TITLE}", "", _markdown_table(display_rows(board, apart)), ""]
            notes = coverage_lines(apart)
            parts += [*(f"- {line}" for line in notes), *([""] if notes else [])]
    return "\n".join(parts)


def contested_lines(board: Leaderboard) -> list[str]:
    """How many rows most strong judges call the other way, per group (rule: ``halubench.board``)."""
    if not board.runs:
        return []
    found = board_contested(board, lambda run_id: run_verdicts(board.runs[run_id], board.breakdown),
                            lambda run_id: board.runs[run_id].judge)
    if len(found.strong) < AGREE:
        return [f"{board.task}: contested labels need {AGREE} strong judges, {len(found.strong)} found"]
    counts = ", ".join(f"{group or '–'} {n}" for group, n in found.counts.items()) or "none"
    return [f"{board.task}: contested labels by {found.breakdown or 'group'} ({sum(found.counts.values())}): "
            f"{counts} (judges: {', '.join(run.name for run in found.strong)})"]
