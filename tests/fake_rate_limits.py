"""Rate limits as the providers document them, enforced by the loopback server (fake_llm_server.py).

Written from the providers' pages, not from halubench's code:

- OpenAI, "Rate limits" (https://platform.openai.com/docs/guides/rate-limits):
  limits are requests and tokens per minute (RPM, TPM). Every reply carries
  ``x-ratelimit-limit-{requests,tokens}`` (the per-minute limit),
  ``x-ratelimit-remaining-{requests,tokens}`` (what is left of it) and
  ``x-ratelimit-reset-{requests,tokens}`` ("the time until the rate limit ...
  resets to its initial state", a Go duration such as ``1s`` or ``6m0s``).
  "Rate limits can be quantized, meaning they are enforced over shorter periods
  of time (e.g. 60,000 requests/minute may be enforced as 1,000
  requests/second). Sending short bursts of requests or contexts (prompts +
  max_tokens) that are too long can lead to rate limit errors, even when you
  are technically below the rate limit per minute": the token limit counts the
  prompt plus ``max_tokens`` when the request is sent. "Unsuccessful requests
  contribute to your per-minute limit": a refused request still costs one
  request.
- Anthropic, "Rate limits" (https://docs.anthropic.com/en/api/rate-limits): the
  token bucket algorithm, "your capacity is continuously replenished up to your
  maximum limit"; limits of requests, input tokens and output tokens per minute
  (RPM, ITPM, OTPM), shown as ``anthropic-ratelimit-{requests,input-tokens,
  output-tokens}-{limit,remaining,reset}`` (reset: an RFC 3339 time when the
  bucket is full again) plus ``anthropic-ratelimit-tokens-*``, "the most
  restrictive limit currently in effect". "OTPM rate limits are estimated based
  on max_tokens at the beginning of each request and adjusted at the end of the
  request to reflect the actual number of output tokens used". Limits "may be
  enforced over shorter time intervals" (60 RPM as one request per second). A
  429 carries ``retry-after`` in whole seconds.

So each limit here is two token buckets refilled at ``limit / 60`` per second:
the per-minute one (capacity the limit), which the headers report, and a short
one (capacity ``quantum_s`` seconds' worth), which they do not: after a burst the
headers can say thousands remain while the short bucket refuses. A request is
admitted when every bucket of its wire format holds its cost (a request larger
than a bucket's capacity needs that bucket full), and its cost is taken from all
of them at once; an admitted Anthropic request is charged ``max_tokens`` of
output and given back what it did not generate when it ends.

Tokens are counted as words and punctuation marks (``count_tokens``), the same
count the replies' ``usage`` reports, so a client can learn the provider's
count from the replies as it would from a real API.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

_TOKEN = re.compile(r"\w+|[^\w\s]")
# What OpenAI counts of output when a request names no max_tokens (the model's own cap).
DEFAULT_MAX_TOKENS = 4096


def count_tokens(text: str) -> int:
    """The server's tokenizer: words and punctuation marks."""
    return len(_TOKEN.findall(text))


def request_tokens(api: str, body: dict[str, Any]) -> int:
    """The prompt's tokens as the provider counts them: every message, and Anthropic's system prompt."""
    texts = [_text(m.get("content")) for m in body.get("messages") or []]
    if api == "anthropic":
        texts.append(_text(body.get("system")))
    return sum(count_tokens(t) for t in texts)


def max_output(body: dict[str, Any]) -> int:
    return int(body.get("max_tokens") or body.get("max_completion_tokens") or DEFAULT_MAX_TOKENS)


def _text(content: Any) -> str:
    if isinstance(content, list):  # content blocks
        return " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return str(content or "")


@dataclass
class Bucket:
    """One per-minute limit: the bucket the headers report and the short one they do not."""

    per_minute: float
    quantum_s: float
    minute: float = field(init=False)
    short: float = field(init=False)
    updated: float = field(default_factory=time.monotonic)
    charged: float = 0.0  # by admitted requests, net of what was given back

    def __post_init__(self) -> None:
        self.minute, self.short = self.per_minute, self.short_capacity

    @property
    def rate(self) -> float:
        return self.per_minute / 60

    @property
    def short_capacity(self) -> float:
        return self.rate * self.quantum_s

    def refill(self, now: float) -> None:
        elapsed = now - self.updated
        self.minute = min(self.per_minute, self.minute + elapsed * self.rate)
        self.short = min(self.short_capacity, self.short + elapsed * self.rate)
        self.updated = now

    def wait_s(self, cost: float) -> float:
        """Seconds until this bucket admits ``cost`` (0: now)."""
        short = min(cost, self.short_capacity) - self.short
        minute = min(cost, self.per_minute) - self.minute
        return max(0.0, short, minute) / self.rate

    def take(self, cost: float, counted: bool = True) -> None:
        """Spend ``cost``; ``counted=False`` for a refused request's charge (spent, but on no answer)."""
        self.minute -= cost
        self.short -= cost
        if counted:
            self.charged += cost


