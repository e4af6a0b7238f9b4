"""The board read from a results folder, as the Python API offers it and ``report`` / ``compare`` print it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from halubench.board._compare import Comparison, compare_runs, resolve_run
from halubench.board._frame import Leaderboard, build_leaderboards
from halubench.results import load_runs


def leaderboards(
    results_dir: str | Path = "results", *, tasks: str | Iterable[str] = (), reported: bool = True
) -> list[Leaderboard]:
    """One board per task (``halubench report``): only ``tasks`` when given, with the papers' figures
    unless ``reported`` is False."""
    boards = build_leaderboards(load_runs(Path(results_dir)), None if reported else [])
    wanted = [tasks] if isinstance(tasks, str) else list(tasks)
    return [b for b in boards if b.task in wanted] if wanted else boards


def compare(
    a: str | Path, b: str | Path, *, results_dir: str | Path = "results", task: str | None = None
) -> Comparison:
    """Two runs of one task row by row (``halubench compare``); each is a summary path, a run id
    (``task/judge/config_id``) or, with ``task``, a judge name."""
    folder = Path(results_dir)
    return compare_runs(resolve_run(str(a), folder, task), resolve_run(str(b), folder, task))
