"""How fast the in-process vLLM judge goes, against vLLM's own batch call on the same prompts.

The judge steps the engine itself so it can hand each reply to the cache as it
finishes; the peer is ``LLM.chat`` on the same messages, which returns only
when the whole batch is done. The ratio is the cost of streaming (1.0 =
none). Runs anywhere vLLM runs; on CPU it uses a tiny random Llama built on the
spot (tests/tiny_llama.py), on a GPU pass ``--model`` for a real one.

    VLLM_CPU_KVCACHE_SPACE=1 python benchmarks/vllm_engine_throughput.py --repeat 4
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from halubench.backends import (  # noqa: E402
    JudgeRequest,
    VLLMEngineJudge,
    resolve_judge,
)
from halubench.config import PromptRenderer, resolve_template  # noqa: E402
from halubench.data import load_task  # noqa: E402


def sample_requests(repeat: int) -> tuple[list[JudgeRequest], list[str]]:
    task = load_task("halubench-sample")
    samples = task.load(None).samples
    renderer = PromptRenderer(resolve_template(task.prompt))
    requests = [
        JudgeRequest(f"{s.id}#{copy}", renderer.messages({**s.fields, "question": f"({copy}) {s.fields['question']}"}),
                     s.fields, task.labels)
        for copy in range(repeat) for s in samples
    ]
    corpus = [renderer.template.source] + [" ".join(s.fields.values()) for s in samples]
    return requests, corpus


async def judge_all(judge: VLLMEngineJudge, requests: list[JudgeRequest]) -> tuple[float, int, int]:
    started = time.perf_counter()
    replies = [reply async for reply in judge.stream(requests, concurrency=0)]
    elapsed = time.perf_counter() - started
    return elapsed, sum(r.ok for r in replies), sum(r.output_tokens or 0 for r in replies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="hub id or folder (default: a tiny random Llama, built now)")
    parser.add_argument("--repeat", type=int, default=4, help="copies of the 96-row sample (questions varied)")
    parser.add_argument("--max-tokens", type=int, default=600)
    args = parser.parse_args()

    requests, corpus = sample_requests(args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        model = args.model
        if model is None:
            from tiny_llama import build_tiny_llama

            model = str(build_tiny_llama(Path(folder), corpus))
        spec = resolve_judge(f"vllm:{model}", overrides=[f"generation.max_tokens={args.max_tokens}"])
        judge = VLLMEngineJudge(spec)

        started = time.perf_counter()
        asyncio.run(judge.start())
        start_s = time.perf_counter() - started
        asyncio.run(judge_all(judge, requests[:8]))  # warm-up: first-batch compilation is not throughput

        llm = judge._llm
        params = judge._sampling_params(llm.get_tokenizer())
        fitting = [r for r in requests if len(judge._prompt_ids(llm.get_tokenizer(), r)) < judge._max_model_len]
        # Both sides start from an empty prefix cache and both render and tokenize their prompts.
        llm.reset_prefix_cache()
        started = time.perf_counter()
        outputs = llm.chat([list(r.messages) for r in fitting], params, use_tqdm=False)
        peer_s = time.perf_counter() - started
        peer_tokens = sum(len(o.outputs[0].token_ids) for o in outputs)
        llm.reset_prefix_cache()
        judge_s, judged, tokens = asyncio.run(judge_all(judge, fitting))
        asyncio.run(judge.close())

    print(f"model: {model}")
    print(f"engine start: {start_s:.1f} s")
    print(f"halubench judge (streamed): {judged} prompts in {judge_s:.2f} s = {judged / judge_s:.1f} prompts/s, "
          f"{tokens / judge_s:.0f} generated tokens/s")
    print(f"vLLM LLM.chat (one batch):    {len(outputs)} prompts in {peer_s:.2f} s = {len(outputs) / peer_s:.1f} "
          f"prompts/s, {peer_tokens / peer_s:.0f} generated tokens/s")
    print(f"ratio streamed / batch time: {judge_s / peer_s:.2f} (same generated tokens: {tokens == peer_tokens})")


if __name__ == "__main__":
    main()
