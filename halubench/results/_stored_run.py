"""A run as stored on disk: its summary and the path of its files, read in one place.

Every reader of results (the board, ``compare``, ensembles, the site, the
nightly refresh) gets ``StoredRun``s from the functions at the end of this
module, so a format-1 file is upgraded and a stray JSON file skipped alike.
A run read from a submission folder (``halubench.results.read_submission``)
is the same type, with the submission's card beside its summary.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from halubench.errors import DataError
from halubench.results._files import (
    FORMAT,
    FORMAT_V1,
    iter_stored_samples,
    load_samples,
    slug,
    texts_path,
    upgrade_v1,
)
from halubench.results._summary_types import RunSummary
from halubench.scoring import SampleRecord

REPRODUCED, SUBMITTED = "reproduced", "submitted"
Obtained = Literal["reproduced", "submitted"]


@dataclass(frozen=True)
class StoredRun:
    """One results summary on disk; ``submission`` is the card file of a run read from a submission folder."""

    path: Path
    summary: RunSummary
    submission: dict[str, Any] | None = None

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
    def obtained(self) -> Obtained:
        """How the replies were obtained: *reproduced* (a run of the board's own results folder, made by its
        refresh) or *submitted* (an outside run whose replies were re-scored here, its calls not repeated)."""
        return SUBMITTED if self.submission is not None else REPRODUCED

    @property
    def run_id(self) -> str:
        """File-safe ``task/judge/config_id``: the run's address on the site and in ``compare``. A submitted
        run of the same configuration as a reproduced one sits beside it as ``config_id-submitted``."""
        suffix = f"-{SUBMITTED}" if self.submission is not None else ""
        return f"{slug(self.task)}/{slug(self.judge)}/{self.config_id}{suffix}"

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

    def samples(self) -> list[SampleRecord]:
        """The run's per-sample records; a summary whose samples file is gone is the user's to fix."""
        try:
            return load_samples(self.path, self.summary)
        except (OSError, KeyError, ValueError) as exc:
            raise self._unreadable(exc) from None

    def stored_samples(self, digest: Any = None) -> Iterator[dict[str, Any]]:
        """The run's samples lines as stored, one at a time, texts by key (``fields_sha256``) into
        ``texts_path``, or inline (``fields``) in a run written before texts were shared: for readers that
        go through a run once and keep little of it (the site's explorer data). ``digest``: a ``hashlib``
        object fed the file's bytes as they are read."""
        try:
            yield from iter_stored_samples(self.path, self.summary, digest)
        except (OSError, KeyError, ValueError) as exc:
            raise self._unreadable(exc) from None

    def _unreadable(self, exc: Exception) -> DataError:
        return DataError(f"{self.path}: cannot read its samples file {self.summary.get('samples_file')!r} "
                         f"({exc.__class__.__name__}); run the judge again or remove this summary")

    @property
    def samples_path(self) -> Path:
        return self.path.parent / str(self.summary.get("samples_file"))

    @property
    def texts_path(self) -> Path | None:
        """The task's texts file this run's samples point into; None when they keep their texts inline."""
        return texts_path(self.path, self.summary)

    @property
    def model(self) -> str | None:
        return (self.summary.get("provenance", {}).get("judge") or {}).get("model")


def breakdowns(metrics: dict[str, Any]) -> list[str]:
    """The breakdowns of a summary, in the task's order (``by_domain`` -> ``domain``)."""
    return [key[3:] for key in metrics if key.startswith("by_")]


def first_breakdown(metrics: dict[str, Any]) -> str | None:
    return next(iter(breakdowns(metrics)), None)


def _read_summary(path: Path) -> RunSummary | None:
    """The summary in ``path`` (format 1 upgraded), None for a JSON file that is not one.

    Raises OSError or JSONDecodeError for a file that cannot be read as JSON.
    """
    body = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(body, dict):
        return None
    if body.get("format") == FORMAT:
        return cast(RunSummary, body)  # as ``write_run`` wrote it
    if body.get("format") == FORMAT_V1:
        return upgrade_v1(body)
    return None


def read_run(path: Path) -> StoredRun:
    """The run a summary file holds; a file that is not one is the user's mistake."""
    try:
        summary = _read_summary(path)
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable results summary ({exc.__class__.__name__})") from None
    if summary is None:
        raise DataError(f"{path}: not a halubench results summary (format {FORMAT})")
    return StoredRun(path, summary)


def runs_under(folder: Path) -> list[StoredRun]:
    """Every run whose summary lies under ``folder``, by path; other files are skipped, and no
    folder has no runs."""
    runs = []
    for path in sorted(folder.rglob("*.json")) if folder.is_dir() else []:
        try:
            summary = _read_summary(path)
        except (OSError, json.JSONDecodeError):
            continue
        if summary is not None:
            runs.append(StoredRun(path, summary))
    return runs
