"""Pacing API calls to the provider's rate limits: reach the binding limit, never run into it.

What the providers document, and what this limiter does about each fact:

- Limits are per minute. OpenAI's ``x-ratelimit-{limit,remaining}-{requests,
  tokens}`` and Anthropic's ``anthropic-ratelimit-{requests,input-tokens,
  output-tokens}-{limit,remaining}`` give a per-minute limit and what is left
  of it; a bucket refills continuously, so each limit refills at ``limit / 60``
  per second (OpenAI, https://platform.openai.com/docs/guides/rate-limits;
  Anthropic, https://docs.anthropic.com/en/api/rate-limits). The ``reset``
  headers are not read: OpenAI's own examples disagree with a per-minute
  refill, and ``limit / 60`` is what both pages state.
- Limits are also enforced over shorter periods ("60,000 requests/minute may be
  enforced as 1,000 requests/second"), which no header shows: after a burst
  the headers can still say thousands remain. So calls are paced at the refill
  rate, a new limit starts with nothing to burst, and a burst (after a lull) is
  at most ``BURST_S`` seconds' worth, of which ``RESERVE`` is never spent: the
  provider's bucket keeps that slack against a burst that reaches it late (a
  bucket that is full wastes its refill meanwhile) and against token counts
  estimated a little low. A call larger than that slack allows (one request
  at 50 a minute, where a second's worth is 0.83 of a request) leaves once the
  bucket has been full for ``JITTER_S``.
- A call is charged when it is sent, at what the provider counts then: one
  request; OpenAI's tokens are the prompt plus ``max_tokens``; Anthropic's
  input tokens are the prompt and its output tokens ``max_tokens``, adjusted
  when the request ends to the tokens generated (``refund``). The judge says
  what one call costs (``ApiJudge.rate_costs``); Anthropic's
  ``anthropic-ratelimit-tokens-*`` repeat the most restrictive of its two token
  limits and are not a bucket of their own.
- A 429 holds every call of the judge for its ``retry-after`` and multiplies
  the pace (rate and burst) by ``PACE_DECREASE``, at most once per hold; each
  second of calls that pass gives back ``PACE_RECOVERY_PER_S`` of the limit
  (additive increase, multiplicative decrease), so a server stricter than its
  headers settles where it stops refusing. The decrease is gentler than TCP's
  halving because the pace is not a blind probe: it is the documented rate, so
  a 429 means a small mismatch (a request that reached the server early), and
  repeated ones still compound (three holds: 0.42). Another client spending the
  same key shows in ``remaining`` (below) before it causes any 429.

The local copy of each per-minute bucket is corrected by every reply's
``remaining``, brought forward to now (refill since the request left, minus
what the calls sent after it took); a correction only lowers it (another
client spends the same key), never raises it. Until the first reply is read
the limits are unknown, so the first call goes alone (one round trip). A server
that sends no headers (vLLM, llama.cpp, TGI) is not paced, unless the judge
file states its limits (``rate_limit``), which then bind as if the server had
sent them (the lower of the two where it sends its own).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from halubench.backends._retry import parse_retry_after

# A burst is at most this many seconds' worth of a limit (the providers' shorter period).
BURST_S = 1.0
# The share of a burst never spent (slack in the provider's bucket); it costs bursts, never the pace.
RESERVE = 0.25
# A call too large for that slack (one request at 50 a minute: a second's worth is 0.83) waits until the
# bucket has been full this long, so that it cannot reach the provider before the previous call's refill.
JITTER_S = 0.02
# The pace after a 429 is multiplied by this, down to the floor, and recovers by this much of the limit per second.
PACE_DECREASE = 0.75
PACE_FLOOR = 1 / 64
PACE_RECOVERY_PER_S = 0.1
# The others wait for the first call's headers at most this long: a hung first call must not hold the run.
_PROBE_WAIT_S = 5.0
_NAMES = ("requests", "tokens", "input-tokens", "output-tokens")


@dataclass(frozen=True)
class Limit:
    """One limit as a reply's headers state it: per minute, and what remains of it."""

    per_minute: float
    remaining: float


@dataclass(frozen=True)
class Sent:
    """When a request left and what had been charged by then: stamped on the request by an httpx hook."""

    monotonic: float
    charged: Mapping[str, float]


