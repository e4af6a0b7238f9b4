"""Where an accepted submission would rank on today's board: its rank range and its headline figure.

The board is the task's as ``halubench report`` builds it: the runs of a
results folder (the published results, in CI) and the submissions already
beside this one (``submissions/``), with this one added as the merge would add
it; the rank range is the board's own (pairwise McNemar tests, Holm).
"""

from __future__ import annotations

from pathlib import Path

from halubench.board import board_rank_ranges, build_leaderboards, ranked_rows, run_verdicts
from halubench.errors import HalubenchError
from halubench.report import interval, pct
from halubench.results import MANIFEST_FILE, StoredRun, read_submission, runs_under


def _beside(run: StoredRun) -> list[StoredRun]:
    """The other submissions in this one's folder (merged ones, in a pull request's checkout); one that
    does not read cleanly is not on today's board, and one of the same run is this one's older copy."""
    mine = run.path.parent
    found = []
    for folder in sorted(mine.parent.iterdir()):
        if folder == mine or not (folder / MANIFEST_FILE).is_file():
            continue
        try:
            other = read_submission(folder)
        except HalubenchError:
            continue
        if other.run_id != run.run_id:
            found.append(other)
    return found


def placement(run: StoredRun, results_dir: Path) -> str:
    """One line: the rank range among the board's ranked runs and the headline accuracy with its 95% CI."""
    others = [r for r in [*runs_under(results_dir), *_beside(run)] if r.task == run.task]
    (board,) = build_leaderboards([*others, run], reported=[])
    row = board.row(run.run_id)
    macro = board.breakdown is not None and row["acc_macro"] is not None
    figure, low, high = (row["acc_macro"], row["acc_macro_lo"], row["acc_macro_hi"]) if macro else \
        (row["acc_micro"], row["acc_micro_lo"], row["acc_micro_hi"])
    name = f"{board.breakdown}-macro accuracy" if macro else "accuracy"
    headline = f"{name} {pct(figure)}% (95% CI {interval(low, high)})"
    if not row["ranked"]:
        return f"not ranked on the board in {results_dir}: {row['apart']}; {headline}"
    ranked = ranked_rows(board)
    if len(ranked) == 1:
        return f"the first ranked run of {run.task} (the board in {results_dir} has none yet); {headline}"
    rank = board_rank_ranges(board, lambda run_id: run_verdicts(board.runs[run_id], board.breakdown))[run.run_id]
    return f"rank {rank} of {len(ranked)} on the board in {results_dir}; {headline}"
