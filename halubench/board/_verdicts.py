"""A run's verdicts as columns: what the board's figures across runs read of its samples.

Rank ranges, contested rows and the site's row view need, of every run on a
board, each row's id, gold label, verdict and status, never the judge's replies
or the texts. ``RunVerdicts`` holds just those, as columns of small integers (a
15,000-row run is a few hundred kilobytes), made by going through a run's
samples once; the texts and replies of the few rows a page shows are read where
they are stored. A board of 50 judges then never holds 50 runs' replies at once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from halubench.results import StoredRun
from halubench.scoring import STATUSES

Verdicts = Callable[[str], "RunVerdicts"]  # run id -> its verdicts, read when a figure needs them


@dataclass(frozen=True)
class RunVerdicts:
    """One run's rows in its samples' order; labels, statuses and groups as positions in their lists."""

    ids: Sequence[str]
    labels: Sequence[str]  # the task's labels, then any other gold label the rows carry
    gold: Sequence[int]
    verdict: Sequence[int]  # -1: no verdict (unparsed reply, failed call, ...)
    status: Sequence[int]  # position in ``STATUSES``
    groups: Sequence[str]  # the board's breakdown's groups ("" where a row has none)
    group: Sequence[int]  # position in ``groups``

    def correct(self) -> bytes:
        """Per row 1 when right: a verdict, and the gold one (no verdict, -1, is wrong, as everywhere)."""
        return bytes(map(operator.eq, self.verdict, self.gold))

    def verdict_label(self, position: int) -> str | None:
        return self.labels[self.verdict[position]] if self.verdict[position] >= 0 else None

    @classmethod
    def collect(cls, samples: Iterable[Mapping[str, Any]], labels: Sequence[str],
                breakdown: str | None) -> RunVerdicts:
        """Go through ``samples`` (records or stored lines) once, keeping the columns."""
        labels = list(labels)
        label_at = {label: i for i, label in enumerate(labels)}
        status_at = {status: i for i, status in enumerate(STATUSES)}
        groups: list[str] = []
        group_at: dict[str, int] = {}
        ids, gold, verdict, status, group = [], [], [], [], []
        for sample in samples:
            ids.append(sample["id"])
            if sample["gold"] not in label_at:
                label_at[sample["gold"]] = len(labels)
                labels.append(sample["gold"])
            gold.append(label_at[sample["gold"]])
            said = sample.get("verdict")
            verdict.append(label_at.get(said, -1) if said is not None else -1)
            status.append(status_at.get(sample.get("status") or "ok", status_at["error"]))
            name = str((sample.get("groups") or {}).get(breakdown, "")) if breakdown else ""
            if name not in group_at:
                group_at[name] = len(groups)
                groups.append(name)
            group.append(group_at[name])
        return cls(ids, labels, gold, verdict, status, groups, group)


def run_verdicts(run: StoredRun, breakdown: str | None) -> RunVerdicts:
    """A stored run's verdicts, its samples read line by line (texts stay on disk)."""
    return RunVerdicts.collect(run.stored_samples(), run.summary["labels"], breakdown)
