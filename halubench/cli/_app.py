"""The ``halubench`` command line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as Bar
from rich.table import Table
from typer.core import TyperGroup

from halubench import HalubenchError, Interrupted, RunProgress, RunResult, __version__, evaluate
from halubench.backends import Judge, Reply
from halubench.cli._progress import LineProgress
from halubench.cli._signals import StopOnSignal
from halubench.config import default_cache_path
from halubench.data import TaskSpec
from halubench.data.refchecker import make_references
from halubench.errors import BatchPending
from halubench.report import print_definitions, print_run_table
from halubench.results import RunSummary, describe_failures


class HalubenchGroup(TyperGroup):
    """Typer's group, minus one help quirk: flags take no value, so no type (``<bool>``) beside them.

    Typer's rich help prints every option's type, flags included, so ``--help`` and
    ``--no-cache`` read as if they wanted a boolean argument. An empty metavar is what
    its help panel shows instead of the type; flags have no other use for one.
    """

    def get_params(self, ctx: typer.Context) -> list[Any]:
        return _hide_flag_types(super().get_params(ctx))

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:  # typer's (vendored) click Command
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _hide_flag_types(command.get_params(ctx))
        return command


def _hide_flag_types(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


app = typer.Typer(
    help="Benchmark hallucination-detection judges on HaluBench and RefChecker.",
    cls=HalubenchGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output (CI logs, files) has no terminal width; rich's 80 columns would squash tables.
console = Console() if sys.stdout.isatty() else Console(width=120)
errors = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"halubench {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Options before the command (the app's help text is the Typer's ``help``)."""


IncludePath = Annotated[
    list[Path] | None,
    typer.Option(
        "--include-path",
        help="Extra folder of task/judge YAML files (repeatable; also HALUBENCH_INCLUDE_PATH).",
    ),
]


class BarProgress(RunProgress):
    def __init__(self, bar: Bar, label: str):
        self.bar, self.label, self.task_id = bar, label, None

    def start(self, total: int, cached: int, judge: Judge | None = None) -> None:
        note = f" ({cached} cached)" if cached else ""
        self.task_id = self.bar.add_task(f"{self.label}{note}", total=total, completed=cached)

    def advance(self, reply: Reply) -> None:
        self.bar.advance(self.task_id)

    def note(self, text: str) -> None:
        """The bar's label shows the judge's latest status (a batch's state and counts)."""
        self.bar.update(self.task_id, description=f"{self.label} · {escape(text)}")


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
BatchMode = Annotated[bool, _opt("--batch", help=(
    "Send the rows the cache cannot answer through the provider's batch API: half the price, "
    "answered within 24 hours (OpenAI, Anthropic, servers with /v1/batches)."))]
BatchFallback = Annotated[str | None, _opt("--batch-fallback", help=(
    "Items that failed inside a batch: 'batch' (a follow-up batch; default) or 'sync' (ordinary calls)."))]
BatchWait = Annotated[float | None, _opt("--batch-wait", help=(
    "Seconds to wait for batches (default: until they end); 0 submits and exits. "
    "Running the same command again collects."))]


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
    batch: BatchMode = False,
    batch_fallback: BatchFallback = None,
    batch_wait: BatchWait = None,
) -> None:
    """Run a judge over a task (or a group of tasks) and write the results files.

    Exits 1 when rows failed (the run is written, marked incomplete and never ranked;
    running the same command again asks only the failed rows).
    """
    stop = StopOnSignal()
    lines: list[LineProgress] = []  # without a terminal: one per task, finished as its table prints
    try:  # outside the bar: it is gone before the interrupt line prints
        with stop, _bar() as bar:

            def progress_for(spec: TaskSpec) -> RunProgress:
                label = f"{spec.name} · {judge}"
                if bar is not None:
                    return stop.watch(BarProgress(bar, label))
                lines.append(LineProgress(label, concurrency))
                return stop.watch(lines[-1])

            def on_result(result: RunResult) -> None:
                if lines:
                    lines[-1].finish()
                print_run_table(result, console)

            try:
                results = evaluate(
                    task, judge, limit=limit, seed=seed, domains=domain or (), data=data, options=option or (),
                    judge_args=judge_arg or (), base_url=base_url, template=template, results_dir=results_dir,
                    cache=False if no_cache else (cache or True), refresh=refresh, concurrency=concurrency,
                    batch=batch, batch_fallback=batch_fallback, batch_wait=batch_wait,
                    include_paths=include_path or (), progress=progress_for, on_result=on_result,
                )
            finally:
                for progress in lines:
                    progress.stop()
    except BatchPending as pending:  # submitted, not failed: say how to collect
        console.print(escape(str(pending)), highlight=False, soft_wrap=True)
        return
    except Interrupted as exc:
        _stop(f"{exc.saved} of {exc.total} replies saved", stop.exit_code)
    except (KeyboardInterrupt, asyncio.CancelledError):
        _stop("replies received so far are saved", stop.exit_code)
    incomplete = [r for r in results if not r.complete]
    for result in incomplete:
        errors.print(f"[bold red]incomplete:[/] {escape(failure_line(result.summary))}", highlight=False,
                     soft_wrap=True)
    if incomplete:
        errors.print("the files are written but the run is not ranked; run the same command again to ask "
                     "only the failed rows")
        raise typer.Exit(1)


