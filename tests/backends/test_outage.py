"""An endpoint that is down stops the run quickly and loses nothing; one that is only flaky does not.

The tests shrink ``retry.outage_after_s`` (30 s by default) to a second; how
long a run with the defaults takes to stop is the benchmark's figure
(benchmarks/outage.py).
"""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from api_runs import api_env, assert_domains_match, expected_metrics, judge_file, rows, summary_of
from conftest import assert_one_line_error, run_cli, write_jsonl
from fake_llm_server import FakeLLMServer, Status, verdicts

# Many attempts, short backoffs: without the outage rule each row would retry for ~20 s.
PATIENT = {"max_attempts": 100, "base_delay_s": 0.01, "max_delay_s": 0.2, "request_timeout_s": 5.0,
           "deadline_s": 120.0, "outage_after_s": 1.0}


class Outage:
    """Answers the first ``healthy`` calls, then fails every call with ``status`` until ``recover()``."""

    def __init__(self, healthy: int, status: Status):
        self.healthy, self.status, self.answered, self.down = healthy, status, 0, True

    def __call__(self, call):
        if self.answered < self.healthy or not self.down:
            self.answered += 1
            return verdicts(call)
        return self.status

    def recover(self) -> None:
        self.down = False


@pytest.mark.parametrize("backend, status", [
    ("openai", Status(503, "The server is temporarily unavailable")),
    ("anthropic", Status(529, "Overloaded")),
])
def test_an_outage_stops_the_run_in_one_line_and_the_same_command_resumes(tmp_path, backend, status):
    data = rows(60)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = judge_file(tmp_path, "fast", backend, retry=PATIENT)
    args = ("run", "--judge", "fast", "--data", str(path), "--include-path", str(defs), "--concurrency", "4")
    script = Outage(healthy=20, status=status)
    with FakeLLMServer(script) as server:
        stopped = run_cli(*args, cwd=tmp_path, env=api_env(server))
        endpoint = server.openai_base_url if backend == "openai" else server.url
        assert_one_line_error(stopped, endpoint, f"HTTP {status.code}: {status.message}",
                              "answered only server errors", "the same command asks only the rows without one")
        attempts = len(server.log)
        assert attempts < 20 + 4 * 60  # stopped, not every row retried to the end
        with sqlite3.connect(tmp_path / "cache.sqlite") as db:
            saved = db.execute("SELECT count(*) FROM replies").fetchone()[0]
        assert saved == 20  # every reply received before the outage is kept
        assert not (tmp_path / "results").exists()  # nothing half-scored was written
        replies = server.replies()

        script.recover()
        server.reset()
        resumed = run_cli(*args, cwd=tmp_path, env=api_env(server))
        assert resumed.returncode == 0, resumed.stderr
        assert len(server.calls) == 40 and max(server.calls.values()) == 1  # only the rows without a reply
        assert not set(server.calls) & set(replies)
        replies |= server.replies()
    summary, _ = summary_of(tmp_path, "fast")
    assert summary["complete"] and summary["usage"]["cached_replies"] == 20
    assert_domains_match(summary, expected_metrics(data, replies))


def flaky(call):
    """30% of attempts fail with a 503, chosen by a hash of the prompt and the attempt number."""
    digest = hashlib.sha256(f"{call.prompt}/{call.n}".encode()).digest()
    return Status(503, "try again") if digest[0] < 77 else verdicts(call)


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
def test_a_partial_outage_completes_with_exact_results(tmp_path, backend):
    data = rows(90)
    path = write_jsonl(tmp_path / "d.jsonl", data)
    defs = judge_file(tmp_path, "fast", backend, retry={**PATIENT, "outage_after_s": 0.3})
    with FakeLLMServer(flaky) as server:
        result = run_cli("run", "--judge", "fast", "--data", str(path), "--include-path", str(defs),
                         "--concurrency", "8", cwd=tmp_path, env=api_env(server))
        assert result.returncode == 0, result.stderr
        failed = sum(isinstance(e.action, Status) for e in server.log)
        replies = server.replies()
    assert failed > 20  # about 30% of ~130 attempts
    summary, _ = summary_of(tmp_path, "fast")
    assert summary["complete"]
    assert_domains_match(summary, expected_metrics(data, replies))
