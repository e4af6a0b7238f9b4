"""The retry policy's pure parts: what each fault means and how long to wait."""

import asyncio
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from halubench.backends import (
    RetryPolicy,
    build_judge,
    call_with_retries,
    classify_status,
    parse_retry_after,
    resolve_judge,
)
from halubench.errors import ConfigError


@pytest.mark.parametrize("status, message, kind", [
    (429, "rate limited", "retry"), (500, "oops", "retry"), (503, "overloaded", "retry"),
    (529, "overloaded_error", "retry"), (408, "timeout", "retry"), (409, "conflict", "retry"),
    (401, "invalid key", "fatal"), (403, "forbidden", "fatal"), (404, "model not found", "fatal"),
    (400, "unknown parameter 'foo'", "fatal"), (422, "bad body", "fatal"),
    (413, "request_too_large", "too_long"),
    # Context-length errors, as the servers word them (OpenAI, Anthropic, vLLM, llama.cpp, Ollama, TGI)
    (400, "This model's maximum context length is 8192 tokens. However, you requested 9000", "too_long"),
    (400, "This model's maximum context length is 8192 tokens. However, your messages resulted in 8227 tokens. "
          "Please reduce the length of the messages.", "too_long"),
    (400, "prompt is too long: 210000 tokens > 200000 maximum", "too_long"),
    (400, "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length "
          "or `max_tokens` and try again", "too_long"),
    (400, "This model's maximum context length is 4096 tokens. However, your request has 5000 input tokens. "
          "Please reduce the length of the input messages.", "too_long"),
    (400, "'max_tokens' or 'max_completion_tokens' is too large: 600. This model's maximum context length is "
          "2048 tokens and your request has 1500 input tokens (600 > 2048 - 1500).", "too_long"),
    (400, "The decoder prompt (length 17772) is longer than the maximum model length of 16384. Make sure that "
          "`max_model_len` is no smaller than the number of text tokens.", "too_long"),
    (400, "You passed 1900 input tokens and requested 600 output tokens. However, the model's context length is "
          "only 2048 tokens, resulting in a maximum input length of 1448 tokens.", "too_long"),
    (400, "the request exceeds the available context size, try increasing it", "too_long"),
    (400, "request (4390 tokens) exceeds the available context size (4096 tokens), try increasing it", "too_long"),
    (400, "the request exceeds the available context size. try increasing the context size or enable context "
          "shift", "too_long"),
    (400, "Requested tokens (2285) exceed context window of 2048", "too_long"),
    (422, "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4000 `inputs` "
          "tokens and 600 `max_new_tokens`", "too_long"),
    (422, "Input validation error: `inputs` must have less than 2048 tokens. Given: 2222", "too_long"),
    # A misconfigured request is no row's fault: it stops the run
    (400, "temperature exceeds the max of 2.0", "fatal"),
    (400, "too many tokens in stop sequence", "fatal"),
    (400, "max_tokens is too large: 32000. This model supports at most 16384 completion tokens, whereas you "
          "provided 32000.", "fatal"),
    (400, "max_tokens: 32000 > 8192, which is the maximum allowed number of output tokens for "
          "claude-3-5-haiku-20241022", "fatal"),
    (400, "Invalid 'stop': too many items; expected at most 4", "fatal"),
    (422, "Input validation error: `temperature` must be strictly positive", "fatal"),
])
def test_classify_status(status, message, kind):
    fault = classify_status(status, message, {})
    assert fault.kind == kind and str(status) in fault.reason and message in fault.reason


def test_retry_after_forms():
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "150", "retry-after": "9"}) == 0.15
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 < parse_retry_after({"retry-after": later}) <= 30
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    assert classify_status(429, "slow", {"retry-after": "2"}).retry_after_s == 2.0


def test_backoff_is_jittered_capped_and_never_shorter_than_retry_after():
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=8.0)
    rng = random.Random(0)
    waits = [policy.backoff_s(attempt, None, rng) for attempt in range(1, 200)]
    assert all(0 <= w <= 8.0 for w in waits) and len(set(waits)) > 100
    assert max(policy.backoff_s(1, None, rng) for _ in range(100)) <= 1.0
    assert all(policy.backoff_s(1, 5.0, rng) >= 5.0 for _ in range(100))


def test_a_judges_retry_block_is_its_policy():
    spec = resolve_judge("openai:m", overrides=["retry.max_attempts=3", "retry.deadline_s=5"])
    assert build_judge(spec).retry == RetryPolicy(max_attempts=3, deadline_s=5.0)
    assert build_judge(resolve_judge("openai:m")).retry == RetryPolicy()
    with pytest.raises(ConfigError, match="unknown key 'retry.attempts'"):
        resolve_judge("openai:m", overrides=["retry.attempts=3"])
    for bad in ("retry.max_attempts=0", "retry.deadline_s=0", "retry.base_delay_s=-1"):
        with pytest.raises(ConfigError, match=f"--judge-arg {bad}: key '{bad.split('=')[0]}'"):
            resolve_judge("openai:m", overrides=[bad])


def test_attempts_cap_and_deadline():
    calls = []

    async def always_down():
        calls.append(1)
        raise ConnectionError("down")

    def classify(exc):
        return classify_status(503, str(exc), {}) if isinstance(exc, ConnectionError) else None

    policy = RetryPolicy(max_attempts=4, base_delay_s=0.001, max_delay_s=0.001, deadline_s=30)
    result, fault, attempts = asyncio.run(call_with_retries(always_down, classify, policy))
    assert result is None and fault.kind == "retry" and attempts == 4 == len(calls)

    async def hangs():
        await asyncio.sleep(10)

    policy = RetryPolicy(max_attempts=100, base_delay_s=0.001, request_timeout_s=0.05, deadline_s=0.3)
    result, fault, attempts = asyncio.run(call_with_retries(hangs, classify, policy))
    assert result is None and 2 <= attempts < 100 and "deadline of 0.3 s" in fault.reason

    async def bug():
        raise KeyError("not a call fault")

    with pytest.raises(KeyError):
        asyncio.run(call_with_retries(bug, classify, policy))
