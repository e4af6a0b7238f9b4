"""From a judge's raw reply to a verdict, or to "unparsed" with the text kept.

Judges wrap their JSON in code fences, put a preamble before it, write the keys
in any case, or (Lynx 8B) emit a second object after the first. The parser takes
the first JSON object that carries a score key; failing that, a reply that is
nothing but a label ("Contradiction", RefChecker's checker format) or a bare
``SCORE: PASS`` line. Anything else is unparsed: never guessed into a verdict.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

SCORE_KEYS = ("score", "verdict", "label")
_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.DOTALL)
_KEY_LINE = re.compile(r"""["']?(?:score|verdict)["']?\s*[:=]\s*["']?([A-Za-z]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedVerdict:
    verdict: str | None
    reasoning: str | None = None

    @property
    def parsed(self) -> bool:
        return self.verdict is not None


def _match_label(value: Any, labels: tuple[str, ...]) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = value.strip().strip(".!*\"' ").lower()
    for label in labels:
        if cleaned == label.lower():
            return label
    return None


def _objects(text: str):
    """Every JSON (or Python-literal) object in ``text``, in order of appearance."""
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


def parse_verdict(text: str | None, labels: tuple[str, ...]) -> ParsedVerdict:
    if not text or not text.strip():
        return ParsedVerdict(None)
    fenced = _FENCE.findall(text)
    for candidate in [*fenced, text]:
        for obj in _objects(candidate):
            for key, value in obj.items():
                if key.lower() in SCORE_KEYS:
                    verdict = _match_label(value, labels)
                    if verdict:
                        return ParsedVerdict(verdict, _reasoning(obj))
    bare = _match_label(text, labels)
    if bare:
        return ParsedVerdict(bare)
    lines = _KEY_LINE.findall(text)
    for value in lines:
        verdict = _match_label(value, labels)
        if verdict:
            return ParsedVerdict(verdict)
    return ParsedVerdict(None)
