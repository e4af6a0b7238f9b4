"""Batch mode through the official SDKs, against the loopback server.

The server (tests/fake_llm_server.py + fake_batch_api.py) speaks both batch
APIs and answers each batch item with the same script as a synchronous call,
so a batch run and a synchronous run of the same rows must agree exactly.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from api_runs import api_env, assert_domains_match, expected_metrics, judge_file, row_of, rows, summary_of
from conftest import REPO, run_cli, write_jsonl
from fake_batch_api import Expired
from fake_llm_server import FakeLLMServer, Status, verdicts

from halubench.backends import Reply, ReplyCache, build_judge, resolve_judge, with_batch_flags
from halubench.errors import ConfigError

FAST_POLL = {"first_s": 0.02, "factor": 1.5, "max_s": 0.1}
TESTS = REPO / "tests"
BACKENDS = ["openai", "anthropic"]


def batch_judge(folder, backend: str, **settings):
    return judge_file(folder, "fast", backend, batch_discount=0.5, batch_poll=FAST_POLL, **settings)


def run_args(path, defs, *extra: str) -> list[str]:
    return ["run", "--judge", "fast", "--data", str(path), "--include-path", str(defs), *extra]


def outcome(folder) -> tuple[dict, list[tuple]]:
    summary, samples = summary_of(folder, "fast")
    return summary, [(s["id"], s["verdict"], s["status"]) for s in samples]


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_run_equals_sync_run_at_half_the_cost(tmp_path, backend):
    data = rows(24)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = batch_judge(tmp_path, backend, batch_size=10)
    results = {}
    with FakeLLMServer() as server:
        for mode in ("sync", "batch"):
            folder = tmp_path / mode
            folder.mkdir()
            server.reset()
            extra = ("--batch",) if mode == "batch" else ()
            result = run_cli(*run_args(path, defs, *extra), cwd=folder, env=api_env(server))
            assert result.returncode == 0, result.stderr
            assert sum(server.calls.values()) == 24
            results[mode] = (*outcome(folder), result)
        assert len(server.batches.created) == 3 and server.batches.items_run == 24  # 24 rows, 10 per batch
        replies = server.replies()
    (sync, sync_rows, _), (batch, batch_rows, run) = results["sync"], results["batch"]
    assert "split into 3 batches" in run.stdout and "at most 10 requests" in run.stdout
    assert batch["metrics"] == sync["metrics"] and batch_rows == sync_rows
    assert_domains_match(batch, expected_metrics(data, replies))
    assert (batch["usage"]["mode"], sync["usage"]["mode"]) == ("batch", "sync")
    for side in ("input_tokens", "output_tokens"):
        assert batch["usage"][side] == sync["usage"][side] > 0
    assert batch["usage"]["cost_usd"] == pytest.approx(sync["usage"]["cost_usd"] / 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_while_polling_then_rerun_submits_no_new_batch(tmp_path, backend):
    data = rows(15)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = batch_judge(tmp_path, backend)
    cache = tmp_path / "cache.sqlite"
    with FakeLLMServer() as server:
        server.batches.polls_to_end = 10**9  # in flight until the test lets it end
        env = {**os.environ, **api_env(server), "HALUBENCH_CACHE": str(cache)}
        process = subprocess.Popen([sys.executable, "-m", "halubench", *run_args(path, defs, "--batch")],
                                   cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not server.batches.created or server.batches.batches[server.batches.created[0]].polls < 3:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        submitted = list(server.batches.created)
        with sqlite3.connect(cache) as db:
            recorded = db.execute("SELECT batch_id, closed_at FROM batches").fetchall()
            items = db.execute("SELECT count(*) FROM batch_items").fetchone()[0]
        assert recorded == [(submitted[0], None)] and items == 15

        server.batches.polls_to_end = 2
        result = run_cli(*run_args(path, defs, "--batch"), cwd=tmp_path, env=api_env(server))
        assert result.returncode == 0, result.stderr
        assert server.batches.created == submitted  # polled the old batch, submitted nothing
        assert "submitted earlier" in result.stdout
        replies = server.replies()
    summary, _ = summary_of(tmp_path, "fast")
    assert_domains_match(summary, expected_metrics(data, replies))
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT count(*) FROM batches WHERE closed_at IS NULL").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM replies").fetchone()[0] == 15


def flaky_items(call):
    """Row 3 is too long for the model; some rows error or expire the first time they are run."""
    row = row_of(call.prompt)
    if row == 3:
        return Status(400, "prompt is too long: 250000 tokens > 200000 maximum")
    if call.n == 1 and row % 4 == 1:
        return Status(500, "internal server error")
    if call.n == 1 and row % 4 == 2:
        return Expired()
    return verdicts(call)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fallback", ["batch", "sync"])
def test_failed_items_are_retried_and_answered(tmp_path, backend, fallback):
    data = rows(16)
    data[0]["passage"] = "Record 0: " + "word " * 4000  # ~20 kB: surely over 2,000 tokens, never sent
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = batch_judge(tmp_path, backend, context_window=2000)
    with FakeLLMServer(flaky_items) as server:
        result = run_cli(*run_args(path, defs, "--batch", "--batch-fallback", fallback), cwd=tmp_path,
                         env=api_env(server))
        assert result.returncode == 0, result.stderr
        created, items_run, calls = len(server.batches.created), server.batches.items_run, sum(server.calls.values())
        replies = server.replies()
    failed_first = [r for r in range(16) if r % 4 in (1, 2)]  # 8 rows
    assert "8 item(s) failed" in result.stdout
    if fallback == "batch":
        assert (created, items_run, calls) == (2, 15 + 8, 15 + 8)
    else:
        assert (created, items_run, calls) == (1, 15, 15 + 8)  # the 8 went as ordinary calls
    summary, samples = summary_of(tmp_path, "fast")
    status = {s["id"]: s["status"] for s in samples}
    assert status["r0"] == status["r3"] == "too_long" and summary["metrics"]["overall"]["errors"] == 0
    assert all(status[f"r{r}"] in ("ok", "unparsed") for r in failed_first)
    said = {row_of(p): reply.verdict for p, reply in replies.items()}
    assert {s["id"]: s["verdict"] for s in samples if s["id"] not in ("r0", "r3")} == {
        f"r{r}": said[r] for r in range(16) if r not in (0, 3)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_batch_cancelled_at_the_provider_is_sent_again(tmp_path, backend):
    """Someone cancels the batch (the SDK's cancel call) while the run waits: its items go in a follow-up."""
    import anthropic
    import openai

    data = rows(8)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = batch_judge(tmp_path, backend)
    with FakeLLMServer() as server:
        server.batches.polls_to_end = 10**9
        env = {**os.environ, **api_env(server), "HALUBENCH_CACHE": str(tmp_path / "cache.sqlite")}
        process = subprocess.Popen([sys.executable, "-m", "halubench", *run_args(path, defs, "--batch")],
                                   cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not server.batches.created:
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.01)
        first = server.batches.created[0]
        if backend == "openai":
            openai.OpenAI(base_url=server.openai_base_url, api_key="x").batches.cancel(first)
        else:
            anthropic.Anthropic(base_url=server.url, api_key="x").messages.batches.cancel(first)
        server.batches.polls_to_end = 2
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert len(server.batches.created) == 2 and server.batches.items_run == 8
        replies = server.replies()
    assert "8 item(s) failed" in stdout and ("batch_cancelled" in stdout or "canceled" in stdout)
    summary, _ = summary_of(tmp_path, "fast")
    assert_domains_match(summary, expected_metrics(data, replies))


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_auth_error_inside_a_batch_stops_the_run(tmp_path, backend):
    path = write_jsonl(tmp_path / "d.jsonl", rows(6))
    defs = batch_judge(tmp_path, backend)

    def revoked(call):
        return Status(401, "invalid x-api-key")

    with FakeLLMServer(revoked) as server:
        result = run_cli(*run_args(path, defs, "--batch"), cwd=tmp_path, env=api_env(server))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "401" in result.stderr and "API_KEY" in result.stderr
    assert not (tmp_path / "results").exists()
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:  # nothing cached: fix the key and run again
        assert db.execute("SELECT count(*) FROM replies").fetchone()[0] == 0


def test_batch_wait_0_submits_and_exits_and_the_same_command_collects(tmp_path):
    data = rows(9)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = batch_judge(tmp_path, "openai", batch=True)  # the judge file's default, no --batch needed
    args = run_args(path, defs, "--batch-wait", "0")
    with FakeLLMServer() as server:
        first = run_cli(*args, cwd=tmp_path, env=api_env(server))
        assert first.returncode == 0, first.stderr
        assert "run the same command again" in first.stdout and not (tmp_path / "results").exists()
        assert len(server.batches.created) == 1 and server.batches.items_run == 0
        server.batches.polls_to_end = 1
        second = run_cli(*args, cwd=tmp_path, env=api_env(server))
        assert second.returncode == 0, second.stderr
        assert len(server.batches.created) == 1
        replies = server.replies()
    summary, _ = summary_of(tmp_path, "fast")
    assert_domains_match(summary, expected_metrics(data, replies))
    assert summary["usage"]["mode"] == "batch"


def test_a_recorded_batch_the_provider_no_longer_knows_is_sent_again(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", rows(5))
    defs = batch_judge(tmp_path, "anthropic")
    args = run_args(path, defs, "--batch")
    with FakeLLMServer() as server:
        first = run_cli(*args, "--batch-wait", "0", cwd=tmp_path, env=api_env(server))
        assert first.returncode == 0, first.stderr
        server.batches.batches.clear()  # deleted at the provider: retrieving it is a 404
        second = run_cli(*args, cwd=tmp_path, env=api_env(server))
        assert second.returncode == 0, second.stderr
        assert len(server.batches.created) == 2 and server.batches.items_run == 5
    assert "not found at the provider" in second.stdout
    summary, _ = summary_of(tmp_path, "fast")
    assert summary["metrics"]["overall"]["errors"] == 0


def test_batch_needs_the_cache_and_an_api_backend(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", rows(3))
    defs = batch_judge(tmp_path, "openai")
    with FakeLLMServer() as server:
        no_cache = run_cli(*run_args(path, defs, "--batch", "--no-cache"), cwd=tmp_path, env=api_env(server))
        offline = run_cli("run", "--judge", "always-pass", "--data", str(path), "--batch", cwd=tmp_path)
        assert server.log == [] and server.batches.created == []
    for result, words in ((no_cache, "drop --no-cache"), (offline, "has no batch API")):
        assert result.returncode == 2 and "Traceback" not in result.stderr and words in result.stderr


def test_batch_settings_change_neither_the_cache_key_nor_the_run_identity():
    spec = resolve_judge("claude-sonnet-4-5")
    flagged = with_batch_flags(spec, True, "sync", 0)
    assert flagged.settings.batch is True and spec.settings.batch_discount == 0.5 and not spec.settings.batch
    assert (flagged.settings.batch_fallback, flagged.settings.batch_wait_s) == ("sync", 0.0)
    assert flagged.reply_settings() == spec.reply_settings() and "batch_discount" not in spec.reply_settings()
    assert build_judge(flagged).cache_identity() == build_judge(spec).cache_identity()
    with pytest.raises(ConfigError, match="batch_fallback"):  # the judge-file schema checks batch keys too
        resolve_judge("gpt-4o", overrides=["batch_fallback=later"])
    with pytest.raises(ConfigError, match="--batch --batch-fallback: key 'batch_fallback': Input should be"):
        with_batch_flags(spec, True, "later", None)  # and the flags alike


def test_the_cache_records_batches_until_they_are_read(tmp_path):
    cache = ReplyCache(tmp_path / "c.sqlite")
    cache.record_batch("b1", "openai", "http://x/v1", {"c1": "k1", "c2": "k2"})
    cache.record_batch("b2", "anthropic", "http://x/v1", {"c3": "k1"})
    assert cache.open_batches("openai", "http://x/v1", ["k2", "k9"]) == {"b1": {"c1": "k1", "c2": "k2"}}
    assert cache.open_batches("openai", "http://y/v1", ["k2"]) == {}
    cache.close_batch("b1")
    assert cache.open_batches("openai", "http://x/v1", ["k1", "k2"]) == {}
    with pytest.raises(sqlite3.IntegrityError):  # one batch id, one record: a half-written batch is rolled back
        cache.record_batch("b2", "anthropic", "http://x/v1", {"c4": "k4"})
    assert cache.open_batches("anthropic", "http://x/v1", ["k1", "k4"]) == {"b2": {"c3": "k1"}}
    cache.close()


# --- never paying twice: the gaps around the create call -------------------------------------------


def start_batch_run(tmp_path, path, defs, cache, server) -> subprocess.Popen:
    env = {**os.environ, **api_env(server), "HALUBENCH_CACHE": str(cache)}
    return subprocess.Popen([sys.executable, "-m", "halubench", *run_args(path, defs, "--batch")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def batch_run_killed_after(call: str, tmp_path, path, defs, cache, server) -> None:
    """A ``--batch`` run killed with SIGKILL the moment the SDK's ``call`` returns."""
    env = {**os.environ, **api_env(server), "HALUBENCH_CACHE": str(cache)}
    died = subprocess.run([sys.executable, str(TESTS / "die_after_sdk_call.py"), call,
                           *run_args(path, defs, "--batch")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert died.returncode == -signal.SIGKILL, died.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_right_after_the_create_returns_then_rerun_collects_that_batch(tmp_path, backend):
    """The provider created the batch and answered; the client died before writing its id anywhere."""
    data = rows(15)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = batch_judge(tmp_path, backend)
    cache = tmp_path / "cache.sqlite"
    with FakeLLMServer() as server:
        server.batches.polls_to_end = 2
        batch_run_killed_after("batches.create", tmp_path, path, defs, cache, server)
        assert len(server.batches.created) == 1
        with sqlite3.connect(cache) as db:
            assert db.execute("SELECT count(*) FROM batches").fetchone()[0] == 0  # the id never reached the cache
            assert db.execute("SELECT count(*) FROM batch_intent_items").fetchone()[0] == 15  # but the intent did

        result = run_cli(*run_args(path, defs, "--batch"), cwd=tmp_path, env=api_env(server))
        assert result.returncode == 0, result.stderr
        assert len(server.batches.created) == 1 and server.batches.items_run == 15  # one batch for those rows
        assert "created by a run that stopped before recording it" in result.stdout
        replies = server.replies()
    summary, _ = summary_of(tmp_path, "fast")
    assert_domains_match(summary, expected_metrics(data, replies))
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT count(*) FROM batch_intents").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM batches WHERE closed_at IS NULL").fetchone()[0] == 0


def test_kill_9_before_the_create_then_rerun_submits_the_rows_once(tmp_path):
    """Killed after OpenAI's file upload, before batches.create: the provider has no batch, the rerun makes one."""
    data = rows(12)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = batch_judge(tmp_path, "openai")
    cache = tmp_path / "cache.sqlite"
    with FakeLLMServer() as server:
        server.batches.polls_to_end = 2
        batch_run_killed_after("files.create", tmp_path, path, defs, cache, server)
        assert server.batches.created == [] and len(server.batches.files) == 1

        result = run_cli(*run_args(path, defs, "--batch"), cwd=tmp_path, env=api_env(server))
        assert result.returncode == 0, result.stderr
        assert len(server.batches.created) == 1 and server.batches.items_run == 12
        replies = server.replies()
    summary, _ = summary_of(tmp_path, "fast")
    assert_domains_match(summary, expected_metrics(data, replies))


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_batch_runs_of_the_same_rows_at_once_submit_each_row_once(tmp_path, backend):
    data = rows(20)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = batch_judge(tmp_path, backend)
    cache = tmp_path / "cache.sqlite"
    with FakeLLMServer() as server:
        server.batches.polls_to_end = 4
        runs = []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            runs.append(start_batch_run(tmp_path / name, path, defs, cache, server))
        for run in runs:
            out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
        submitted = [custom_id for batch_id in server.batches.created
                     for custom_id, _ in server.batches.batches[batch_id].items]
        assert len(submitted) == len(set(submitted)) == 20  # every row in exactly one batch
        replies = server.replies()
    expected = expected_metrics(data, replies)
    for name in ("a", "b"):
        summary, _ = summary_of(tmp_path / name, "fast")
        assert_domains_match(summary, expected)


def test_a_fully_cached_rerun_prices_each_row_at_the_mode_that_answered_it(tmp_path):
    data = rows(12)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = batch_judge(tmp_path, "openai")
    costs = {}
    with FakeLLMServer() as server:
        for name, extra in (("sync-half", ("--limit", "6")), ("batch", ("--batch",)), ("sync-again", ())):
            folder = tmp_path / name
            folder.mkdir()
            env = {**api_env(server), "HALUBENCH_CACHE": str(tmp_path / "cache.sqlite")}
            result = run_cli(*run_args(path, defs, *extra), cwd=folder, env=env)
            assert result.returncode == 0, result.stderr
            summary, samples = summary_of(folder, "fast")
            costs[name] = summary["usage"]["cost_usd"]
            if name == "sync-half":
                half = [s["id"] for s in samples]
    # 6 rows answered synchronously, 6 through the batch API at half the price: the same cost both times,
    # whichever mode the cached re-run was started in.
    assert costs["batch"] == pytest.approx(costs["sync-again"])
    summary, samples = summary_of(tmp_path / "sync-again", "fast")
    assert summary["usage"]["cached_replies"] == 12
    price = {s["id"]: (s["input_tokens"] * 2.0 + s["output_tokens"] * 8.0) / 1e6 for s in samples}
    assert costs["batch"] == pytest.approx(sum(p if i in half else p / 2 for i, p in price.items()))


def test_the_cache_claims_each_row_for_one_batch_intent(tmp_path):
    cache = ReplyCache(tmp_path / "c.sqlite")
    endpoint = "http://x/v1"
    cache.put("k6", Reply("r6", text="PASS"))  # answered before this run looked (its --refresh asks again)
    looked_at = time.time()
    mine = {"c1": "k1", "c2": "k2"}
    assert cache.claim_batch("m1", "openai", endpoint, mine, "host:1", looked_at) == mine
    # A second run's claim takes only what no intent holds.
    assert cache.claim_batch("m2", "openai", endpoint, {"c2": "k2", "c3": "k3"}, "host:2", looked_at) == {"c3": "k3"}
    assert cache.claim_batch("m3", "openai", endpoint, {"c1": "k1"}, "host:2", looked_at) == {}
    intents = cache.batch_intents("openai", endpoint, ["k2"])
    assert [(i.marker, i.owner, i.items) for i in intents] == [("m1", "host:1", {"c1": "k1", "c2": "k2"})]
    assert cache.adopt_intent("m1", "host:1", "host:3") and not cache.adopt_intent("m1", "host:1", "host:4")
    # Recorded as a batch, the intent is gone and the batch holds the rows until it is read back.
    cache.record_batch("b1", "openai", endpoint, {"c1": "k1", "c2": "k2"}, "m1")
    assert cache.batch_intents("openai", endpoint, ["k1", "k2"]) == []
    assert cache.claim_batch("m4", "openai", endpoint, {"c1": "k1"}, "host:2", looked_at) == {}
    cache.close_batch("b1")
    assert cache.claim_batch("m4", "openai", endpoint, {"c1": "k1"}, "host:2", looked_at) == {"c1": "k1"}
    cache.drop_intent("m4")
    # A row another run's batch answered after this run looked in the cache is not claimed again; one
    # answered before the look is (a --refresh run asks again on purpose).
    cache.put("k5", Reply("r5", text="PASS", extra={"mode": "batch"}))
    assert cache.claim_batch("m5", "openai", endpoint, {"c5": "k5", "c6": "k6"}, "host:2", looked_at) == {"c6": "k6"}
    cache.drop_intent("m5")
    cache.drop_intent("m2")
    assert cache.batch_intents("openai", endpoint, ["k1", "k3"]) == [] and cache.batch_ids("openai", endpoint) == {"b1"}
    cache.close()
