"""Rows per second of the transformers classifier judge against a naive one-row-at-a-time loop.

Both score the same HaluBench sample rows with the same flan-t5-base-sized
seq2seq scorer (random weights, built on the spot: speed does not depend on
what the weights say) read as MiniCheck-Flan-T5 is: ``predict: <passage></s>
<question answer>``, the probability of "1" against "0" at the first decoder
step. The peer is what a user writes first: tokenise one row, one forward pass
under ``torch.no_grad()``, next row. The judge encodes every row first, sorts
by length and runs token-bounded batches under ``torch.inference_mode()``.
Both use the same number of threads (``--threads``, default 2: the CI
machine's cores) and the scores must agree (printed).

    python benchmarks/transformers_throughput.py --rows 48   # about 13 minutes on 2 busy cores
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
    BACKENDS,
    JudgeRequest,
    JudgeSpec,
    TransformersJudge,
    render_pair,
)
from halubench.data import load_task  # noqa: E402

TEMPLATE = "predict: {premise}</s>{hypothesis}"


def naive_scores(folder: Path, fields: list[dict[str, str]]) -> tuple[list[float], float]:
    """One row at a time, as a first script would: the peer."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
    label_ids = [tokenizer("0", add_special_tokens=False)["input_ids"][0],
                 tokenizer("1", add_special_tokens=False)["input_ids"][0]]
    scores = []
    started = time.perf_counter()
    for row in fields:
        pair = render_pair(row, "question_answer")
        inputs = tokenizer(TEMPLATE.format(premise=pair.premise, hypothesis=pair.hypothesis), return_tensors="pt")
        with torch.no_grad():
            logits = model(**inputs, decoder_input_ids=torch.zeros((1, 1), dtype=torch.long)).logits
        scores.append(torch.softmax(logits[0, 0, label_ids], dim=-1)[1].item())
    return scores, time.perf_counter() - started


def judge_scores(folder: Path, fields: list[dict[str, str]], labels: tuple[str, ...]) -> tuple[list[float], float]:
    settings = BACKENDS["transformers"].settings(model=str(folder), architecture="seq2seq", template=TEMPLATE,
                                                 max_length=2048, device="cpu")
    judge = TransformersJudge(JudgeSpec("bench", "transformers", settings))
    asyncio.run(judge.start())
    requests = [JudgeRequest(str(i), (), row, labels) for i, row in enumerate(fields)]

    async def collect():
        return {reply.key: reply async for reply in judge.stream(requests, 1)}

    started = time.perf_counter()
    replies = asyncio.run(collect())
    elapsed = time.perf_counter() - started
    return [replies[str(i)].score for i in range(len(fields))], elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=48, help="rows of the 96-row sample (repeated past 96)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for both (CI has 2 cores)")
    args = parser.parse_args()

    import torch
    from tiny_classifiers import build_tiny_t5

    torch.set_num_threads(args.threads)
    task = load_task("halubench-sample")
    samples = task.load(None).samples
    fields = [dict(samples[i % len(samples)].fields) for i in range(args.rows)]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = [" ".join(s.fields.values()) for s in samples]
        # flan-t5-base's shape: 12 + 12 layers of width 768, 12 heads, feed-forward 2048.
        folder = build_tiny_t5(Path(tmp) / "t5-base-sized", corpus, d_model=768, layers=12, window=2048,
                               d_ff=2048, heads=12)
        naive, naive_s = naive_scores(folder, fields)
        batched, batched_s = judge_scores(folder, fields, task.labels)
    drift = max(abs(a - b) for a, b in zip(naive, batched, strict=True))
    print(f"{args.rows} rows, flan-t5-base-sized seq2seq scorer, {args.threads} CPU threads")
    print(f"{'':28}{'rows/s':>10}{'seconds':>10}")
    print(f"{'naive one-row loop':28}{args.rows / naive_s:>10.2f}{naive_s:>10.1f}")
    print(f"{'halubench transformers':28}{args.rows / batched_s:>10.2f}{batched_s:>10.1f}")
    print(f"ratio: {naive_s / batched_s:.2f}x (goal >= 2x); largest score difference {drift:.2e}")


if __name__ == "__main__":
    main()