def failure_line(summary: RunSummary) -> str:
    """``halubench: 96 errors: connection failed (ConnectError) x96`` for one task's run."""
    rows, reasons = describe_failures(summary.get("failures") or {}, "error")
    return f"{summary['task']}: {rows}: {reasons}"


@contextmanager
def _bar() -> Iterator[Bar | None]:
    """A progress bar on a terminal; None when stdout or stderr is a log, a pipe or a file (lines instead)."""
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Bar(*columns, console=console, transient=True) as bar:
        yield bar


def _stop(saved: str, exit_code: int) -> NoReturn:
    errors.print(f"interrupted: {saved}; run the same command to continue", highlight=False, soft_wrap=True)
    raise typer.Exit(exit_code)


@app.command()
def judges(include_path: IncludePath = None) -> None:
    """List the named judges. Ad-hoc judges: openai:<model>, anthropic:<model>, vllm:<model>."""
    print_definitions("judge", include_path or [], ("backend", "model"), console)


@app.command()
def tasks(include_path: IncludePath = None) -> None:
    """List the tasks (and the groups they belong to)."""
    print_definitions("task", include_path or [], ("group",), console)


ResultsIn = Annotated[Path, _opt("--results-dir", help="Folder of results files to read.")]
MarkdownOut = Annotated[Path | None, _opt("--markdown", help="Also write the leaderboard as Markdown here.")]
CsvOut = Annotated[Path | None, _opt("--csv", help="Also write the leaderboard's numbers as CSV here.")]
TaskFilter = Annotated[list[str] | None, _opt("--task", "-t", help="Only these tasks (repeatable).")]
NoReported = Annotated[bool, _opt("--no-reported", help="Leave out figures reported in papers.")]
SubmissionsIn = Annotated[Path, _opt("--submissions", help=(
    "Folder of accepted submissions (one folder each) shown beside the results; absent: none."))]


@app.command()
def report(
    results_dir: ResultsIn = Path("results"),
    markdown: MarkdownOut = None,
    csv: CsvOut = None,
    task: TaskFilter = None,
    no_reported: NoReported = False,
    submissions: SubmissionsIn = Path("submissions"),
) -> None:
    """The leaderboard: one table per task, measured runs and the papers' reported figures."""
    from halubench import leaderboards
    from halubench.board import to_csv_frame
    from halubench.report import contested_lines, print_leaderboards, to_markdown

    boards = leaderboards(results_dir, tasks=task or (), reported=not no_reported, submissions=submissions)
    # A leaderboard is wider than a run table; piped output (files, CI logs) gets room for it.
    print_leaderboards(boards, console if sys.stdout.isatty() else Console(width=220))
    for line in (line for board in boards for line in contested_lines(board)):
        console.print(line, highlight=False, soft_wrap=True)
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
    from halubench import compare as compare_runs
    from halubench.report import pct, signed_points

    result = compare_runs(a, b, results_dir=results_dir, task=task)
    first, second = result.a, result.b
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
    shown = min(show, len(differ))
    cut = f"; the first {shown} below" + ("" if disagreements else ", all of them with --disagreements FILE")
    console.print(f"{len(differ)} rows where the verdicts differ"
                  + (cut if 0 < shown < len(differ) else ":" if shown else ""), highlight=False)
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


EnsembleTask = Annotated[str, _opt("--task", "-t", help="Task whose stored runs vote.")]
Members = Annotated[str, _opt("--judges", help=(
    "Member runs, comma-separated: judge names (their ranked run of the task) or run ids task/judge/config."))]
