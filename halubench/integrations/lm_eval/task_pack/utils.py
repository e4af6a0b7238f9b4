"""lm-evaluation-harness hooks: this project's prompt, parser and scoring, called from lm-eval.

The task YAML beside this file names these functions (``!function utils.x``), so
a run under ``lm_eval`` sends the judge the same bytes as ``halubench run`` and
reads its reply with the same parser: a reply without a verdict counts as wrong
and is reported as ``unparsed``, exactly as in a native run. Each hook looks up
the native task it stands for, so a change to that task's template or labels
reaches both harnesses at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from halubench.config import PromptRenderer
from halubench.data import TaskSpec, load_task
from halubench.run import task_template
from halubench.scoring import ScoredRow, parse_verdict, score

# The native task a row stands for: RefChecker rows name theirs, HaluBench rows (hub or file) are this one.
DEFAULT_TASK = "halubench"
TASK_COLUMN = "halubench_task"


@cache
def native_task(name: str) -> TaskSpec:
    return load_task(name)


@cache
def _renderer(name: str) -> PromptRenderer:
    """The task's own template, the one every ranked native run of it uses."""
    return PromptRenderer(task_template(native_task(name)))


def native_name(doc: Mapping[str, Any]) -> str:
    return doc.get(TASK_COLUMN) or DEFAULT_TASK


def prompt(native: str, fields: Mapping[str, str]) -> str:
    """The single user message a native run sends; lm-eval's chat template wraps it the same way."""
    [message] = _renderer(native).messages(fields)
    return message["content"]


def row_metrics(native: str, gold: str, reply: str | None) -> dict[str, float]:
    """One row scored by this project's parser and scoring: ``acc`` is 0 for a reply without verdict."""
    task = native_task(native)
    verdict = parse_verdict(reply, task.labels).verdict
    row: ScoredRow = {"gold": gold, "verdict": verdict, "status": "ok" if verdict is not None else "unparsed",
                      "groups": {}}
    metrics = score([row], task.labels, task.positive_label)
    return {"acc": metrics["accuracy"], "unparsed": float(metrics["unparsed"])}


def doc_to_text(doc: Mapping[str, Any]) -> str:
    return prompt(native_name(doc), doc["fields"])


def process_results(doc: Mapping[str, Any], results: list[str]) -> dict[str, float]:
    return row_metrics(native_name(doc), str(doc["label"]), results[0])


DOMAINS = ("halueval", "RAGTruth", "FinanceBench", "DROP", "covidQA", "pubmedQA")  # one subtask each


def subtask(domain: str) -> str:
    """The lm-eval subtask of a HaluBench domain (``halubench_<domain lower-cased>``, as the YAML files)."""
    return f"halubench_{domain.lower()}"


def _domain(name: str) -> Callable[[Any], Any]:
    """``process_docs`` keeping one HaluBench domain (``source_ds``, the native ``domain`` group).

    A user's own file rarely holds all six domains, and lm-eval cannot run a
    subtask without rows (it dies with ``IndexError: Invalid key: 0``): so the
    run stops here, before any call, with one line naming the domains the file
    lacks and the subtasks to pass for the ones it has.
    """

    def keep(dataset: Any) -> Any:
        rows = dataset.filter(lambda doc: doc["groups"]["domain"] == name)
        if len(rows) == 0:
            present = {doc["domain"] for doc in dataset["groups"]}
            absent = ", ".join(d for d in DOMAINS if d not in present)
            has = [d for d in DOMAINS if d in present]
            instead = (f"run --tasks {','.join(map(subtask, has))}, the subtasks of the domains it has"
                       if has else "pass a HaluBench file (source_ds names the domain)")
            raise SystemExit(f"error: the data has no rows of {absent} (only of {', '.join(has) or 'other domains'});"
                             f" {instead}")
        return rows

    keep.__name__ = f"only_{name}"
    return keep


only_halueval = _domain("halueval")
only_ragtruth = _domain("RAGTruth")
only_financebench = _domain("FinanceBench")
only_drop = _domain("DROP")
only_covidqa = _domain("covidQA")
only_pubmedqa = _domain("pubmedQA")


def rows(
    halubench_task: str, data_files: str | None = None, annotations: str | None = None,
    fail_on: str | None = None, **_lm_eval_metadata: Any,
) -> Any:
    """``custom_dataset``: the rows of a native task, read and validated by its own loader.

    So an lm-eval run sees exactly the rows, ids and labels ``halubench run`` would:
    the hub dataset at the revision the native task pins, or with ``data_files`` a
    local file (``--data`` natively; RefChecker's references file). ``data_files``,
    ``annotations`` and ``fail_on`` come from ``lm_eval --metadata '{...}'``; lm-eval
    passes its other metadata (version, model arguments) as well, ignored here.
    """
    import datasets

    table = _table(halubench_task, data_files, annotations, fail_on)
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(table)})


@cache
def _table(
    halubench_task: str, data_files: str | None, annotations: str | None, fail_on: str | None
) -> list[dict[str, Any]]:
    """Read once per lm-eval process: the six HaluBench domains share one file."""
    task = native_task(halubench_task)
    options = {**task.options, **({"annotations": annotations} if annotations else {}),
               **({"fail_on": fail_on} if fail_on else {})}
    spec = replace(task, options=options)
    loaded = spec.load(Path(data_files) if data_files else None)
    return [
        {"id": s.id, "label": s.label, TASK_COLUMN: halubench_task, "fields": dict(s.fields), "groups": dict(s.groups)}
        for s in loaded.samples
    ]
