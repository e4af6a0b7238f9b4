"""lm-evaluation-harness runs of the task pack, imported as halubench runs.

``lm_eval --output_path DIR --log_samples`` leaves, per model, a ``results_<date>.json``
and one ``samples_<task>_<date>.jsonl`` per task. Each logged row holds the document
(the native sample: id, label, fields, groups), the prompt sent and the model's raw
reply. The import re-reads every reply with this project's parser and scores the rows
with the runner's scorer: lm-eval's own numbers are never taken, only compared, and a
difference is reported as an error. The run it writes has the identity a native run of
the same task, rows, prompt and judge has, so the board and ``compare`` treat both alike.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from halubench.backends import (
    JudgeRequest,
    JudgeSpec,
    OpenAIJudge,
    Reply,
    RunCost,
    resolve_judge,
)
from halubench.config import PromptRenderer, PromptTemplate
from halubench.data import LoadedRows, Sample, TaskSpec, load_task, select
from halubench.errors import DataError
from halubench.results import RunSummary, write_run
from halubench.run import RunResult, build_summary, now, row_record, task_template
from halubench.scoring import SampleRecord, scorer_for

PACK_DIR = Path(__file__).resolve().parent / "task_pack"
# lm-eval models whose requests are chat messages sent to an OpenAI-compatible server.
OPENAI_CHAT_MODELS = ("local-chat-completions", "openai-chat-completions")
# lm-eval vLLM arguments that steer lm-eval itself, not the engine's replies.
VLLM_HARNESS_ARGS = frozenset({
    "pretrained", "batch_size", "max_batch_size", "max_gen_toks", "add_bos_token", "prefix_token_id",
    "device", "data_parallel_size", "think_end_token", "enable_thinking", "chat_template_args",
})
_SECRET = re.compile(r"(api_?key|secret|password|authorization|auth_token|^headers$)", re.IGNORECASE)
TOLERANCE = 1e-9


@dataclass(frozen=True)
class LmEvalRun:
    """One ``results_<date>.json`` and the rows its ``samples_<task>_<date>.jsonl`` files logged."""

    results_path: Path
    results: dict[str, Any]
    samples: dict[str, list[dict[str, Any]]]  # lm-eval task -> logged rows

    def config(self, task: str) -> dict[str, Any]:
        return self.results.get("configs", {}).get(task, {})


@dataclass
class ImportResult:
    """The runs written, and every lm-eval figure that the re-scoring contradicts (each an error)."""

    runs: list[RunResult]
    problems: list[str]


def find_runs(path: Path) -> list[LmEvalRun]:
    """Every lm-eval results file under ``path`` (an --output_path folder, a model folder or the file)."""
    if not path.exists():
        raise DataError(f"{path} does not exist; pass the folder given to lm_eval --output_path")
    files = [path] if path.is_file() else sorted(path.rglob("results_*.json"))
    if not files:
        raise DataError(f"{path}: no lm-eval results_*.json below it; run lm_eval with --output_path and --log_samples")
    return [_read_run(f) for f in files]


def _read_run(results_path: Path) -> LmEvalRun:
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{results_path}: not an lm-eval results file ({exc})") from None
    stamp = results_path.stem.removeprefix("results_")
    samples = {}
    for task in results.get("configs", {}):
        logged = results_path.with_name(f"samples_{task}_{stamp}.jsonl")
        if not logged.exists():
            raise DataError(f"{results_path}: task {task} has no {logged.name}; run lm_eval with --log_samples")
        lines = logged.read_text(encoding="utf-8").splitlines()
        samples[task] = [json.loads(line) for line in lines if line.strip()]
    return LmEvalRun(results_path, results, samples)


def native_tasks(run: LmEvalRun) -> dict[str, list[str]]:
    """halubench task -> the lm-eval tasks of the pack that ran its rows (other tasks are not ours)."""
    found: dict[str, list[str]] = defaultdict(list)
    for task in run.samples:
        native = (run.config(task).get("dataset_kwargs") or {}).get("halubench_task")
        if native:
            found[native].append(task)
    if not found:
        raise DataError(f"{run.results_path}: none of its tasks ({', '.join(run.samples)}) comes from "
                        f"halubench's task pack (lm_eval --include_path \"$(halubench lm-eval-tasks)\")")
    return dict(found)


def judge_for(run: LmEvalRun, name: str | None = None) -> tuple[JudgeSpec, str | None]:
    """The native judge an lm-eval model stands for, built as ``halubench run --judge`` builds it.

    An OpenAI-compatible chat model becomes ``openai:<model>`` at its base URL, lm-eval's
    ``vllm`` becomes ``vllm:<pretrained>`` with its engine arguments. ``name`` picks a judge
    file instead (e.g. ``gpt-4o``); its model must be the one lm-eval ran. Also returns the
    URL lm-eval called (None for an in-process engine).
    """
    config = run.results.get("config") or {}
    kind, args = config.get("model"), dict(config.get("model_args") or {})
    if isinstance(config.get("model_args"), str):
        args = dict(pair.split("=", 1) for pair in config["model_args"].split(",") if "=" in pair)
    base_url, endpoint, overrides = None, None, []
    if kind in OPENAI_CHAT_MODELS:
        model = str(args.get("model"))
        endpoint = str(args.get("base_url") or OpenAIJudge.default_base_url).removesuffix("/chat/completions")
        # As a native run of an OpenAI judge: a base_url setting only for another server.
        base_url = None if endpoint == OpenAIJudge.default_base_url else endpoint
        derived = f"openai:{model}"
    elif kind == "vllm":
        model = str(args.get("pretrained"))
        derived = f"vllm:{model}"
        engine = {("max_model_len" if k == "max_length" else k): v for k, v in args.items()
                  if k not in VLLM_HARNESS_ARGS and k != "revision"}
        overrides = [f"engine.{k}={json.dumps(v)}" for k, v in sorted(engine.items())]
        if args.get("revision"):
            overrides.append(f"revision={args['revision']}")
    else:
        raise DataError(f"{run.results_path}: lm-eval model {kind!r} is not importable; use one of "
                        f"{', '.join(OPENAI_CHAT_MODELS)} or vllm (chat models judge the same prompt bytes)")
    spec = resolve_judge(name or derived, (), base_url, overrides if name is None else ())
    if spec.model != model:
        raise DataError(f"{run.results_path}: judge {name} is model {spec.model!r}, lm-eval ran {model!r}")
    effective = spec.settings.request_generation()
    differs = {k: v for k, v in _generation(run).items() if effective.get(k) != v}
    if differs:
        extra = [f"generation.{k}={json.dumps(v)}" for k, v in sorted(differs.items())]
        spec = resolve_judge(spec.name, (), base_url, [*(overrides if name is None else ()), *extra])
    return spec, endpoint


def _generation(run: LmEvalRun) -> dict[str, Any]:
    """lm-eval's generation settings in a native judge's words (its default stop, EOS, is the engine's)."""
    kwargs: dict[str, Any] = {}
    for task in run.samples:
        kwargs.update(run.config(task).get("generation_kwargs") or {})
    gen_kwargs = (run.results.get("config") or {}).get("gen_kwargs")
    if isinstance(gen_kwargs, Mapping):
        kwargs.update(gen_kwargs)
    return {"temperature": kwargs.get("temperature", 0), "max_tokens": kwargs.get("max_gen_toks", 600)}


def import_runs(path: Path, results_dir: Path, judge: str | None = None, data: Path | None = None) -> ImportResult:
    """Every native task of every lm-eval run under ``path``, re-scored and written."""
    runs, problems = [], []
    for run in find_runs(path):
        spec, endpoint = judge_for(run, judge)
        written = []
        for native, lm_tasks in native_tasks(run).items():
            imported, task_problems = _import_task(run, native, lm_tasks, spec, endpoint, results_dir, data)
            written.append(imported)
            problems += task_problems
        problems += _group_problems(run, written)
        runs += written
    return ImportResult(runs, problems)


def _metadata(run: LmEvalRun, lm_tasks: Sequence[str]) -> dict[str, Any]:
    return dict(run.config(lm_tasks[0]).get("metadata") or {})


def _load_native(native: str, metadata: Mapping[str, Any], data: Path | None) -> tuple[TaskSpec, LoadedRows]:
    """The task's rows as a native run loads them, with the data and options lm-eval was given."""
    task = load_task(native)
    options = dict(task.options)
    for key in ("annotations", "fail_on"):
        if metadata.get(key):
            options[key] = metadata[key]
    task = replace(task, options=options)
    source = data or (Path(metadata["data_files"]) if metadata.get("data_files") else None)
    if source is not None and not source.exists():
        raise DataError(f"lm-eval read {source}, which is not here; pass its new location with --data")
    return task, task.load(source)


def _import_task(
    run: LmEvalRun, native: str, lm_tasks: Sequence[str], spec: JudgeSpec, endpoint: str | None,
    results_dir: Path, data: Path | None,
) -> tuple[RunResult, list[str]]:
    task, loaded = _load_native(native, _metadata(run, lm_tasks), data)
    by_id = {s.id: s for s in loaded.samples}
    template = task_template(task)
    renderer = PromptRenderer(template)
    logged = [(lm_task, row) for lm_task in lm_tasks for row in run.samples[lm_task]]
    records: dict[str, SampleRecord] = {}
    lm_correct = {}
    for lm_task, row in logged:
        sample = _sample(row, by_id, run, lm_task)
        messages = renderer.messages(sample.fields)
        _check_prompt(row, messages, run, lm_task, sample.id)
        request = JudgeRequest(sample.id, messages, sample.fields, task.labels)
        records[sample.id] = row_record(sample, request, Reply(sample.id, text=_reply(row)))
        lm_correct[sample.id] = (lm_task, row.get("acc"))
    chosen = _selection(loaded.samples, set(records), task)
    ordered = [records[s.id] for s in chosen.samples]
    summary = _summarize(run, task, spec, endpoint, template, loaded, chosen, ordered, results_dir)
    path = write_run(summary, ordered, results_dir)
    return RunResult(path, summary, ordered), _task_problems(run, native, lm_tasks, records, lm_correct)


def _sample(row: Mapping[str, Any], by_id: Mapping[str, Sample], run: LmEvalRun, lm_task: str) -> Sample:
    """The native sample a logged document is; a document that differs means other data."""
    doc = row.get("doc") or {}
    sample = by_id.get(str(doc.get("id")))
    where = f"{run.results_path.name}: {lm_task} doc {row.get('doc_id')} (id {doc.get('id')})"
    if sample is None:
        raise DataError(f"{where}: no such row in the task's data; pass the file lm-eval read with --data")
    if doc.get("label") != sample.label or dict(doc.get("fields") or {}) != dict(sample.fields):
        raise DataError(f"{where}: differs from the task's data (label or text); pass the file lm-eval read "
                        "with --data")
    return sample


def _reply(row: Mapping[str, Any]) -> str | None:
    """The model's raw reply, before lm-eval's filters (the pack has none but take-first)."""
    responses = row.get("resps") or [[None]]
    first = responses[0]
    return first[0] if isinstance(first, list) else first


def _check_prompt(
    row: Mapping[str, Any], messages: Sequence[Mapping[str, str]], run: LmEvalRun, lm_task: str, sample_id: str
) -> None:
    """The logged request must carry this project's prompt unchanged, or the run is not comparable."""
    arguments = row.get("arguments") or {}
    first = next(iter(arguments.values()), {}) if isinstance(arguments, Mapping) else arguments[0]
    sent = first.get("arg_0") if isinstance(first, Mapping) else first[0]
    if isinstance(sent, list):
        sent = sent[0]
    try:
        chat = json.loads(sent)
    except (TypeError, ValueError):
        chat = None
    expected = messages[-1]["content"]
    same = chat == list(messages) if isinstance(chat, list) else isinstance(sent, str) and expected in sent
    if not same:
        raise DataError(
            f"{run.results_path.name}: {lm_task} row {sample_id}: the prompt lm-eval sent is not halubench's "
            "template (a system instruction, few-shot examples or another pack version?); not comparable"
        )


@dataclass(frozen=True)
class Chosen:
    """Rows in the native task's order and the selection that names them (seed None: not a seeded draw)."""

    samples: list[Sample]
    limit: int | None
    seed: int | None
    domains: tuple[str, ...]


def _selection(population: Sequence[Sample], ids: set[str], task: TaskSpec) -> Chosen:
    """The native selection that gives exactly these rows: all, some domains, or lm-eval's own cut."""
    if ids == {s.id for s in population}:
        return Chosen(list(population), None, 0, ())
    breakdown = task.breakdowns[0] if task.breakdowns else None
    domains = sorted({s.groups.get(breakdown or "", "") for s in population if s.id in ids})
    same_domains = select(population, breakdown=breakdown, domains=domains) if breakdown else []
    if ids == {s.id for s in same_domains}:
        return Chosen(same_domains, None, 0, tuple(domains))
    # lm_eval --limit N: the first N rows of each subtask, a cut no native --limit draws.
    return Chosen([s for s in population if s.id in ids], len(ids), None, ())


def _summarize(
    run: LmEvalRun, task: TaskSpec, spec: JudgeSpec, endpoint: str | None, template: PromptTemplate,
    loaded: LoadedRows, chosen: Chosen, records: list[SampleRecord], results_dir: Path,
) -> RunSummary:
    """The summary a native run of these rows would have, scored by the task's own scorer.

    lm-eval logs no token counts, so the run's cost is unknown.
    """
    return build_summary(
        task=task, judge=spec.name, judge_settings=spec.reply_settings(), public_settings=spec.public_settings(),
        endpoint_url=endpoint, dataset=loaded.provenance, rows_available=len(loaded.samples),
        limit=chosen.limit, seed=chosen.seed, domains=chosen.domains, template=template,
        default_template=task_template(task), records=records,
        metrics=scorer_for(task)(records, task, loaded.samples), excluded=loaded.excluded,
        results_dir=results_dir, started_at=_started(run), cost=RunCost(None),
        extra_provenance={"lm_eval": lm_eval_provenance(run)},
    )


def lm_eval_provenance(run: LmEvalRun) -> dict[str, Any]:
    """What ran: lm-eval's version, model and arguments (no credentials), the pack's task versions."""
    config = run.results.get("config") or {}
    args = config.get("model_args") or {}
    if isinstance(args, Mapping):
        args = {k: v for k, v in args.items() if not _SECRET.search(str(k))}
    return {
        "version": run.results.get("lm_eval_version"),
        "model": config.get("model"),
        "model_args": args,
        "gen_kwargs": config.get("gen_kwargs"),
        "limit": config.get("limit"),
        "task_versions": {t: v for t, v in (run.results.get("versions") or {}).items()},
        "chat_template_sha": run.results.get("chat_template_sha"),
        "results_file": run.results_path.name,
    }


def _started(run: LmEvalRun) -> str:
    """When lm-eval started, as its results file says (else now)."""
    stamp = run.results.get("date")
    if isinstance(stamp, (int, float)):
        return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds")
    return now()


def _task_problems(
    run: LmEvalRun, native: str, lm_tasks: Sequence[str], records: Mapping[str, SampleRecord],
    lm_correct: Mapping[str, tuple[str, Any]],
) -> list[str]:
    """lm-eval's reported accuracy and unparsed rate per task against the re-scored rows."""
    problems = []
    reported = run.results.get("results") or {}
    for lm_task in lm_tasks:
        rows = [r for i, r in records.items() if lm_correct[i][0] == lm_task]
        ours = {"acc": _mean(r["correct"] for r in rows), "unparsed": _mean(r["verdict"] is None for r in rows)}
        for metric, value in ours.items():
            theirs = (reported.get(lm_task) or {}).get(f"{metric},none")
            if theirs is None or abs(theirs - value) > TOLERANCE:
                problems.append(f"{lm_task}: lm-eval reported {metric} {theirs}, halubench's re-scoring of "
                                f"its {len(rows)} logged replies gives {value:.6f}")
    differing = [i for i, (_, acc) in lm_correct.items() if acc is not None and bool(acc) != records[i]["correct"]]
    if differing:
        problems.append(f"{native}: {len(differing)} rows scored differently by lm-eval (e.g. {differing[0]}); "
                        "was the pack from another halubench version?")
    return problems


def _group_problems(run: LmEvalRun, imported: Sequence[RunResult]) -> list[str]:
    """lm-eval's group figures (domain-macro accuracy, unparsed rate) against the re-scored runs."""
    problems = []
    groups = run.results.get("groups") or {}
    members = run.results.get("group_subtasks") or {}
    for group, figures in groups.items():
        subtasks = members.get(group) or []
        if not subtasks or any(t not in run.samples for t in subtasks):
            continue
        ours = _group_accuracy(run, subtasks, imported)
        theirs = figures.get("acc,none")
        if ours is not None and (theirs is None or abs(theirs - ours) > TOLERANCE):
            problems.append(f"{group}: lm-eval reported acc {theirs}, halubench's re-scoring gives {ours:.6f}")
    return problems


def _group_accuracy(run: LmEvalRun, subtasks: Sequence[str], imported: Sequence[RunResult]) -> float | None:
    """The unweighted mean of the subtasks' accuracies, as the pack's groups aggregate (weight_by_size false)."""
    ids = {t: {str((row.get("doc") or {}).get("id")) for row in run.samples[t]} for t in subtasks}
    correct = {r["id"]: r["correct"] for i in imported for r in i.samples}
    means = [_mean(correct[i] for i in members if i in correct) for members in ids.values()]
    return sum(means) / len(means) if means else None


def _mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else 0.0
