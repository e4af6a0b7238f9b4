"""Sample-explorer data as small JavaScript shards, so a 15,000-row run stays light.

Per run, ``index.js`` holds what the filters need for every row (id, group,
gold, verdict, status) as small integers; the texts and the judge's replies are
in shards that the explorer loads only for the page being shown. The texts
(question, passage, answer) are the same for every judge of a task, so they are
stored once per task and each run points into that store.

Each file is one call, ``halubenchData.put("<key>", <JSON>)``: a script tag can
load it from ``file://``, where ``fetch()`` of a local file is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from halubench.scoring import STATUSES, SampleRecord

TEXT_SHARD_ROWS = 100  # texts are long (passages): small shards
REPLY_SHARD_ROWS = 250


def write_js(path: Path, key: str, value: Any) -> int:
    """Write one data file; returns its size in bytes."""
    payload = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    body = f"halubenchData.put({json.dumps(key)},{payload});\n".encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return len(body)


class TextStore:
    """The texts of one task's rows, each stored once whatever the number of judges."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []
        self._positions: dict[str, list[int]] = {}

    def position(self, sample_id: str, fields: dict[str, str]) -> int:
        """Where this row's texts are; rows with the same id but other texts get their own place."""
        places = self._positions.setdefault(sample_id, [])
        for place in places:
            if self.rows[place] == fields:
                return place
        places.append(len(self.rows))
        self.rows.append(fields)
        return places[-1]

    def write(self, folder: Path, key_prefix: str) -> int:
        written = 0
        for start in range(0, len(self.rows), TEXT_SHARD_ROWS):
            name = f"{start // TEXT_SHARD_ROWS:05d}"
            written += write_js(folder / f"{name}.js", f"{key_prefix}/{name}",
                                self.rows[start:start + TEXT_SHARD_ROWS])
        return written


def _reply(sample: SampleRecord) -> list[str | None]:
    """Reasoning, raw reply and error: the raw text only where the reasoning does not stand for it."""
    reasoning = sample.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, str):
        reasoning = json.dumps(reasoning, ensure_ascii=False)
    raw = sample.get("raw") if sample.get("status") != "ok" or not reasoning else None
    return [reasoning, raw, sample.get("error")]


def write_run_data(
    samples: list[SampleRecord],
    breakdowns: list[str],
    labels: list[str],
    store: TextStore,
    folder: Path,
    key_prefix: str,
    texts_key: str,
) -> int:
    """The index and reply shards of one run; texts go to ``store``. Returns bytes written.

    An index row is ``[id, gold, verdict (-1: none), status, text position, group per breakdown...]``,
    the labels, statuses and groups as positions in the index's lists.
    """
    def group(sample: SampleRecord, breakdown: str) -> str:
        return str((sample.get("groups") or {}).get(breakdown, ""))

    groups = [sorted({group(s, b) for s in samples}, key=lambda g: (g.lower(), g)) for b in breakdowns]
    group_at = [{g: i for i, g in enumerate(names)} for names in groups]
    labels = [*labels, *sorted({s["gold"] for s in samples} - set(labels))]
    label_at = {label: i for i, label in enumerate(labels)}
    status_at = {status: i for i, status in enumerate(STATUSES)}
    rows = []
    for sample in samples:
        verdict = sample.get("verdict")
        rows.append([
            sample["id"], label_at[sample["gold"]],
            label_at.get(verdict, -1) if verdict is not None else -1,
            status_at.get(sample.get("status"), status_at["error"]),
            store.position(sample["id"], sample.get("fields") or {}),
            *(group_at[i][group(sample, b)] for i, b in enumerate(breakdowns)),
        ])
    index = {
        "breakdowns": [{"name": b, "groups": g} for b, g in zip(breakdowns, groups, strict=True)],
        "labels": labels, "statuses": list(STATUSES), "rows": rows,
        "texts": texts_key, "textShardRows": TEXT_SHARD_ROWS, "replyShardRows": REPLY_SHARD_ROWS,
    }
    written = write_js(folder / "index.js", f"{key_prefix}/index", index)
    for start in range(0, len(samples), REPLY_SHARD_ROWS):
        name = f"r{start // REPLY_SHARD_ROWS:05d}"
        chunk = [_reply(s) for s in samples[start:start + REPLY_SHARD_ROWS]]
        written += write_js(folder / f"{name}.js", f"{key_prefix}/{name}", chunk)
    return written


def write_rows_index(
    runs: list[tuple[str, str, str, list[SampleRecord]]],
    labels: list[str],
    store: TextStore,
    path: Path,
    key: str,
    texts_key: str,
) -> int:
    """The row view's index of a task: per row id, where each run's verdict and reply are.

    ``runs`` holds ``(data key, name shown, run page, samples)``. A row is
    ``[id, gold, text position, then per run: reply position (-1: not judged),
    verdict (-1: none), status]``; replies stay in the runs' own shards.
    """
    labels = [*labels, *sorted({s["gold"] for *_, samples in runs for s in samples} - set(labels))]
    label_at = {label: i for i, label in enumerate(labels)}
    status_at = {status: i for i, status in enumerate(STATUSES)}
    rows: dict[str, list[Any]] = {}
    for j, (*_, samples) in enumerate(runs):
        for position, sample in enumerate(samples):
            row = rows.get(sample["id"])
            if row is None:
                row = rows[sample["id"]] = [sample["id"], label_at[sample["gold"]],
                                            store.position(sample["id"], sample.get("fields") or {}),
                                            *[-1, -1, 0] * len(runs)]
            verdict = sample.get("verdict")
            row[3 + 3 * j:6 + 3 * j] = [position, label_at.get(verdict, -1) if verdict is not None else -1,
                                        status_at.get(sample.get("status"), status_at["error"])]
    index = {
        "runs": [{"key": k, "name": name, "href": href} for k, name, href, _ in runs],
        "labels": labels, "statuses": list(STATUSES), "rows": list(rows.values()),
        "texts": texts_key, "textShardRows": TEXT_SHARD_ROWS, "replyShardRows": REPLY_SHARD_ROWS,
    }
    return write_js(path, key, index)
