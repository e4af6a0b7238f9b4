"""Judge cards: who made a judge, whether its weights are open, how big it is, what it is.

The card keys live in the judge files beside the reply settings but never change
a reply (``halubench.backends.CARD_KEYS``). A card is read from the run's own
record of its judge settings first (what was actually run, including judges
from ``--include-path`` folders the site builder may not see), then from the
judge file of the same name; an ad-hoc judge (``openai:gpt-4o``) has no card
and shows its id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from halubench.backends import CARD_KEYS
from halubench.config import Definition, discover
from halubench.results import StoredRun

KINDS = {"llm": "LLM", "fine-tuned": "fine-tuned judge", "classifier": "classifier", "baseline": "baseline"}
WEIGHTS = {"open": "open weights", "closed": "closed weights", "none": "no weights"}


@dataclass(frozen=True)
class JudgeCard:
    """What a reader needs to place a judge; every field but the name may be unknown (None)."""

    judge: str
    display_name: str
    provider: str | None = None
    weights: str | None = None
    parameters: str | None = None
    license: str | None = None
    url: str | None = None
    kind: str | None = None

    @property
    def facts(self) -> list[str]:
        """The card in a few words, for the line under a judge's name."""
        parts = [self.provider, KINDS.get(self.kind or ""), WEIGHTS.get(self.weights or ""),
                 f"{self.parameters} parameters" if self.parameters else None]
        return [p for p in parts if p]

    @property
    def search_text(self) -> str:
        """Everything a text search should find this judge by, lower-cased."""
        return " ".join(p for p in (self.display_name, self.judge, self.provider, self.parameters,
                                    self.license, self.kind) if p).lower()


def _card(judge: str, body: Mapping[str, Any]) -> JudgeCard:
    values = {k: (str(body[k]) if body.get(k) is not None else None) for k in CARD_KEYS}
    return JudgeCard(judge=judge, **{**values, "display_name": values["display_name"] or judge})


def judge_definitions() -> dict[str, Definition]:
    """The judge files the site builder can see (built-ins and HALUBENCH_INCLUDE_PATH)."""
    return discover("judge")


def recorded_card(run: StoredRun) -> Mapping[str, Any] | None:
    """What a run says of its judge's card: a submission's card file, else the judge settings it recorded."""
    if run.submission is not None:
        return run.submission["card"]
    return (run.summary.get("provenance") or {}).get("judge")


def card_for(judge: str, recorded: Mapping[str, Any] | None, files: Mapping[str, Definition]) -> JudgeCard:
    """The card of a measured run's judge: its recorded settings, else its judge file, else its id."""
    if recorded and any(recorded.get(k) for k in CARD_KEYS):
        return _card(judge, recorded)
    if judge in files:
        return _card(judge, files[judge].body)
    return JudgeCard(judge=judge, display_name=judge)


def card_for_reported(name: str, matches: Any, files: Mapping[str, Definition]) -> JudgeCard:
    """A paper's row keeps its printed name; kind, weights and maker come from the judge file of the
    same model (``matches(judge, model) -> bool``, a reported row's own matcher), when there is one."""
    for judge, definition in sorted(files.items()):
        if matches(judge, definition.body.get("model")):
            return replace(_card(judge, definition.body), judge=name, display_name=name)
    return JudgeCard(judge=name, display_name=name)


def kinds_present(cards: Iterable[JudgeCard]) -> list[str]:
    """The kinds to offer in a filter, in a fixed order."""
    seen = {c.kind for c in cards}
    return [k for k in KINDS if k in seen]
