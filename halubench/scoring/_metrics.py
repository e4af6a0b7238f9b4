"""Metrics over judged rows (``SampleRecord``s, read as they are), overall and per breakdown group.

Conventions (the HaluBench paper's): a row whose reply could not be parsed
(or was empty or cut off at the token limit: ``truncated``), whose call failed,
or whose prompt did not fit the context window stays in the denominator and
counts as wrong. ``accuracy_parsed`` is reported beside it for
readers who want the other view. With a positive label (FAIL: hallucination),
precision, recall and F1 are for that class; a row with no verdict can still
be a missed hallucination (recall) but never a false alarm (precision).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from halubench.scoring._intervals import clustered_wilson_interval, wilson_interval
from halubench.scoring._sample_record import ScoredRow

STATUSES = ("ok", "unparsed", "truncated", "error", "too_long")
NO_VERDICT = "none"  # confusion-matrix column for rows without a verdict


def _interval(rows: Sequence[ScoredRow], correct: int) -> tuple[float, float]:
    if not any(r.get("cluster") for r in rows):
        return wilson_interval(correct, len(rows))
    clusters: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for index, r in enumerate(rows):
        tally = clusters[r.get("cluster") or f"row {index}"]
        tally[0] += r["verdict"] == r["gold"]
        tally[1] += 1
    return clustered_wilson_interval([(s, m) for s, m in clusters.values()])


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    """As sklearn: 0 for a class that was never predicted or has no support, None for one absent on both sides."""
    if precision is None and recall is None:
        return None
    if not precision or not recall:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def score(rows: Sequence[ScoredRow], labels: Sequence[str], positive: str | None) -> dict[str, Any]:
    n = len(rows)
    status = Counter(r["status"] for r in rows)
    correct = sum(1 for r in rows if r["verdict"] == r["gold"])
    parsed = status["ok"]
    low, high = _interval(rows, correct)
    confusion = {g: {p: 0 for p in [*labels, NO_VERDICT]} for g in labels}
    for r in rows:
        confusion[r["gold"]][r["verdict"] or NO_VERDICT] += 1
    per_class: dict[str, dict[str, float | int | None]] = {}
    for label in labels:
        tp = confusion[label][label]
        support = sum(confusion[label].values())
        predicted = sum(confusion[g][label] for g in labels)
        precision, recall = _ratio(tp, predicted), _ratio(tp, support)
        per_class[label] = {
            "support": support,
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
        }
    recalls = [c["recall"] for c in per_class.values() if c["recall"] is not None]
    # sklearn's f1_score(average="macro") over the labels seen in gold or in verdicts.
    f1s = [c["f1"] for c in per_class.values() if c["f1"] is not None]
    metrics: dict[str, Any] = {
        "n": n,
        "correct": correct,
        "accuracy": _ratio(correct, n),
        "accuracy_ci95": [low, high],
        "accuracy_parsed": _ratio(correct, parsed),
        "parsed": parsed,
        "unparsed": status["unparsed"],
        "truncated": status["truncated"],
        "errors": status["error"],
        "too_long": status["too_long"],
        "balanced_accuracy": sum(recalls) / len(recalls) if recalls else None,
        "macro_f1": sum(f1s) / len(f1s) if f1s else None,
        "per_class": per_class,
        "confusion": confusion,
    }
    if positive is not None:
        metrics.update(
            precision=per_class[positive]["precision"],
            recall=per_class[positive]["recall"],
            f1=per_class[positive]["f1"],
        )
    return metrics


def score_run(
    rows: Sequence[ScoredRow], labels: Sequence[str], positive: str | None, breakdowns: Iterable[str]
) -> dict[str, Any]:
    """``overall`` plus ``by_<breakdown>`` tables; overall adds the unweighted group mean.

    The first breakdown (HaluBench's domain) gives ``domain_macro_accuracy``,
    the paper's "Overall": each domain weighs the same whatever its size.
    """
    metrics: dict[str, Any] = {"overall": score(rows, labels, positive)}
    for index, breakdown in enumerate(breakdowns):
        groups: dict[str, list[ScoredRow]] = defaultdict(list)
        for row in rows:
            groups[row["groups"].get(breakdown, "")].append(row)
        table = {name: score(members, labels, positive) for name, members in sorted(groups.items())}
        metrics[f"by_{breakdown}"] = table
        if index == 0:
            accuracies = [m["accuracy"] for m in table.values() if m["accuracy"] is not None]
            metrics["overall"][f"{breakdown}_macro_accuracy"] = (
                sum(accuracies) / len(accuracies) if accuracies else None
            )
    return metrics
