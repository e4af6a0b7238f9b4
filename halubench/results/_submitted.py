"""A submission folder on disk: an outside researcher's run, packed to be checked and put on the board.

``halubench submit`` writes one folder per run (``submissions/<name>/``) and
``halubench verify`` checks it; this module is the folder's format and its one
reader, so the board build, ``verify`` and ``submit`` read a submission alike.
The folder holds exactly these files, all plain data:

- ``summary.json``: the run's summary as ``halubench run`` wrote it, its
  samples and texts files renamed to the two below;
- ``samples.jsonl``: every row with its raw reply (``fields_sha256`` in place of
  the texts, as in a results folder);
- ``texts.jsonl``: the rows' question, passage and answer, once each;
- ``card.yaml``: the judge's card, a contact, and how the run was made;
- ``manifest.json``: the sha256 and size of every other file.

A submitted run reads as a ``StoredRun`` whose ``submission`` is its card file,
so the board marks it *submitted* and ranks it by the same comparable rule as
every other run. Reading checks the manifest (a hand-edited folder on the
default branch is refused, not shown) and reads YAML as plain data only: no
tags, no aliases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, Field

from halubench._atomic_io import atomic_write
from halubench.config import Strict, parse
from halubench.data import file_sha256
from halubench.errors import DataError
from halubench.results._files import FORMAT, TEXTS_FILE, fields_key
from halubench.results._stored_run import StoredRun
from halubench.results._summary_types import RunSummary
from halubench.scoring import SampleRecord

SUBMISSION_FORMAT = "halubench-submission/1"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "card.yaml"
SUMMARY_FILE = "summary.json"
SAMPLES_FILE = "samples.jsonl"
# Every file a submission holds, in the order they are checked; nothing else may be in the folder.
SUBMISSION_FILES = (MANIFEST_FILE, CARD_FILE, SUMMARY_FILE, SAMPLES_FILE, TEXTS_FILE)


def _web_address(value: str | None) -> str | None:
    """The site links the card's URL: only a web address, never ``javascript:`` or a local file."""
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s):// address")
    return value


Text = Annotated[str, Field(min_length=1, max_length=200)]


class SubmittedCard(Strict):
    """The judge's card as a judge file has it (``halubench.backends.CARD_KEYS``), and who to ask."""

    display_name: Text
    provider: Text  # the maker
    kind: Literal["llm", "fine-tuned", "classifier", "baseline"]  # as a judge file's ``kind``
    weights: Literal["open", "closed", "none"]  # as a judge file's ``weights``
    parameters: Text | None = None  # "8B"; None where not public
    license: Text | None = None
    url: Annotated[Text | None, AfterValidator(_web_address)] = None
    contact: Text  # an e-mail address or a GitHub handle


class HowRun(Strict):
    """How the replies were made: what a reader needs to judge whether a reproduction can match them."""

    made_by: Text  # ``halubench run`` or the lm-eval version a run was imported from
    harness_version: Text
    settings: dict[str, Any]  # the judge's reply-changing settings (the run's ``config.judge``, no endpoint)
    endpoint: Text | None = None  # the host called; None for a judge run in the submitter's process
    hardware: Text | None = None  # where an in-process judge ran ("1x H100 80GB")


class SubmissionFile(Strict):
    """``card.yaml``."""

    format: Literal["halubench-submission/1"]
    task: Text
    judge: Text
    card: SubmittedCard
    how_run: HowRun


def read_plain_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping of plain data: a tag (``!!python/object``) or an alias is refused, never constructed."""
    where = path.name
    try:
        text = path.read_text(encoding="utf-8")
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise DataError(f"{where} line {line}: YAML anchors and aliases are not accepted; write the "
                                "values out")
            if isinstance(event, yaml.NodeEvent) and getattr(event, "tag", None) is not None:
                tag = event.tag.replace("tag:yaml.org,2002:", "!!")
                raise DataError(f"{where} line {line}: the tag {tag} is not plain data; a submission's YAML "
                                "holds only mappings, lists, strings and numbers")
        body = yaml.safe_load(text)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark else ""
        raise DataError(f"{where}{at}: not readable YAML ({exc.__class__.__name__}); write plain YAML") from None
    if not isinstance(body, dict):
        raise DataError(f"{where}: expected a mapping of keys, got {type(body).__name__}")
    return body


def read_card(folder: Path) -> SubmissionFile:
    return parse(SubmissionFile, read_plain_yaml(folder / CARD_FILE), CARD_FILE)


def read_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """``manifest.json``'s files: name -> ``{"sha256", "bytes"}``."""
    path = folder / MANIFEST_FILE
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DataError(f"{path}: not a readable submission manifest ({exc.__class__.__name__}); make the "
                        "folder again with `halubench submit`") from None
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(body, dict) or body.get("format") != SUBMISSION_FORMAT or not isinstance(files, dict) or \
            not all(isinstance(v, dict) for v in files.values()):
        raise DataError(f"{path}: not a {SUBMISSION_FORMAT} manifest; make the folder again with "
                        "`halubench submit`")
    return files


