"""The drift probe: a fixed stratified handful of rows re-asked of an API judge every night.

API aliases (``gpt-4o``) move to new snapshots without notice, and a cached
reply can never reveal that. So each refresh asks the same ``rows`` rows
(drawn stratified by domain and label with a fixed seed, the runner's own
``--limit`` draw) again, with no cache at all, into a throwaway folder, and
compares them with the published run:

* the model version the API answered with is not the published run's -> drift;
* more than ``max_changed`` rows changed verdict or status -> drift. Judges on
  the board run at temperature 0, where providers still show a little repeat
  noise (batching, hardware); 3 of 50 rows (6%) is the fixed threshold unless a
  judge's entry sets its own ``canary.max_changed``;
* otherwise, when the canary's configuration is the published run's (same
  data, prompt, settings, endpoint), the judge is unchanged and no other call
  is made.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halubench.backends import JudgeSpec
from halubench.config import config_id, selection_identity
from halubench.data import TaskSpec
from halubench.refresh._config import CanarySettings
from halubench.results import RunSummary
from halubench.run import RunOptions, run_tasks
from halubench.scoring import SampleRecord


@dataclass(frozen=True)
class CanaryResult:
    asked: int
    changed: int  # rows whose verdict or status differs from the published run
    old_versions: tuple[str, ...]
    new_versions: tuple[str, ...]
    config_matches: bool  # the canary measured the published run's configuration
    calls: int
    cost_usd: float
    max_changed: int

    @property
    def version_changed(self) -> bool:
        return bool(set(self.new_versions) - set(self.old_versions))

    @property
    def drifted(self) -> bool:
        return self.version_changed or self.changed > self.max_changed

    def describe(self) -> str:
        if self.version_changed:
            return f"model version {', '.join(self.old_versions) or '?'} -> {', '.join(self.new_versions)}"
        return f"canary: {self.changed} of {self.asked} rows changed verdict (threshold {self.max_changed})"


def full_config_id(config: dict[str, Any]) -> str:
    """The id the canary's configuration has as the task's whole default selection."""
    return config_id({**config, "selection": selection_identity(None, 0, ())})


def run_canary(
    task: TaskSpec,
    spec: JudgeSpec,
    data: Path | None,
    settings: CanarySettings,
    published: RunSummary,
    published_samples: list[SampleRecord],
) -> CanaryResult:
    """Ask the canary rows without any cache and compare them with the published run."""
    with tempfile.TemporaryDirectory(prefix="halubench-canary-") as folder:
        options = RunOptions(data=data, limit=settings.rows, seed=settings.seed, results_dir=Path(folder),
                             cache_path=None)
        result = run_tasks([task], spec, options)[0]
    old = {s["id"]: (s["verdict"], s["status"]) for s in published_samples}
    changed = sum(1 for s in result.samples if old.get(s["id"]) != (s["verdict"], s["status"]))
    usage = result.summary["usage"]
    return CanaryResult(
        asked=len(result.samples),
        changed=changed,
        old_versions=tuple(sorted((published.get("usage") or {}).get("model_versions") or {})),
        new_versions=tuple(sorted(usage.get("model_versions") or {})),
        config_matches=full_config_id(result.summary["config"]) == published.get("config_id"),
        calls=int(usage.get("called") or 0),
        cost_usd=float(usage.get("cost_usd") or 0.0),
        max_changed=settings.max_changed,
    )
