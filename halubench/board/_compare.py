"""Two runs of the same task, row by row: per-group deltas, McNemar's test, disagreements.

Rows are paired by sample id; only rows both runs judged enter the deltas and
the test, so a run on a subset compares fairly on that subset. A row without a
verdict counts as wrong, as in the headline accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from halubench.board._leaderboard import comparable_set
from halubench.errors import DataError
from halubench.results import StoredRun, read_run, runs_under
from halubench.scoring import McNemar, mcnemar

if TYPE_CHECKING:
    import pandas as pd


def resolve_run(ref: str, results_dir: Path, task: str | None) -> StoredRun:
    """A run by summary path, by run id (``task/judge/config_id``), or by judge name with ``--task``.

    A judge name picks the judge's ranked run of the task (its default
    configuration); a judge with several runs and none ranked must be named by run id.
    """
    path = Path(ref)
    if path.is_file():
        return read_run(path)
    runs = runs_under(results_dir)
    by_id = [r for r in runs if r.run_id == ref]
    if by_id:
        return by_id[0]
    if task is None:
        raise DataError(f"{ref} is neither a results file nor a run id (task/judge/config); to name a judge "
                        f"instead, add --task (and --results-dir if not ./results)")
    of_task = [r for r in runs if r.task == task]
    mine = [r for r in of_task if r.judge == ref]
    if not mine:
        present = sorted({r.judge for r in of_task})
        raise DataError(f"no results for judge {ref!r} on task {task!r} in {results_dir}; "
                        f"present: {', '.join(present) or 'none'}")
    ranked, _ = comparable_set(of_task)
    chosen = [r for r in mine if r.run_id in ranked] or (mine if len(mine) == 1 else [])
    if len(chosen) != 1:
        ids = ", ".join(r.run_id for r in mine)
        raise DataError(f"judge {ref!r} has {len(mine)} runs of {task!r} ({len(chosen)} ranked); name one by its "
                        f"run id: {ids}")
    return chosen[0]


def gold_rule(run: StoredRun) -> dict[str, object]:
    """What decides a row's gold label besides its data: the labels and the task options."""
    config = run.summary.get("config") or {}
    return {"labels": run.summary.get("labels"), "options": config.get("options", {})}


@dataclass
class Comparison:
    a: StoredRun
    b: StoredRun
    breakdown: str | None
    paired: pd.DataFrame  # one row per id both judged
    only_a: int
    only_b: int
    test: McNemar

    def by_group(self) -> pd.DataFrame:
        """Accuracy of both runs per group on the paired rows, plus an overall line."""
        import pandas as pd

        frame = self.paired
        parts = [("overall", frame)]
        if self.breakdown:
            parts = [*((str(g), rows) for g, rows in frame.groupby("group", sort=True)), *parts]
        return pd.DataFrame([_accuracies(name, rows) for name, rows in parts])

    def disagreements(self) -> pd.DataFrame:
        """Rows where the two verdicts differ (a missing verdict differs from any verdict)."""
        frame = self.paired
        differ = frame["verdict_a"].fillna("") != frame["verdict_b"].fillna("")
        return frame.loc[differ, ["id", "group", "gold", "verdict_a", "status_a", "verdict_b", "status_b"]]


def _accuracies(name: str, rows: pd.DataFrame) -> dict[str, object]:
    acc_a, acc_b = rows["correct_a"].mean(), rows["correct_b"].mean()
    return {
        "group": name, "n": len(rows), "acc_a": acc_a, "acc_b": acc_b, "delta": acc_b - acc_a,
        "a_only_right": int((rows["correct_a"] & ~rows["correct_b"]).sum()),
        "b_only_right": int((~rows["correct_a"] & rows["correct_b"]).sum()),
    }


def _rule_text(run: StoredRun) -> str:
    options = gold_rule(run)["options"] or {}
    return ", ".join(f"{k}={v}" for k, v in sorted(options.items())) or "the task's default"


def _frame(run: StoredRun, breakdown: str | None) -> pd.DataFrame:
    import pandas as pd  # here, not at the top: importing halubench.board (every command) stays light

    samples = run.samples()
    return pd.DataFrame({
        "id": [s["id"] for s in samples],
        "group": [(s.get("groups") or {}).get(breakdown, "") if breakdown else "" for s in samples],
        "gold": [s["gold"] for s in samples],
        "verdict": [s["verdict"] for s in samples],
        "status": [s["status"] for s in samples],
        "correct": [s["verdict"] is not None and s["verdict"] == s["gold"] for s in samples],
    })


def compare_runs(a: StoredRun, b: StoredRun) -> Comparison:
    if a.task != b.task:
        raise DataError(f"{a.path} is a run of task {a.task!r} and {b.path} of {b.task!r}; "
                        "compare two runs of the same task")
    if gold_rule(a) != gold_rule(b):
        raise DataError(f"{a.run_id} and {b.run_id} score with different gold rules ({_rule_text(a)} vs "
                        f"{_rule_text(b)}); compare runs with the same task options")
    breakdown = a.breakdown
    left, right = _frame(a, breakdown), _frame(b, breakdown)
    paired = left.merge(right.drop(columns="group"), on="id", suffixes=("_a", "_b"), validate="one_to_one")
    clash = paired[paired["gold_a"] != paired["gold_b"]]
    if len(clash):
        row = clash.iloc[0]
        raise DataError(f"row {row['id']} has gold label {row['gold_a']} in {a.path} but {row['gold_b']} in "
                        f"{b.path}: the runs used different data; compare runs on the same rows")
    if paired.empty:
        raise DataError(f"{a.path} and {b.path} share no row ids; nothing to compare")
    paired = paired.drop(columns="gold_b").rename(columns={"gold_a": "gold"})
    b_count = int((paired["correct_a"] & ~paired["correct_b"]).sum())
    c_count = int((~paired["correct_a"] & paired["correct_b"]).sum())
    return Comparison(a, b, breakdown, paired, len(left) - len(paired), len(right) - len(paired),
                      mcnemar(b_count, c_count))


def compare(
    a: str | Path, b: str | Path, *, results_dir: str | Path = "results", task: str | None = None
) -> Comparison:
    """Two runs of one task row by row (``halubench compare``); each is a summary path, a run id
    (``task/judge/config_id``) or, with ``task``, a judge name."""
    folder = Path(results_dir)
    return compare_runs(resolve_run(str(a), folder, task), resolve_run(str(b), folder, task))
