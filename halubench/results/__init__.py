"""Results on disk: the files of a run, the stored-run type every reader uses, and the published refresh state.
"""

from __future__ import annotations

from halubench.results._files import (
    FORMAT,
    FORMAT_V1,
    TEXTS_FILE,
    load_samples,
    load_summaries,
    result_paths,
    slug,
    upgrade_v1,
    write_run,
)
from halubench.results._refresh_state import PublishedState, describe_change, read_state
from halubench.results._stored_run import StoredRun, breakdowns, first_breakdown, load_runs

__all__ = [
    "FORMAT",
    "FORMAT_V1",
    "PublishedState",
    "StoredRun",
    "TEXTS_FILE",
    "breakdowns",
    "describe_change",
    "first_breakdown",
    "load_runs",
    "load_samples",
    "load_summaries",
    "read_state",
    "result_paths",
    "slug",
    "upgrade_v1",
    "write_run",
]