@dataclass
class Bucket:
    """One per-minute limit mirrored locally: the provider's per-minute bucket and the pace's short one."""

    per_minute: float
    minute: float  # the provider's per-minute bucket, as its ``remaining`` header reports it
    short: float  # the pace: at most BURST_S seconds' worth, refilled at the paced rate
    updated: float

    @property
    def rate(self) -> float:
        return self.per_minute / 60

    def burst(self, pace: float) -> float:
        return self.rate * pace * BURST_S

    def refill(self, now: float, pace: float) -> None:
        elapsed = now - self.updated
        self.minute = min(self.per_minute, self.minute + elapsed * self.rate)
        # Beyond a full burst the level counts time (JITTER_S of it), never tokens: ``take`` spends none of it.
        full = self.burst(pace) + JITTER_S * self.rate * pace
        self.short = min(full, self.short + elapsed * self.rate * pace)
        self.updated = now

    def wait_s(self, cost: float, pace: float) -> float:
        """Seconds until the call fits both buckets with the reserve left over; a call larger than that
        waits until the bucket has been full for ``JITTER_S`` (the provider admits it when its bucket is full)."""
        burst = self.burst(pace)
        need = cost + RESERVE * burst
        if need > burst:
            need = burst + JITTER_S * self.rate * pace
        short = (need - self.short) / (self.rate * pace)
        reserve = RESERVE * self.rate * BURST_S
        minute = (min(cost + reserve, self.per_minute) - self.minute) / self.rate
        return max(0.0, short, minute)

    def take(self, cost: float, pace: float) -> None:
        self.minute -= cost
        self.short = min(self.short, self.burst(pace)) - cost


def read_limits(headers: Mapping[str, str]) -> dict[str, Limit]:
    """Every per-minute limit the headers state, by name (``requests``, ``tokens``, ``input-tokens``, ...)."""
    found: dict[str, Limit] = {}
    for name in _NAMES:
        for limit_header, remaining_header in (
            (f"x-ratelimit-limit-{name}", f"x-ratelimit-remaining-{name}"),
            (f"anthropic-ratelimit-{name}-limit", f"anthropic-ratelimit-{name}-remaining"),
        ):
            if limit_header in headers and remaining_header in headers:
                try:
                    limit, remaining = float(headers[limit_header]), float(headers[remaining_header])
                except ValueError:
                    continue
                if limit > 0:
                    found[name] = Limit(limit, remaining)
    if "anthropic-ratelimit-tokens-limit" in headers and ({"input-tokens", "output-tokens"} & found.keys()):
        found.pop("tokens", None)  # Anthropic's most restrictive token limit, already read under its own name
    return found


