"""The reply cache and the runner's use of it, with a counting judge defined here."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import halubench_row, judge_spec, run_cli, write_jsonl
from fake_llm_server import FakeLLMServer

from halubench.backends import (
    BACKENDS,
    ApiSettings,
    Backend,
    JudgeSpec,
    Reply,
    RequestJudge,
    build_judge,
    cache_key,
    cache_keys,
)
from halubench.data import load_task
from halubench.results import load_samples
from halubench.run import RunOptions, run_task

CALLS: list[str] = []


class CountingSettings(ApiSettings):
    broken: list[str] = []
    empty: list[str] = []
    cut: list[str] = []


class CountingJudge(RequestJudge):
    """Answers PASS, except an error for ids in settings.broken, "" for settings.empty, a cut reply for .cut."""

    def cache_identity(self):
        return {"provider": "counting", "model": self.spec.model}

    async def complete(self, request):
        CALLS.append(request.key)
        if request.key in self.spec.settings.broken:
            return Reply(request.key, error="HTTP 500 after 3 retries")
        if request.key in self.spec.settings.empty:
            return Reply(request.key, text="", finish_reason="stop")
        if request.key in self.spec.settings.cut:
            return Reply(request.key, text='{"REASONING": ["the passage', finish_reason="length")
        return Reply(request.key, text='{"SCORE": "PASS"}', input_tokens=100, output_tokens=10,
                     model_version="counting-1")


def run(tmp_path, monkeypatch, **settings):
    monkeypatch.setitem(BACKENDS, "counting", Backend(f"{__name__}:CountingJudge", CountingSettings))
    spec = judge_spec("counting", "counting", "m1", price_per_million={"input": 1.0, "output": 2.0}, **settings)
    options = RunOptions(results_dir=tmp_path / "results", cache_path=tmp_path / "c.sqlite",
                         domains=["DROP"])
    return run_task(load_task("halubench-sample"), spec, options)


def test_cached_rows_are_not_called_again_and_errors_are(tmp_path, monkeypatch):
    CALLS.clear()
    broken = {"sample-drop-003", "sample-drop-007"}
    first = run(tmp_path, monkeypatch, broken=sorted(broken))
    assert len(CALLS) == 16
    overall = first.summary["metrics"]["overall"]
    assert overall["errors"] == 2 and overall["n"] == 16
    assert {s["id"] for s in first.samples if s["status"] == "error"} == broken
    usage = first.summary["usage"]
    assert usage["input_tokens"] == 1400 and usage["output_tokens"] == 140
    assert usage["cost_usd"] == (1400 * 1.0 + 140 * 2.0) / 1e6
    assert usage["model_versions"] == {"counting-1": 14}

    CALLS.clear()
    second = run(tmp_path, monkeypatch)  # the broken rows recover
    assert sorted(CALLS) == sorted(broken)
    assert second.summary["metrics"]["overall"]["errors"] == 0
    assert second.summary["usage"]["cached_replies"] == 14

    CALLS.clear()
    run(tmp_path, monkeypatch)
    assert CALLS == []


def test_scores_survive_the_cache_and_old_caches_gain_the_column(tmp_path):
    """A classifier's score is stored per reply; a cache file written before scores existed still opens."""
    import sqlite3

    from halubench.backends import ReplyCache

    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE replies (key TEXT PRIMARY KEY, text TEXT, too_long INTEGER NOT NULL, error TEXT, "
                "latency_s REAL, input_tokens INTEGER, output_tokens INTEGER, model_version TEXT, "
                "created_at REAL NOT NULL)")
    old.execute("INSERT INTO replies VALUES ('k0', 'PASS', 0, NULL, 1.0, 5, 1, 'v', 0)")
    old.commit()
    old.close()
    cache = ReplyCache(path)
    cache.put("k1", Reply("r1", text='{"SCORE": "FAIL"}', score=0.125))
    found = cache.get_many(["k0", "k1"])
    cache.close()
    assert ReplyCache.as_reply("r0", found["k0"]).score is None
    reply = ReplyCache.as_reply("r1", found["k1"])
    assert (reply.score, reply.text, reply.cached) == (0.125, '{"SCORE": "FAIL"}', True)


def test_empty_and_cut_off_replies_are_not_cached(tmp_path, monkeypatch):
    CALLS.clear()
    first = run(tmp_path, monkeypatch, empty=["sample-drop-001"], cut=["sample-drop-002"])
    status = {s["id"]: (s["status"], s["finish_reason"]) for s in first.samples}
    assert status["sample-drop-001"] == ("truncated", "stop")
    assert status["sample-drop-002"] == ("truncated", "length")
    assert first.summary["metrics"]["overall"]["truncated"] == 2

    CALLS.clear()
    second = run(tmp_path, monkeypatch)
    assert sorted(CALLS) == ["sample-drop-001", "sample-drop-002"]
    assert second.summary["metrics"]["overall"]["truncated"] == 0


# --- the key: every reply-affecting setting is in it, by exclusion ---------------------------------


