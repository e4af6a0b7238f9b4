"""Six simulated nights of `halubench refresh` on a temporary git repository.

Real things throughout: the CLI in a subprocess, the loopback server speaking
both wire formats through the official SDKs, a real SQLite reply cache, real
git for "nothing changed", and a real SIGKILL for the interrupted night.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from api_runs import FAST_RETRY
from conftest import halubench_row, read_results, run_cli, write_jsonl
from fake_llm_server import Delay, FakeLLMServer, Text, verdict_reply
from rich.console import Console

from halubench.backends import BACKENDS, Backend, Judge, JudgeSettings
from halubench.refresh import refresh_command

FAST_POLL = {"first_s": 0.02, "factor": 1.5, "max_s": 0.1}
ROWS = 24
CANARY = 12
DOMAINS = ("halueval", "DROP", "covidQA")
CONFIG = f"""\
tasks: [{{name: halubench, data: data/rows.jsonl}}]
canary: {{rows: {CANARY}}}
judges:
  - always-pass
  - lexical
  - {{name: api-a, batch: true}}
  - {{name: api-b, base_url_env: API_B_URL}}
  - api-c
  - {{name: big-gpu-judge, runner: gpu}}
"""


def _judge(folder: Path, name: str, backend: str, model: str, **settings: object) -> None:
    body = {"judge": name, "backend": backend, "model": model, "retry": FAST_RETRY,
            "price_per_million": {"input": 2.0, "output": 8.0}, **settings}
    (folder / f"{name}.yaml").write_text(json.dumps(body))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A board repository: config, data, judge files, git; nothing published yet."""
    (tmp_path / "data").mkdir()
    write_jsonl(tmp_path / "data" / "rows.jsonl",
                [halubench_row(i, "FAIL" if i % 3 == 0 else "PASS", DOMAINS[i % 3]) for i in range(ROWS)])
    judges = tmp_path / "judges"
    judges.mkdir()
    _judge(judges, "api-a", "openai", "m-a", batch_poll=FAST_POLL)  # full runs through the batch API
    _judge(judges, "api-b", "anthropic", "m-b")
    _judge(judges, "api-c", "openai", "m-c", api_key_env="API_C_KEY")
    _judge(judges, "big-gpu-judge", "vllm", "some/model")
    (tmp_path / "leaderboard.yaml").write_text(CONFIG)
    (tmp_path / ".gitignore").write_text("cache.sqlite*\nreport.md\n")
    _git(tmp_path, "init", "-q")
    _commit(tmp_path)
    return tmp_path


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _commit(repo: Path) -> None:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "night")


def _env(repo: Path, server: FakeLLMServer, b_url: str | None = None) -> dict[str, str]:
    env = {"OPENAI_BASE_URL": server.openai_base_url, "OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k",
           "API_B_URL": b_url or server.url, "HALUBENCH_INCLUDE_PATH": str(repo / "judges")}
    os.environ.pop("API_C_KEY", None)
    return env


def _refresh(repo: Path, server: FakeLLMServer, b_url: str | None = None) -> subprocess.CompletedProcess:
    (repo / "report.md").unlink(missing_ok=True)
    server.reset()
    return run_cli("refresh", "--site-out", "site", "--report", "report.md", cwd=repo, env=_env(repo, server, b_url))


def _calls(server: FakeLLMServer, model: str) -> int:
    return sum(1 for entry in server.log if entry.call.model == model)


def _first_night(repo: Path, server: FakeLLMServer) -> None:
    done = _refresh(repo, server)
    assert done.returncode == 0, done.stderr + done.stdout
    _commit(repo)


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_first_night_runs_every_judge_and_builds_the_site(repo: Path) -> None:
    with FakeLLMServer() as server:
        done = _refresh(repo, server)
        assert done.returncode == 0, done.stderr + done.stdout
        assert (_calls(server, "m-a"), _calls(server, "m-b")) == (ROWS, ROWS)
    for judge in ("always-pass", "lexical", "api-a", "api-b"):
        summary, samples = read_results(repo / "results", "halubench", judge)
        assert summary["complete"] and summary["variant"] == [] and len(samples) == ROWS
    assert (repo / "site" / "index.html").is_file()
    assert "refreshed 4" in done.stdout and f"calls {2 * ROWS}" in done.stdout
    assert not (repo / ".results.refresh-progress.json").exists()
    assert not (repo / "results" / "refresh-state.json").exists()  # nothing stale, nothing changed


