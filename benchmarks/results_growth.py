"""How many MB the published results grow by per full refresh (README: "Where results live").

Writes synthetic runs of ``--judges`` judges x ``--rows`` rows through halubench's
own results writer (rows and replies shaped as in benchmarks/site_build.py:
HaluBench's domain sizes and passage lengths, Lynx-style JSON replies) into a
git repository, twice: the first refresh, then a refresh in which every judge's
replies changed (the worst night: every model moved). Prints the files' size on
disk and the growth of git's (compressed) object store after each, and what the
samples would weigh with passages stored once per judge instead of once per task.

    python benchmarks/results_growth.py [--judges 10] [--rows 15000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import tempfile
from pathlib import Path

from site_build import make_rows, text

from halubench.results import TEXTS_FILE, write_run
from halubench.scoring import score_run

MB = 1e6


def run_samples(judge: str, night: int, rows: list[dict], rng: random.Random) -> list[dict]:
    samples = []
    for row in rows:
        ok = rng.random() > 0.02
        verdict = rng.choice(("PASS", "FAIL")) if ok else None
        reasoning = [text(rng, 110) for _ in range(3)]
        samples.append({
            "id": row["id"], "gold": row["gold"], "verdict": verdict, "status": "ok" if ok else "unparsed",
            "correct": verdict == row["gold"], "groups": {"domain": row["domain"]}, "fields": row["fields"],
            "raw": json.dumps({"REASONING": reasoning, "SCORE": verdict}) if ok else text(rng, 300),
            "reasoning": "\n".join(reasoning) if ok else None, "error": None, "latency_s": 1.0,
            "input_tokens": 600, "output_tokens": 120, "model_version": f"{judge}-v{night}", "cached": False,
        })
    return samples


def write(judge: str, samples: list[dict], results: Path) -> None:
    summary = {
        "task": "halubench", "judge": judge, "config_id": f"{abs(hash(judge)) % 16**12:012x}",
        "config": {"task": "halubench"}, "variant": [], "complete": True, "failures": {}, "endpoint": None,
        "n": len(samples), "labels": ["PASS", "FAIL"], "positive_label": "FAIL",
        "metrics": score_run(samples, ("PASS", "FAIL"), "FAIL", ("domain",)),
        "usage": {"model_versions": {samples[0]["model_version"]: len(samples)}},
        "provenance": {"harness_version": "bench"},
    }
    write_run(summary, samples, results)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", *args], cwd=repo, check=True,
                          capture_output=True, text=True).stdout


def stored_bytes(repo: Path) -> int:
    """Git's object store (zlib-compressed loose objects; no `git gc`, whose delta search takes
    minutes at this size and saves little: a changed run's replies are new text)."""
    stats = dict(line.split(": ") for line in git(repo, "count-objects", "-v").splitlines())
    return (int(stats["size"]) + int(stats["size-pack"])) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judges", type=int, default=10)
    parser.add_argument("--rows", type=int, default=15000)
    parser.add_argument("--keep", type=Path, help="keep the repository here")
    args = parser.parse_args()
    repo = args.keep or Path(tempfile.mkdtemp(prefix="halubench-growth-"))
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q")
    rng = random.Random(0)
    rows = make_rows(args.rows, rng)
    results = repo / "results"
    stored = 0
    for night in (1, 2):
        for j in range(args.judges):
            write(f"judge-{j}", run_samples(f"judge-{j}", night, rows, rng), results)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"night {night}")
        on_disk = sum(p.stat().st_size for p in results.rglob("*") if p.is_file())
        texts = (results / "halubench" / TEXTS_FILE).stat().st_size
        now = stored_bytes(repo)
        print(f"refresh {night} ({args.judges} judges x {len(rows):,} rows, every run changed): "
              f"results on disk {on_disk / MB:.1f} MB (texts once per task {texts / MB:.1f} MB); "
              f"git objects +{(now - stored) / MB:.1f} MB (total {now / MB:.1f} MB)")
        stored = now
    inline = sum(len(json.dumps(r["fields"])) for r in rows) * args.judges
    print(f"passages stored once per judge instead would add {inline / MB:.1f} MB on disk per refresh")


if __name__ == "__main__":
    main()
