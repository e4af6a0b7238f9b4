"""When to try an API call again, how long to wait, and when to give up.

The SDKs' own retries are switched off (``max_retries=0``) so that this one
policy governs every provider and can be tested: exponential backoff with full
jitter, never shorter than the server's ``Retry-After``, a cap on attempts and a
deadline per request. Faults fall in four kinds:

- ``retry``: 408, 409, 429, 5xx, timeouts, dropped connections, garbled
  responses; tried again until the attempts or the deadline run out, then the
  row is recorded as an error (and tried again on the next run);
- ``too_long``: the server says the prompt exceeds its context window (in one
  of the wordings ``_CONTEXT_EXCEEDED`` knows); the row is reported as too
  long, the run goes on;
- ``fatal``: 401, 403, 404 (unknown model), any other 4xx (a malformed request
  or a bad setting, which every row would meet alike); no retry can fix them,
  so the run stops at once with a ``JudgeError`` carrying the server's message.

Retrying is for a service that fails some calls. One that fails every call is
down, and ``outage_after_s`` bounds how long a judge keeps trying (see
``_outage``).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Literal, TypeVar

from pydantic import ConfigDict, Field

from halubench.config import NonNegativeFloat, PositiveInt, Strict

T = TypeVar("T")
FaultKind = Literal["retry", "too_long", "fatal"]

# How servers say "the prompt (plus max new tokens) does not fit the context window", and nothing
# else: a 400 about a setting ("temperature exceeds the max of 2.0", "too many tokens in stop
# sequence") would fail every row alike, so it must stop the run rather than read as too long.
_CONTEXT_EXCEEDED = re.compile(
    "|".join((
        r"maximum context length is",  # OpenAI; vLLM's server ("... and your request has N input tokens")
        r"context_length_exceeded",  # OpenAI's error code
        r"prompt is too long",  # Anthropic: "prompt is too long: 210000 tokens > 200000 maximum"
        r"exceed context limit",  # Anthropic: "input length and `max_tokens` exceed context limit: ..."
        r"longer than the maximum model length",  # vLLM engine: "The decoder prompt (length N) is longer ..."
        r"model's context length is only",  # vLLM: "However, the model's context length is only N tokens"
        r"exceeds the available context size",  # llama.cpp server and Ollama
        r"exceed context window of",  # llama-cpp-python: "Requested tokens (N) exceed context window of M"
        r"`inputs` tokens \+ `max_new_tokens` must be",  # TGI
        r"`inputs` must have less than \d+ tokens",  # TGI
    )),
    re.IGNORECASE,
)
_RETRY_STATUSES = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    reason: str
    retry_after_s: float | None = None


class RetryPolicy(Strict):
    """An API judge's ``retry`` block; the defaults suit the public APIs, tests shrink them."""

    model_config = ConfigDict(frozen=True)

    max_attempts: PositiveInt = 8
    base_delay_s: NonNegativeFloat = 1.0
    max_delay_s: NonNegativeFloat = 60.0
    request_timeout_s: Annotated[float, Field(gt=0)] = 120.0
    deadline_s: Annotated[float, Field(gt=0)] = 600.0
    # Every attempt failing with a server error for this long (none succeeding) stops the run: an outage.
    outage_after_s: Annotated[float, Field(gt=0)] = 30.0

    def backoff_s(self, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Full jitter after the ``attempt``-th failure (1-based), at least the server's ``Retry-After``."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        delay = rng.uniform(0, ceiling)
        return max(delay, retry_after_s) if retry_after_s is not None else delay


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (OpenAI), or ``Retry-After`` as seconds or an HTTP date."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def classify_status(status: int, message: str, headers: Mapping[str, str] | None) -> Fault:
    """What an HTTP error status means for this row and for the run."""
    reason = f"HTTP {status}: {message}".strip()
    if status in _RETRY_STATUSES or status >= 500:
        return Fault("retry", reason, parse_retry_after(headers))
    if status in (400, 413, 422) and _CONTEXT_EXCEEDED.search(message):
        return Fault("too_long", reason)
    if status == 413:
        return Fault("too_long", reason)
    return Fault("fatal", reason)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    classify: Callable[[BaseException], Fault | None],
    policy: RetryPolicy,
    rng: random.Random | None = None,
    before: Callable[[], Awaitable[None]] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[T | None, Fault | None, int]:
    """Run ``call`` until it succeeds or the policy gives up: (result, last fault, attempts).

    ``classify`` maps an exception to a fault, or None for an exception that is
    a bug rather than a fault (it propagates). Each attempt is bounded by the
    request timeout and by what is left of the deadline, so a hung server
    cannot hold a row for longer than ``deadline_s``. ``before`` runs ahead of
    each attempt outside its timeout (waiting for a rate limit is not a slow server);
    ``sleep`` waits out a backoff (a judge's ends early when the judge stops).
    """
    rng = rng or random.Random()
    deadline = time.monotonic() + policy.deadline_s
    fault: Fault | None = None
    attempt = 0
    while attempt < policy.max_attempts:
        attempt += 1
        if before is not None:
            await before()
        remaining = deadline - time.monotonic()
        try:
            result = await asyncio.wait_for(call(), timeout=min(policy.request_timeout_s, remaining))
            return result, None, attempt
        except asyncio.TimeoutError:
            fault = Fault("retry", f"no reply within {min(policy.request_timeout_s, remaining):.3g} s")
        except Exception as exc:  # noqa: BLE001 - classify decides; unknown ones re-raise
            fault = classify(exc)
            if fault is None:
                raise
        if fault.kind != "retry":
            return None, fault, attempt
        if attempt >= policy.max_attempts:
            break
        wait = policy.backoff_s(attempt, fault.retry_after_s, rng)
        if time.monotonic() + wait >= deadline:
            return None, Fault("retry", f"{fault.reason} (deadline of {policy.deadline_s:g} s reached)"), attempt
        await sleep(wait)
    return None, fault, attempt
