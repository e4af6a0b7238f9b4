"""How numbers read in every report (terminal, Markdown, the site): one place, one style.

Missing values (NaN, None: a reported row has no CI, an offline judge has no
cost) read as an en dash, never as 0.
"""

from __future__ import annotations

from halubench.board import missing

DASH = "–"


def pct(value: float | None, digits: int = 1) -> str:
    return DASH if missing(value) else f"{100 * value:.{digits}f}"


def interval(low: float | None, high: float | None) -> str:
    return DASH if missing(low) or missing(high) else f"{100 * low:.1f}–{100 * high:.1f}"


def money(value: float | None) -> str:
    if missing(value):
        return DASH
    return f"${value:.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def seconds(value: float | None) -> str:
    if missing(value):
        return DASH
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def count(value: float | int | None) -> str:
    return DASH if missing(value) else f"{int(value):,}"


def signed_points(value: float | None) -> str:
    """A difference of two accuracies, in percentage points."""
    return DASH if missing(value) else f"{100 * value:+.1f}"
