"""`halubench site`: results folder in, static site out, rewriting only what changed.

New and changed files are written beside ``out`` and moved in once the whole
build succeeded, so a failed build leaves the previous site whole; files that
did not change are not written (they keep their bytes and mtime), and a build
in which nothing changed leaves ``out`` untouched (``_incremental_writes``). An
existing ``out`` is only updated when it holds the marker file an earlier build
wrote: the command never deletes from a folder it did not make.

The build reads only what a page needs: the boards come from the runs'
summaries; each run's samples are read once, line by line, while its explorer
data is written (``_run_unit``), and an unchanged run's are not read at all;
the figures across runs (rank ranges, contested rows, the row view) come from
the runs' explorer indexes (``RunVerdicts``), never from every judge's replies
at once. Runs are made in worker processes, one per core, when there are
several to make.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from halubench.board import (
    CONTESTED_RULE,
    REPORTED,
    BoardRow,
    JudgeCard,
    Leaderboard,
    ReportedTable,
    Reproduction,
    RunVerdicts,
    board_contested,
    build_leaderboards,
    data_changed,
    dataset_label,
    judge_definitions,
    kinds_present,
    missing,
    partial_auroc,
    reproductions,
    strong_candidates,
    strong_runs,
    to_csv_frame,
)
from halubench.config import Definition, discover
from halubench.errors import OutputError
from halubench.report import count, interval, money, pct, seconds, signed_points
from halubench.results import StoredRun, fields_key, load_runs, read_state, slug
from halubench.scoring import RANK_RANGE_METHOD
from halubench.sitegen._board_view import (
    BoardView,
    board_view,
    chance,
    contested_from_json,
    contested_json,
    measured_cards,
    run_name,
    submitted_runs,
)
from halubench.sitegen._charts import tradeoff_chart
from halubench.sitegen._explorer_data import (
    IdLists,
    ShardReader,
    TextTable,
    read_index,
    verdicts_of,
    write_judges,
    write_rows_index,
    write_texts,
)
from halubench.sitegen._incremental_writes import (
    FileStates,
    Manifest,
    SiteFiles,
    builder_key,
    fingerprint,
)
from halubench.sitegen._packed_scripts import read_column
from halubench.sitegen._pages import render
from halubench.sitegen._run_unit import RunBuilt, RunJob, build_run, build_run_apart, receive_positions

HERE = Path(__file__).resolve().parent
MARKER = ".halubench-site"
CACHE = ".halubench-cache"  # what a build reads back instead of computing it again (not a page)


@dataclass
class SiteBuild:
    """What a build did: page sizes (bytes, by path relative to the site), the files it wrote anew
    (the others kept their bytes and mtime) and totals."""

    out: Path
    pages: dict[str, int] = field(default_factory=dict)
    data_bytes: int = 0
    runs: int = 0
    remade: list[str] = field(default_factory=list)  # run ids whose files were made again
    written: list[str] = field(default_factory=list)  # files with new bytes (new or changed)
    removed: list[str] = field(default_factory=list)  # files of the previous site that are gone

    @property
    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.out.rglob("*") if p.is_file())

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def _sort_key(value: Any) -> str:
    return "" if missing(value) else repr(float(value))


def _cell(text: str, sort: Any, sub: str | None = None, title: str | None = None,
          sort_group: int = 0) -> dict[str, Any]:
    """``sort_group``: a column sorts group by group (0 first, in either direction), then by value."""
    return {"text": text, "sort": _sort_key(sort), "sub": sub, "title": title, "sort_group": sort_group}


def _reported_anchor(task: str, judge: str) -> str:
    return f"{slug(task)}-reported-{slug(judge)}"


def _headers(board: Leaderboard) -> list[dict[str, Any]]:
    """Column heads after Rank, Source and Judge; ``opt`` columns fold away on a phone."""
    breakdown = board.breakdown or "group"
    headers = [{"text": board.group_names[g], "title": f"accuracy on {breakdown} {g}, %", "opt": True}
               for g in board.groups]
    headers += [
        {"text": "Overall", "title": f"{breakdown}-macro accuracy (each {breakdown} weighs the same), % with "
                                     "95% CI" + ("; the paper's 'Overall'" if board.reported else "")},
        {"text": "Balanced", "title": "balanced accuracy (mean recall over the labels), %"},
    ]
    if _has_auroc(board):
        headers.append({"text": "AUROC", "title": "area under the ROC curve of the judge's scores, %; "
                                 "one marked ‡ covers only the rows with a score and sorts after the rest",
                        "opt": True})
    headers += [
        {"text": "Micro", "title": "accuracy over all rows, % with 95% Wilson CI", "opt": True},
        {"text": "Unparsed", "title": "rows whose reply had no readable verdict, %", "opt": True},
        {"text": "Errors", "title": "rows whose call failed or whose prompt was too long, %", "opt": True},
        {"text": "$ / 1k", "title": "cost of 1,000 judgments, USD", "opt": True},
        {"text": "Latency", "title": "median (p50) seconds per call", "opt": True},
        {"text": "n", "title": "rows judged", "opt": True},
    ]
    return [{"opt": False, **header} for header in headers]


def _cells(board: Leaderboard, record: BoardRow, run: StoredRun | None) -> list[dict[str, Any]]:
    cells = []
    for g in board.groups:
        low, high, n = record.get(f"lo:{g}"), record.get(f"hi:{g}"), record.get(f"n:{g}")
        title = None if missing(low) else f"95% CI {interval(low, high)} · n = {count(n)}"
        cells.append(_cell(pct(record[f"acc:{g}"]), record[f"acc:{g}"], title=title))
    macro, low, high = record.get("acc_macro"), record.get("acc_macro_lo"), record.get("acc_macro_hi")
    cells.append(_cell(pct(macro), macro, None if missing(low) else interval(low, high)))
    balanced = run.summary["metrics"]["overall"].get("balanced_accuracy") if run else None
    cells.append(_cell(pct(balanced), balanced))
    if _has_auroc(board):
        cells.append(_auroc_cell(record))
    micro, low, high = record.get("acc_micro"), record.get("acc_micro_lo"), record.get("acc_micro_hi")
    cells.append(_cell(pct(micro), micro, None if missing(low) else interval(low, high)))
    unparsed, errors = record.get("unparsed_rate"), record.get("error_rate")
    cost, latency = record.get("cost_per_1000_usd"), record.get("latency_p50_s")
    cells += [
        _cell(pct(unparsed), unparsed),
        _cell(pct(errors), errors),
        _cell(money(cost), cost),
        _cell(seconds(latency), latency),
        _cell(count(record["n"]), record["n"]),
    ]
    for cell, header in zip(cells, _headers(board), strict=True):
        cell["opt"] = header["opt"]
    return cells


def _auroc_cell(record: BoardRow) -> dict[str, Any]:
    """AUROC over some rows only is marked, says how many, and sorts after every AUROC over all rows."""
    auroc = record.get("auroc")
    if not partial_auroc(record):
        return _cell(pct(auroc), auroc)
    covered = f"{count(record['auroc_scored'])} of {count(record['n'])} rows"
    return _cell(f"{pct(auroc)} ‡", auroc, covered, f"AUROC over the {covered} with a score only", sort_group=1)


def leaderboard_table(board: Leaderboard, view: BoardView) -> dict[str, Any]:
    """The leaderboard table of one task, ready to render: headers, ranked rows, rows not ranked."""
    breakdown = board.breakdown or "group"
    reported_rows = {r.judge: r for r in (board.reported.rows if board.reported else [])}
    notes: list[dict[str, str]] = []
    rows, unranked = [], []
    for record in board.rows:
        reported = record["kind"] == REPORTED
        run = None if reported else board.runs[record["run_id"]]
        card = view.reported_cards[record["judge"]] if reported else view.cards[record["run_id"]]
        rank = view.ranks.get(record["run_id"]) if not reported else None
        row: dict[str, Any] = {"kind": record["kind"], "provenance": record["provenance"], "judge": record["judge"],
                               "card": card, "cells": _cells(board, record, run), "notes": [], "links": [],
                               "apart": None, "ensemble": False, "rank": str(rank) if rank else "–",
                               "rank_sort": _sort_key(rank.best if rank else None)}
        if reported:
            row["anchor"] = _reported_anchor(board.task, record["judge"])
            row["href"] = None
            row["detail"] = None
            if not missing(record["note"]):
                notes.append({"id": f"{row['anchor']}-note", "judge": record["judge"], "text": record["note"]})
                row["notes"].append({"number": len(notes), "href": f"#{notes[-1]['id']}"})
            paper = reported_rows.get(record["judge"])
            row["links"] = [{"text": f"measured: {view.name(run.run_id)}",
                             "href": f"runs/{run.run_id}.html"}
                            for run in board.runs.values() if paper and paper.matches(run.judge, run.model)]
        else:
            row["anchor"] = f"run-{record['run_id'].replace('/', '-')}"
            row["href"] = f"runs/{record['run_id']}.html"
            covered = sum(not missing(record[f"acc:{g}"]) for g in board.groups)
            coverage = f" · {covered} of {len(board.groups)} {breakdown}s" if covered < len(board.groups) else ""
            row["detail"] = f"{record['data']}{coverage} · {record['run_date'] or 'date unknown'}"
            if isinstance(record["endpoint"], str):  # not the provider's own endpoint (a local server)
                row["detail"] = f"@ {record['endpoint']} · {row['detail']}"
            if not missing(record.get("ensemble_of")):  # a vote of stored runs: marked, its members linked
                row["ensemble"] = True
                row["links"] = [{"text": f"member: {view.name(rid)}", "href": f"runs/{rid}.html"}
                                for rid in record["ensemble_of"].split(", ") if rid in board.runs]
            check = view.reproductions.get(record["run_id"])
            if check is not None:  # a judge both submitted and reproduced: the other run and their paired test
                other = check.reproduced if check.submitted.run_id == record["run_id"] else check.submitted
                p_value = check.comparison.test.p_value
                row["links"].append({"text": f"vs the {other.obtained} run: {signed_points(check.delta)} pp "
                                             f"(reproduced − submitted), McNemar p = {p_value:.2g}",
                                     "href": f"runs/{other.run_id}.html"})
            if not record["ranked"]:
                row["apart"] = record["apart"]
                unranked.append(row)
                continue
            if not missing(record["same_model"]):
                row["links"] += [{"text": f"paper: {name}", "href": f"#{_reported_anchor(board.task, name)}"}
                                for name in record["same_model"].split(", ")]
        rows.append(row)
    return {"headers": _headers(board), "rows": rows, "unranked": unranked, "notes": notes}


def _has_auroc(board: Leaderboard) -> bool:
    """The site shows the column when some run has a score (halubench.board)."""
    return any(not missing(r.get("auroc")) for r in board.rows)


def _paper_row(board: Leaderboard, run: StoredRun):
    if board.reported is None:
        return None
    return next((r for r in board.reported.rows if r.matches(run.judge, run.model)), None)


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise OutputError(f"{out} exists and was not made by `halubench site`; choose another --out "
                          "or remove it yourself")


def build_site(results_dir: Path, out: Path, reported: list[ReportedTable] | None = None,
               jobs: int | None = None, *, submissions: Path | None = None,
               repository: str | None = None) -> SiteBuild:
    """Write the site for the runs under ``results_dir`` to ``out``, remaking only what changed.

    ``submissions``: the accepted submissions' folder, read beside ``results_dir``; ``repository``: the
    project's URL, which lets the About page link the docs; ``jobs``: worker processes for the runs to make
    (default: one per core; 1: none).
    """
    _check_out(out)
    boards = build_leaderboards(load_runs(results_dir, submissions), reported)
    previous = out if (out / MARKER).is_file() else None
    manifest = Manifest.read(out) if previous else Manifest()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        files = SiteFiles(staging, previous)
        site = SiteBuild(out)
        made = _write_site(boards, files, manifest, read_state(results_dir), site, jobs, repository)
        site.written, site.removed = sorted(set(files.written)), files.removed()
        if previous is not None and not site.changed and made.units == manifest.units:
            shutil.rmtree(staging)  # nothing changed: nothing is written, not even the manifest
        else:
            files.commit(out, made.encode())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return site


def _submit_guide(repository: str | None) -> str | None:
    """Where the About page sends a researcher who wants a judge on the board: the repository's guide."""
    return f"{repository.rstrip('/')}/blob/HEAD/docs/submit.md" if repository else None