Rule = Annotated[str, _opt("--rule", help="majority (3+ members), unanimous-fail or weighted; see docs/ensembles.md.")]
EnsembleName = Annotated[str, _opt("--name", help="Name the ensemble's run is listed under on the board.")]


@app.command()
def ensemble(
    task: EnsembleTask,
    judges: Members,
    name: EnsembleName,
    rule: Rule = "majority",
    results_dir: ResultsIn = Path("results"),
    include_path: IncludePath = None,
) -> None:
    """Write a run whose verdicts are votes of stored runs of one configuration: no model is called."""
    from halubench.board import build_ensemble

    refs = [ref.strip() for ref in judges.split(",") if ref.strip()]
    path, summary, records = build_ensemble(task, refs, rule, name, results_dir, include_path or [])
    print_run_table(RunResult(path, summary, records), console)
    console.print(f"{rule} of {', '.join(summary['ensemble']['members'])}: no model called", highlight=False)


SiteOut = Annotated[Path, _opt("--out", help="Folder for the site (replaced if an earlier build made it).")]
Repository = Annotated[str | None, _opt("--repository", help=(
    "The project's repository URL; the About page links its docs/submit.md."))]


SiteJobs = Annotated[int | None, _opt("--jobs", help="Worker processes for runs to rebuild (default: one per core).")]


@app.command()
def site(
    results_dir: ResultsIn = Path("results"),
    out: SiteOut = Path("site"),
    no_reported: NoReported = False,
    jobs: SiteJobs = None,
    submissions: SubmissionsIn = Path("submissions"),
    repository: Repository = None,
) -> None:
    """Write the static leaderboard site: tables, one page per run, a sample explorer.

    Only what changed is rewritten: a run whose results did not change is not read again.
    """
    from halubench.sitegen import build_site

    built = build_site(results_dir, out, [] if no_reported else None, jobs, submissions=submissions,
                       repository=repository)
    leaderboard = built.pages["index.html"]
    changes = (f"{len(built.written)} files written, {len(built.removed)} removed, {len(built.remade)} runs remade"
               if built.changed else "nothing changed")
    console.print(f"site: {built.runs} runs, {len(built.pages)} pages, {built.total_bytes / 1e6:.1f} MB "
                  f"(leaderboard page {leaderboard / 1024:.0f} KiB); {changes} -> {out / 'index.html'}")


ConfigFile = Annotated[Path, _opt("--config", help="The board's tasks and judges (YAML).")]
SiteOutput = Annotated[Path | None, _opt("--site-out", help="Rebuild the site here at the end (omit: no site).")]
OnlyJudge = Annotated[str | None, _opt("--only", help="Refresh only this judge of the config.")]
RunnerKind = Annotated[str, _opt("--runner", help="Which judges this machine runs: cpu, gpu or all.")]
ReportOut = Annotated[Path | None, _opt("--report", help=(
    "Write the refresh report (Markdown) here, e.g. $GITHUB_STEP_SUMMARY."))]


@app.command()
def refresh(
    config: ConfigFile = Path("leaderboard.yaml"),
    results_dir: ResultsDir = Path("results"),
    site_out: SiteOutput = None,
    only: OnlyJudge = None,
    runner: RunnerKind = "cpu",
    cache: CacheFile = None,
    report: ReportOut = None,
    submissions: SubmissionsIn = Path("submissions"),
) -> None:
    """Keep the board fresh: run what changed, probe API judges for drift, never publish a partial run.

    Exits 1 when a judge failed (it keeps its published run, marked stale).
    """
    from halubench.refresh import refresh_command

    code = refresh_command(config, results_dir, site_out, only, runner, cache or default_cache_path(), report,
                           console, submissions)
    if code:
        raise typer.Exit(code)


SubmitRun = Annotated[str, typer.Argument(metavar="RUN", help=(
    "The run: a judge name (with --task), a run id task/judge/config, or a results JSON path."))]
SubmissionOut = Annotated[Path, _opt("--out", help=(
    "The submission folder to write, e.g. submissions/acme-judge (its name is the submission's)."))]
Contact = Annotated[str, _opt("--contact", help="Who to ask about the run: an e-mail address or a GitHub handle.")]
CardPairs = Annotated[list[str] | None, _opt("--card", help=(
    "A card key over the judge file's, KEY=VALUE (repeatable): display_name, provider, kind, weights, "
    "parameters, license, url."))]
