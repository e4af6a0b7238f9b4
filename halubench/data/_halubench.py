"""HaluBench rows (hub or local file) to samples, validated row by row."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from halubench.data._loaders import LoadedRows
from halubench.data._sample import Sample
from halubench.data._tables import RawRow, read_hub, read_local
from halubench.data._task import TaskSpec, file_sha256
from halubench.errors import DataError

COLUMNS = ("id", "passage", "question", "answer", "label", "source_ds")
TEXT_COLUMNS = ("passage", "question", "answer", "source_ds")


def load(spec: TaskSpec, data: Path | None) -> LoadedRows:
    """Rows of ``data``, the task's packaged file, or its hub dataset (the task takes no options)."""
    path = data or spec.data_file
    if path is not None:
        rows = read_local(path)
        origin = str(path)
        provenance = {"source": "file", "path": str(path), "sha256": file_sha256(path)}
    elif spec.dataset_path:
        rows = read_hub(spec.dataset_path, spec.dataset_name, spec.split, spec.revision)
        origin = f"{spec.dataset_path} (split {spec.split})"
        provenance = {
            "source": "hub",
            "path": spec.dataset_path,
            "name": spec.dataset_name,
            "split": spec.split,
            "revision": spec.revision,
        }
    else:
        raise DataError(f"task {spec.name} has no dataset_path or data_file; pass --data PATH")
    return LoadedRows(validate(rows, origin, spec.labels), provenance)


def validate(rows: list[RawRow], origin: str, labels: tuple[str, ...]) -> list[Sample]:
    if not rows:
        raise DataError(f"{origin}: no rows")
    present = set().union(*(row.values for row in rows))
    missing = [c for c in COLUMNS if c not in present]
    if missing:
        raise DataError(
            f"{origin}: missing column {', '.join(repr(c) for c in missing)} "
            f"(found: {', '.join(sorted(present))}); HaluBench files need {', '.join(COLUMNS)}"
        )
    samples: list[Sample] = []
    first_seen: dict[str, str] = {}
    for row in rows:
        sample_id = _text(row.values.get("id"))
        where = f"{origin}: {row.where}" + (f" (id {sample_id})" if sample_id else "")
        if not sample_id:
            raise DataError(f"{where}: column 'id' is empty")
        if sample_id in first_seen:
            raise DataError(f"{where}: duplicate id {sample_id!r} (first at {first_seen[sample_id]})")
        first_seen[sample_id] = row.where
        for column in TEXT_COLUMNS:
            value = row.values.get(column)
            if not isinstance(value, str) or not value.strip():
                raise DataError(f"{where}: column {column!r} must be a non-empty string")
        label = _text(row.values.get("label"))
        if label not in labels:
            raise DataError(
                f"{where}: column 'label': unknown label {label!r} (expected {' or '.join(labels)})"
            )
        values = row.values
        samples.append(
            Sample(
                id=sample_id,
                label=label,
                fields={c: values[c] for c in ("question", "passage", "answer")},
                groups={"domain": values["source_ds"]},
            )
        )
    return samples


def _text(value: Any) -> str:
    """Strings as they are; ids stored as numbers become strings; NaN/None are empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""
