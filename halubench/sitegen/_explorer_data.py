"""Sample-explorer and row-view data: per run an index and reply shards, per task texts and a row index.

Per run, ``index.js`` holds what the filters need for every row as columns of
small integers (gold, verdict, status, text position, group per breakdown) and
the row ids; the judge's replies are in shards of ``REPLY_SHARD_ROWS`` rows
that the explorer loads only for the page being shown. The texts (question,
passage, answer) are the same for every judge of a task, so they are stored
once per task, in the order of the task's texts file (``TextTable``), and each
run's index points into them by position: appending texts never moves one, so
a run's data stays valid while other runs bring new rows.

A run's index is also what the build reads back, instead of the run's samples,
for the figures across runs (``RunVerdicts``): an unchanged run is never read
from the results again. Every file is written with ``halubench.sitegen``'s data
encoding (``_packed_scripts``).
"""

from __future__ import annotations

import functools
import json
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halubench.board import RunVerdicts
from halubench.errors import DataError
from halubench.results import fields_key, iter_texts
from halubench.scoring import STATUSES
from halubench.sitegen._incremental_writes import FileStates, SiteFiles, file_sha256, fingerprint
from halubench.sitegen._packed_scripts import column, decode, encode, read_column

TEXT_SHARD_ROWS = 100  # texts are long (passages): small shards
REPLY_SHARD_ROWS = 250
_KEY_LINE = re.compile(rb'\{"sha256": "([0-9a-f]+)", "fields": ')  # as results' write_run writes a texts line


def shard_name(position: int, rows: int) -> str:
    return f"{position // rows:05d}"


class TextTable:
    """The texts of one task's rows, each once, numbered: the lines of the task's texts files in order,
    then texts that runs written before texts were shared keep inline (sorted by key).

    A run's index points into the table by position, so its files stay valid while the lines it points
    to stay where they are: ``token`` names the first bytes of the files (``extent``: how many a run's
    positions reach), so texts appended after them change no run's name.
    """

    def __init__(self, files: Sequence[Path], inline: Mapping[str, dict[str, Any]], states: FileStates):
        self.files = list(files)
        self._inline = inline
        self._states = states
        self._tokens: dict[int, str] = {}

    @functools.cached_property
    def _scan(self) -> tuple[dict[str, int], list[int]]:
        """Text key -> position, and where each position's line ends (bytes into the files, in order; -1
        for an inline text); the files' keys are read the first time a run's data is made."""
        positions: dict[str, int] = {}
        ends: list[int] = []
        read = 0
        for path in self.files:
            for key, length in _keys(path):
                read += length
                if key is not None:  # a blank line holds no text and takes no place
                    positions.setdefault(key, len(ends))  # a key seen twice keeps its first place
                    ends.append(read)
        for key in sorted(self._inline):
            if key not in positions:
                positions[key] = len(ends)
                ends.append(-1)
        return positions, ends

    @property
    def positions(self) -> dict[str, int]:
        return self._scan[0]

    def extent(self, positions: Sequence[int]) -> int:
        """How many bytes of the texts files these positions reach into (-1: an inline text too)."""
        ends = self._scan[1]
        if any(ends[p] < 0 for p in positions):
            return -1
        return max((ends[p] for p in positions), default=0)

    def token(self, size: int) -> str:
        """A name for the first ``size`` bytes of the texts files (-1: all of them, and the inline texts)."""
        if size not in self._tokens:
            parts: list[Any] = []
            left = size
            for path in self.files:
                try:
                    whole = self._states.size(path)
                except OSError:  # gone: runs that point into it are made again, and say so
                    parts.append(None)
                    continue
                if size < 0 or left >= whole:
                    parts.append(self._states.sha256(path))  # a whole file's hash is remembered between builds
                    left -= whole
                elif left > 0:
                    parts.append(file_sha256(path, left))
                    left = 0
            self._tokens[size] = fingerprint(parts + (self.inline_keys if size < 0 else []))
        return self._tokens[size]

    @property
    def inline_keys(self) -> list[str]:
        return sorted(self._inline)

    def rows(self) -> Iterator[dict[str, Any] | None]:
        """Every text in position order (None for a key seen twice: its first place holds it)."""
        seen: set[str] = set()
        for path in self.files:
            for key, fields in iter_texts(path):
                yield None if key in seen else fields
                seen.add(key)
        for key in sorted(self._inline):
            if key not in seen:
                yield self._inline[key]
                seen.add(key)


