"""The ``halubench`` command line."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from halubench.backends.base import Reply
from halubench.cache import default_cache_path
from halubench.definitions import discover
from halubench.errors import HalubenchError
from halubench.judge_spec import resolve_judge
from halubench.key_values import apply_pairs
from halubench.refchecker.make_references import make_references
from halubench.runner import Progress as RunProgress
from halubench.runner import RunOptions, RunResult, run_tasks
from halubench.task import group_members, load_task

app = typer.Typer(
    help="Benchmark hallucination-detection judges on HaluBench and RefChecker.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output (CI logs, files) has no terminal width; rich's 80 columns would squash tables.
console = Console() if sys.stdout.isatty() else Console(width=120)
errors = Console(stderr=True)

IncludePath = Annotated[
    list[Path] | None,
    typer.Option(
        "--include-path",
        help="Extra folder of task/judge YAML files (repeatable; also HALUBENCH_INCLUDE_PATH).",
    ),
]


class RichProgress(RunProgress):
    def __init__(self, bar: Progress, label: str):
        self.bar, self.label, self.task_id = bar, label, None

    def start(self, total: int, cached: int) -> None:
        note = f" ({cached} cached)" if cached else ""
        self.task_id = self.bar.add_task(f"{self.label}{note}", total=total, completed=cached)

    def advance(self, reply: Reply) -> None:
        self.bar.advance(self.task_id)


def _fmt(value: float | None, percent: bool = True) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}" if percent else f"{value:.3f}"


def print_run_table(result: RunResult) -> None:
    summary = result.summary
    metrics = summary["metrics"]
    breakdown_keys = [k for k in metrics if k.startswith("by_")]
    table = Table(title=f"{summary['task']} · judge {summary['judge']}", title_justify="left")
    table.add_column("group", no_wrap=True)
    for column in ("n", "acc %", "95% CI", "parsed acc %", "bal. acc %", "F1", "unparsed",
                   "errors", "too long"):
        table.add_column(column, justify="right", no_wrap=True)

    def add(name: str, m: dict, style: str | None = None) -> None:
        low, high = m["accuracy_ci95"]
        table.add_row(
            name, str(m["n"]), _fmt(m["accuracy"]), f"{100 * low:.0f}–{100 * high:.0f}",
            _fmt(m["accuracy_parsed"]), _fmt(m["balanced_accuracy"]),
            _fmt(m.get("f1", m["macro_f1"]), percent=False),
            str(m["unparsed"]), str(m["errors"]), str(m["too_long"]), style=style,
        )

    for key in breakdown_keys[:1]:
        for name, m in metrics[key].items():
            add(name, m)
    overall = metrics["overall"]
    add("overall (micro)", overall, style="bold")
    macro = next((v for k, v in overall.items() if k.endswith("_macro_accuracy")), None)
    console.print(table)
    if macro is not None:
        note = " (the paper's 'Overall')" if breakdown_keys[0] == "by_domain" else ""
        console.print(f"{breakdown_keys[0][3:]}-macro accuracy{note}: {_fmt(macro)}%")
    for left_out in summary.get("excluded", {}).values():
        console.print(f"left out: {left_out['n']} {left_out['reason']}")
    if "refchecker_agreement" in metrics:
        print_agreement(metrics["refchecker_agreement"])
    console.print(f"results: {result.summary_path}")


def print_agreement(agreement: dict) -> None:
    """RefChecker's response-level figures, in the paper's units (percent)."""
    table = Table(title=f"RefChecker agreement ({len(agreement['responders'])} responders, as its corr.py)",
                  title_justify="left")
    columns = ("responses", "accuracy", "factual_f1", "non_factual_f1", "macro_f1", "pearson", "spearman")
    table.add_column("setting")
    for column in columns:
        table.add_column(column.replace("_", " "), justify="right")
    for name, m in agreement["by_setting"].items():
        table.add_row(name, str(m["responses"]), *(_fmt(m[c]) for c in columns[1:]))
    console.print(table)


def _opt(*names: str, help: str) -> typer.models.OptionInfo:
    return typer.Option(*names, help=help)


JudgeName = Annotated[str, _opt("--judge", "-j", help=(
    "Judge name (see `halubench judges`) or provider:model, e.g. openai:gpt-4o-mini."))]
TaskName = Annotated[str, _opt("--task", "-t", help="Task or group name (see `halubench tasks`).")]
DataFile = Annotated[Path | None, _opt("--data", help=(
    "Local data file instead of the hub (jsonl, json, csv, parquet); for RefChecker tasks, "
    "the references file (JSONL: id, question, reference)."))]
Domains = Annotated[list[str] | None, _opt("--domain", "-d", help=(
    "Only these groups of the task's first breakdown (HaluBench: source_ds; RefChecker: "
    "responder, or setting for refchecker-claims); repeatable."))]
Limit = Annotated[int | None, _opt("--limit", help="Judge N rows, drawn stratified by domain and label.")]
Seed = Annotated[int, _opt("--seed", help="Seed for the --limit draw.")]
Concurrency = Annotated[int, _opt("--concurrency", help="Requests in flight at once (API judges).")]
ResultsDir = Annotated[Path, _opt("--results-dir", help="Where results files go.")]
BaseUrl = Annotated[str | None, _opt("--base-url", help=(
    "Endpoint of an OpenAI-compatible or Anthropic server; overrides the judge file."))]
JudgeArgs = Annotated[list[str] | None, _opt("--judge-arg", help=(
    "Override a judge setting, KEY=VALUE (repeatable; dots reach into blocks), "
    "e.g. engine.tensor_parallel_size=4 or generation.max_tokens=300."))]
TemplateFile = Annotated[Path | None, _opt("--template", help=(
    "Prompt template (.jinja) replacing the task's and the judge's."))]
CacheFile = Annotated[Path | None, _opt("--cache", help=(
    "SQLite reply cache (default: $HALUBENCH_CACHE or ~/.cache/halubench/replies.sqlite)."))]
NoCache = Annotated[bool, _opt("--no-cache", help="Neither read nor write the reply cache.")]
TaskOptions = Annotated[list[str] | None, _opt("--option", "-o", help=(
    "Task option KEY=VALUE (YAML value), overriding the task file's `options`; repeatable. "
    "RefChecker: annotations=DIR, fail_on=not_entailment."))]
Refresh = Annotated[bool, _opt("--refresh", help="Call the judge for every row again; overwrite cached replies.")]


@app.command()
def run(
    judge: JudgeName,
    task: TaskName = "halubench",
    data: DataFile = None,
    domain: Domains = None,
    limit: Limit = None,
    seed: Seed = 0,
    concurrency: Concurrency = 16,
    results_dir: ResultsDir = Path("results"),
    base_url: BaseUrl = None,
    judge_arg: JudgeArgs = None,
    template: TemplateFile = None,
    cache: CacheFile = None,
    no_cache: NoCache = False,
    refresh: Refresh = False,
    option: TaskOptions = None,
    include_path: IncludePath = None,
) -> None:
    """Run a judge over a task (or a group of tasks) and write the results files.

    Exits 1 when rows failed (the run is written, marked incomplete and never ranked;
    running the same command again asks only the failed rows).
    """
    includes = include_path or []
    judge_spec = resolve_judge(judge, includes, base_url, judge_arg or ())
    specs = []
    for name in group_members(task, includes) or [task]:
        spec = load_task(name, includes)
        if option:
            spec = replace(spec, options=apply_pairs(spec.options, option, "--option", "fail_on=not_entailment"))
        specs.append(spec)
    options = RunOptions(
        data=data, domains=domain or (), limit=limit, seed=seed, concurrency=concurrency,
        results_dir=results_dir, cache_path=None if no_cache else (cache or default_cache_path()),
        refresh=refresh, template=template,
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        results = run_tasks(specs, judge_spec, options, lambda spec: RichProgress(bar, f"{spec.name} · {judge}"),
                            print_run_table)
    incomplete = [r for r in results if not r.complete]
    for result in incomplete:
        errors.print(f"[bold red]incomplete:[/] {escape(failure_line(result.summary))}", highlight=False,
                     soft_wrap=True)
    if incomplete:
        errors.print("the files are written but the run is not ranked; run the same command again to ask "
                     "only the failed rows")
        raise typer.Exit(1)


def failure_line(summary: dict) -> str:
    """``96 errors: connection failed (ConnectError) x96`` for one task's run."""
    failures = summary.get("failures") or {}
    count = sum(failures.values())
    reasons = "; ".join(f"{reason} x{n}" for reason, n in failures.items())
    return f"{summary['task']}: {count} error{'s' if count != 1 else ''}: {reasons}"


