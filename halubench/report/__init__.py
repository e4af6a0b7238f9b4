"""Figures as text: terminal tables that fit, Markdown and CSV boards, a run's closing lines.
"""

from __future__ import annotations

from halubench.report._board_tables import contested_lines, print_leaderboards, to_markdown
from halubench.report._closing_lines import summary_lines
from halubench.report._definitions_table import print_definitions
from halubench.report._fit import drop, fitted
from halubench.report._formatting import count, interval, money, pct, seconds, signed_points
from halubench.report._run_table import print_agreement, print_run_table

__all__ = [
    "print_definitions",
    "print_agreement",
    "print_run_table",
    "contested_lines",
    "count",
    "drop",
    "fitted",
    "interval",
    "money",
    "pct",
    "print_leaderboards",
    "seconds",
    "signed_points",
    "summary_lines",
    "to_markdown",
]