@dataclass
class _Task:
    """One board's part of a build: its texts, its runs' jobs and data keys."""

    board: Leaderboard
    folder: str  # the task's slug: data/<folder>/, rows/<folder>.html
    table: TextTable
    jobs: dict[str, RunJob] = field(default_factory=dict)  # run id -> job
    keys: dict[str, str] = field(default_factory=dict)  # run id -> data key
    cards: dict[str, JudgeCard] = field(default_factory=dict)
    submitted: set[str] = field(default_factory=set)  # run ids of submitted runs (their names are marked)
    checks: list[Reproduction] = field(default_factory=list)  # submitted runs beside their reproduced twins
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)  # run id -> explorer index

    def name(self, run_id: str) -> str:
        """A run's judge as the site names it among others (``BoardView.name``)."""
        return run_name(self.cards, self.submitted, run_id)


def _write_site(boards: list[Leaderboard], files: SiteFiles, manifest: Manifest, refresh: dict[str, Any],
                site: SiteBuild, jobs: int | None, repository: str | None) -> Manifest:
    """Every file of the site into ``files``; returns the new manifest. ``refresh``: the nightly
    refresh's state file (stale judges, the last changes), maybe empty."""
    builder = builder_key()
    states = FileStates()
    made = Manifest()
    for asset in sorted((HERE / "assets").iterdir()):
        files.put(f"assets/{asset.name}", asset.read_bytes())
    files.put(MARKER, b"built by halubench site; `halubench site` may replace this folder\n")
    definitions = judge_definitions()
    tasks = [_plan(board, definitions, states) for board in boards]

    def run_print(task: _Task, job: RunJob, texts_bytes: int) -> str:
        return job.fingerprint(states, builder, task.table.token(texts_bytes))

    dirty = [(task, job) for task in tasks for job in task.jobs.values()
             if not _kept(f"run:{job.run_id}", lambda before, t=task, j=job: run_print(t, j, before["texts_bytes"]),
                          files, manifest, made)]

    def write_texts_meanwhile() -> None:  # the build's own process writes the texts while workers make runs
        for task in tasks:
            _unit(f"texts:{task.board.task}", task.table.token(-1), files, manifest, made, builder,
                  lambda f, t=task: write_texts(t.table, f, f"{t.folder}/texts"))

    for task, built in _make_runs(dirty, files, jobs, write_texts_meanwhile):
        job = task.jobs[built.run_id]
        states.learn(job.run.samples_path, built.samples_sha256)
        reach = task.table.extent(read_column(built.index["text"]))  # how far into the texts its rows point
        made.units[f"run:{built.run_id}"] = {"fingerprint": run_print(task, job, reach), "texts_bytes": reach,
                                             "files": built.files}
        task.indexes[built.run_id] = built.index
        site.remade.append(built.run_id)
    site.remade.sort()
    common = {"n_runs": sum(len(b.runs) for b in boards),
              "data_changed": max(filter(None, map(data_changed, boards)), default=None)}
    views = {task.board.task: _task_pages(task, definitions, files, manifest, made, builder, common)
             for task in tasks}
    site.runs = sum(len(task.jobs) for task in tasks)
    _global_pages(boards, views, files, refresh, common, repository)
    states.save()
    site.pages = {path: size for path, size in files.sizes.items() if path.endswith(".html")}
    site.data_bytes = sum(size for path, size in files.sizes.items() if path.startswith("data/"))
    return made


