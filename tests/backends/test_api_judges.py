"""API judges through the official SDKs against a real HTTP server on loopback.

The server (tests/fake_llm_server.py) speaks both wire formats and is scripted
per call; the expected results are computed from what it actually answered.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest
from api_runs import (
    DOMAINS,
    FAST_RETRY,
    api_env,
    assert_domains_match,
    expected_metrics,
    judge_file,
    row_of,
    rows,
    summary_of,
)
from conftest import judge_spec, run_cli, write_jsonl
from fake_llm_server import Delay, Drop, FakeLLMServer, Garbage, Status, Text, verdict_reply, verdicts
from fake_rate_limits import count_tokens, request_tokens

from halubench.backends import JudgeRequest, build_judge, cache_key, resolve_judge
from halubench.config import resolve_template
from halubench.data import Sample
from halubench.errors import JudgeError

SECRET = "sk-" + "test-0123456789abcdef"  # assembled: no key-shaped text is tracked


# --- must show: the named judges against any server that speaks the wire format ---------------


@pytest.mark.parametrize("judge, api", [("gpt-4o", "openai"), ("claude-3-5-sonnet", "anthropic")])
def test_named_judge_against_a_local_server(tmp_path, judge, api):
    data = rows(30)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    with FakeLLMServer() as server:
        result = run_cli("run", "--judge", judge, "--task", "halubench", "--data", str(path),
                         cwd=tmp_path, env=api_env(server, key=SECRET))
        replies = server.replies()
        bodies = [e.call for e in server.log]
    assert result.returncode == 0, result.stderr
    assert {c.api for c in bodies} == {api} and len(bodies) == 30
    spec = resolve_judge(judge)
    assert {c.model for c in bodies} == {spec.model}
    assert all(c.body["temperature"] == 0 and c.body["max_tokens"] == 600 for c in bodies)
    summary, samples = summary_of(tmp_path, judge)
    assert_domains_match(summary, expected_metrics(data, replies))
    for domain in DOMAINS:
        assert domain in result.stdout
    usage = summary["usage"]
    input_tokens = sum(request_tokens(c.api, c.body) for c in bodies)  # the server's count, as it reported it
    output_tokens = sum(count_tokens(r.text) for r in replies.values())
    price = spec.settings.price_per_million
    assert (usage["input_tokens"], usage["output_tokens"]) == (input_tokens, output_tokens)
    assert usage["cost_usd"] == pytest.approx((input_tokens * price.input + output_tokens * price.output) / 1e6)
    assert usage["model_versions"] == {f"{spec.model}-fake-0001": 30}
    assert usage["latency_p50_s"] > 0 and usage["latency_p95_s"] >= usage["latency_p50_s"]
    assert summary["provenance"]["judge"]["model"] == spec.model
    written = "".join(p.read_text() for p in (tmp_path / "results").rglob("*.json*"))
    assert SECRET not in written and SECRET not in result.stdout + result.stderr


def test_real_passages_through_the_wire(tmp_path, shared_data):
    """Long, unicode-rich passages from the real data reach the server intact and score as it said."""
    import jinja2

    source = shared_data / "halubench-like" / "covidqa.jsonl"
    data = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()][:120]
    path = write_jsonl(tmp_path / "d.jsonl", data)
    template = jinja2.Template(resolve_template("faithfulness").source)
    index = {template.render(**row): i for i, row in enumerate(data)}
    with FakeLLMServer() as server:
        result = run_cli("run", "--judge", "gpt-4o-mini", "--data", str(path), "--concurrency", "16",
                         cwd=tmp_path, env=api_env(server))
        replies = server.replies()
    assert result.returncode == 0, result.stderr
    assert set(replies) == set(index)  # every prompt arrived byte for byte
    summary, _ = summary_of(tmp_path, "gpt-4o-mini")
    assert_domains_match(summary, expected_metrics(data, replies, locate=index.__getitem__))


def test_ad_hoc_judge_with_base_url_needs_no_key(tmp_path):
    data = rows(6)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    with FakeLLMServer() as server:
        result = run_cli("run", "--judge", "openai:my-local-model", "--data", str(path),
                         "--base-url", server.openai_base_url, cwd=tmp_path,
                         env={"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
        replies = server.replies()
        assert {e.call.model for e in server.log} == {"my-local-model"}
    assert result.returncode == 0, result.stderr
    summary, _ = summary_of(tmp_path, "openai_my-local-model")
    assert_domains_match(summary, expected_metrics(data, replies))
    assert summary["provenance"]["judge"]["base_url"] == server.openai_base_url


# --- faults ----------------------------------------------------------------------------------


def faulty(call):
    """Every row meets one or two faults before its answer; some answers come slowly."""
    plan = {
        0: [Status(429, "rate limited", {"retry-after": "0"})],
        1: [Status(500, "internal error"), Status(503, "overloaded")],
        2: [Drop()],
        3: [Garbage()],
        4: [Delay(4.0, Text("too late"))],  # beyond request_timeout_s: the client gives up and retries
        5: [Status(529, "overloaded_error"), Drop()],
        6: [],
    }[row_of(call.prompt) % 7]
    if call.n <= len(plan):
        return plan[call.n - 1]
    reply = verdict_reply(call.prompt)
    return Delay(0.05, reply) if row_of(call.prompt) % 5 == 0 else reply


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
def test_results_under_faults_equal_fault_free_results(tmp_path, backend):
    data = rows(42)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = judge_file(tmp_path, "fast", backend)
    outcomes = {}
    for label, script in (("clean", verdicts), ("faulty", faulty)):
        folder = tmp_path / label
        folder.mkdir()
        with FakeLLMServer(script) as server:
            result = run_cli("run", "--judge", "fast", "--data", str(path), "--include-path", str(defs),
                             "--concurrency", "8", cwd=folder, env=api_env(server))
            calls = sum(server.calls.values())
            replies = server.replies()
        assert result.returncode == 0, result.stderr
        summary, samples = summary_of(folder, "fast")
        assert_domains_match(summary, expected_metrics(data, replies))
        outcomes[label] = (summary["metrics"], [(s["id"], s["verdict"], s["status"]) for s in samples], calls)
    assert outcomes["faulty"][:2] == outcomes["clean"][:2]
    assert outcomes["clean"][2] == 42 and outcomes["faulty"][2] > 42 + 30


def test_retry_after_is_honoured(monkeypatch):
    async def go(server):
        judge = build_judge(judge_spec("fast", "openai", "m", retry=FAST_RETRY))
        await judge.start()
        try:
            return await judge.complete(request("slow down please"))
        finally:
            await judge.close()

    def script(call):
        return Status(429, "slow down", {"retry-after": "1"}) if call.n == 1 else verdicts(call)

    with FakeLLMServer(script) as server:
        set_env(monkeypatch, api_env(server))
        reply = asyncio.run(go(server))
        first, second = server.log
    assert reply.ok and reply.extra["attempts"] == 2
    assert second.started - first.started >= 1.0  # the backoff alone would wait at most 0.01 s


def test_a_run_with_failed_rows_is_incomplete_and_the_next_run_asks_only_those(tmp_path):
    data = rows(9)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = judge_file(tmp_path, "fast", "openai", retry={**FAST_RETRY, "max_attempts": 3})

    def broken_rows(call):
        return Status(503, "down for maintenance") if row_of(call.prompt) in (4, 7) else verdicts(call)

    args = ("run", "--judge", "fast", "--data", str(path), "--include-path", str(defs))
    with FakeLLMServer(broken_rows) as server:
        result = run_cli(*args, cwd=tmp_path, env=api_env(server))
        # Written, marked incomplete, the reasons grouped, and a failed command.
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "halubench: 2 errors: HTTP 503: down for maintenance x2" in result.stderr
        assert server.calls[next(p for p in server.calls if row_of(p) == 4)] == 3
        summary, samples = summary_of(tmp_path, "fast")
        assert summary["complete"] is False and summary["failures"] == {"HTTP 503: down for maintenance": 2}
        assert summary["metrics"]["overall"]["errors"] == 2
        broken = next(s for s in samples if s["id"] == "r4")
        assert broken["status"] == "error" and broken["verdict"] is None
        assert "HTTP 503" in broken["error"] and "3 attempts" in broken["error"]
        board = run_cli("report", "--task", "halubench", "--no-reported", cwd=tmp_path)
        main, apart = board.stdout.split("not ranked")
        assert "fast" not in main and "incomplete: 2 failed rows" in apart

        server.reset()
        server.script = verdicts  # the same endpoint (part of the cache key), healthy again
        result = run_cli(*args, cwd=tmp_path, env=api_env(server))
        assert result.returncode == 0, result.stderr
        assert sorted(row_of(p) for p in server.calls) == [4, 7]
    summary, _ = summary_of(tmp_path, "fast")  # the same configuration: its files were replaced
    assert summary["complete"] is True and summary["metrics"]["overall"]["errors"] == 0
    assert summary["usage"]["cached_replies"] == 7
    board = run_cli("report", "--task", "halubench", "--no-reported", cwd=tmp_path)
    assert "fast" in board.stdout and "not ranked" not in board.stdout


def test_context_window(tmp_path):
    """A row over the window is counted as too long: by estimate before a call, or by the server."""
    data = rows(6)
    data[1]["passage"] = "Record 1: " + "word " * 4000  # ~20 kB: surely over 2,000 tokens
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = judge_file(tmp_path, "small", "openai", context_window=2000)

    def server_says_too_long(call):
        if row_of(call.prompt) == 2:
            return Status(400, "This model's maximum context length is 2000 tokens. However, you requested 2100")
        return verdicts(call)

    with FakeLLMServer(server_says_too_long) as server:
        result = run_cli("run", "--judge", "small", "--data", str(path), "--include-path", str(defs),
                         cwd=tmp_path, env=api_env(server))
        called = sorted(row_of(p) for p in server.calls)
        first = summary_of(tmp_path, "small")
        written = {p: p.read_bytes() for p in (tmp_path / "results").rglob("*.*")}
        # Too long is a cached verdict like a reply: a re-run calls nothing and counts the same rows.
        again = run_cli("run", "--judge", "small", "--data", str(path), "--include-path", str(defs),
                        cwd=tmp_path, env=api_env(server))
        assert again.returncode == 0, again.stderr
        assert sorted(row_of(p) for p in server.calls) == called
    assert result.returncode == 0, result.stderr
    assert called == [0, 2, 3, 4, 5]  # row 1 never left the machine
    summary, samples = first
    assert summary["n"] == 6 and summary["metrics"]["overall"]["too_long"] == 2
    status = {s["id"]: s["status"] for s in samples}
    assert status["r1"] == status["r2"] == "too_long"
    assert "context window of 2000" in next(s["error"] for s in samples if s["id"] == "r1")
    # Nothing changed, so the results files are left exactly as they were (dates included).
    assert {p: p.read_bytes() for p in (tmp_path / "results").rglob("*.*")} == written


# --- faults that stop the run ------------------------------------------------------------------


CONTEXT_ERRORS = {
    "openai": "This model's maximum context length is 8192 tokens. However, your messages resulted in 8227 tokens. "
              "Please reduce the length of the messages.",
    "anthropic": "prompt is too long: 210000 tokens > 200000 maximum",
}


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
@pytest.mark.parametrize("message", ["temperature exceeds the max of 2.0", "too many tokens in stop sequence"])
def test_a_misconfigured_request_stops_the_run_and_caches_nothing(tmp_path, backend, message):
    """A 400 that is not about the prompt's length would be the same for every row: it ends the run."""
    path = write_jsonl(tmp_path / "d.jsonl", rows(12))
    defs = judge_file(tmp_path, "fast", backend)
    cache = tmp_path / "cache.sqlite"
    with FakeLLMServer(lambda call: Status(400, message)) as server:
        result = run_cli("run", "--judge", "fast", "--data", str(path), "--include-path", str(defs),
                         "--concurrency", "2", cwd=tmp_path, env={**api_env(server), "HALUBENCH_CACHE": str(cache)})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr and "HTTP 400" in result.stderr
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT count(*) FROM replies").fetchone()[0] == 0
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
def test_a_server_context_length_error_is_too_long(tmp_path, backend):
    data = rows(6)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = judge_file(tmp_path, "fast", backend)

    def row_3_too_long(call):
        return Status(400, CONTEXT_ERRORS[backend]) if row_of(call.prompt) == 3 else verdicts(call)

    with FakeLLMServer(row_3_too_long) as server:
        result = run_cli("run", "--judge", "fast", "--data", str(path), "--include-path", str(defs),
                         cwd=tmp_path, env=api_env(server))
    assert result.returncode == 0, result.stderr
    summary, samples = summary_of(tmp_path, "fast")
    assert summary["metrics"]["overall"]["too_long"] == 1
    too_long = [s for s in samples if s["status"] == "too_long"]
    assert [s["id"] for s in too_long] == ["r3"] and CONTEXT_ERRORS[backend] in too_long[0]["error"]



