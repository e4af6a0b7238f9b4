"""The Python API (``halubench.evaluate`` and the board): the documented example runs, notebooks work,
errors read as on the command line, the reply cache is on by default, and importing the package is cheap."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, halubench_row, run_cli, write_jsonl
from fake_llm_server import Delay, FakeLLMServer, verdict_reply

import halubench

DOC = REPO / "docs" / "python-api.md"
SAMPLE_DOMAINS = ("DROP", "FinanceBench", "RAGTruth", "covidQA", "halueval", "pubmedQA")


def python(code: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HALUBENCH_CACHE": str(cwd / "cache.sqlite")}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def example_code() -> str:
    """The ``python`` blocks of the doc's Example section, in order: one script."""
    section = DOC.read_text(encoding="utf-8").split("\n## Example\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks, "no python code in the Example section of docs/python-api.md"
    return "\n".join(blocks)


def test_the_documented_example_runs(tmp_path):
    result = python(example_code(), tmp_path)
    assert result.returncode == 0, result.stderr
    [summary_path] = (tmp_path / "results" / "halubench-sample" / "lexical").glob("*.json")
    by_domain = json.loads(summary_path.read_text())["metrics"]["by_domain"]
    assert set(by_domain) == set(SAMPLE_DOMAINS)
    for domain, metrics in by_domain.items():  # the per-domain lines are the run's own numbers
        accuracy = re.escape(f"{metrics['accuracy']:.1%}")
        assert re.search(rf"^  {domain} +{accuracy} ", result.stdout, re.M), domain
    assert "judging 96 rows" in result.stdout and "McNemar" in result.stdout
    assert {"lexical", "random"} <= set(re.findall(r"^ *(lexical|random) ", result.stdout, re.M))


def test_evaluate_async_under_asyncio_run(tmp_path):
    code = ("import asyncio, halubench\n"
            "runs = asyncio.run(halubench.evaluate_async('halubench-sample', 'lexical'))\n"
            "print(len(runs), runs[0].summary_path, runs[0].complete, runs[0].summary['n'], len(runs[0].samples))")
    result = python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    count, path, complete, n, samples = result.stdout.split()
    assert (count, complete, n, samples) == ("1", "True", "96", "96")
    assert (tmp_path / path).is_file() and (tmp_path / "cache.sqlite").is_file()


def test_evaluate_inside_a_running_event_loop(tmp_path):
    """A notebook cell, or ``async def main()``: asyncio.run would refuse; evaluate runs on a worker thread."""

    async def cell() -> list[halubench.RunResult]:
        return halubench.evaluate("halubench-sample", "lexical", results_dir=tmp_path / "a", cache=False)

    [inside] = asyncio.run(cell())
    [outside] = halubench.evaluate("halubench-sample", "lexical", results_dir=tmp_path / "b", cache=False)
    assert inside.complete and inside.summary_path.is_file()
    assert inside.summary["metrics"] == outside.summary["metrics"]


def test_a_user_error_reads_as_the_cli_line(tmp_path):
    with pytest.raises(halubench.HalubenchError) as raised:
        halubench.evaluate("halubench-sample", "no-such-judge", results_dir=tmp_path / "results", cache=False)
    cli = run_cli("run", "--judge", "no-such-judge", "--task", "halubench-sample", cwd=tmp_path)
    assert cli.returncode == 2
    assert cli.stderr.strip().splitlines() == [f"error: {raised.value}"]
    assert not (tmp_path / "results").exists()


def test_the_reply_cache_is_on_by_default(tmp_path, monkeypatch):
    cache = tmp_path / "replies.sqlite"
    monkeypatch.setenv("HALUBENCH_CACHE", str(cache))
    data = write_jsonl(tmp_path / "d.jsonl", [halubench_row(i, "FAIL" if i % 2 else "PASS") for i in range(6)])
    with FakeLLMServer() as server:
        calls = []
        for _ in range(2):
            server.reset()
            [run] = halubench.evaluate("halubench", "openai:fake-model", data=data, base_url=server.openai_base_url,
                                       results_dir=tmp_path / "results")
            calls.append(sum(server.calls.values()))
    assert calls == [6, 0]
    assert run.summary["usage"]["cached_replies"] == 6 and cache.is_file()


def test_interrupting_evaluate_in_a_notebook_cancels_the_run(tmp_path):
    """A kernel interrupt (SIGINT while a cell's loop runs) stops judging on the worker thread: Interrupted."""
    rows = 60
    data = write_jsonl(tmp_path / "d.jsonl", [halubench_row(i) for i in range(rows)])
    script = tmp_path / "cell.py"
    script.write_text(
        "import asyncio, sys, halubench\n"
        "class Started(halubench.RunProgress):\n"
        "    def start(self, total, cached, judge=None):\n"
        "        print('judging', flush=True)\n"
        "async def cell():\n"
        "    try:\n"
        "        halubench.evaluate('halubench', 'openai:fake-model', data=sys.argv[1], base_url=sys.argv[2],\n"
        "                           concurrency=2, progress=Started())\n"
        "    except halubench.Interrupted as exc:\n"
        "        print('interrupted', exc.saved, exc.total, flush=True)\n"
        "asyncio.new_event_loop().run_until_complete(cell())  # no asyncio.run: SIGINT raises, as in Jupyter\n"
    )
    cache = tmp_path / "cache.sqlite"
    with FakeLLMServer(lambda call: Delay(0.1, verdict_reply(call.prompt))) as server:
        env = {**os.environ, "HALUBENCH_CACHE": str(cache)}
        process = subprocess.Popen([sys.executable, str(script), str(data), server.openai_base_url], cwd=tmp_path,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stdout.readline() == "judging\n", process.stderr.read()
        deadline = time.monotonic() + 60
        while sum(e.finished is not None for e in list(server.log)) < 6:
            assert time.monotonic() < deadline and process.poll() is None, "no replies"
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    word, saved, total = stdout.split()
    assert word == "interrupted" and int(total) == rows and 0 < int(saved) < rows, stdout
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT count(*) FROM replies").fetchone()[0] == int(saved)
    assert not (tmp_path / "results").exists()


def test_importing_the_package_loads_nothing_heavy(tmp_path):
    code = ("import sys, halubench\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pandas', 'numpy', 'openai', 'anthropic', 'pydantic', 'yaml', 'typer')\n"
            "        or m.startswith('halubench.') and m not in ('halubench._version', 'halubench.errors'))\n"
            "print(loaded)\n"
            "print(callable(halubench.evaluate), 'leaderboards' in dir(halubench), halubench.__version__)")
    result = python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", f"True True {halubench.__version__}"]
