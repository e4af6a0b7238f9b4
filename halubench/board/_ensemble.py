"""Ensembles from cached runs: a new run whose verdicts are votes of existing runs, no model call.

RefChecker found that majority voting among its checkers agreed best with
human labels; this module lets the board test that claim on any task from
runs already on disk. An ensemble is an ordinary run (same files, same
scorer, same summary builder), so it is ranked exactly when its members'
configuration would be. Its configuration is the members' with the judge part
replaced by ``{"backend": "ensemble", "rule": ..., "members": [run ids]}``,
which is why members must agree on everything but the judge: a vote across
other rows, data, options or prompts would be a measurement of nothing.

Rules (docs/ensembles.md):

- ``majority``: the label most members with a verdict gave; at least 3 members.
- ``unanimous-fail``: the positive label (FAIL) only when every member with a
  verdict says so; binary tasks with a positive label only.
- ``weighted``: votes weighted by each member's log-odds of balanced accuracy
  on these same rows. The weights are fitted on the test rows' gold labels,
  so the run is marked as a variant (listed apart, never ranked).

In every rule a member without a verdict (unparsed, truncated, too long)
abstains; a tie between top labels goes to the positive label when it is one
of them (a split vote is doubt, and a detector flags doubt for review), and
otherwise leaves the row without a verdict (counted wrong, like an unparsed
reply). A row no member gave a verdict for has none either.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from halubench.backends import RunCost
from halubench.board._compare import resolve_run
from halubench.data import Sample, TaskSpec, load_task
from halubench.errors import DataError
from halubench.results import RunSummary, StoredRun, runs_under, slug, write_run
from halubench.run import build_summary, now, portable_path, task_template
from halubench.scoring import SampleRecord, scorer_for

RULES = ("majority", "unanimous-fail", "weighted")
# Two voters under majority split on every disagreement, which the tie rule would turn into
# "FAIL if either says FAIL": a different rule under a misleading name.
MIN_MEMBERS = {"majority": 3, "unanimous-fail": 2, "weighted": 2}
WEIGHTED_VARIANT = "weights fitted on these rows' gold labels (optimistic)"
_CLIP = (0.01, 0.99)  # keeps a perfect or hopeless member's log-odds finite


@dataclass(frozen=True)
class Vote:
    """One row's outcome: the verdict (None: no verdict) and the tally in words."""

    verdict: str | None
    reasoning: str


@dataclass(frozen=True)
class TemplateRef:
    """The members' prompt template by name and hash: all a summary's identity needs of it."""

    name: str
    sha256: str


def weight(balanced_accuracy: float | None, classes: int = 2) -> float:
    """``ln((K - 1) p / (1 - p))`` of balanced accuracy p over K labels, floored at 0.

    Log-odds are the optimal weights for independent voters (Nitzan and Paroush,
    1982); the K - 1 factor (errors spread over the other labels) puts the zero
    at chance, 1 / K, so a member no better than chance gets no say. Balanced
    accuracy rather than accuracy so a constant judge, right on one class only,
    counts as the coin it is.
    """
    if balanced_accuracy is None:
        return 0.0
    p = min(max(balanced_accuracy, _CLIP[0]), _CLIP[1])
    return max(0.0, math.log((classes - 1) * p / (1 - p)))


def combine(
    rule: str,
    votes: Mapping[str, str | None],
    labels: Sequence[str],
    positive: str | None,
    weights: Mapping[str, float] | None = None,
) -> Vote:
    """The rule's verdict for one row from each member's verdict (None: the member abstains)."""
    cast = {judge: verdict for judge, verdict in votes.items() if verdict is not None}
    silent = sorted(judge for judge, verdict in votes.items() if verdict is None)
    note = f"; no verdict: {', '.join(silent)}" if silent else ""
    if rule == "unanimous-fail":
        if not cast:
            return Vote(None, f"unanimous-fail: no member gave a verdict{note}")
        fails = sum(v == positive for v in cast.values())
        verdict = positive if fails == len(cast) else next(label for label in labels if label != positive)
        return Vote(verdict, f"unanimous-fail: {positive} {fails} of {len(cast)}{note}")
    tally = {label: 0.0 for label in labels}
    for judge, verdict in cast.items():
        tally[verdict] += (weights or {}).get(judge, 0.0) if rule == "weighted" else 1.0
    shown = ", ".join(f"{label} {_amount(tally[label], rule)}" for label in labels if tally[label])
    if not any(tally.values()):
        why = "no member better than chance voted" if cast else "no member gave a verdict"
        return Vote(None, f"{rule}: {why}{note}")
    top = max(tally.values())
    leaders = [label for label in labels if math.isclose(tally[label], top)]
    if len(leaders) == 1:
        return Vote(leaders[0], f"{rule}: {shown}{note}")
    if positive in leaders:
        return Vote(positive, f"{rule}: {shown} (tie, to {positive}){note}")
    return Vote(None, f"{rule}: {shown} (tie, no verdict){note}")