def _keys(path: Path) -> Iterator[tuple[str | None, int]]:
    """A texts file's keys in order (None for a blank line), each with its line's length in bytes, without
    parsing the texts."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            match = _KEY_LINE.match(line)
            if match:
                yield match.group(1).decode(), len(line)
            else:
                yield (json.loads(line)["sha256"] if line.strip() else None), len(line)


def write_texts(table: TextTable, files: SiteFiles, folder: str) -> None:
    """The task's text shards (``<folder>/00000.js``...)."""
    chunk: list[dict[str, Any] | None] = []
    start = 0
    for fields in table.rows():
        chunk.append(fields)
        if len(chunk) == TEXT_SHARD_ROWS:
            _put_texts(files, folder, start, chunk)
            start, chunk = start + len(chunk), []
    if chunk:
        _put_texts(files, folder, start, chunk)


def _put_texts(files: SiteFiles, folder: str, start: int, chunk: list[Any]) -> None:
    name = shard_name(start, TEXT_SHARD_ROWS)
    files.put(f"data/{folder}/{name}.js", encode(f"{folder}/{name}", chunk))


def _reply(sample: Mapping[str, Any]) -> list[str | None]:
    """Reasoning, raw reply and error: the raw text only where the reasoning does not stand for it."""
    reasoning = sample.get("reasoning")
    if isinstance(reasoning, list):  # an older results file
        reasoning = "\n".join(map(str, reasoning))
    elif reasoning is not None and not isinstance(reasoning, str):
        reasoning = json.dumps(reasoning, ensure_ascii=False)
    raw = sample.get("raw") if sample.get("status") != "ok" or not reasoning else None
    return [reasoning, raw, sample.get("error")]


def _sorted_groups(names: Iterable[str]) -> list[str]:
    return sorted(names, key=lambda g: (g.lower(), g))


@dataclass
class RunData:
    """What writing a run's explorer data gives back: its index, and the scores of its rows (ROC)."""

    index: dict[str, Any]
    scored: list[tuple[str, float]] = field(default_factory=list)  # (gold, score) of rows with a score


