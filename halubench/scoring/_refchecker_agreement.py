"""RefChecker's own response-level figures from claim-level verdicts, so results compare with the paper.

The paper (benchmark/evaluation/corr.py) rolls claim labels up per response:
per setting, pooling six responders (davinci001 is left out), over responses
with at least one human triplet, a response is factual when all its claims are
Entailment. It reports accuracy and the F1 of the factual and of the
non-factual class, and the Pearson and Spearman correlations between the
human and the checker's per-response share of non-Entailment claims.

Two points corr.py never meets: a claim the judge gave no verdict leaves its
response without a prediction, unless another claim already makes it
non-factual (such responses count as wrong, as everywhere in halubench, and are
left out of the correlations); a response only part of whose claims were
selected (``--limit``) is skipped and counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from halubench.data.refchecker import RESPONDERS
from halubench.scoring._metrics import score
from halubench.scoring._sample_record import SampleRecord, ScoredRow

PAPER_RESPONDERS = tuple(r for r in RESPONDERS if r != "davinci001")
CLASSES = ("factual", "non-factual")
SUPPORTED = "Entailment"


def _rate(labels: Sequence[str]) -> float:
    return sum(label != SUPPORTED for label in labels) / len(labels)


def _correlation(gold: list[float], predicted: list[float], ranks: bool) -> float | None:
    """Spearman is Pearson on average ranks (scipy's definition); None when undefined."""
    import pandas as pd  # here, not at the top: scoring is imported by every run, RefChecker's or not

    first, second = pd.Series(gold, dtype=float), pd.Series(predicted, dtype=float)
    if ranks:
        first, second = first.rank(), second.rank()
    value = first.corr(second) if len(first) > 1 else float("nan")
    return None if pd.isna(value) else float(value)


def _setting_figures(responses: list[tuple[list[str], list[str | None]]]) -> dict[str, Any]:
    judged: list[ScoredRow] = []
    gold_rates, predicted_rates = [], []
    for gold, verdicts in responses:
        gold_class = CLASSES[0] if all(g == SUPPORTED for g in gold) else CLASSES[1]
        known = [v for v in verdicts if v is not None]
        if any(v != SUPPORTED for v in known):
            predicted = CLASSES[1]
        elif len(known) < len(verdicts):
            predicted = None
        else:
            predicted = CLASSES[0]
        judged.append({"gold": gold_class, "verdict": predicted, "status": "ok" if predicted else "unparsed",
                       "groups": {}})
        if len(known) == len(verdicts):
            gold_rates.append(_rate(gold))
            predicted_rates.append(_rate(known))
    metrics = score(judged, CLASSES, None)
    per_class = metrics["per_class"]
    return {
        "responses": len(judged),
        "gold_factual": per_class[CLASSES[0]]["support"],
        "no_prediction": metrics["n"] - metrics["parsed"],
        "accuracy": metrics["accuracy"],
        "factual_f1": per_class[CLASSES[0]]["f1"],
        "non_factual_f1": per_class[CLASSES[1]]["f1"],
        "macro_f1": metrics["macro_f1"],
        "pearson": _correlation(gold_rates, predicted_rates, ranks=False),
        "spearman": _correlation(gold_rates, predicted_rates, ranks=True),
        "correlated_responses": len(gold_rates),
    }


def agreement(records: Sequence[SampleRecord], claims_per_response: Mapping[str, int]) -> dict[str, Any]:
    """``refchecker_agreement`` for a results summary, from claim-level records.

    A record's ``cluster`` is its response (``<setting>/<responder>/<item id>``);
    ``claims_per_response`` says how many claims each response has in all.
    """
    grouped: dict[str, list[SampleRecord]] = defaultdict(list)
    for record in records:
        if record["groups"]["responder"] in PAPER_RESPONDERS:
            grouped[record["cluster"]].append(record)
    by_setting: dict[str, list[tuple[list[str], list[str | None]]]] = defaultdict(list)
    incomplete: dict[str, int] = defaultdict(int)
    for response, claims in grouped.items():
        setting = claims[0]["groups"]["setting"]
        if len(claims) < claims_per_response[response]:
            incomplete[setting] += 1
            continue
        by_setting[setting].append(([c["gold"] for c in claims], [c["verdict"] for c in claims]))
    settings = sorted(set(by_setting) | set(incomplete))
    return {
        "refchecker_agreement": {
            "responders": list(PAPER_RESPONDERS),
            "by_setting": {
                name: {**_setting_figures(by_setting[name]), "incomplete_responses": incomplete[name]}
                for name in settings
            },
        }
    }
