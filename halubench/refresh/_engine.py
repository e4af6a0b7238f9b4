"""One night: every (judge, task) of the config this machine can run, then the site, once.

Each judge's new run is made in a staging folder beside the published results
(at the same depth, so the relative paths a summary records are the same) and
promoted with ``write_run`` only when it is complete and holds one model
version; ``write_run`` keeps the published files byte-identical when only the
execution changed. A judge that fails keeps its published run, marked stale in
the state file, and the others go on: a ``HalubenchError`` (an endpoint down, a
bad key) with its one line, and any other exception (a bug in one judge's
code) too, with its traceback written to stderr, the night's log. An interrupt
(Ctrl-C, SIGTERM) still ends the night.
"""

from __future__ import annotations

import os
import shutil
import sys
import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from halubench._version import __version__
from halubench.backends import ApiJudge, JudgeSpec, build_judge, resolve_judge, with_batch_flags
from halubench.data import load_task
from halubench.errors import HalubenchError
from halubench.refresh._canary import run_canary
from halubench.refresh._config import JudgeEntry, RefreshConfig, TaskEntry
from halubench.refresh._resume import ResumeFile
from halubench.results import (
    PublishedState,
    RunSummary,
    StoredRun,
    describe_failures,
    load_samples,
    runs_under,
    slug,
    write_run,
)
from halubench.run import Interrupted, RunOptions, RunResult, run_tasks

Status = Literal["refreshed", "unchanged", "stale", "failed", "skipped"]
Runner = Literal["cpu", "gpu", "all"]


@dataclass
class Outcome:
    """What happened to one (task, judge) tonight; ``changes`` feed the drift report."""

    task: str
    judge: str
    status: Status
    reason: str = ""
    calls: int = 0
    cost_usd: float = 0.0
    checked_at: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def run(self) -> str:
        return f"{self.task}/{self.judge}"

    @property
    def failed(self) -> bool:
        return self.status in ("stale", "failed")


@dataclass
class RefreshOptions:
    results_dir: Path
    cache_path: Path | None
    only: str | None = None
    runner: Runner = "cpu"


class RunFailed(HalubenchError):
    """A run that cannot be published: incomplete, or answered by two model versions."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def published_run(results_dir: Path, task: str, judge: str) -> StoredRun | None:
    """The judge's run on the board: its complete default-configuration run, the latest if several."""
    found = [run for run in runs_under(results_dir / slug(task) / slug(judge)) if run.complete and not run.variant]
    return max(found, key=lambda run: str((run.summary.get("provenance") or {}).get("finished_at")), default=None)


def _calls_and_cost(result: RunResult, spec: JudgeSpec, api: bool) -> tuple[int, float]:
    """Calls this run really made (cache hits are free) and their cost at the judge file's prices."""
    if not api:
        return 0, 0.0
    price = spec.settings.price_per_million
    called = [s for s in result.samples if not s.get("cached") and s["status"] != "error"]
    tokens_in = sum(s.get("input_tokens") or 0 for s in called)
    tokens_out = sum(s.get("output_tokens") or 0 for s in called)
    cost = (tokens_in * price.input + tokens_out * price.output) / 1e6 if price else 0.0
    return sum(1 for s in result.samples if not s.get("cached")), cost


def crashed(exc: Exception, what: str) -> str:
    """Write the traceback of an unexpected exception to the log (stderr); the outcome's one-line reason."""
    print(f"refresh: {what} crashed; marked failed, the other judges go on:", file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)
    return f"crashed: {type(exc).__name__}: {exc} (a bug; the traceback is in the log)"


def _accuracy_change(old: RunSummary, new: RunSummary) -> dict[str, Any] | None:
    """The overall accuracy, when the new figure lies outside the published run's 95% CI."""
    before = (old.get("metrics") or {}).get("overall") or {}
    after = (new.get("metrics") or {}).get("overall") or {}
    low, high = before.get("accuracy_ci95") or (None, None)
    value = after.get("accuracy")
    if value is None or low is None or low <= value <= high:
        return None
    return {"kind": "score", "what": "accuracy", "old": before.get("accuracy"), "new": value,
            "old_ci95": [low, high]}


