"""Rendering a page: the jinja2 environment (templates, filters) shared by the build and its workers."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from halubench._version import __version__
from halubench.board import missing
from halubench.report import count, interval, money, pct, seconds
from halubench.results import describe_change, slug

HERE = Path(__file__).resolve().parent


@functools.cache
def environment() -> Environment:
    """One per process: templates are compiled once, whatever the number of pages."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=pct, interval=interval, money=money, seconds=seconds, count=count,
                       missing=missing, slug=slug, describe_change=describe_change)
    env.globals.update(version=__version__)
    return env


def render(template: str, path: str, **context: Any) -> bytes:
    """The page at ``path`` (relative to the site's root), which sets the way back to the root."""
    return environment().get_template(template).render(root="../" * path.count("/"), **context).encode()