def manifest_mismatch(folder: Path, files: dict[str, dict[str, Any]]) -> str | None:
    """The first file whose size or sha256 differs from the manifest's, said in words; None when all agree."""
    for name in SUBMISSION_FILES[1:]:
        entry, path = files.get(name), folder / name
        if entry is None:
            return f"{MANIFEST_FILE}: {name} is not listed"
        if not path.is_file():
            return f"{name}: listed in {MANIFEST_FILE} but missing"
        if path.stat().st_size != entry.get("bytes"):
            return f"{name}: {path.stat().st_size} bytes, {MANIFEST_FILE} says {entry.get('bytes')}"
        digest = file_sha256(path)
        if digest != entry.get("sha256"):
            return f"{name}: sha256 {digest[:12]}… differs from {MANIFEST_FILE}'s {str(entry.get('sha256'))[:12]}…"
    return None


def manifest_body(folder: Path) -> dict[str, Any]:
    """The manifest of the files now in ``folder`` (every submission file but the manifest itself)."""
    return {"format": SUBMISSION_FORMAT,
            "files": {name: {"sha256": file_sha256(folder / name), "bytes": (folder / name).stat().st_size}
                      for name in SUBMISSION_FILES[1:]}}


CARD_HEADER = """\
# A halubench submission (docs/submit.md): the judge's card, a contact, and how the run was made.
# Checked by `halubench verify` with the other files; manifest.json holds every file's sha256, so
# an edit here means running `halubench submit` again.
"""


def write_submission(folder: Path, summary: RunSummary, samples: list[SampleRecord], card: SubmissionFile) -> None:
    """Write a submission's files into ``folder`` (which must exist), the manifest last.

    The samples keep their order and every key as the run wrote them; their texts
    go to ``texts.jsonl`` once each, keyed as in a results folder.
    """
    texts: dict[str, dict[str, Any]] = {}
    slim = []
    for sample in samples:
        record = {k: v for k, v in sample.items() if k != "fields"}
        key = fields_key(sample["fields"])
        texts.setdefault(key, sample["fields"])
        slim.append({**record, "fields_sha256": key})
    stored = {**summary, "format": FORMAT, "samples_file": SAMPLES_FILE, "texts_file": TEXTS_FILE}
    atomic_write(folder / TEXTS_FILE, ((json.dumps({"sha256": k, "fields": v}, ensure_ascii=False) + "\n").encode()
                                       for k, v in texts.items()))
    atomic_write(folder / SAMPLES_FILE, ((json.dumps(s, ensure_ascii=False) + "\n").encode() for s in slim))
    atomic_write(folder / SUMMARY_FILE, [(json.dumps(stored, indent=2, ensure_ascii=False) + "\n").encode()])
    body = yaml.safe_dump(card.model_dump(), sort_keys=False, allow_unicode=True, width=100)
    atomic_write(folder / CARD_FILE, [(CARD_HEADER + body).encode()])
    manifest = json.dumps(manifest_body(folder), indent=2) + "\n"
    atomic_write(folder / MANIFEST_FILE, [manifest.encode()])


def read_submission(folder: Path) -> StoredRun:
    """The run a submission folder holds, marked submitted; a folder whose files do not match its
    manifest, or whose card is not plain data, is refused in one line."""
    problem = manifest_mismatch(folder, read_manifest(folder))
    if problem:
        raise DataError(f"{folder}: {problem}; a merged submission must be as `halubench verify` accepted it")
    card = read_card(folder)
    path = folder / SUMMARY_FILE
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DataError(f"{path}: not a readable results summary ({exc.__class__.__name__})") from None
    if not isinstance(summary, dict) or summary.get("format") != FORMAT:
        raise DataError(f"{path}: not a halubench results summary (format {FORMAT})")
    return StoredRun(path, summary, submission=card.model_dump())


def submitted_runs(root: Path | None) -> list[StoredRun]:
    """The run of every submission folder under ``root`` (one level: ``submissions/<name>/``), by name;
    no folder has none."""
    if root is None or not root.is_dir():
        return []
    return [read_submission(folder) for folder in sorted(root.iterdir()) if (folder / MANIFEST_FILE).is_file()]
