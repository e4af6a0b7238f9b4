"""Progress when there is no terminal (CI, nohup, a pipe): plain lines on stdout, read through a real pipe."""

from __future__ import annotations

import re

from conftest import run_cli, write_jsonl
from fake_llm_server import Delay, FakeLLMServer, verdict_reply
from test_api_judges import api_env, judge_file, rows

STATUS = re.compile(r"^halubench · fake: (\d+)/40 rows \((\d+)%\), (\d+) from cache, (\d+) errors, "
                    r"[\d.]+ rows/s, ETA (\d+:\d\d:\d\d|unknown)$")


def test_progress_lines_through_a_pipe(tmp_path):
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
    done = [int(STATUS.match(line).group(1)) for line in lines[1:-1]]
    assert done == sorted(done) and done[-1] == 40
    assert {d * 10 // 40 for d in done} == set(range(1, 11))  # a line for every tenth of the rows
    assert first.stdout.index(lines[-1]) < first.stdout.index("overall (micro)")  # progress, then the table
    assert re.match(r"^halubench · fake: finished 40/40 rows in \d+:\d\d:\d\d \(0 from cache, 0 errors\)$",
                    lines[-1])
    assert "\x1b[" not in first.stdout and first.stderr == ""  # no terminal control codes in a log

    assert again.returncode == 0, again.stderr
    assert "20 rows, 20 from cache" in again.stdout.splitlines()[0]


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
