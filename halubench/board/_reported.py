"""Figures printed in papers, carried beside measured runs but never mixed with them.

Each ``halubench/reported/*.yaml`` holds one published table: the task it
belongs to, the citation, the group (domain) names, and one row per judge with
per-group accuracy and the printed overall, in percent as printed. A printed
overall is shown as printed; where it is not the mean of its row (beyond
rounding), a note says so instead of the figure being silently recomputed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from halubench.config import read_yaml
from halubench.errors import ConfigError

REPORTED_DIR = Path(__file__).resolve().parent / "papers"
ROUNDING = 0.05  # a printed one-decimal mean can differ from the exact mean by this much


@dataclass(frozen=True)
class ReportedRow:
    judge: str
    accuracy: dict[str, float]  # group -> fraction (0..1)
    overall: float | None  # fraction, as printed
    notes: tuple[str, ...]
    match: tuple[re.Pattern[str], ...]

    def matches(self, *names: str | None) -> bool:
        """True when a measured run's judge name or model id is the same model as this row."""
        return any(p.search(name) for p in self.match for name in names if name)


@dataclass(frozen=True)
class ReportedTable:
    task: str
    source: str
    citation: str
    url: str | None
    caveat: str | None
    overall_is: str  # metric the printed overall corresponds to, e.g. domain_macro_accuracy
    breakdown: str  # the measured runs' breakdown the groups belong to, e.g. domain
    groups: dict[str, str]  # group key -> name as printed
    rows: list[ReportedRow] = field(default_factory=list)
    path: Path | None = None


def _percent(value: object, where: str) -> float:
    if not isinstance(value, int | float) or not 0 <= value <= 100:
        raise ConfigError(f"{where}: expected a percentage between 0 and 100, got {value!r}")
    return round(float(value) / 100, 6)


def _row(body: dict, groups: dict[str, str], where: str) -> ReportedRow:
    judge = body.get("judge")
    if not isinstance(judge, str):
        raise ConfigError(f"{where}: each row needs a `judge:` name")
    where = f"{where}, row {judge!r}"
    accuracy = body.get("accuracy") or {}
    unknown = sorted(set(accuracy) - set(groups))
    if unknown:
        raise ConfigError(f"{where}: groups {unknown} are not listed under `groups:`")
    per_group = {g: _percent(v, f"{where}, {g}") for g, v in accuracy.items()}
    overall = _percent(body["overall"], f"{where}, overall") if body.get("overall") is not None else None
    notes = [body["note"]] if body.get("note") else []
    if not notes and overall is not None and len(per_group) == len(groups):
        mean = sum(per_group.values()) / len(per_group)
        if abs(mean - overall) * 100 > ROUNDING:
            notes.append(
                f"The printed overall ({100 * overall:.1f}) is not the mean of this row "
                f"({100 * mean:.1f}); shown as printed."
            )
    try:
        match = tuple(re.compile(p, re.IGNORECASE) for p in body.get("match", ()))
    except re.error as exc:
        raise ConfigError(f"{where}: bad `match` pattern ({exc})") from None
    return ReportedRow(judge, per_group, overall, tuple(notes), match)


def read_reported(path: Path) -> ReportedTable:
    body = read_yaml(path)
    try:
        task, citation, groups = body["task"], body["citation"], dict(body["groups"])
    except KeyError as missing:
        raise ConfigError(f"{path}: reported-figures file needs the key {missing}") from None
    rows = [_row(r, groups, str(path)) for r in body.get("rows", ())]
    return ReportedTable(
        task=task,
        source=body.get("source", path.stem),
        citation=" ".join(citation.split()),
        url=body.get("url"),
        caveat=" ".join(body["caveat"].split()) if body.get("caveat") else None,
        overall_is=body.get("overall_is", "domain_macro_accuracy"),
        breakdown=body.get("breakdown", "domain"),
        groups=groups,
        rows=rows,
        path=path,
    )


def load_reported(folders: Iterable[Path] = (REPORTED_DIR,)) -> list[ReportedTable]:
    """Every reported table shipped with the package (or in ``folders``)."""
    return [read_reported(p) for folder in folders for p in sorted(Path(folder).glob("*.yaml"))]
