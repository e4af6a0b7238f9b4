"""Reading rows from a local file or the HuggingFace hub, with row locators.

Every row comes back with a human locator ("line 12", "row 3") so that a
validation error can say exactly where the problem is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halubench.errors import DataError

LOCAL_FORMATS = (".jsonl", ".json", ".csv", ".parquet")


@dataclass(frozen=True)
class RawRow:
    where: str
    values: dict[str, Any]


def read_local(path: Path) -> list[RawRow]:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path)
    if suffix not in LOCAL_FORMATS:
        raise DataError(f"{path}: unsupported file type '{suffix}'; use one of {', '.join(LOCAL_FORMATS)}")
    import pandas as pd

    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            offset, unit = 2, "line"  # header is line 1
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
            offset, unit = 1, "row"
        else:
            frame = _read_json_array(path)
            offset, unit = 1, "record"
    except (ValueError, OSError, ImportError) as exc:
        raise DataError(f"{path}: could not be read as {suffix[1:]} ({_first_line(exc)})") from None
    records = frame.to_dict(orient="records")
    return [RawRow(f"{unit} {i + offset}", row) for i, row in enumerate(records)]


def _read_json_array(path: Path):
    import pandas as pd

    text = path.read_text(encoding="utf-8")
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
    if isinstance(body, dict):  # {"data": [...]} or a column-oriented mapping
        body = body.get("data", body)
    return pd.DataFrame(body)


def _read_jsonl(path: Path) -> list[RawRow]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                values = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}: line {number}: invalid JSON ({exc.msg})") from None
            if not isinstance(values, dict):
                raise DataError(f"{path}: line {number}: expected a JSON object per line")
            rows.append(RawRow(f"line {number}", values))
    return rows


def read_hub(path: str, name: str | None, split: str, revision: str | None) -> list[RawRow]:
    """Load a hub dataset through `datasets` (its cache makes later runs offline)."""
    data = load_hub_dataset(
        path, name, split, revision,
        how_to_fix="Pass a local copy with --data PATH (jsonl, json, csv or parquet, same "
        "columns), or run the bundled sample with --task halubench-sample",
    )
    return [RawRow(f"row {i}", row) for i, row in enumerate(data.to_list())]


def load_hub_dataset(path: str, name: str | None, split: str, revision: str | None, how_to_fix: str):
    """One split of a hub dataset as a `datasets.Dataset`, or a one-line DataError saying how to fix."""
    import datasets
    from huggingface_hub.utils import logging as hub_logging

    # The hub client logs every retry; the one line below says all a user needs.
    hub_logging.set_verbosity_error()
    datasets.logging.set_verbosity_error()
    label = f"{path}@{revision}" if revision else path
    try:
        return datasets.load_dataset(path, name, split=split, revision=revision)
    except Exception as exc:  # datasets raises many types for "offline / not cached"
        raise DataError(
            f"could not load {label} (split {split}) from the HuggingFace hub and it is not "
            f"cached: {_first_line(exc)}. {how_to_fix}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
