"""Batch mode: an API judge whose rows go through the provider's batch API at half the price.

``BatchJudge`` wraps the synchronous ``ApiJudge`` (same client, key check,
cache identity and error rules) and answers the runner's ``stream`` call like
any judge, so replies are cached per row exactly as synchronous ones are. What
is different is where the batch state lives: the cache database records each
batch the moment the provider accepts it, with the cache keys of its rows
(``ReplyCache.record_batch``). A later run for the same rows, after a crash or
``kill -9`` or ``--batch-wait 0``, finds those batches (``open_batches``) and
polls them instead of submitting again; a batch is closed in the table only
after every reply it brought is stored.

No row is paid for twice, in the two gaps that record leaves either:

- a kill between the provider's create and the record: before creating, the
  run writes an intent (a marker, its own ``host:pid``, the rows) in the same
  transaction that checks no other batch or intent holds them
  (``ReplyCache.claim_batch``). The next run finds the intent of a run that is
  gone, looks for its batch at the provider (``BatchApi.find``) and collects it,
  or, if there is none, submits the rows;
- two runs of the same rows at once: the second finds the first's intent, waits
  for it to become a batch, and collects that batch beside it.

A batch's custom ids are the rows' cache keys, so results for rows that the
current run did not ask for (a batch submitted by a run with a larger
``--limit``) still land in the cache instead of being paid for and dropped.

Judge file / CLI settings read here (none changes a reply, so none is in the
cache key): ``batch`` (bool; ``--batch``), ``batch_fallback`` (``batch``: a
follow-up batch for failed items, or ``sync``: ordinary calls;
``--batch-fallback``), ``batch_wait_s`` (give up waiting after this long and
leave the batches running; ``--batch-wait``), ``batch_poll`` (``first_s``,
``factor``, ``max_s``), ``batch_size`` (requests per batch, at most the
provider's limit).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from halubench.backends._api_judge import ApiJudge
from halubench.backends._base import Judge, JudgeRequest, Reply
from halubench.backends._batch_providers import (
    BATCH_APIS,
    GONE,
    TRANSFER_TIMEOUT_S,
    BatchApi,
    BatchFailed,
    BatchState,
    ItemResult,
)
from halubench.backends._cache import BatchIntent, ReplyCache
from halubench.backends._judge_spec import JudgeSpec
from halubench.backends._retry import Fault
from halubench.backends._settings import ApiSettings
from halubench.config import parse
from halubench.errors import BatchPending, ConfigError, JudgeError

# Rounds of follow-up batches for items that failed with a transient fault; after that the rows
# are errors in this run's results (and, like any error, tried again by the next run).
MAX_BATCH_ROUNDS = 3
T = TypeVar("T")
# The command-line flags behind three batch settings, named by an error in what they set.
BATCH_FLAGS = {"batch": "--batch", "batch_fallback": "--batch-fallback", "batch_wait_s": "--batch-wait"}
# Anthropic's custom_id pattern; OpenAI accepts any string.
_CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# An intent older than this belongs to a run that is gone, wherever it ran: no create call lasts so long.
STALE_INTENT_S = 2 * TRANSFER_TIMEOUT_S
# How often a run waiting for another run's create looks again (a create takes seconds).
WAIT_FOR_CREATE_S = 1.0


def this_run() -> str:
    """The owner recorded on this process's intents."""
    return f"{socket.gethostname()}:{os.getpid()}"


