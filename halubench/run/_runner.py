"""One run, start to end: task rows -> prompts -> judge -> replies -> verdicts -> scores -> files.

Each stage is a call to the module that owns it; this file only wires them and
keeps the bookkeeping honest (every selected row ends up in the denominator,
with a status saying whether it has a verdict). Several tasks (a group) share
one judge: it is built, checked and started once, so an engine loads once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from halubench.backends import (
    BatchJudge,
    Judge,
    JudgeRequest,
    JudgeSpec,
    Reply,
    ReplyCache,
    build_judge,
    cache_keys,
    run_cost,
)
from halubench.config import PromptRenderer, PromptTemplate, resolve_template
from halubench.data import TaskSpec, select
from halubench.errors import BatchPending, HalubenchError
from halubench.results import RunSummary, write_run
from halubench.run._blocking import run_blocking
from halubench.run._records import row_record
from halubench.run._summary import build_summary, now
from halubench.scoring import SampleRecord, scorer_for


@dataclass
class RunOptions:
    data: Path | None = None
    domains: Sequence[str] = ()
    limit: int | None = None
    seed: int = 0
    concurrency: int = 16
    results_dir: Path = Path("results")
    cache_path: Path | None = None  # None: no cache
    refresh: bool = False  # ignore cached replies (and overwrite them)
    template: Path | None = None


@dataclass
class RunResult:
    """One task's run as written: the summary its ``.json`` file is written from, and the per-row records."""

    summary_path: Path
    summary: RunSummary = field(repr=False)  # a notebook shows the path, not pages of metrics
    samples: list[SampleRecord] = field(repr=False)

    @property
    def complete(self) -> bool:
        return bool(self.summary.get("complete", True))


class RunProgress:
    """What the runner reports while judging; the CLI draws it (a rich bar, or lines in a log).

    ``start`` is called inside the event loop, in the task that judges, before the judge starts.
    """

    def start(self, total: int, cached: int, judge: Judge | None = None) -> None: ...

    def advance(self, reply: Reply) -> None: ...

    def note(self, text: str) -> None:
        """A status line from the judge (batch state and counts while waiting)."""


class Interrupted(Exception):
    """Judging was cancelled (Ctrl-C, SIGTERM); the judge is closed and ``saved`` replies are in the cache.

    Raised in place of asyncio's CancelledError so the caller can say how far the run got.
    """

    def __init__(self, saved: int, total: int):
        super().__init__(f"interrupted: {saved} of {total} replies saved")
        self.saved, self.total = saved, total


def task_template(task: TaskSpec) -> PromptTemplate:
    """The task's own prompt: the one every ranked run of the task uses."""
    return resolve_template(task.prompt, task.source.parent if task.source else None)


def choose_template(task: TaskSpec, judge: JudgeSpec, override: Path | None) -> PromptTemplate:
    if override is not None:
        return resolve_template(override)
    judge_choice = judge.template_override(task.prompt)
    if judge_choice is not None:
        return resolve_template(*judge_choice)
    return task_template(task)


class _JudgeSession:
    """A judge started at most once, on the first row that needs a call, and closed once."""

    def __init__(self, judge: Judge):
        self.judge = judge
        self.started = False

    async def ensure_started(self) -> None:
        if not self.started:
            self.started = True
            await self.judge.start()

    async def close(self) -> None:
        if self.started:
            await self.judge.close()


async def run_tasks_async(
    tasks: Sequence[TaskSpec],
    judge_spec: JudgeSpec,
    options: RunOptions,
    progress_for: Callable[[TaskSpec], RunProgress] = lambda task: RunProgress(),
    on_result: Callable[[RunResult], None] = lambda result: None,
) -> list[RunResult]:
    """Run one judge over several tasks; each task's files are written as soon as it is done.

    The one core every entry shares: ``run_tasks``, the Python API's ``evaluate`` and
    ``evaluate_async``, and through them the CLI.
    """
    judge = build_judge(judge_spec)
    judge.preflight()  # a missing key or engine says so before any data is loaded
    return await _run_all(judge, tasks, options, progress_for, on_result)


def run_tasks(
    tasks: Sequence[TaskSpec],
    judge_spec: JudgeSpec,
    options: RunOptions,
    progress_for: Callable[[TaskSpec], RunProgress] = lambda task: RunProgress(),
    on_result: Callable[[RunResult], None] = lambda result: None,
) -> list[RunResult]:
    """``run_tasks_async`` from synchronous code, inside a running event loop too."""
    return run_blocking(run_tasks_async(tasks, judge_spec, options, progress_for, on_result))


