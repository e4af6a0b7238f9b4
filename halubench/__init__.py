"""halubench: run hallucination-detection judges over HaluBench and RefChecker.

The Python API (docs/python-api.md)::

    import halubench

    runs = halubench.evaluate("halubench-sample", "lexical")   # halubench run, as a function
    boards = halubench.leaderboards("results")                  # halubench report's boards
    diff = halubench.compare("lexical", "random", task="halubench-sample")
    halubench.submit("lexical", "submissions/lexical", task="halubench-sample", contact="me@example.org")
    report = halubench.verify("submissions/lexical")              # halubench verify: report.accepted

The names load on first use (PEP 562): ``import halubench`` alone brings in
neither pandas nor the SDKs nor the runner, and the CLI, a layer over this API,
imports it on every command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from halubench._version import __version__
from halubench.errors import HalubenchError

if TYPE_CHECKING:
    from halubench.board import Comparison, Leaderboard, compare, leaderboards
    from halubench.results import StoredRun, load_runs
    from halubench.run import Interrupted, RunProgress, RunResult, evaluate, evaluate_async
    from halubench.submission import SubmissionRejected, Verification, submit, verify

_LAZY = {
    "evaluate": "halubench.run",
    "evaluate_async": "halubench.run",
    "RunResult": "halubench.run",
    "RunProgress": "halubench.run",
    "Interrupted": "halubench.run",
    "load_runs": "halubench.results",
    "StoredRun": "halubench.results",
    "leaderboards": "halubench.board",
    "Leaderboard": "halubench.board",
    "compare": "halubench.board",
    "Comparison": "halubench.board",
    "submit": "halubench.submission",
    "verify": "halubench.submission",
    "Verification": "halubench.submission",
    "SubmissionRejected": "halubench.submission",
}

__all__ = [
    "Comparison",
    "HalubenchError",
    "Interrupted",
    "Leaderboard",
    "RunProgress",
    "RunResult",
    "StoredRun",
    "SubmissionRejected",
    "Verification",
    "__version__",
    "compare",
    "evaluate",
    "evaluate_async",
    "leaderboards",
    "load_runs",
    "submit",
    "verify",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'halubench' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
