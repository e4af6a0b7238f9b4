"""Judges that need no model and no network: floors and a transparent heuristic.

They answer in the same JSON the Lynx prompt asks a model for, so their replies
go through the same parse and score path as any model judge's. Label roles
follow the order of the task's ``doc_to_choice``: first = supported (PASS,
Entailment), last = contradicted (FAIL, Contradiction), a middle one = not
enough information (Neutral).
"""

from __future__ import annotations

import json
import random
import re

from halubench.backends._base import JudgeRequest, Reply, RequestJudge
from halubench.errors import ConfigError


def _reply(request: JudgeRequest, verdict: str, reasons: list[str]) -> Reply:
    text = json.dumps({"REASONING": reasons, "SCORE": verdict}, ensure_ascii=False)
    return Reply(request.key, text=text, latency_s=0.0)


class ConstantJudge(RequestJudge):
    """Always the same verdict: the floor a real judge must beat on imbalanced data."""

    async def complete(self, request: JudgeRequest) -> Reply:
        verdict = self.spec.settings.verdict
        if verdict not in request.labels:
            raise ConfigError(
                f"judge {self.spec.name} always answers {verdict!r}, which this task does not "
                f"accept (labels: {', '.join(request.labels)}); pick another constant judge"
            )
        return _reply(request, verdict, [f"constant judge: always {verdict}"])


class RandomJudge(RequestJudge):
    """A uniform coin per row, seeded by the judge's seed and the row id (order-free)."""

    async def complete(self, request: JudgeRequest) -> Reply:
        seed = self.spec.settings.seed
        verdict = random.Random(f"{seed}:{request.key}").choice(request.labels)
        return _reply(request, verdict, [f"random judge (seed {seed})"])


_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?")
_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being
    it its this that these those there their they them he she his her him we our you your i
    not no yes do does did has have had will would can could should may might than then so
    such which who whom whose what when where why how all any some each also about into over
    after before between during per via more most less very only just""".split()
)


def _stem(word: str) -> str:
    word = word.lower().strip("'’-")
    for suffix in ("'s", "’s"):
        word = word.removesuffix(suffix)
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _numbers(text: str) -> set[str]:
    out = set()
    for match in _NUMBER.findall(text):
        value = match.replace(",", "").lstrip("+")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        out.add(value)
    return out


def _content_words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text) if w.lower() not in _STOPWORDS and len(w) > 1}


def lexical_verdict(
    answer: str, evidence: str, labels: tuple[str, ...], threshold: float
) -> tuple[str, list[str]]:
    """Numbers the evidence lacks mean contradiction; too few supported words, no support."""
    missing_numbers = sorted(_numbers(answer) - _numbers(evidence))
    if missing_numbers:
        return labels[-1], [f"numbers not in the document: {', '.join(missing_numbers)}"]
    words = _content_words(answer)
    if not words:
        return labels[0], ["no content words to check"]
    unsupported = sorted(words - _content_words(evidence))
    coverage = 1 - len(unsupported) / len(words)
    reasons = [f"{coverage:.0%} of the answer's content words appear in the document"]
    if coverage >= threshold:
        return labels[0], reasons
    reasons.append(f"unsupported words: {', '.join(unsupported[:12])}")
    return labels[1] if len(labels) > 2 else labels[-1], reasons


class LexicalJudge(RequestJudge):
    """A grounding heuristic anyone can audit; a floor that uses the passage."""

    async def complete(self, request: JudgeRequest) -> Reply:
        fields = request.fields
        try:
            answer, passage = fields["answer"], fields["passage"]
        except KeyError as missing:
            raise ConfigError(f"the lexical judge needs a {missing} field in every sample") from None
        evidence = f"{passage}\n{fields.get('question', '')}"
        verdict, reasons = lexical_verdict(answer, evidence, request.labels, self.spec.settings.threshold)
        return _reply(request, verdict, reasons)
