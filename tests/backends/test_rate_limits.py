"""Pacing API judges to the providers' rate limits, against a server that enforces them as documented.

The loopback server's limits (tests/fake_rate_limits.py) follow the providers'
pages, not halubench's code: per-minute limits in the headers, the same limits
enforced over one-second windows that the headers do not show, tokens charged
when a request is sent. The figures (how close to the limit a run gets) are the
benchmark's (benchmarks/rate_limit.py); these tests check behaviour: every row
answered, hardly a request refused, the pace after a 429.
"""

from __future__ import annotations

import asyncio

import pytest
from api_runs import FAST_RETRY, api_env, assert_domains_match, expected_metrics, judge_file, rows, summary_of
from conftest import judge_spec, run_cli, write_jsonl
from fake_llm_server import FakeLLMServer, Status, verdicts
from fake_rate_limits import ProviderLimits, count_tokens, request_tokens

from halubench.backends import JudgeRequest, RateLimiter, build_judge, read_limits, resolve_judge
from halubench.errors import ConfigError

BACKENDS = ["openai", "anthropic"]


def run_args(path, defs, *extra: str) -> list[str]:
    return ["run", "--judge", "fast", "--data", str(path), "--include-path", str(defs), *extra]


# --- the server's limits, as the providers document them ----------------------------------------


def test_the_server_enforces_per_second_what_its_per_minute_headers_do_not_show():
    limits = ProviderLimits(requests_per_minute=600, tokens_per_minute=600_000)
    body = {"messages": [{"role": "user", "content": "Is the answer faithful?"}], "max_tokens": 100}
    admitted = [limits.admit("openai", body) for _ in range(12)]
    assert [a.allowed for a in admitted] == [True] * 10 + [False] * 2  # 600/minute = 10/s, at once
    refused = admitted[-1].headers
    assert refused["x-ratelimit-limit-requests"] == "600"  # per minute
    assert int(refused["x-ratelimit-remaining-requests"]) >= 580  # "plenty left", yet refused
    assert refused["retry-after"] == "1"
    # OpenAI counts a request's tokens when it is sent: the prompt plus max_tokens.
    tokens = limits.stats()["buckets"]["openai"]["tokens"]["charged"]
    assert tokens == 10 * (count_tokens("Is the answer faithful?") + 100)


def test_anthropic_charges_max_tokens_of_output_and_gives_back_what_was_not_generated():
    limits = ProviderLimits(requests_per_minute=600, input_tokens_per_minute=60_000, output_tokens_per_minute=60_000)
    body = {"messages": [{"role": "user", "content": "Faithful?"}], "system": "You judge.", "max_tokens": 300}
    admission = limits.admit("anthropic", body)
    headers = admission.headers
    assert headers["anthropic-ratelimit-output-tokens-remaining"] == str(60_000 - 300)
    assert headers["anthropic-ratelimit-input-tokens-remaining"] == str(60_000 - request_tokens("anthropic", body))
    assert headers["anthropic-ratelimit-tokens-remaining"] == headers["anthropic-ratelimit-output-tokens-remaining"]
    limits.finish(admission, output_tokens=20)
    assert limits.stats()["buckets"]["anthropic"]["output-tokens"]["charged"] == 20
    # The client reads two token limits, not three: anthropic-ratelimit-tokens-* repeats the tighter one.
    assert set(read_limits(headers)) == {"requests", "input-tokens", "output-tokens"}
    assert read_limits(headers)["requests"].per_minute == 600


# --- runs at high concurrency -----------------------------------------------------------------------


