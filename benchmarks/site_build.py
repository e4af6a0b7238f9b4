"""Site build time and page sizes for 10 judges x 15,000 rows.

The results files are made here, synthetically, with halubench's own scorer
and results writer: HaluBench's domain sizes, passages about as long as
HaluBench's per domain, Lynx-style JSON replies of a few hundred characters,
2% unparsed replies and 0.5% failed calls. Then `build_site` is timed on them
and the sizes of the pages a visitor loads are printed against the goals
(build <= 20 s; leaderboard page <= 300 KB).

    python benchmarks/site_build.py [--judges 10] [--rows 15000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from halubench.config import config_id, endpoint_info, run_config, selection_identity
from halubench.results import write_run
from halubench.scoring import score_run
from halubench.sitegen import build_site

BUILD_BOUND_S, LEADERBOARD_BOUND_KB = 20.0, 300.0
# HaluBench's domains: share of rows and typical passage length in characters.
DOMAINS = {"halueval": (10000, 450), "RAGTruth": (900, 2000), "FinanceBench": (1000, 3000),
           "DROP": (1000, 1500), "covidQA": (1000, 3500), "pubmedQA": (1000, 1300)}
WORDS = ("the company reported revenue growth of percent in fiscal year while operating margin fell "
         "patients treated with the drug showed a reduction in symptoms compared to placebo group "
         "during the second quarter touchdown pass yards field goal kicked by team season").split()


def text(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    length = 0
    while length < chars:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def make_rows(rows: int, rng: random.Random) -> list[dict]:
    total = sum(n for n, _ in DOMAINS.values())
    out = []
    for domain, (share, chars) in DOMAINS.items():
        for i in range(round(rows * share / total)):
            out.append({"id": f"{domain}-{i}", "domain": domain, "gold": "PASS" if i % 2 else "FAIL",
                        "fields": {"question": text(rng, 90), "passage": text(rng, int(rng.gauss(chars, chars / 4))),
                                   "answer": text(rng, 60)}})
    return out[:rows]


def make_run(judge: str, skill: float, rows: list[dict], rng: random.Random, results: Path) -> str:
    samples = []
    for row in rows:
        roll = rng.random()
        # No failed calls: a run with failed rows is incomplete, and the board would rank none of them.
        status = "too_long" if roll < 0.005 else "unparsed" if roll < 0.025 else "ok"
        right = rng.random() < skill
        verdict = (row["gold"] if right else ("FAIL" if row["gold"] == "PASS" else "PASS")) if status == "ok" else None
        reasoning = [text(rng, 110) for _ in range(3)]
        raw = json.dumps({"REASONING": reasoning, "SCORE": verdict}) if status == "ok" else text(rng, 300)
        samples.append({
            "id": row["id"], "gold": row["gold"], "verdict": verdict, "status": status,
            "correct": verdict == row["gold"], "groups": {"domain": row["domain"]}, "fields": row["fields"],
            "raw": None if status == "too_long" else raw, "reasoning": "\n".join(reasoning) if status == "ok" else None,
            "error": "context length exceeded" if status == "too_long" else None, "latency_s": rng.uniform(0.3, 2.0),
            "input_tokens": 600, "output_tokens": 120, "model_version": f"{judge}-2024-05-13", "cached": False,
        })
    dataset = {"source": "hub", "path": "PatronusAI/HaluBench", "name": None, "split": "test",
               "revision": "65ce786b" * 5}
    config = run_config(task="halubench", dataset=dataset, selection=selection_identity(None, 0, ()), options={},
                        template_sha256="0" * 64, judge={"backend": "openai", "model": judge},
                        endpoint=endpoint_info("https://api.openai.com/v1"))
    summary = {
        "task": "halubench", "judge": judge, "config_id": config_id(config), "config": config, "variant": [],
        "complete": True, "failures": {}, "endpoint": endpoint_info("https://api.openai.com/v1"),
        "n": len(samples), "labels": ["PASS", "FAIL"], "positive_label": "FAIL",
        "metrics": score_run(samples, ("PASS", "FAIL"), "FAIL", ("domain",)),
        "usage": {"input_tokens": 600 * len(samples), "output_tokens": 120 * len(samples), "cost_usd": 42.0,
                  "cost_per_1000_usd": 42000 / len(samples), "latency_p50_s": 1.1, "latency_p95_s": 1.9,
                  "model_versions": {f"{judge}-2024-05-13": len(samples)}, "cached_replies": 0, "called": len(samples)},
        "provenance": {"harness_version": "bench", "dataset": dataset,
                       "prompt_template": {"name": "faithfulness", "sha256": "0" * 64},
                       "judge": {"backend": "openai", "model": judge},
                       "started_at": "2024-07-01T00:00:00+00:00", "finished_at": "2024-07-01T01:00:00+00:00"},
    }
    write_run(summary, samples, results)
    return summary["config_id"]


def kib(n: int) -> str:
    return f"{n / 1024:,.1f} KiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judges", type=int, default=10)
    parser.add_argument("--rows", type=int, default=15000)
    parser.add_argument("--keep", type=Path, help="keep the results and the site here")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="halubench-site-bench-"))
    results, out = work / "results", work / "site"
    rng = random.Random(0)
    started = time.perf_counter()
    rows = make_rows(args.rows, rng)
    configs = [make_run(f"judge-{j:02d}", 0.55 + 0.04 * j, rows, rng, results) for j in range(args.judges)]
    made = time.perf_counter() - started
    on_disk = sum(p.stat().st_size for p in results.rglob("*") if p.is_file())
    print(f"results: {args.judges} judges x {len(rows):,} rows, {on_disk / 1e6:,.0f} MB on disk, made in {made:.1f} s")

    started = time.perf_counter()
    site = build_site(results, out)
    build_s = time.perf_counter() - started

    leaderboard = site.pages["index.html"]
    first = f"halubench/judge-00/{configs[0]}"
    run_page = site.pages[f"runs/{first}.html"]
    explorer_page = site.pages[f"runs/{first}.samples.html"]
    data = out / "data" / "halubench"
    index_js = (data / "runs" / "judge-00" / configs[0] / "index.js").stat().st_size
    reply_shards = sorted((data / "runs" / "judge-00" / configs[0]).glob("r*.js"))
    text_shards = sorted((data / "texts").glob("*.js"))
    chart = (out / "runs" / f"{first}.svg").stat().st_size
    first_view = (explorer_page + index_js + reply_shards[0].stat().st_size + text_shards[0].stat().st_size
                  + sum((out / "assets" / a).stat().st_size for a in ("style.css", "explorer.js")))
    print(f"build:            {build_s:6.1f} s    bound {BUILD_BOUND_S:.0f} s  (ratio {build_s / BUILD_BOUND_S:.2f})")
    print(f"leaderboard page: {kib(leaderboard):>12}  bound {LEADERBOARD_BOUND_KB:.0f} KB "
          f"(ratio {leaderboard / 1000 / LEADERBOARD_BOUND_KB:.3f})")
    largest = {name: max(p.stat().st_size for p in shards)
               for name, shards in (("reply", reply_shards), ("text", text_shards))}
    print(f"run page:         {kib(run_page):>12}  + chart {kib(chart)}")
    print(f"explorer page:    {kib(explorer_page):>12}  + index.js {kib(index_js)} "
          f"(filter data of all {len(rows):,} rows)")
    print(f"shards:           {len(reply_shards)} reply shards per run (largest {kib(largest['reply'])}), "
          f"{len(text_shards)} text shards per task (largest {kib(largest['text'])})")
    print(f"explorer first view loads {kib(first_view)} in all")
    print(f"site total:       {site.total_bytes / 1e6:,.0f} MB, {len(site.pages)} pages, "
          f"explorer data {site.data_bytes / 1e6:,.0f} MB")
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