def run_task(
    task: TaskSpec, judge_spec: JudgeSpec, options: RunOptions, progress: RunProgress | None = None
) -> RunResult:
    return run_tasks([task], judge_spec, options, lambda _: progress or RunProgress())[0]


async def _run_all(
    judge: Judge,
    tasks: Sequence[TaskSpec],
    options: RunOptions,
    progress_for: Callable[[TaskSpec], RunProgress],
    on_result: Callable[[RunResult], None],
) -> list[RunResult]:
    session = _JudgeSession(judge)
    cache = ReplyCache(options.cache_path) if options.cache_path else None
    results, pending = [], []
    try:
        for task in tasks:
            try:
                result = await _run_one(session, task, options, cache, progress_for(task))
            except BatchPending as waiting:  # the group's other tasks still get their batches submitted
                pending.append(f"{task.name}: {waiting}")
                continue
            results.append(result)
            on_result(result)
        if pending:
            raise BatchPending("\n".join(pending))
    finally:
        await session.close()
        if cache:
            cache.close()
    return results


async def _run_one(
    session: _JudgeSession, task: TaskSpec, options: RunOptions, cache: ReplyCache | None, progress: RunProgress
) -> RunResult:
    started = now()
    judge = session.judge
    judge.bind_task(task)
    loaded = task.load(options.data)
    breakdown = task.breakdowns[0] if task.breakdowns else None
    samples = select(
        loaded.samples, breakdown=breakdown, domains=options.domains,
        limit=options.limit, seed=options.seed,
    )
    template = choose_template(task, judge.spec, options.template)
    renderer = PromptRenderer(template)
    requests = [JudgeRequest(s.id, renderer.messages(s.fields), s.fields, task.labels) for s in samples]
    replies = await _collect(session, requests, cache, options, progress)
    records = [row_record(s, r, replies[r.key]) for s, r in zip(samples, requests, strict=True)]
    metrics = scorer_for(task)(records, task, loaded.samples)
    summary = build_summary(
        task=task, judge=judge.spec.name, judge_settings=judge.config_identity(),
        public_settings=judge.spec.public_settings(), endpoint_url=judge.endpoint,
        dataset=loaded.provenance, rows_available=len(loaded.samples), limit=options.limit, seed=options.seed,
        domains=options.domains, template=template, default_template=task_template(task), records=records,
        metrics=metrics, excluded=loaded.excluded, results_dir=options.results_dir, started_at=started,
        cost=run_cost(list(replies.values()), judge.spec.settings),  # at batch or sync prices
    )
    path = write_run(summary, records, options.results_dir)
    return RunResult(path, summary, records)


async def _collect(
    session: _JudgeSession,
    requests: list[JudgeRequest],
    cache: ReplyCache | None,
    options: RunOptions,
    progress: RunProgress,
) -> dict[str, Reply]:
    """Answer from the cache where possible; call the judge for the rest, saving as they come."""
    judge = session.judge
    identity = judge.cache_identity() if cache else None
    keys = dict(zip((r.key for r in requests), cache_keys(identity, (r.messages for r in requests)), strict=True)) \
        if identity else {}
    replies: dict[str, Reply] = {}
    looked_at = time.time()
    if identity and not options.refresh:
        stored = cache.get_many(keys.values())
        for request in requests:
            row = stored.get(keys[request.key])
            if row is not None:
                replies[request.key] = ReplyCache.as_reply(request.key, row)
    todo = [r for r in requests if r.key not in replies]
    progress.start(len(requests), len(replies), judge)
    if not todo:
        return replies
    if isinstance(judge, BatchJudge):  # it records its batches in the cache database
        judge.bind(cache if identity else None, keys, progress.note, looked_at)
    try:
        await session.ensure_started()
        async for reply in judge.stream(todo, options.concurrency):
            if identity and ReplyCache.keeps(reply):
                cache.put(keys[reply.key], reply)
            replies[reply.key] = reply
            progress.advance(reply)
    except HalubenchError as exc:
        saved = sum(1 for r in replies.values() if ReplyCache.keeps(r)) if identity else 0
        note = f" ({saved} replies are saved in the cache; run again to continue)" if saved else ""
        raise type(exc)(f"{exc}{note}") from None
    except asyncio.CancelledError:
        saved = sum(1 for r in replies.values() if ReplyCache.keeps(r)) if identity else 0
        raise Interrupted(saved, len(requests)) from None
    missing = [r.key for r in todo if r.key not in replies]
    if missing:
        raise RuntimeError(f"judge {judge.spec.name} returned no reply for {len(missing)} rows")
    return replies