def _amount(value: float, rule: str) -> str:
    return f"{value:.2f}" if rule == "weighted" else str(int(value))


def _configuration(run: StoredRun) -> dict[str, Any]:
    """What members must share: the configuration without its judge."""
    return {k: v for k, v in (run.summary.get("config") or {}).items() if k != "judge"}


def check_members(members: Sequence[StoredRun], rule: str, task: TaskSpec) -> None:
    """Refuse, in one line, a set of runs whose vote would not be a measurement."""
    if len(members) < MIN_MEMBERS[rule]:
        raise DataError(f"the {rule} rule needs at least {MIN_MEMBERS[rule]} member runs, got {len(members)}")
    judges = [m.judge for m in members]
    if len(set(judges)) != len(judges):
        twice = sorted({j for j in judges if judges.count(j) > 1})
        raise DataError(f"judge {', '.join(twice)} is named twice; an ensemble's members are distinct judges")
    if rule == "unanimous-fail" and (task.positive_label is None or len(task.labels) != 2):
        raise DataError(f"unanimous-fail needs a binary task with a positive label; {task.name} has labels "
                        f"{', '.join(task.labels)}: use --rule majority")
    first = members[0]
    for run in members:
        if run.task != task.name:
            raise DataError(f"{run.run_id} is a run of task {run.task!r}, not {task.name!r}")
        if not run.complete:
            raise DataError(f"{run.run_id} is incomplete ({sum((run.summary.get('failures') or {}).values())} "
                            "failed rows); run it again until complete before voting with it")
        mine, theirs = _configuration(run), _configuration(first)
        differ = [key for key in sorted(set(mine) | set(theirs)) if mine.get(key) != theirs.get(key)]
        if differ:
            raise DataError(f"{run.run_id} and {first.run_id} differ in {', '.join(differ)} "
                            f"({'; '.join(run.variant) or 'default'} vs {'; '.join(first.variant) or 'default'}); "
                            "an ensemble's members must be measured alike but for the judge")


def _member_samples(members: Sequence[StoredRun]) -> list[dict[str, SampleRecord]]:
    """Each member's records by row id, after checking they judged the same rows with the same gold."""
    by_member = [{s["id"]: s for s in run.samples()} for run in members]
    first = by_member[0]
    for run, samples in zip(members[1:], by_member[1:], strict=True):
        if samples.keys() != first.keys():
            raise DataError(f"{run.run_id} and {members[0].run_id} judged different rows; "
                            "run both on the same selection")
        clash = next((i for i, s in samples.items() if s["gold"] != first[i]["gold"]), None)
        if clash is not None:
            raise DataError(f"row {clash} has gold {first[clash]['gold']} in {members[0].run_id} but "
                            f"{samples[clash]['gold']} in {run.run_id}: the members used different data")
    return by_member


def _sum(values: Sequence[float | int | None]) -> float | int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _record(row_id: str, rows: Sequence[SampleRecord], judges: Sequence[str], vote: Vote) -> SampleRecord:
    """The ensemble's record of a row: its members' rows, voted; it has ``members`` and no ``score``."""
    first = rows[0]
    statuses = {r["status"] for r in rows}
    status = "ok" if vote.verdict is not None else ("too_long" if statuses == {"too_long"} else "unparsed")
    record: SampleRecord = {
        "id": row_id,
        "gold": first["gold"],
        "verdict": vote.verdict,
        "status": status,
        "correct": vote.verdict == first["gold"],
        "groups": dict(first["groups"]),
        "fields": dict(first["fields"]),
        "raw": None,
        "reasoning": vote.reasoning,
        "members": {judge: r["verdict"] for judge, r in zip(judges, rows, strict=True)},
        "error": None,
        # Members answer one after another in the worst case; their costs add up in any case.
        "latency_s": _sum([r.get("latency_s") for r in rows]),
        "input_tokens": _sum([r.get("input_tokens") for r in rows]),
        "output_tokens": _sum([r.get("output_tokens") for r in rows]),
        "model_version": None,
        "finish_reason": None,
        "cached": True,  # every verdict comes from a stored run: no call was made
    }
    if first.get("cluster") is not None:
        record["cluster"] = first["cluster"]
    return record


def _cost(members: Sequence[StoredRun]) -> RunCost:
    """The members' total cost; unknown when any member's is (no price, or a private endpoint)."""
    costs = []
    for run in members:
        usage = run.summary.get("usage") or {}
        if run.private_endpoint or usage.get("cost_usd") is None:
            return RunCost(None)
        costs.append(usage["cost_usd"])
    return RunCost(sum(costs))