def write_run_data(
    samples: Iterable[Mapping[str, Any]],
    breakdowns: list[str],
    labels: list[str],
    positions: Mapping[str, int],
    files: SiteFiles,
    key: str,
    task_key: str,
    source: Path,
) -> RunData:
    """A run's index and reply shards, its samples (as stored: texts by key) read once, in order.

    The index holds ``ids`` (the data key of the row ids, a file shared by the task's runs that have the
    same rows in the same order), then packed columns of positions: ``gold`` and ``verdict`` (-1: none) in
    ``labels``, ``status`` in ``statuses``, ``text`` in the task's texts (``<task_key>/texts``), ``group``
    (one column per breakdown) in that breakdown's ``groups``. ``source``: the samples file, for messages.
    """
    ids: list[str] = []
    gold_names: list[str] = []
    verdict_names: list[str | None] = []
    status = array("B")
    text = array("q")
    group_names: list[list[str]] = [[] for _ in breakdowns]
    status_at = {s: i for i, s in enumerate(STATUSES)}
    data = RunData({})
    chunk: list[list[str | None]] = []
    for sample in samples:
        ids.append(sample["id"])
        gold_names.append(sample["gold"])
        verdict_names.append(sample.get("verdict"))
        status.append(status_at.get(sample.get("status") or "ok", status_at["error"]))
        text_key = sample.get("fields_sha256") or fields_key(sample.get("fields") or {})
        if text_key not in positions:
            raise DataError(f"{source}: row {sample['id']}: its texts ({text_key}) are missing from the task's "
                            "texts file; restore that file from the results' history")
        text.append(positions[text_key])
        groups = sample.get("groups") or {}
        for names, breakdown in zip(group_names, breakdowns, strict=True):
            names.append(str(groups.get(breakdown, "")))
        if sample.get("score") is not None:
            data.scored.append((sample["gold"], sample["score"]))
        chunk.append(_reply(sample))
        if len(chunk) == REPLY_SHARD_ROWS:
            _put_replies(files, key, len(ids) - len(chunk), chunk)
            chunk = []
    if chunk:
        _put_replies(files, key, len(ids) - len(chunk), chunk)
    labels = [*labels, *sorted(set(gold_names) - set(labels))]
    label_at = {label: i for i, label in enumerate(labels)}
    groups_of = [_sorted_groups(set(names)) for names in group_names]
    group_at = [{g: i for i, g in enumerate(names)} for names in groups_of]
    ids_key = f"{task_key}/ids/{fingerprint(ids)[:20]}"
    files.put(f"data/{ids_key}.js", encode(ids_key, ids))
    data.index = {
        "breakdowns": [{"name": b, "groups": g} for b, g in zip(breakdowns, groups_of, strict=True)],
        "labels": labels, "statuses": list(STATUSES), "rows": len(ids), "ids": ids_key,
        "gold": column(label_at[g] for g in gold_names),
        "verdict": column(label_at.get(v, -1) if v is not None else -1 for v in verdict_names),
        "status": column(status), "text": column(text),
        "group": [column(at[g] for g in names) for at, names in zip(group_at, group_names, strict=True)],
        "texts": f"{task_key}/texts", "textShardRows": TEXT_SHARD_ROWS, "replyShardRows": REPLY_SHARD_ROWS,
    }
    files.put(f"data/{key}/index.js", encode(f"{key}/index", data.index))
    return data


def _put_replies(files: SiteFiles, key: str, start: int, chunk: list[list[str | None]]) -> None:
    name = "r" + shard_name(start, REPLY_SHARD_ROWS)
    files.put(f"data/{key}/{name}.js", encode(f"{key}/{name}", chunk))


def read_index(files: SiteFiles, key: str) -> dict[str, Any]:
    """A run's index as this build holds it (written now or kept from the previous build)."""
    return decode(files.read(f"data/{key}/index.js"))[1]


class IdLists:
    """The row ids of a task's runs, each list read once however many runs share it."""

    def __init__(self, files: SiteFiles):
        self.files = files
        self._lists: dict[str, list[str]] = {}

    def __call__(self, key: str) -> list[str]:
        if key not in self._lists:
            self._lists[key] = decode(self.files.read(f"data/{key}.js"))[1]
        return self._lists[key]


def verdicts_of(index: Mapping[str, Any], breakdown: str | None, ids: IdLists) -> RunVerdicts:
    """A run's verdicts read from its explorer index, grouped by the board's breakdown."""
    names = [b["name"] for b in index["breakdowns"]]
    if breakdown in names:
        at = names.index(breakdown)
        groups, group = index["breakdowns"][at]["groups"], read_column(index["group"][at])
    else:
        groups, group = [""], array("B", bytes(index["rows"]))
    return RunVerdicts(ids(index["ids"]), index["labels"], read_column(index["gold"]),
                       read_column(index["verdict"]), read_column(index["status"]), groups, group)


class ShardReader:
    """Texts and replies of a few rows, read back from this build's shards (the contested page)."""

    def __init__(self, files: SiteFiles, keys: Mapping[str, str], indexes: Mapping[str, Mapping[str, Any]],
                 texts_key: str):
        self.files, self.keys, self.indexes, self.texts_key = files, keys, indexes, texts_key
        self._shards: dict[str, Any] = {}

    def _shard(self, key: str) -> Any:
        if key not in self._shards:
            self._shards[key] = decode(self.files.read(f"data/{key}.js"))[1]
        return self._shards[key]

    def __call__(self, run_id: str, positions: Sequence[int]) -> list[tuple[dict[str, Any], str | None]]:
        key, text = self.keys[run_id], read_column(self.indexes[run_id]["text"])
        found = []
        for position in positions:
            texts = self._shard(f"{self.texts_key}/{shard_name(text[position], TEXT_SHARD_ROWS)}")
            reply = self._shard(f"{key}/r{shard_name(position, REPLY_SHARD_ROWS)}")[position % REPLY_SHARD_ROWS]
            found.append((texts[text[position] % TEXT_SHARD_ROWS] or {}, reply[0] or reply[1]))
        return found


