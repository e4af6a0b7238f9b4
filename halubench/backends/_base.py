"""The one judge interface every backend implements.

The runner hands a judge the requests that the cache cannot answer and reads
replies back as an async stream, in completion order. An API client fills the
stream from many concurrent calls (``RequestJudge``); a batch engine such as
vLLM takes the whole list at once and yields as its batches finish. A judge
only calls a model: building the prompt happens before it, parsing the verdict
after it.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from halubench.backends._judge_spec import JudgeSpec

if TYPE_CHECKING:
    from halubench.data import TaskSpec


@dataclass(frozen=True)
class JudgeRequest:
    """What a judge may read: the prompt, the sample's text fields and the label set, never the gold label."""

    key: str
    messages: tuple[dict[str, str], ...]
    fields: Mapping[str, str]
    labels: tuple[str, ...]


# Stop reasons meaning "the token budget ran out", not "the model was done": OpenAI and vLLM
# ``length``, Anthropic ``max_tokens`` and ``model_context_window_exceeded``.
CUT_AT_LIMIT = frozenset({"length", "max_tokens", "model_context_window_exceeded"})


@dataclass
class Reply:
    """What came back for one request: text, or the reason there is none.

    ``error`` is set when the call failed for good (after retries) and
    ``too_long`` when the prompt does not fit the judge's context window; such
    replies are counted and reported, never scored as a verdict.
    ``finish_reason`` is the provider's own stop reason, verbatim (None where
    it gives none, and for cached replies written before it was recorded).
    ``score`` is the judge's probability of the task's first label (PASS,
    Entailment) where it gives one (classifiers; LLMs with token log-probabilities).
    """

    key: str
    text: str | None = None
    error: str | None = None
    too_long: bool = False
    latency_s: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    model_version: str | None = None
    finish_reason: str | None = None
    score: float | None = None
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.text is not None and self.error is None and not self.too_long

    @property
    def cut_off(self) -> bool:
        """An answer that is empty (a refusal, a reasoning model out of tokens) or stopped by the token limit.

        Such a reply is no final answer: it is not cached, so the next run asks
        again, and without a readable verdict its row is ``truncated``.
        """
        return self.ok and (not (self.text or "").strip() or self.finish_reason in CUT_AT_LIMIT)


class Judge(ABC):
    def __init__(self, spec: JudgeSpec):
        self.spec = spec

    @property
    def endpoint(self) -> str | None:
        """The URL this judge calls (no credentials), or None for a judge that runs in this process."""
        return None

    def config_identity(self) -> dict[str, Any]:
        """The judge's part of the run's configuration identity (``config_id``): its reply settings.

        A judge that loads a file names it by content here instead (a GGUF
        judge: the file's sha256, not its path), so copies are one configuration.
        """
        return self.spec.reply_settings()

    def cache_identity(self) -> Mapping[str, Any] | None:
        """Everything besides the prompt that determines a reply; None disables caching.

        Offline judges are instant and deterministic, so they are not cached.
        """
        return None

    def preflight(self) -> None:  # noqa: B027 - optional hook
        """Fail now, before any data is loaded, if the judge cannot run (no key, no engine)."""

    def bind_task(self, task: TaskSpec) -> None:  # noqa: B027 - optional hook
        """Learn the task before judging it (a classifier picks its input pair by the task's loader)."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open clients and load engines; called once, when the first row needs a call."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients and engines."""

    @abstractmethod
    def stream(self, requests: Sequence[JudgeRequest], concurrency: int) -> AsyncIterator[Reply]:
        """Yield one reply per request, in any order."""


class RequestJudge(Judge):
    """A judge that answers one request per call; ``stream`` bounds the calls in flight."""

    @abstractmethod
    async def complete(self, request: JudgeRequest) -> Reply:
        """One call; raise ``JudgeError`` for faults no retry can fix."""

    async def stream(self, requests: Sequence[JudgeRequest], concurrency: int) -> AsyncIterator[Reply]:
        gate = asyncio.Semaphore(max(1, concurrency))

        async def one(request: JudgeRequest) -> Reply:
            async with gate:
                started = time.perf_counter()
                reply = await self.complete(request)
                if reply.latency_s is None:
                    reply.latency_s = time.perf_counter() - started
                return reply

        tasks = [asyncio.ensure_future(one(r)) for r in requests]
        try:
            for finished in asyncio.as_completed(tasks):
                yield await finished
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