def _kept(unit: str, print_: Callable[[dict[str, Any]], str], files: SiteFiles, manifest: Manifest,
          made: Manifest) -> bool:
    """Keep a unit's files when its fingerprint (``print_`` of what the last build recorded of it: computed
    only when there is a record) is unchanged, and its files are all there."""
    before = manifest.units.get(unit)
    if before is None or before["fingerprint"] != print_(before) or not files.keep(before["files"]):
        return False
    made.units[unit] = before
    return True


def _unit(unit: str, inputs: Any, files: SiteFiles, manifest: Manifest, made: Manifest, builder: str,
          make: Any) -> None:
    """Files made by ``make(files)`` from ``inputs``: kept when the inputs are, else made and recorded."""
    print_ = fingerprint({"builder": builder, "inputs": inputs})
    if _kept(unit, lambda _: print_, files, manifest, made):
        return
    first = len(files.sizes)
    make(files)
    made.units[unit] = {"fingerprint": print_, "files": list(files.sizes)[first:]}


def _inline_texts(runs: list[StoredRun]) -> dict[str, dict[str, Any]]:
    """Texts that runs written before texts were shared keep in their samples, by key."""
    found: dict[str, dict[str, Any]] = {}
    for run in runs:
        for sample in run.stored_samples():
            if "fields_sha256" not in sample:
                fields = sample.get("fields") or {}
                found.setdefault(fields_key(fields), fields)
    return found