def still_running(intent: BatchIntent) -> bool:
    """Whether the run that wrote ``intent`` may still be creating its batch (so it must be waited for)."""
    host, _, pid = intent.owner.rpartition(":")
    if time.time() - intent.created_at > STALE_INTENT_S or intent.owner == this_run():
        return False  # this process's own intent: left by a create that failed, never one under way
    if host != socket.gethostname():
        return True  # another machine sharing the cache file: trust it until the intent is stale
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def with_batch_flags(spec: JudgeSpec, batch: bool, fallback: str | None, wait_s: float | None) -> JudgeSpec:
    """The judge with the ``--batch*`` flags applied: the same settings a judge file may carry, checked alike."""
    flags = {k: v for k, v in (("batch", batch or None), ("batch_fallback", fallback), ("batch_wait_s", wait_s))
             if v is not None}
    if not flags:
        return spec
    if spec.backend not in BATCH_APIS:
        raise ConfigError(f"judge {spec.name}: backend {spec.backend} has no batch API; drop --batch")
    given = spec.settings.model_dump(exclude_unset=True)
    where = f"judge {spec.name} with {' '.join(BATCH_FLAGS[k] for k in flags)}"
    return replace(spec, settings=parse(type(spec.settings), {**given, **flags}, where))


def custom_id_for(cache_key: str) -> str:
    return cache_key if _CUSTOM_ID.match(cache_key) else hashlib.sha256(cache_key.encode()).hexdigest()


