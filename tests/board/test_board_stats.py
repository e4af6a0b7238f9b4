"""Rank ranges, contested labels and the figures across a board's runs, on constructed runs."""

import pytest
from conftest import run_cli
from siteruns import CONSTRUCTED, CONTESTED_IDS, write_constructed_runs

from halubench.board import (
    FLOOR,
    StrongRun,
    board_contested,
    board_rank_ranges,
    build_leaderboards,
    data_changed,
    find_contested,
)
from halubench.results import load_runs
from halubench.scoring import holm, rank_ranges


def test_holm_multiplies_by_the_remaining_tests_and_stays_monotone():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1, never below an earlier step
    assert holm([0.02, 0.9]) == pytest.approx([0.04, 0.9])
    assert holm([]) == []


def test_identical_judges_share_a_rank_range_and_a_clear_loser_ranks_alone():
    rows = [f"r{i}" for i in range(100)]
    good = {r: True for r in rows}
    bad = {r: i % 2 == 0 for i, r in enumerate(rows)}
    ranks = rank_ranges({"a": good, "b": dict(good), "c": bad})
    assert (str(ranks["a"]), str(ranks["b"]), str(ranks["c"])) == ("1–2", "1–2", "3")
    # Too few rows to tell anything apart: everyone shares every rank.
    few = rank_ranges({"a": {"x": True}, "b": {"x": False}})
    assert str(few["a"]) == str(few["b"]) == "1–2"


@pytest.fixture
def board(tmp_path):
    write_constructed_runs(tmp_path / "results")
    (board,) = [b for b in build_leaderboards(load_runs(tmp_path / "results"), []) if b.task == "halubench-sample"]
    by_run = {run_id: run.samples() for run_id, run in board.runs.items()}
    return board, by_run


def test_board_ranks_and_contested_rows_on_constructed_runs(board):
    board, samples = board
    ranks = {board.runs[r].judge: str(v) for r, v in board_rank_ranges(board, samples).items()}
    assert ranks["twin-a"] == ranks["twin-b"] and ranks["twin-a"].startswith("1–")
    assert ranks["weak"] == "5" and "flaky" not in ranks  # a run with failed rows is not ranked
    found = board_contested(board, samples, lambda run_id: board.runs[run_id].judge)
    assert [run.name for run in found.strong] == ["twin-a", "twin-b", "strong-c", "strong-d"]
    assert found.counts == {"covidQA": 4, "DROP": 4}
    assert sorted(row.id for rows in found.groups.values() for row in rows) == CONTESTED_IDS
    row = found.groups["DROP"][0]
    assert row.against == 3 and {v.name for v in row.votes} == {"twin-a", "twin-b", "strong-c", "strong-d"}
    assert data_changed(board) == f"2026-11-0{len(CONSTRUCTED)}"


def test_contested_needs_three_strong_judges_above_the_floor():
    sample = {"id": "x", "gold": "PASS", "verdict": "FAIL", "status": "ok", "groups": {"domain": "d"}}
    runs = [StrongRun(f"r{i}", f"r{i}", FLOOR + 0.1, [sample]) for i in range(2)]
    weak = StrongRun("w", "w", FLOOR - 0.01, [sample])
    assert find_contested([*runs, weak], "domain").groups == {}
    third = StrongRun("r2", "r2", FLOOR, [dict(sample, verdict=None, status="unparsed")])
    assert find_contested([*runs, third], "domain").groups == {}  # no verdict is no vote
    assert find_contested([*runs, StrongRun("r3", "r3", FLOOR, [sample])], "domain").counts == {"d": 1}


def test_report_prints_contested_counts_per_domain(tmp_path):
    write_constructed_runs(tmp_path / "results")
    result = run_cli("report", "--no-reported", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "halubench-sample: contested labels by domain (8): covidQA 4, DROP 4" in result.stdout