def _population(task: TaskSpec, records: Sequence[SampleRecord], first: StoredRun) -> list[Sample]:
    """The rows a scorer may need beyond the judged ones: the judged ones, when they are the whole task."""
    selection = (first.summary.get("config") or {}).get("selection") or {}
    if task.scorer != "classification" and (selection.get("limit") is not None or selection.get("domains")):
        raise DataError(f"{task.name}'s {task.scorer} scorer needs every row of the task, and {first.run_id} "
                        f"judged a selection ({'; '.join(first.variant)}); ensemble whole-task runs")
    return [Sample(r["id"], r["gold"], r["fields"], r["groups"], r.get("cluster")) for r in records]


def build_ensemble(
    task_name: str,
    member_refs: Sequence[str],
    rule: str,
    name: str,
    results_dir: Path,
    include_paths: Sequence[Path] = (),
) -> tuple[Path, RunSummary, list[SampleRecord]]:
    """Vote, score and write the ensemble run; returns its summary path, summary and records."""
    started = now()
    if rule not in RULES:
        raise DataError(f"unknown ensemble rule {rule!r}; choose one of {', '.join(RULES)}")
    members = [resolve_run(ref, results_dir, task_name) for ref in member_refs]
    if not members:
        raise DataError("--judges names no run; give the members as judge names or run ids, comma-separated")
    first = members[0]
    task = replace(load_task(task_name, include_paths), options=dict(_configuration(first).get("options") or {}))
    check_members(members, rule, task)
    member_ids = [m.run_id for m in members]
    judge_part = {"backend": "ensemble", "rule": rule, "members": member_ids}
    _check_name(name, members, task_name, results_dir, judge_part)
    judges = [m.judge for m in members]
    weights = {m.judge: weight(m.summary["metrics"]["overall"].get("balanced_accuracy"), len(task.labels))
               for m in members}
    by_member = _member_samples(members)
    records: list[SampleRecord] = []
    for row_id in by_member[0]:
        rows = [samples[row_id] for samples in by_member]
        vote = combine(rule, {j: r["verdict"] for j, r in zip(judges, rows, strict=True)}, task.labels,
                       task.positive_label, weights)
        records.append(_record(row_id, rows, judges, vote))
    metrics = scorer_for(task)(records, task, _population(task, records, first))
    provenance = first.summary.get("provenance") or {}
    selection = provenance.get("selection") or {}
    template = provenance.get("prompt_template") or {}
    summary = build_summary(
        task=task, judge=name, judge_settings=judge_part, public_settings=judge_part, endpoint_url=None,
        dataset=provenance.get("dataset") or {}, rows_available=selection.get("rows_available", len(records)),
        limit=selection.get("limit"), seed=selection.get("seed", 0), domains=selection.get("domains") or (),
        template=TemplateRef(str(template.get("name")), str(template.get("sha256"))),
        default_template=task_template(task), records=records, metrics=metrics,
        excluded=first.summary.get("excluded") or {}, results_dir=results_dir, started_at=started,
        cost=_cost(members),
        # The members' dataset provenance is already portable, relative to this same results folder.
        published_dataset=provenance.get("dataset"),
        extra_variant=[WEIGHTED_VARIANT] if rule == "weighted" else [],
        extra_provenance={"members": [_member_provenance(m, results_dir) for m in members]},
        ensemble={"rule": rule, "members": member_ids, **({"weights": weights} if rule == "weighted" else {})},
    )
    if {k: v for k, v in summary["config"].items() if k != "judge"} != _configuration(first):
        raise DataError(f"{first.run_id}: its configuration cannot be rebuilt from its provenance (an old "
                        "results file?); run the members again before voting with them")
    path = write_run(summary, records, results_dir)
    return path, summary, records


def _member_provenance(run: StoredRun, results_dir: Path) -> dict[str, Any]:
    return {"run_id": run.run_id, "judge": run.judge, "config_id": run.config_id,
            "summary_file": portable_path(run.path, results_dir), "samples_file": run.summary.get("samples_file")}


def _check_name(
    name: str, members: Sequence[StoredRun], task: str, results_dir: Path, judge_part: Mapping[str, Any]
) -> None:
    """An ensemble's name must not pass for a measured judge's, nor for another ensemble's.

    Two ensembles of one name would both be default configurations, ranked side
    by side under one name; the same ensemble built again replaces its own run.
    """
    if slug(name) in {slug(m.judge) for m in members}:
        raise DataError(f"--name {name!r} is a member's name; give the ensemble a name of its own")
    for run in runs_under(results_dir):
        if run.task != task or slug(run.judge) != slug(name):
            continue
        if "ensemble" not in run.summary:
            raise DataError(f"--name {name!r} is the name of a measured judge with runs of {task}; "
                            "give the ensemble a name of its own")
        if {k: v for k, v in run.summary["config"]["judge"].items() if k != "endpoint"} != dict(judge_part):
            raise DataError(f"--name {name!r} is already an ensemble of other runs ({run.path}); give this one "
                            "another name, or remove that file and its samples file first")