@pytest.mark.parametrize("judge, variable", [("gpt-4o-mini", "OPENAI_API_KEY"),
                                             ("claude-haiku-4-5", "ANTHROPIC_API_KEY")])
def test_missing_key_stops_before_any_row(tmp_path, judge, variable):
    path = write_jsonl(tmp_path / "d.jsonl", rows(3))
    with FakeLLMServer() as server:
        result = run_cli("run", "--judge", judge, "--data", str(path), cwd=tmp_path, env=api_env(server, key=""))
        assert server.log == []
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert f"set {variable}" in result.stderr
    # The key is checked before any data is read: with a missing data file too, the key is what is reported.
    result = run_cli("run", "--judge", judge, "--data", str(tmp_path / "absent.jsonl"), cwd=tmp_path,
                     env=api_env(server, key=""))
    assert result.returncode == 2 and f"set {variable}" in result.stderr and "absent" not in result.stderr


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
def test_401_stops_the_run_at_once(tmp_path, backend):
    path = write_jsonl(tmp_path / "d.jsonl", rows(200))
    defs = judge_file(tmp_path, "fast", backend)
    with FakeLLMServer(api_key="the-right-key") as server:
        result = run_cli("run", "--judge", "fast", "--data", str(path), "--include-path", str(defs),
                         "--concurrency", "4", cwd=tmp_path, env=api_env(server, key="a-wrong-key-123"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert "401" in message and ("OPENAI_API_KEY" if backend == "openai" else "ANTHROPIC_API_KEY") in message
    assert "a-wrong-key-123" not in message
    assert not (tmp_path / "results").exists()


def test_unknown_model_stops_the_run(monkeypatch):
    def no_such_model(call):
        return Status(404, f"The model `{call.model}` does not exist or you do not have access to it.")

    with FakeLLMServer(no_such_model) as server:
        set_env(monkeypatch, api_env(server))
        judge = build_judge(judge_spec("j", "openai", "gpt-9"))

        async def go():
            await judge.start()
            try:
                await judge.complete(request("anything"))
            finally:
                await judge.close()

        with pytest.raises(JudgeError, match="check the model id 'gpt-9'"):
            asyncio.run(go())
        assert len(server.log) == 1


# --- empty and cut-off replies --------------------------------------------------------------------

CUT_AT_LIMIT = {"openai": "length", "anthropic": "max_tokens"}
NORMAL_END = {"openai": "stop", "anthropic": "end_turn"}


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
def test_empty_and_cut_off_replies_are_truncated_and_asked_again(tmp_path, backend):
    data = rows(9)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = judge_file(tmp_path, "fast", backend)
    cut = CUT_AT_LIMIT[backend]
    odd = {
        0: Text("", None, cut),  # a reasoning model that spent every token before answering
        1: Text(None),  # a refusal with no content at all
        2: Text('{"REASONING": ["the passage says the bridge opened in', None, cut),
        3: Text('{"REASONING": ["ok"], "SCORE": "FAIL"}\n{"REASONING": ["and on', "FAIL", cut),  # verdict read
    }

    def script(call):
        return odd.get(row_of(call.prompt)) or verdicts(call)

    args = ("run", "--judge", "fast", "--data", str(path), "--include-path", str(defs))
    with FakeLLMServer(script) as server:
        result = run_cli(*args, cwd=tmp_path, env=api_env(server))
        replies = server.replies()
        first = summary_of(tmp_path, "fast")
        report = run_cli("report", "--no-reported", "--markdown", str(tmp_path / "board.md"), cwd=tmp_path)
        server.reset()
        server.script = verdicts  # the model answers in full this time
        again = run_cli(*args, cwd=tmp_path, env=api_env(server))
        asked = sorted(row_of(p) for p in server.calls)
    assert result.returncode == 0, result.stderr
    summary, samples = first
    by_id = {s["id"]: s for s in samples}
    assert [by_id[f"r{i}"]["status"] for i in range(4)] == ["truncated"] * 3 + ["ok"]
    assert by_id["r3"]["verdict"] == "FAIL" and by_id["r0"]["verdict"] is None
    assert [by_id[f"r{i}"]["finish_reason"] for i in range(5)] == [cut, NORMAL_END[backend], cut, cut,
                                                                  NORMAL_END[backend]]
    verdict_of = {row_of(p): reply.verdict for p, reply in replies.items()}
    overall = summary["metrics"]["overall"]
    assert overall["truncated"] == 3
    assert overall["unparsed"] == sum(verdict_of[i] is None for i in range(4, 9))
    assert overall["correct"] == sum(verdict_of[i] == row["label"] for i, row in enumerate(data))
    assert overall["accuracy"] == overall["correct"] / 9  # truncated rows count as wrong
    assert "truncated" in result.stdout
    assert report.returncode == 0, report.stderr
    header, _, row = [line for line in (tmp_path / "board.md").read_text().splitlines() if line.startswith("|")]
    cells = {k.strip(): v.strip() for k, v in zip(header.split("|"), row.split("|"), strict=True)}
    assert cells["truncated %"] == "33.3"  # 3 of 9 rows
    assert again.returncode == 0, again.stderr
    assert asked == [0, 1, 2, 3]  # empty and cut-off replies were not cached as final
    summary, _ = summary_of(tmp_path, "fast")
    assert summary["metrics"]["overall"]["truncated"] == 0


# --- cache and resume ---------------------------------------------------------------------------


def test_kill_9_and_resume_calls_only_missing_rows(tmp_path):
    data = rows(90)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = judge_file(tmp_path, "fast", "openai")
    args = ["run", "--judge", "fast", "--data", str(path), "--include-path", str(defs), "--concurrency", "4"]

    def slow(call):
        return Delay(0.03, verdict_reply(call.prompt))

    with FakeLLMServer(slow) as server:
        env = {**os.environ, **api_env(server), "HALUBENCH_CACHE": str(tmp_path / "cache.sqlite")}
        process = subprocess.Popen([sys.executable, "-m", "halubench", *args], cwd=tmp_path, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while sum(e.finished is not None for e in list(server.log)) < 30:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        first_calls = Counter(server.calls)
        with sqlite3.connect(tmp_path / "cache.sqlite") as db:
            stored = {key for (key,) in db.execute("SELECT key FROM replies")}
        assert 0 < len(stored) < 90

        server.reset()
        result = run_cli(*args, cwd=tmp_path, env=api_env(server))
        assert result.returncode == 0, result.stderr
        second_calls = Counter(server.calls)
        endpoint = {"base_url": server.openai_base_url}
        identity = build_judge(judge_spec("fast", "openai", "fake-model", **endpoint)).cache_identity()
        replies = server.replies()

    def key(prompt: str) -> str:
        return cache_key(identity, ({"role": "user", "content": prompt},))

    assert {key(p) for p in first_calls} >= stored  # the keys are what this test thinks they are
    assert not {key(p) for p in second_calls} & stored  # no row with a saved reply was called again
    assert sum(second_calls.values()) == 90 - len(stored) and max(second_calls.values()) == 1
    summary, samples = summary_of(tmp_path, "fast")
    assert summary["usage"]["cached_replies"] == len(stored) and summary["usage"]["called"] == 90 - len(stored)
    all_replies = {p: verdict_reply(p) for p in first_calls | second_calls}
    assert len(all_replies) == 90
    assert_domains_match(summary, expected_metrics(data, all_replies))
    assert all(replies[p] == verdict_reply(p) for p in replies)


def test_two_runs_sharing_the_cache_at_once(tmp_path):
    data = rows(60)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = judge_file(tmp_path, "fast", "openai")
    cache = tmp_path / "shared.sqlite"

    def slow(call):
        return Delay(0.02, verdict_reply(call.prompt))

    with FakeLLMServer(slow) as server:
        env = {**os.environ, **api_env(server), "HALUBENCH_CACHE": str(cache)}
        runs = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            runs.append(subprocess.Popen(
                [sys.executable, "-m", "halubench", "run", "--judge", "fast", "--data", str(path),
                 "--include-path", str(defs), "--concurrency", "4"],
                cwd=tmp_path / name, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        for run in runs:
            assert run.wait(timeout=120) == 0, run.stderr.read()
        calls = sum(server.calls.values())
        replies = server.replies()

        server.reset()  # a third run finds everything cached: no call made
        result = run_cli("run", "--judge", "fast", "--data", str(path), "--include-path", str(defs),
                         cwd=tmp_path / "a", env={**api_env(server), "HALUBENCH_CACHE": str(cache)})
        assert result.returncode == 0, result.stderr
        assert server.log == []
    expected = expected_metrics(data, replies)
    results = [summary_of(tmp_path / name, "fast") for name in ("a", "b")]
    for summary, _ in results:
        assert_domains_match(summary, expected)
    assert [s["verdict"] for s in results[0][1]] == [s["verdict"] for s in results[1][1]]
    assert 60 <= calls <= 120
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT count(*) FROM replies").fetchone()[0] == 60
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_cache_identity_separates_endpoints_models_and_settings(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    base = build_judge(judge_spec("a", "openai", "m")).cache_identity()
    assert base == {"backend": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1",
                    "generation": {"temperature": 0, "max_tokens": 600}}
    others = [
        judge_spec("a", "openai", "m2"),
        judge_spec("a", "openai", "m", base_url="http://127.0.0.1:10/v1"),
        judge_spec("a", "openai", "m", generation={"temperature": 0.7}),
        judge_spec("a", "anthropic", "m"),
    ]
    identities = [build_judge(spec).cache_identity() for spec in others]
    assert all(identity != base for identity in identities)
    assert "key" not in json.dumps(identities + [base]).lower()
    same = build_judge(judge_spec("b", "openai", "m", retry=FAST_RETRY, api_key_env="MY_KEY"))
    assert same.cache_identity() == base  # retries and key names do not change a reply


def test_refresh_and_no_cache(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", rows(6))
    defs = judge_file(tmp_path, "fast", "openai")
    args = ("run", "--judge", "fast", "--data", str(path), "--include-path", str(defs))
    with FakeLLMServer() as server:
        for extra, calls in (((), 6), ((), 0), (("--refresh",), 6), (("--no-cache",), 6)):
            server.reset()
            result = run_cli(*args, *extra, cwd=tmp_path, env=api_env(server))
            assert result.returncode == 0, result.stderr
            assert sum(server.calls.values()) == calls, extra


# --- generation settings reach the wire ----------------------------------------------------------


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
def test_generation_settings_and_system_messages_reach_the_body(backend, monkeypatch):
    generation = {"temperature": 0, "max_tokens": 64, "top_k": 1,
                  ("stop" if backend == "openai" else "stop_sequences"): ["<|eot_id|>"]}
    spec = judge_spec("j", backend, "m", generation=generation)
    messages = ({"role": "system", "content": "Be strict."}, {"role": "user", "content": "Record 0: hi"})
    with FakeLLMServer() as server:
        set_env(monkeypatch, api_env(server))
        judge = build_judge(spec)

        async def go():
            await judge.start()
            try:
                return await judge.complete(request("", messages))
            finally:
                await judge.close()

        reply = asyncio.run(go())
        body = server.log[0].call.body
    assert reply.ok
    assert {k: body[k] for k in generation} == generation
    if backend == "anthropic":
        assert body["system"] == "Be strict." and [m["role"] for m in body["messages"]] == ["user"]


# --- helpers ---------------------------------------------------------------------------------


def request(prompt: str, messages: tuple | None = None) -> JudgeRequest:
    sample = Sample("s", "PASS", {})
    return JudgeRequest("k", messages or ({"role": "user", "content": prompt},), sample.fields, ("PASS", "FAIL"))


def set_env(monkeypatch, values: dict[str, str]) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)
