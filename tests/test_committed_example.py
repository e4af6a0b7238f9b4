"""The committed example (`results/`, `site/`) is exactly what the code makes of it, on any machine.

A fresh clone's quick start re-runs a committed run: it must leave `git status` clean wherever it
runs. So the first test starts from the committed results, as a clone does, runs the commands that
made the example (tests/committed_example.py) in a temporary folder, and compares every file byte for
byte with the committed one. A run whose content is unchanged keeps its file whole, dates included
(that is the results writer's rule, not a mask here): anything else that differs is what the code
now writes differently, and the example must be refreshed. The second test regenerates from an empty
folder: the runs must come out the same but for the facts of where and when they ran.

Another machine than the one that made the example is the point: CI runs these on its own.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from committed_example import FOLDERS, REFRESH, REPO, regenerate

from halubench.results import run_content


def committed_files() -> list[str]:
    """The example's files, relative to the root: git's list where there is a checkout (a developer's
    untracked runs are not the example), else every file there."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", *FOLDERS], cwd=REPO, capture_output=True,
                                check=True).stdout.decode()
        files = sorted(path for path in listed.split("\0") if path)
    except (OSError, subprocess.CalledProcessError):
        files = []
    return files or sorted(p.relative_to(REPO).as_posix() for name in FOLDERS
                           for p in (REPO / name).rglob("*") if p.is_file())


def made_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for name in FOLDERS for p in (folder / name).rglob("*")
                  if p.is_file())


def _stale(problems: list[str]) -> str:
    shown = "\n  ".join(problems[:20]) + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
    return (f"the committed example differs from what the code writes for it:\n  {shown}\n"
            f"run `{REFRESH}` to refresh the committed example, then review and commit results/ and site/")


def test_the_quick_start_and_the_workflow_leave_the_committed_example_unchanged(tmp_path):
    committed = committed_files()
    assert any(path.startswith("results/") for path in committed) and "site/index.html" in committed
    for path in committed:
        if path.startswith("results/"):  # what a clone starts from; the site is rebuilt from nothing
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(REPO / path, tmp_path / path)
    regenerate(tmp_path)
    made = made_files(tmp_path)
    problems = [f"{path}: committed, no longer written" for path in committed if path not in made]
    problems += [f"{path}: written, not committed" for path in made if path not in committed]
    problems += [f"{path}: changed" for path in committed
                 if path in made and (REPO / path).read_bytes() != (tmp_path / path).read_bytes()]
    assert not problems, _stale(problems)


def test_a_regeneration_from_nothing_differs_only_in_where_and_when_it_ran(tmp_path):
    """Every run again from an empty folder: the same files, the same samples and texts byte for byte,
    the same summaries but for the facts of their execution (times, interpreter, platform, version)."""
    regenerate(tmp_path)
    committed = [path for path in committed_files() if path.startswith("results/")]
    made = [path for path in made_files(tmp_path) if path.startswith("results/")]
    problems = [f"{path}: committed, not made again" for path in committed if path not in made]
    problems += [f"{path}: made, not committed" for path in made if path not in committed]
    for path in (p for p in committed if p in made):
        old, new = (REPO / path).read_bytes(), (tmp_path / path).read_bytes()
        if path.endswith(".json"):
            if run_content(json.loads(old)) != run_content(json.loads(new)):
                problems.append(f"{path}: its content changed")
        elif old != new:
            problems.append(f"{path}: changed")
    assert not problems, _stale(problems)
