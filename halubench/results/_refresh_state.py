"""What a refresh leaves behind: the published state file and the progress file.

``refresh-state.json`` (in the published results) says which judges are stale,
why and since when, and what the last refresh that changed anything changed,
for the board and the site to show. It is rewritten only when its content
changes, so a night with nothing new leaves every published byte alone; when
each judge was last *checked* is deliberately not in it (that goes in the
report), or every night would be a commit.

The progress file sits beside the results folder while a refresh runs and
records each (task, judge) as it finishes, so a refresh killed half-way (even
``kill -9``) resumes without redoing finished judges; it is removed when the
refresh completes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from halubench._atomic_io import atomic_write

STATE_FILE = "refresh-state.json"


def _dump(body: dict[str, Any]) -> bytes:
    return (json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _read(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def read_state(results_dir: Path) -> dict[str, Any]:
    """``{"stale": {"task/judge": {"reason", "since"}}, "changes": {"date", "items"}}`` (parts may be absent)."""
    return _read(results_dir / STATE_FILE)


class PublishedState:
    """The state file's content, edited in memory and written once, only if it changed."""

    def __init__(self, results_dir: Path):
        self.path = results_dir / STATE_FILE
        self.body = read_state(results_dir)
        self._original = _dump(self.body)

    @property
    def stale(self) -> dict[str, dict[str, str]]:
        return self.body.setdefault("stale", {})

    def mark_stale(self, run: str, reason: str, date: str) -> bool:
        """Mark ``run`` stale; True when it was not stale before (a change worth reporting)."""
        before = self.stale.get(run)
        self.stale[run] = {"reason": reason, "since": before["since"] if before else date}
        return before is None

    def clear_stale(self, run: str) -> None:
        self.stale.pop(run, None)

    def set_changes(self, date: str, items: list[dict[str, Any]]) -> None:
        self.body["changes"] = {"date": date, "items": items}

    def save(self) -> bool:
        if not self.stale:
            self.body.pop("stale", None)
        data = _dump(self.body)
        if data == self._original or (not self.body and not self.path.exists()):
            return False
        atomic_write(self.path, [data])
        self._original = data
        return True


def describe_change(change: dict[str, Any]) -> str:
    kind = change["kind"]
    if kind == "model_version":
        return f"{change['run']}: model version {', '.join(change['old']) or '?'} -> {', '.join(change['new'])}"
    if kind == "score":
        low, high = change["old_ci95"]
        return (f"{change['run']}: {change['what']} {100 * change['old']:.1f}% -> {100 * change['new']:.1f}% "
                f"(outside the previous 95% CI {100 * low:.1f}-{100 * high:.1f})")
    return f"{change['run']}: stale ({change['reason']})"