def _plan(board: Leaderboard, definitions: dict[str, Definition], states: FileStates) -> _Task:
    """A board's texts and its runs' jobs."""
    folder = slug(board.task)
    inline_runs = [run for run in board.runs.values() if run.texts_path is None]
    table = TextTable(sorted({run.texts_path for run in board.runs.values() if run.texts_path}),
                      _inline_texts(inline_runs), states)
    task = _Task(board, folder, table, cards=measured_cards(board, definitions), submitted=submitted_runs(board),
                 checks=reproductions(board))
    checks = {run.run_id: check for check in task.checks for run in (check.submitted, check.reproduced)}
    for run_id, run in board.runs.items():
        task.keys[run_id] = f"{folder}/runs/{run_id.split('/', 1)[1]}"
        paper = _paper_row(board, run)
        task.jobs[run_id] = RunJob(run, {
            "run": {"task": run.task, "judge": run.judge, "config_id": run.config_id, "run_id": run_id,
                    "obtained": run.obtained},
            "submission": run.submission,
            "reproduction": _reproduction(checks[run_id]) if run_id in checks else None,
            "board": {"task": board.task, "breakdown": board.breakdown, "groups": board.groups,
                      "group_names": board.group_names},
            "record": board.row(run_id),
            "paper": {"judge": paper.judge, "overall": paper.overall, "notes": list(paper.notes),
                      "accuracy": paper.accuracy} if paper else None,
            "citation": board.reported.citation if board.reported else None,
            "paper_anchor": _reported_anchor(board.task, paper.judge) if paper else None,
            "card": asdict(task.cards[run_id]), "chance": chance(board), "data_label": dataset_label(run.summary),
            "key": task.keys[run_id], "task_key": folder, "judges_key": f"{folder}/judges",
        })
    return task


