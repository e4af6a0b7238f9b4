"""``halubench submit``: one stored run packed into a submission folder, checked before it is handed over.

The run is named as ``compare`` names runs (a judge with ``--task``, a run id,
or a summary path). A run that cannot be ranked (incomplete, measured
differently) is refused before anything is written; the folder is then made
beside ``--out`` and verified exactly as the pull request's check will verify
it, and only an accepted folder takes ``--out``'s place: a submitter never
opens a pull request that fails.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from halubench.backends import CARD_KEYS
from halubench.board import card_for, judge_definitions, recorded_card, resolve_run
from halubench.config import apply_pairs, parse
from halubench.errors import ConfigError, OutputError
from halubench.results import (
    MANIFEST_FILE,
    SUBMISSION_FORMAT,
    HowRun,
    StoredRun,
    SubmissionFile,
    SubmittedCard,
    write_submission,
)
from halubench.submission._folder import FOLDER_NAME
from halubench.submission._rejected import SubmissionRejected
from halubench.submission._verify import PathLike, Verification, verify


def submit(
    run: str,
    out: PathLike,
    *,
    contact: str,
    card: Iterable[str] = (),
    hardware: str | None = None,
    task: str | None = None,
    results_dir: PathLike = "results",
    data: PathLike | None = None,
) -> Verification:
    """Pack ``run`` into the submission folder ``out`` and verify it (``halubench submit``).

    ``card`` are ``KEY=VALUE`` strings over the judge file's card (display_name, provider, kind,
    weights, parameters, license, url); ``hardware`` says where an in-process judge ran; ``data`` is
    the board's data file for a board over your own data. Returns the accepted folder's report;
    a run that would be rejected raises ``SubmissionRejected`` and leaves ``out`` as it was.
    """
    out, results = Path(out), Path(results_dir)
    _check_out(out)
    stored = resolve_run(str(run), results, task)
    _refuse_unranked(stored)
    described = SubmissionFile(format=SUBMISSION_FORMAT, task=stored.task, judge=stored.judge,
                               card=_card(stored, list(card), contact), how_run=_how_run(stored, hardware))
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.packing-", dir=out.parent))
    staging = work / out.name  # verified under its own name
    try:
        staging.mkdir()
        write_submission(staging, stored.summary, stored.samples(), described)
        report = verify(staging, data=data, results_dir=results)
        if not report.accepted:
            raise SubmissionRejected(f"run {stored.run_id} not packed: {report.rejection}")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.folder = out
    return report


def _check_out(out: Path) -> None:
    """A new folder with a name fit for a URL, or an earlier submission of this command's to replace."""
    if not FOLDER_NAME.fullmatch(out.name):
        raise OutputError(f"--out {out}: name the folder with letters, digits, '.', '_' and '-' only "
                          "(it becomes the submission's name), e.g. submissions/acme-judge")
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST_FILE).is_file())):
        raise OutputError(f"{out} exists and is not a submission folder; choose another --out or remove it yourself")


def _refuse_unranked(run: StoredRun) -> None:
    """Only what the board would rank: complete, the task's default configuration, no ensemble."""
    if not run.complete:
        failed = sum((run.summary.get("failures") or {}).values())
        raise SubmissionRejected(f"run {run.run_id} is incomplete ({failed} failed rows): run the same command "
                                 "again to finish it, then submit")
    if run.variant:
        raise SubmissionRejected(f"run {run.run_id} is not the board's ranked configuration ({'; '.join(run.variant)}):"
                                 " run the whole task with its own options and prompt template, then submit")
    if "ensemble" in run.summary:
        raise SubmissionRejected(f"run {run.run_id} is an ensemble (a vote of stored runs): submit each member")


def _card(run: StoredRun, pairs: list[str], contact: str) -> SubmittedCard:
    """The judge file's card (or the run's record of it) with ``--card`` pairs over it, and the contact."""
    known = card_for(run.judge, recorded_card(run), judge_definitions())
    base = {key: getattr(known, key) for key in CARD_KEYS if getattr(known, key) is not None}
    unknown = [p for p in pairs if p.partition("=")[0].strip() not in CARD_KEYS]
    if unknown:
        raise ConfigError(f"--card {unknown[0]!r}: not a card key; the keys are {', '.join(CARD_KEYS)}")
    given = apply_pairs(base, pairs, "--card", "kind=fine-tuned")
    return parse(SubmittedCard, {**given, "contact": contact}, "the judge's card (--card KEY=VALUE, --contact)")


def _how_run(run: StoredRun, hardware: str | None) -> HowRun:
    summary = run.summary
    provenance = summary.get("provenance") or {}
    endpoint = summary.get("endpoint")
    if endpoint is None and run.model is not None and not hardware:
        raise ConfigError(f"judge {run.judge} ran in your own process (no endpoint): say on what with --hardware, "
                          "e.g. --hardware '1x H100 80GB, vLLM 0.6.3'")
    lm_eval = provenance.get("lm_eval")
    made_by = (f"lm-evaluation-harness {lm_eval.get('version')}, imported with halubench import lm-eval"
               if lm_eval else "halubench run")
    settings = {k: v for k, v in ((summary.get("config") or {}).get("judge") or {}).items() if k != "endpoint"}
    return parse(HowRun, {"made_by": made_by, "harness_version": provenance.get("harness_version"),
                          "settings": settings, "endpoint": endpoint["host"] if endpoint else None,
                          "hardware": hardware}, "how the run was made (--hardware)")
