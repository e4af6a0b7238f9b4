"""Run identity and the comparable-runs rule: runs measured differently live side by side, only
the task's default configuration on one dataset is ranked, an unreachable endpoint fails fast."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import read_results, results_file, run_cli
from refchecker_data import annotations_dir, write_references

from halubench.backends import BACKENDS, build_judge, resolve_judge
from halubench.board import build_leaderboards
from halubench.config import BUILTIN_DIR
from halubench.data import load_task
from halubench.results import FORMAT_V1, load_runs, write_run
from halubench.run import RunOptions, run_tasks
from halubench.scoring import ScoredRow, score, wilson_interval


def _files(results: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in results.rglob("*") if p.is_file()}


def test_five_configurations_of_one_judge_survive_and_only_the_default_is_ranked(tmp_path):
    template = tmp_path / "terse.jinja"
    template.write_text((BUILTIN_DIR / "faithfulness.jinja").read_text() + "\nBe terse.\n")
    base = ("run", "--judge", "lexical", "--task", "halubench-sample")
    variants = [(), ("--limit", "24"), ("--domain", "DROP", "--domain", "covidQA"), ("--template", str(template)),
                ("--limit", "24", "--seed", "3")]
    for extra in variants:
        result = run_cli(*base, *extra, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    results = tmp_path / "results"
    runs = {p.stem: json.loads(p.read_text()) for p in (results / "halubench-sample" / "lexical").glob("*.json")}
    assert len(runs) == 5 and all(r["config_id"] == stem for stem, r in runs.items())
    by_variant = {"; ".join(r["variant"]): r for r in runs.values()}
    assert set(by_variant) == {"", "--limit 24 (seed 0)", "--limit 24 (seed 3)", "only DROP, covidQA",
                               f"template terse ({_sha(template)})"}
    assert by_variant["only DROP, covidQA"]["n"] == 32 and by_variant[""]["n"] == 96

    (board,) = [b for b in build_leaderboards(load_runs(results), reported=[]) if b.task == "halubench-sample"]
    assert [r["config_id"] for r in board.rows if r["ranked"]] == [by_variant[""]["config_id"]]
    assert sorted(r["apart"] for r in board.rows if not r["ranked"]) == sorted(k for k in by_variant if k)
    assert [r["ranked"] for r in board.rows] == [True, False, False, False, False]  # the main board first

    # Re-running the full default run replaces its own files and touches no other.
    before = _files(results)
    assert run_cli(*base, "--judge-arg", "threshold=0.9", cwd=tmp_path).returncode == 0  # a sixth config
    after = _files(results)
    assert {p: b for p, b in after.items() if p in before} == before and len(after) == len(before) + 2
    report = run_cli("report", "--task", "halubench-sample", "--no-reported", cwd=tmp_path)
    main, apart_text = report.stdout.split("not ranked")
    assert "--limit 24 (seed 0)" in apart_text and "only DROP, covidQA" in apart_text
    assert "--limit" not in main and "template terse" in apart_text


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_text().encode()).hexdigest()[:8]


def test_a_different_gold_rule_is_never_ranked_beside_the_default(tmp_path, shared_data):
    references = write_references(tmp_path / "refs.jsonl", shared_data)
    env = {"HALUBENCH_REFCHECKER_ANNOTATIONS": str(annotations_dir(shared_data))}
    runs = [("always-pass", ()), ("always-fail", ()), ("always-fail", ("--option", "fail_on=not_entailment"))]
    for judge, extra in runs:
        result = run_cli("run", "-j", judge, "-t", "refchecker-zero", "--data", str(references), *extra,
                         cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
    (board,) = [b for b in build_leaderboards(load_runs(tmp_path / "results"), reported=[])
                if b.task == "refchecker-zero"]
    assert sorted(r["judge"] for r in board.rows if r["ranked"]) == ["always-fail", "always-pass"]
    (apart,) = [r["apart"] for r in board.rows if not r["ranked"]]
    assert apart == "option fail_on=not_entailment"
    # compare pairs a judge name with its ranked run, and refuses two gold rules in one line
    fail_runs = sorted((tmp_path / "results" / "refchecker-zero" / "always-fail").glob("*.json"))
    result = run_cli("compare", *map(str, fail_runs), cwd=tmp_path)
    assert result.returncode == 2 and "different gold rules" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # one line, folded at most once by the terminal
    result = run_cli("compare", "always-pass", "always-fail", "--task", "refchecker-zero", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_an_unreachable_endpoint_fails_fast_with_one_line_and_writes_nothing(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}/v1"
    # The judge's default retry policy (8 attempts, up to 60 s backoff), one request at a time: the worst case.
    result = run_cli("run", "--judge", "gpt-4o-mini", "--task", "halubench-sample", "--base-url", endpoint,
                     "--concurrency", "1", cwd=tmp_path, timeout=30)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert f"cannot reach {endpoint}" in message and "connection failed" in message
    assert not (tmp_path / "results").exists()


BUILT: list[str] = []
STARTED: list[str] = []


def counting_constant(spec):
    """The ``constant`` backend, counting the judges built and started."""
    judge = build_judge(replace(spec, backend="constant-real"))
    BUILT.append(spec.name)
    real_start = judge.start

    async def start():
        STARTED.append(spec.name)
        await real_start()

    judge.start = start
    return judge


def test_a_group_builds_and_starts_its_judge_once(tmp_path, monkeypatch):
    monkeypatch.setitem(BACKENDS, "constant-real", BACKENDS["constant"])
    monkeypatch.setitem(BACKENDS, "constant", replace(BACKENDS["constant"], target=f"{__name__}:counting_constant"))
    BUILT.clear()
    STARTED.clear()
    sample = load_task("halubench-sample")
    tasks = [sample, replace(sample, name="halubench-sample-again")]
    options = RunOptions(results_dir=tmp_path / "results")
    results = run_tasks(tasks, resolve_judge("always-fail"), options)
    assert [r.summary["task"] for r in results] == ["halubench-sample", "halubench-sample-again"]
    assert BUILT == ["always-fail"] and STARTED == ["always-fail"]


def test_claim_intervals_account_for_clustering():
    def claim(verdict: str, cluster: str) -> ScoredRow:
        return {"gold": "E", "verdict": verdict, "status": "ok", "groups": {}, "cluster": cluster}

    rows = [claim("E" if c % 2 else "N", f"r{c}") for c in range(10) for _ in range(10)]
    clustered = score(rows, ("E", "N", "C"), None)["accuracy_ci95"]
    independent = wilson_interval(50, 100)
    assert clustered[1] - clustered[0] > 2 * (independent[1] - independent[0])  # 10 clusters, not 100 rows
    singletons = [{**r, "cluster": f"s{i}"} for i, r in enumerate(rows)]
    # Clusters of one row: Wilson's interval, but for the C/(C-1) small-sample factor (100/99 here).
    assert score(singletons, ("E", "N", "C"), None)["accuracy_ci95"] == pytest.approx(list(independent), rel=2e-3)


def test_format_1_results_are_read_and_replaced_by_the_same_configuration(tmp_path):
    assert run_cli("run", "--judge", "always-pass", "--task", "halubench-sample", cwd=tmp_path).returncode == 0
    results = tmp_path / "results"
    path = results_file(results, "halubench-sample", "always-pass")
    summary, samples = read_results(results, "halubench-sample", "always-pass")
    old = {k: v for k, v in summary.items()
           if k not in ("config", "config_id", "variant", "complete", "failures", "endpoint")}
    old.update(format=FORMAT_V1, samples_file="always-pass.samples.jsonl")
    v1 = results / "halubench-sample" / "always-pass.json"
    v1.write_text(json.dumps(old))
    (results / "halubench-sample" / "always-pass.samples.jsonl").write_text(
        "".join(json.dumps(s) + "\n" for s in samples))
    for p in path.parent.iterdir():
        p.unlink()
    path.parent.rmdir()
    (run,) = [r for r in load_runs(results) if r.judge == "always-pass"]  # format 1, upgraded in memory
    assert run.config_id == summary["config_id"] and run.complete and run.variant == []
    write_run({k: v for k, v in summary.items() if k not in ("format", "samples_file")}, samples, results)
    assert not v1.exists() and path.is_file()  # the new layout replaced its format-1 twin
