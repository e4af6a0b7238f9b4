"""Rank ranges: which judges a board cannot tell apart.

Readers over-read small gaps, so each judge gets a rank range instead of a bare
position. For every pair of judges, McNemar's paired test (``stats.mcnemar``)
runs on the rows both judged (matched by row id; a row without a verdict is
wrong, as everywhere). The p-values of all pairs are corrected together with
Holm's step-down method, which controls the family-wise error rate at
``ALPHA`` without assuming the tests are independent. A judge's best rank is 1
plus the number of judges significantly better than it, its worst rank the
number of judges minus those significantly worse: two judges tied by
construction share the range "1-2".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from halubench.scoring._paired_tests import mcnemar

ALPHA = 0.05
RANK_RANGE_METHOD = (f"paired McNemar tests on the rows both judges saw, Holm-corrected over all pairs "
          f"(family-wise α = {ALPHA})")


@dataclass(frozen=True)
class RankRange:
    best: int
    worst: int

    def __str__(self) -> str:
        return str(self.best) if self.best == self.worst else f"{self.best}–{self.worst}"


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order (monotone, capped at 1)."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for step, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - step) * p_values[i]))
        adjusted[i] = running
    return adjusted


def better_pairs(correct: Mapping[str, Mapping[str, bool]]) -> set[tuple[str, str]]:
    """``(winner, loser)`` for every pair significantly apart; ``correct`` is run -> row id -> right."""
    # Set arithmetic (in C) rather than a loop over rows per pair: 45 pairs of 15,000 rows stay quick.
    seen = {run: set(rows) for run, rows in correct.items()}
    right = {run: {i for i, ok in rows.items() if ok} for run, rows in correct.items()}
    p_values, winners = [], []
    for first, second in combinations(sorted(correct), 2):
        b = len((right[first] - right[second]) & seen[second])  # first right, second wrong
        c = len((right[second] - right[first]) & seen[first])
        p_values.append(mcnemar(b, c).p_value)
        winners.append((first, second) if b > c else (second, first))
    return {winner for winner, p in zip(winners, holm(p_values), strict=True) if p < ALPHA}


def rank_ranges(correct: Mapping[str, Mapping[str, bool]]) -> dict[str, RankRange]:
    """Each run's rank range among ``correct``'s runs (see the module docstring)."""
    apart = better_pairs(correct)
    total = len(correct)
    return {run: RankRange(1 + sum(loser == run for _, loser in apart),
                           total - sum(winner == run for winner, _ in apart))
            for run in correct}
