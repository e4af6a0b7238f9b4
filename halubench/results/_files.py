"""Results files: one JSON summary and one JSONL of samples per run configuration.

Layout: ``<results-dir>/<task>/<judge>/<config_id>.json`` and
``<config_id>.samples.jsonl`` (names made file-safe); ``config_id`` is the
hash of the run's configuration identity (``halubench.config``), so runs of
one judge measured differently live side by side and re-running one replaces
only its own files. Both are written to a temporary file and renamed into
place, so a crash never leaves half a file; the samples file is written first,
so a summary always has its samples.

A re-run whose content is unchanged (same verdicts, replies, metrics) leaves
both files byte-identical: timestamps and other facts of *this* execution
(interpreter, cache hits, timing of offline judges) are not a change, so a
nightly refresh with nothing new has nothing to commit, and a run's date is
the date its content last changed.

Passages, questions and answers (a sample's ``fields``) are the bulk of a run
and the same for every judge of a task, so they are stored once per task, in
``<results-dir>/<task>/texts.jsonl`` (one line per distinct ``fields``, keyed by
the sha256 of its canonical JSON); a samples line carries ``fields_sha256``
instead, and ``load_samples`` puts the ``fields`` back, so readers see whole
records. Runs written before this kept ``fields`` inline and still read.

Format 1 (``<task>/<judge>.json``, no identity) is still read: its identity is
rebuilt from its provenance, and writing a run of the same configuration
replaces the old file. The format is documented in ``docs/results-format.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from halubench._atomic_io import atomic_write
from halubench.backends import recorded_reply_settings
from halubench.config import config_id, dataset_identity, endpoint_info, run_config, selection_identity
from halubench.errors import DataError
from halubench.results._summary_types import RunSummary
from halubench.scoring import SampleRecord

FORMAT = "halubench-results/2"
FORMAT_V1 = "halubench-results/1"

_VOLATILE = {
    "provenance": ("started_at", "finished_at", "python", "platform", "harness_version"),
    "usage": ("cached_replies", "called", "latency_p50_s", "latency_p95_s"),
}
_VOLATILE_SAMPLE = ("cached", "latency_s")
TEXTS_FILE = "texts.jsonl"  # per task folder: every run's fields, stored once
_texts_cache: dict[tuple[Path, int, int], dict[str, dict[str, Any]]] = {}


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "judge"


def result_paths(results_dir: Path, task: str, judge: str, config: str) -> tuple[Path, Path]:
    folder = results_dir / slug(task) / slug(judge)
    return folder / f"{config}.json", folder / f"{config}.samples.jsonl"


def run_content(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary without the facts of the execution that wrote it (``_VOLATILE``): what must be equal for a
    re-run to leave the files alone, wherever and whenever it ran."""
    stable = dict(summary)
    for block, keys in _VOLATILE.items():
        if isinstance(stable.get(block), dict):
            stable[block] = {k: v for k, v in stable[block].items() if k not in keys}
    return stable


def _unchanged(summary_path: Path, summary: RunSummary, samples: list[SampleRecord]) -> bool:
    """Whether the stored run says the same as ``summary`` and ``samples``, this execution's facts apart.

    The summaries are compared first (a changed figure ends it there); then the stored samples, line by
    line, each made comparable in place: its texts looked up by key, its volatile keys taken from the new
    record, then one dict comparison (a cached re-run of 15,000 rows spends its time here otherwise).
    """
    try:
        old = json.loads(summary_path.read_text(encoding="utf-8"))
        if run_content(old) != run_content(summary):
            return False
        stored = list(iter_stored_samples(summary_path, old))
    except (OSError, ValueError, KeyError):
        return False
    if len(stored) != len(samples):
        return False
    texts: dict[str, dict[str, Any]] | None = None
    for before, now in zip(stored, samples, strict=True):
        if "fields_sha256" in before:
            texts = _read_texts(_texts_path(summary_path, old)) if texts is None else texts
            before["fields"] = texts.get(before.pop("fields_sha256"))
        for key in _VOLATILE_SAMPLE:
            if key in now:
                before[key] = now[key]
            else:
                before.pop(key, None)
        if before != now:
            return False
    return True


def write_run(summary: RunSummary, samples: list[SampleRecord], results_dir: Path) -> Path:
    """Write (or keep, when nothing but this execution's facts changed) a run's two files."""
    summary_path, samples_path = result_paths(results_dir, summary["task"], summary["judge"], summary["config_id"])
    stored: RunSummary = {"format": FORMAT, **summary, "samples_file": samples_path.name,
                          "texts_file": f"../{TEXTS_FILE}"}
    if _unchanged(summary_path, stored, samples):
        return summary_path
    slim = _store_texts(_texts_path(summary_path, stored), samples)
    atomic_write(samples_path, ((json.dumps(s, ensure_ascii=False) + "\n").encode() for s in slim))
    atomic_write(summary_path, [(json.dumps(stored, indent=2, ensure_ascii=False) + "\n").encode()])
    _drop_v1_twin(results_dir, stored)
    return summary_path


def _texts_path(summary_path: Path, summary: RunSummary) -> Path:
    """Normalised: ``judge/../texts.jsonl`` does not resolve before the judge's folder exists."""
    return Path(os.path.normpath(summary_path.parent / summary.get("texts_file", f"../{TEXTS_FILE}")))


def fields_key(fields: dict[str, Any]) -> str:
    """The key of a row's texts in the task's texts file: the start of the sha256 of their canonical JSON."""
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]


