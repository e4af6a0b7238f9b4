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


@dataclass(frozen=True)
class RowMarks:
    """Which rows a judge saw and which it got right, as bit sets over one numbering of a board's rows
    (bit ``i``: row ``i``): a 15,000-row run is two integers, and a pair's McNemar counts are a few
    bit operations rather than a loop over rows."""

    seen: int
    right: int

    @classmethod
    def of(cls, numbers: Sequence[int] | None, correct: Sequence[bool]) -> RowMarks:
        """The marks of a run whose rows have these numbers (None: 0, 1, 2, ... in order) and outcomes."""
        if numbers is None:
            return cls(_bits(bytes(correct).translate(_SEEN)), _bits(bytes(correct)))
        seen = bytearray(max(numbers, default=-1) + 1)
        right = bytearray(len(seen))
        for number, ok in zip(numbers, correct, strict=True):
            seen[number] = 1
            right[number] = ok
        return cls(_bits(seen), _bits(right))


def _bits(flags: bytes | bytearray) -> int:
    """Bytes of 0 and 1 as one integer, byte ``i`` as bit ``i`` (base-2 parsing is linear)."""
    return int(flags[::-1].translate(_DIGITS).decode("ascii") or "0", 2)


_DIGITS = bytes.maketrans(b"\x00\x01", b"01")
_SEEN = bytes.maketrans(b"\x00", b"\x01")


def marks_by_id(correct: Mapping[str, Mapping[str, bool]]) -> dict[str, RowMarks]:
    """``correct`` (run -> row id -> right) as marks over one numbering of every run's row ids."""
    numbers: dict[str, int] = {}
    for rows in correct.values():
        for row_id in rows:
            numbers.setdefault(row_id, len(numbers))
    return {run: RowMarks.of([numbers[i] for i in rows], list(rows.values())) for run, rows in correct.items()}


def better_pairs(marks: Mapping[str, RowMarks]) -> set[tuple[str, str]]:
    """``(winner, loser)`` for every pair significantly apart."""
    p_values, winners = [], []
    for first, second in combinations(sorted(marks), 2):
        a, z = marks[first], marks[second]
        b = (a.right & ~z.right & z.seen).bit_count()  # first right, second wrong, on rows both saw
        c = (z.right & ~a.right & a.seen).bit_count()
        p_values.append(mcnemar(b, c).p_value)
        winners.append((first, second) if b > c else (second, first))
    return {winner for winner, p in zip(winners, holm(p_values), strict=True) if p < ALPHA}


def rank_ranges(marks: Mapping[str, RowMarks]) -> dict[str, RankRange]:
    """Each run's rank range among ``marks``' runs (see the module docstring)."""
    apart = better_pairs(marks)
    total = len(marks)
    return {run: RankRange(1 + sum(loser == run for _, loser in apart),
                           total - sum(winner == run for winner, _ in apart))
            for run in marks}
