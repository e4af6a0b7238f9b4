"""Ctrl-C and SIGTERM during a run: real signals to a real subprocess judging against the loopback server."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from api_runs import api_env, judge_file, rows
from conftest import REPO, run_cli, write_jsonl
from fake_llm_server import Delay, FakeLLMServer, verdict_reply

ROWS = 60
LINE = re.compile(r"^interrupted: (\d+) of (\d+) replies saved; run the same command to continue$")


def wait_for(condition, process: subprocess.Popen, what: str, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert process.poll() is None, f"exited before {what}: {process.stderr.read()}"
        assert time.monotonic() < deadline, f"no {what} after {limit_s} s"
        time.sleep(0.01)


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_the_run_and_the_same_command_resumes(tmp_path, signum, exit_code):
    path = write_jsonl(tmp_path / "d.jsonl", rows(ROWS))
    defs = judge_file(tmp_path, "slow", "openai")
    args = ["run", "--judge", "slow", "--data", str(path), "--include-path", str(defs), "--concurrency", "2"]
    cache = tmp_path / "cache.sqlite"

    with FakeLLMServer(lambda call: Delay(0.1, verdict_reply(call.prompt))) as server:
        env = {**os.environ, **api_env(server), "HALUBENCH_CACHE": str(cache)}
        process = subprocess.Popen([sys.executable, "-m", "halubench", *args], cwd=tmp_path, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: sum(e.finished is not None for e in list(server.log)) >= 10, process, "10 replies")
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
        first_calls = sum(server.calls.values())

        assert process.returncode == exit_code, stderr
        assert "Traceback" not in stdout + stderr
        said = [line for line in stderr.splitlines() if line.startswith("interrupted")]
        assert len(said) == 1 and LINE.match(said[0]), stderr
        saved, total = map(int, LINE.match(said[0]).groups())
        assert total == ROWS and 0 < saved < ROWS  # replies the server sent may still be on the wire
        with sqlite3.connect(cache) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert db.execute("SELECT count(*) FROM replies").fetchone()[0] == saved
        assert not (tmp_path / "results").exists()  # no results file from half a run

        server.reset()
        result = run_cli(*args, cwd=tmp_path, env=api_env(server))
        second = Counter(server.calls)
    assert result.returncode == 0, result.stderr
    assert sum(second.values()) == ROWS - saved and max(second.values()) == 1  # only the missing rows
    assert first_calls >= saved


def test_a_second_signal_exits_at_once(tmp_path):
    """The wind-down after the first signal hangs here on purpose; the second signal must not wait for it."""
    script = tmp_path / "slow_stop.py"
    script.write_text(textwrap.dedent("""
        import asyncio, time
        from halubench.cli import StopOnSignal

        async def judging(stop):
            stop.arm()
            print("judging", flush=True)
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                print("winding down", flush=True)
                time.sleep(60)  # a wind-down that never ends

        with StopOnSignal() as stop:
            asyncio.run(judging(stop))
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "judging\n"
    process.send_signal(signal.SIGINT)
    assert process.stdout.readline() == "winding down\n"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130  # long before the 60 s wind-down
    assert "interrupted again: exiting now" in process.stderr.read()


def test_signal_before_judging_is_an_ordinary_interrupt(tmp_path: Path):
    script = tmp_path / "idle.py"
    script.write_text(textwrap.dedent("""
        import os, signal
        from halubench.cli import StopOnSignal

        try:
            with StopOnSignal() as stop:
                os.kill(os.getpid(), signal.SIGTERM)
        except KeyboardInterrupt:
            print("exit", stop.exit_code)
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "exit 143", result.stderr