def _reproduction(check: Reproduction) -> dict[str, Any]:
    """What a run page shows of a reproducibility check, as plain values (a job's context is hashed)."""
    return {"n": check.n, "submitted_accuracy": check.submitted_accuracy,
            "reproduced_accuracy": check.reproduced_accuracy, "delta": check.delta,
            "same_settings": check.same_settings, "test": check.comparison.test.describe("submitted", "reproduced"),
            **{side: {"run_id": run.run_id, "obtained": run.obtained}
               for side, run in (("submitted", check.submitted), ("reproduced", check.reproduced))}}


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _make_runs(dirty: list[tuple[_Task, RunJob]], files: SiteFiles, jobs: int | None,
               meanwhile: Callable[[], None]) -> Iterator[tuple[_Task, RunBuilt]]:
    """Make the runs' files, in worker processes when there are several, calling ``meanwhile`` while they
    work; yields ``(task, RunBuilt)``."""
    workers = min(jobs or _cores(), len(dirty))
    positions = {task.folder: task.table.positions for task, _ in dirty}
    if workers <= 1:
        meanwhile()
        for task, job in dirty:
            yield task, build_run(job, files, positions[job.context["task_key"]])
        return
    # A fork copies the build's memory for free, but is safe only in a process with no other thread.
    method = "fork" if threading.active_count() == 1 and os.name == "posix" and _fork_ok() else "spawn"
    context = multiprocessing.get_context(method)
    by_size = sorted(dirty, key=lambda item: -int(item[1].run.summary.get("n") or 0))  # longest first
    with ProcessPoolExecutor(workers, context, initializer=receive_positions, initargs=(positions,)) as pool:
        futures = [(task, pool.submit(build_run_apart, job, files.staging, files.site))
                   for task, job in by_size]
        meanwhile()
        for task, future in futures:
            built, theirs = future.result()
            files.absorb(theirs)
            yield task, built