def test_night_with_nothing_new_calls_only_canaries_and_changes_no_byte(repo: Path) -> None:
    with FakeLLMServer() as server:
        _first_night(repo, server)
        done = _refresh(repo, server)
        assert done.returncode == 0, done.stderr + done.stdout
        assert (_calls(server, "m-a"), _calls(server, "m-b")) == (CANARY, CANARY)
        # the canary bypasses the cache: every canary row was asked again, of both judges
        assert len(server.calls) == CANARY and set(server.calls.values()) == {2}  # same prompts, two judges
    assert _git(repo, "status", "--porcelain", "--", "results", "site") == ""
    assert "unchanged 4" in done.stdout
    report = (repo / "report.md").read_text()
    assert "last checked" in report and "Nothing changed." in report


def test_new_model_version_redoes_the_run_in_full_with_one_version(repo: Path) -> None:
    with FakeLLMServer() as server:
        _first_night(repo, server)
        server.versions["m-a"] = "m-a-2026-11-22"
        done = _refresh(repo, server)
        assert done.returncode == 0, done.stderr + done.stdout
        # canary, then every row again (bypassing the cache, which held the old version's replies)
        assert _calls(server, "m-a") == CANARY + ROWS
        assert _calls(server, "m-b") == CANARY
    summary, samples = read_results(repo / "results", "halubench", "api-a")
    assert summary["usage"]["model_versions"] == {"m-a-2026-11-22": ROWS}
    assert {s["model_version"] for s in samples} == {"m-a-2026-11-22"}
    report = (repo / "report.md").read_text()
    assert "halubench/api-a: model version m-a-fake-0001 -> m-a-2026-11-22" in report
    state = json.loads((repo / "results" / "refresh-state.json").read_text())
    assert state["changes"]["items"][0] == {"kind": "model_version", "run": "halubench/api-a",
                                            "old": ["m-a-fake-0001"], "new": ["m-a-2026-11-22"]}
    assert "m-a-2026-11-22" in (repo / "site" / "index.html").read_text()
    changed = _git(repo, "status", "--porcelain", "--", "results").split("\n")
    assert not [line for line in changed if "/api-b/" in line or "/lexical/" in line]


def test_canary_verdicts_beyond_the_threshold_redo_the_run(repo: Path) -> None:
    """Same model version, but the canary's verdicts moved: more than 3 changed rows is drift."""

    def flipped(call):
        if call.model != "m-b":
            return verdict_reply(call.prompt)
        said = verdict_reply(call.prompt).verdict
        verdict = "PASS" if said == "FAIL" else "FAIL"
        return Text(json.dumps({"REASONING": ["read again"], "SCORE": verdict}), verdict)

    with FakeLLMServer() as server:
        _first_night(repo, server)
        server.script = flipped
        done = _refresh(repo, server)
        assert done.returncode == 0, done.stderr + done.stdout
        assert (_calls(server, "m-a"), _calls(server, "m-b")) == (CANARY, CANARY + ROWS)
        full_run = [e.action.verdict for e in server.log if e.call.model == "m-b"][-ROWS:]  # after the canary
    assert re.search(rf"halubench/api-b: refreshed \(canary: \d+ of {CANARY} rows changed verdict", done.stdout)
    summary, samples = read_results(repo / "results", "halubench", "api-b")
    assert all(s["status"] == "ok" for s in samples)  # every row re-asked: no old unparsed reply kept
    assert Counter(s["verdict"] for s in samples) == Counter(full_run)


def test_endpoint_down_keeps_the_published_run_marked_stale(repo: Path) -> None:
    with FakeLLMServer() as server:
        _first_night(repo, server)
        published = {p: p.read_bytes() for p in (repo / "results" / "halubench" / "api-b").iterdir()}
        done = _refresh(repo, server, b_url=_closed_port())
        assert done.returncode == 1, done.stderr + done.stdout
        assert _calls(server, "m-a") == CANARY  # the others went on
    assert {p: p.read_bytes() for p in (repo / "results" / "halubench" / "api-b").iterdir()} == published
    state = json.loads((repo / "results" / "refresh-state.json").read_text())
    stale = state["stale"]["halubench/api-b"]
    assert "unreachable" in stale["reason"] or "connect" in stale["reason"].lower(), stale
    assert stale["since"] == time.strftime("%Y-%m-%d", time.gmtime())
    assert "stale 1" in done.stdout
    assert "halubench/api-b: stale" in (repo / "report.md").read_text()
    assert "stale" in (repo / "site" / "index.html").read_text().lower()


