"""From a judge's raw reply to a verdict, or to "unparsed" with the text kept.

Judges wrap their JSON in code fences, put a preamble before it, write the keys
in any case, or (Lynx 8B) run past their stop token into a second object. The
parser reads, in this order:

1. the first complete JSON (or Python-literal) object that has a score key: it
   decides, and a value that is not exactly one label ("PASS/FAIL") is no verdict;
2. a reply that is nothing but a label ("Contradiction", RefChecker's checker);
3. key mentions (``SCORE: PASS``, ``**Verdict:** FAIL``, or the keys of a JSON
   reply cut off before its closing brace). Text inside a JSON string is prose,
   not a key, so a truncated reply's reasoning cannot outvote its ``"SCORE"``.
   Keys are whole words ("Underscore:" is none); a value followed by ``/``,
   ``or`` or another label is no verdict; mentions that disagree leave the
   reply unparsed, and when they agree the final one stands.

Anything else is unparsed: an ambiguous reply is never guessed into a verdict.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SCORE_KEYS = ("score", "verdict", "label")
_DECORATION = "*_\"'` \t"  # markdown emphasis, quotes, code ticks around a key or a value
_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)
# A key mentioned in prose: a whole word, then ":" or "=" (decoration allowed around the key).
_PROSE_KEY = re.compile(r"(?<![\w-])(?:score|verdict|label)(?![\w-])[*_\"'`]*[ \t]*[:=][*_`]*\s*(?P<value>[^\n]*)",
                        re.IGNORECASE)
_JSON_START = re.compile(r"\{\s*[\"']")
_STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""", re.DOTALL)
# What, right after a value, makes it one option among several rather than a choice.
_ALTERNATIVE = re.compile(r"[/|\\]|(?:or|and|vs\.?|versus|nor)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedVerdict:
    verdict: str | None
    reasoning: str | None = None

    @property
    def parsed(self) -> bool:
        return self.verdict is not None


def _match_label(value: Any, labels: tuple[str, ...]) -> str | None:
    """``value`` is exactly one label, give or take case, decoration and final punctuation."""
    if not isinstance(value, str):
        return None
    cleaned = value.strip().strip(".!" + _DECORATION + "\n").lower()
    for label in labels:
        if cleaned == label.lower():
            return label
    return None


def _objects(text: str) -> Iterator[dict[str, Any]]:
    """Every complete JSON (or Python-literal) object in ``text``, in order of appearance."""
    decoder = json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value = _literal_object(text, start)
        if isinstance(value, dict):
            yield value


def _literal_object(text: str, start: int) -> Any:
    """Single-quoted dicts (``{'SCORE': 'PASS'}``) that some models print."""
    depth = 0
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            try:
                return ast.literal_eval(text[start : end + 1])
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                return None
    return None


def _reasoning(obj: dict[str, Any]) -> str | None:
    for key, value in obj.items():
        if key.lower() in ("reasoning", "reason", "explanation"):
            if isinstance(value, list):
                return "\n".join(str(v) for v in value)
            return str(value)
    return None


def _object_verdict(text: str, labels: tuple[str, ...]) -> ParsedVerdict | None:
    """The first complete object with a score key decides; None when there is no such object."""
    for candidate in [*_FENCE.findall(text), text]:
        for obj in _objects(candidate):
            values = [v for k, v in obj.items() if str(k).lower() in SCORE_KEYS]
            if not values:
                continue
            # A numeric "score" beside a "label" is a confidence, not a second opinion.
            votes = [_match_label(v, labels) for v in values if isinstance(v, str)]
            agreed = votes[0] if votes and all(v == votes[0] for v in votes) else None
            return ParsedVerdict(agreed, _reasoning(obj))
    return None


def _prose_vote(value: str, labels: tuple[str, ...]) -> str | None:
    """The label a key mention's value (the rest of its line) names, or None when it is no clear choice."""
    words = "|".join(re.escape(label) for label in labels)
    found = re.match(rf"[{_DECORATION}]*({words})(?![\w-])", value, re.IGNORECASE)
    if found is None:
        return None
    rest = value[found.end() :].lstrip(_DECORATION)
    if _ALTERNATIVE.match(rest) or re.match(rf"[,;]?[{_DECORATION}]*(?:{words})(?![\w-])", rest, re.IGNORECASE):
        return None
    return _match_label(found.group(1), labels)


def _prose_votes(text: str, labels: tuple[str, ...]) -> list[str | None]:
    return [_prose_vote(m.group("value"), labels) for m in _PROSE_KEY.finditer(text)]


def _json_tokens(text: str) -> Iterator[tuple[bool, str]]:
    """``text`` as (is_string, piece): quoted strings (contents only) and the structure between them.

    A string left open by truncation runs to the end of the text, so none of
    its words can be read as a key.
    """
    position = 0
    while position < len(text):
        quote = min((i for i in (text.find('"', position), text.find("'", position)) if i >= 0), default=-1)
        if quote < 0:
            yield False, text[position:]
            return
        if quote > position:
            yield False, text[position:quote]
        string = _STRING.match(text, quote)
        if string is None:
            yield True, text[quote + 1 :]
            return
        yield True, string.group()[1:-1]
        position = string.end()


def _json_votes(text: str, labels: tuple[str, ...]) -> list[str | None]:
    """Score keys of a JSON reply with no complete object (cut off at the token limit), in order.

    Only a quoted key followed by ":" counts; a number (a confidence) or a nested value is no vote.
    """
    tokens = list(_json_tokens(text))
    votes: list[str | None] = []
    for index, (is_string, piece) in enumerate(tokens):
        if not is_string:
            votes += _prose_votes(piece, labels)
            continue
        if piece.strip().lower() not in SCORE_KEYS or index + 1 >= len(tokens):
            continue
        after_is_string, after = tokens[index + 1]
        if after_is_string or not after.lstrip().startswith(":"):
            continue
        value = after.lstrip()[1:].strip()
        if not value and index + 2 < len(tokens):  # the gap ends where the quoted value begins
            votes.append(_match_label(tokens[index + 2][1], labels))
        elif value[:1].isalpha():  # an unquoted word: "SCORE": PASS
            votes.append(_match_label(re.split(r"[\s,}\]]", value)[0], labels))
    return votes


def _mentioned_verdict(text: str, labels: tuple[str, ...]) -> str | None:
    """The verdict all key mentions agree on (the final one), or None."""
    start = _JSON_START.search(text)
    if start is None:
        votes = _prose_votes(text, labels)
    else:
        votes = _prose_votes(text[: start.start()], labels) + _json_votes(text[start.start() :], labels)
    if not votes or any(v is None or v != votes[-1] for v in votes):
        return None
    return votes[-1]


def parse_verdict(text: str | None, labels: tuple[str, ...]) -> ParsedVerdict:
    if not text or not text.strip():
        return ParsedVerdict(None)
    from_object = _object_verdict(text, labels)
    if from_object is not None:
        return from_object
    bare = _match_label(text, labels)
    if bare:
        return ParsedVerdict(bare)
    return ParsedVerdict(_mentioned_verdict(text, labels))
