"""Ensembles from stored runs: each rule's verdicts on constructed runs with known votes, ties and
missing verdicts, refusal of members measured differently, and an ensemble ranked on the board
without a single model call."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import run_cli
from refchecker_data import annotations_dir, write_references

from halubench.backends import BACKENDS, RunCost, resolve_judge
from halubench.board import (
    WEIGHTED_VARIANT,
    ReportedRow,
    ReportedTable,
    build_ensemble,
    build_leaderboards,
    check_members,
    combine,
    missing,
    weight,
)
from halubench.data import load_task
from halubench.errors import DataError
from halubench.results import StoredRun, load_runs, load_samples, write_run
from halubench.run import RunOptions, build_summary, now, run_tasks, task_template
from halubench.scoring import scorer_for
from halubench.sitegen import build_site

TASK = "halubench-sample"
FLIP = {"PASS": "FAIL", "FAIL": "PASS"}
Verdicts = Callable[[int, str], str | None]  # (row index, gold) -> verdict


def constructed_run(results: Path, judge: str, verdict_of: Verdicts, error_rows: int = 0) -> Path:
    """A run of the bundled sample whose verdicts are chosen by ``verdict_of(index, gold)``.

    Built and written by the same code as a real run (loader, scorer, ``build_summary``,
    ``write_run``); only the replies are chosen instead of asked. ``error_rows`` first rows fail.
    """
    task = load_task(TASK)
    loaded = task.load(None)
    records = []
    for index, sample in enumerate(loaded.samples):
        verdict = None if index < error_rows else verdict_of(index, sample.label)
        status = "error" if index < error_rows else ("ok" if verdict else "unparsed")
        records.append({
            "id": sample.id, "gold": sample.label, "verdict": verdict, "status": status,
            "correct": verdict == sample.label, "groups": dict(sample.groups), "fields": dict(sample.fields),
            "raw": verdict or "no idea", "reasoning": None, "error": "boom" if status == "error" else None,
            "latency_s": 0.5, "input_tokens": 100, "output_tokens": 10, "model_version": None,
            "finish_reason": "stop", "cached": False,
        })
    template = task_template(task)
    summary = build_summary(
        task=task, judge=judge, judge_settings={"backend": "constructed", "name": judge},
        public_settings={"backend": "constructed"}, endpoint_url=None, dataset=loaded.provenance,
        rows_available=len(loaded.samples), limit=None, seed=0, domains=(), template=template,
        default_template=template, records=records, metrics=scorer_for(task)(records, task, loaded.samples),
        excluded={}, results_dir=results, started_at=now(),
        cost=RunCost(len(records) * (100 * 1.0 + 10 * 2.0) / 1e6),  # at $1 / $2 per million tokens
    )
    return write_run(summary, records, results)


def _verdicts(path: Path) -> dict[str, dict]:
    summary = json.loads(path.read_text())
    return {s["id"]: s for s in load_samples(path, summary)}


# Three members of known votes, by row index modulo 4:
#   0: gold, gold, none     -> gold (2-0)
#   1: gold, flip, none     -> tie 1-1 -> FAIL (the positive label)
#   2: gold, gold, flip     -> gold (2-1)
#   3: gold, flip, flip     -> flip (1-2)
# and row 0 has no verdict from anyone.
def _a(i: int, gold: str) -> str | None:
    return None if i == 0 else gold


def _b(i: int, gold: str) -> str | None:
    return None if i == 0 else (FLIP[gold] if i % 2 else gold)


def _c(i: int, gold: str) -> str | None:
    return None if i % 4 in (0, 1) else FLIP[gold]


@pytest.fixture
def voters(tmp_path: Path) -> Path:
    results = tmp_path / "results"
    for judge, verdict_of in (("a", _a), ("b", _b), ("c", _c)):
        constructed_run(results, judge, verdict_of)
    return results


def test_majority_of_three_with_known_votes_ties_and_missing_verdicts(voters):
    path, summary, records = build_ensemble(TASK, ["a", "b", "c"], "majority", "vote", voters)
    gold = [r["gold"] for r in records]
    for index, record in enumerate(records):
        g = record["gold"]
        assert record["members"] == {"a": _a(index, g), "b": _b(index, g), "c": _c(index, g)}
        if index == 0:
            assert record["verdict"] is None and record["status"] == "unparsed"
            assert "no member gave a verdict" in record["reasoning"]
        elif index % 4 == 1:
            assert record["verdict"] == "FAIL" and "tie, to FAIL" in record["reasoning"]
            assert "no verdict: c" in record["reasoning"]
        elif index % 4 == 3:
            assert record["verdict"] == FLIP[gold[index]]
        else:
            assert record["verdict"] == gold[index]
    n = len(records)
    ties_right = sum(1 for i, g in enumerate(gold) if i % 4 == 1 and g == "FAIL")
    expected = (n // 4 - 1) + n // 4 + ties_right  # rows 4k (less row 0), 4k+2, and ties on FAIL rows
    assert summary["metrics"]["overall"]["correct"] == expected
    assert summary["metrics"]["overall"]["unparsed"] == 1
    assert _verdicts(path)["sample-halueval-001"]["members"] == records[0]["members"]


def test_unanimous_fail_and_sums_of_usage(voters):
    _, summary, records = build_ensemble(TASK, ["a", "b"], "unanimous-fail", "strict", voters)
    for index, record in enumerate(records):
        votes = [v for v in record["members"].values() if v is not None]
        if not votes:
            assert record["verdict"] is None
        else:
            assert record["verdict"] == ("FAIL" if all(v == "FAIL" for v in votes) else "PASS"), index
    # Row 1 (a: gold, b: flipped) is PASS whatever its gold: the two disagree.
    assert records[1]["verdict"] == "PASS"
    # Cost and latency add up: 100 input and 10 output tokens per member and row, at $1 / $2 per million.
    n = summary["n"]
    assert summary["usage"]["cost_usd"] == pytest.approx(2 * n * (100 * 1.0 + 10 * 2.0) / 1e6)
    assert summary["usage"]["input_tokens"] == 2 * 100 * n and records[5]["latency_s"] == pytest.approx(1.0)
    assert summary["usage"]["called"] == 0
    assert [m["run_id"] for m in summary["provenance"]["members"]] == summary["ensemble"]["members"]
    assert summary["provenance"]["members"][0]["summary_file"].startswith(f"{TASK}/a/")


def test_weighted_votes_by_log_odds_and_is_listed_apart(voters):
    results = voters
    constructed_run(results, "oracle", lambda i, gold: gold)
    _, summary, records = build_ensemble(TASK, ["oracle", "b", "c"], "weighted", "weighted", results)
    weights = summary["ensemble"]["weights"]
    assert weights["oracle"] == pytest.approx(math.log(0.99 / 0.01))  # perfect, clipped
    assert weights["c"] == 0.0  # below chance: no say
    assert all(r["verdict"] == r["gold"] for r in records)  # the oracle outweighs b and c everywhere
    assert summary["variant"] == [WEIGHTED_VARIANT]
    (board,) = build_leaderboards(load_runs(results), reported=[])
    (row,) = [r for r in board.rows if r["judge"] == "weighted"]
    assert not row["ranked"] and row["apart"] == WEIGHTED_VARIANT


@pytest.mark.parametrize(("votes", "weights", "expected"), [
    ({"a": "FAIL", "b": "FAIL", "c": "PASS"}, None, "FAIL"),
    ({"a": "PASS", "b": "PASS", "c": "FAIL"}, None, "PASS"),
    ({"a": "PASS", "b": "FAIL", "c": None}, None, "FAIL"),  # tie among voters -> positive label
    ({"a": None, "b": None, "c": None}, None, None),
])
def test_majority_rule(votes, weights, expected):
    assert combine("majority", votes, ["PASS", "FAIL"], "FAIL").verdict == expected


def test_tie_without_the_positive_label_gives_no_verdict():
    labels = ["Entailment", "Neutral", "Contradiction"]
    vote = combine("majority", {"a": "Entailment", "b": "Neutral", "c": None}, labels, None)
    assert vote.verdict is None and "tie, no verdict" in vote.reasoning
    assert combine("majority", {"a": "Neutral", "b": "Neutral", "c": "Entailment"}, labels, None).verdict == "Neutral"


def test_unanimous_fail_and_weighted_rules():
    labels, fail = ["PASS", "FAIL"], "FAIL"
    assert combine("unanimous-fail", {"a": "FAIL", "b": "FAIL", "c": None}, labels, fail).verdict == "FAIL"
    assert combine("unanimous-fail", {"a": "FAIL", "b": "PASS"}, labels, fail).verdict == "PASS"
    assert combine("unanimous-fail", {"a": None, "b": None}, labels, fail).verdict is None
    weights = {"a": 2.0, "b": 0.5, "c": 0.5}
    assert combine("weighted", {"a": "FAIL", "b": "PASS", "c": "PASS"}, labels, fail, weights).verdict == "FAIL"
    assert combine("weighted", {"a": None, "b": "PASS", "c": "PASS"}, labels, fail, weights).verdict == "PASS"
    assert combine("weighted", {"a": "FAIL", "b": "PASS"}, labels, fail, {"a": 0.0, "b": 0.0}).verdict is None
    assert weight(0.5) == 0.0 and weight(0.3) == 0.0 and weight(0.75) == pytest.approx(math.log(3))
    assert weight(None) == 0.0 and math.isfinite(weight(1.0))
    assert weight(1 / 3, classes=3) == pytest.approx(0.0) and weight(0.5, classes=3) == pytest.approx(math.log(2))


def _offline(results: Path, judge: str, **options) -> None:
    run_tasks([load_task(TASK)], resolve_judge(judge), RunOptions(results_dir=results, cache_path=None, **options))


def test_refuses_members_measured_differently_incomplete_or_too_few(tmp_path, voters):
    results = voters
    _offline(results, "lexical", limit=24)
    limited = next(r.run_id for r in load_runs(results) if r.judge == "lexical")
    with pytest.raises(DataError, match="differ in selection"):
        build_ensemble(TASK, ["a", "b", limited], "majority", "mixed", results)
    constructed_run(results, "broken", _a, error_rows=2)
    with pytest.raises(DataError, match="incomplete"):
        build_ensemble(TASK, ["a", "b", "broken"], "majority", "mixed", results)
    with pytest.raises(DataError, match="at least 3"):
        build_ensemble(TASK, ["a", "b"], "majority", "pair", results)
    with pytest.raises(DataError, match="name of a measured judge"):
        build_ensemble(TASK, ["b", "c"], "unanimous-fail", "a", results)
    first, *_ = build_ensemble(TASK, ["b", "c"], "unanimous-fail", "strict", results)
    before = first.read_bytes()
    again, *_ = build_ensemble(TASK, ["b", "c"], "unanimous-fail", "strict", results)  # the same: replaced
    assert again == first and again.read_bytes() == before
    with pytest.raises(DataError, match="already an ensemble of other runs"):
        build_ensemble(TASK, ["a", "c"], "unanimous-fail", "strict", results)
    with pytest.raises(DataError, match="unknown ensemble rule"):
        build_ensemble(TASK, ["a", "b", "c"], "mean", "avg", results)
    runs = [r for r in load_runs(results) if r.judge in ("a", "b")]
    three_way = replace(load_task(TASK), labels=("Entailment", "Neutral", "Contradiction"), positive_label=None)
    with pytest.raises(DataError, match="binary task"):
        check_members(runs, "unanimous-fail", three_way)


def no_judge(*args, **kwargs):
    raise AssertionError("an ensemble must not build a judge")


def test_ensemble_of_offline_judges_ranks_on_the_board_without_building_a_judge(tmp_path, monkeypatch):
    results = tmp_path / "results"
    for judge in ("always-pass", "random", "lexical"):
        _offline(results, judge)

    for backend in list(BACKENDS):
        monkeypatch.setitem(BACKENDS, backend, replace(BACKENDS[backend], target=f"{__name__}:no_judge"))
    path, summary, records = build_ensemble(TASK, ["always-pass", "random", "lexical"], "majority", "vote3",
                                            results)
    assert summary["config"]["judge"]["backend"] == "ensemble" and summary["variant"] == []
    assert all(r["cached"] for r in records) and summary["usage"]["called"] == 0
    assert summary["usage"]["cost_usd"] is None  # offline judges have no price: the sum is unknown
    paper = ReportedRow("Lexical (paper)", {}, 0.5, (), (re.compile("lexical|vote3"),))
    table = ReportedTable(TASK, "a paper", "a paper", None, None, "domain_macro_accuracy", "domain", {},
                          [paper])
    (board,) = build_leaderboards(load_runs(results), reported=[table])
    rows = {r["judge"]: r for r in board.rows}
    assert rows["vote3"]["ranked"] and rows["vote3"]["ensemble_of"] == ", ".join(summary["ensemble"]["members"])
    assert missing(rows["vote3"]["same_model"])  # an ensemble is no single model, whatever its name says
    assert rows["lexical"]["same_model"] == "Lexical (paper)"
    assert StoredRun(path, summary).run_id in board.runs
    report = run_cli("report", "--task", TASK, "--no-reported", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    main = report.stdout.split("not ranked")[0]
    assert "vote3 (ensemble)" in main and "majority of always-pass, random, lexical" in main

    site = tmp_path / "site"
    build_site(results, site, [])
    page = (site / "index.html").read_text(encoding="utf-8")
    assert 'vote3</a> <span class="badge ensemble"' in page  # marked as an ensemble on the board
    for member in summary["ensemble"]["members"]:
        assert f'href="runs/{member}.html"' in page and (site / "runs" / f"{member}.html").is_file()


def test_cli_ensemble_and_one_line_refusal(tmp_path):
    results = tmp_path / "results"
    for judge in ("always-fail", "lexical"):
        _offline(results, judge)
    done = run_cli("ensemble", "--task", TASK, "--judges", "always-fail,lexical", "--rule", "unanimous-fail",
                   "--name", "strict", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "results/halubench-sample/strict/" in done.stdout
    refused = run_cli("ensemble", "--task", TASK, "--judges", "always-fail,lexical", "--name", "maj",
                      cwd=tmp_path)
    assert refused.returncode == 2 and refused.stderr.strip().count("\n") == 0
    assert "at least 3" in refused.stderr and "Traceback" not in refused.stderr


def test_majority_on_refchecker_claims_three_labels(tmp_path, shared_data, monkeypatch):
    """Three labels, no positive one: a three-way split has no verdict; the claim scorer still runs."""
    monkeypatch.setenv("HALUBENCH_REFCHECKER_ANNOTATIONS", str(annotations_dir(shared_data)))
    references = write_references(tmp_path / "refs.jsonl", shared_data, settings=("accurate",))
    results, task = tmp_path / "results", "refchecker-accurate-claims"
    members = ["always-entailment", "always-neutral", "random"]
    for judge in members:
        run_tasks([load_task(task)], resolve_judge(judge),
                  RunOptions(data=references, results_dir=results, cache_path=None))
    _, summary, records = build_ensemble(task, members, "majority", "vote", results)
    for record in records:
        coin = record["members"]["random"]
        assert record["verdict"] == (None if coin == "Contradiction" else coin)
    assert summary["metrics"]["overall"]["unparsed"] == sum(r["members"]["random"] == "Contradiction"
                                                            for r in records)
    assert summary["metrics"]["refchecker_agreement"]["by_setting"]["accurate"]["incomplete_responses"] == 0
    with pytest.raises(DataError, match="binary task"):
        build_ensemble(task, members[:2], "unanimous-fail", "strict", results)
