"""`halubench report` and `halubench compare` on results made by real runs."""

import csv
import json

import pandas as pd
import pytest
from conftest import halubench_row, read_results, results_file, run_cli, write_jsonl
from siteruns import SCORED_ROWS, write_claim_level_run, write_scored_runs

from halubench.board import REPORTED, build_leaderboards, load_reported, read_reported
from halubench.errors import ConfigError
from halubench.results import load_runs

JUDGES = ("always-pass", "always-fail", "random", "lexical")


@pytest.fixture(scope="module")
def sample_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    for judge in JUDGES:
        result = run_cli("run", "--judge", judge, "--task", "halubench-sample", cwd=folder)
        assert result.returncode == 0, result.stderr
    return folder


def test_paper_table_is_carried_with_its_notes():
    (table,) = load_reported()
    assert table.task == "halubench" and "2407.08488" in table.citation
    rows = {r.judge: r for r in table.rows}
    assert len(rows) == 11
    sonnet = rows["Claude-3-Sonnet"]
    assert sonnet.overall == pytest.approx(0.788)
    assert "82.6" in sonnet.notes[0] and "78.8" in sonnet.notes[0]
    haiku = rows["Claude-3-Haiku"]
    assert haiku.accuracy == {} and haiku.overall == pytest.approx(0.69)
    # The printed overall is the domain mean for these rows, so they carry no note ...
    for name in ("GPT-4o", "Lynx 70B", "Lynx 8B", "Llama-3-Instruct-70B"):
        assert rows[name].notes == () and len(rows[name].accuracy) == 6
    # ... and where it is not (beyond rounding), a note says so rather than hiding it.
    assert "not the mean" in rows["RAGAS Faithfulness"].notes[0]
    assert rows["GPT-4o"].matches("gpt-4o") and rows["GPT-4o"].matches("x", "gpt-4o-2024-05-13")
    assert not rows["GPT-4o"].matches("gpt-4o-mini")
    assert rows["Lynx 70B"].matches(None, "PatronusAI/Llama-3-Patronus-Lynx-70B-Instruct")


def test_bad_reported_file_is_a_config_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("task: t\ncitation: c\ngroups: {a: A}\nrows:\n  - judge: x\n    accuracy: {b: 50}\n")
    with pytest.raises(ConfigError, match="groups \\['b'\\]"):
        read_reported(path)
    path.write_text("task: t\ncitation: c\ngroups: {a: A}\nrows:\n  - judge: x\n    overall: 150\n")
    with pytest.raises(ConfigError, match="between 0 and 100"):
        read_reported(path)


def test_leaderboard_numbers_come_from_the_summaries(sample_results):
    boards = {b.task: b for b in build_leaderboards(load_runs(sample_results / "results"))}
    assert set(boards) == {"halubench", "halubench-sample"}  # the paper's table is always shown
    board = boards["halubench-sample"]
    assert {r["judge"] for r in board.rows} == set(JUDGES) and all(r["kind"] != REPORTED for r in board.rows)
    for row in board.rows:
        summary = json.loads(results_file(sample_results / "results", "halubench-sample", row["judge"]).read_text())
        overall = summary["metrics"]["overall"]
        assert row["acc_micro"] == overall["accuracy"]
        assert row["acc_macro"] == overall["domain_macro_accuracy"]
        assert row["acc_macro_lo"] <= row["acc_macro"] <= row["acc_macro_hi"]
        for domain, metrics in summary["metrics"]["by_domain"].items():
            assert row[f"acc:{domain}"] == metrics["accuracy"]
    macro = [r["acc_macro"] for r in board.rows]
    assert macro == sorted(macro, reverse=True)
    assert all(r["kind"] == REPORTED for r in boards["halubench"].rows)


def test_report_cli_terminal_markdown_csv(sample_results, tmp_path):
    md, csv = tmp_path / "out" / "board.md", tmp_path / "out" / "board.csv"
    result = run_cli("report", "--markdown", str(md), "--csv", str(csv), cwd=sample_results)
    assert result.returncode == 0, result.stderr
    for judge in JUDGES:
        assert judge in result.stdout
    assert "Lynx 70B †" in result.stdout and "reported, not measured here" in result.stdout
    text = md.read_text()
    assert "## halubench-sample" in text and "## halubench" in text
    assert "| GPT-4o †" in text and "arXiv:2407.08488" in text and "82.6" in text
    frame = pd.read_csv(csv)
    sample = frame[frame["task"] == "halubench-sample"].set_index("judge")
    assert sample.loc["always-pass", "acc_micro"] == 0.5 and sample.loc["always-pass", "kind"] == "measured"
    paper = frame[frame["kind"] == "reported"].set_index("judge")
    assert paper.loc["GPT-4o", "acc:halueval"] == pytest.approx(0.879)
    assert paper.loc["Claude-3-Sonnet", "acc_macro"] == pytest.approx(0.788)
    only = run_cli("report", "--task", "halubench-sample", "--no-reported", cwd=sample_results)
    assert "Lynx" not in only.stdout and "lexical" in only.stdout


