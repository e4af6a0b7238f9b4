"""What the site shows about one board beyond its rows: cards, ranks, charts, contested rows, facts.

Computed once per board from its runs' samples, which the build loads once
and shares with the explorer data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from halubench.board import (
    REPORTED,
    Contested,
    JudgeCard,
    Leaderboard,
    Reproduction,
    Samples,
    board_contested,
    board_rank_ranges,
    board_score,
    card_for,
    card_for_reported,
    data_changed,
    harness_versions,
    missing,
    ranked_rows,
    recorded_card,
    reproductions,
)
from halubench.config import Definition
from halubench.results import SUBMITTED
from halubench.scoring import RankRange
from halubench.sitegen._charts import Point, tradeoff_chart

TRADEOFFS = (  # (file suffix, board column, axis label, what a run lacks when it is not shown)
    ("cost", "cost_per_1000_usd", "cost per 1,000 judgments, USD (log scale)", "a cost figure"),
    ("latency", "latency_p50_s", "median latency per call, seconds (log scale)", "a latency above 0 s"),
)


@dataclass
class Tradeoff:
    name: str  # file suffix: cost or latency
    file: str  # SVG file name, beside index.html under charts/
    svg: str
    shown: int
    left_out: int
    what: str


@dataclass
class BoardView:
    cards: dict[str, JudgeCard]  # run id -> card
    reported_cards: dict[str, JudgeCard]  # reported row's judge -> card
    ranks: dict[str, RankRange]
    contested: Contested
    tradeoffs: list[Tradeoff] = field(default_factory=list)
    data_changed: str | None = None
    harness_versions: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    reproductions: dict[str, Reproduction] = field(default_factory=dict)  # both runs' ids -> their check
    submitted: set[str] = field(default_factory=set)  # run ids of the submitted runs

    def name(self, run_id: str) -> str:
        """A run's judge as the site names it among others (explorer, row view, charts): its display name,
        marked when submitted, as a judge may be on the board twice (submitted and reproduced)."""
        return _name(self.cards, self.submitted, run_id)


def _name(cards: dict[str, JudgeCard], submitted: set[str], run_id: str) -> str:
    name = cards[run_id].display_name
    return f"{name} (submitted)" if run_id in submitted else name


def chance(board: Leaderboard) -> float | None:
    """What a uniform coin over the task's labels scores: 50% for PASS / FAIL."""
    return 1 / len(board.labels) if board.labels else None


def _tradeoffs(board: Leaderboard, run_name: Callable[[str], str], task_slug: str) -> list[Tradeoff]:
    """One accuracy-versus-X chart per figure that at least one row of the board has."""
    made = []
    rows = ranked_rows(board) + [r for r in board.rows if r["kind"] == REPORTED]
    for name, column, label, what in TRADEOFFS:
        points = []
        for r in rows:
            score = board_score(r)
            if missing(r.get(column)) or r[column] <= 0 or score is None:
                continue
            low, high = (r.get("acc_macro_lo"), r.get("acc_macro_hi")) if not missing(r.get("acc_macro")) else \
                (r.get("acc_micro_lo"), r.get("acc_micro_hi"))
            reported = r["kind"] == REPORTED
            points.append(Point(r["judge"] if reported else run_name(r["run_id"]), float(r[column]),
                                score, None if missing(low) else low, None if missing(high) else high, reported))
        if points:
            made.append(Tradeoff(name, f"{task_slug}-{name}.svg", tradeoff_chart(points, label, chance(board)),
                                 len(points), len(rows) - len(points), what))
    return made


def board_view(board: Leaderboard, samples: Samples, files: dict[str, Definition], task_slug: str) -> BoardView:
    cards = {run_id: card_for(run.judge, recorded_card(run), files)
             for run_id, run in board.runs.items()}
    reported = {row.judge: card_for_reported(row.judge, row.matches, files)
                for row in (board.reported.rows if board.reported else [])}
    ranked = ranked_rows(board)
    submitted = {run_id for run_id, run in board.runs.items() if run.obtained == SUBMITTED}

    def name(run_id: str) -> str:
        return _name(cards, submitted, run_id)

    return BoardView(
        cards=cards, reported_cards=reported, ranks=board_rank_ranges(board, samples),
        contested=board_contested(board, samples, name),
        tradeoffs=_tradeoffs(board, name, task_slug), data_changed=data_changed(board),
        harness_versions=harness_versions(board),
        datasets=sorted({str(r["data"]) for r in ranked}),
        reproductions={run.run_id: check for check in reproductions(board)
                       for run in (check.submitted, check.reproduced)},
        submitted=submitted,
    )

