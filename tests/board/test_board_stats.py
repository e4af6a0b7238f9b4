"""Rank ranges, contested labels and the figures across a board's runs, on constructed runs."""

import pytest
from conftest import run_cli
from siteruns import CONSTRUCTED, CONTESTED_IDS, write_constructed_runs

from halubench.board import (
    FLOOR,
    RunVerdicts,
    StrongRun,
    board_contested,
    board_rank_ranges,
    build_leaderboards,
    data_changed,
    find_contested,
    run_verdicts,
)
from halubench.results import load_runs
from halubench.scoring import RowMarks, holm, marks_by_id, rank_ranges


def test_holm_multiplies_by_the_remaining_tests_and_stays_monotone():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.6, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1, never below an earlier step
    assert holm([0.02, 0.9]) == pytest.approx([0.04, 0.9])
    assert holm([]) == []


def test_identical_judges_share_a_rank_range_and_a_clear_loser_ranks_alone():
    rows = [f"r{i}" for i in range(100)]
    good = {r: True for r in rows}
    bad = {r: i % 2 == 0 for i, r in enumerate(rows)}
    ranks = rank_ranges(marks_by_id({"a": good, "b": dict(good), "c": bad}))
    assert (str(ranks["a"]), str(ranks["b"]), str(ranks["c"])) == ("1–2", "1–2", "3")
    # Too few rows to tell anything apart: everyone shares every rank.
    few = rank_ranges(marks_by_id({"a": {"x": True}, "b": {"x": False}}))
    assert str(few["a"]) == str(few["b"]) == "1–2"


def test_row_marks_are_bit_sets_over_row_numbers():
    marks = RowMarks.of([3, 0, 5], [True, False, True])
    assert marks == RowMarks(seen=0b101001, right=0b101000)
    # Only rows both judges saw count: c never saw row 2, so a's win there is not counted.
    by_id = marks_by_id({"a": {"r1": True, "r2": True}, "c": {"r1": False}})
    assert by_id["a"].seen == 0b11 and by_id["c"] == RowMarks(seen=0b01, right=0)


@pytest.fixture
def board(tmp_path):
    write_constructed_runs(tmp_path / "results")
    (board,) = [b for b in build_leaderboards(load_runs(tmp_path / "results"), []) if b.task == "halubench-sample"]
    read = []

    def verdicts(run_id):
        read.append(run_id)
        return run_verdicts(board.runs[run_id], board.breakdown)

    return board, verdicts, read


def test_board_ranks_and_contested_rows_on_constructed_runs(board):
    board, verdicts, read = board
    ranks = {board.runs[r].judge: str(v) for r, v in board_rank_ranges(board, verdicts).items()}
    assert ranks["twin-a"] == ranks["twin-b"] and ranks["twin-a"].startswith("1–")
    assert ranks["weak"] == "5" and "flaky" not in ranks  # a run with failed rows is not ranked
    read.clear()
    found = board_contested(board, verdicts, lambda run_id: board.runs[run_id].judge)
    assert len(read) == 4  # only the strong judges' verdicts are read
    assert [run.name for run in found.strong] == ["twin-a", "twin-b", "strong-c", "strong-d"]
    assert found.counts == {"covidQA": 4, "DROP": 4}
    assert sorted(row.id for rows in found.groups.values() for row in rows) == CONTESTED_IDS
    row = found.groups["DROP"][0]
    assert row.against == 3 and {v.name for v in row.votes} == {"twin-a", "twin-b", "strong-c", "strong-d"}
    assert row.fields == {} and row.votes[0].reasoning is None  # counted only: no texts asked for
    assert data_changed(board) == f"2026-11-0{len(CONSTRUCTED)}"


def test_contested_rows_carry_the_texts_and_reasoning_details_give(board):
    board, verdicts, _ = board
    asked = []

    def details(run_id, positions):
        asked.append((board.runs[run_id].judge, list(positions)))
        return [({"question": f"q{p}"}, f"{board.runs[run_id].judge} on {p}") for p in positions]

    found = board_contested(board, verdicts, lambda run_id: board.runs[run_id].judge, details)
    contested_at = [int(i[1:]) for i in CONTESTED_IDS]  # the row ids are k000..k199, in order
    assert sorted(asked) == sorted((judge, contested_at) for judge in ("twin-a", "twin-b", "strong-c", "strong-d"))
    row = found.groups["DROP"][0]
    assert row.fields == {"question": f"q{int(row.id[1:])}"}
    assert row.votes[0].reasoning == f"{row.votes[0].name} on {int(row.id[1:])}"


def test_contested_needs_three_strong_judges_above_the_floor():
    sample = {"id": "x", "gold": "PASS", "verdict": "FAIL", "status": "ok", "groups": {"domain": "d"}}
    said = {"r0": sample, "r1": sample, "w": sample, "r2": dict(sample, verdict=None, status="unparsed"),
            "r3": sample}

    def verdicts(run_id):
        return RunVerdicts.collect([said[run_id]], ["PASS", "FAIL"], "domain")

    runs = [StrongRun(f"r{i}", f"r{i}", FLOOR + 0.1) for i in range(2)]
    weak = StrongRun("w", "w", FLOOR - 0.01)
    assert find_contested([*runs, weak], "domain", verdicts).groups == {}
    third = StrongRun("r2", "r2", FLOOR)
    assert find_contested([*runs, third], "domain", verdicts).groups == {}  # no verdict is no vote
    assert find_contested([*runs, StrongRun("r3", "r3", FLOOR)], "domain", verdicts).counts == {"d": 1}


def test_report_prints_contested_counts_per_domain(tmp_path):
    write_constructed_runs(tmp_path / "results")
    result = run_cli("report", "--no-reported", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "halubench-sample: contested labels by domain (8): covidQA 4, DROP 4" in result.stdout
