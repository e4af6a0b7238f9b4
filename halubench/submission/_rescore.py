"""A submission's rows against the task's own, then its replies re-read and its run re-scored here.

Every row of the task must be present exactly once and no other, with the
task's gold label, groups and texts: the hash of its fields (question, passage,
answer) must be the task's row's, so an edited passage or answer is another
row. Each raw reply is then read by this project's parser, exactly as a run
reads it (``halubench.run.row_record``), and the task's scorer scores the rows
again: the verdicts, statuses and metrics must be the submitted ones to the
last bit. Nothing but the raw replies and the judge's scores is taken from the
submission.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from halubench.backends import JudgeRequest, Reply
from halubench.data import LoadedRows, Sample, TaskSpec
from halubench.results import SAMPLES_FILE, SUMMARY_FILE, TEXTS_FILE, fields_key
from halubench.run import row_record
from halubench.scoring import SampleRecord, scorer_for
from halubench.submission._folder import Line, SubmissionFiles
from halubench.submission._rejected import SubmissionRejected

CHECKED = ("verdict", "status", "correct")  # what a row's raw reply decides, compared with the submitted row


def _where(line: Line) -> str:
    return f"{SAMPLES_FILE} line {line.number} (row {line.body.get('id')})"


def match_rows(files: SubmissionFiles, task: TaskSpec, loaded: LoadedRows) -> list[tuple[Line, Sample]]:
    """Each submitted line with the task's row it is, in the submitted order; every row once, no other."""
    official = {s.id: s for s in loaded.samples}
    seen: dict[str, int] = {}
    matched = []
    for line in files.samples:
        row_id = line.body.get("id")
        if not isinstance(row_id, str) or row_id not in official:
            raise SubmissionRejected(f"{_where(line)}: not a row of task {task.name}; submit the task's rows only")
        if row_id in seen:
            raise SubmissionRejected(f"{_where(line)}: the row is there twice (first at line {seen[row_id]}); "
                                     "each row once")
        seen[row_id] = line.number
        sample = official[row_id]
        _same_row(line, sample, files)
        matched.append((line, sample))
    absent = [s.id for s in loaded.samples if s.id not in seen]
    if absent:
        raise SubmissionRejected(f"{SAMPLES_FILE}: row {absent[0]} of task {task.name} is missing "
                                 f"({len(absent)} of {len(official)} rows missing); submit a run of the whole task")
    return matched


def _same_row(line: Line, sample: Sample, files: SubmissionFiles) -> None:
    """The submitted row is the task's: its gold label, groups, cluster and texts."""
    body = line.body
    key = body.get("fields_sha256")
    texts = files.texts.get(key) if isinstance(key, str) else None
    if texts is None:
        raise SubmissionRejected(f"{_where(line)}: its texts ({key}) are not in {TEXTS_FILE}")
    fields = texts.body["fields"]
    if fields_key(fields) != key:
        raise SubmissionRejected(f"{TEXTS_FILE} line {texts.number}: its key {key} is not the hash of its fields; "
                                 "the texts were edited")
    if fields_key(fields) != fields_key(dict(sample.fields)):
        changed = sorted(k for k in set(fields) | set(sample.fields) if fields.get(k) != sample.fields.get(k))
        raise SubmissionRejected(f"{_where(line)}: its {', '.join(changed)} ({TEXTS_FILE} line {texts.number}) "
                                 "differs from the task's row; submit the rows as the task has them")
    if body.get("gold") != sample.label:
        raise SubmissionRejected(f"{_where(line)}: gold label {body.get('gold')}, the task's is {sample.label}")
    if body.get("groups") != dict(sample.groups) or body.get("cluster") != sample.cluster:
        raise SubmissionRejected(f"{_where(line)}: its groups differ from the task's row ({dict(sample.groups)})")


def _reply(line: Line) -> Reply:
    """The reply as the judge gave it, from the row's raw text and the facts a run records with it."""
    body = line.body
    raw, status = body.get("raw"), body.get("status")
    if status == "error":
        raise SubmissionRejected(f"{_where(line)}: the call failed ({body.get('error')}); an incomplete run is "
                                 "not submitted: run the same command again to finish it")
    if raw is None and status != "too_long":
        raise SubmissionRejected(f"{_where(line)}: no raw reply; every row needs the judge's reply as it came")
    if raw is not None and not isinstance(raw, str):
        raise SubmissionRejected(f"{_where(line)}: raw must be the reply's text")
    score = body.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
        raise SubmissionRejected(f"{_where(line)}: score must be a number")
    finish = body.get("finish_reason")
    return Reply(str(body.get("id")), text=raw, too_long=status == "too_long", score=score,
                 finish_reason=finish if isinstance(finish, str) else None)


def rescored_records(matched: Sequence[tuple[Line, Sample]], task: TaskSpec) -> list[SampleRecord]:
    """Each row's record rebuilt from its raw reply; a stored verdict, status or correctness that the
    reply does not give is a rejection naming the row."""
    records = []
    for line, sample in matched:
        request = JudgeRequest(sample.id, [], sample.fields, task.labels)
        record = row_record(sample, request, _reply(line))
        for key in CHECKED:
            if line.body.get(key) != record[key]:
                raise SubmissionRejected(
                    f"{_where(line)}: {key} {_shown(line.body.get(key))} is stored, but its raw reply gives "
                    f"{_shown(record[key])}; a verdict is what this project's parser reads in the reply")
        records.append(record)
    return records


def _shown(value: Any) -> str:
    return "none" if value is None else str(value)


def _plain(value: Any) -> Any:
    """As JSON has it (tuples are lists), so a stored and a computed figure compare as written."""
    return json.loads(json.dumps(value))


def _first_difference(stored: Any, computed: Any, path: str) -> str | None:
    if isinstance(stored, dict) and isinstance(computed, dict):
        for key in [*computed, *(k for k in stored if k not in computed)]:
            if key not in stored:
                return f"{path}.{key}: missing (re-scored {computed[key]!r})"
            if key not in computed:
                return f"{path}.{key}: not a figure of the task's scorer"
            found = _first_difference(stored[key], computed[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(stored, list) and isinstance(computed, list) and len(stored) == len(computed):
        for index, (a, b) in enumerate(zip(stored, computed, strict=True)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if stored == computed else f"{path}: {stored!r} submitted, {computed!r} re-scored"


def check_scores(files: SubmissionFiles, task: TaskSpec, loaded: LoadedRows, records: list[SampleRecord]) -> None:
    """The summary's figures are what the task's scorer makes of the re-read rows, exactly."""
    summary = files.summary
    expected = {"n": len(records), "labels": list(task.labels), "positive_label": task.positive_label,
                "excluded": _plain(loaded.excluded) or None}
    for key, value in expected.items():
        if summary.get(key) != value:
            raise SubmissionRejected(f"{SUMMARY_FILE} {key}: {summary.get(key)!r} submitted, {value!r} for the "
                                     "task's rows")
    metrics = _plain(scorer_for(task)(records, task, loaded.samples))
    found = _first_difference(summary.get("metrics"), metrics, "metrics")
    if found:
        raise SubmissionRejected(f"{SUMMARY_FILE} {found}; the figures must be the task's scorer's "
                                 f"({task.scorer}) on the submitted replies")
