"""``halubench run`` as a function: the Python API's ``evaluate`` and ``evaluate_async``.

The CLI's ``run`` command is a thin layer over ``evaluate``, so a notebook, a
training loop and the command line take one code path with the same defaults
(the reply cache on, at the same place) and the same errors: a user's mistake
raises a ``HalubenchError`` whose message is the line the CLI prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from halubench.backends import resolve_judge, with_batch_flags
from halubench.config import default_cache_path
from halubench.data import TaskSpec, group_members, load_task
from halubench.run._blocking import run_blocking
from halubench.run._runner import RunOptions, RunProgress, RunResult, run_tasks_async

PathLike = str | Path
Progress = RunProgress | Callable[[TaskSpec], RunProgress] | None
T = TypeVar("T")


async def evaluate_async(
    task: str,
    judge: str,
    *,
    limit: int | None = None,
    seed: int = 0,
    domains: Iterable[str] = (),
    data: PathLike | None = None,
    options: Iterable[str] = (),
    judge_args: Iterable[str] = (),
    base_url: str | None = None,
    template: PathLike | None = None,
    results_dir: PathLike = "results",
    cache: bool | PathLike = True,
    refresh: bool = False,
    concurrency: int = 16,
    batch: bool = False,
    batch_fallback: str | None = None,
    batch_wait: float | None = None,
    include_paths: Iterable[PathLike] = (),
    progress: Progress = None,
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Judge a task, or each task of a group, and write the results files; one ``RunResult`` per task.

    The parameters are ``halubench run``'s options (docs/python-api.md); ``cache`` is
    True for the CLI's default cache file, False for none, or a path.
    """
    includes = [Path(p) for p in _listed(include_paths)]
    judge_spec = with_batch_flags(resolve_judge(judge, includes, base_url, _listed(judge_args)), batch,
                                  batch_fallback, batch_wait)
    pairs = _listed(options)
    tasks = []
    for name in group_members(task, includes) or [task]:
        spec = load_task(name, includes)
        tasks.append(spec.with_options(pairs) if pairs else spec)
    run_options = RunOptions(
        data=_path(data), domains=_listed(domains), limit=limit, seed=seed, concurrency=concurrency,
        results_dir=Path(results_dir), cache_path=_cache_path(cache), refresh=refresh, template=_path(template),
    )
    return await run_tasks_async(tasks, judge_spec, run_options, _progress_for(progress),
                                 on_result or (lambda result: None))


def evaluate(
    task: str,
    judge: str,
    *,
    limit: int | None = None,
    seed: int = 0,
    domains: Iterable[str] = (),
    data: PathLike | None = None,
    options: Iterable[str] = (),
    judge_args: Iterable[str] = (),
    base_url: str | None = None,
    template: PathLike | None = None,
    results_dir: PathLike = "results",
    cache: bool | PathLike = True,
    refresh: bool = False,
    concurrency: int = 16,
    batch: bool = False,
    batch_fallback: str | None = None,
    batch_wait: float | None = None,
    include_paths: Iterable[PathLike] = (),
    progress: Progress = None,
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """``evaluate_async`` run to its end; called inside a running event loop it runs on a worker thread."""
    return run_blocking(evaluate_async(
        task, judge, limit=limit, seed=seed, domains=domains, data=data, options=options, judge_args=judge_args,
        base_url=base_url, template=template, results_dir=results_dir, cache=cache, refresh=refresh,
        concurrency=concurrency, batch=batch, batch_fallback=batch_fallback, batch_wait=batch_wait,
        include_paths=include_paths, progress=progress, on_result=on_result,
    ))


def _listed(values: Iterable[T] | T) -> list[T]:
    """A lone string is one item, not its characters (``domains="DROP"``)."""
    return [values] if isinstance(values, str | Path) else list(values)


def _path(value: PathLike | None) -> Path | None:
    return None if value is None else Path(value)


def _cache_path(cache: bool | PathLike) -> Path | None:
    if cache is True:
        return default_cache_path()
    return Path(cache) if cache else None


def _progress_for(progress: Progress) -> Callable[[TaskSpec], RunProgress]:
    """One reporter for every task, or a factory called with each task as its judging begins."""
    if progress is None or isinstance(progress, RunProgress):
        shared = progress or RunProgress()
        return lambda task: shared
    return progress