def _definitions_table(kind: str, includes: list[Path], extra: tuple[str, ...]) -> None:
    table = Table(show_lines=False)
    table.add_column("name", no_wrap=True)
    for column in (*extra, "description"):
        table.add_column(column, overflow="fold")
    for name, definition in sorted(discover(kind, includes).items()):
        body = definition.body
        table.add_row(name, *(str(body.get(k) or "") for k in extra),
                      " ".join(str(body.get("description", "")).split()))
    console.print(table)


@app.command()
def judges(include_path: IncludePath = None) -> None:
    """List the named judges. Ad-hoc judges: openai:<model>, anthropic:<model>, vllm:<model>."""
    _definitions_table("judge", include_path or [], ("backend", "model"))


@app.command()
def tasks(include_path: IncludePath = None) -> None:
    """List the tasks (and the groups they belong to)."""
    _definitions_table("task", include_path or [], ("group",))


ResultsIn = Annotated[Path, _opt("--results-dir", help="Folder of results files to read.")]
MarkdownOut = Annotated[Path | None, _opt("--markdown", help="Also write the leaderboard as Markdown here.")]
CsvOut = Annotated[Path | None, _opt("--csv", help="Also write the leaderboard's numbers as CSV here.")]
TaskFilter = Annotated[list[str] | None, _opt("--task", "-t", help="Only these tasks (repeatable).")]
NoReported = Annotated[bool, _opt("--no-reported", help="Leave out figures reported in papers.")]


