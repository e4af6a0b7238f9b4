"""API judge throughput and the cost of a fully cached re-run. Prints figures; not a test.

1. Throughput: ``halubench run`` with an OpenAI-compatible judge against the
   loopback server of the tests (tests/fake_llm_server.py) answering every call
   after a fixed 200 ms, at --concurrency 32, on 2,000 rows. The bound is
   32 / 0.2 s = 160 rows/s; the figure is the ratio to it (goal >= 0.85).
   The request phase is timed by the server itself (first request in, last reply
   out), so start-up is excluded and the same clock times the peer.
2. The peer: lm-eval's ``local-chat-completions`` model at the same concurrency,
   on the same prompts, against the same server. lm-eval needs torch, so it runs
   from its own environment (``--lm-eval-python``; make one with
   ``python -m venv .bench-venv && .bench-venv/bin/pip install torch lm-eval``).
   Without it the script says why and prints halubench's figures alone.
3. A fully cached re-run of 15,000 rows: the wall time of the whole command,
   imports included (goal: under 10 s), after a first run has filled the cache.

Usage: ``python benchmarks/api_throughput.py [--rows 2000] [--cached-rows 15000]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "tests" / "fake_llm_server.py"
DOMAINS = ("halueval", "RAGTruth", "FinanceBench", "DROP", "covidQA", "pubmedQA")
WORDS = ("revenue quarter bridge river patients trial dose protein county election season players "
         "increase decrease reported according study results percent million founded located").split()


def synthetic_rows(n: int, seed: int = 0) -> list[dict]:
    """HaluBench-schema rows with passages of 100-400 words: about HaluBench's median size."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        passage = " ".join(rng.choice(WORDS) for _ in range(rng.randint(100, 400)))
        rows.append({
            "id": f"syn-{i}", "passage": f"Document {i}. {passage}.",
            "question": f"What does document {i} report?",
            "answer": f"It reports {rng.randint(1, 999)} {rng.choice(WORDS)}.",
            "label": rng.choice(("PASS", "FAIL")), "source_ds": DOMAINS[i % len(DOMAINS)],
        })
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


class Server:
    """The loopback server in its own process, so its threads do not share the client's GIL."""

    def __init__(self, delay_s: float):
        self.process = subprocess.Popen([sys.executable, str(SERVER), "--delay", str(delay_s)],
                                        stdout=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()

    def _request(self, path: str, method: str = "GET") -> dict:
        request = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        self._request("/_reset", "POST")

    def calls(self) -> int:
        return self._request("/_stats")["calls"]

    def request_phase(self) -> tuple[int, float]:
        """Calls, and seconds from the first request in to the last reply out."""
        stats = self._request("/_stats")
        return stats["calls"], stats["last_reply"] - stats["first_request"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def halubench(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "halubench", "run", *args], cwd=cwd,
                            env={**os.environ, **env}, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"halubench failed:\n{result.stderr}")
    return elapsed


def rendered_prompts(data: Path) -> list[str]:
    """The exact prompts halubench sends, so lm-eval is given the same requests."""
    from halubench.backends import resolve_judge
    from halubench.config import PromptRenderer
    from halubench.data import load_task
    from halubench.run import choose_template

    task = load_task("halubench")
    renderer = PromptRenderer(choose_template(task, resolve_judge("openai:bench"), None))
    return [renderer.messages(s.fields)[0]["content"] for s in task.load(data).samples]


LM_EVAL_TASK = """task: halubench_throughput
dataset_path: json
dataset_kwargs:
  data_files: {{test: {data}}}
test_split: test
output_type: generate_until
doc_to_text: "{{{{prompt}}}}"
doc_to_target: "{{{{label}}}}"
generation_kwargs: {{until: [], max_gen_toks: 600, temperature: 0, do_sample: false}}
metric_list: [{{metric: exact_match}}]
"""


def lm_eval_phase(python: Path, server: Server, prompts: list[str], concurrency: int, work: Path) -> str:
    if not python.exists():
        return f"skipped: no lm-eval environment at {python} (see this script's docstring)"
    folder = work / "lm_eval_task"
    folder.mkdir()
    data = write_jsonl(folder / "prompts.jsonl", [{"prompt": p, "label": "PASS"} for p in prompts])
    (folder / "task.yaml").write_text(LM_EVAL_TASK.format(data=data))
    model_args = (f"model=bench,base_url={server.url}/v1/chat/completions,num_concurrent={concurrency},"
                  "max_retries=3,tokenized_requests=False")
    command = [str(python), "-m", "lm_eval", "--model", "local-chat-completions", "--model_args", model_args,
               "--tasks", "halubench_throughput", "--include_path", str(folder), "--apply_chat_template",
               "--batch_size", "1"]
    server.reset()
    started = time.perf_counter()
    result = subprocess.run(command, cwd=work, capture_output=True, text=True,
                            env={**os.environ, "OPENAI_API_KEY": "x", "HF_DATASETS_OFFLINE": "1",
                                 "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    wall = time.perf_counter() - started
    if result.returncode != 0:
        return "failed: " + " | ".join(result.stderr.strip().splitlines()[-3:])
    calls, phase = server.request_phase()
    if calls != len(prompts):
        return f"failed: lm-eval made {calls} calls for {len(prompts)} prompts"
    return f"{calls / phase:7.1f} rows/s in the request phase ({phase:.2f} s; {wall:.1f} s wall with start-up)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the server takes per reply")
    parser.add_argument("--cached-rows", type=int, default=15000)
    parser.add_argument("--lm-eval-python", type=Path, default=REPO / ".bench-venv" / "bin" / "python")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = write_jsonl(work / "rows.jsonl", synthetic_rows(args.rows))
        bound = args.concurrency / args.delay
        print(f"throughput: {args.rows} rows, {args.delay * 1000:.0f} ms per reply, concurrency {args.concurrency}, "
              f"bound {bound:.0f} rows/s")
        server = Server(args.delay)
        try:
            env = {"OPENAI_API_KEY": "x", "HALUBENCH_CACHE": str(work / "unused.sqlite")}
            server.reset()
            wall = halubench(["--judge", "openai:bench", "--base-url", f"{server.url}/v1", "--data", str(data),
                              "--concurrency", str(args.concurrency), "--no-cache", "--results-dir",
                              str(work / "results")], work, env)
            calls, phase = server.request_phase()
            assert calls == args.rows, f"{calls} calls for {args.rows} rows"
            rate = calls / phase
            print(f"  halubench : {rate:7.1f} rows/s in the request phase ({phase:.2f} s; {wall:.1f} s wall "
                  f"with start-up) = {rate / bound:.3f} of the bound (goal >= 0.85)")
            peer = lm_eval_phase(args.lm_eval_python, server, rendered_prompts(data), args.concurrency, work)
            print(f"  lm-eval   : {peer}")
        finally:
            server.stop()

        cached = write_jsonl(work / "cached.jsonl", synthetic_rows(args.cached_rows, seed=1))
        server = Server(0.0)
        try:
            env = {"OPENAI_API_KEY": "x", "HALUBENCH_CACHE": str(work / "cache.sqlite")}
            run = ["--judge", "openai:bench", "--base-url", f"{server.url}/v1", "--data", str(cached),
                   "--concurrency", "64", "--results-dir", str(work / "results")]
            fill = halubench(run, work, env)
            server.reset()
            again = halubench(run, work, env)
            calls = server.calls()
        finally:
            server.stop()
        print(f"cached re-run: {args.cached_rows} rows, {again:.2f} s wall with imports (goal < 10 s), "
              f"{calls} calls; the first run took {fill:.1f} s")


if __name__ == "__main__":
    main()
