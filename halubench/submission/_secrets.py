"""API-key-shaped strings: a submission is published whole, so none may be in it.

The shapes are the providers' documented key prefixes: OpenAI's ``sk-`` (project
keys ``sk-proj-``, service accounts ``sk-svcacct-``), Anthropic's ``sk-ant-``,
AWS access key ids (``AKIA`` / ``ASIA`` and 16 capitals or digits), Hugging Face
user tokens (``hf_``) and GitHub tokens (``ghp_`` and kin, ``github_pat_``).
A shape is matched only as a whole word, so ``risk-adjusted`` or ``desk-top``
never is. A match is reported by file, line and kind, with the key masked: the
report itself is published.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_BEFORE = r"(?<![A-Za-z0-9_-])"
KEY_SHAPES = (  # (kind, pattern); the first that matches names the kind (Anthropic's keys start with sk- too)
    ("Anthropic API key", re.compile(_BEFORE + r"sk-ant-[A-Za-z0-9_-]{20,}")),
    ("OpenAI API key", re.compile(_BEFORE + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")),
    ("AWS access key id", re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")),
    ("Hugging Face token", re.compile(_BEFORE + r"hf_[A-Za-z0-9]{30,}")),
    ("GitHub token", re.compile(_BEFORE + r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})")),
)


@dataclass(frozen=True)
class KeyShape:
    """Where a key-shaped string is: 1-based line, its kind, and the key masked (first 6 characters kept)."""

    line: int
    kind: str
    masked: str


def find_key(lines: Iterable[str]) -> KeyShape | None:
    """The first API-key-shaped string in ``lines``, or None."""
    for number, line in enumerate(lines, start=1):
        for kind, pattern in KEY_SHAPES:
            found = pattern.search(line)
            if found:
                return KeyShape(number, kind, found.group()[:6] + "…")
    return None
