"""Tables at 80, 120 and 200 columns: every figure whole, columns left out with a note rather than cut."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from halubench.backends import resolve_judge
from halubench.board import build_leaderboards, missing
from halubench.data import load_task
from halubench.report import pct, print_agreement, print_leaderboards, print_run_table
from halubench.results import load_runs
from halubench.run import RunOptions, run_task

WIDTHS = (80, 120, 200)


def whole(figure: str, text: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(figure)}(?![\d.]|…)", text) is not None


def rendered(width: int, draw) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    draw(console)
    return console.file.getvalue()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Offline judges on the bundled sample, made here (the committed results may be of an older format)."""
    out = tmp_path_factory.mktemp("results")
    for judge in ("always-pass", "random", "lexical"):
        run_task(load_task("halubench-sample"), resolve_judge(judge), RunOptions(results_dir=out))
    return out


@pytest.mark.parametrize("width", WIDTHS)
def test_report_never_cuts_a_figure(width, results):
    boards = build_leaderboards(load_runs(results))
    text = rendered(width, lambda console: print_leaderboards(boards, console))
    assert not re.search(r"\d…", text)
    figures = 0
    for board in boards:
        assert board.task in text
        for row in board.rows:
            for column in [*(f"acc:{g}" for g in board.groups), "acc_macro", "acc_micro"]:
                if not missing(row.get(column)):
                    assert whole(pct(row[column]), text), (width, row["judge"], column)
                    figures += 1
    assert figures > 50
    table_lines = [line for line in text.splitlines() if not line.startswith("  ")]  # footnotes wrap as text
    assert all(len(line) <= width for line in table_lines)
    if width == 200:
        assert "narrow terminal" not in text and "95% CI" in text and "p50 latency" in text
    else:
        assert "narrow terminal: latency, cost" in text


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return run_task(load_task("halubench-sample"), resolve_judge("lexical"), RunOptions(results_dir=out))


@pytest.mark.parametrize("width", WIDTHS)
def test_run_table_never_cuts_a_figure(width, sample_run):
    def draw(console):
        print_run_table(sample_run, console)

    text = rendered(width, draw)
    assert not re.search(r"\d…", text)
    metrics = sample_run.summary["metrics"]
    for name, m in [*metrics["by_domain"].items(), ("overall (micro)", metrics["overall"])]:
        line = next(line for line in text.splitlines() if line.lstrip().startswith(name.split()[0]))
        assert whole(f"{100 * m['accuracy']:.1f}", line), (width, name)
    assert all(len(line) <= width for line in text.splitlines() if not line.startswith(("rows:", "results:")))


def test_stacked_rows_when_even_the_essentials_do_not_fit(results):
    boards = build_leaderboards(load_runs(results))
    text = rendered(60, lambda console: print_leaderboards(boards[:1], console))
    assert "HaluEval 87.9" in text and "domain-macro 86.5" in text  # label and figure together
    assert not re.search(r"\d…", text)


@pytest.mark.parametrize("width", WIDTHS)
def test_refchecker_agreement_never_cuts_a_figure(width):
    figures = {"accuracy": 0.8123, "factual_f1": 0.8571, "non_factual_f1": 0.6667, "macro_f1": 0.7619,
               "pearson": 0.5432, "spearman": 0.4987}
    agreement = {"responders": ["a", "b"], "by_setting": {
        setting: {"responses": 600, **figures} for setting in ("zero_context", "noisy_context", "accurate_context")}}

    def draw(console):
        print_agreement(agreement, console)

    text = rendered(width, draw)
    assert not re.search(r"\d…", text)
    for value in figures.values():
        assert whole(pct(value), text), (width, value)
    assert "accurate_context" in text
