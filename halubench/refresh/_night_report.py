"""The refresh's report: a one-screen summary on stdout and Markdown for the workflow's job summary.

This is where "when was each judge last checked" lives: the published files
carry only the date a run's content last changed, so they stay byte-identical
on a night that changed nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from halubench.results import describe_change

if TYPE_CHECKING:  # the site imports describe_change without the engine
    from halubench.refresh._engine import Outcome

STATUSES = ("refreshed", "unchanged", "stale", "failed", "skipped")


def totals(outcomes: Sequence[Outcome]) -> str:
    """``refreshed 2 · unchanged 3 · stale 1 · failed 0 · skipped 1 · calls 150 · cost $0.0123``."""
    counts = Counter(o.status for o in outcomes)
    calls = sum(o.calls for o in outcomes)
    cost = sum(o.cost_usd for o in outcomes)
    parts = [f"{status} {counts.get(status, 0)}" for status in STATUSES]
    return " · ".join([*parts, f"calls {calls}", f"cost ${cost:.4f}"])


def markdown(outcomes: Sequence[Outcome], resumed: bool) -> str:
    lines = ["## Leaderboard refresh", "", totals(outcomes), ""]
    if resumed:
        lines += ["Resumed an interrupted refresh: judges finished before it were not redone.", ""]
    lines += ["| task | judge | status | calls | cost (USD) | last checked | note |",
              "|---|---|---|---:|---:|---|---|"]
    for o in outcomes:
        note = "; ".join(filter(None, [o.reason, *o.notices])).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {o.task} | {o.judge} | {o.status} | {o.calls} | {o.cost_usd:.4f} | {o.checked_at} | {note} |")
    changes = [c for o in outcomes for c in o.changes]
    lines += ["", "### Changes since the last refresh", ""]
    lines += [f"- {describe_change(c)}" for c in changes] or ["Nothing changed."]
    return "\n".join(lines) + "\n"
