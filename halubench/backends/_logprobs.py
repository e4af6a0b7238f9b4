"""An LLM judge's score from token log-probabilities: the probability mass on PASS vs FAIL at the verdict.

A chat judge writes its verdict as text (``"SCORE": "PASS"``), but the model
also ranked the alternatives at that token. Where the API returns the top
log-probabilities of each generated token (OpenAI's ``logprobs`` /
``top_logprobs``, vLLM's ``logprobs``), the score is the share of the task's
first label (PASS, Entailment) in the mass of all labels at the verdict token,
which turns a label into a ranking and so gives the judge an AUROC.

The verdict token is the one where the verdict value begins: just after the
first score key (``SCORE:``, ``"score": "``) followed by a label, or, for a
bare-label reply, the first token that begins a label. An alternative counts for a label when its text,
without spaces and quotes, is a non-empty beginning of that label and of no
other (``P``, ``PA``, ``PASS`` for PASS). No such token, or no mass on any
label: no score, never a guess.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

_SCORE_KEY = re.compile(r"""["']?(?:score|verdict)["']?\s*[:=]\s*["']?""", re.IGNORECASE)


@dataclass(frozen=True)
class TokenChoice:
    """One generated token and the alternatives the API returned for its position."""

    text: str
    top: Sequence[tuple[str, float]]  # (token text, log-probability)


def _label_of(token: str, labels: Sequence[str]) -> str | None:
    cleaned = token.strip().strip("\"'").upper()
    if not cleaned:
        return None
    matches = [label for label in labels if label.upper().startswith(cleaned)]
    return matches[0] if len(matches) == 1 else None


def _token_at(tokens: Sequence[TokenChoice], offset: int) -> int | None:
    """The first token with text (not just spaces or quotes) at or after character ``offset``."""
    start = 0
    for index, token in enumerate(tokens):
        end = start + len(token.text)
        if end > offset and token.text[max(0, offset - start):].strip(" \"'"):
            return index
        start = end
    return None


def _verdict_position(tokens: Sequence[TokenChoice], labels: Sequence[str]) -> int | None:
    """After the first score key whose value is a label; else the first token that begins a label."""
    text = "".join(t.text for t in tokens)
    for key in _SCORE_KEY.finditer(text):
        index = _token_at(tokens, key.end())
        if index is not None and _label_of(tokens[index].text, labels):
            return index
    return next((i for i, t in enumerate(tokens) if _label_of(t.text, labels)), None)


def first_label_probability(tokens: Sequence[TokenChoice], labels: Sequence[str]) -> float | None:
    """P(first label) among the labels at the verdict token, or None where it cannot be read."""
    position = _verdict_position(tokens, labels)
    if position is None:
        return None
    mass = dict.fromkeys(labels, 0.0)
    seen: set[str] = set()
    for text, logprob in tokens[position].top:
        label = _label_of(text, labels)
        if label is not None and text not in seen:
            seen.add(text)
            mass[label] += math.exp(logprob)
    total = sum(mass.values())
    return mass[labels[0]] / total if total > 0 else None
