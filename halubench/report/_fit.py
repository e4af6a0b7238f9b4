"""Tables that fit the terminal without cutting a number.

Rich squeezes a table wider than the terminal by cutting cells ("88…"), which
turns a figure into a different one. Here a table is first built whole; while
its narrowest rendering (every word whole) is still wider than the terminal,
the least important columns are dropped or shortened, in the order the caller
gives, and a note says what was left out. If even the essential columns do not
fit, the rows are printed stacked: one block per row, its ``label value`` pairs side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich import box
from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

Rows = list[dict[str, str]]  # one dict per row, the same keys in the same order: the columns
UNBOUNDED = 100_000  # rich clamps a measurement to the width it is given; measure without one


@dataclass(frozen=True)
class Narrowing:
    """One step towards a narrower table: ``what`` is named in the note, ``apply`` returns the narrower rows."""

    what: str
    apply: Callable[[Rows], Rows]


def drop(what: str, *columns: str) -> Narrowing:
    return Narrowing(what, lambda rows: [{k: v for k, v in row.items() if k not in columns} for row in rows])


def fitted(
    rows: Rows,
    console: Console,
    narrowings: Sequence[Narrowing] = (),
    title: str | None = None,
    styles: Sequence[str | None] | None = None,
    left: Sequence[str] = (),
    prose: Sequence[str] = (),
) -> tuple[RenderableType, list[str]]:
    """The table (or stacked rows) for ``rows`` at ``console.width``, and what had to be left out.

    ``left`` names the left-aligned (text) columns; the others are figures, aligned right.
    ``prose`` names text columns that wrap (descriptions): stacked, they are a paragraph.
    """
    left_out: list[str] = []
    for step in (None, *narrowings):
        if step is not None:
            narrower = step.apply(rows)
            if narrower == rows:
                continue  # nothing of this kind here: not worth a note
            rows = narrower
            left_out.append(step.what)
        table = _table(rows, title, styles, (*left, *prose), console)
        if table is not None:
            return table, left_out
    return _stacked(rows, title, styles, left, prose), left_out


def _table(rows: Rows, title: str | None, styles: Sequence[str | None] | None,
           left: Sequence[str], console: Console) -> Table | None:
    """The table with widths chosen here, or None when it cannot fit with every word whole.

    Rich's own squeezing narrows the widest columns whatever their content, cutting
    words; so each column gets at least its longest word and the spare room is shared
    out in proportion to what each column would use beyond that.
    """
    columns = list(rows[0]) if rows else []
    header = [Text(c) for c in columns]
    cells = [[Text(str(v)) for v in row.values()] for row in rows]
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in columns:
        table.add_column(column, justify="left" if column in left else "right")
    for i, row in enumerate(cells):
        table.add_row(*row, style=styles[i] if styles else None)
    unbounded = console.options.update_width(UNBOUNDED)
    ranges = [[Measurement.get(console, unbounded, t) for t in (header[j], *(row[j] for row in cells))]
              for j in range(len(header))]
    least = [max(m.minimum for m in r) for r in ranges]
    most = [max(m.maximum for m in r) for r in ranges]
    room = console.width - (Measurement.get(console, unbounded, table).minimum - sum(least))
    if sum(least) > room:
        return None
    spare, wants = room - sum(least), [m - n for m, n in zip(most, least, strict=True)]
    share = 1.0 if sum(wants) <= spare else spare / sum(wants)
    for column, floor, want in zip(table.columns, least, wants, strict=True):
        column.width = floor + int(want * share)
    return table


def _stacked(rows: Rows, title: str | None, styles: Sequence[str | None] | None,
             left: Sequence[str], prose: Sequence[str]) -> RenderableType:
    """One block per row: its text columns as a heading, its ``label value`` pairs side by side, its prose."""
    parts: list[RenderableType] = [Text(title, style="italic")] if title else []
    columns = list(rows[0]) if rows else []
    figures = [c for c in columns if c not in left and c not in prose]
    for i, row in enumerate(rows):
        style = (styles[i] if styles else None) or ""
        heading = " · ".join(str(row[c]) for c in columns if c in left and c not in prose and row[c])
        parts.append(Text(heading, style=f"bold {style}".strip()))
        pairs = [Text(f"{c} {row[c]}", style=style, no_wrap=True) for c in figures]
        if pairs:
            parts.append(Padding(Columns(pairs, padding=(0, 3)), (0, 0, 0, 2)))
        parts += [Padding(Text(row[c], style=style), (0, 0, 0, 2)) for c in prose if row.get(c)]
    return Group(*parts)