def _read_texts(path: Path) -> dict[str, dict[str, Any]]:
    """The task's texts file (read once per version of the file: every run of the task shares it)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _texts_cache:
        with path.open(encoding="utf-8") as handle:
            lines = [json.loads(line) for line in handle if line.strip()]
        _texts_cache.clear()
        _texts_cache[key] = {line["sha256"]: line["fields"] for line in lines}
    return _texts_cache[key]


def iter_texts(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """A texts file's ``(key, fields)`` lines in file order, one at a time (none when it does not exist)."""
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            if line.strip():
                text = json.loads(line)
                yield text["sha256"], text["fields"]


def _store_texts(path: Path, samples: list[SampleRecord]) -> list[dict[str, Any]]:
    """Samples with ``fields`` replaced by their key; texts the task's file lacks are appended to it."""
    known = _read_texts(path)
    new: dict[str, dict[str, Any]] = {}
    slim = []
    for sample in samples:
        record = {}
        for name, value in sample.items():
            if name == "fields" and isinstance(value, dict):
                key = fields_key(value)
                if key not in known:
                    new.setdefault(key, value)
                record["fields_sha256"] = key
            else:
                record[name] = value
        slim.append(record)
    if new:
        old = path.read_bytes() if path.exists() else b""
        lines = (json.dumps({"sha256": k, "fields": v}, ensure_ascii=False) + "\n" for k, v in new.items())
        atomic_write(path, [old, *(line.encode() for line in lines)])
    return slim


def _drop_v1_twin(results_dir: Path, summary: RunSummary) -> None:
    """A format-1 file of the same configuration is this run's older copy: the new one replaces it."""
    old = results_dir / slug(summary["task"]) / f"{slug(summary['judge'])}.json"
    try:
        body = json.loads(old.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(body, dict) and body.get("format") == FORMAT_V1 and upgrade_v1(body)["config_id"] == summary[
        "config_id"
    ]:
        (old.parent / str(body.get("samples_file", ""))).unlink(missing_ok=True)
        old.unlink()


def upgrade_v1(summary: dict[str, Any]) -> RunSummary:
    """A format-1 summary with the keys format 2 adds, rebuilt from its provenance.

    Format 1 did not record task options, so only RefChecker's ``fail_on`` (kept
    in its dataset provenance) is known; such runs say so in ``variant``.
    """
    provenance = summary.get("provenance") or {}
    selection = provenance.get("selection") or {}
    judge = dict(provenance.get("judge") or {})
    endpoint = endpoint_info(judge.get("base_url"))
    backend, model = judge.pop("backend", None), judge.pop("model", None)
    dataset = provenance.get("dataset") or {}
    options = {"fail_on": dataset["fail_on"]} if dataset.get("fail_on") else {}
    config = run_config(
        task=summary["task"],
        dataset=dataset_identity(dataset),
        selection=selection_identity(selection.get("limit"), selection.get("seed", 0), selection.get("domains") or ()),
        options=options,
        template_sha256=(provenance.get("prompt_template") or {}).get("sha256", ""),
        judge=recorded_reply_settings(str(backend), model, judge),
        endpoint=endpoint,
    )
    overall = (summary.get("metrics") or {}).get("overall") or {}
    differs = []
    if selection.get("limit") is not None:
        differs.append(f"--limit {selection['limit']} (seed {selection.get('seed')})")
    if selection.get("domains"):
        differs.append(f"only {', '.join(selection['domains'])}")
    return {
        **summary,
        "config": config,
        "config_id": config_id(config),
        "variant": differs,
        "complete": not overall.get("errors"),
        "failures": {"failed calls (format 1 kept no reasons)": overall["errors"]} if overall.get("errors") else {},
        "endpoint": endpoint,
    }


def texts_path(summary_path: Path, summary: RunSummary) -> Path | None:
    """The texts file a run's samples point into; None for a run that keeps its texts inline (written
    before texts were stored once per task)."""
    return _texts_path(summary_path, summary) if summary.get("texts_file") else None


def iter_stored_samples(summary_path: Path, summary: RunSummary, digest: Any = None) -> Iterator[dict[str, Any]]:
    """A run's samples lines as stored, one at a time: texts stay a key (``fields_sha256``) into the
    task's texts file, so a reader that needs few texts (or none) holds none of them. ``digest``: a
    ``hashlib`` object fed the file's bytes as they are read (a hash without reading the file twice)."""
    with (summary_path.parent / summary["samples_file"]).open("rb") as handle:
        for line in handle:
            if digest is not None:
                digest.update(line)
            if line.strip():
                yield json.loads(line.decode("utf-8"))


def load_samples(summary_path: Path, summary: RunSummary) -> list[SampleRecord]:
    """A run's sample records, whole: ``fields`` stored in the task's texts file are put back."""
    samples_path = summary_path.parent / summary["samples_file"]
    with samples_path.open(encoding="utf-8") as handle:
        samples = [json.loads(line) for line in handle if line.strip()]
    if any("fields_sha256" in s for s in samples):
        texts_path = _texts_path(summary_path, summary)
        texts = _read_texts(texts_path)
        for sample in samples:
            if "fields_sha256" in sample:
                key = sample.pop("fields_sha256")
                if key not in texts:
                    raise DataError(f"{samples_path}: row {sample.get('id')}: its texts ({key}) are missing from "
                                    f"{texts_path}; restore that file from the results' history")
                sample["fields"] = dict(texts[key])
    return samples
