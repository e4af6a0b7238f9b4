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

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from halubench.scoring import SampleRecord

STRONG = 4
AGREE = 3
FLOOR = 0.70
CONTESTED_RULE = (f"a row is contested when at least {AGREE} of the task's {STRONG} best measured judges "
        f"(by the board's score, each at or above {FLOOR:.0%}) gave a verdict other than the gold label; "
        "a missing verdict counts as no vote")


@dataclass(frozen=True)
class StrongRun:
    """A strong judge's run: its id, the name shown, its score and its samples."""

    run_id: str
    name: str
    score: float
    samples: Sequence[SampleRecord]


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


def _reasoning(sample: SampleRecord) -> str | None:
    reasoning = sample.get("reasoning")
    if reasoning is None or isinstance(reasoning, str):
        return reasoning or sample.get("raw")
    return "\n".join(map(str, reasoning)) if isinstance(reasoning, list) else str(reasoning)


def find_contested(candidates: Sequence[StrongRun], breakdown: str | None) -> Contested:
    """Apply the rule to a task's measured runs (``candidates``: every run that may count as strong)."""
    strong = strong_runs(candidates)
    # The result keeps the strong judges' names and scores, not their samples (a build holds many).
    result = Contested(breakdown, [replace(run, samples=()) for run in strong])
    if len(strong) < AGREE:
        return result
    by_id: dict[str, list[tuple[StrongRun, SampleRecord]]] = {}
    for run in strong:
        for sample in run.samples:
            by_id.setdefault(sample["id"], []).append((run, sample))
    for row_id, judged in by_id.items():
        first = judged[0][1]
        votes = [Vote(run.run_id, run.name, s.get("verdict"), s.get("status", "ok"), _reasoning(s))
                 for run, s in judged]
        row = ContestedRow(row_id, str((first.get("groups") or {}).get(breakdown, "") if breakdown else ""),
                           first["gold"], first.get("fields") or {}, votes)
        if row.against >= AGREE:
            result.groups.setdefault(row.group, []).append(row)
    result.groups = {g: sorted(rows, key=lambda r: r.id)
                     for g, rows in sorted(result.groups.items(), key=lambda item: (item[0].lower(), item[0]))}
    return result
