"""From replies to figures: the judged row (``SampleRecord``), verdict parsing, classification metrics,
intervals, AUROC, paired tests, task scorers.

The AUROC names load on first use (PEP 562): they need numpy, which a run of a judge without scores
(every API judge, answered from the cache or not) never imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from halubench.scoring._intervals import Z95, clustered_wilson_interval, macro_interval, wilson_interval
from halubench.scoring._metrics import STATUSES, score, score_run
from halubench.scoring._paired_tests import EXACT_BELOW, McNemar, binomial_two_sided_half, chi2_1_sf, mcnemar
from halubench.scoring._rank_ranges import (
    ALPHA,
    RANK_RANGE_METHOD,
    RankRange,
    RowMarks,
    better_pairs,
    holm,
    marks_by_id,
    rank_ranges,
)
from halubench.scoring._refchecker_agreement import agreement
from halubench.scoring._sample_record import SampleRecord, ScoredRow
from halubench.scoring._task_scorers import SCORERS, scorer_for
from halubench.scoring._verdicts import parse_verdict

if TYPE_CHECKING:
    from halubench.scoring._auroc import add_ranking_metrics, auroc_delong, ranking, roc_points

_LAZY = {name: "halubench.scoring._auroc" for name in ("add_ranking_metrics", "auroc_delong", "ranking", "roc_points")}

__all__ = [
    "ALPHA",
    "EXACT_BELOW",
    "RANK_RANGE_METHOD",
    "McNemar",
    "RankRange",
    "RowMarks",
    "SCORERS",
    "STATUSES",
    "SampleRecord",
    "ScoredRow",
    "Z95",
    "add_ranking_metrics",
    "agreement",
    "auroc_delong",
    "better_pairs",
    "binomial_two_sided_half",
    "chi2_1_sf",
    "clustered_wilson_interval",
    "holm",
    "macro_interval",
    "marks_by_id",
    "mcnemar",
    "parse_verdict",
    "rank_ranges",
    "ranking",
    "roc_points",
    "score",
    "score_run",
    "scorer_for",
    "wilson_interval",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'halubench.scoring' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
