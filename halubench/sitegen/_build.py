"""`halubench site`: results folder in, static site out.

The site is built in a fresh folder beside ``out`` and swapped in at the end,
so a failed build leaves the previous site whole. An existing ``out`` is only
replaced when it holds the marker file an earlier build wrote: the command
never deletes a folder it did not make.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from halubench._version import __version__
from halubench.board import (
    CONTESTED_RULE,
    REPORTED,
    BoardRow,
    Leaderboard,
    ReportedTable,
    build_leaderboards,
    data_changed,
    dataset_label,
    judge_definitions,
    kinds_present,
    missing,
    partial_auroc,
    to_csv_frame,
)
from halubench.config import Definition, discover
from halubench.errors import OutputError
from halubench.report import count, interval, money, pct, seconds, signed_points
from halubench.results import StoredRun, breakdowns, describe_change, load_runs, read_state, slug
from halubench.scoring import RANK_RANGE_METHOD, SampleRecord, roc_points
from halubench.sitegen._board_view import BoardView, board_view, chance
from halubench.sitegen._charts import Bar, accuracy_chart, roc_chart
from halubench.sitegen._explorer_data import TextStore, write_rows_index, write_run_data

HERE = Path(__file__).resolve().parent
MARKER = ".halubench-site"
PROVENANCE_TITLES = {  # the badge's tooltip: how a row was obtained (a board row's ``provenance``)
    "reproduced": "run by this board's refresh",
    "submitted": "run by its submitter; every reply re-read and the run re-scored here, the calls not repeated",
    "reported": "printed in a paper, not re-run",
}


@dataclass
class SiteBuild:
    """What a build wrote: page sizes (bytes, by path relative to the site) and totals."""

    out: Path
    pages: dict[str, int] = field(default_factory=dict)
    data_bytes: int = 0
    runs: int = 0

    @property
    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.out.rglob("*") if p.is_file())


def _sort_key(value: Any) -> str:
    return "" if missing(value) else repr(float(value))


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=pct, interval=interval, money=money, seconds=seconds, count=count,
                       missing=missing, slug=slug, signed_points=signed_points)
    env.tests.update(partial_auroc=partial_auroc)
    env.globals.update(version=__version__, provenance_titles=PROVENANCE_TITLES)
    return env


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


def _ordered(board: Leaderboard, run: StoredRun) -> list[tuple[str, dict[str, Any]]]:
    """A run's groups in the leaderboard's column order (a paper's order where there is one)."""
    order = {g: i for i, g in enumerate(board.groups)}
    return sorted(run.groups.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def _chart(board: Leaderboard, run: StoredRun, paper: dict[str, float] | None) -> str:
    overall = run.summary["metrics"]["overall"]
    record = board.row(run.run_id)
    bars = [Bar(board.group_names.get(g, g), m["accuracy"], *m["accuracy_ci95"]) for g, m in _ordered(board, run)]
    if run.breakdown:
        bars.append(Bar(f"{run.breakdown}-macro", record["acc_macro"], record["acc_macro_lo"],
                        record["acc_macro_hi"], overall=True))
    bars.append(Bar("overall (micro)", overall["accuracy"], *overall["accuracy_ci95"], overall=True))
    reported = {board.group_names.get(g, g): v for g, v in (paper or {}).items()}
    return accuracy_chart(bars, reported, "reported in the paper", chance(board))


def _has_auroc(board: Leaderboard) -> bool:
    """The site shows the column when some run has a score (halubench.board)."""
    return any(not missing(r.get("auroc")) for r in board.rows)


def _roc(run: StoredRun, samples: list[SampleRecord]) -> str | None:
    """The run's ROC curve as SVG, for runs whose samples carry scores (halubench.scoring)."""
    overall = run.summary["metrics"]["overall"]
    positive = run.summary.get("positive_label")
    scored = [s for s in samples if s.get("score") is not None]
    if overall.get("auroc") is None or positive is None or not scored:
        return None
    fpr, tpr = roc_points([s["gold"] for s in scored], [s["score"] for s in scored], positive)
    return roc_chart(fpr, tpr, overall["auroc"])


def _paper_row(board: Leaderboard, run: StoredRun):
    if board.reported is None:
        return None
    return next((r for r in board.reported.rows if r.matches(run.judge, run.model)), None)


# Keys the run page reads; results written by other versions may lack some, which then read "–".
USAGE_KEYS = ("input_tokens", "output_tokens", "cost_usd", "cost_per_1000_usd", "latency_p50_s",
              "latency_p95_s", "model_versions", "cached_replies", "called")
PROVENANCE_KEYS = ("harness_version", "python", "dataset", "prompt_template", "judge", "finished_at")


def _run_context(board: Leaderboard, run: StoredRun) -> dict[str, Any]:
    summary = run.summary
    provenance = dict.fromkeys(PROVENANCE_KEYS) | (summary.get("provenance") or {})
    metrics = summary["metrics"]
    record = board.row(run.run_id)
    labels = list(summary["labels"])
    paper = _paper_row(board, run)
    return {
        "board": board, "run": run, "summary": summary, "metrics": metrics, "record": record,
        "overall": metrics["overall"], "groups": dict(_ordered(board, run)), "labels": labels,
        "confusion_columns": [*labels, "none"],
        "usage": dict.fromkeys(USAGE_KEYS) | (summary.get("usage") or {}),
        "provenance": provenance, "dataset": provenance.get("dataset") or {},
        "data_label": dataset_label(summary), "judge_settings": provenance.get("judge") or {},
        "paper": paper, "reported_table": board.reported,
        "paper_anchor": _reported_anchor(board.task, paper.judge) if paper else None,
        "positive": summary.get("positive_label"),
        "submission": run.submission,
    }


def _render(env: Environment, template: str, target: Path, root: str, site: SiteBuild, **context: Any) -> None:
    html = env.get_template(template).render(root=root, **context)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    site.pages[target.relative_to(site.out).as_posix()] = len(html.encode())


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise OutputError(f"{out} exists and was not made by `halubench site`; choose another --out "
                          "or remove it yourself")


def build_site(results_dir: Path, out: Path, reported: list[ReportedTable] | None = None, *,
               submissions: Path | None = None, repository: str | None = None) -> SiteBuild:
    """Write the whole site for the runs under ``results_dir`` and the accepted submissions under
    ``submissions`` to ``out``; ``repository`` (the project's URL) lets the About page link the docs."""
    _check_out(out)
    boards = build_leaderboards(load_runs(results_dir, submissions), reported)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        site = SiteBuild(staging)
        _write_site(boards, site, read_state(results_dir), repository)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    site.out = out
    return site


def _submit_guide(repository: str | None) -> str | None:
    """Where the About page sends a researcher who wants a judge on the board: the repository's guide."""
    return f"{repository.rstrip('/')}/blob/HEAD/docs/submit.md" if repository else None


def _depth(path: str) -> str:
    """The relative way back to the site's root from a page at ``path`` (relative to the root)."""
    return "../" * path.count("/")


def _write_site(boards: list[Leaderboard], site: SiteBuild, refresh: dict[str, Any],
                repository: str | None = None) -> None:
    """``refresh``: the nightly refresh's state file (stale judges, the last changes), maybe empty."""
    env = _environment()
    env.filters.update(describe_change=describe_change)
    shutil.copytree(HERE / "assets", site.out / "assets")
    (site.out / MARKER).write_text("built by halubench site; `halubench site` may replace this folder\n")
    n_runs = sum(len(b.runs) for b in boards)
    to_csv_frame(boards).to_csv(site.out / "leaderboard.csv", index=False)
    files = judge_definitions()
    # Data changes only with the runs; the pages of one board (its samples in memory) are written first.
    common = {"n_runs": n_runs, "data_changed": max(filter(None, map(data_changed, boards)), default=None)}
    views = {b.task: _write_board(env, b, files, site, common) for b in boards}
    tables = {b.task: leaderboard_table(b, views[b.task]) for b in boards}
    cards = [c for v in views.values() for c in [*v.cards.values(), *v.reported_cards.values()]]
    _render(env, "leaderboard.html.jinja", site.out / "index.html", "", site, boards=boards, tables=tables,
            views=views, kinds=kinds_present(cards), method=RANK_RANGE_METHOD, refresh=refresh,
            **common)
    _render(env, "contested.html.jinja", site.out / "contested.html", "", site, boards=boards, views=views,
            rule=CONTESTED_RULE, **common)
    _render(env, "about.html.jinja", site.out / "about.html", "", site, boards=boards, views=views,
            method=RANK_RANGE_METHOD, rule=CONTESTED_RULE,
            tasks={name: d.body.get("description") for name, d in discover("task").items()},
            submit_guide=_submit_guide(repository), **common)


def _write_board(env: Environment, board: Leaderboard, files: dict[str, Definition], site: SiteBuild,
                 common: dict[str, Any]) -> BoardView:
    """One board's run pages, explorer data, trade-off charts and row view; returns what the
    leaderboard, contested and about pages need of it."""
    task_dir = slug(board.task)
    samples = {run_id: run.samples() for run_id, run in board.runs.items()}
    view = board_view(board, samples, files, task_dir)
    for chart in view.tradeoffs:
        (site.out / "charts").mkdir(exist_ok=True)
        (site.out / "charts" / chart.file).write_text(chart.svg, encoding="utf-8")
    if not board.runs:
        return view
    store = TextStore()
    keys = {run_id: f"{task_dir}/runs/{run_id.split('/', 1)[1]}" for run_id in board.runs}
    for run in board.runs.values():
        page, key, card = f"runs/{run.run_id}", keys[run.run_id], view.cards[run.run_id]
        site.data_bytes += write_run_data(samples[run.run_id], breakdowns(run.summary["metrics"]),
                                          list(run.summary["labels"]), store,
                                          site.out / "data" / key, key, f"{task_dir}/texts")
        context = _run_context(board, run)
        chart = site.out / f"{page}.svg"
        chart.parent.mkdir(parents=True, exist_ok=True)
        paper = context["paper"].accuracy if context["paper"] else None
        chart.write_text(_chart(board, run, paper), encoding="utf-8")
        roc = _roc(run, samples[run.run_id])
        if roc:
            chart.with_suffix(".roc.svg").write_text(roc, encoding="utf-8")
        _render(env, "run.html.jinja", site.out / f"{page}.html", _depth(page), site,
                chart=f"{chart.name}", roc_chart=chart.with_suffix(".roc.svg").name if roc else None,
                card=card, reproduction=view.reproductions.get(run.run_id), **context, **common)
        others = [(keys[other], view.name(other)) for other in board.runs if other != run.run_id]
        _render(env, "explorer.html.jinja", site.out / f"{page}.samples.html", _depth(page), site,
                board=board, run=run, card=card, data_key=key, n_rows=len(samples[run.run_id]), others=others,
                **common)
        site.runs += 1
    order = [r["run_id"] for r in board.rows if r["run_id"] in board.runs]  # the board's order
    row_runs = [(keys[run_id], view.name(run_id), f"runs/{run_id}.html", samples[run_id])
                for run_id in order]
    rows_key = f"{task_dir}/rows"
    site.data_bytes += write_rows_index(row_runs, list(board.labels), store, site.out / "data" / f"{rows_key}.js",
                                        rows_key, f"{task_dir}/texts")
    _render(env, "rows.html.jinja", site.out / "rows" / f"{task_dir}.html", "../", site, board=board,
            rows_key=rows_key, **common)
    site.data_bytes += store.write(site.out / "data" / task_dir / "texts", f"{task_dir}/texts")
    return view
