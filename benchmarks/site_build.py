"""Site build time, peak memory and size for 50 judges x 15,000 rows, from scratch and incrementally.

The results files are made here, synthetically, with halubench's own scorer
and results writer: HaluBench's domain sizes, passages about as long as
HaluBench's per domain, Lynx-style JSON replies of a few hundred characters,
2% unparsed replies and 0.5% prompts too long. The texts are slices of real
passages and responses (../shared/data) where they are at hand, so that the
site's size is that of real text (``--synthetic``: a few dozen words). Then, each in a fresh process
(`python benchmarks/site_build.py --build ...`, which imports halubench and
times `build_site`) whose memory, workers included, is sampled from /proc:

1. a build from scratch;
2. a build after one judge's run changed (its replies and verdicts re-drawn,
   written with `write_run` as a refresh writes them): the incremental build;
3. the same after the best judge's run changed (one of the strong judges
   whose replies the contested-labels page quotes: that page is made again);
4. a build with nothing changed.

Printed against the goals (issue 22): from scratch under 20 s and 500 MB
resident, the incremental build under 2 s, the site under 500 MB; with the
files each build wrote, and the sizes of the pages a visitor loads. Peak
memory is the largest sum of the resident sets (VmRSS) of the build's process
and its workers at any sample (every 20 ms): pages shared between them count
once per process, so the figure errs high; the proportional sum (Pss) is
printed beside it.

    python benchmarks/site_build.py [--judges 50] [--rows 15000] [--jobs N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from halubench.config import config_id, endpoint_info, run_config, selection_identity
from halubench.results import write_run
from halubench.scoring import score_run

SCRATCH_BOUND_S, INCREMENTAL_BOUND_S, MEMORY_BOUND_MB, SITE_BOUND_MB = 20.0, 2.0, 500.0, 500.0
LEADERBOARD_BOUND_KB = 300.0
CHANGED_JUDGE = 7  # the judge whose run changes before the incremental build
# HaluBench's domains: share of rows and typical passage length in characters.
DOMAINS = {"halueval": (10000, 450), "RAGTruth": (900, 2000), "FinanceBench": (1000, 3000),
           "DROP": (1000, 1500), "covidQA": (1000, 3500), "pubmedQA": (1000, 1300)}
WORDS = ("the company reported revenue growth of percent in fiscal year while operating margin fell "
         "patients treated with the drug showed a reduction in symptoms compared to placebo group "
         "during the second quarter touchdown pass yards field goal kicked by team season").split()


SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPUS: list[str] = []  # real text to draw from (see ``use_real_text``); empty: words of ``WORDS``


def use_real_text() -> str:
    """Draw texts from real passages, answers and responses (../shared/data) when they are there: a
    judge's reply or a passage made of a few dozen words repeated compresses far better than real text,
    and the site's size would be flattered. Returns what the texts are made of."""
    files = sorted((SHARED_DATA / "halubench-like").glob("*.jsonl"))
    if not files:
        return f"synthetic words (no real data at {SHARED_DATA})"
    for path in files:
        for line in path.read_text(encoding="utf-8").split("\n"):  # not splitlines(): texts hold U+2028
            if not line.strip():
                continue
            row = json.loads(line)
            CORPUS.extend((row["passage"], row["question"], row["answer"]))
    for path in sorted((SHARED_DATA / "refchecker").rglob("*_answers.json")):
        CORPUS.extend(item["response"] for item in json.loads(path.read_text(encoding="utf-8")))
    CORPUS[:] = [" ".join(CORPUS)]
    return f"slices of real passages and responses ({len(CORPUS[0]) / 1e6:.1f} MB from {SHARED_DATA})"


def text(rng: random.Random, chars: int) -> str:
    if CORPUS:
        start = rng.randrange(len(CORPUS[0]) - chars) if chars < len(CORPUS[0]) else 0
        return CORPUS[0][start:start + chars]
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


def make_run(judge: str, skill: float, rows: list[dict], rng: random.Random, results: Path,
             finished: str = "2024-07-01T01:00:00+00:00") -> str:
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
                       "started_at": "2024-07-01T00:00:00+00:00", "finished_at": finished},
    }
    write_run(summary, samples, results)
    return summary["config_id"]


def kib(n: int) -> str:
    return f"{n / 1024:,.1f} KiB"


def build_in_this_process(results: Path, out: Path, jobs: int | None) -> None:
    """The child's part: import, then time ``build_site`` alone; one JSON line on stdout."""
    import resource

    from halubench.sitegen import build_site

    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, cpu = time.perf_counter(), time.process_time()
    site = build_site(results, out, **({"jobs": jobs} if jobs else {}))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += done.ru_utime + done.ru_stime - workers.ru_utime - workers.ru_stime
    print(json.dumps({"build_s": seconds, "build_cpu_s": cpu, "pages": site.pages, "data_bytes": site.data_bytes,
                      "total_bytes": site.total_bytes, "written": getattr(site, "written", []),
                      "removed": getattr(site, "removed", []), "remade": getattr(site, "remade", [])}))


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux: /proc/<pid>/task/<tid>/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo += [int(child) for child in handle.read().split()]
        except OSError:
            continue
    return found


