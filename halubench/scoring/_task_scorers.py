"""A task's scoring: which metrics its records get, named by the task file's ``scorer`` key.

Every task gets the classification metrics of ``halubench.scoring``; a task
whose benchmark publishes figures of its own adds them here, from the same
records (RefChecker's claim-level tasks add the paper's response-level
agreement). The loader only turns rows into samples; it never scores.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from halubench.data import Sample, TaskSpec
from halubench.errors import ConfigError
from halubench.scoring._metrics import score_run
from halubench.scoring._sample_record import SampleRecord

Records = Sequence[SampleRecord]
Scorer = Callable[[Records, TaskSpec, Sequence[Sample]], dict[str, Any]]


def classification(records: Records, task: TaskSpec, population: Sequence[Sample]) -> dict[str, Any]:
    """Accuracy, CIs, per-class figures, overall and per breakdown group; AUROC and PR-AUC where rows have scores."""
    metrics = score_run(records, task.labels, task.positive_label, task.breakdowns)
    if any(r.get("score") is not None for r in records):  # numpy is imported for judges with scores only
        from halubench.scoring._auroc import add_ranking_metrics

        add_ranking_metrics(metrics, records, task.positive_label, task.breakdowns)
    return metrics


def refchecker_claims(records: Records, task: TaskSpec, population: Sequence[Sample]) -> dict[str, Any]:
    """Classification metrics plus RefChecker's response-level agreement with the human labels.

    ``population`` is every claim the task has before ``--limit`` / ``--domain``,
    so a response only part of whose claims were judged is recognised and skipped.
    """
    from halubench.scoring._refchecker_agreement import agreement

    metrics = classification(records, task, population)
    metrics.update(agreement(records, Counter(s.cluster for s in population)))
    return metrics


SCORERS: dict[str, Scorer] = {"classification": classification, "refchecker-claims": refchecker_claims}


def scorer_for(task: TaskSpec) -> Scorer:
    try:
        return SCORERS[task.scorer]
    except KeyError:
        known = ", ".join(sorted(SCORERS))
        raise ConfigError(f"{task.source}: unknown scorer {task.scorer!r}; known: {known}") from None
