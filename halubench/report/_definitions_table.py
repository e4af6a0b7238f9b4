"""The list of named judges or tasks (``halubench judges`` / ``halubench tasks``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.console import Console

from halubench.config import discover
from halubench.report._fit import fitted


def print_definitions(kind: str, include_paths: Iterable[Path], columns: tuple[str, ...], console: Console) -> None:
    """Names and model ids stay whole (they are typed back into commands); descriptions wrap."""
    rows = [
        {"name": name, **{k: str(d.body.get(k) or "") for k in columns},
         "description": " ".join(str(d.body.get("description", "")).split())}
        for name, d in sorted(discover(kind, include_paths).items())
    ]
    console.print(fitted(rows, console, left=("name", *columns), prose=("description",))[0])
