"""One run, start to end: task rows -> prompts -> judge -> replies -> verdicts -> scores -> files.

Each stage is a call to the module that owns it; this file only wires them and
keeps the bookkeeping honest (every selected row ends up in the denominator,
with a status saying whether it has a verdict).
"""

from __future__ import annotations

import asyncio
import platform
import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from halubench import __version__
from halubench.backends import build_judge
from halubench.backends.base import Judge, JudgeRequest, Reply
from halubench.cache import ReplyCache, cache_key
from halubench.errors import HalubenchError
from halubench.judge_spec import JudgeSpec
from halubench.prompts import PromptRenderer, PromptTemplate, resolve_template
from halubench.ranking_metrics import add_ranking_metrics
from halubench.results import write_run
from halubench.samples import Sample
from halubench.scoring import Judged, score_run
from halubench.task import TaskSpec, loader_for, select
from halubench.verdicts import parse_verdict


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
    summary_path: Path
    summary: dict[str, Any]
    samples: list[dict[str, Any]] = field(repr=False)


class Progress:
    """What the runner reports while judging; the CLI draws it with rich."""

    def start(self, total: int, cached: int) -> None: ...

    def advance(self, reply: Reply) -> None: ...


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def choose_template(task: TaskSpec, judge: JudgeSpec, override: Path | None) -> PromptTemplate:
    if override is not None:
        return resolve_template(override)
    judge_choice = judge.template_override(task.prompt)
    if judge_choice is not None:
        return resolve_template(*judge_choice)
    return resolve_template(task.prompt, task.source.parent if task.source else None)


def run_task(
    task: TaskSpec, judge_spec: JudgeSpec, options: RunOptions, progress: Progress | None = None
) -> RunResult:
    started = now()
    judge = build_judge(judge_spec)  # before loading rows: a judge that cannot run says so at once
    judge.bind_task(task)
    loaded = loader_for(task)(task, options.data)
    breakdown = task.breakdowns[0] if task.breakdowns else None
    samples = select(
        loaded.samples, breakdown=breakdown, domains=options.domains,
        limit=options.limit, seed=options.seed,
    )
    template = choose_template(task, judge_spec, options.template)
    renderer = PromptRenderer(template)
    requests = [JudgeRequest(s.id, renderer.messages(s.fields), s.fields, task.labels) for s in samples]

    cache = ReplyCache(options.cache_path) if options.cache_path else None
    try:
        replies = asyncio.run(_collect(judge, requests, cache, options, progress or Progress()))
    finally:
        if cache:
            cache.close()

    records = [_record(s, r, replies[r.key]) for s, r in zip(samples, requests, strict=True)]
    judged = [Judged(r["gold"], r["verdict"], r["status"], r["groups"]) for r in records]
    metrics = score_run(judged, task.labels, task.positive_label, task.breakdowns)
    add_ranking_metrics(metrics, records, task.positive_label, task.breakdowns)
    if loaded.extra_metrics is not None:
        metrics.update(loaded.extra_metrics(records))
    summary = {
        "task": task.name,
        "judge": judge_spec.name,
        "n": len(records),
        **({"excluded": loaded.excluded} if loaded.excluded else {}),
        "labels": list(task.labels),
        "positive_label": task.positive_label,
        "metrics": metrics,
        "usage": usage_summary(list(replies.values()), judge_spec),
        "provenance": {
            "harness_version": __version__,
            "python": sys.version.split()[0],
            "platform": platform.platform(terse=True),
            "task_file": str(task.source) if task.source else None,
            "dataset": loaded.provenance,
            "selection": {
                "rows_available": len(loaded.samples),
                "domains": list(options.domains),
                "limit": options.limit,
                "seed": options.seed,
            },
            "prompt_template": {"name": template.name, "sha256": template.sha256},
            "judge": judge_spec.public_settings(),
            "started_at": started,
            "finished_at": now(),
        },
    }
    path = write_run(summary, records, options.results_dir)
    return RunResult(path, summary, records)


async def _collect(
    judge: Judge,
    requests: list[JudgeRequest],
    cache: ReplyCache | None,
    options: RunOptions,
    progress: Progress,
) -> dict[str, Reply]:
    """Answer from the cache where possible; call the judge for the rest, saving as they come."""
    identity = judge.cache_identity() if cache else None
    keys = {r.key: cache_key(identity, r.messages) for r in requests} if identity else {}
    replies: dict[str, Reply] = {}
    if identity and not options.refresh:
        stored = cache.get_many(keys.values())
        for request in requests:
            row = stored.get(keys[request.key])
            if row is not None:
                replies[request.key] = ReplyCache.as_reply(request.key, row)
    todo = [r for r in requests if r.key not in replies]
    progress.start(len(requests), len(replies))
    if not todo:
        return replies
    await judge.start()
    try:
        async for reply in judge.stream(todo, options.concurrency):
            if identity and ReplyCache.keeps(reply):
                cache.put(keys[reply.key], reply)
            replies[reply.key] = reply
            progress.advance(reply)
    except HalubenchError as exc:
        saved = sum(1 for r in replies.values() if r.ok) if identity else 0
        note = f" ({saved} replies are saved in the cache; run again to continue)" if saved else ""
        raise type(exc)(f"{exc}{note}") from None
    finally:
        await judge.close()
    missing = [r.key for r in todo if r.key not in replies]
    if missing:
        raise RuntimeError(f"judge {judge.spec.name} returned no reply for {len(missing)} rows")
    return replies


def _status(reply: Reply, verdict: str | None) -> str:
    if reply.too_long:
        return "too_long"
    if reply.error is not None or reply.text is None:
        return "error"
    return "ok" if verdict is not None else "unparsed"


def _record(sample: Sample, request: JudgeRequest, reply: Reply) -> dict[str, Any]:
    parsed = parse_verdict(reply.text, request.labels) if reply.ok else None
    verdict = parsed.verdict if parsed else None
    return {
        "id": sample.id,
        "gold": sample.label,
        "verdict": verdict,
        "status": _status(reply, verdict),
        "correct": verdict == sample.label,
        "groups": dict(sample.groups),
        "fields": dict(sample.fields),
        "raw": reply.text,
        "reasoning": parsed.reasoning if parsed else None,
        "error": reply.error,
        "latency_s": reply.latency_s,
        "input_tokens": reply.input_tokens,
        "output_tokens": reply.output_tokens,
        "model_version": reply.model_version,
        "score": reply.score,
        "cached": reply.cached,
    }


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def usage_summary(replies: list[Reply], judge: JudgeSpec) -> dict[str, Any]:
    def total(attr: str) -> int | None:
        values = [getattr(r, attr) for r in replies if getattr(r, attr) is not None]
        return sum(values) if values else None

    input_tokens, output_tokens = total("input_tokens"), total("output_tokens")
    price = judge.settings.get("price_per_million") or {}
    cost = None
    if price and input_tokens is not None:
        cost = (input_tokens * price.get("input", 0) + (output_tokens or 0) * price.get("output", 0)) / 1e6
    latencies = sorted(r.latency_s for r in replies if r.latency_s is not None and r.ok)
    versions = Counter(r.model_version for r in replies if r.model_version)
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cost_usd": cost,
        "cost_per_1000_usd": cost * 1000 / len(replies) if cost is not None and replies else None,
        "latency_p50_s": _percentile(latencies, 50),
        "latency_p95_s": _percentile(latencies, 95),
        "model_versions": dict(versions),
        "cached_replies": sum(1 for r in replies if r.cached),
        "called": sum(1 for r in replies if not r.cached),
    }

