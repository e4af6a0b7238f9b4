"""AUROC, PR-AUC and the best-threshold figures against scikit-learn's, on fixed scores.

The expected figures were computed once with scikit-learn 1.x (``roc_auc_score``,
``average_precision_score``, ``roc_curve``) on exactly these 40 rows and are
written here as literals: scikit-learn is not a dependency of halubench.
DeLong's variance is checked against its definition (all m x n comparisons).
"""

import math

import numpy as np
import pytest

from halubench.scoring import Z95, add_ranking_metrics, auroc_delong, ranking

GOLDS = ["FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "PASS", "PASS", "PASS", "PASS", "FAIL", "FAIL",
         "PASS", "PASS", "FAIL", "PASS", "FAIL", "PASS", "PASS", "FAIL", "PASS", "PASS", "PASS", "FAIL", "PASS",
         "FAIL", "PASS", "PASS", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "FAIL", "PASS",
         "FAIL"]
SCORES = [0.0, 0.19, 0.0, 0.32, 0.29, 0.2, 0.0, 0.42, 0.54, 0.58, 0.17, 0.13, 0.01, 0.35, 0.82, 0.05, 0.54, 0.47,
          0.4, 0.52, 0.28, 0.57, 0.24, 0.57, 0.59, 0.16, 0.46, 0.58, 0.39, 0.75, 0.44, 0.0, 0.27, 0.39, 0.2, 0.42,
          0.23, 0.42, 0.91, 0.08]  # P(PASS); ties on purpose
SKLEARN_AUROC = 0.7747395833333334  # roc_auc_score(FAIL, 1 - score)
SKLEARN_AP = 0.8506636712308328  # average_precision_score(FAIL, 1 - score)
SKLEARN_BEST_BALANCED = 0.7395833333333333  # max over roc_curve of (tpr + 1 - fpr) / 2, at FAIL iff score <= 0.32


def test_figures_match_scikit_learn():
    m = ranking(GOLDS, SCORES, "FAIL")
    assert m["scored"] == 40
    assert m["auroc"] == pytest.approx(SKLEARN_AUROC, abs=1e-12)
    assert m["pr_auc"] == pytest.approx(SKLEARN_AP, abs=1e-12)
    assert m["balanced_accuracy_at_best"] == pytest.approx(SKLEARN_BEST_BALANCED, abs=1e-12)
    assert m["best_threshold"] == 0.35  # PASS from the next distinct score above 0.32
    low, high = m["pr_auc_ci95"]
    assert low < m["pr_auc"] < high <= 1


def test_delong_interval_matches_its_definition():
    fail = [1 - s for s, g in zip(SCORES, GOLDS, strict=True) if g == "FAIL"]
    kept = [1 - s for s, g in zip(SCORES, GOLDS, strict=True) if g == "PASS"]

    def psi(x, y):
        return 1.0 if x > y else 0.5 if x == y else 0.0

    v10 = [sum(psi(x, y) for y in kept) / len(kept) for x in fail]
    v01 = [sum(psi(x, y) for x in fail) / len(fail) for y in kept]
    variance = np.var(v10, ddof=1) / len(fail) + np.var(v01, ddof=1) / len(kept)
    auc, (low, high) = auroc_delong(np.array(fail), np.array(kept))
    assert auc == pytest.approx(SKLEARN_AUROC)
    assert (low, high) == pytest.approx((auc - Z95 * math.sqrt(variance), auc + Z95 * math.sqrt(variance)))


def test_edges_perfect_ties_and_one_class():
    perfect = ranking(["FAIL", "FAIL", "PASS", "PASS"], [0.1, 0.2, 0.8, 0.9], "FAIL")
    assert (perfect["auroc"], perfect["pr_auc"], perfect["balanced_accuracy_at_best"]) == (1.0, 1.0, 1.0)
    tied = ranking(["FAIL", "PASS", "FAIL", "PASS"], [0.5] * 4, "FAIL")
    assert tied["auroc"] == 0.5 and tied["pr_auc"] == 0.5
    one_class = ranking(["PASS", "PASS"], [0.2, 0.9], "FAIL")
    assert one_class["auroc"] is None and one_class["scored"] == 2


def test_added_overall_and_per_group_only_for_scored_rows():
    records = [{"gold": g, "score": s, "groups": {"domain": "a" if i % 2 else "b"}}
               for i, (g, s) in enumerate(zip(GOLDS, SCORES, strict=True))]
    records.append({"gold": "FAIL", "score": None, "groups": {"domain": "a"}})  # a failed call: left out
    metrics = {"overall": {}, "by_domain": {"a": {}, "b": {}}}
    add_ranking_metrics(metrics, records, "FAIL", ["domain"])
    assert metrics["overall"]["auroc"] == pytest.approx(SKLEARN_AUROC) and metrics["overall"]["scored"] == 40
    assert metrics["by_domain"]["a"]["scored"] == 20
    unscored = {"overall": {}}
    add_ranking_metrics(unscored, [{"gold": "PASS", "score": None, "groups": {}}], "FAIL", [])
    assert unscored == {"overall": {}}