Hardware = Annotated[str | None, _opt("--hardware", help=(
    "Where an in-process judge ran, e.g. '1x H100 80GB, vLLM 0.6.3' (required without an endpoint)."))]
BoardData = Annotated[Path | None, _opt("--data", help=(
    "The board's data file, for a board over your own data (default: the task's own data)."))]
SubmitTask = Annotated[str | None, _opt("--task", "-t", help="Task of a run named by judge.")]
VerifyReport = Annotated[Path | None, _opt("--report", help=(
    "Also append the report as Markdown here, e.g. $GITHUB_STEP_SUMMARY."))]


@app.command()
def submit(
    run: SubmitRun,
    out: SubmissionOut,
    contact: Contact,
    task: SubmitTask = None,
    results_dir: ResultsIn = Path("results"),
    card: CardPairs = None,
    hardware: Hardware = None,
    data: BoardData = None,
) -> None:
    """Pack a run into a submission folder for the board, and verify it as the pull request will.

    Refuses (exit 1) a run the board would not rank: incomplete, measured differently, or carrying
    anything shaped like an API key. See docs/submit.md.
    """
    from halubench.submission import submit as pack

    report = pack(run, out, contact=contact, card=card or (), hardware=hardware, task=task,
                  results_dir=results_dir, data=data)
    for line in report.lines():
        console.print(line, highlight=False, soft_wrap=True, markup=False)
    console.print(f"next: commit {out} and open a pull request (docs/submit.md)", highlight=False)


SubmissionDir = Annotated[Path, typer.Argument(metavar="DIR", help="A submission folder (halubench submit --out).")]


@app.command()
def verify(
    folder: SubmissionDir,
    data: BoardData = None,
    results_dir: ResultsIn = Path("results"),
    report: VerifyReport = None,
) -> None:
    """Check a submission: files, hashes and caps, the task's rows, every reply re-parsed, the metrics
    re-scored; say where it would rank. Exit 0 accepted, 1 rejected (the first reason on stderr)."""
    from halubench.submission import verify as check

    found = check(folder, data=data, results_dir=results_dir)
    for line in found.lines():
        console.print(line, highlight=False, soft_wrap=True, markup=False)
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        with report.open("a", encoding="utf-8") as out:  # a job summary may hold other steps' text
            out.write(found.markdown())
    if not found.accepted:
        errors.print(f"[bold red]rejected:[/] {escape(str(found.rejection))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)


app.command("refchecker-references")(make_references)

import_app = typer.Typer(help="Bring runs made by other harnesses onto the board.", no_args_is_help=True)
app.add_typer(import_app, name="import")
LmEvalOutput = Annotated[Path, typer.Argument(metavar="PATH", help=(
    "The folder given to lm_eval --output_path (run with --log_samples), or one results_*.json in it."))]
ImportJudge = Annotated[str | None, _opt("--judge", "-j", help=(
    "The judge file this model is (e.g. gpt-4o); default: openai:<model> or vllm:<pretrained>, as lm-eval ran it."))]


@import_app.command("lm-eval")
def import_lm_eval(
    path: LmEvalOutput, results_dir: ResultsDir = Path("results"), judge: ImportJudge = None, data: DataFile = None
) -> None:
    """Re-score an lm-eval run of the task pack with halubench's parser and write it as a halubench run."""
    from halubench.integrations.lm_eval import import_runs

    result = import_runs(path, results_dir, judge, data)
    for run in result.runs:
        print_run_table(run, console)
    for problem in result.problems:
        errors.print(f"[bold red]error:[/] {escape(problem)}", highlight=False, soft_wrap=True)
    if result.problems:
        raise typer.Exit(1)


@app.command("lm-eval-tasks")
def lm_eval_tasks() -> None:
    """Print the folder of the lm-evaluation-harness task pack (for lm_eval --include_path)."""
    from halubench.integrations.lm_eval import PACK_DIR

    typer.echo(PACK_DIR)


def main() -> None:
    """Entry point: a user's mistake is one line on stderr and a non-zero exit, no traceback.

    Typer's standalone mode prints usage errors (unknown option or command, missing or
    malformed value) as its usage block plus the error, exit 2; what it lets through are
    halubench's own errors.
    """
    try:
        app(prog_name="halubench")
    except HalubenchError as exc:
        errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