def _memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, Pss) of one process in kB; zeros for one that is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/status") as handle:
            rss = next((int(line.split()[1]) for line in handle if line.startswith("VmRSS:")), 0)
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            pss = next((int(line.split()[1]) for line in handle if line.startswith("Pss:")), 0)
    except OSError:
        pass
    return rss, pss


def measured_build(results: Path, out: Path, jobs: int | None, peer: Path | None = None) -> dict:
    """A build in a fresh process (with the halubench package in ``peer`` when given): its figures, the
    whole process's wall time and peak memory."""
    command = [sys.executable, __file__, "--build", str(results), str(out)] + (["--jobs", str(jobs)] if jobs else [])
    env = {**os.environ, "PYTHONPATH": str(peer.resolve())} if peer else None
    with tempfile.TemporaryFile("w+") as output:  # a file, not a pipe: the child never waits for a reader
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=output, text=True, env=env)
        peak_rss = peak_pss = 0
        while True:
            pid, status = os.waitpid(child.pid, os.WNOHANG)
            if pid:
                break
            both = [_memory_kb(pid) for pid in _tree(child.pid)]
            peak_rss = max(peak_rss, sum(r for r, _ in both))
            peak_pss = max(peak_pss, sum(p for _, p in both))
            time.sleep(0.02)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"build failed ({child.returncode})")
        output.seek(0)
        figures = json.loads(output.read().strip().splitlines()[-1])
    return {**figures, "wall_s": wall, "peak_rss_mb": peak_rss / 1024, "peak_pss_mb": peak_pss / 1024}


