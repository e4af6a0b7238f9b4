"""A judged row as every stage reads it: one plain dict, the very line of a samples file.

A ``TypedDict`` rather than a class, so a record is written and read as JSON
as it is (the keys below, in this order, on disk) and typed wherever it
travels: the runner makes it (``halubench.run``), and scoring, results, the
board, the site, ensembles and the lm-eval import read it without converting it.
"""

from __future__ import annotations

from typing_extensions import NotRequired, TypedDict  # NotRequired: Python 3.11's typing


class SampleRecord(TypedDict):
    """One judged row: the sample, the judge's reply and the verdict read from it."""

    id: str
    gold: str
    verdict: str | None  # None: no verdict (``status`` says why); counted wrong
    status: str  # one of ``STATUSES``
    correct: bool
    groups: dict[str, str]  # breakdown -> group (``domain`` -> ``covidQA``)
    fields: dict[str, str]  # the texts the prompt was rendered from
    raw: str | None  # the reply's text
    reasoning: str | None  # an older results file may hold a list of strings
    members: NotRequired[dict[str, str | None]]  # an ensemble's rows: each member judge's verdict
    error: str | None
    latency_s: float | None
    input_tokens: int | None
    output_tokens: int | None
    model_version: str | None
    finish_reason: str | None
    score: NotRequired[float | None]  # the judge's probability of the first label; a judged run's rows only
    cached: bool
    cluster: NotRequired[str]  # rows of one cluster (the claims of one response) are not independent


class ScoredRow(TypedDict):
    """What scoring reads of a row: every ``SampleRecord`` is one (a TypedDict is matched by its
    keys), and so is a row judged outside a run (a RefChecker response, from its claims)."""

    gold: str
    verdict: str | None
    status: str
    groups: dict[str, str]
    cluster: NotRequired[str]
