"""Smaller CLI points: compare says when its list is cut, judge names and model ids stay whole,
one spelling of the domain names."""

from __future__ import annotations

import io
import json

import pytest
from conftest import run_cli
from rich.console import Console

from halubench.board import load_reported
from halubench.config import discover
from halubench.data import load_task
from halubench.report import print_definitions


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    for judge in ("always-pass", "always-fail"):
        result = run_cli("run", "--judge", judge, "--task", "halubench-sample", cwd=folder)
        assert result.returncode == 0, result.stderr
    return folder


def test_compare_says_the_list_is_cut_and_how_to_get_all(two_runs, tmp_path):
    args = ("compare", "always-pass", "always-fail", "--task", "halubench-sample")
    result = run_cli(*args, cwd=two_runs)
    assert result.returncode == 0, result.stderr
    assert "96 rows where the verdicts differ; the first 20 below, all of them with --disagreements FILE" in (
        " ".join(result.stdout.split()))
    out = tmp_path / "all.csv"
    result = run_cli(*args, "--disagreements", str(out), "--show", "5", cwd=two_runs)
    assert "96 rows where the verdicts differ; the first 5 below" in " ".join(result.stdout.split())
    assert "--disagreements FILE" not in result.stdout
    assert len(out.read_text().splitlines()) == 97


@pytest.mark.parametrize("width", (80, 120, 200))
def test_judges_list_keeps_names_and_model_ids_whole(width):
    console = Console(width=width, file=io.StringIO(), color_system=None)
    print_definitions("judge", [], ("backend", "model"), console)
    text = console.file.getvalue()
    words = set(text.split())
    for name, definition in discover("judge", []).items():
        assert name in words
        if definition.body.get("model"):
            assert definition.body["model"] in words, (width, definition.body["model"])
    assert "…" not in text


def test_paper_rows_use_the_datasets_domain_spelling():
    sample = load_task("halubench-sample").data_file
    with open(sample, encoding="utf-8") as rows:
        spelled = {json.loads(line)["source_ds"] for line in rows}
    (paper,) = [t for t in load_reported() if t.task == "halubench"]
    assert set(paper.groups) == spelled == {"covidQA", "pubmedQA", "halueval", "RAGTruth", "FinanceBench", "DROP"}
    assert paper.groups["covidQA"] == "CovidQA"  # the paper's spelling survives as the display name
