"""``halubench verify``: a submission folder checked against the task's data, offline once the data is here.

The checks run in a fixed order, each on what the ones before established,
and the first that fails rejects the submission with one line saying what and
where (file, line, row). Only the task's data is read from outside the
folder (the pinned hub revision, fetched once and cached like a run's data, or
``--data FILE`` for a board over your own data); the same folder and data give
the same report, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from halubench.board import JudgeCard
from halubench.data import load_task
from halubench.errors import HalubenchError
from halubench.results import SUMMARY_FILE, StoredRun
from halubench.submission._folder import CAPS, TOTAL_CAP, SubmissionFiles, read_files
from halubench.submission._placement import placement
from halubench.submission._ranked import check_configuration, check_dataset
from halubench.submission._rejected import SubmissionRejected
from halubench.submission._rescore import check_scores, match_rows, rescored_records

PathLike = str | Path


@dataclass
class Verification:
    """What ``verify`` found: the checks passed, in order, and the first rejection (None: accepted)."""

    folder: Path
    passed: list[str] = field(default_factory=list)
    rejection: str | None = None
    title: str = ""
    placement: str | None = None

    @property
    def accepted(self) -> bool:
        return self.rejection is None

    def lines(self) -> list[str]:
        """The report, one screen: what was checked, where it would rank, the outcome."""
        lines = [f"submission {self.folder}" + (f": {self.title}" if self.title else "")]
        lines += [f"  ok  {line}" for line in self.passed]
        if self.rejection:
            lines.append(f"  NO  {self.rejection}")
        if self.placement:
            lines.append(f"  board: {self.placement}")
        lines.append("accepted" if self.accepted else "rejected")
        return lines

    def markdown(self) -> str:
        """The report for a pull request's job summary."""
        outcome = "accepted" if self.accepted else "rejected"
        parts = [f"### Submission `{self.folder.name}`: {outcome}", ""]
        if self.title:
            parts += [self.title, ""]
        parts += [f"- ✅ {line}" for line in self.passed]
        if self.rejection:
            parts.append(f"- ❌ **{self.rejection}**")
        if self.placement:
            parts.append(f"- 📊 {self.placement}")
        return "\n".join(parts) + "\n\n"


def verify(folder: PathLike, *, data: PathLike | None = None, results_dir: PathLike = "results") -> Verification:
    """Check a submission folder (``halubench verify``); a submission that fails a check is returned
    rejected, with the first reason. ``data`` is the board's data file for a board over your own data;
    ``results_dir`` is the board the accepted run is placed on. Raises ``HalubenchError`` only when the
    check itself cannot run (the task's data cannot be read)."""
    found = Verification(Path(folder))
    try:
        _check(found, found.folder, Path(data) if data is not None else None, Path(results_dir))
    except SubmissionRejected as exc:
        found.rejection = str(exc)
    return found


def _check(found: Verification, folder: Path, data: Path | None, results_dir: Path) -> None:
    files = read_files(folder)
    found.passed.append(f"files: the five submission files, {files.total_bytes:,} bytes, each under its cap "
                        f"(at most {max(CAPS.values()) >> 20} MiB, {TOTAL_CAP >> 20} MiB in all) and as its "
                        "sha256 in the manifest")
    found.passed.append("plain data: JSON and YAML read as data (no tag, no alias), no API-key-shaped string")
    summary, card = files.summary, files.card
    found.title = (f"{card.card.display_name} ({summary.get('judge')}) on {summary.get('task')}, "
                   f"from {card.card.contact}")
    _card_matches(files)
    facts = JudgeCard(judge=card.judge, **card.card.model_dump(exclude={"contact"})).facts
    found.passed.append(f"card: {card.card.display_name} ({', '.join(facts)}); made by {card.how_run.made_by}")
    try:
        task = load_task(str(summary.get("task")))
    except HalubenchError:
        raise SubmissionRejected(f"{SUMMARY_FILE} task: {summary.get('task')!r} is not a task of this board "
                                 "(halubench tasks)") from None
    check_configuration(summary, task, data is not None)
    loaded = task.load(data)  # the task's data: a failure here is not the submission's
    described = check_dataset(summary, loaded.provenance)
    found.passed.append(f"configuration: the board's ranked one (whole task, the task's own options and "
                        f"prompt template), on {described}")
    matched = match_rows(files, task, loaded)
    found.passed.append(f"rows: all {len(matched):,} rows of {task.name}, each once, with the task's labels "
                        "and texts")
    records = rescored_records(matched, task)
    found.passed.append("replies: every raw reply re-read by halubench's parser gives the submitted verdict "
                        "and status")
    check_scores(files, task, loaded, records)
    found.passed.append(f"figures: the task's scorer ({task.scorer}) on those verdicts gives the submitted "
                        "metrics exactly")
    run = StoredRun(folder / SUMMARY_FILE, summary, submission=card.model_dump())  # type: ignore[arg-type]
    found.placement = placement(run, results_dir)


def _card_matches(files: SubmissionFiles) -> None:
    """card.yaml says what the summary says: the same task, judge, settings, endpoint and harness."""
    card, summary = files.card, files.summary
    config = summary.get("config") or {}
    recorded = {
        "task": summary.get("task"),
        "judge": summary.get("judge"),
        "how_run.settings": {k: v for k, v in (config.get("judge") or {}).items() if k != "endpoint"},
        "how_run.endpoint": (summary.get("endpoint") or {}).get("host"),
        "how_run.harness_version": (summary.get("provenance") or {}).get("harness_version"),
    }
    stated = {"task": card.task, "judge": card.judge, "how_run.settings": card.how_run.settings,
              "how_run.endpoint": card.how_run.endpoint, "how_run.harness_version": card.how_run.harness_version}
    for key, value in recorded.items():
        if stated[key] != value:
            raise SubmissionRejected(f"card.yaml {key}: {stated[key]!r}, but {SUMMARY_FILE} says {value!r}; make "
                                     "the folder again with `halubench submit`")
