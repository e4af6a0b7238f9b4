import math

import pytest

from halubench.scoring import ScoredRow, score, score_run, wilson_interval

LABELS = ("PASS", "FAIL")


def judged(gold: str, verdict: str | None, status: str = "ok", groups: dict[str, str] | None = None) -> ScoredRow:
    return {"gold": gold, "verdict": verdict, "status": status, "groups": groups or {}}


def rows(spec):
    """spec: list of (gold, verdict or None, status, domain)."""
    return [judged(g, v, s, {"domain": d}) for g, v, s, d in spec]


# 10 rows by hand: domain A has 6, domain B has 4.
#   A: FAIL->FAIL, FAIL->FAIL, FAIL->PASS, PASS->PASS, PASS->FAIL, PASS->unparsed
#   B: FAIL->FAIL, FAIL->error,  PASS->PASS, PASS->PASS
SPEC = [
    ("FAIL", "FAIL", "ok", "A"), ("FAIL", "FAIL", "ok", "A"), ("FAIL", "PASS", "ok", "A"),
    ("PASS", "PASS", "ok", "A"), ("PASS", "FAIL", "ok", "A"), ("PASS", None, "unparsed", "A"),
    ("FAIL", "FAIL", "ok", "B"), ("FAIL", None, "error", "B"),
    ("PASS", "PASS", "ok", "B"), ("PASS", "PASS", "ok", "B"),
]


def test_overall_metrics_match_hand_computation():
    m = score(rows(SPEC), LABELS, "FAIL")
    assert m["n"] == 10 and m["correct"] == 6
    assert m["accuracy"] == pytest.approx(6 / 10)  # unparsed and error rows count wrong
    assert m["parsed"] == 8 and m["accuracy_parsed"] == pytest.approx(6 / 8)
    assert (m["unparsed"], m["errors"], m["too_long"]) == (1, 1, 0)
    # FAIL is positive: TP=3, predicted FAIL=4 (one from a PASS row), gold FAIL=5
    assert m["precision"] == pytest.approx(3 / 4)
    assert m["recall"] == pytest.approx(3 / 5)
    assert m["f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    # PASS: TP=3, predicted PASS=4, gold PASS=5
    assert m["per_class"]["PASS"]["precision"] == pytest.approx(3 / 4)
    assert m["per_class"]["PASS"]["recall"] == pytest.approx(3 / 5)
    assert m["balanced_accuracy"] == pytest.approx((3 / 5 + 3 / 5) / 2)
    assert m["confusion"]["PASS"] == {"PASS": 3, "FAIL": 1, "none": 1}
    assert m["confusion"]["FAIL"] == {"PASS": 1, "FAIL": 3, "none": 1}


def test_breakdowns_and_domain_macro_accuracy():
    m = score_run(rows(SPEC), LABELS, "FAIL", ["domain"])
    assert m["by_domain"]["A"]["accuracy"] == pytest.approx(3 / 6)
    assert m["by_domain"]["B"]["accuracy"] == pytest.approx(3 / 4)
    assert m["by_domain"]["B"]["errors"] == 1 and m["by_domain"]["A"]["unparsed"] == 1
    assert m["overall"]["accuracy"] == pytest.approx(0.6)
    assert m["overall"]["domain_macro_accuracy"] == pytest.approx((0.5 + 0.75) / 2)


def test_wilson_interval_known_values():
    low, high = wilson_interval(50, 100)
    assert (round(low, 4), round(high, 4)) == (0.4038, 0.5962)
    assert wilson_interval(0, 10)[0] == 0.0
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    low, high = wilson_interval(0, 10)
    assert high == pytest.approx(0.2775, abs=1e-4)


def test_constant_judge_has_zero_f1_not_undefined():
    m = score(rows([("FAIL", "PASS", "ok", "A"), ("PASS", "PASS", "ok", "A")]), LABELS, "FAIL")
    assert m["precision"] is None  # never predicted FAIL: precision undefined
    assert m["recall"] == 0.0 and m["f1"] == 0.0
    assert m["macro_f1"] == pytest.approx((2 * 0.5 * 1 / 1.5 + 0) / 2)


def test_three_labels_macro_f1():
    labels = ("Entailment", "Neutral", "Contradiction")
    spec = [("Entailment", "Entailment"), ("Entailment", "Neutral"), ("Neutral", "Neutral"),
            ("Contradiction", "Entailment")]
    m = score([judged(g, v) for g, v in spec], labels, None)
    assert m["accuracy"] == 0.5
    e_f1 = 2 * 0.5 * 0.5 / 1.0
    n_f1 = 2 * 0.5 * 1.0 / 1.5
    assert m["macro_f1"] == pytest.approx((e_f1 + n_f1 + 0.0) / 3)
    assert "precision" not in m
    assert not math.isnan(m["balanced_accuracy"])


E, N, C = "Entailment", "Neutral", "Contradiction"


# Expected figures computed once with scikit-learn 1.9.1:
#   f1_score(gold, [v or "none" for v in verdicts], average="macro", zero_division=0,
#            labels=[label for label in task_labels if label in gold or label in verdicts])
# A row without a verdict is a missed gold class, never a predicted one ("none" is not in labels).
@pytest.mark.parametrize("labels, gold, verdicts, sklearn_macro_f1", [
    ((E, N, C), [E, E, N, N], [E, C, N, N], 0.5555555555555555),  # C predicted, never gold
    ((E, N, C), [E, E, N, C], [E, N, N, E], 0.38888888888888884),
    ((E, N, C), [E, E, N, N, N], [E, None, N, C, None], 0.38888888888888884),
    ((E, N, C), [E, E, N, N], [None, None, None, None], 0.0),
    (LABELS, ["PASS", "PASS", "PASS", "PASS"], ["PASS", "FAIL", None, "PASS"], 0.3333333333333333),
    (LABELS, ["FAIL", "PASS"], ["PASS", "PASS"], 0.3333333333333333),
])
def test_macro_f1_matches_sklearn(labels, gold, verdicts, sklearn_macro_f1):
    rows = [judged(g, v, "ok" if v else "unparsed") for g, v in zip(gold, verdicts, strict=True)]
    assert score(rows, labels, None)["macro_f1"] == pytest.approx(sklearn_macro_f1, abs=1e-12)


def test_a_predicted_class_without_support_has_f1_zero():
    m = score([judged(g, v) for g, v in zip([E, E, N, N], [E, C, N, N], strict=True)], (E, N, C), None)
    assert m["per_class"][C] == {"support": 0, "precision": 0.0, "recall": None, "f1": 0.0}


def test_truncated_rows_are_counted_apart_and_wrong():
    spec = [("PASS", "PASS", "ok", "A"), ("FAIL", None, "truncated", "A"), ("PASS", None, "truncated", "A"),
            ("FAIL", None, "unparsed", "A")]
    m = score(rows(spec), LABELS, "FAIL")
    assert (m["truncated"], m["unparsed"], m["parsed"]) == (2, 1, 1)
    assert m["accuracy"] == pytest.approx(1 / 4) and m["accuracy_parsed"] == 1.0
    assert m["confusion"]["FAIL"]["none"] == 2 and m["recall"] == 0.0
