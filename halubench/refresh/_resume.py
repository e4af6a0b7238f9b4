"""The refresh's resume file: which (task, judge) pairs the current refresh has finished.

It sits beside the results folder while a refresh runs and records each pair as
it finishes, so a refresh killed half-way (even ``kill -9``) resumes without
redoing finished judges; it is removed when the refresh completes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from halubench._atomic_io import atomic_write


class ResumeFile:
    """The current refresh's finished (task, judge) outcomes, saved after each one."""

    def __init__(self, results_dir: Path):
        self.path = results_dir.parent / f".{results_dir.name}.refresh-progress.json"
        try:
            self.done: dict[str, dict[str, Any]] = json.loads(self.path.read_text(encoding="utf-8"))["done"]
        except (OSError, ValueError, KeyError, TypeError):  # no refresh to resume, or a file cut short
            self.done = {}
        self.resumed = bool(self.done)

    def record(self, run: str, outcome: dict[str, Any]) -> None:
        self.done[run] = outcome
        atomic_write(self.path, [json.dumps({"done": self.done}, indent=2, sort_keys=True).encode()])

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)