def test_counts_are_integers_in_csv_and_markdown(tmp_path):
    """Beside the paper's reported rows, which have no counts, a run's counts stay integers: a column of
    counts with a gap is float in plain pandas (`n` = 2628.0)."""
    rows = [halubench_row(i, ("PASS", "FAIL")[i % 2], domain=("halueval", "DROP")[i // 2 % 2]) for i in range(12)]
    data = write_jsonl(tmp_path / "rows.jsonl", rows)
    ran = run_cli("run", "--judge", "lexical", "--task", "halubench", "--data", str(data), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    result = run_cli("report", "--task", "halubench", "--csv", "board.csv", "--markdown", "board.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with (tmp_path / "board.csv").open(newline="") as handle:
        table = list(csv.DictReader(handle))
    (measured,) = [r for r in table if r["kind"] == "measured"]
    assert (measured["n"], measured["n:halueval"], measured["n:DROP"]) == ("12", "6", "6")
    assert measured["n:FinanceBench"] == "" and any(r["kind"] == "reported" for r in table)
    counts = [c for c in table[0] if c == "n" or c.startswith("n:") or c == "auroc_scored"]
    assert all(r[c] == "" or r[c].isdigit() for r in table for c in counts)
    markdown = (tmp_path / "board.md").read_text()
    (line,) = [line for line in markdown.splitlines() if line.startswith("| lexical")]
    assert line.rstrip(" |").endswith("| 12")


def test_auroc_shows_its_coverage(tmp_path):
    """An AUROC over the rows with a score alone is marked and its coverage said, in every table."""
    written = write_scored_runs(tmp_path / "results")
    result = run_cli("report", "--no-reported", "--csv", "board.csv", "--markdown", "board.md", cwd=tmp_path,
                     env={"COLUMNS": "250"})
    assert result.returncode == 0, result.stderr
    partial = f"scores-some 12 of {SCORED_ROWS} (30.0%)"
    for text in (result.stdout, (tmp_path / "board.md").read_text()):
        (some,) = [line for line in text.splitlines() if "scores-some" in line and "100.0" in line]
        (full,) = [line for line in text.splitlines() if "scores-all" in line and "87.8" in line]
        assert "100.0 ‡" in some and "‡" not in full
        assert "AUROC over the rows with a score only" in text and partial in text
    frame = pd.read_csv(tmp_path / "board.csv").set_index("judge")
    assert frame.loc["scores-some", ["auroc", "auroc_scored", "auroc_coverage"]].tolist() == [1.0, 12, 0.3]
    assert frame.loc["scores-all", ["auroc_scored", "auroc_coverage"]].tolist() == [SCORED_ROWS, 1.0]
    assert written == {"scores-all": (SCORED_ROWS, pytest.approx(0.8775)), "scores-some": (12, 1.0)}


def test_report_is_generic_over_breakdown_and_labels(tmp_path):
    write_claim_level_run(tmp_path / "results")
    (board,) = build_leaderboards(load_runs(tmp_path / "results"), reported=[])
    assert board.breakdown == "setting" and board.groups == ["noisy_context", "zero_context"]
    assert board.labels == ["Entailment", "Neutral", "Contradiction"]
    result = run_cli("report", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "setting-macro" in result.stdout and "zero_context" in result.stdout and "$1.25" in result.stdout


def test_report_without_results_is_one_line(tmp_path):
    result = run_cli("report", "--results-dir", "nowhere", cwd=tmp_path)
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "empty").mkdir()
    result = run_cli("report", "--results-dir", "empty", cwd=tmp_path)
    assert result.returncode == 2 and "no results files" in result.stderr


def test_compare_pairs_rows_and_counts_discordant_ones(sample_results, tmp_path):
    results = sample_results / "results"
    out = tmp_path / "differ.csv"
    result = run_cli("compare", "lexical", str(results_file(results, "halubench-sample", "random")), "--task",
                     "halubench-sample", "--disagreements", str(out), cwd=sample_results)
    assert result.returncode == 0, result.stderr
    load = lambda judge: {s["id"]: s for s in read_results(results, "halubench-sample", judge)[1]}  # noqa: E731
    a, b = load("lexical"), load("random")
    only_a = sum(a[i]["correct"] and not b[i]["correct"] for i in a)
    only_b = sum(b[i]["correct"] and not a[i]["correct"] for i in a)
    assert f"{only_a} only A right, {only_b} only B right" in result.stdout
    method = "exact binomial" if only_a + only_b < 25 else "chi-square with continuity correction"
    assert method in result.stdout
    differ = pd.read_csv(out)
    assert set(differ["id"]) == {i for i in a if a[i]["verdict"] != b[i]["verdict"]}
    delta = 100 * (sum(s["correct"] for s in b.values()) - sum(s["correct"] for s in a.values())) / len(a)
    assert f"{delta:+.1f}" in result.stdout


def test_compare_refuses_runs_of_different_tasks_or_unknown_judges(sample_results, tmp_path):
    write_claim_level_run(tmp_path / "results")
    claims = results_file(tmp_path / "results", "refchecker-claims", "checker")
    lexical = results_file(sample_results / "results", "halubench-sample", "lexical")
    result = run_cli("compare", str(lexical), str(claims), cwd=tmp_path)
    assert result.returncode == 2 and "same task" in result.stderr
    result = run_cli("compare", "lexical", "nobody", "--task", "halubench-sample", cwd=sample_results)
    assert result.returncode == 2 and "present: always-fail" in result.stderr
    result = run_cli("compare", "lexical", "random", cwd=sample_results)
    assert result.returncode == 2 and "--task" in result.stderr


def test_compare_of_three_class_runs_by_setting(tmp_path):
    write_claim_level_run(tmp_path / "results", "a")
    write_claim_level_run(tmp_path / "results", "b", verdicts=("Entailment",))
    result = run_cli("compare", "a", "b", "--task", "refchecker-claims", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "zero_context" in result.stdout and "exact binomial" in result.stdout