def test_killed_refresh_resumes_without_redoing_finished_judges(repo: Path) -> None:
    def slow_for_b(call):  # api-b hangs, so the kill lands while it runs
        reply = verdict_reply(call.prompt)
        return Delay(30, reply) if call.model == "m-b" else reply

    with FakeLLMServer(slow_for_b) as server:
        env = {**os.environ, "HALUBENCH_CACHE": str(repo / "cache.sqlite"), **_env(repo, server)}
        process = subprocess.Popen([sys.executable, "-m", "halubench", "refresh"], cwd=repo, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        progress = repo / ".results.refresh-progress.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if progress.exists() and "halubench/api-a" in json.loads(progress.read_text())["done"]:
                break
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert _calls(server, "m-a") == ROWS and not (repo / "results" / "halubench" / "api-b").exists()
        server.script = lambda call: verdict_reply(call.prompt)
        done = _refresh(repo, server)
        assert done.returncode == 0, done.stderr + done.stdout
        assert _calls(server, "m-a") == 0  # finished before the kill: not even a canary
        assert _calls(server, "m-b") == ROWS
    assert "finished before the interruption" in done.stdout
    assert "Resumed an interrupted refresh" in (repo / "report.md").read_text()
    assert not progress.exists()
    summary, _ = read_results(repo / "results", "halubench", "api-b")
    assert summary["complete"]


def test_judge_without_its_key_is_skipped_with_a_notice(repo: Path) -> None:
    with FakeLLMServer() as server:
        done = _refresh(repo, server)
        assert done.returncode == 0, done.stderr + done.stdout
        assert _calls(server, "m-c") == 0
    assert "halubench/api-c: skipped (no key: API_C_KEY is not set)" in done.stdout
    assert "halubench/big-gpu-judge: skipped (needs a gpu runner" in done.stdout
    assert not (repo / "results" / "halubench" / "api-c").exists()
    assert "skipped 2" in done.stdout


def test_config_errors_name_the_file_and_the_key(tmp_path: Path) -> None:
    config = tmp_path / "board.yaml"
    config.write_text("tasks: [halubench]\njudges: [{name: gpt-4o, runnr: gpu}]\n")
    done = run_cli("refresh", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"error: {config}: key judges.0.runnr: Extra inputs are not "
                                                "permitted"]


def test_the_committed_config_is_valid() -> None:
    from conftest import REPO

    from halubench.refresh import check_names, load_config

    config = load_config(REPO / "leaderboard.yaml")
    check_names(config)
    assert {"always-pass", "gpt-4o", "lynx-70b"} <= {j.name for j in config.judges}
    assert {t.name for t in config.tasks} == {"halubench", "halubench-sample"}


class CrashingJudge(Judge):
    """A judge with a bug: what a refresh must survive."""

    async def stream(self, requests, concurrency):
        raise ZeroDivisionError("a bug in this judge's code")
        yield  # an async generator, as every judge's stream is


def test_a_judge_that_crashes_is_marked_failed_with_its_traceback_and_the_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").mkdir()
    write_jsonl(tmp_path / "data" / "rows.jsonl", [halubench_row(i) for i in range(6)])
    (tmp_path / "judges").mkdir()
    (tmp_path / "judges" / "crashy.yaml").write_text(json.dumps({"judge": "crashy", "backend": "crashing"}))
    config = tmp_path / "leaderboard.yaml"
    config.write_text("tasks: [{name: halubench, data: data/rows.jsonl}]\njudges: [crashy, lexical]\n")
    monkeypatch.setitem(BACKENDS, "crashing", Backend(f"{__name__}:CrashingJudge", JudgeSettings))
    monkeypatch.setenv("HALUBENCH_INCLUDE_PATH", str(tmp_path / "judges"))
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    code = refresh_command(config, tmp_path / "results", None, None, "cpu", None, None, Console(file=out, width=300))
    assert code == 1  # the night failed, at the end
    printed = out.getvalue()
    assert ("halubench/crashy: failed (crashed: ZeroDivisionError: a bug in this judge's code (a bug; the "
            "traceback is in the log))") in printed
    assert "halubench/lexical: refreshed" in printed  # the judge after it still ran
    log = capsys.readouterr().err
    assert "refresh: judge crashy on halubench crashed" in log
    assert "Traceback" in log and "raise ZeroDivisionError" in log
    summary, _ = read_results(tmp_path / "results", "halubench", "lexical")
    assert summary["complete"]
    assert not (tmp_path / "results" / "halubench" / "crashy").exists()
