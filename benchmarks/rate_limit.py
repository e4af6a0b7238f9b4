"""Running at a provider's rate limit instead of into it. Prints figures; not a test.

``halubench run`` with an API judge at ``--concurrency 64`` (or the default 16)
against the loopback server of the tests (tests/fake_llm_server.py, in its own
process) enforcing limits as the providers document them
(tests/fake_rate_limits.py): per-minute limits refilled at ``limit / 60`` per
second, reported by the providers' headers; the same limits enforced over
one-second windows that the headers do not show; a call's tokens counted when it
is sent (OpenAI: prompt + max_tokens; Anthropic: the prompt as input tokens,
max_tokens as output tokens, the unused part given back at the end). Each reply
takes ``--delay`` seconds, so without pacing 64 calls in flight would ask for far
more than any limit here.

The matrix, for both wire formats:

- ``6,000 requests/minute`` (100/s) at ``--concurrency 64``;
- ``500 requests/minute`` (a new key's tier) at the default concurrency;
- a token limit that binds before the request limit (OpenAI: tokens per minute;
  Anthropic: input tokens per minute), requests at 6,000/minute, ``--concurrency 64``;
- ``50 requests/minute`` (Anthropic's first tier) at the default concurrency, 60 rows.

Figures per run: each limit's use over the request phase (first request in to
last reply out, timed by the server) as a ratio of the limit, the binding one
marked (goal >= 0.95; the buckets start full, so up to ``1 + 1/T`` is possible
over a phase of T seconds); the share of requests refused with a 429 (goal
< 1%); rows that failed (goal 0).

Every run uses ``--rows`` rows (default 2,000), except the slow ones: the
500/minute run takes 4 minutes per wire format at 2,000 rows, so it uses
``--slow-rows`` (default 300, 36 s) unless ``--full`` is given; the 50/minute
run always uses 60 rows (72 s).

Usage: ``python benchmarks/rate_limit.py [--full] [--rows 2000] [--backend openai]``
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
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from api_throughput import synthetic_rows, write_jsonl  # noqa: E402 - a sibling script

SERVER = REPO / "tests" / "fake_llm_server.py"


@dataclass(frozen=True)
class Config:
    name: str
    limits: dict[str, float]  # server flag -> per-minute limit
    concurrency: int | None  # None: halubench's default
    short_rows: int | None = None  # rows without --full (None: --rows)
    full_rows: int | None = None  # rows with --full (None: --rows)


def configs(slow_rows: int) -> list[Config]:
    loose = {"--tpm": 1e9, "--itpm": 1e9, "--otpm": 1e9}  # token limits far above any use here
    return [
        Config("6,000 requests/minute", {"--rpm": 6000, **loose}, 64),
        Config("500 requests/minute", {"--rpm": 500, **loose}, None, short_rows=slow_rows),
        # ~400-token prompts + 600 max_tokens: 2,400,000 tokens/minute is ~40 calls/s; 1,000,000 input
        # tokens/minute is ~42 calls/s; both under the 100 requests/s of the request limit.
        Config("tokens bind", {"--rpm": 6000, "--tpm": 2_400_000, "--itpm": 1_000_000, "--otpm": 1e9}, 64),
        # A new Anthropic key: one request every 1.2 s, a second's worth (0.83) less than one request.
        Config("50 requests/minute (a first-tier key)", {"--rpm": 50, **loose}, None, short_rows=60, full_rows=60),
    ]


def serve(config: Config, delay_s: float) -> tuple[subprocess.Popen, str]:
    flags = [str(x) for flag, value in config.limits.items() for x in (flag, value)]
    process = subprocess.Popen([sys.executable, str(SERVER), "--delay", str(delay_s), *flags],
                               stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_stats") as response:
        return json.loads(response.read())


def measure(backend: str, config: Config, rows: int, delay_s: float, work: Path) -> str:
    folder = work / f"{backend}-{len(list(work.iterdir()))}"
    folder.mkdir()
    data = write_jsonl(folder / "rows.jsonl", synthetic_rows(rows))
    (folder / "bench.yaml").write_text(json.dumps({"judge": "bench", "backend": backend, "model": "bench-model"}))
    process, url = serve(config, delay_s)
    try:
        base = f"{url}/v1" if backend == "openai" else url
        concurrency = ["--concurrency", str(config.concurrency)] if config.concurrency else []
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "halubench", "run", "--judge", "bench", "--include-path", str(folder),
             "--base-url", base, "--data", str(data), *concurrency, "--no-cache",
             "--results-dir", str(folder / "results")],
            cwd=folder, capture_output=True, text=True,
            env={**os.environ, "OPENAI_API_KEY": "x", "ANTHROPIC_API_KEY": "x"},
        )
        wall = time.perf_counter() - started
        figures = stats(url)
    finally:
        process.terminate()
        process.wait()
    summaries = [json.loads(p.read_text()) for p in (folder / "results").rglob("*.json")]
    summary = next((s for s in summaries if "metrics" in s), None)
    if summary is None:
        return f"failed (exit {result.returncode}): {result.stderr.strip()[-500:]}"
    failed = summary["metrics"]["overall"]["errors"]
    limits = figures["limits"]
    phase = figures["last_reply"] - figures["first_request"]
    buckets = limits["buckets"][backend]
    used = {name: b["charged"] / phase / (b["per_minute"] / 60) for name, b in buckets.items()}
    binding = max(used, key=used.get)
    shown = ", ".join(f"{name} {ratio:.3f}" + (" (binding)" if name == binding else "")
                      for name, ratio in used.items() if ratio > 0.01)
    refused, allowed = limits["refused"], limits["allowed"]
    return (f"limit used: {shown} (goal >= 0.95, at most {1 + 1 / phase:.3f}); "
            f"{refused} of {refused + allowed} requests refused = {refused / (refused + allowed):.2%} (goal < 1%); "
            f"{failed} rows failed; {phase:.1f} s request phase, {wall:.1f} s wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--slow-rows", type=int, default=300, help="rows for the 500 requests/minute run")
    parser.add_argument("--full", action="store_true", help="--rows for every run (the 500/minute one: 4 min)")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the server takes per reply")
    parser.add_argument("--backend", choices=("openai", "anthropic"), action="append")
    parser.add_argument("--only", help="run only the configurations whose name contains this")
    args = parser.parse_args()
    print(f"rate limits as documented (per minute, enforced per second too), {args.delay * 1000:.0f} ms per reply")
    with tempfile.TemporaryDirectory() as tmp:
        for config in configs(args.slow_rows):
            if args.only and args.only not in config.name:
                continue
            rows = (config.full_rows if args.full else config.short_rows) or args.rows
            concurrency = config.concurrency or "default (16)"
            print(f"{config.name}, {rows:,} rows, --concurrency {concurrency}:", flush=True)
            for backend in args.backend or ("openai", "anthropic"):
                print(f"  {backend:9}: {measure(backend, config, rows, args.delay, Path(tmp))}", flush=True)


if __name__ == "__main__":
    main()