def write_rows_index(
    runs: list[tuple[str, str, str, Mapping[str, Any]]],
    labels: list[str],
    ids_of: IdLists,
    files: SiteFiles,
    key: str,
    texts_key: str,
) -> None:
    """The row view's index of a task: per row id, where each run's verdict and reply are.

    ``runs`` holds ``(data key, name shown, run page, index)`` in the board's order. Rows: ``ids``,
    packed ``gold`` and ``text`` (the first run's row of that id gives them); per run, packed ``at`` (the
    row's place in the run's shards, -1: not judged; null: the run has exactly the task's rows, in
    order), ``verdict`` (-1: none) and ``status``.
    """
    labels = [*labels, *sorted({label for *_, index in runs for label in index["labels"]} - set(labels))]
    label_at = {label: i for i, label in enumerate(labels)}
    ids: list[str] = []
    row_at: dict[str, int] = {}
    gold, text = array("q"), array("q")
    first: list[str] | None = None
    for *_, index in runs:
        run_ids = ids_of(index["ids"])
        if run_ids is first:  # the same rows as the first run (one shared list): nothing new
            continue
        recode = [label_at[label] for label in index["labels"]]
        run_gold, run_text = read_column(index["gold"]), read_column(index["text"])
        if first is None:
            first, ids = run_ids, list(run_ids)
            row_at = {row_id: i for i, row_id in enumerate(ids)}
            gold, text = array("q", (recode[g] for g in run_gold)), array("q", run_text)
            continue
        for position, row_id in enumerate(run_ids):
            if row_id not in row_at:
                row_at[row_id] = len(row_at)
                ids.append(row_id)
                gold.append(recode[run_gold[position]])
                text.append(run_text[position])
    at, verdict, status = [], [], []
    for *_, index in runs:
        recode = [label_at[label] for label in index["labels"]]
        run_ids, run_verdict = ids_of(index["ids"]), read_column(index["verdict"])
        if recode != list(range(len(recode))):
            run_verdict = array("q", (recode[v] if v >= 0 else -1 for v in run_verdict))
        if run_ids == ids:
            at.append(None)
            verdict.append(column(run_verdict))
            status.append(index["status"])
            continue
        places, column_v, column_s = array("q", [-1]) * len(ids), array("q", [-1]) * len(ids), bytearray(len(ids))
        run_status = read_column(index["status"])
        for position, row_id in enumerate(run_ids):
            row = row_at[row_id]
            places[row], column_v[row], column_s[row] = position, run_verdict[position], run_status[position]
        at.append(column(places))
        verdict.append(column(column_v))
        status.append(column(column_s))
    value = {
        "runs": [{"key": k, "name": name, "href": href} for k, name, href, _ in runs],
        "labels": labels, "statuses": list(STATUSES), "ids": ids, "gold": column(gold), "text": column(text),
        "at": at, "verdict": verdict, "status": status,
        "texts": texts_key, "textShardRows": TEXT_SHARD_ROWS, "replyShardRows": REPLY_SHARD_ROWS,
    }
    files.put(f"data/{key}.js", encode(key, value))


def write_judges(runs: list[tuple[str, str]], files: SiteFiles, key: str) -> None:
    """The task's runs (data key, name shown), in the board's order: the explorer's "disagrees with"
    list, kept out of the explorer pages so that a run added or re-run leaves the others' pages alone."""
    files.put(f"data/{key}.js", encode(key, [{"key": k, "name": name} for k, name in runs]))