def _fork_ok() -> bool:
    """fork() is the default start method on Linux; macOS's frameworks are not fork-safe."""
    return "fork" in multiprocessing.get_all_start_methods() and os.uname().sysname != "Darwin"


def _task_pages(task: _Task, definitions: dict[str, Definition], files: SiteFiles, manifest: Manifest,
                made: Manifest, builder: str, common: dict[str, Any]) -> BoardView:
    """A board's pages and data beyond its runs' own: row view, judges list, trade-off charts; returns
    what the leaderboard, contested and about pages need of it."""
    board, folder = task.board, task.folder
    for run_id in board.runs:
        if run_id not in task.indexes:  # kept from the previous build
            task.indexes[run_id] = read_index(files, task.keys[run_id])
    columns: dict[str, RunVerdicts] = {}
    ids = IdLists(files)

    def verdicts(run_id: str) -> RunVerdicts:
        if run_id not in columns:
            columns[run_id] = verdicts_of(task.indexes[run_id], board.breakdown, ids)
        return columns[run_id]

    name = task.name
    # The contested rows are read back from the last build while its strong judges are the same.
    strong = strong_runs(strong_candidates(board, name))
    cache = f"{CACHE}/{folder}-contested.json"
    details = ShardReader(files, task.keys, task.indexes, f"{folder}/texts")
    _unit(f"contested:{board.task}", {"breakdown": board.breakdown, "strong": [asdict(run) for run in strong],
                                      "runs": [made.units[f"run:{run.run_id}"]["fingerprint"] for run in strong]},
          files, manifest, made, builder,
          lambda f: f.put(cache, contested_json(board_contested(board, verdicts, name, details))))
    view = board_view(board, verdicts, definitions, folder, contested=contested_from_json(files.read(cache)),
                      checks=task.checks)
    for chart in view.tradeoffs:
        _unit(f"chart:{chart.file}", [asdict(p) for p in chart.points] + [chart.label, chart.chance], files,
              manifest, made, builder,
              lambda f, c=chart: f.put(f"charts/{c.file}", tradeoff_chart(c.points, c.label, c.chance).encode()))
    if not board.runs:
        return view
    order = [r["run_id"] for r in board.rows if r["run_id"] in board.runs]  # the board's order
    write_rows_index([(task.keys[run_id], view.name(run_id), f"runs/{run_id}.html",
                       task.indexes[run_id]) for run_id in order],
                     list(board.labels), ids, files, f"{folder}/rows", f"{folder}/texts")
    write_judges([(task.keys[run_id], view.name(run_id)) for run_id in order], files,
                 f"{folder}/judges")
    files.put(f"rows/{folder}.html", render("rows.html.jinja", f"rows/{folder}.html", board=board,
                                            rows_key=f"{folder}/rows", **common))
    task.indexes.clear()  # the board's figures are made: its runs' indexes are not needed any more
    return view


def _global_pages(boards: list[Leaderboard], views: Mapping[str, BoardView], files: SiteFiles,
                  refresh: dict[str, Any], common: dict[str, Any], repository: str | None) -> None:
    """The pages over every board: leaderboard, contested labels, about, and the CSV file."""
    files.put("leaderboard.csv", to_csv_frame(boards).to_csv(index=False).encode())
    tables = {b.task: leaderboard_table(b, views[b.task]) for b in boards}
    cards = [c for v in views.values() for c in [*v.cards.values(), *v.reported_cards.values()]]
    files.put("index.html", render("leaderboard.html.jinja", "index.html", boards=boards, tables=tables,
                                   views=views, kinds=kinds_present(cards), method=RANK_RANGE_METHOD,
                                   refresh=refresh, **common))
    files.put("contested.html", render("contested.html.jinja", "contested.html", boards=boards, views=views,
                                       rule=CONTESTED_RULE, **common))
    files.put("about.html", render("about.html.jinja", "about.html", boards=boards, views=views,
                                   method=RANK_RANGE_METHOD, rule=CONTESTED_RULE,
                                   tasks={name: d.body.get("description") for name, d in discover("task").items()},
                                   submit_guide=_submit_guide(repository), **common))