@dataclass
class Admission:
    """What the server decided for one request, and what to give back when it ends."""

    allowed: bool
    headers: dict[str, str]
    api: str
    output_charged: float = 0.0


class ProviderLimits:
    """One API key's limits per minute, for each wire format (they are separate providers).

    OpenAI: ``requests_per_minute`` and ``tokens_per_minute`` (prompt + max_tokens).
    Anthropic: ``requests_per_minute``, ``input_tokens_per_minute`` (the prompt) and
    ``output_tokens_per_minute`` (max_tokens at the start, the tokens generated at the end).
    A limit left None is not enforced. ``headers=False`` enforces the limits without
    telling (a proxy in front of a server that sends none).
    """

    def __init__(self, requests_per_minute: float | None = None, tokens_per_minute: float | None = None,
                 input_tokens_per_minute: float | None = None, output_tokens_per_minute: float | None = None,
                 quantum_s: float = 1.0, headers: bool = True):
        def buckets(**limits: float | None) -> dict[str, Bucket]:
            return {name.replace("_", "-"): Bucket(limit, quantum_s) for name, limit in limits.items() if limit}

        self.buckets = {
            "openai": buckets(requests=requests_per_minute, tokens=tokens_per_minute),
            "anthropic": buckets(requests=requests_per_minute, input_tokens=input_tokens_per_minute,
                                 output_tokens=output_tokens_per_minute),
        }
        self.send_headers = headers
        self.allowed = 0
        self.refused = 0
        self._lock = threading.Lock()

    def costs(self, api: str, body: dict[str, Any]) -> dict[str, float]:
        prompt, output = request_tokens(api, body), max_output(body)
        if api == "anthropic":
            return {"requests": 1, "input-tokens": prompt, "output-tokens": output}
        return {"requests": 1, "tokens": prompt + output}

    def admit(self, api: str, body: dict[str, Any]) -> Admission:
        costs = self.costs(api, body)
        with self._lock:
            now = time.monotonic()
            buckets = self.buckets[api]
            for bucket in buckets.values():
                bucket.refill(now)
            wait = max((b.wait_s(costs[name]) for name, b in buckets.items()), default=0.0)
            allowed = wait == 0
            if allowed:
                for name, bucket in buckets.items():
                    bucket.take(costs[name])
                self.allowed += 1
            else:
                self.refused += 1
                if api == "openai" and "requests" in buckets:  # "unsuccessful requests contribute"
                    buckets["requests"].take(1, counted=False)
            headers = self._headers(api, now) if self.send_headers else {}
            if not allowed:
                headers["retry-after"] = str(max(1, math.ceil(wait)))  # whole seconds, as both providers send
        output = costs.get("output-tokens", 0) if allowed and "output-tokens" in buckets else 0
        return Admission(allowed, headers, api, output)

    def finish(self, admission: Admission, output_tokens: int) -> None:
        """The request ended: Anthropic gives back the output tokens it charged and did not generate."""
        if admission.output_charged:
            with self._lock:
                bucket = self.buckets[admission.api]["output-tokens"]
                bucket.refill(time.monotonic())
                unused = admission.output_charged - output_tokens
                bucket.minute += unused
                bucket.short += unused
                bucket.charged -= unused

    def _headers(self, api: str, now: float) -> dict[str, str]:
        headers: dict[str, str] = {}
        shown = {}
        for name, bucket in self.buckets[api].items():
            remaining = max(0, math.floor(bucket.minute))
            to_full = (bucket.per_minute - bucket.minute) / bucket.rate
            shown[name] = (bucket, remaining, to_full)
        if api == "openai":
            for name, (bucket, remaining, to_full) in shown.items():
                headers[f"x-ratelimit-limit-{name}"] = str(int(bucket.per_minute))
                headers[f"x-ratelimit-remaining-{name}"] = str(remaining)
                headers[f"x-ratelimit-reset-{name}"] = go_duration(to_full)
            return headers
        tokens = [n for n in ("input-tokens", "output-tokens") if n in shown]
        if tokens:  # the most restrictive token limit, under its own name too
            shown["tokens"] = shown[min(tokens, key=lambda n: shown[n][1] / shown[n][0].per_minute)]
        wall = datetime.now(timezone.utc)
        for name, (bucket, remaining, to_full) in shown.items():
            headers[f"anthropic-ratelimit-{name}-limit"] = str(int(bucket.per_minute))
            headers[f"anthropic-ratelimit-{name}-remaining"] = str(remaining)
            reset = (wall + timedelta(seconds=to_full)).isoformat(timespec="seconds").replace("+00:00", "Z")
            headers[f"anthropic-ratelimit-{name}-reset"] = reset
        return headers

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"allowed": self.allowed, "refused": self.refused,
                    "buckets": {api: {name: {"per_minute": b.per_minute, "charged": b.charged}
                                      for name, b in buckets.items()}
                                for api, buckets in self.buckets.items()}}


def go_duration(seconds: float) -> str:
    """OpenAI's reset format: Go durations such as ``6m0s``, ``1.5s``, ``120ms``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.3g}s" if minutes else f"{rest:.3g}s"
