"""The pull-request check (.github/workflows/submission.yml): its safety rules, and its script run on a
real git history the way the runner checks it out (`nox -s lint` runs actionlint and zizmor on it too)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_cli

WORKFLOW = REPO / ".github" / "workflows" / "submission.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_check_is_read_only_secretless_and_pinned(workflow):
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers == {"pull_request": {"paths": ["submissions/**"]}}  # never pull_request_target
    assert "secrets." not in yaml.safe_dump(workflow)  # the comments aside
    assert workflow["permissions"] == {"contents": "read"}
    steps = workflow["jobs"]["verify"]["steps"]
    for step in steps:
        if "uses" in step:
            assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
            if step["uses"].startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
        assert "${{" not in step.get("run", ""), "an expression interpolated into a script"
    checker = next(s for s in steps if s.get("with", {}).get("path") == "checker")
    assert checker["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"  # the checker is the base's
    assert any(s.get("run") == "python -m pip install ./checker" for s in steps)


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None, reason="needs git and bash")
def test_the_script_verifies_each_folder_the_pull_request_changes(workflow, tmp_path):
    """A base commit and a pull request adding one good folder, one tampered folder and one oddly named one."""
    ok = run_cli("run", "--judge", "lexical", "--task", "halubench-sample", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    pr = tmp_path / "pr"
    (pr / "submissions").mkdir(parents=True)
    git("init", "-q", cwd=pr)
    git("commit", "-q", "--allow-empty", "-m", "base", cwd=pr)
    for name in ("lexical", "tampered"):
        packed = run_cli("submit", "lexical", "--task", "halubench-sample", "--out", f"pr/submissions/{name}",
                         "--contact", "me@example.org", cwd=tmp_path)
        assert packed.returncode == 0, packed.stderr
    samples = pr / "submissions" / "tampered" / "samples.jsonl"
    samples.write_text(samples.read_text().replace('"correct": false', '"correct": true', 1))
    odd = pr / "submissions" / "odd name"
    odd.mkdir()
    (odd / "x.json").write_text("{}")
    git("add", "-A", cwd=pr)
    git("commit", "-q", "-m", "submit", cwd=pr)
    (tmp_path / "published").mkdir()
    shutil.copytree(tmp_path / "results", tmp_path / "published" / "results")
    script = workflow["jobs"]["verify"]["steps"][-1]["run"]
    summary = tmp_path / "summary.md"
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary),
                               "HALUBENCH_CACHE": str(tmp_path / "cache.sqlite")})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "not inside a plainly named folder" in done.stdout
    lines = done.stdout.splitlines()
    stop = next(line for line in lines if line.startswith("::stop-commands::")).split("::")[2]
    assert lines[-1] == f"::{stop}::"  # workflow commands are off while halubench prints
    report = summary.read_text()
    assert "### Submission `lexical`: accepted" in report and "### Submission `tampered`: rejected" in report
    assert re.search(r"samples\.jsonl: \d+ bytes, manifest\.json says \d+", report) and "odd name" not in report
