"""Rendering a page: the jinja2 environment (templates, filters) shared by the build and its workers."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from halubench._version import __version__
from halubench.board import missing, partial_auroc
from halubench.report import count, interval, money, pct, seconds, signed_points
from halubench.results import describe_change, slug

HERE = Path(__file__).resolve().parent
PROVENANCE_TITLES = {  # the badge's tooltip: how a row was obtained (a board row's ``provenance``)
    "reproduced": "run by this board's refresh",
    "submitted": "run by its submitter; every reply re-read and the run re-scored here, the calls not repeated",
    "reported": "printed in a paper, not re-run",
}


@functools.cache
def environment() -> Environment:
    """One per process: templates are compiled once, whatever the number of pages."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=pct, interval=interval, money=money, seconds=seconds, count=count,
                       missing=missing, slug=slug, describe_change=describe_change, signed_points=signed_points)
    env.tests.update(partial_auroc=partial_auroc)
    env.globals.update(version=__version__, provenance_titles=PROVENANCE_TITLES)
    return env


def render(template: str, path: str, **context: Any) -> bytes:
    """The page at ``path`` (relative to the site's root), which sets the way back to the root."""
    return environment().get_template(template).render(root="../" * path.count("/"), **context).encode()
