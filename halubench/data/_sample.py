"""The unit every task yields and every judge sees.

A HaluBench row, a RefChecker response and a RefChecker claim all become a
``Sample``: the text fields the prompt template reads, the gold label, and the
groups the scores are broken down by (domain, setting, responder, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    id: str
    label: str
    fields: Mapping[str, str]
    groups: Mapping[str, str] = field(default_factory=dict)
    # Samples that are not independent (RefChecker's claims of one response) share a cluster,
    # so confidence intervals account for it.
    cluster: str | None = None
