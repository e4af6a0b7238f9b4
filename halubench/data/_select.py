"""Which rows a run judges: a domain filter and a stratified draw."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from halubench.data._sample import Sample
from halubench.errors import DataError


def select(
    samples: Sequence[Sample],
    *,
    breakdown: str | None,
    domains: Sequence[str] = (),
    limit: int | None = None,
    seed: int = 0,
) -> list[Sample]:
    """Filter to ``domains`` and draw ``limit`` rows stratified by domain and label.

    Taking the first N rows would give a run of a single domain on HaluBench (its
    rows are sorted by source), so the draw keeps every (domain, label) stratum in
    its original proportion, using largest remainders so the total is exact.
    """
    chosen = list(samples)
    if domains:
        present = sorted({s.groups.get(breakdown or "", "") for s in chosen})
        unknown = [d for d in domains if d not in present]
        if unknown:
            raise DataError(
                f"unknown {breakdown or 'domain'} {', '.join(unknown)}; this data has: "
                f"{', '.join(present)}"
            )
        chosen = [s for s in chosen if s.groups.get(breakdown or "") in set(domains)]
    if limit is None or limit >= len(chosen):
        return chosen
    if limit <= 0:
        raise DataError(f"--limit must be positive, got {limit}")
    strata: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, sample in enumerate(chosen):
        strata[(sample.groups.get(breakdown or "", ""), sample.label)].append(index)
    quotas = {key: limit * len(idx) / len(chosen) for key, idx in strata.items()}
    counts = {key: int(q) for key, q in quotas.items()}
    leftover = limit - sum(counts.values())
    by_remainder = sorted(quotas, key=lambda k: (-(quotas[k] - counts[k]), k))
    for key in by_remainder[:leftover]:
        counts[key] += 1
    rng = random.Random(seed)
    keep: list[int] = []
    for key in sorted(strata):
        keep.extend(rng.sample(strata[key], counts[key]))
    return [chosen[i] for i in sorted(keep)]
