"""A run's files as stored: their keys in their order (the typed record and summary say the same),
one reader for every summary, and one wording of a run's failed rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

from halubench.errors import DataError
from halubench.results import (
    RunSummary,
    RunUsage,
    describe_failures,
    failure_reasons,
    load_runs,
    read_run,
    runs_under,
)
from halubench.scoring import SampleRecord

SUMMARY_KEYS = ["format", "task", "judge", "config_id", "config", "variant", "complete", "failures", "endpoint",
                "n", "labels", "positive_label", "metrics", "usage", "provenance", "samples_file", "texts_file"]
USAGE_KEYS = ["input_tokens", "output_tokens", "cost_usd", "cost_per_1000_usd", "latency_p50_s", "latency_p95_s",
              "model_versions", "cached_replies", "called"]
SAMPLE_KEYS = ["id", "gold", "verdict", "status", "correct", "groups", "fields_sha256", "raw", "reasoning",
               "error", "latency_s", "input_tokens", "output_tokens", "model_version", "finish_reason", "score",
               "cached"]
TASK = "halubench-sample"


def _ordered_as(keys: list[str], typed: type) -> list[str]:
    """``keys`` in the order the TypedDict lists them (``fields`` is stored as ``fields_sha256``)."""
    order = [("fields_sha256" if k == "fields" else k) for k in typed.__annotations__]
    return sorted(keys, key=order.index)


def _raw(path: Path) -> tuple[dict, list[dict]]:
    summary = json.loads(path.read_text(encoding="utf-8"))
    lines = (path.parent / summary["samples_file"]).read_text(encoding="utf-8").splitlines()
    return summary, [json.loads(line) for line in lines]


def test_a_runs_and_an_ensembles_files_keep_their_keys_in_order(tmp_path):
    for judge in ("always-pass", "always-fail", "lexical"):
        assert run_cli("run", "--judge", judge, "--task", TASK, cwd=tmp_path).returncode == 0
    done = run_cli("ensemble", "--task", TASK, "--judges", "always-pass,always-fail,lexical", "--name", "vote",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = {run.judge: run for run in load_runs(tmp_path / "results")}

    summary, samples = _raw(runs["lexical"].path)
    assert list(summary) == SUMMARY_KEYS == _ordered_as(list(summary), RunSummary)
    # A judge's run adds the mode it ran in and its prices' date (an offline judge: sync, no prices).
    assert list(summary["usage"]) == [*USAGE_KEYS, "mode", "prices_as_of"] == _ordered_as(USAGE_KEYS + [
        "mode", "prices_as_of"], RunUsage)
    assert all(list(s) == SAMPLE_KEYS for s in samples)
    assert SAMPLE_KEYS == _ordered_as(SAMPLE_KEYS, SampleRecord)

    summary, samples = _raw(runs["vote"].path)
    assert list(summary) == [*SUMMARY_KEYS[:-2], "ensemble", *SUMMARY_KEYS[-2:]]
    assert list(summary) == _ordered_as(list(summary), RunSummary)
    assert list(summary["usage"]) == USAGE_KEYS  # no judge called: no mode, and the members' summed cost
    # An ensemble's rows name each member's verdict and have no score of their own.
    ensemble_keys = [k for k in SAMPLE_KEYS if k != "score"]
    ensemble_keys.insert(ensemble_keys.index("error"), "members")
    assert all(list(s) == ensemble_keys for s in samples)
    assert ensemble_keys == _ordered_as(ensemble_keys, SampleRecord)


def test_every_reader_reads_a_summary_the_same_way(tmp_path):
    assert run_cli("run", "--judge", "lexical", "--task", TASK, cwd=tmp_path).returncode == 0
    results = tmp_path / "results"
    (run,) = runs_under(results)  # the task's texts file and stray JSON are no runs
    (results / "notes.json").write_text('["not a summary"]', encoding="utf-8")
    (results / "broken.json").write_text("{", encoding="utf-8")
    assert runs_under(results) == load_runs(results) == [run] == [read_run(run.path)]
    assert runs_under(tmp_path / "nowhere") == []
    with pytest.raises(DataError, match=r"broken.json: not a readable results summary \(JSONDecodeError\)"):
        read_run(results / "broken.json")
    with pytest.raises(DataError, match=r"notes.json: not a halubench results summary"):
        read_run(results / "notes.json")
    with pytest.raises(DataError, match="does not exist"):
        load_runs(tmp_path / "nowhere")


def test_failed_rows_are_counted_by_reason_once_and_worded_by_each_reader():
    records = [{"status": "error", "error": "HTTP 503: overloaded (gave up after 5 attempts)"},
               {"status": "error", "error": "timeout (deadline of 60 s reached)"},
               {"status": "error", "error": "HTTP 503: overloaded (gave up after 1 attempt)"},
               {"status": "error", "error": None}, {"status": "ok", "error": None}]
    failures = failure_reasons(records)
    assert failures == {"HTTP 503: overloaded": 2, "timeout": 1, "unknown error": 1}
    assert list(failures) == ["HTTP 503: overloaded", "timeout", "unknown error"]  # most common first
    board = describe_failures(failures, "failed row", shown=2, separator=", ")
    assert board == ("4 failed rows", "HTTP 503: overloaded x2, timeout x1")
    assert describe_failures({"timeout": 1}, "error") == ("1 error", "timeout x1")
    assert describe_failures({}, "failed row") == ("0 failed rows", "")
