"""Results on disk: the files of a run, its summary and the stored-run type every reader gets, its failed rows,
and the published refresh state.
"""

from __future__ import annotations

from halubench.results._failures import FailureText, describe_failures, failure_reasons
from halubench.results._files import (
    FORMAT,
    FORMAT_V1,
    TEXTS_FILE,
    load_samples,
    result_paths,
    run_content,
    slug,
    upgrade_v1,
    write_run,
)
from halubench.results._refresh_state import PublishedState, describe_change, read_state
from halubench.results._stored_run import StoredRun, breakdowns, first_breakdown, load_runs, read_run, runs_under
from halubench.results._summary_types import RunSummary, RunUsage

__all__ = [
    "FORMAT",
    "FORMAT_V1",
    "FailureText",
    "PublishedState",
    "RunSummary",
    "RunUsage",
    "StoredRun",
    "TEXTS_FILE",
    "breakdowns",
    "describe_change",
    "describe_failures",
    "failure_reasons",
    "first_breakdown",
    "load_runs",
    "load_samples",
    "read_run",
    "read_state",
    "result_paths",
    "run_content",
    "runs_under",
    "slug",
    "upgrade_v1",
    "write_run",
]
