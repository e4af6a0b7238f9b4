"""Threshold-free metrics for judges that give a score: AUROC and PR-AUC, FAIL as the positive class.

A sample's ``score`` is the judge's probability of PASS (faithful), so the
hallucination score ranked here is ``1 - score``. Only rows with a score take
part (``scored`` says how many); a failed call has none and is not guessed.

* AUROC is the Mann-Whitney statistic (ties count one half), as scikit-learn's
  ``roc_auc_score``; its 95% CI is DeLong's, computed from midranks (Sun and Xu,
  2014) so that 15,000 rows cost a sort, not 10^8 comparisons.
* PR-AUC is average precision, as scikit-learn's ``average_precision_score``
  (no interpolation); DeLong has no counterpart for it, so its 95% CI is a
  percentile bootstrap (1,000 resamples of the rows, seed 0).
* ``best_threshold`` is the score cut (PASS when score >= it) that maximises
  balanced accuracy, and ``balanced_accuracy_at_best`` that maximum. It is
  chosen on the test data itself, so it is an optimistic ceiling, not a
  figure the judge would reach with a threshold fixed in advance.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from halubench.scoring._intervals import Z95
from halubench.scoring._sample_record import SampleRecord

BOOTSTRAP_RESAMPLES = 1000


def _midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with ties sharing their mean rank."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=float)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def auroc_delong(positives: np.ndarray, negatives: np.ndarray) -> tuple[float, tuple[float, float]]:
    """AUROC of ``positives`` ranked above ``negatives`` and its DeLong 95% CI (clipped to [0, 1])."""
    m, n = len(positives), len(negatives)
    combined = _midranks(np.concatenate([positives, negatives]))
    within_pos, within_neg = _midranks(positives), _midranks(negatives)
    auc = (combined[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (combined[:m] - within_pos) / n  # per positive: share of negatives ranked below it
    v01 = 1 - (combined[m:] - within_neg) / m  # per negative: share of positives ranked above it
    variance = (np.var(v10, ddof=1) if m > 1 else 0.0) / m + (np.var(v01, ddof=1) if n > 1 else 0.0) / n
    half = Z95 * math.sqrt(max(variance, 0.0))
    return float(auc), (max(0.0, auc - half), min(1.0, auc + half))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Sum over distinct score cuts of (recall step) x precision, as scikit-learn computes it."""
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    last_of_tie = np.r_[np.diff(scores) != 0, True]
    true_pos = np.cumsum(labels)[last_of_tie]
    predicted = (np.arange(1, len(labels) + 1))[last_of_tie]
    precision = true_pos / predicted
    recall = true_pos / labels.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _bootstrap_ap(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    values = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        pick = rng.integers(0, len(labels), len(labels))
        if 0 < labels[pick].sum() < len(pick):
            values.append(average_precision(labels[pick], scores[pick]))
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def best_balanced_accuracy(labels: np.ndarray, pass_scores: np.ndarray) -> tuple[float, float]:
    """The cut on the PASS score (PASS when >= cut) with the highest balanced accuracy, and that accuracy.

    Every distinct score is tried as a cut (plus one above them all: every row
    FAIL), counted with sorted arrays rather than a pass over the rows per cut.
    """
    cuts = np.r_[np.unique(pass_scores), np.inf]
    fail_below = np.searchsorted(np.sort(pass_scores[labels == 1]), cuts, side="left")
    pass_below = np.searchsorted(np.sort(pass_scores[labels == 0]), cuts, side="left")
    balanced = (fail_below / (labels == 1).sum() + 1 - pass_below / (labels == 0).sum()) / 2
    best = int(np.argmax(balanced))
    return float(cuts[best]), float(balanced[best])


def roc_points(golds: Sequence[str], scores: Sequence[float], positive: str) -> tuple[list[float], list[float]]:
    """The ROC curve (false-positive rate, true-positive rate) from (0, 0) to (1, 1), one step per distinct score."""
    labels = np.array([g == positive for g in golds], dtype=float)
    fail_scores = 1 - np.array(scores, dtype=float)
    order = np.argsort(-fail_scores, kind="mergesort")
    last_of_tie = np.r_[np.diff(fail_scores[order]) != 0, True]
    true_pos = np.cumsum(labels[order])[last_of_tie]
    false_pos = np.cumsum(1 - labels[order])[last_of_tie]
    return ([0.0, *(false_pos / max(1.0, (1 - labels).sum())).tolist()],
            [0.0, *(true_pos / max(1.0, labels.sum())).tolist()])


def ranking(golds: Sequence[str], scores: Sequence[float], positive: str) -> dict[str, Any]:
    """The metrics for one set of scored rows; None where a class is missing."""
    labels = np.array([g == positive for g in golds], dtype=float)
    pass_scores = np.array(scores, dtype=float)
    fail_scores = 1 - pass_scores
    metrics: dict[str, Any] = {"scored": len(labels), "auroc": None, "auroc_ci95": None, "pr_auc": None,
                               "pr_auc_ci95": None, "best_threshold": None, "balanced_accuracy_at_best": None}
    if not 0 < labels.sum() < len(labels):
        return metrics
    auc, auc_ci = auroc_delong(fail_scores[labels == 1], fail_scores[labels == 0])
    cut, balanced = best_balanced_accuracy(labels, pass_scores)
    metrics.update(
        auroc=auc, auroc_ci95=list(auc_ci),
        pr_auc=average_precision(labels, fail_scores), pr_auc_ci95=list(_bootstrap_ap(labels, fail_scores)),
        best_threshold=None if math.isinf(cut) else cut, balanced_accuracy_at_best=balanced,
    )
    return metrics


def add_ranking_metrics(
    metrics: dict[str, Any], records: Sequence[SampleRecord], positive: str | None, breakdowns: Iterable[str]
) -> None:
    """Add the ranking keys to ``overall`` and every ``by_<breakdown>`` group, for runs with scores."""
    scored = [r for r in records if r.get("score") is not None]
    if positive is None or not scored:
        return
    metrics["overall"].update(ranking([r["gold"] for r in scored], [r["score"] for r in scored], positive))
    for breakdown in breakdowns:
        groups: dict[str, list[SampleRecord]] = defaultdict(list)
        for record in scored:
            groups[record["groups"].get(breakdown, "")].append(record)
        for name, table in metrics.get(f"by_{breakdown}", {}).items():
            members = groups.get(name, [])
            table.update(ranking([r["gold"] for r in members], [r["score"] for r in members], positive))
