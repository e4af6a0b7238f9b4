"""Figures computed across a board's runs: rank ranges, contested labels, when the data changed.

Only the runs on the main board count (their row's ``ranked``): runs of
another configuration are not comparable row for row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from halubench.board._contested import Contested, Details, StrongRun, find_contested
from halubench.board._leaderboard import MEASURED, BoardRow, Leaderboard, missing
from halubench.board._verdicts import Verdicts
from halubench.scoring import RankRange, RowMarks, rank_ranges


def board_score(row: BoardRow) -> float | None:
    """The figure a board is sorted by: the breakdown-macro accuracy, else accuracy."""
    for key in ("acc_macro", "acc_micro"):
        if not missing(row.get(key)):
            return float(row[key])
    return None


def ranked_rows(board: Leaderboard) -> list[BoardRow]:
    """The measured rows of the main board, best first."""
    return [r for r in board.rows if r["kind"] == MEASURED and r["ranked"]]


def board_rank_ranges(board: Leaderboard, verdicts: Verdicts) -> dict[str, RankRange]:
    """Rank ranges of the main board's runs (see ``significance``), their rows matched by id; each
    run's verdicts are read once and kept as two bit sets."""
    numbers: dict[str, int] = {}
    first: Sequence[str] = ()
    marks = {}
    for row in ranked_rows(board):
        run = verdicts(row["run_id"])
        if not numbers:
            first = run.ids
            numbers = {row_id: i for i, row_id in enumerate(first)}
        # Runs of one board mostly hold the same rows in the same order: numbered as they come.
        at = None if run.ids == first else [numbers.setdefault(row_id, len(numbers)) for row_id in run.ids]
        marks[row["run_id"]] = RowMarks.of(at, run.correct())
    return rank_ranges(marks)


def strong_candidates(board: Leaderboard, name: Callable[[str], str]) -> list[StrongRun]:
    """The board's runs that may count as strong judges (ranked, with a score); ``name`` gives the name
    to show for a run id."""
    return [StrongRun(r["run_id"], name(r["run_id"]), score)
            for r in ranked_rows(board) if (score := board_score(r)) is not None]


def board_contested(board: Leaderboard, verdicts: Verdicts, name: Callable[[str], str],
                    details: Details | None = None) -> Contested:
    """Contested rows of a board. Only the strong runs' verdicts are read; ``details`` (see
    ``find_contested``) adds texts and reasoning."""
    return find_contested(strong_candidates(board, name), board.breakdown, verdicts, details)


def data_changed(board: Leaderboard) -> str | None:
    """When the board's data last changed: its latest run's finish date (never the build's date, so
    a rebuild of unchanged results writes the same bytes)."""
    dates = [(run.summary.get("provenance") or {}).get("finished_at") for run in board.runs.values()]
    return max((d[:10] for d in dates if d), default=None)


def harness_versions(board: Leaderboard) -> list[str]:
    """The halubench versions that made the board's runs."""
    found = {(run.summary.get("provenance") or {}).get("harness_version") for run in board.runs.values()}
    return sorted(v for v in found if v)