class RateLimiter:
    """One per judge: every call of the judge waits here for its share of the provider's limits.

    ``stated`` holds per-minute limits from the judge file (``requests``,
    ``tokens``), for servers that send no headers; ``clock`` is injectable so
    that the pace's arithmetic can be checked without waiting.
    """

    def __init__(self, stated: Mapping[str, float] | None = None, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.stated = dict(stated or {})
        now = clock()
        self.buckets: dict[str, Bucket] = {name: self._new_bucket(limit, now) for name, limit in self.stated.items()}
        self.charged: dict[str, float] = dict.fromkeys(_NAMES, 0.0)  # every call's cost so far, net of refunds
        self.pace = 1.0
        self.blocked_until = 0.0
        self._hold_ends = 0.0  # a 429 within the current hold lowers the pace no further
        self._last_pass: float | None = None
        self.probe_sent = False
        self._settled: asyncio.Event | None = None
        self._queue: asyncio.Lock | None = None

    def _new_bucket(self, per_minute: float, now: float) -> Bucket:
        return Bucket(per_minute, per_minute, 0.0, now)  # nothing to burst: the calls start at the pace

    async def acquire(self, cost_of: Callable[[], Mapping[str, float]]) -> None:
        """Wait until the call fits every known bucket, then take its cost from them.

        ``cost_of`` is asked at the last moment: what a call costs is learned from the replies
        (tokens per byte), so a call that waited is charged by what the replies taught meanwhile.
        """
        if self._queue is None:
            self._queue, self._settled = asyncio.Lock(), asyncio.Event()
        if not self.probe_sent and not self.buckets:
            self.probe_sent = True
            self._charge(cost_of())
            return
        if not self._settled.is_set() and not self.buckets:
            try:
                await asyncio.wait_for(self._settled.wait(), _PROBE_WAIT_S)
            except asyncio.TimeoutError:
                self._settled.set()
        async with self._queue:  # one waiter at a time, in order of arrival: the calls leave evenly spaced
            while True:
                now = self.clock()
                costs = cost_of()
                wait = self.blocked_until - now
                for name, bucket in self.buckets.items():
                    bucket.refill(now, self.pace)
                    wait = max(wait, bucket.wait_s(costs.get(name, 0.0), self.pace))
                if wait <= 0:
                    self._charge(costs)
                    return
                await asyncio.sleep(wait)

    def _charge(self, costs: Mapping[str, float]) -> None:
        for name, cost in costs.items():
            self.charged[name] = self.charged.get(name, 0.0) + cost
            if name in self.buckets:
                self.buckets[name].take(cost, self.pace)

    def refund(self, amounts: Mapping[str, float]) -> None:
        """Give back what a call was charged and the provider did not count (Anthropic's unused output)."""
        for name, amount in amounts.items():
            if amount <= 0:
                continue
            self.charged[name] = self.charged.get(name, 0.0) - amount
            bucket = self.buckets.get(name)
            if bucket is not None:
                bucket.minute += amount
                bucket.short += amount

    def settle(self) -> None:
        """A call finished (answered or not): the calls held behind the first one may go."""
        if self._settled is not None:
            self._settled.set()

    def stamp(self) -> Sent:
        """Called as a request leaves."""
        return Sent(self.clock(), dict(self.charged))

    def observe(self, headers: Mapping[str, str], status: int, sent: Sent | None) -> None:
        """Read one reply's headers (429s included) into the buckets and the pace."""
        now = self.clock()
        sent = sent or Sent(now, dict(self.charged))
        for name, seen in read_limits(headers).items():
            per_minute = min(seen.per_minute, self.stated.get(name, seen.per_minute))
            bucket = self.buckets.get(name)
            if bucket is None:
                bucket = self.buckets[name] = self._new_bucket(per_minute, sent.monotonic)
                bucket.short -= self.charged.get(name, 0.0)  # the calls that left unpaced (the first one)
            bucket.refill(now, self.pace)
            bucket.per_minute = per_minute
            later = self.charged.get(name, 0.0) - sent.charged.get(name, 0.0)
            server_now = seen.remaining + (now - sent.monotonic) * bucket.rate - later
            bucket.minute = min(bucket.minute, server_now)
        if status == 429:
            self._refused(now, parse_retry_after(headers))
        elif status < 400:
            self._passed(now)

    def _refused(self, now: float, retry_after: float | None) -> None:
        hold = retry_after or 0.0
        self.blocked_until = max(self.blocked_until, now + hold)
        if now >= self._hold_ends:
            self.pace = max(PACE_FLOOR, self.pace * PACE_DECREASE)
            self._hold_ends = now + max(hold, BURST_S)
        self._last_pass = None

    def _passed(self, now: float) -> None:
        if self._last_pass is not None and self.pace < 1.0:
            self.pace = min(1.0, self.pace + PACE_RECOVERY_PER_S * min(now - self._last_pass, 1.0))
        self._last_pass = now


@dataclass
class TokensPerByte:
    """The provider's tokens per byte of prompt, learned from the replies' ``usage``: a call's token cost
    must be counted as the provider counts it, and only the provider's tokenizer knows that."""

    guess: float = 1 / 3  # before any reply: a little above English BPE's 1/4, so the first calls err slow
    prompt_bytes: int = 0
    prompt_tokens: int = 0

    def tokens(self, size: int) -> float:
        ratio = self.prompt_tokens / self.prompt_bytes if self.prompt_bytes else self.guess
        return size * ratio

    def learn(self, size: int, tokens: int | None) -> None:
        if tokens and size > 0:
            self.prompt_bytes += size
            self.prompt_tokens += tokens
