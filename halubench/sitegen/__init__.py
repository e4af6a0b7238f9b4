"""The static leaderboard site: HTML pages (jinja2), SVG charts (matplotlib), explorer data.
"""

from __future__ import annotations

from halubench.sitegen._board_view import board_view
from halubench.sitegen._build import build_site, leaderboard_table
from halubench.sitegen._explorer_data import TEXT_SHARD_ROWS

__all__ = [
    "TEXT_SHARD_ROWS",
    "board_view",
    "build_site",
    "leaderboard_table",
]
