"""Results files: one JSON summary and one JSONL of samples per run configuration.

Layout: ``<results-dir>/<task>/<judge>/<config_id>.json`` and
``<config_id>.samples.jsonl`` (names made file-safe); ``config_id`` is the
hash of the run's configuration identity (``halubench.identity``), so runs of
one judge measured differently live side by side and re-running one replaces
only its own files. Both are written to a temporary file and renamed into
place, so a crash never leaves half a file; the samples file is written first,
so a summary always has its samples.

A re-run whose content is unchanged (same verdicts, replies, metrics) leaves
both files byte-identical: timestamps and other facts of *this* execution
(interpreter, cache hits, timing of offline judges) are not a change, so a
nightly refresh with nothing new has nothing to commit, and a run's date is
the date its content last changed.

Format 1 (``<task>/<judge>.json``, no identity) is still read: its identity is
rebuilt from its provenance, and writing a run of the same configuration
replaces the old file. The format is documented in ``docs/results-format.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from halubench.atomic_io import atomic_write
from halubench.identity import config_id, dataset_identity, endpoint_info, run_config, selection_identity
from halubench.judge_spec import JudgeSpec

FORMAT = "halubench-results/2"
FORMAT_V1 = "halubench-results/1"

_VOLATILE = {
    "provenance": ("started_at", "finished_at", "python", "platform", "harness_version"),
    "usage": ("cached_replies", "called", "latency_p50_s", "latency_p95_s"),
}
_VOLATILE_SAMPLE = ("cached", "latency_s")


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "judge"


def result_paths(results_dir: Path, task: str, judge: str, config: str) -> tuple[Path, Path]:
    folder = results_dir / slug(task) / slug(judge)
    return folder / f"{config}.json", folder / f"{config}.samples.jsonl"


def _stable_summary(summary: dict[str, Any]) -> dict[str, Any]:
    stable = dict(summary)
    for block, keys in _VOLATILE.items():
        if isinstance(stable.get(block), dict):
            stable[block] = {k: v for k, v in stable[block].items() if k not in keys}
    return stable


def _stable_samples(samples: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in s.items() if k not in _VOLATILE_SAMPLE} for s in samples]


def _unchanged(summary_path: Path, summary: dict[str, Any], samples: list[dict[str, Any]]) -> bool:
    try:
        old = json.loads(summary_path.read_text(encoding="utf-8"))
        old_samples = load_samples(summary_path, old)
    except (OSError, ValueError, KeyError):
        return False
    return _stable_summary(old) == _stable_summary(summary) and _stable_samples(old_samples) == _stable_samples(
        samples
    )


def write_run(summary: dict[str, Any], samples: list[dict[str, Any]], results_dir: Path) -> Path:
    """Write (or keep, when nothing but this execution's facts changed) a run's two files."""
    summary_path, samples_path = result_paths(results_dir, summary["task"], summary["judge"], summary["config_id"])
    summary = {"format": FORMAT, **summary, "samples_file": samples_path.name}
    if _unchanged(summary_path, summary, samples):
        return summary_path
    atomic_write(samples_path, ((json.dumps(s, ensure_ascii=False) + "\n").encode() for s in samples))
    atomic_write(summary_path, [(json.dumps(summary, indent=2, ensure_ascii=False) + "\n").encode()])
    _drop_v1_twin(results_dir, summary)
    return summary_path


def _drop_v1_twin(results_dir: Path, summary: dict[str, Any]) -> None:
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


def upgrade_v1(summary: dict[str, Any]) -> dict[str, Any]:
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
        judge=JudgeSpec(summary["judge"], str(backend), model, judge).reply_settings(),
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


def load_summaries(results_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every results summary under ``results_dir`` (format 1 upgraded; other files skipped)."""
    found = []
    for path in sorted(results_dir.rglob("*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(body, dict):
            continue
        if body.get("format") == FORMAT:
            found.append((path, body))
        elif body.get("format") == FORMAT_V1:
            found.append((path, upgrade_v1(body)))
    return found


def load_samples(summary_path: Path, summary: dict[str, Any]) -> list[dict[str, Any]]:
    samples_path = summary_path.parent / summary["samples_file"]
    with samples_path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
