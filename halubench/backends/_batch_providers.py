"""The two providers' batch APIs behind one small interface, through the official SDKs.

A ``BatchApi`` turns a judge's request into one line of a batch, submits lines,
reads a batch's state and reads its results back as ``ItemResult``s: a
completion, or a ``Fault`` classified by the same rules as a synchronous call
(``retry.classify_status``), so a context-length error inside a batch is
``too_long`` and an auth error stops the run, exactly as it would without
batches.

- OpenAI (and any OpenAI-compatible server with ``/v1/batches``): a JSONL file
  of ``/v1/chat/completions`` requests keyed by ``custom_id``, uploaded with
  ``files.create(purpose="batch")``, then ``batches.create`` /
  ``batches.retrieve`` and the output and error files.
- Anthropic: ``messages.batches.create`` / ``retrieve`` / ``results``.

``find`` looks for a batch that a run created and did not live to record (see
``ReplyCache.claim_batch``), in the provider's list of batches, newest first:
an OpenAI batch carries the intent's marker in its ``metadata``; an Anthropic
message batch has no metadata, so the match is the one batch of the intent's
size created within the create call's time (and not recorded already). Should
that be another client's batch after all, none of its results carries this
run's custom ids, so the rows come back as failed items and are sent again: a
delay, never a row paid twice.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from halubench.backends._api_judge import ApiJudge, Completion, error_message
from halubench.backends._base import JudgeRequest
from halubench.backends._cache import BatchIntent
from halubench.backends._retry import Fault, classify_status

# Anthropic reports an errored batch item by error type, not HTTP status; these are the
# statuses the same error has on the synchronous API, so one classifier serves both.
# Uploading a 200 MB batch file or reading a large output file takes longer than one completion.
TRANSFER_TIMEOUT_S = 900.0
ANTHROPIC_ERROR_STATUS = {
    "invalid_request_error": 400, "authentication_error": 401, "billing_error": 402,
    "permission_error": 403, "not_found_error": 404, "request_too_large": 413,
    "rate_limit_error": 429, "api_error": 500, "timeout_error": 504, "overloaded_error": 529,
}


GONE = "not found at the provider"
# Between this machine's clock and the provider's, and between an intent and the create it announces.
CLOCK_SKEW_S = 300.0
# The metadata key an OpenAI batch carries its intent's marker under.
MARKER_KEY = "halubench_intent"


@dataclass(frozen=True)
class BatchState:
    """Where a batch stands, in the provider's words and as counts common to both."""

    batch_id: str
    status: str
    ended: bool
    total: int
    done: int
    failed: int


@dataclass(frozen=True)
class ItemResult:
    custom_id: str
    completion: Completion | None = None
    fault: Fault | None = None


class BatchApi(ABC):
    name: str  # the provider, as recorded in the cache's batch table
    max_requests: int  # the provider's limit per batch
    max_bytes: int

    def __init__(self, judge: ApiJudge):
        self.judge = judge

    def body(self, request: JudgeRequest) -> dict[str, Any]:
        """The request body a synchronous call would send: every generation setting flat in the body."""
        kwargs = dict(self.judge.call_kwargs)
        extra = kwargs.pop("extra_body", {})
        return {"model": self.judge.spec.model, "messages": list(request.messages), **kwargs, **extra}

    @abstractmethod
    def line(self, custom_id: str, request: JudgeRequest) -> dict[str, Any]:
        """One request as the provider wants it in a batch."""

    @abstractmethod
    async def submit(self, lines: list[dict[str, Any]], marker: str) -> str:
        """Create a batch (marked as ``marker`` where the provider keeps metadata); its id."""

    @abstractmethod
    async def find(self, intent: BatchIntent, recorded: set[str]) -> str | None:
        """The batch created under ``intent`` and never recorded, if the provider has one."""

    @abstractmethod
    async def state(self, batch_id: str) -> BatchState: ...

    async def poll(self, batch_id: str) -> BatchState:
        """The batch's state; one the provider no longer knows (deleted, another key) has ended with no results."""
        try:
            return await self.state(batch_id)
        except self.judge.sdk.NotFoundError:
            return BatchState(batch_id, GONE, True, 0, 0, 0)

    @abstractmethod
    async def results(self, batch_id: str) -> list[ItemResult]:
        """Every result the provider has for an ended batch (items it never ran may be absent)."""