class BatchJudge(Judge):
    def __init__(self, inner: ApiJudge):
        super().__init__(inner.spec)
        if not isinstance(inner, ApiJudge) or inner.provider not in BATCH_APIS:
            raise ConfigError(f"judge {inner.spec.name}: backend {inner.spec.backend} has no batch API; drop --batch")
        self.inner = inner
        self.api: BatchApi = BATCH_APIS[inner.provider](inner)
        self.settings: ApiSettings = inner.spec.settings
        self.cache: ReplyCache | None = None
        self.keys: Mapping[str, str] = {}
        self.note: Callable[[str], None] = print

    @property
    def endpoint(self) -> str:
        return self.inner.endpoint

    def cache_identity(self) -> Mapping[str, Any]:
        return self.inner.cache_identity()

    def bind(self, cache: ReplyCache | None, keys: Mapping[str, str], note: Callable[[str], None]) -> None:
        """The cache that records batches in flight, each request's cache key, and where status lines go."""
        if cache is None:
            raise ConfigError("--batch needs the reply cache (it records the batches in flight); drop --no-cache")
        self.cache, self.keys, self.note = cache, keys, note

    def preflight(self) -> None:
        self.inner.preflight()

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def stream(self, requests: Sequence[JudgeRequest], concurrency: int) -> AsyncIterator[Reply]:
        assert self.cache is not None, "bind() first"
        rows: dict[str, list[JudgeRequest]] = {}  # identical prompts are sent (and paid) once
        for request in requests:
            too_long = self.inner._too_long(request)  # surely over the context window: never sent, as in sync mode
            if too_long is not None:
                too_long.extra["mode"] = "batch"
                yield too_long
            else:
                rows.setdefault(self.keys[request.key], []).append(request)
        tracked = await self._held_elsewhere(list(rows))
        if tracked:
            waiting = sum(len(set(items.values()) & set(rows)) for items in tracked.values())
            self.note(f"found {len(tracked)} batch(es) submitted earlier for {waiting} of these rows: "
                      f"{', '.join(tracked)}; collecting them instead of submitting again")
        carried = {key for items in tracked.values() for key in items.values()}
        submitted, taken = await self._submit([k for k in rows if k not in carried], rows)
        tracked.update(submitted)
        if taken:  # another run claimed them between the look and the claim: collect its batch
            tracked.update(await self._held_elsewhere(taken))
            for reply in self._answered_meanwhile(taken, tracked, rows):
                yield reply
        deadline = None if self.settings.batch_wait_s is None else time.monotonic() + self.settings.batch_wait_s

        for round_ in range(1, MAX_BATCH_ROUNDS + 1):
            failed: dict[str, Fault] = {}
            async for key, result in self._collect(tracked, deadline):
                if key not in rows:  # another run's row in a batch this run resumed: store it all the same
                    reply = self._reply(key, result)
                    if result.fault is None and ReplyCache.keeps(reply):
                        self.cache.put(key, reply)
                elif result.fault is not None and result.fault.kind == "retry":
                    failed[key] = result.fault
                elif result.fault is None or result.fault.kind == "too_long":  # fatal: _collect stops the run
                    for request in rows[key]:
                        yield self._reply(request.key, result)
            if not failed:
                return
            if round_ == MAX_BATCH_ROUNDS or self.settings.batch_fallback == "sync":
                break
            self.note(f"{len(failed)} item(s) failed ({_reasons(failed)}); sending them in a follow-up batch")
            tracked, taken = await self._submit(list(failed), rows)
            if taken:
                tracked.update(await self._held_elsewhere(taken))
                for reply in self._answered_meanwhile(taken, tracked, rows):
                    yield reply

        if self.settings.batch_fallback == "sync":
            self.note(f"{len(failed)} item(s) failed ({_reasons(failed)}); calling the API for them directly")
            async for reply in self.inner.stream([rows[k][0] for k in failed], concurrency):
                for request in rows[self.keys[reply.key]]:
                    yield _replace_key(reply, request.key, mode="sync")
            return
        for key, fault in failed.items():
            for request in rows[key]:
                yield Reply(request.key, error=f"{fault.reason} (batch item failed in {MAX_BATCH_ROUNDS} batches)",
                            extra={"mode": "batch"})

    def _reply(self, key: str, result: ItemResult) -> Reply:
        if result.fault is not None:  # too_long: the only fault that becomes a reply
            return Reply(key, too_long=True, error=self.inner._redact(result.fault.reason), extra={"mode": "batch"})
        done = result.completion
        assert done is not None
        return Reply(key, text=done.text, input_tokens=done.input_tokens, output_tokens=done.output_tokens,
                     model_version=done.model_version, finish_reason=done.finish_reason, extra={"mode": "batch"})

    def _answered_meanwhile(
        self, keys: list[str], tracked: Mapping[str, Mapping[str, str]], rows: Mapping[str, list[JudgeRequest]]
    ) -> Iterator[Reply]:
        """The replies another run's batch stored after this run looked in the cache, and before it claimed."""
        assert self.cache is not None
        collecting = {key for items in tracked.values() for key in items.values()}
        stored = self.cache.get_many(key for key in keys if key not in collecting)
        for key, row in stored.items():
            for request in rows[key]:
                yield ReplyCache.as_reply(request.key, row)

    async def _held_elsewhere(self, keys: list[str]) -> dict[str, dict[str, str]]:
        """The recorded batches that carry any of ``keys``, once no other run is still creating one for them.

        A live run's intent is waited for (it becomes a batch within its create
        call); a gone run's intent is resolved here: its batch found at the
        provider and recorded, or the intent dropped when there is none.
        """
        assert self.cache is not None
        told: set[str] = set()
        while True:
            running = []
            for intent in self.cache.batch_intents(self.api.name, self.endpoint, keys):
                if still_running(intent):
                    running.append(intent)
                else:
                    await self._recover(intent)
            if not running:
                return self.cache.open_batches(self.api.name, self.endpoint, keys)
            if {i.marker for i in running} - told:
                told |= {i.marker for i in running}
                rows = sum(len(intent.items) for intent in running)
                owners = ", ".join(sorted({i.owner for i in running}))
                self.note(f"another run ({owners}) is submitting {rows:,} of these rows to the batch API; "
                          "waiting for its batch, to collect it instead of paying twice")
            await asyncio.sleep(min(self.settings.batch_poll.first_s, WAIT_FOR_CREATE_S))

    async def _recover(self, intent: BatchIntent) -> None:
        """A batch that a stopped run may have created: record it if the provider has it, else free its rows."""
        assert self.cache is not None
        if not self.cache.adopt_intent(intent.marker, intent.owner, this_run()):
            return  # another run is resolving it
        recorded = self.cache.batch_ids(self.api.name, self.endpoint)
        batch_id = await self._api_call(lambda: self.api.find(intent, recorded))
        if batch_id is None:
            self.cache.drop_intent(intent.marker)
            return
        self.cache.record_batch(batch_id, self.api.name, self.endpoint, intent.items, intent.marker)
        self.note(f"found batch {batch_id} at the provider, created by a run that stopped before recording it "
                  f"({len(intent.items):,} rows); collecting it instead of submitting again")

    async def _submit(
        self, keys: list[str], rows: Mapping[str, list[JudgeRequest]]
    ) -> tuple[dict[str, dict[str, str]], list[str]]:
        """Create batches for ``keys`` (split at the provider's limits), each claimed before and recorded after
        its create: the batches made, and the keys another run claimed first (this run collects its batch)."""
        assert self.cache is not None
        if not keys:
            return {}, []
        chunks = self._split({custom_id_for(k): k for k in keys}, rows)
        submitted: dict[str, dict[str, str]] = {}
        taken: list[str] = []
        for items, lines in chunks:
            marker = uuid.uuid4().hex
            claimed = self.cache.claim_batch(marker, self.api.name, self.endpoint, items, this_run())
            taken += [key for custom_id, key in items.items() if custom_id not in claimed]
            if not claimed:
                continue
            mine = [line for line in lines if line["custom_id"] in claimed]
            batch_id = await self._api_call(lambda mine=mine, marker=marker: self.api.submit(mine, marker),
                                            creates=marker)
            self.cache.record_batch(batch_id, self.api.name, self.endpoint, claimed, marker)
            submitted[batch_id] = claimed
        if submitted:
            limit = min(self.settings.batch_size or self.api.max_requests, self.api.max_requests)
            split = (f", split into {len(submitted)} batches (at most {limit:,} requests or "
                     f"{self.api.max_bytes / 1e6:.0f} MB each)") if len(submitted) > 1 else ""
            count = sum(len(items) for items in submitted.values())
            self.note(f"submitted {count:,} requests to the {self.api.name} batch API{split}: "
                      f"{', '.join(submitted)}")
        return submitted, taken

    def _split(
        self, items: Mapping[str, str], rows: Mapping[str, list[JudgeRequest]]
    ) -> list[tuple[dict[str, str], list[dict[str, Any]]]]:
        limit = min(self.settings.batch_size or self.api.max_requests, self.api.max_requests)
        chunks: list[tuple[dict[str, str], list[dict[str, Any]]]] = []
        size = 0
        for custom_id, key in items.items():
            line = self.api.line(custom_id, rows[key][0])
            line_bytes = len(json.dumps(line, ensure_ascii=False).encode("utf-8")) + 1
            if not chunks or len(chunks[-1][1]) >= limit or size + line_bytes > self.api.max_bytes:
                chunks.append(({}, []))
                size = 0
            chunks[-1][0][custom_id] = key
            chunks[-1][1].append(line)
            size += line_bytes
        return chunks

    async def _collect(
        self, tracked: dict[str, dict[str, str]], deadline: float | None
    ) -> AsyncIterator[tuple[str, ItemResult]]:
        """Poll until every batch has ended, yielding (cache key, result) as each one's results are read."""
        delay = self.settings.batch_poll.first_s
        tracked = dict(tracked)
        while tracked:
            states: list[BatchState] = []
            for batch_id in list(tracked):
                state = await self._api_call(lambda b=batch_id: self.api.poll(b))
                states.append(state)
                if not state.ended:
                    continue
                items = tracked.pop(batch_id)
                results = [] if state.status == GONE else await self._read(batch_id)
                seen = set()
                for result in results:
                    if result.custom_id in items:
                        seen.add(result.custom_id)
                        yield items[result.custom_id], result
                for custom_id in items.keys() - seen:
                    yield items[custom_id], ItemResult(custom_id, fault=Fault("retry", f"batch {batch_id}: no result "
                                                                                        f"({state.status})"))
                # Every reply it brought is stored by now (the consumer stores each before asking for more).
                self.cache.close_batch(batch_id)
                fatal = next((r.fault for r in results if r.fault is not None and r.fault.kind == "fatal"), None)
                if fatal is not None:  # e.g. a key revoked mid-batch: the rows left are tried again next run
                    raise self.inner._fatal(fatal)
            if not tracked:
                return
            self.note(_describe(states, delay))
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                waiting = sum(len(items) for items in tracked.values())
                raise BatchPending(
                    f"{waiting:,} requests are in {len(tracked)} {self.api.name} batch(es) still running "
                    f"({', '.join(tracked)}); run the same command again to collect them "
                    "(a batch ends within 24 hours; nothing is submitted twice)"
                )
            await asyncio.sleep(delay if remaining is None else min(delay, remaining))
            delay = min(delay * self.settings.batch_poll.factor, self.settings.batch_poll.max_s)

    async def _read(self, batch_id: str) -> list[ItemResult]:
        try:
            return await self._api_call(lambda: self.api.results(batch_id))
        except BatchFailed as exc:  # rejected as a whole: nothing to collect, and resubmitting would fail again
            self.cache.close_batch(batch_id)
            raise JudgeError(f"judge {self.spec.name}: {exc}") from None

    async def _api_call(self, call: Callable[[], Awaitable[T]], creates: str | None = None) -> T:
        """A batch API call, retried by the judge's policy; a create (under intent ``creates``) only when the
        server refused it.

        A create that timed out may have created the batch, and trying again
        could pay for its rows twice: only a refusal (a 4xx, or 529: the server
        said no) is safe to repeat, and ends the intent when it is not repeated.
        Otherwise the intent stays, and the next run looks for the batch at the
        provider before submitting. Each call is bounded by the
        SDK client's timeout (uploads and downloads get a longer one in ``batch_apis``).
        """
        assert self.cache is not None
        policy = self.inner.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                result = await call()
            except Exception as exc:  # noqa: BLE001 - classify decides; unknown ones re-raise
                fault = self.inner.classify(exc)
                if fault is None:
                    raise
                refused = _refused(exc)
            else:
                self.inner.outage.passed()  # the server answers: earlier failures were no outage
                return result
            unsafe = creates is not None and not refused
            if fault.kind != "retry" or unsafe or attempt >= policy.max_attempts:
                if creates is not None and not unsafe:
                    self.cache.drop_intent(creates)  # the server said no: nothing was created
                if fault.kind == "fatal":
                    raise self.inner._fatal(fault)
                advice = ("it may have been created: the next run looks for it at the provider before "
                          "submitting again" if unsafe else
                          "batches already created are recorded; run again to collect them")
                raise JudgeError(f"judge {self.spec.name}: the {self.api.name} batch API failed "
                                 f"({self.inner._redact(fault.reason)}); {advice}")
            await asyncio.sleep(policy.backoff_s(attempt, fault.retry_after_s, self.inner._rng))


