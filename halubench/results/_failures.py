"""A run's failed rows: counted by reason once, from its records, and put in words from those counts.

The counts are a summary's ``failures``. The run's closing line on the
terminal, the board's note on an incomplete run and the nightly refresh's
refusal word them with ``describe_failures``, each in its own sentence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from halubench.scoring import SampleRecord

_ATTEMPTS = re.compile(r"\s*\((gave up after \d+ attempts?|deadline of [^)]*reached)\)")


def failure_reasons(records: Iterable[SampleRecord]) -> dict[str, int]:
    """Failed rows grouped by reason (retry counts stripped), most common first."""
    reasons = Counter(_ATTEMPTS.sub("", str(r.get("error") or "unknown error")) for r in records
                      if r["status"] == "error")
    return dict(reasons.most_common())


class FailureText(NamedTuple):
    rows: str  # ``3 failed rows``
    reasons: str  # ``HTTP 503 x2, timeout x1``; empty when no reason is known


def describe_failures(
    failures: Mapping[str, int], noun: str, shown: int | None = None, separator: str = "; "
) -> FailureText:
    """How many rows failed, counted in ``noun`` (``failed row``, ``error``), and the ``shown``
    most common reasons with their counts (all by default)."""
    count = sum(failures.values())
    reasons = separator.join(f"{reason} x{n}" for reason, n in list(failures.items())[:shown])
    return FailureText(f"{count} {noun}{'s' if count != 1 else ''}", reasons)
