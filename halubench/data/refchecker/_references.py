"""The text each RefChecker item is checked against, joined to the annotations by id.

The annotations carry only ids; question and reference come from the source
datasets: databricks-dolly-15k (accurate context: row index), MS MARCO v2.1
validation (noisy context: query_id) and Natural Questions dev (zero context:
example_id, not on the hub: see ``make_references``). A local references file
(JSONL, one ``{"id", "question", "reference": [passages]}`` per line, optionally
``setting``) replaces them all, and is the only way on a machine without the hub.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halubench.data._tables import load_hub_dataset, read_local
from halubench.data.refchecker._annotations import SETTINGS, Setting
from halubench.errors import DataError

MAKE_FILE = "`halubench refchecker-references` (see docs/refchecker.md)"


@dataclass(frozen=True)
class Reference:
    question: str
    passages: tuple[str, ...]

    @property
    def text(self) -> str:
        """Several passages are numbered the way RefChecker shows them to its checker."""
        if len(self.passages) == 1:
            return self.passages[0]
        return "\n".join(f"Passage {n}: {p}" for n, p in enumerate(self.passages, start=1))


@dataclass(frozen=True)
class HubSource:
    """Where a setting's references live on the hub, and how an annotation id finds its row."""

    path: str
    name: str | None
    split: str
    id_column: str | None  # None: the id is the row index

    def describe(self) -> str:
        return f"{self.path}" + (f" ({self.name})" if self.name else "") + f" split {self.split}"


HUB_SOURCES = {
    "accurate": HubSource("databricks/databricks-dolly-15k", None, "train", None),
    "noisy": HubSource("microsoft/ms_marco", "v2.1", "validation", "query_id"),
}


def to_reference(setting: str, row: Mapping[str, Any]) -> Reference:
    """A source dataset's row in its own schema -> question and passages."""
    if setting == "accurate":
        return Reference(row["instruction"], (row["context"],))
    if setting == "noisy":
        return Reference(row["query"], tuple(row["passages"]["passage_text"]))
    raise ValueError(f"no hub schema for setting {setting}")


def from_hub(setting: str, ids: Iterable[str], source: HubSource | None = None) -> dict[str, Reference]:
    """The rows of ``ids`` only: MS MARCO's validation split is 100k rows with ten passages each."""
    source = source or HUB_SOURCES[setting]
    data = load_hub_dataset(
        source.path, source.name, source.split, None,
        how_to_fix=f"Pass a references file with --data PATH (make one with {MAKE_FILE})",
    )
    if source.id_column is None:
        position = {str(i): i for i in range(len(data))}
    else:
        position = {str(value): i for i, value in enumerate(data[source.id_column])}
    found = {i: position[i] for i in ids if i in position}
    rows = data.select(list(found.values())).to_list()
    return {i: to_reference(setting, row) for i, row in zip(found, rows, strict=True)}


def read_file(path: Path) -> dict[tuple[str | None, str], Reference]:
    """Keyed by (setting or None, id): a row without ``setting`` serves any setting."""
    rows = read_local(path)
    found: dict[tuple[str | None, str], Reference] = {}
    for row in rows:
        values = row.values
        item_id = str(values.get("id", "")).strip()
        where = f"{path}: {row.where}" + (f" (id {item_id})" if item_id else "")
        if not item_id:
            raise DataError(f"{where}: column 'id' is empty; references files need id, question, reference")
        setting = values.get("setting") or None
        if setting is not None and setting not in SETTINGS:
            raise DataError(f"{where}: unknown setting {setting!r}; use one of {', '.join(SETTINGS)} or leave it out")
        question = values.get("question")
        if not isinstance(question, str) or not question.strip():
            raise DataError(f"{where}: column 'question' must be a non-empty string")
        key = (setting, item_id)
        if key in found:
            raise DataError(f"{where}: duplicate id {item_id!r}" + (f" in setting {setting}" if setting else ""))
        found[key] = Reference(question, _passages(values.get("reference"), where))
    return found


def _passages(value: Any, where: str) -> tuple[str, ...]:
    """A list of passages; a plain string is one passage (what a CSV can hold)."""
    if isinstance(value, str):
        value = [value]
    if value is None or isinstance(value, (dict, bytes)) or not hasattr(value, "__iter__"):
        raise DataError(f"{where}: column 'reference' must be a list of passages (strings)")
    passages = tuple(value)
    if not passages or not all(isinstance(p, str) and p.strip() for p in passages):
        raise DataError(f"{where}: column 'reference' must be a non-empty list of non-empty strings")
    return passages


def join(
    setting: Setting, ids: Sequence[str], data: Path | None
) -> tuple[dict[str, Reference], dict[str, Any]]:
    """Every id's reference, or one error that says how many are missing and how to supply them."""
    if data is not None:
        table = read_file(data)
        found = {i: table.get((setting.name, i)) or table.get((None, i)) for i in ids}
        found = {i: ref for i, ref in found.items() if ref is not None}
        origin, provenance = str(data), {"source": "file", "path": str(data)}
        how = f"add them to {data.name} (JSONL: id, question, reference as a list of passages)"
    elif setting.name in HUB_SOURCES:
        source = HUB_SOURCES[setting.name]
        found = from_hub(setting.name, ids)
        origin, provenance = source.describe(), {"source": "hub", "path": source.path,
                                                 "name": source.name, "split": source.split}
        how = "pass a references file with --data PATH"
    else:
        raise DataError(
            f"the {setting.name}-context references come from Natural Questions dev, which is not on "
            f"the hub: make a references file with {MAKE_FILE} and pass it with --data PATH"
        )
    empty = [i for i, ref in found.items() if not any(p.strip() for p in ref.passages)]
    missing = [i for i in dict.fromkeys(ids) if i not in found or i in empty]
    if missing:
        unique = len(dict.fromkeys(ids))
        raise DataError(
            f"{len(missing)} of {unique} {setting.name}-context ids have no reference in {origin} "
            f"(first: {', '.join(missing[:3])}); {how}"
        )
    return found, provenance
