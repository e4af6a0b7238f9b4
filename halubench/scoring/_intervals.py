"""Confidence intervals: Wilson's for a proportion (plain and clustered) and an approximate one for a macro mean.

Every interval is at 95%, with one z value (``Z95``) for the whole package.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054  # the normal quantile of every 95% interval here


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval: well-behaved at 0%, 100% and small n, unlike Wald."""
    return wilson_interval_fractional(successes, n, z)


def clustered_wilson_interval(clusters: Sequence[tuple[int, int]], z: float = Z95) -> tuple[float, float]:
    """95% Wilson interval on the effective sample size of clustered rows.

    ``clusters`` holds (correct, rows) per cluster. Rows of one cluster (the
    claims of one response) share a response's difficulty, so they carry less
    information than independent rows. The design effect is the ratio of the
    cluster-robust variance of the mean (the ratio estimator's, with the
    C/(C-1) small-sample factor) to the independent-rows variance, floored at 1
    so clustering never narrows an interval; Wilson's interval is then taken at
    n / deff rows, which keeps its good behaviour at 0% and 100%.
    """
    clusters = [(s, m) for s, m in clusters if m > 0]
    n = sum(m for _, m in clusters)
    if n == 0:
        return (0.0, 0.0)
    successes = sum(s for s, _ in clusters)
    p = successes / n
    count = len(clusters)
    deff = 1.0
    if count > 1 and 0 < p < 1:
        robust = count / (count - 1) * sum((s - p * m) ** 2 for s, m in clusters) / n**2
        deff = max(1.0, robust / (p * (1 - p) / n))
    effective = n / deff
    return wilson_interval_fractional(p * effective, effective, z)


def wilson_interval_fractional(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson's interval for a possibly fractional (effective) count of rows."""
    if n <= 0:
        return (0.0, 0.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))



def macro_interval(groups: Sequence[tuple[int, int]], z: float = Z95) -> tuple[float, float] | None:
    """Approximate 95% CI of the unweighted mean of per-group accuracies.

    ``groups`` holds ``(correct, n)`` per group. The groups are independent, so
    the variance of the mean is the sum of the group variances over k². Each
    group's variance uses the Agresti-Coull adjusted proportion (two successes
    and two failures added), which keeps a group at 0% or 100% from claiming
    zero uncertainty. The interval is centred on the observed macro mean.
    """
    groups = [(correct, n) for correct, n in groups if n > 0]
    if not groups:
        return None
    k = len(groups)
    mean = sum(correct / n for correct, n in groups) / k
    variance = 0.0
    for correct, n in groups:
        adjusted = (correct + 2) / (n + 4)
        variance += adjusted * (1 - adjusted) / (n + 4)
    half = z * math.sqrt(variance) / k
    return (max(0.0, mean - half), min(1.0, mean + half))


