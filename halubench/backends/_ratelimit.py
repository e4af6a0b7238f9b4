"""Pacing API calls by the provider's rate-limit headers: reach the limit, do not run into it.

Retrying 429s with backoff survives a rate limit but wastes it: at a high
``--concurrency`` every refused call is a wasted slot, and jittered retries
bunch up again (a retry storm). Both providers say where a caller stands on
every reply, so one limiter per judge mirrors the server's token buckets:

- OpenAI: ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``, the reset
  as a Go duration (``1s``, ``6m0s``, ``120ms``);
- Anthropic: ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
  {limit,remaining,reset}``, the reset as an RFC 3339 time;
- both: ``retry-after`` on a 429, which holds every call until it has passed.

A bucket refills continuously, so ``reset`` is the time until it is full again
and the refill rate is ``(limit - remaining) / reset``; ``remaining`` is a whole
number, so the rate is taken as the lower bound ``(limit - remaining - 1) /
reset`` (the largest seen: every one is a lower bound). An absolute reset
(Anthropic's) is read against the time the request was sent, not received, so
a slow reply cannot inflate the rate. Each call takes its cost from the local
copy of the bucket and waits for the refill when it is short. A reply's
``remaining`` is as old as the request: brought forward (refill since the
request was sent, minus the calls sent after it) it lowers the local copy when
the server has less (another client shares the key), never raises it.

Until the first reply is read the limits are unknown, so the first call goes
alone (one round trip) and the others wait for it; a server that sends no
headers (vLLM, llama.cpp) is never paced.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from halubench.backends._retry import parse_retry_after

_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
# How long a waiting call sleeps when the refill rate is still unknown (the next reply will tell).
_UNKNOWN_RATE_WAIT_S = 0.05
# The others wait for the first call's headers at most this long: a hung first call must not hold the run.
_PROBE_WAIT_S = 5.0


@dataclass(frozen=True)
class Limit:
    limit: float
    remaining: float
    reset: float | None  # seconds from when the server took the request, or a Unix time (``absolute``)
    absolute: bool = False


@dataclass(frozen=True)
class Sent:
    """When a request left, and how many had left before it: stamped on the request by an httpx hook."""

    monotonic: float
    wall: float
    sequence: int


@dataclass
class Bucket:
    capacity: float
    tokens: float
    rate: float | None  # refill per second
    updated: float

    def refill(self, now: float) -> None:
        if self.rate:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now


def go_duration_s(text: str) -> float | None:
    """``6m0s`` -> 360.0; None for anything else."""
    parts = _GO_DURATION.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def rfc3339_timestamp(text: str) -> float | None:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def read_limits(headers: Mapping[str, str]) -> dict[str, Limit]:
    """Every bucket the headers describe, by name (``requests``, ``tokens``, ``input-tokens``, ...)."""
    found: dict[str, Limit] = {}
    for name in ("requests", "tokens", "input-tokens", "output-tokens"):
        for limit_h, remaining_h, reset_h, parse, absolute in (
            (f"x-ratelimit-limit-{name}", f"x-ratelimit-remaining-{name}", f"x-ratelimit-reset-{name}",
             go_duration_s, False),
            (f"anthropic-ratelimit-{name}-limit", f"anthropic-ratelimit-{name}-remaining",
             f"anthropic-ratelimit-{name}-reset", rfc3339_timestamp, True),
        ):
            if limit_h in headers and remaining_h in headers:
                try:
                    limit, remaining = float(headers[limit_h]), float(headers[remaining_h])
                except ValueError:
                    continue
                reset = headers.get(reset_h)
                found[name] = Limit(limit, remaining, parse(reset) if reset else None, absolute)
    return found


class RateLimiter:
    """One per judge: every call of the judge waits here for its share of the provider's limits."""

    def __init__(self) -> None:
        self.buckets: dict[str, Bucket] = {}
        self.blocked_until = 0.0
        self.probe_sent = False
        self.sent = 0
        self._settled: asyncio.Event | None = None
        self._queue: asyncio.Lock | None = None

    async def acquire(self, costs: Mapping[str, float]) -> None:
        """Wait until the call fits every known bucket, then take its cost from them."""
        if self._queue is None:
            self._queue, self._settled = asyncio.Lock(), asyncio.Event()
        if not self.probe_sent:
            self.probe_sent = True
            return
        if not self._settled.is_set():
            try:
                await asyncio.wait_for(self._settled.wait(), _PROBE_WAIT_S)
            except asyncio.TimeoutError:
                self._settled.set()
        async with self._queue:  # one waiter at a time, in order of arrival
            while True:
                now = time.monotonic()
                wait = self.blocked_until - now
                for name, bucket in self.buckets.items():
                    bucket.refill(now)
                    short = costs.get(name, 0) - bucket.tokens
                    if short > 0:
                        wait = max(wait, short / bucket.rate if bucket.rate else _UNKNOWN_RATE_WAIT_S)
                if wait <= 0:
                    for name, bucket in self.buckets.items():
                        bucket.tokens -= costs.get(name, 0)
                    return
                await asyncio.sleep(wait)

    def settle(self) -> None:
        """A call finished (answered or not): the calls held behind the first one may go."""
        if self._settled is not None:
            self._settled.set()

    def stamp(self) -> Sent:
        """Called as a request leaves."""
        self.sent += 1
        return Sent(time.monotonic(), time.time(), self.sent)

    def observe(self, headers: Mapping[str, str], status: int, sent: Sent | None) -> None:
        """Read one reply's headers (429s included) into the buckets."""
        now = time.monotonic()
        sent = sent or Sent(now, time.time(), self.sent)
        for name, seen in read_limits(headers).items():
            bucket = self.buckets.get(name)
            if bucket is None:
                bucket = self.buckets[name] = Bucket(seen.limit, seen.remaining, None, now)
            bucket.refill(now)
            bucket.capacity = seen.limit
            reset = seen.reset - sent.wall if seen.absolute and seen.reset is not None else seen.reset
            if reset and reset > 0 and seen.limit - seen.remaining >= 2:
                estimate = (seen.limit - seen.remaining - 1) / reset
                bucket.rate = max(bucket.rate or 0.0, estimate)
            if bucket.rate:
                later = self.sent - sent.sequence if name == "requests" else 0
                server_now = seen.remaining + bucket.rate * (now - sent.monotonic) - later
                bucket.tokens = min(bucket.tokens, server_now)
        if status == 429:
            retry_after = parse_retry_after(headers)
            if retry_after:
                self.blocked_until = max(self.blocked_until, now + retry_after)
