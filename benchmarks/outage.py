"""How long a run against a service that is down takes to stop. Prints figures; not a test.

``halubench run`` with an API judge and the default retry policy (8 attempts,
backoff up to 60 s, 10 minutes per row) on 96 rows, at the default concurrency,
against the loopback server of the tests (tests/fake_llm_server.py) answering
every call with 503 (OpenAI's wire format) or 529 ``overloaded_error``
(Anthropic's). Before the outage rule such a run kept going past 5 minutes and
would have taken about an hour on a full task; the goal is a stop within 60 s,
with a non-zero exit and one line on stderr (no traceback). That the re-run
after the service recovers asks only the rows without a reply, with exact
results, is checked by tests/backends/test_outage.py.

Usage: ``python benchmarks/outage.py [--rows 96]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from api_throughput import synthetic_rows, write_jsonl  # noqa: E402 - a sibling script

SERVER = REPO / "tests" / "fake_llm_server.py"


def measure(backend: str, status: int, rows: int, work: Path) -> str:
    folder = work / f"{backend}-{status}"
    folder.mkdir()
    data = write_jsonl(folder / "rows.jsonl", synthetic_rows(rows))
    (folder / "bench.yaml").write_text(json.dumps({"judge": "bench", "backend": backend, "model": "bench-model"}))
    server = subprocess.Popen([sys.executable, str(SERVER), "--fail", str(status)], stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip()
    try:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "halubench", "run", "--judge", "bench", "--include-path", str(folder),
             "--base-url", f"{url}/v1" if backend == "openai" else url, "--data", str(data),
             "--results-dir", str(folder / "results")],
            cwd=folder, capture_output=True, text=True, timeout=900,
            env={**os.environ, "OPENAI_API_KEY": "x", "ANTHROPIC_API_KEY": "x",
                 "HALUBENCH_CACHE": str(folder / "cache.sqlite")},
        )
        took = time.perf_counter() - started
        with urllib.request.urlopen(f"{url}/_stats") as response:
            calls = json.loads(response.read())["calls"]
    finally:
        server.terminate()
        server.wait()
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    traceback = "Traceback" in result.stderr + result.stdout
    return (f"stopped after {took:.1f} s (goal <= 60 s), exit {result.returncode}, {len(lines)} line(s) on stderr"
            f"{', a traceback' if traceback else ''}, {calls} attempts\n      {lines[-1] if lines else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=96)
    args = parser.parse_args()
    print(f"a service that is down: {args.rows} rows, default retry policy and concurrency")
    with tempfile.TemporaryDirectory() as tmp:
        for backend, status in (("openai", 503), ("anthropic", 529)):
            print(f"  {backend:9} every call {status}: {measure(backend, status, args.rows, Path(tmp))}", flush=True)


if __name__ == "__main__":
    main()
