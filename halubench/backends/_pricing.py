"""What a run's calls cost, synchronously or through a batch API.

A judge file gives ``price_per_million: {input, output}`` (USD per million
tokens) and, for providers with a batch API, either ``batch_price_per_million``
or ``batch_discount`` (the fraction taken off, 0.5 at OpenAI and Anthropic).
Each reply is priced in the mode that answered it (a batch run's sync fallback
pays full price). A cached reply carries the mode it was answered in (the cache
records it), so a re-run served from the cache costs what its rows cost when
they were paid for, in whatever mode the re-run was started; a reply cached
before modes were recorded is priced in the run's mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from halubench.backends._base import Reply
from halubench.backends._settings import ApiSettings, JudgeSettings


def run_mode(settings: JudgeSettings) -> str:
    return "batch" if isinstance(settings, ApiSettings) and settings.batch else "sync"


def prices(settings: JudgeSettings, mode: str) -> tuple[float, float] | None:
    """USD per million input and output tokens in ``mode``; None when the judge file has no price for it."""
    if not isinstance(settings, ApiSettings):
        return None
    sync = settings.price_per_million
    if mode == "sync":
        return (sync.input, sync.output) if sync else None
    batch = settings.batch_price_per_million
    if batch:
        return batch.input, batch.output
    if sync and settings.batch_discount is not None:
        keep = 1 - settings.batch_discount
        return sync.input * keep, sync.output * keep
    return None


def cost_usd(replies: Sequence[Reply], settings: JudgeSettings) -> float | None:
    """Total cost, or None when a mode that answered has no price (unknown, not free)."""
    default = run_mode(settings)
    tokens: dict[str, list[int]] = {}  # mode -> [input, output]
    for reply in replies:
        if reply.input_tokens is not None:
            totals = tokens.setdefault(reply.extra.get("mode", default), [0, 0])
            totals[0] += reply.input_tokens
            totals[1] += reply.output_tokens or 0
    total = None
    for mode, (input_tokens, output_tokens) in tokens.items():
        price = prices(settings, mode)
        if not price:
            return None
        cost = (input_tokens * price[0] + output_tokens * price[1]) / 1e6
        total = cost if total is None else total + cost
    return total


@dataclass(frozen=True)
class RunCost:
    """What a run's rows cost, which its records cannot say: ``usd`` (None: unknown, never free)
    and, for a run that called a judge, the mode whose prices applied and their date."""

    usd: float | None
    mode: str | None = None  # None: no judge was called (an ensemble, an import)
    prices_as_of: str | None = None


def run_cost(replies: Sequence[Reply], settings: JudgeSettings) -> RunCost:
    """A judge's run: the cost of its replies in the mode that ran, and the date of its prices."""
    sync = settings.price_per_million if isinstance(settings, ApiSettings) else None
    return RunCost(cost_usd(replies, settings), run_mode(settings), sync.as_of if sync else None)
