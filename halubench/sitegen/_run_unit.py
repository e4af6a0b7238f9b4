"""One run's part of the site: its page, charts, explorer page and explorer data, made from a ``RunJob``.

A job holds everything the run's files are made from: the stored run (its
summary; the samples are read once, line by line, while the explorer data is
written) and ``context``, the plain values the pages show that come from the
board rather than the run (its row, the column order, the paper's figures, the
judge's card). The job's fingerprint hashes exactly these, so an unchanged job
is not made again; and because a job needs nothing else, jobs run in worker
processes as well as in the build's own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halubench.board import JudgeCard
from halubench.results import StoredRun, breakdowns
from halubench.scoring import roc_points
from halubench.sitegen._charts import Bar, accuracy_chart, roc_chart
from halubench.sitegen._explorer_data import REPLY_SHARD_ROWS, shard_name, write_run_data
from halubench.sitegen._incremental_writes import FileStates, SiteFiles, fingerprint
from halubench.sitegen._pages import render

# Keys the run page reads; results written by other versions may lack some, which then read "–".
USAGE_KEYS = ("input_tokens", "output_tokens", "cost_usd", "cost_per_1000_usd", "latency_p50_s",
              "latency_p95_s", "model_versions", "cached_replies", "called")
PROVENANCE_KEYS = ("harness_version", "python", "dataset", "prompt_template", "judge", "finished_at")


@dataclass
class RunJob:
    """A run's files to make. ``context`` (JSON values) is what the pages show from the board:
    ``run`` (task, judge, config_id, run_id, obtained), ``board`` (task, breakdown, groups, group_names), ``record``
    (the run's board row), ``paper`` (judge, overall, notes, accuracy) and ``citation``, ``paper_anchor``,
    ``card``, ``chance``, ``data_label``, ``submission`` (a submitted run's card file), ``reproduction`` (its
    reproducibility check, shown on both runs' pages), the data keys ``key`` (the run's), ``task_key`` (the
    task's folder), ``judges_key``."""

    run: StoredRun
    context: dict[str, Any]

    @property
    def run_id(self) -> str:
        return self.context["run"]["run_id"]

    @property
    def page(self) -> str:
        return f"runs/{self.run_id}"

    def fingerprint(self, states: FileStates, builder: str, texts: str) -> str:
        """Everything the run's files are made from: the builder, its two files' content, ``context``, and
        ``texts``, the name of the part of the task's texts its rows point into (``TextTable.token``)."""
        try:
            samples = states.sha256(self.run.samples_path)
        except OSError:
            samples = None  # cannot be read: the job is made, and making it says what is wrong
        return fingerprint({"builder": builder, "summary": states.sha256(self.run.path), "samples": samples,
                            "texts": texts, "context": self.context})


@dataclass
class RunBuilt:
    """What making a run's files gives back: its explorer index (for the task's figures) and its files."""

    run_id: str
    index: dict[str, Any]
    samples_sha256: str  # of the samples file, hashed as it was read
    files: list[str] = field(default_factory=list)


def _ordered(context: Mapping[str, Any], run: StoredRun) -> list[tuple[str, dict[str, Any]]]:
    """A run's groups in the leaderboard's column order (a paper's order where there is one)."""
    order = {g: i for i, g in enumerate(context["board"]["groups"])}
    return sorted(run.groups.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def _chart(context: Mapping[str, Any], run: StoredRun) -> bytes:
    overall = run.summary["metrics"]["overall"]
    record, names = context["record"], context["board"]["group_names"]
    bars = [Bar(names.get(g, g), m["accuracy"], *m["accuracy_ci95"]) for g, m in _ordered(context, run)]
    if run.breakdown:
        bars.append(Bar(f"{run.breakdown}-macro", record["acc_macro"], record["acc_macro_lo"],
                        record["acc_macro_hi"], overall=True))
    bars.append(Bar("overall (micro)", overall["accuracy"], *overall["accuracy_ci95"], overall=True))
    paper = context["paper"]
    reported = {names.get(g, g): v for g, v in (paper["accuracy"] if paper else {}).items()}
    return accuracy_chart(bars, reported, "reported in the paper", context["chance"]).encode()


def _roc(run: StoredRun, scored: list[tuple[str, float]]) -> bytes | None:
    """The run's ROC curve as SVG, for runs whose samples carry scores (halubench.scoring)."""
    overall = run.summary["metrics"]["overall"]
    positive = run.summary.get("positive_label")
    if overall.get("auroc") is None or positive is None or not scored:
        return None
    fpr, tpr = roc_points([g for g, _ in scored], [s for _, s in scored], positive)
    return roc_chart(fpr, tpr, overall["auroc"]).encode()


def build_run(job: RunJob, files: SiteFiles, positions: Mapping[str, int]) -> RunBuilt:
    """Make a run's files (explorer data, charts, run page, explorer page) into ``files``; ``positions``:
    text key -> place in the task's texts (the texts' state is in ``context``)."""
    run, context = job.run, job.context
    summary = run.summary
    digest = hashlib.sha256()
    data = write_run_data(run.stored_samples(digest), breakdowns(summary["metrics"]), list(summary["labels"]),
                          positions, files, context["key"], context["task_key"], run.samples_path)
    name = job.run_id.split("/")[-1]  # the pages' and charts' file name (a submitted run's is marked)
    files.put(f"{job.page}.svg", _chart(context, run))
    roc = _roc(run, data.scored)
    if roc:
        files.put(f"{job.page}.roc.svg", roc)
    provenance = dict.fromkeys(PROVENANCE_KEYS) | (summary.get("provenance") or {})
    labels = list(summary["labels"])
    card = JudgeCard(**context["card"])
    finished = (provenance.get("finished_at") or "")[:10] or None
    common = {"card": card, "board": context["board"], "run": context["run"], "n_runs": None,
              "data_changed": finished}
    files.put(f"{job.page}.html", render(
        "run.html.jinja", f"{job.page}.html", summary=summary, metrics=summary["metrics"],
        record=context["record"], overall=summary["metrics"]["overall"], groups=dict(_ordered(context, run)),
        labels=labels, confusion_columns=[*labels, "none"],
        usage=dict.fromkeys(USAGE_KEYS) | (summary.get("usage") or {}), provenance=provenance,
        dataset=provenance.get("dataset") or {}, data_label=context["data_label"],
        judge_settings=provenance.get("judge") or {}, paper=context["paper"], citation=context["citation"],
        paper_anchor=context["paper_anchor"], positive=summary.get("positive_label"),
        submission=context["submission"], reproduction=context["reproduction"],
        chart=f"{name}.svg", roc_chart=f"{name}.roc.svg" if roc else None, **common))
    files.put(f"{job.page}.samples.html", render(
        "explorer.html.jinja", f"{job.page}.samples.html", data_key=context["key"],
        judges_key=context["judges_key"], n_rows=len(data.index["ids"]), **common))
    made = [f"data/{context['key']}/r{shard_name(start, REPLY_SHARD_ROWS)}.js"
            for start in range(0, data.index["rows"], REPLY_SHARD_ROWS)]
    made += [f"data/{context['key']}/index.js", f"data/{data.index['ids']}.js", f"{job.page}.svg",
             *([f"{job.page}.roc.svg"] if roc else []), f"{job.page}.html", f"{job.page}.samples.html"]
    return RunBuilt(job.run_id, data.index, digest.hexdigest(), made)


_POSITIONS: dict[str, Mapping[str, int]] = {}  # in a worker process: task key -> text positions


def receive_positions(positions: dict[str, Mapping[str, int]]) -> None:
    """A worker's start: the text positions of every task, sent once rather than with each job."""
    _POSITIONS.update(positions)


def build_run_apart(job: RunJob, staging: Path, site: Path | None) -> tuple[RunBuilt, SiteFiles]:
    """``build_run`` in a worker process, with its own ``SiteFiles`` handed back to the build."""
    files = SiteFiles(staging, site)
    return build_run(job, files, _POSITIONS[job.context["task_key"]]), files