def _summary(results: Path) -> tuple[dict, list[dict]]:
    """The newest summary under ``results`` (whatever the layout) and its samples."""
    path = max((p for p in results.rglob("*.json")), key=lambda p: p.stat().st_mtime_ns)
    summary = json.loads(path.read_text())
    return summary, load_samples(path, summary)


def test_a_wider_context_window_asks_the_rows_that_were_too_long(tmp_path):
    """context_window=100 marks every row too long (cached); 100000 must call the server for them."""
    data = write_jsonl(tmp_path / "d.jsonl", [halubench_row(i) for i in range(4)])
    (tmp_path / "small.yaml").write_text(json.dumps({
        "judge": "small", "backend": "openai", "model": "fake-model", "context_window": 100,
        "generation": {"temperature": 0, "max_tokens": 50},
    }))
    args = ("run", "--judge", "small", "--data", str(data), "--include-path", str(tmp_path))
    with FakeLLMServer() as server:
        env = {"OPENAI_BASE_URL": server.openai_base_url, "OPENAI_API_KEY": "x"}
        narrow = run_cli(*args, cwd=tmp_path, env=env)
        assert narrow.returncode == 0, narrow.stderr
        assert server.log == []  # every row is over 100 tokens: none leaves the machine
        assert _summary(tmp_path / "results")[0]["metrics"]["overall"]["too_long"] == 4
        wide = run_cli(*args, "--judge-arg", "context_window=100000", cwd=tmp_path, env=env)
        assert wide.returncode == 0, wide.stderr
        assert len(server.calls) == 4
    summary, samples = _summary(tmp_path / "results")
    assert summary["metrics"]["overall"]["too_long"] == 0
    assert {s["status"] for s in samples} <= {"ok", "unparsed"} and summary["usage"]["cached_replies"] == 0


class FutureSettings(ApiSettings):
    some_future_setting: bool = False


def _spec(settings_class: type[ApiSettings] = ApiSettings, **settings) -> JudgeSpec:
    base = {"model": "m", "context_window": 8000, "generation": {"temperature": 0, "max_tokens": 600},
            "price_per_million": {"input": 1.0, "output": 2.0}, "description": "a judge",
            "display_name": "Judge", "retry": {"max_attempts": 3}, "base_url": "http://127.0.0.1:1/v1"}
    return JudgeSpec("j", "openai", settings_class.model_validate({**base, **settings}))


def _key(spec: JudgeSpec) -> str:
    return cache_key(build_judge(spec).cache_identity(), ({"role": "user", "content": "hi"},))


@pytest.mark.parametrize("change", [
    {"context_window": 100000},
    {"generation": {"temperature": 0.7, "max_tokens": 600}},
    {"generation": {"temperature": 0, "max_tokens": 600, "stop": ["x"]}},
    {"templates": {"faithfulness": "mine.jinja"}},
])
def test_reply_affecting_settings_change_the_key(change):
    assert _key(_spec(**change)) != _key(_spec())


def test_a_new_setting_is_in_the_key_unless_its_schema_says_otherwise():
    """The key's code knows no setting by name: one a backend adds is in, by exclusion, once it is given."""
    assert _key(_spec(FutureSettings, some_future_setting=True)) != _key(_spec())
    assert _key(_spec(FutureSettings)) == _key(_spec())  # a default never given: keys made before it stay valid


@pytest.mark.parametrize("change", [
    {"price_per_million": {"input": 9.0, "output": 9.0}},
    {"description": "another text"},
    {"display_name": "Another", "provider": "X", "weights": "closed", "license": "proprietary"},
    {"retry": {"max_attempts": 9}},
    {"api_key_env": "MY_KEY"},
])
def test_prices_descriptions_card_and_retry_leave_the_key_alone(change):
    assert _key(_spec(**change)) == _key(_spec())


def test_the_key_follows_the_endpoint():
    here = build_judge(_spec(base_url="http://127.0.0.1:1/v1"))
    there = build_judge(_spec(base_url="http://127.0.0.1:2/v1"))
    assert here.cache_identity() != there.cache_identity()


def test_keys_of_many_prompts_are_the_keys_of_each():
    """The runner's bulk keys must find the replies cached under ``cache_key`` (and the other way)."""
    identity = build_judge(_spec()).cache_identity()
    prompts = [({"role": "user", "content": text},) for text in ("hi", "é ✓ \u2028", '{"a": "b"}')]
    prompts.append(({"role": "system", "content": "s"}, {"content": "u", "role": "user"}))
    assert cache_keys(identity, prompts) == [cache_key(identity, p) for p in prompts]


def test_an_api_judge_computes_its_key_without_importing_its_sdk():
    """A run answered from the cache never calls, so it never pays for importing the SDK."""
    code = ("import sys; from halubench.backends import build_judge, resolve_judge; "
            "judge = build_judge(resolve_judge('openai:m')); judge.preflight(); judge.cache_identity(); "
            "print('openai' in sys.modules, 'anthropic' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "OPENAI_API_KEY": "x"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