@app.command()
def report(
    results_dir: ResultsIn = Path("results"),
    markdown: MarkdownOut = None,
    csv: CsvOut = None,
    task: TaskFilter = None,
    no_reported: NoReported = False,
) -> None:
    """The leaderboard: one table per task, measured runs and the papers' reported figures."""
    from halubench.leaderboard import build_leaderboards, load_runs
    from halubench.report import print_leaderboards, to_csv_frame, to_markdown

    boards = build_leaderboards(load_runs(results_dir), [] if no_reported else None)
    if task:
        boards = [b for b in boards if b.task in task]
    # A leaderboard is wider than a run table; piped output (files, CI logs) gets room for it.
    print_leaderboards(boards, console if sys.stdout.isatty() else Console(width=220))
    if markdown:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(to_markdown(boards), encoding="utf-8")
        console.print(f"markdown: {markdown}")
    if csv:
        csv.parent.mkdir(parents=True, exist_ok=True)
        to_csv_frame(boards).to_csv(csv, index=False)
        console.print(f"csv: {csv}")


RunA = Annotated[str, typer.Argument(metavar="A", help="First run: a results JSON path, or a judge name (--task).")]
RunB = Annotated[str, typer.Argument(metavar="B", help="Second run, the same way.")]
CompareTask = Annotated[str | None, _opt("--task", "-t", help="Task of the runs named by judge.")]
Show = Annotated[int, _opt("--show", help="Disagreeing rows to print.")]
DisagreementsOut = Annotated[Path | None, _opt("--disagreements", help=(
    "Write every row where the verdicts differ to this CSV file."))]


@app.command()
def compare(
    a: RunA,
    b: RunB,
    results_dir: ResultsIn = Path("results"),
    task: CompareTask = None,
    show: Show = 20,
    disagreements: DisagreementsOut = None,
) -> None:
    """Two runs of one task side by side: per-group deltas, McNemar's paired test, disagreements."""
    from halubench.compare import compare_runs, resolve_run
    from halubench.formatting import pct, signed_points

    first, second = resolve_run(a, results_dir, task), resolve_run(b, results_dir, task)
    result = compare_runs(first, second)
    table = Table(title=f"{first.task}: A = {first.judge}, B = {second.judge} (paired rows)",
                  title_justify="left")
    for column in (result.breakdown or "group", "n", "A %", "B %", "B − A (pp)", "only A right",
                   "only B right"):
        table.add_column(column, justify="left" if column == (result.breakdown or "group") else "right")
    for row in result.by_group().itertuples():
        table.add_row(row.group, str(row.n), pct(row.acc_a), pct(row.acc_b), signed_points(row.delta),
                      str(row.a_only_right), str(row.b_only_right),
                      style="bold" if row.group == "overall" else None)
    console.print(table)
    if result.only_a or result.only_b:
        console.print(f"left out (judged by one run only): {result.only_a} rows of A, {result.only_b} of B")
    console.print(result.test.describe())
    differ = result.disagreements()
    console.print(f"{len(differ)} rows where the verdicts differ" + (":" if show and len(differ) else ""))
    if show and len(differ):
        rows = Table()
        for column in ("id", result.breakdown or "group", "gold", "A", "B"):
            rows.add_column(column, overflow="fold")
        for row in differ.head(show).itertuples():
            rows.add_row(row.id, row.group, row.gold, row.verdict_a or f"none ({row.status_a})",
                         row.verdict_b or f"none ({row.status_b})")
        console.print(rows)
    if disagreements:
        disagreements.parent.mkdir(parents=True, exist_ok=True)
        differ.to_csv(disagreements, index=False)
        console.print(f"disagreements: {disagreements}")


SiteOut = Annotated[Path, _opt("--out", help="Folder for the site (replaced if an earlier build made it).")]


@app.command()
def site(
    results_dir: ResultsIn = Path("results"),
    out: SiteOut = Path("site"),
    no_reported: NoReported = False,
) -> None:
    """Write the static leaderboard site: tables, one page per run, a sample explorer."""
    from halubench.sitegen.build import build_site

    built = build_site(results_dir, out, [] if no_reported else None)
    leaderboard = built.pages["index.html"]
    console.print(f"site: {built.runs} runs, {len(built.pages)} pages, {built.total_bytes / 1e6:.1f} MB "
                  f"(leaderboard page {leaderboard / 1024:.0f} KiB) -> {out / 'index.html'}")


app.command("refchecker-references")(make_references)


def main() -> None:
    """Entry point: a user's mistake is one line on stderr and a non-zero exit, no traceback."""
    try:
        # Without standalone mode click returns the code of a `typer.Exit` instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except HalubenchError as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        errors.print("interrupted: replies received so far are in the cache; run again to continue")
        sys.exit(130)
    except (typer.Exit, SystemExit) as exc:
        sys.exit(getattr(exc, "exit_code", getattr(exc, "code", 0)))
    except Exception as exc:  # click's usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise

