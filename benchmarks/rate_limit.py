"""Running at a provider's rate limit instead of into it. Prints figures; not a test.

``halubench run`` with an API judge at ``--concurrency 64`` against the loopback
server of the tests (tests/fake_llm_server.py, in its own process) enforcing a
requests-per-second limit as a token bucket (one second of burst) and sending
the headers a provider sends (``x-ratelimit-*`` for OpenAI,
``anthropic-ratelimit-*`` for Anthropic, ``retry-after`` on a 429). Each reply
takes ``--delay`` seconds, so without the limit 64 calls in flight would ask
for 64 / delay requests per second, far beyond it.

Figures, per wire format: completed rows per second in the request phase (first
request in to last reply out, timed by the server) as a ratio of the limit
(goal >= 0.9; the bucket starts full, so the most it allows over a phase of
T seconds is limit * (1 + 1/T), also printed), and the share of requests that
drew a 429 (goal < 2%).

Usage: ``python benchmarks/rate_limit.py [--rps 40] [--rows 1200] [--concurrency 64]``
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


def serve(rps: float, delay_s: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, str(SERVER), "--rps", str(rps), "--delay", str(delay_s)],
                               stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_stats") as response:
        return json.loads(response.read())


def measure(backend: str, rps: float, rows: int, concurrency: int, delay_s: float, work: Path) -> str:
    data = write_jsonl(work / "rows.jsonl", synthetic_rows(rows))
    folder = work / backend
    folder.mkdir()
    (folder / "bench.yaml").write_text(json.dumps({
        "judge": "bench", "backend": backend, "model": "bench-model",
        "retry": {"max_attempts": 20, "max_delay_s": 5},
    }))
    process, url = serve(rps, delay_s)
    try:
        base = f"{url}/v1" if backend == "openai" else url
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "halubench", "run", "--judge", "bench", "--include-path", str(folder),
             "--base-url", base, "--data", str(data), "--concurrency", str(concurrency), "--no-cache",
             "--results-dir", str(folder / "results")],
            cwd=folder, capture_output=True, text=True,
            env={**os.environ, "OPENAI_API_KEY": "x", "ANTHROPIC_API_KEY": "x"},
        )
        wall = time.perf_counter() - started
        if result.returncode != 0:
            return f"failed: {result.stderr.strip()[-500:]}"
        figures = stats(url)
    finally:
        process.terminate()
        process.wait()
    answered, refused = figures["calls"], figures["refused"]
    phase = figures["last_reply"] - figures["first_request"]
    rate = answered / phase
    most = rps + rps / phase  # the bucket starts full: one second's burst on top of the limit
    return (f"{rate:6.1f} rows/s = {rate / rps:.3f} of the limit (goal >= 0.9), {rate / most:.3f} of the most "
            f"the bucket allows; "
            f"{refused} of {answered + refused} requests drew a 429 = {refused / (answered + refused):.2%} "
            f"(goal < 2%); {phase:.1f} s request phase, {wall:.1f} s wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rps", type=float, default=40.0, help="the server's limit, requests per second")
    parser.add_argument("--rows", type=int, default=1200)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds the server takes per reply")
    parser.add_argument("--backend", choices=("openai", "anthropic"), action="append")
    args = parser.parse_args()
    print(f"rate limit: {args.rows} rows, limit {args.rps:g} requests/s (1 s burst), "
          f"{args.delay * 1000:.0f} ms per reply, --concurrency {args.concurrency}")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backend or ("openai", "anthropic"):
            print(f"  {backend:9}: {measure(backend, args.rps, args.rows, args.concurrency, args.delay, Path(tmp))}",
                  flush=True)


if __name__ == "__main__":
    main()
