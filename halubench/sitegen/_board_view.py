"""What the site shows about one board beyond its rows: cards, ranks, charts, contested rows, facts.

Computed once per board from its runs' verdicts (``RunVerdicts``, read back
from the runs' explorer indexes), never from their replies: only the contested
rows' texts and reasoning are read, through ``details``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from halubench.board import (
    REPORTED,
    Contested,
    ContestedRow,
    Details,
    JudgeCard,
    Leaderboard,
    Reproduction,
    StrongRun,
    Verdicts,
    Vote,
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
from halubench.sitegen._charts import Point

TRADEOFFS = (  # (file suffix, board column, axis label, what a run lacks when it is not shown)
    ("cost", "cost_per_1000_usd", "cost per 1,000 judgments, USD (log scale)", "a cost figure"),
    ("latency", "latency_p50_s", "median latency per call, seconds (log scale)", "a latency above 0 s"),
)


@dataclass
class Tradeoff:
    name: str  # file suffix: cost or latency
    file: str  # SVG file name, beside index.html under charts/
    points: list[Point]
    label: str  # the x axis
    chance: float | None
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
        return run_name(self.cards, self.submitted, run_id)


def run_name(cards: dict[str, JudgeCard], submitted: set[str], run_id: str) -> str:
    """A run's display name, marked when the run was submitted."""
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
            made.append(Tradeoff(name, f"{task_slug}-{name}.svg", points, label, chance(board),
                                 len(points), len(rows) - len(points), what))
    return made


def measured_cards(board: Leaderboard, files: dict[str, Definition]) -> dict[str, JudgeCard]:
    """The card of each measured run of a board, by run id."""
    return {run_id: card_for(run.judge, recorded_card(run), files) for run_id, run in board.runs.items()}


def submitted_runs(board: Leaderboard) -> set[str]:
    """The run ids of a board's submitted runs (the site marks their names)."""
    return {run_id for run_id, run in board.runs.items() if run.obtained == SUBMITTED}


def board_view(board: Leaderboard, verdicts: Verdicts, files: dict[str, Definition], task_slug: str,
               details: Details | None = None, contested: Contested | None = None,
               checks: list[Reproduction] | None = None) -> BoardView:
    """``verdicts``: a run id's verdicts; ``details``: texts and reasoning of contested rows (see
    ``halubench.board.find_contested``); ``contested``: the contested rows when they are known already;
    ``checks``: the board's reproducibility checks when they are made already."""
    cards = measured_cards(board, files)
    reported = {row.judge: card_for_reported(row.judge, row.matches, files)
                for row in (board.reported.rows if board.reported else [])}
    ranked = ranked_rows(board)
    submitted = submitted_runs(board)

    def name(run_id: str) -> str:
        return run_name(cards, submitted, run_id)

    return BoardView(
        cards=cards, reported_cards=reported, ranks=board_rank_ranges(board, verdicts),
        contested=contested or board_contested(board, verdicts, name, details),
        tradeoffs=_tradeoffs(board, name, task_slug), data_changed=data_changed(board),
        harness_versions=harness_versions(board),
        datasets=sorted({str(r["data"]) for r in ranked}),
        reproductions={run.run_id: check for check in (reproductions(board) if checks is None else checks)
                       for run in (check.submitted, check.reproduced)},
        submitted=submitted,
    )


def contested_json(found: Contested) -> bytes:
    """The contested rows as JSON: kept in the site, so a build whose strong judges did not change reads
    them back instead of reading their replies again."""
    value = asdict(found)
    value["groups"] = list(value["groups"].items())  # in their order (JSON objects have none)
    return json.dumps(value, ensure_ascii=False).encode()


def contested_from_json(body: bytes) -> Contested:
    value = json.loads(body)
    return Contested(value["breakdown"], [StrongRun(**run) for run in value["strong"]], {
        group: [ContestedRow(row["id"], row["group"], row["gold"], row["fields"],
                             [Vote(**vote) for vote in row["votes"]]) for row in rows]
        for group, rows in value["groups"]})
