"""``halubench refresh``: keep every judge of the board fresh, incrementally, never partial.
"""

from __future__ import annotations

from halubench.refresh._command import check_names, refresh_command
from halubench.refresh._config import load_config

__all__ = [
    "check_names",
    "load_config",
    "refresh_command",
]
