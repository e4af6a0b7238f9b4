"""Results files: one JSON summary and one JSONL of samples per (task, judge).

Layout: ``<results-dir>/<task>/<judge>.json`` and ``<judge>.samples.jsonl``
(the judge name made file-safe). Both are written to a temporary file and
renamed into place, so a crash never leaves half a file; the samples file is
written first, so a summary always has its samples. The format is documented
in ``docs/results-format.md``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from halubench.atomic_io import atomic_write

FORMAT = "halubench-results/1"


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "judge"


def result_paths(results_dir: Path, task: str, judge: str) -> tuple[Path, Path]:
    folder = results_dir / slug(task)
    stem = slug(judge)
    return folder / f"{stem}.json", folder / f"{stem}.samples.jsonl"


def write_run(summary: dict[str, Any], samples: list[dict[str, Any]], results_dir: Path) -> Path:
    summary_path, samples_path = result_paths(results_dir, summary["task"], summary["judge"])
    atomic_write(samples_path, ((json.dumps(s, ensure_ascii=False) + "\n").encode() for s in samples))
    summary = {"format": FORMAT, **summary, "samples_file": samples_path.name}
    atomic_write(summary_path, [(json.dumps(summary, indent=2, ensure_ascii=False) + "\n").encode()])
    return summary_path


def load_summaries(results_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every results summary under ``results_dir`` (files of another format are skipped)."""
    found = []
    for path in sorted(results_dir.rglob("*.json")):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(body, dict) and body.get("format") == FORMAT:
            found.append((path, body))
    return found


def load_samples(summary_path: Path, summary: dict[str, Any]) -> list[dict[str, Any]]:
    samples_path = summary_path.parent / summary["samples_file"]
    with samples_path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
