"""Reproducibility checks: a submitted run beside the board's own run of the same judge.

A submitted run's replies are re-scored here, but its calls were made by the
submitter. When the refresh later runs the same judge itself (open weights, or a
public endpoint added to ``leaderboard.yaml``), the board holds both runs on the
same rows, and McNemar's paired test says whether their verdicts differ by more
than chance: the submission reproduced, or not.
"""

from __future__ import annotations

from dataclasses import dataclass

from halubench.board._compare import Comparison, compare_runs
from halubench.board._leaderboard import Leaderboard
from halubench.results import REPRODUCED, SUBMITTED, StoredRun


@dataclass(frozen=True)
class Reproduction:
    """A judge's submitted run and the board's reproduced run of it, compared on the rows both judged
    (``comparison.a`` is the submitted run, ``comparison.b`` the reproduced one)."""

    judge: str
    comparison: Comparison
    n: int  # paired rows
    submitted_accuracy: float
    reproduced_accuracy: float

    @property
    def submitted(self) -> StoredRun:
        return self.comparison.a

    @property
    def reproduced(self) -> StoredRun:
        return self.comparison.b

    @property
    def delta(self) -> float:
        """Reproduced minus submitted accuracy on the paired rows."""
        return self.reproduced_accuracy - self.submitted_accuracy

    @property
    def same_settings(self) -> bool:
        """Both runs have one configuration identity (same reply settings and endpoint), not only one name."""
        return self.submitted.config_id == self.reproduced.config_id

    def describe(self) -> str:
        """One line: both accuracies, the difference and the test, on the paired rows."""
        settings = "" if self.same_settings else "; their settings or endpoints differ"
        return (f"{self.judge}: submitted {self.submitted_accuracy * 100:.1f}% vs reproduced "
                f"{self.reproduced_accuracy * 100:.1f}% on {self.n} paired rows ({self.delta * 100:+.1f} pp); "
                f"{self.comparison.test.describe('submitted', 'reproduced')}{settings}")


def _reproduction(judge: str, submitted: StoredRun, reproduced: StoredRun) -> Reproduction:
    comparison = compare_runs(submitted, reproduced)
    overall = comparison.by_group().iloc[-1]
    return Reproduction(judge, comparison, int(overall["n"]), float(overall["acc_a"]), float(overall["acc_b"]))


def reproductions(board: Leaderboard) -> list[Reproduction]:
    """Every judge on the main board with both a submitted and a reproduced run, in the board's order."""
    ranked = [board.runs[r["run_id"]] for r in board.rows if r["run_id"] in board.runs and r["ranked"]]
    reproduced = {run.judge: run for run in ranked if run.obtained == REPRODUCED}
    return [_reproduction(run.judge, run, reproduced[run.judge])
            for run in ranked if run.obtained == SUBMITTED and run.judge in reproduced]