def against(figure: float, bound: float, unit: str, fmt: str = ".1f") -> str:
    verdict = "meets" if figure < bound else "MISSES"
    return f"{figure:{fmt}} {unit}  goal < {bound:g} {unit}  (ratio {figure / bound:.2f}, {verdict} the goal)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judges", type=int, default=50)
    parser.add_argument("--rows", type=int, default=15000)
    parser.add_argument("--jobs", type=int, help="worker processes (default: one per core)")
    parser.add_argument("--synthetic", action="store_true", help="texts of a few dozen words, even where real "
                        "text is at hand (the 10-judge figures of the issue were measured so)")
    parser.add_argument("--peer", type=Path, help="also build from scratch with the halubench package in this "
                        "folder (e.g. a checkout of main: git worktree add /tmp/main main), side by side")
    parser.add_argument("--keep", type=Path, help="keep the results and the site here (results made there by an "
                        "earlier run with the same --judges and --rows are used again)")
    parser.add_argument("--build", nargs=2, type=Path, metavar=("RESULTS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build_in_this_process(*args.build, args.jobs)
        return

    work = args.keep or Path(tempfile.mkdtemp(prefix="halubench-site-bench-"))
    results, out = work / "results", work / "site"
    shutil.rmtree(out, ignore_errors=True)
    made_of = "synthetic words" if args.synthetic else use_real_text()
    made_for = results / f".bench-{args.judges}x{args.rows}-{'synthetic' if not CORPUS else 'real'}"
    if not made_for.exists():
        shutil.rmtree(results, ignore_errors=True)
    started = time.perf_counter()
    rows = make_rows(args.rows, random.Random(0))
    skill = [0.55 + 0.4 * j / max(1, args.judges - 1) for j in range(args.judges)]
    changed = min(CHANGED_JUDGE, args.judges - 1)
    if made_for.exists():  # kept from an earlier run: only the judge the last one changed is written back
        configs = [make_run(f"judge-{j:02d}", skill[j], rows, random.Random(1 + j), results)
                   if j == changed else made_for.read_text().split()[j] for j in range(args.judges)]
    else:
        configs = [make_run(f"judge-{j:02d}", skill[j], rows, random.Random(1 + j), results)
                   for j in range(args.judges)]
        made_for.parent.mkdir(parents=True, exist_ok=True)
        made_for.write_text("\n".join(configs))
    made = time.perf_counter() - started
    on_disk = sum(p.stat().st_size for p in results.rglob("*") if p.is_file())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"results: {args.judges} judges x {len(rows):,} rows, {on_disk / 1e6:,.0f} MB on disk, made in {made:.1f} s; "
          f"texts: {made_of}; {cores} cores, load average {os.getloadavg()[0]:.1f} before the builds")

    scratch = measured_build(results, out, args.jobs)
    peer = measured_build(results, work / "peer-site", None, args.peer) if args.peer else None
    site_mb = scratch["total_bytes"] / 1e6
    judge = f"judge-{changed:02d}"  # re-run: other replies and verdicts, a later date, the same configuration
    make_run(judge, skill[changed] + 0.05, rows, random.Random(10_000), results, finished="2024-07-02T01:00:00+00:00")
    incremental = measured_build(results, out, args.jobs)
    best = args.judges - 1
    make_run(f"judge-{best:02d}", skill[best], rows, random.Random(10_001), results,
             finished="2024-07-03T01:00:00+00:00")
    strong = measured_build(results, out, args.jobs)
    unchanged = measured_build(results, out, args.jobs)
    make_run(f"judge-{best:02d}", skill[best], rows, random.Random(1 + best), results)  # as it was, for --keep

    print(f"from scratch:      build {against(scratch['build_s'], SCRATCH_BOUND_S, 's')}")
    print(f"                   the build's CPU time {scratch['build_cpu_s']:.1f} s, its workers' included: "
          f"{scratch['build_cpu_s'] / cores:.1f} s per core on {cores} cores (the wall time on an idle machine is "
          f"no less; a busy one makes it longer)")
    print(f"                   peak memory {against(scratch['peak_rss_mb'], MEMORY_BOUND_MB, 'MB', '.0f')}"
          f" (Pss {scratch['peak_pss_mb']:.0f} MB); whole process {scratch['wall_s']:.1f} s with imports")
    if peer:
        ratios = [scratch[k] / peer[k] for k in ("build_s", "build_cpu_s", "peak_rss_mb", "total_bytes")]
        print(f"   peer {args.peer}: build {peer['build_s']:.1f} s, CPU {peer['build_cpu_s']:.1f} s, peak memory "
              f"{peer['peak_rss_mb']:.0f} MB, site {peer['total_bytes'] / 1e6:.0f} MB; this checkout takes "
              "{:.2f} of its time, {:.2f} of its CPU time, {:.2f} of its memory, {:.2f} of its size".format(*ratios))
    print(f"site size:         {against(site_mb, SITE_BOUND_MB, 'MB', '.0f')}, explorer data "
          f"{scratch['data_bytes'] / 1e6:,.0f} MB ({scratch['data_bytes'] / 1e6 / args.judges:.2f} MB per run "
          f"with the task's texts)")
    print(f"one judge changed: build {against(incremental['build_s'], INCREMENTAL_BOUND_S, 's', '.2f')}; "
          f"its CPU time {incremental['build_cpu_s']:.2f} s; peak memory {incremental['peak_rss_mb']:.0f} MB; "
          f"whole process {incremental['wall_s']:.1f} s with imports")
    ours = [p for p in incremental["written"] if f"/{judge}/" in p]
    others = sorted(set(incremental["written"]) - set(ours))
    print(f"                   runs remade: {', '.join(incremental['remade'])}; files written: {len(ours)} of "
          f"{judge}'s own and {len(others)} others: {', '.join(others)}")
    print(f"best judge changed: build {against(strong['build_s'], INCREMENTAL_BOUND_S, 's', '.2f')}; "
          f"its CPU time {strong['build_cpu_s']:.2f} s; {len(strong['written'])} files written")
    print(f"nothing changed:   build {unchanged['build_s']:.2f} s (CPU {unchanged['build_cpu_s']:.2f} s), "
          f"{len(unchanged['written'])} files written, {len(unchanged['removed'])} removed")

    first = f"halubench/judge-00/{configs[0]}"
    pages = scratch["pages"]
    data = out / "data" / "halubench"
    run_data = data / "runs" / "judge-00" / configs[0]
    index_js = (run_data / "index.js").stat().st_size
    reply_shards = sorted(run_data.glob("r*.js"))
    text_shards = sorted((data / "texts").glob("*.js"))
    first_view = (pages[f"runs/{first}.samples.html"] + index_js + reply_shards[0].stat().st_size
                  + text_shards[0].stat().st_size + (data / "judges.js").stat().st_size
                  + sum((out / "assets" / a).stat().st_size for a in ("style.css", "data.js", "explorer.js")))
    leaderboard = pages["index.html"]
    print(f"leaderboard page:  {kib(leaderboard):>12}  bound {LEADERBOARD_BOUND_KB:.0f} KB "
          f"(ratio {leaderboard / 1000 / LEADERBOARD_BOUND_KB:.3f})")
    print(f"run page:          {kib(pages[f'runs/{first}.html']):>12}  + chart "
          f"{kib((out / 'runs' / f'{first}.svg').stat().st_size)}")
    print(f"explorer page:     {kib(pages[f'runs/{first}.samples.html']):>12}  + index.js {kib(index_js)} "
          f"(filter data of all {len(rows):,} rows)")
    largest = {name: max(p.stat().st_size for p in shards)
               for name, shards in (("reply", reply_shards), ("text", text_shards))}
    print(f"shards:            {len(reply_shards)} reply shards per run (largest {kib(largest['reply'])}), "
          f"{len(text_shards)} text shards per task (largest {kib(largest['text'])}), row view index "
          f"{kib((data / 'rows.js').stat().st_size)}")
    print(f"explorer first view loads {kib(first_view)} in all")
    if args.keep is None:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
