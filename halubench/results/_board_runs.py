"""The runs a board is built from: the board's own results folder, and the submissions merged beside it.

``report``, ``site``, ``refresh``'s site and ``leaderboards()`` read both, so
merging a submission's pull request puts it on the board at the next build:
no copy into the results, no step to forget.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from halubench.errors import DataError
from halubench.results._stored_run import StoredRun, runs_under
from halubench.results._submitted import submitted_runs


def load_runs(results_dir: str | Path = "results", submissions: str | Path | None = None) -> list[StoredRun]:
    """Every run under ``results_dir``, then every submission folder under ``submissions`` (none when
    None or absent); no run at all is the user's mistake, and so are two submissions of one run."""
    results_dir = Path(results_dir)
    submitted = submitted_runs(Path(submissions) if submissions is not None else None)
    if not results_dir.is_dir() and not submitted:
        raise DataError(f"results folder {results_dir} does not exist; run `halubench run` first "
                        "or point --results-dir at one")
    runs = runs_under(results_dir) + submitted
    if not runs:
        raise DataError(f"no results files (halubench-results/1) under {results_dir}; run "
                        "`halubench run --judge lexical --task halubench-sample` to make one")
    twice = [run_id for run_id, n in Counter(r.run_id for r in submitted).items() if n > 1]
    if twice:
        folders = [str(r.path.parent) for r in submitted if r.run_id == twice[0]]
        raise DataError(f"{' and '.join(folders)} submit the same run ({twice[0]}); keep one of them")
    return runs
