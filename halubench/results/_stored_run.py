"""A run as stored on disk: its summary and the path of its files, read in one place."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halubench.errors import DataError
from halubench.results._files import load_samples, load_summaries, slug


@dataclass(frozen=True)
class StoredRun:
    """One results summary on disk."""

    path: Path
    summary: dict[str, Any]

    @property
    def task(self) -> str:
        return self.summary["task"]

    @property
    def judge(self) -> str:
        return self.summary["judge"]

    @property
    def config_id(self) -> str:
        return self.summary["config_id"]

    @property
    def run_id(self) -> str:
        """File-safe ``task/judge/config_id``: the run's address on the site and in ``compare``."""
        return f"{slug(self.task)}/{slug(self.judge)}/{self.config_id}"

    @property
    def complete(self) -> bool:
        return bool(self.summary.get("complete", True))

    @property
    def variant(self) -> list[str]:
        return list(self.summary.get("variant") or [])

    @property
    def dataset_key(self) -> str:
        """The data's identity, comparable between runs (hub revision, file sha256, annotations commit)."""
        return json.dumps((self.summary.get("config") or {}).get("dataset"), sort_keys=True)

    @property
    def private_endpoint(self) -> str | None:
        """The host of a judge's endpoint when it is not the provider's official one."""
        endpoint = self.summary.get("endpoint")
        return endpoint["host"] if endpoint and not endpoint.get("official") else None

    @property
    def breakdown(self) -> str | None:
        return first_breakdown(self.summary["metrics"])

    @property
    def groups(self) -> dict[str, dict[str, Any]]:
        key = self.breakdown
        return self.summary["metrics"][f"by_{key}"] if key else {}

    def samples(self) -> list[dict[str, Any]]:
        """The run's per-sample records; a summary whose samples file is gone is the user's to fix."""
        try:
            return load_samples(self.path, self.summary)
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"{self.path}: cannot read its samples file {self.summary.get('samples_file')!r} "
                            f"({exc.__class__.__name__}); run the judge again or remove this summary") from None

    @property
    def model(self) -> str | None:
        return (self.summary.get("provenance", {}).get("judge") or {}).get("model")


def breakdowns(metrics: dict[str, Any]) -> list[str]:
    """The breakdowns of a summary, in the task's order (``by_domain`` -> ``domain``)."""
    return [key[3:] for key in metrics if key.startswith("by_")]


def first_breakdown(metrics: dict[str, Any]) -> str | None:
    return next(iter(breakdowns(metrics)), None)


def load_runs(results_dir: str | Path = "results") -> list[StoredRun]:
    """Every run under ``results_dir``; an empty or missing folder is the user's mistake."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise DataError(f"results folder {results_dir} does not exist; run `halubench run` first "
                        "or point --results-dir at one")
    runs = [StoredRun(path, summary) for path, summary in load_summaries(results_dir)]
    if not runs:
        raise DataError(f"no results files (halubench-results/1) under {results_dir}; run "
                        "`halubench run --judge lexical --task halubench-sample` to make one")
    return runs
