"""The committed example: `results/` and `site/` at the repository's root, made from the bundled sample.

They hold what the quick start and `.github/workflows/leaderboard.yml` make of the 96 bundled rows: a
`halubench run` of each offline judge, their majority vote (`halubench ensemble`), and `halubench site`
over those runs. `tests/test_committed_example.py` regenerates them with these commands and compares,
so a change of the code that changes them fails until they are refreshed:

    python tests/committed_example.py      # from the checkout, with its halubench installed

Refreshing starts from the committed files, as a re-run does: a run whose content is unchanged keeps
its file byte for byte (dates included), so only what the code now writes differently changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("results", "site")  # under the repository's root
REFRESH = "python tests/committed_example.py"
TASK = "halubench-sample"
JUDGES = ("always-pass", "always-fail", "random", "lexical")  # in this order: texts.jsonl is in first-seen order
COMMANDS = (
    *(("run", "--judge", judge, "--task", TASK) for judge in JUDGES),
    ("ensemble", "--task", TASK, "--judges", "always-pass,random,lexical", "--name", "majority-of-3"),
    ("site", "--out", "site"),
)


def regenerate(folder: Path) -> None:
    """Run the commands in ``folder`` (its `results/` and `site/`), each as a user runs it: a subprocess,
    with no halubench setting from the environment but a reply cache of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HALUBENCH_")}
    env["HALUBENCH_CACHE"] = str(folder / ".example-cache.sqlite")
    try:
        for args in COMMANDS:
            done = subprocess.run([sys.executable, "-m", "halubench", *args], cwd=folder, env=env,
                                  capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"halubench {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    finally:  # the reply cache, and the site's input hashes kept beside it (docs/leaderboard.md)
        Path(env["HALUBENCH_CACHE"]).unlink(missing_ok=True)
        (folder / "site-inputs.json").unlink(missing_ok=True)


if __name__ == "__main__":
    regenerate(REPO)
    print(f"refreshed {', '.join(f'{name}/' for name in FOLDERS)} in {REPO}; review with `git status` and `git diff`")
