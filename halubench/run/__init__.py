"""One run, start to end: rows -> prompts -> judge -> verdicts -> scores -> results files.

``evaluate`` / ``evaluate_async`` are that run as the Python API offers it (and the CLI calls it).
"""

from __future__ import annotations

from halubench.run._evaluate import evaluate, evaluate_async
from halubench.run._records import row_record, row_status
from halubench.run._runner import (
    Interrupted,
    RunOptions,
    RunProgress,
    RunResult,
    choose_template,
    run_task,
    run_tasks,
    run_tasks_async,
    task_template,
)
from halubench.run._summary import build_summary, now, portable_path

__all__ = [
    "Interrupted",
    "RunOptions",
    "RunProgress",
    "RunResult",
    "build_summary",
    "choose_template",
    "evaluate",
    "evaluate_async",
    "now",
    "portable_path",
    "row_record",
    "row_status",
    "run_task",
    "run_tasks",
    "run_tasks_async",
    "task_template",
]
