"""lm-evaluation-harness interop: the task pack (``task_pack/``) and the importer of its runs.
"""

from __future__ import annotations

from halubench.integrations.lm_eval._import import PACK_DIR, LmEvalRun, import_runs, judge_for

__all__ = [
    "LmEvalRun",
    "PACK_DIR",
    "import_runs",
    "judge_for",
]
