"""`halubench verify` on a submission of HaluBench's size: seconds, folder size, against the run itself.

A HaluBench-shaped data file is made here (14,900 rows: HaluBench's domain sizes and passages about
as long as its own, see site_build.py), the `lexical` judge runs over it (a board over your own data:
`--data`), the run is packed with `submit` (which verifies it once) and `verify` is timed again on the
folder, as the pull request's check runs it. Printed beside the bounds: verify <= 60 s for the whole
task on one core, the folder under its 128 MiB cap.

    python benchmarks/verify_submission.py [--rows 14900] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from site_build import DOMAINS, text

import halubench
from halubench.submission import TOTAL_CAP

VERIFY_BOUND_S = 60.0


def make_data(path: Path, rows: int, rng: random.Random) -> None:
    total = sum(n for n, _ in DOMAINS.values())
    lines = []
    for domain, (share, chars) in DOMAINS.items():
        for i in range(round(rows * share / total)):
            lines.append({"id": f"{domain}-{i}", "source_ds": domain, "label": "PASS" if i % 2 else "FAIL",
                          "question": text(rng, 90), "passage": text(rng, int(rng.gauss(chars, chars / 4))),
                          "answer": text(rng, 60)})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines[:rows]), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=14900)
    parser.add_argument("--keep", type=Path, help="keep the data, results and submission here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="halubench-verify-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        data = folder / "board.jsonl"
        make_data(data, args.rows, random.Random(7))
        started = time.perf_counter()
        halubench.evaluate("halubench", "lexical", data=data, results_dir=folder / "results", cache=False)
        run_s = time.perf_counter() - started
        started = time.perf_counter()
        halubench.submit("lexical", folder / "submissions" / "lexical", task="halubench", contact="bench@example.org",
                         results_dir=folder / "results", data=data)
        submit_s = time.perf_counter() - started
        started = time.perf_counter()
        report = halubench.verify(folder / "submissions" / "lexical", data=data, results_dir=folder / "results")
        verify_s = time.perf_counter() - started
        assert report.accepted, report.rejection
        size = sum(p.stat().st_size for p in (folder / "submissions" / "lexical").iterdir())
        print(f"rows                    {args.rows:>10,}")
        print(f"run (lexical judge)     {run_s:>10.1f} s")
        print(f"submit (pack + verify)  {submit_s:>10.1f} s")
        print(f"verify                  {verify_s:>10.1f} s   bound {VERIFY_BOUND_S:.0f} s "
              f"({verify_s / VERIFY_BOUND_S:.2f} of it); {verify_s / run_s:.2f}x the run itself")
        print(f"submission folder       {size / 2**20:>10.1f} MiB bound {TOTAL_CAP / 2**20:.0f} MiB "
              f"({size / TOTAL_CAP:.2f} of it)")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
