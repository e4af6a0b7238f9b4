"""The ``halubench`` command line: a thin layer over the Python API.
"""

from __future__ import annotations

from halubench.cli._app import app, main
from halubench.cli._progress import LineProgress
from halubench.cli._signals import StopOnSignal

__all__ = [
    "LineProgress",
    "StopOnSignal",
    "app",
    "main",
]
