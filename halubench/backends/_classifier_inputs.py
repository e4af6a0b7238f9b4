"""What a classifier judge reads: a (premise, hypothesis) pair per row, in chunks that fit its window.

Cross-encoders and MiniCheck-style scorers take two texts, not a chat prompt,
so the pair is built from the row's fields, by the kind of task:

* HaluBench rows (and any task with the ``halubench`` loader): premise = the
  passage, hypothesis = the question and the answer joined by one space. The
  answer alone is often a fragment ("1995", "Yes") that means nothing without
  its question, so the question goes in too.
* RefChecker claims: premise = the reference, hypothesis = the claim triplet
  as plain words ("subject predicate object"), as RefChecker's NLI checker
  reads it.
* RefChecker responses: premise = the reference, hypothesis = the response.

A premise longer than the model's window is never truncated or dropped: it is
cut into overlapping windows of tokens, each judged with the whole hypothesis,
and the row's support is the maximum over windows (MiniCheck's rule: a claim is
supported when some part of the document supports it). Windows are cut at
token boundaries of the premise and mapped back to character spans, so each
chunk is a substring of the passage.

A hypothesis that leaves the passage no room (a long FinanceBench answer in a
512-token window) is judged sentence by sentence instead: each sentence
against the passage's windows, and the row's support is the minimum over
sentences of that maximum over windows (the rule MiniCheck and LLM-AggreFact
use for a claim of several sentences: it holds when every sentence does). A
HaluBench sentence keeps the question in front of it, since an answer's
sentence, like the answer, means little without it. Only a single sentence
(with its question) too long for the window leaves a row too long.

Sentences are cut simply (``split_sentences``), with no language model: at a
line break, and after ``.``, ``!`` or ``?`` (and any closing quote or bracket)
followed by a space and a capital, a digit or an opening quote. A piece under
four words ("No.", "The U.S.") joins the next one, so a bare list marker or an
abbreviation cut off is judged in its sentence. A wrong cut costs a sentence
some context; it never drops text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from halubench.errors import ConfigError

# Hypothesis per task loader; anything else is read like HaluBench.
HYPOTHESIS_BY_LOADER = {"refchecker-claims": "claim", "refchecker-responses": "response"}
ROLES = ("entailment", "neutral", "contradiction", "not_entailment")
# Names models give their classes in id2label, lower-cased, -> the role they play.
ROLE_ALIASES = {
    **dict.fromkeys(("entailment", "entail", "entailed", "supported", "support", "consistent", "faithful",
                     "factual", "pass", "true", "yes"), "entailment"),
    **dict.fromkeys(("neutral",), "neutral"),
    **dict.fromkeys(("contradiction", "contradict", "contradicted", "refuted"), "contradiction"),
    **dict.fromkeys(("not_entailment", "not entailment", "non_entailment", "unsupported", "not_supported",
                     "inconsistent", "hallucinated", "hallucination", "fail", "false", "no"), "not_entailment"),
}


MIN_SENTENCE_WORDS = 4  # a shorter piece joins the next sentence
_SENTENCE_END = re.compile(r"""[.!?]["'\u201d\u2019)\]]*(?=\s+["'\u201c\u2018(\[]?[A-Z0-9])""")


@dataclass(frozen=True)
class Pair:
    """``sentences``: the hypothesis as one hypothesis per sentence, judged one by one when the whole leaves
    the passage no room; empty when it has a single sentence (nothing to split)."""

    premise: str
    hypothesis: str
    sentences: tuple[str, ...] = ()


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, by the simple rule of the module's docstring; every word kept, in order."""
    pieces = []
    for line in text.splitlines():
        start = 0
        for end in (m.end() for m in _SENTENCE_END.finditer(line)):
            pieces.append(line[start:end].strip())
            start = end
        pieces.append(line[start:].strip())
    sentences: list[str] = []
    carried = ""
    for piece in filter(None, pieces):
        piece = f"{carried} {piece}" if carried else piece
        carried = piece if len(piece.split()) < MIN_SENTENCE_WORDS else ""
        if not carried:
            sentences.append(piece)
    if carried:  # short text at the end joins the sentence before it
        if sentences:
            sentences[-1] = f"{sentences[-1]} {carried}"
        else:
            sentences.append(carried)
    return sentences


def render_pair(fields: Mapping[str, str], rule: str) -> Pair:
    """The (premise, hypothesis) a classifier sees for one row; ``rule`` comes from ``hypothesis_rule``."""
    try:
        premise = fields["passage"]
        if rule in ("claim", "response"):  # the claim loader's answer is the triplet as plain words
            hypothesis = fields["answer"]
            units = split_sentences(hypothesis) if rule == "response" else []
        else:
            question = fields.get("question", "")
            hypothesis = " ".join(part.strip() for part in (question, fields["answer"]) if part)
            units = [f"{question.strip()} {s}".lstrip() for s in split_sentences(fields["answer"])]
    except KeyError as missing:
        raise ConfigError(f"a classifier judge needs a {missing} field in every sample") from None
    return Pair(premise, hypothesis, tuple(units) if len(units) > 1 else ())


def hypothesis_rule(loader: str) -> str:
    return HYPOTHESIS_BY_LOADER.get(loader, "question_answer")


def label_roles(id2label: Mapping[int, str], overrides: Mapping[int, str] | None, model: str) -> list[str]:
    """The role (entailment, neutral, contradiction, not_entailment) of each output class, in class order.

    ``overrides`` (the judge setting ``labels``: class index -> role or label
    name) wins over the model's ``id2label``. A model whose classes are just
    ``LABEL_0``/``LABEL_1`` must be told, since guessing would silently flip
    every verdict.
    """
    names = {int(k): str(v) for k, v in id2label.items()}
    names.update(overrides or {})
    roles = []
    for index in range(len(names)):
        role = ROLE_ALIASES.get(names.get(index, "").strip().lower())
        if role is None:
            shown = ", ".join(f"{i}: {n}" for i, n in sorted(names.items()))
            raise ConfigError(
                f"judge {model}: cannot tell what class {index} ({names.get(index)!r}) means (classes {shown}); "
                f"name each class, e.g. --judge-arg labels.{index}=entailment "
                f"(roles: {', '.join(ROLES)})"
            )
        roles.append(role)
    two_way = len(roles) == 2 and "entailment" in roles and len(set(roles)) == 2 and "neutral" not in roles
    three_way = sorted(roles) == ["contradiction", "entailment", "neutral"]
    if not (two_way or three_way):
        raise ConfigError(f"judge {model}: classes {roles} are neither two-way (entailment and not) nor "
                          f"three-way (entailment, neutral, contradiction)")
    return roles


def chunk_spans(
    offsets: Sequence[tuple[int, int]], text_length: int, budget: int, overlap: int
) -> list[tuple[int, int]]:
    """Character spans of overlapping windows of at most ``budget`` premise tokens.

    ``offsets`` are the premise's token offsets (fast tokenizers give them).
    Consecutive windows share ``overlap`` tokens, so a sentence cut by one
    window boundary is whole in the next window.
    """
    if len(offsets) <= budget:
        return [(0, text_length)]
    stride = max(1, budget - min(overlap, budget // 2))
    spans = []
    for start in range(0, len(offsets), stride):
        end = min(start + budget, len(offsets))
        spans.append((offsets[start][0] if start else 0, offsets[end - 1][1] if end < len(offsets) else text_length))
        if end == len(offsets):
            break
    return spans
