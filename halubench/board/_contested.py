"""Contested labels: rows where most of the strong judges disagree with the gold label.

HaluBench's users report wrong and inconsistent labels (DROP answers written as
Python lists, for one). A row that several good judges independently call the
other way is worth a reader's look; it is not proof the label is wrong.

The rule, kept here and printed on the site:
- the strong judges of a task are its ``STRONG`` best measured runs by the
  board's score (domain-macro accuracy, else accuracy), each at or above
  ``FLOOR``; with fewer than ``AGREE`` of them nothing is called contested;
- a row is contested when at least ``AGREE`` of the strong judges gave it a
  verdict and that verdict is not the gold label (a missing verdict, an
  unparsed reply or a failed call, is no vote either way).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from halubench.board._verdicts import RunVerdicts, Verdicts
from halubench.scoring import STATUSES

STRONG = 4
AGREE = 3
FLOOR = 0.70
CONTESTED_RULE = (f"a row is contested when at least {AGREE} of the task's {STRONG} best measured judges "
        f"(by the board's score, each at or above {FLOOR:.0%}) gave a verdict other than the gold label; "
        "a missing verdict counts as no vote")
# run id, positions of rows in that run -> per row its texts and the judge's reasoning (or raw reply)
Details = Callable[[str, Sequence[int]], Sequence[tuple[dict[str, Any], str | None]]]


@dataclass(frozen=True)
class StrongRun:
    """A judge's run that may count as strong: its id, the name shown and its score."""

    run_id: str
    name: str
    score: float


@dataclass(frozen=True)
class Vote:
    run_id: str
    name: str
    verdict: str | None
    status: str
    reasoning: str | None


@dataclass(frozen=True)
class ContestedRow:
    id: str
    group: str
    gold: str
    fields: dict[str, Any]
    votes: list[Vote]

    @property
    def against(self) -> int:
        return sum(v.verdict is not None and v.verdict != self.gold for v in self.votes)


@dataclass
class Contested:
    """The strong judges of one task and the rows they contest, by group (e.g. domain)."""

    breakdown: str | None
    strong: list[StrongRun]
    groups: dict[str, list[ContestedRow]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {group: len(rows) for group, rows in self.groups.items()}


def strong_runs(candidates: Sequence[StrongRun]) -> list[StrongRun]:
    """The ``STRONG`` best candidates at or above ``FLOOR``, best first (ties by run id)."""
    ranked = sorted((c for c in candidates if c.score >= FLOOR), key=lambda c: (-c.score, c.run_id))
    return ranked[:STRONG]


def find_contested(candidates: Sequence[StrongRun], breakdown: str | None, verdicts: Verdicts,
                   details: Details | None = None) -> Contested:
    """Apply the rule to a task's measured runs (``candidates``: every run that may count as strong).

    Only the strong runs' verdicts are read. With ``details``, each contested row carries its texts
    and each vote the judge's reasoning (the site shows them); without, rows are counted only.
    """
    strong = strong_runs(candidates)
    result = Contested(breakdown, strong)
    if len(strong) < AGREE:
        return result
    columns = [verdicts(run.run_id) for run in strong]
    # A vote against: a verdict, and not the gold label (strong runs are ranked: the same rows and golds).
    against = [[v >= 0 and v != g for v, g in zip(c.verdict, c.gold, strict=True)] for c in columns]
    found: list[list[tuple[StrongRun, RunVerdicts, int]]] = []
    if all(c.ids == columns[0].ids for c in columns):  # the usual board: one tally per row, no lookups
        for position, votes in enumerate(zip(*against, strict=True)):
            if sum(votes) >= AGREE:
                found.append([(run, c, position) for run, c in zip(strong, columns, strict=True)])
    else:
        by_id: dict[str, list[tuple[StrongRun, RunVerdicts, int]]] = {}
        tally: dict[str, int] = {}
        for run, c, wrong in zip(strong, columns, against, strict=True):
            for position, row_id in enumerate(c.ids):
                by_id.setdefault(row_id, []).append((run, c, position))
                tally[row_id] = tally.get(row_id, 0) + wrong[position]
        found = [judged for row_id, judged in by_id.items() if tally[row_id] >= AGREE]
    wanted: dict[str, list[int]] = {}
    for judged in found:
        for run, _, position in judged:
            wanted.setdefault(run.run_id, []).append(position)
    read = {run_id: dict(zip(positions, details(run_id, positions), strict=True)) if details else {}
            for run_id, positions in wanted.items()}
    for judged in found:
        first_run, first, at = judged[0]
        fields = read[first_run.run_id][at][0] if details else {}
        votes = [Vote(run.run_id, run.name, c.verdict_label(p), STATUSES[c.status[p]],
                      read[run.run_id][p][1] if details else None) for run, c, p in judged]
        row = ContestedRow(first.ids[at], first.groups[first.group[at]], first.labels[first.gold[at]], fields,
                           votes)
        result.groups.setdefault(row.group, []).append(row)
    result.groups = {g: sorted(rows, key=lambda r: r.id)
                     for g, rows in sorted(result.groups.items(), key=lambda item: (item[0].lower(), item[0]))}
    return result
