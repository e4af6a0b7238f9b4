"""Progress when there is no terminal (CI, nohup, a pipe): plain lines on stdout, read through a real pipe.

The rhythm itself (quiet start, tenths, heartbeat) is checked on a clock the test steps, never by
timing a run.
"""

from __future__ import annotations

import re

from api_runs import api_env, judge_file, rows
from conftest import run_cli, write_jsonl
from fake_llm_server import Delay, FakeLLMServer, verdict_reply

from halubench.backends import Reply
from halubench.cli import LineProgress

STATUS = re.compile(r"^halubench · fake: (\d+)/40 rows \((\d+)%\), (\d+) from cache, (\d+) errors, "
                    r"[\d.]+ rows/s, ETA (\d+:\d\d:\d\d|unknown)$")


def test_progress_lines_through_a_pipe(tmp_path):
    """A run done within its first seconds prints its start and finish lines alone, no control codes."""
    path = write_jsonl(tmp_path / "d.jsonl", rows(40))
    defs = judge_file(tmp_path, "fake", "openai")
    args = ("run", "--judge", "fake", "--data", str(path), "--include-path", str(defs), "--concurrency", "3")
    with FakeLLMServer() as server:
        host = server.url.removeprefix("http://")
        first = run_cli(*args, cwd=tmp_path, env=api_env(server))
        again = run_cli(*args, "--limit", "20", cwd=tmp_path, env=api_env(server))
    assert first.returncode == 0, first.stderr
    lines = [line for line in first.stdout.splitlines() if line.startswith("halubench · fake:")]
    assert lines[0] == f"halubench · fake: 40 rows, 0 from cache; judging with fake-model at {host}, concurrency 3"
    assert first.stdout.index(lines[-1]) < first.stdout.index("overall (micro)")  # progress, then the table
    assert re.match(r"^halubench · fake: finished 40/40 rows in \d+:\d\d:\d\d \(0 from cache, 0 errors\)$",
                    lines[-1])
    assert "\x1b[" not in first.stdout and first.stderr == ""  # no terminal control codes in a log

    assert again.returncode == 0, again.stderr
    assert "20 rows, 20 from cache" in again.stdout.splitlines()[0]


def test_a_run_of_a_second_prints_no_progress_lines(tmp_path):
    """96 rows of an offline judge take milliseconds: a start line and a finish line, not ten more."""
    result = run_cli("run", "--judge", "lexical", "--task", "halubench-sample", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("halubench-sample · lexical:")]
    assert len(lines) == 2 and "96 rows, 0 from cache" in lines[0] and "finished 96/96 rows" in lines[1]


class SteppedClock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _progress(capsys, total: int, cached: int = 0) -> tuple[LineProgress, SteppedClock]:
    clock = SteppedClock()
    progress = LineProgress("t · j", 2, clock=clock, timer=False)
    progress.start(total, cached)
    assert capsys.readouterr().out.startswith(f"t · j: {total} rows, {cached} from cache")
    return progress, clock


def _done_counts(capsys) -> list[int]:
    out = capsys.readouterr().out
    return [int(m.group(1)) for m in re.finditer(r"^t · j: (\d+)/\d+ rows \(", out, re.MULTILINE)]


def test_rhythm_is_quiet_at_first_then_tenths_and_heartbeats(capsys, monkeypatch):
    monkeypatch.delenv("HALUBENCH_PROGRESS_SECONDS", raising=False)
    progress, clock = _progress(capsys, 100)
    for _ in range(32):  # 32 rows in the first 2 s: no line
        clock.now += 1 / 16
        progress.advance(Reply("k", text="x"))
    assert _done_counts(capsys) == []
    assert progress.tick() == 3.0  # the timer looks again when the quiet start ends
    clock.now += 3.0
    assert progress.tick() == 30.0
    assert _done_counts(capsys) == [32]  # the tenths passed while quiet, reported once it ended
    for _ in range(10):  # then a line at every tenth
        clock.now += 1 / 8
        progress.advance(Reply("k", text="x"))
    assert _done_counts(capsys) == [40]
    clock.now += 29.5  # a stuck judge: nothing until 30 s after the last line
    assert progress.tick() == 0.25 and _done_counts(capsys) == []
    clock.now += 0.25
    progress.tick()
    assert _done_counts(capsys) == [42]
    progress.finish()
    assert capsys.readouterr().out.startswith("t · j: finished 42/100 rows in 0:00:36")


def test_heartbeat_shorter_than_the_quiet_start_shortens_it(capsys, monkeypatch):
    monkeypatch.setenv("HALUBENCH_PROGRESS_SECONDS", "0.5")
    progress, clock = _progress(capsys, 10, cached=2)
    assert progress.quiet_s == 0.5
    clock.now += 0.6
    progress.advance(Reply("k", text="x"))
    assert _done_counts(capsys) == [3]
    clock.now += 0.5
    progress.tick()
    assert _done_counts(capsys) == [3]  # the heartbeat repeats the count while rows are outstanding


def test_a_stuck_judge_still_prints_lines(tmp_path):
    """Between tenths, the timer reports: one row held back 1.5 s (under the 2 s timeout) shows as lines."""
    path = write_jsonl(tmp_path / "d.jsonl", rows(10))
    defs = judge_file(tmp_path, "fake", "openai")

    def script(call):
        return Delay(1.5, verdict_reply(call.prompt)) if "Record 4:" in call.prompt else verdict_reply(call.prompt)

    with FakeLLMServer(script) as server:
        result = run_cli("run", "--judge", "fake", "--data", str(path), "--include-path", str(defs),
                         "--concurrency", "1", cwd=tmp_path,
                         env={**api_env(server), "HALUBENCH_PROGRESS_SECONDS": "0.3"})
    assert result.returncode == 0, result.stderr
    stuck = [line for line in result.stdout.splitlines() if line.startswith("halubench · fake: 4/10 rows")]
    assert len(stuck) >= 2  # the tenth itself, then the timer while row 4 is outstanding


def test_bad_progress_interval_is_one_line(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", rows(3))
    result = run_cli("run", "--judge", "lexical", "--data", str(path), cwd=tmp_path,
                     env={"HALUBENCH_PROGRESS_SECONDS": "soon"})
    assert result.returncode == 2
    assert "HALUBENCH_PROGRESS_SECONDS='soon'" in result.stderr and "Traceback" not in result.stderr
