"""`halubench refresh` from the command line: run the night, print and write its report, build the site."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from halubench.backends import resolve_judge, with_batch_flags
from halubench.data import load_task
from halubench.errors import ConfigError
from halubench.refresh._config import RefreshConfig, load_config
from halubench.refresh._engine import Night, RefreshOptions
from halubench.refresh._night_report import markdown, totals

RUNNERS = ("cpu", "gpu", "all")


def check_names(config: RefreshConfig) -> None:
    """Every task and judge of the config exists, said before the night starts rather than half-way."""
    for task in config.tasks:
        load_task(task.name)
    for judge in config.judges:
        spec = resolve_judge(judge.name)
        if judge.batch:
            with_batch_flags(spec, True, None, None)  # a backend without a batch API says so now


def refresh_command(
    config_path: Path,
    results_dir: Path,
    site_out: Path | None,
    only: str | None,
    runner: str,
    cache_path: Path | None,
    report_path: Path | None,
    console: Console,
    submissions: Path | None = None,
) -> int:
    """Run the refresh; 1 when any judge failed, else 0."""
    if runner not in RUNNERS:
        raise ConfigError(f"--runner {runner!r}: choose one of {', '.join(RUNNERS)}")
    config = load_config(config_path)
    if only and only not in {j.name for j in config.judges}:
        raise ConfigError(f"--only {only}: not a judge of {config_path} ({', '.join(j.name for j in config.judges)})")
    check_names(config)
    night = Night(config, RefreshOptions(results_dir, cache_path, only, runner))  # type: ignore[arg-type]
    resumed = night.progress.resumed
    outcomes = night.run()
    for o in outcomes:
        note = "; ".join(filter(None, [o.reason, *o.notices]))
        style = {"stale": "bold red", "failed": "bold red", "skipped": "yellow"}.get(o.status, "")
        status = f"[{style}]{o.status}[/]" if style else o.status
        console.print(f"{escape(o.run)}: {status}" + (f" ({escape(note)})" if note else ""), highlight=False,
                      soft_wrap=True)
    console.print(totals(outcomes), highlight=False)
    text = markdown(outcomes, resumed)
    if report_path:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        with report_path.open("a", encoding="utf-8") as out:  # the job summary file may hold other steps' text
            out.write(text)
    if site_out is not None:
        from halubench.sitegen import build_site

        build_site(results_dir, site_out, submissions=submissions)
        console.print(f"site: {site_out / 'index.html'}")
    return 1 if any(o.failed for o in outcomes) else 0
