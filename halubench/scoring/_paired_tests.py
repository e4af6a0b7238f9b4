"""Small statistics the reports need: McNemar's paired test and a CI for a macro mean.

scipy is not a dependency (it is large and these are a few lines each), so the
binomial tail and the chi-square(1) survival function are computed here from
their closed forms: the exact tail with integer binomial coefficients, the
chi-square(1) tail as ``erfc(sqrt(x / 2))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EXACT_BELOW = 25  # discordant pairs under which the chi-square approximation is poor


@dataclass(frozen=True)
class McNemar:
    """Result of McNemar's test on the discordant pairs ``b`` and ``c``."""

    b: int  # first right, second wrong
    c: int  # first wrong, second right
    method: str  # "exact binomial" or "chi-square with continuity correction"
    statistic: float | None  # chi-square statistic; None for the exact test
    p_value: float

    def describe(self, first: str = "A", second: str = "B") -> str:
        detail = f"{self.b} only {first} right, {self.c} only {second} right"
        if self.statistic is not None:
            detail += f", chi2 = {self.statistic:.3f}"
        return f"McNemar's test ({self.method}; {detail}): p = {self.p_value:.4g}"


def binomial_two_sided_half(k: int, n: int) -> float:
    """Two-sided exact p of ``k`` successes in ``n`` fair coin flips (doubling the smaller tail)."""
    if n == 0:
        return 1.0
    low = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(low + 1))
    return min(1.0, 2 * tail / 2**n)


def chi2_1_sf(statistic: float) -> float:
    """P(X >= statistic) for chi-square with one degree of freedom."""
    return math.erfc(math.sqrt(max(statistic, 0.0) / 2))


def mcnemar(b: int, c: int) -> McNemar:
    """Exact binomial test when there are few discordant pairs, else corrected chi-square.

    Below 25 discordant pairs the chi-square approximation is unreliable (the
    usual rule of thumb), so the exact conditional test is used there.
    """
    n = b + c
    if n < EXACT_BELOW:
        return McNemar(b, c, "exact binomial", None, binomial_two_sided_half(b, n))
    statistic = (abs(b - c) - 1) ** 2 / n
    return McNemar(b, c, "chi-square with continuity correction", statistic, chi2_1_sf(statistic))


