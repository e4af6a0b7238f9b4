"""The leaderboard as text: rich tables in the terminal, Markdown and CSV files.

Reported rows carry a dagger and the citation under the table, so a printed
figure is never read as one this harness measured.
"""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from halubench.formatting import count, interval, missing, money, pct, seconds
from halubench.leaderboard import REPORTED, Leaderboard

REPORTED_MARK = "†"


def _with_interval(value: float | None, low: float | None, high: float | None) -> str:
    shown = pct(value)
    return shown if missing(low) else f"{shown} ({interval(low, high)})"


def display_frame(board: Leaderboard) -> pd.DataFrame:
    """Strings, one column per figure a reader compares; the order of the board is kept."""
    breakdown = board.breakdown or "group"
    rows = []
    for _, r in board.frame.iterrows():
        reported = r["kind"] == REPORTED
        row = {"judge": f"{r['judge']} {REPORTED_MARK}" if reported else r["judge"]}
        for group in board.groups:
            row[board.group_names[group]] = pct(r[f"acc:{group}"])
        row[f"{breakdown}-macro (95% CI)"] = _with_interval(r["acc_macro"], r.get("acc_macro_lo"),
                                                            r.get("acc_macro_hi"))
        row["micro (95% CI)"] = _with_interval(r["acc_micro"], r.get("acc_micro_lo"), r.get("acc_micro_hi"))
        row["AUROC %"] = pct(r.get("auroc"))  # blank ("-") for judges that give no score
        row["unparsed %"] = pct(r.get("unparsed_rate"))
        row["errors %"] = pct(r.get("error_rate"))
        row["$ / 1k"] = money(r.get("cost_per_1000_usd"))
        row["p50 latency"] = seconds(r.get("latency_p50_s"))
        row["n"] = count(r["n"])
        rows.append(row)
    return pd.DataFrame(rows)


def footnotes(board: Leaderboard) -> list[str]:
    """Citation, caveat and per-row notes for the reported rows of a board."""
    if board.reported is None:
        return []
    table = board.reported
    lines = [f"{REPORTED_MARK} reported, not measured here: {table.citation}"
             + (f" {table.url}" if table.url else "")]
    if table.caveat:
        lines.append(table.caveat)
    notes = board.frame[board.frame["note"].notna()]
    lines += [f"{r['judge']}: {r['note']}" for _, r in notes.iterrows()]
    return lines


def data_lines(board: Leaderboard) -> list[str]:
    measured = board.frame[board.frame["kind"] != REPORTED]
    return [f"{r['judge']}: {r['data']}, run {r['run_date']}" for _, r in measured.iterrows()]


def print_leaderboards(boards: list[Leaderboard], console: Console) -> None:
    for board in boards:
        shown = display_frame(board)
        table = Table(title=f"{board.task}: accuracy %", title_justify="left")
        for column in shown.columns:
            table.add_column(column, justify="left" if column == "judge" else "right", no_wrap=True)
        for (_, row), kind in zip(shown.iterrows(), board.frame["kind"], strict=True):
            table.add_row(*(str(v) for v in row), style="dim italic" if kind == REPORTED else None)
        console.print(table)
        for line in [*data_lines(board), *footnotes(board)]:
            console.print(f"  {line}", highlight=False, soft_wrap=True)
        console.print()


def to_markdown(boards: list[Leaderboard]) -> str:
    parts = ["# halubench leaderboard", ""]
    for board in boards:
        parts += [f"## {board.task}", "", "Accuracy in %.", ""]
        cells = display_frame(board).map(lambda v: str(v).replace("|", "\\|"))
        parts.append(cells.to_markdown(index=False, disable_numparse=True))
        parts.append("")
        parts += [f"- {line}" for line in [*data_lines(board), *footnotes(board)]]
        parts.append("")
    return "\n".join(parts)


def to_csv_frame(boards: list[Leaderboard]) -> pd.DataFrame:
    """Every board's numbers, unformatted (fractions, USD, seconds), with a task column."""
    frames = [board.frame.assign(task=board.task) for board in boards]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    first = ["task", "kind", "judge"]
    return frame[first + [c for c in frame.columns if c not in first]]
