from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from halubench.backends import BACKENDS, JudgeSpec

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("HALUBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (../shared/data beside the checkout)")
    return SHARED_DATA


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
    """The installed CLI in a subprocess: what a user runs, exit code and all."""
    full_env = {**os.environ, "HALUBENCH_CACHE": str(cwd / "cache.sqlite"), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "halubench", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


def judge_spec(name: str, backend: str, model: str | None = None, **settings) -> JudgeSpec:
    """A judge as ``resolve_judge`` would give it for a judge file with these keys (validated, typed)."""
    values = {**({"model": model} if model is not None else {}), **settings}
    return JudgeSpec(name, backend, BACKENDS[backend].settings.model_validate(values))


def assert_one_line_error(result, *needles):
    """A user's mistake: a non-zero exit and one line on stderr naming what and where, no traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def halubench_row(i: int, label: str = "PASS", domain: str = "halueval", **extra) -> dict:
    row = {
        "id": f"r{i}",
        "passage": f"The bridge opened in {1900 + i} and spans the Avon river.",
        "question": "When did the bridge open?",
        "answer": f"It opened in {1900 + i}.",
        "label": label,
        "source_ds": domain,
    }
    row.update(extra)
    return row


def results_file(results: Path, task: str, judge: str, **selection) -> Path:
    """The summary of the one run of ``judge`` on ``task`` (with this ``selection``, e.g. seed=2)."""
    from halubench.results import slug

    found = [p for p in sorted((results / slug(task) / slug(judge)).glob("*.json"))
             if all(json.loads(p.read_text())["config"]["selection"].get(k) == v for k, v in selection.items())]
    assert len(found) == 1, f"expected one run of {judge} on {task}, found {[p.name for p in found]}"
    return found[0]


def read_results(results: Path, task: str, judge: str, **selection) -> tuple[dict, list[dict]]:
    path = results_file(results, task, judge, **selection)
    summary = json.loads(path.read_text())
    from halubench.results import load_samples

    samples = load_samples(path, summary)
    return summary, samples
