"""Where halubench keeps its own files on this machine: the reply cache, and downloaded data beside it."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "HALUBENCH_CACHE"


def default_cache_path() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "halubench" / "replies.sqlite"