class Night:
    """A refresh: walks the config, keeps the progress and state files, returns the outcomes."""

    def __init__(self, config: RefreshConfig, options: RefreshOptions):
        self.config, self.options = config, options
        self.results_dir = options.results_dir
        self.staging = self.results_dir.parent / f".{self.results_dir.name}.staging"
        self.state = PublishedState(self.results_dir)
        self.progress = ResumeFile(self.results_dir)
        self.date = _now()[:10]

    def run(self) -> list[Outcome]:
        outcomes = []
        for entry in self.config.judges:
            if self.options.only and entry.name != self.options.only:
                continue
            try:
                outcomes.extend(self._judge(entry))
            except Interrupted:
                raise
            except Exception as exc:  # noqa: BLE001 - a bug in building one judge must not end the night
                reason = crashed(exc, f"judge {entry.name}")
                checked = _now()
                outcomes.extend(Outcome(t.name, entry.name, "failed", reason, checked_at=checked)
                                for t in self.config.tasks_for(entry))
        changes = [c for o in outcomes for c in o.changes]
        if changes:
            self.state.set_changes(self.date, changes)
        self.state.save()
        self.progress.finish()
        return outcomes

    def _judge(self, entry: JudgeEntry) -> list[Outcome]:
        def all_tasks(status: Status, reason: str) -> list[Outcome]:
            checked = _now()
            return [Outcome(t.name, entry.name, status, reason, checked_at=checked)
                    for t in self.config.tasks_for(entry)]

        if self.options.runner not in ("all", entry.runner):
            return all_tasks("skipped", f"needs a {entry.runner} runner (this refresh: --runner {self.options.runner})")
        base_url = None
        if entry.base_url_env:
            base_url = os.environ.get(entry.base_url_env)
            if not base_url:
                return all_tasks("skipped", f"no endpoint: {entry.base_url_env} is not set")
        spec = resolve_judge(entry.name, base_url=base_url)
        judge = build_judge(spec)
        api = isinstance(judge, ApiJudge)
        if api and not judge.key_optional and not os.environ.get(judge.key_variable):
            return all_tasks("skipped", f"no key: {judge.key_variable} is not set")
        outcomes = []
        for task_entry in self.config.tasks_for(entry):
            run = f"{task_entry.name}/{entry.name}"
            if run in self.progress.done:
                done = Outcome(**self.progress.done[run])
                done.notices.append("finished before the interruption; not redone")
                outcomes.append(done)
                continue
            outcome = self._task(task_entry, entry, spec, api)
            self.state.save()  # before the progress file says done: a kill after this loses nothing
            self.progress.record(run, asdict(outcome))
            outcomes.append(outcome)
        return outcomes

    def _task(self, task_entry: TaskEntry, entry: JudgeEntry, spec: JudgeSpec, api: bool) -> Outcome:
        """``spec`` as the judge file says; the full run goes through the batch API where ``batch: true``."""
        outcome = Outcome(task_entry.name, entry.name, "refreshed", checked_at=_now())
        published = published_run(self.results_dir, task_entry.name, entry.name)
        try:
            self._refresh(task_entry, entry, spec, api, published, outcome)
        except HalubenchError as exc:
            self._failed(outcome, published, str(exc))
        except Interrupted:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug in one judge's run: the others go on
            self._failed(outcome, published, crashed(exc, f"judge {entry.name} on {task_entry.name}"))
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
        return outcome

    def _failed(self, outcome: Outcome, published: StoredRun | None, reason: str) -> None:
        """No new run tonight: a published one stays on the board, marked stale."""
        outcome.status, outcome.reason = "failed", reason
        if published is not None:
            outcome.status = "stale"
            if self.state.mark_stale(outcome.run, outcome.reason, self.date):
                outcome.changes.append({"kind": "stale", "run": outcome.run, "reason": outcome.reason})

    def _refresh(
        self,
        task_entry: TaskEntry,
        entry: JudgeEntry,
        spec: JudgeSpec,
        api: bool,
        published: StoredRun | None,
        outcome: Outcome,
    ) -> None:
        task = load_task(task_entry.name)
        # The canary asks online (a batch may take hours); full runs use the batch API where asked for.
        full_spec = with_batch_flags(spec, True, None, None) if entry.batch else spec
        bypass = False
        if api and published is not None:
            summary = published.summary
            canary = run_canary(task, spec, task_entry.data, self.config.canary_for(entry), summary,
                                load_samples(published.path, summary))
            outcome.calls += canary.calls
            outcome.cost_usd += canary.cost_usd
            if canary.drifted:
                bypass = True
                outcome.reason = canary.describe()
            elif canary.config_matches and (summary.get("provenance") or {}).get("harness_version") == __version__:
                # Same replies, same configuration, same scoring code: nothing to ask or recompute.
                outcome.status, outcome.reason = "unchanged", canary.describe()
                self.state.clear_stale(outcome.run)
                return
        result = self._staged_run(task, full_spec, task_entry.data, bypass, api, outcome)
        if len(result.summary["usage"]["model_versions"]) > 1 and not bypass:
            # Cached replies of an older version beside fresh ones: ask every row again.
            result = self._staged_run(task, full_spec, task_entry.data, True, api, outcome)
        versions = result.summary["usage"]["model_versions"]
        if len(versions) > 1:
            raise RunFailed(f"the API answered with {len(versions)} model versions during the run "
                            f"({', '.join(versions)}); not published")
        self._promote(result, published, outcome)

    def _staged_run(self, task: Any, spec: JudgeSpec, data: Path | None, bypass: bool, api: bool,
                    outcome: Outcome) -> RunResult:
        shutil.rmtree(self.staging, ignore_errors=True)
        options = RunOptions(data=data, results_dir=self.staging, cache_path=self.options.cache_path,
                             refresh=bypass)
        result = run_tasks([task], spec, options)[0]
        calls, cost = _calls_and_cost(result, spec, api)
        outcome.calls += calls
        outcome.cost_usd += cost
        if not result.complete:
            failures = result.summary.get("failures") or {}
            reasons = describe_failures(failures, "row").reasons
            raise RunFailed(f"{sum(failures.values())} rows failed ({reasons}); not published")
        return result

    def _promote(self, result: RunResult, published: StoredRun | None, outcome: Outcome) -> None:
        """Publish a complete run; it supersedes the judge's earlier default-configuration runs."""
        before = published.path.read_bytes() if published else None
        path = write_run(result.summary, result.samples, self.results_dir)
        for other in runs_under(path.parent):
            if other.path != path and not other.variant:
                (other.path.parent / other.summary["samples_file"]).unlink(missing_ok=True)
                other.path.unlink()
        self.state.clear_stale(outcome.run)
        if published is not None and path == published.path and path.read_bytes() == before:
            outcome.status = "unchanged"
            return
        if published is None:
            return
        old = published.summary
        old_versions = sorted((old.get("usage") or {}).get("model_versions") or {})
        new_versions = sorted(result.summary["usage"]["model_versions"])
        if old_versions != new_versions and new_versions:
            outcome.changes.append({"kind": "model_version", "run": outcome.run, "old": old_versions,
                                    "new": new_versions})
        moved = _accuracy_change(old, result.summary)
        if moved:
            outcome.changes.append({**moved, "run": outcome.run})