def _refused(exc: BaseException) -> bool:
    """The server answered no (any 4xx, or 529 overloaded): whatever the call was, it created nothing."""
    status = getattr(exc, "status_code", None)
    return status is not None and (400 <= status < 500 or status == 529)


def _replace_key(reply: Reply, key: str, mode: str) -> Reply:
    copy = Reply(**{**reply.__dict__, "key": key})
    copy.extra = {**reply.extra, "mode": mode}
    return copy


def _reasons(failed: Mapping[str, Fault]) -> str:
    counts: dict[str, int] = {}
    for fault in failed.values():
        counts[fault.reason[:80]] = counts.get(fault.reason[:80], 0) + 1
    return "; ".join(f"{n} × {reason}" for reason, n in sorted(counts.items(), key=lambda kv: -kv[1])[:3])


def _describe(states: list[BatchState], next_poll_s: float) -> str:
    by_status: dict[str, int] = {}
    for state in states:
        by_status[state.status] = by_status.get(state.status, 0) + 1
    total, done, failed = (sum(getattr(s, a) for s in states) for a in ("total", "done", "failed"))
    where = ", ".join(f"{n} {status}" for status, n in by_status.items())
    return (f"{len(states)} batch(es) ({where}): {done:,}/{total:,} requests done, {failed:,} failed; "
            f"next poll in {next_poll_s:.3g} s")