LIMITS = {
    "requests": dict(requests_per_minute=6000, tokens_per_minute=10**9, input_tokens_per_minute=10**9,
                     output_tokens_per_minute=10**9),
    # prompts of ~150 tokens (+ 600 max_tokens): ~65 calls/s of OpenAI's and ~55 of Anthropic's token limit,
    # under the request limit's 100/s
    "tokens": dict(requests_per_minute=6000, tokens_per_minute=3_000_000, input_tokens_per_minute=500_000,
                   output_tokens_per_minute=10**9),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("binding", list(LIMITS))
def test_a_run_at_concurrency_64_is_paced_under_the_limits(tmp_path, backend, binding):
    """Unpaced, 64 calls at once against 100 requests/s enforced per second would draw 429s by the dozen."""
    data = rows(150)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = judge_file(tmp_path, "fast", backend)
    with FakeLLMServer(limits=ProviderLimits(**LIMITS[binding])) as server:
        result = run_cli(*run_args(path, defs, "--concurrency", "64", "--no-cache"), cwd=tmp_path,
                         env=api_env(server))
        assert result.returncode == 0, result.stderr
        stats = server.limits.stats()
        replies = server.replies()
    assert stats["allowed"] == 150 and stats["refused"] <= 1, stats  # under 1%
    used = stats["buckets"][backend]
    tightest = max(used, key=lambda name: used[name]["charged"] / used[name]["per_minute"])
    assert tightest == ("requests" if binding == "requests" else
                        {"openai": "tokens", "anthropic": "input-tokens"}[backend])
    summary, _ = summary_of(tmp_path, "fast")
    assert_domains_match(summary, expected_metrics(data, replies))


def test_limits_stated_in_the_judge_file_pace_a_server_that_sends_none(tmp_path):
    data = rows(120)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    refused = {}
    for stated in (None, {"requests_per_minute": 3000}):
        folder = tmp_path / ("stated" if stated else "silent")
        folder.mkdir()
        defs = judge_file(folder, "fast", "openai", **({"rate_limit": stated} if stated else {}))
        with FakeLLMServer(limits=ProviderLimits(requests_per_minute=3000, headers=False)) as server:
            result = run_cli(*run_args(path, defs, "--concurrency", "64", "--no-cache"), cwd=folder,
                             env=api_env(server))
            refused[bool(stated)] = server.limits.stats()["refused"]
        if stated:
            assert result.returncode == 0, result.stderr
    assert refused[True] <= 1 and refused[False] > 10, refused  # unpaced: 64 at once against 50/s


def test_stated_limits_are_no_part_of_the_reply_identity():
    plain = build_judge(judge_spec("a", "openai", "m", base_url="http://127.0.0.1:9/v1"))
    stated = build_judge(judge_spec("a", "openai", "m", base_url="http://127.0.0.1:9/v1",
                                    rate_limit={"requests_per_minute": 50, "tokens_per_minute": 30_000}))
    assert plain.cache_identity() == stated.cache_identity()
    assert plain.spec.reply_settings() == stated.spec.reply_settings()
    assert stated.limiter.buckets.keys() == {"requests", "tokens"}
    # The same from the command line: --judge-arg rate_limit.requests_per_minute=50
    spec = resolve_judge("openai:m", overrides=["rate_limit.requests_per_minute=50"])
    assert spec.settings.rate_limit.per_minute() == {"requests": 50}
    with pytest.raises(ConfigError, match="rate_limit.request_per_minute"):
        resolve_judge("openai:m", overrides=["rate_limit.request_per_minute=50"])


def test_a_429_holds_every_call_of_the_judge_for_its_retry_after(tmp_path):
    """Row 0's first call is refused with retry-after 1: no call of any row leaves during that second."""

    def refuse_first(call):
        if call.n == 1 and "Record 0:" in call.prompt:
            return Status(429, "slow down", {"retry-after": "1"})
        return verdicts(call)

    async def go():
        judge = build_judge(judge_spec("fast", "openai", "m", retry=FAST_RETRY))
        await judge.start()
        try:
            requests = [JudgeRequest(f"r{i}", ({"role": "user", "content": row_prompt(i)},), {}, ("PASS", "FAIL"))
                        for i in range(6)]
            return [reply async for reply in judge.stream(requests, 6)]
        finally:
            await judge.close()

    with FakeLLMServer(refuse_first) as server:
        env = api_env(server)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            replies = asyncio.run(go())
        log = list(server.log)
    assert all(reply.ok for reply in replies)
    refused_at = next(e.started for e in log if isinstance(e.action, Status))
    after = [e.started for e in log if e.started > refused_at]
    assert after and min(after) - refused_at >= 1.0


def row_prompt(i: int) -> str:
    return f"Record {i}: the bridge opened in {1800 + i}. Is the answer faithful?"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


OPENAI_HEADERS = {"x-ratelimit-limit-requests": "600", "x-ratelimit-remaining-requests": "590"}


def test_the_pace_drops_once_per_429_hold_and_recovers_as_calls_pass():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    limiter.observe(OPENAI_HEADERS, 200, None)
    assert limiter.pace == 1.0 and limiter.buckets["requests"].per_minute == 600
    limiter.observe({**OPENAI_HEADERS, "retry-after": "2"}, 429, None)
    assert (limiter.pace, limiter.blocked_until) == (0.75, 1002.0)
    clock.now += 0.5
    limiter.observe({**OPENAI_HEADERS, "retry-after": "2"}, 429, None)  # the same burst, seen again
    assert limiter.pace == 0.75 and limiter.blocked_until == 1002.5
    clock.now += 2.0
    limiter.observe({**OPENAI_HEADERS, "retry-after": "1"}, 429, None)  # refused after the hold: lower
    assert limiter.pace == pytest.approx(0.5625)
    for _ in range(7):  # 3 seconds of calls passing, one every half second
        clock.now += 0.5
        limiter.observe(OPENAI_HEADERS, 200, None)
    assert limiter.pace == pytest.approx(0.8625)  # +0.1 of the limit per second
    for _ in range(10):
        clock.now += 0.5
        limiter.observe(OPENAI_HEADERS, 200, None)
    assert limiter.pace == 1.0  # and held there


def test_a_reply_lowers_the_local_bucket_to_what_the_server_reports_never_raises_it():
    clock = Clock()
    limiter = RateLimiter(clock=clock)
    limiter.observe(OPENAI_HEADERS, 200, None)
    assert limiter.buckets["requests"].minute == 590  # another client spent 10 of this minute's 600
    limiter.observe({**OPENAI_HEADERS, "x-ratelimit-remaining-requests": "599"}, 200, None)
    assert limiter.buckets["requests"].minute == 590
