"""The leaderboard as data: boards and the comparable-runs rule, board statistics, comparisons, ensembles.
"""

from __future__ import annotations

from halubench.board._compare import Comparison, compare, compare_runs, resolve_run
from halubench.board._contested import (
    AGREE,
    CONTESTED_RULE,
    FLOOR,
    Contested,
    ContestedRow,
    Details,
    StrongRun,
    Vote,
    find_contested,
    strong_runs,
)
from halubench.board._ensemble import WEIGHTED_VARIANT, build_ensemble, check_members, combine, weight
from halubench.board._judge_cards import (
    JudgeCard,
    card_for,
    card_for_reported,
    judge_definitions,
    kinds_present,
    recorded_card,
)
from halubench.board._leaderboard import (
    HEAD_COLUMNS,
    MEASURED,
    REPORTED,
    BoardRow,
    Leaderboard,
    build_leaderboards,
    comparable_set,
    dataset_label,
    leaderboards,
    missing,
    partial_auroc,
    to_csv_frame,
)
from halubench.board._reported import ReportedRow, ReportedTable, load_reported, read_reported
from halubench.board._reproductions import Reproduction, reproductions
from halubench.board._stats import (
    board_contested,
    board_rank_ranges,
    board_score,
    data_changed,
    harness_versions,
    ranked_rows,
    strong_candidates,
)
from halubench.board._verdicts import RunVerdicts, Verdicts, run_verdicts

__all__ = [
    "CONTESTED_RULE",
    "AGREE",
    "BoardRow",
    "Comparison",
    "Contested",
    "ContestedRow",
    "Details",
    "FLOOR",
    "HEAD_COLUMNS",
    "JudgeCard",
    "Leaderboard",
    "MEASURED",
    "REPORTED",
    "Reproduction",
    "ReportedRow",
    "ReportedTable",
    "RunVerdicts",
    "StrongRun",
    "Verdicts",
    "Vote",
    "WEIGHTED_VARIANT",
    "board_contested",
    "board_rank_ranges",
    "board_score",
    "build_ensemble",
    "build_leaderboards",
    "card_for",
    "card_for_reported",
    "check_members",
    "combine",
    "comparable_set",
    "compare",
    "compare_runs",
    "data_changed",
    "dataset_label",
    "missing",
    "partial_auroc",
    "find_contested",
    "harness_versions",
    "judge_definitions",
    "kinds_present",
    "leaderboards",
    "load_reported",
    "ranked_rows",
    "run_verdicts",
    "strong_candidates",
    "strong_runs",
    "read_reported",
    "recorded_card",
    "reproductions",
    "resolve_run",
    "to_csv_frame",
    "weight",
]