class OpenAIBatches(BatchApi):
    name = "openai"
    max_requests = 50_000
    max_bytes = 200_000_000
    endpoint = "/v1/chat/completions"
    ENDED = frozenset({"completed", "failed", "expired", "cancelled"})

    def line(self, custom_id: str, request: JudgeRequest) -> dict[str, Any]:
        return {"custom_id": custom_id, "method": "POST", "url": self.endpoint, "body": self.body(request)}

    async def submit(self, lines: list[dict[str, Any]], marker: str) -> str:
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
        client = self.judge.client.with_options(timeout=TRANSFER_TIMEOUT_S)
        upload = await client.files.create(file=("halubench-batch.jsonl", data), purpose="batch")
        batch = await client.batches.create(input_file_id=upload.id, endpoint=self.endpoint,
                                            completion_window="24h",
                                            metadata={"source": "halubench", MARKER_KEY: marker})
        return batch.id

    async def find(self, intent: BatchIntent, recorded: set[str]) -> str | None:
        async for batch in self.judge.client.batches.list(limit=100):  # newest first
            if batch.created_at < intent.created_at - CLOCK_SKEW_S:
                return None
            if (batch.metadata or {}).get(MARKER_KEY) == intent.marker:
                return batch.id
        return None

    async def state(self, batch_id: str) -> BatchState:
        batch = await self.judge.client.batches.retrieve(batch_id)
        counts = batch.request_counts
        total, done, failed = (counts.total, counts.completed + counts.failed, counts.failed) if counts else (0, 0, 0)
        return BatchState(batch_id, batch.status, batch.status in self.ENDED, total, done, failed)

    async def results(self, batch_id: str) -> list[ItemResult]:
        client = self.judge.client.with_options(timeout=TRANSFER_TIMEOUT_S)
        batch = await client.batches.retrieve(batch_id)
        if batch.status == "failed":
            # Validation failed: no item ran. The reason (a malformed line, an unknown model) is not
            # something a resubmission fixes.
            errors = [e.message for e in (batch.errors.data if batch.errors else None) or [] if e.message]
            raise BatchFailed(f"batch {batch_id} failed validation: {'; '.join(errors) or 'no reason given'}")
        found: list[ItemResult] = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                content = await client.files.content(file_id)
                found += [openai_item(json.loads(line)) for line in content.text.splitlines() if line.strip()]
        return found


def openai_item(line: Mapping[str, Any]) -> ItemResult:
    """One line of an output or error file."""
    custom_id = str(line.get("custom_id"))
    response = line.get("response") or None
    if response is None:  # never ran: batch_expired, batch_cancelled, ...
        error = line.get("error") or {}
        return ItemResult(custom_id, fault=Fault("retry", f"{error.get('code')}: {error.get('message')}"))
    body = response.get("body") or {}
    status = int(response.get("status_code") or 0)
    if status != 200:
        return ItemResult(custom_id, fault=classify_status(status, error_message(body, "no message"), None))
    choices = body.get("choices") if isinstance(body, Mapping) else None
    if not choices:
        return ItemResult(custom_id, fault=Fault("retry", "unreadable response: no choices in the completion"))
    usage = body.get("usage") or {}
    return ItemResult(custom_id, Completion(
        text=(choices[0].get("message") or {}).get("content") or "",
        input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens"),
        model_version=body.get("model"), finish_reason=choices[0].get("finish_reason"),
    ))


class AnthropicBatches(BatchApi):
    name = "anthropic"
    max_requests = 100_000
    max_bytes = 256_000_000

    def line(self, custom_id: str, request: JudgeRequest) -> dict[str, Any]:
        params = self.body(request)
        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        params["messages"] = [m for m in request.messages if m["role"] != "system"]
        if system:
            params["system"] = system
        return {"custom_id": custom_id, "params": params}

    async def submit(self, lines: list[dict[str, Any]], marker: str) -> str:
        client = self.judge.client.with_options(timeout=TRANSFER_TIMEOUT_S)
        batch = await client.messages.batches.create(requests=lines)
        return batch.id

    async def find(self, intent: BatchIntent, recorded: set[str]) -> str | None:
        latest = intent.created_at + TRANSFER_TIMEOUT_S + CLOCK_SKEW_S
        found: list[tuple[float, str]] = []
        async for batch in self.judge.client.messages.batches.list(limit=100):  # newest first
            created = batch.created_at.timestamp()
            if created < intent.created_at - CLOCK_SKEW_S:
                break
            counts = batch.request_counts
            size = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
            if created <= latest and size == len(intent.items) and batch.id not in recorded:
                found.append((abs(created - intent.created_at), batch.id))
        return min(found)[1] if found else None

    async def state(self, batch_id: str) -> BatchState:
        batch = await self.judge.client.messages.batches.retrieve(batch_id)
        counts = batch.request_counts
        failed = counts.errored + counts.canceled + counts.expired
        total = counts.processing + counts.succeeded + failed
        return BatchState(batch_id, batch.processing_status, batch.processing_status == "ended", total,
                          total - counts.processing, failed)

    async def results(self, batch_id: str) -> list[ItemResult]:
        found: list[ItemResult] = []
        client = self.judge.client.with_options(timeout=TRANSFER_TIMEOUT_S)
        async for item in await client.messages.batches.results(batch_id):
            found.append(anthropic_item(item.custom_id, item.result))
        return found


def anthropic_item(custom_id: str, result: Any) -> ItemResult:
    """One result of a message batch: succeeded, errored, canceled or expired."""
    if result.type == "succeeded":
        message = result.message
        return ItemResult(custom_id, Completion(
            text="".join(getattr(block, "text", "") for block in message.content if block.type == "text"),
            input_tokens=message.usage.input_tokens, output_tokens=message.usage.output_tokens,
            model_version=message.model, finish_reason=message.stop_reason,
        ))
    if result.type == "errored":
        error = result.error.error
        status = ANTHROPIC_ERROR_STATUS.get(error.type, 500)
        return ItemResult(custom_id, fault=classify_status(status, f"{error.type}: {error.message}", None))
    return ItemResult(custom_id, fault=Fault("retry", f"batch item {result.type}"))


class BatchFailed(Exception):
    """A batch the provider rejected as a whole; raised as a ``JudgeError`` by the batch judge."""


BATCH_APIS: dict[str, type[BatchApi]] = {"openai": OpenAIBatches, "anthropic": AnthropicBatches}
