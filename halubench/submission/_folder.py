"""A submission folder read as untrusted data: its files, their sizes, their hashes, their plain content.

Everything in a pull request's folder is read, never run: only the five known
files, each under its cap (checked from its size before a byte is read), each
matching the manifest's sha256, JSON parsed with the standard library, YAML
with the safe loader after refusing tags and aliases, and no API-key-shaped
string anywhere. Nothing in the folder is executed, imported or rendered as a
template.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halubench.errors import HalubenchError
from halubench.results import (
    CARD_FILE,
    FORMAT,
    MANIFEST_FILE,
    SAMPLES_FILE,
    SUBMISSION_FILES,
    SUMMARY_FILE,
    TEXTS_FILE,
    SubmissionFile,
    manifest_mismatch,
    read_card,
    read_manifest,
)
from halubench.submission._rejected import SubmissionRejected
from halubench.submission._secrets import find_key

MiB = 1 << 20
# Largest size of each file (bytes). The full HaluBench (14,900 rows) packs into about 30 MiB of texts and
# 10-20 MiB of samples with an LLM's reasoning; GitHub refuses files over 100 MB.
CAPS = {MANIFEST_FILE: 64 << 10, CARD_FILE: 64 << 10, SUMMARY_FILE: 8 * MiB, SAMPLES_FILE: 64 * MiB,
        TEXTS_FILE: 64 * MiB}
TOTAL_CAP = 128 * MiB
FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class Line:
    """One JSON line of a ``.jsonl`` file and its 1-based line number."""

    number: int
    body: dict[str, Any]


@dataclass(frozen=True)
class SubmissionFiles:
    """What a submission's files hold, parsed."""

    folder: Path
    card: SubmissionFile
    summary: dict[str, Any]
    samples: list[Line]
    texts: dict[str, Line]  # fields_sha256 -> the texts line
    total_bytes: int


def _shape(folder: Path) -> int:
    """Only the known files, plain files (no links, no folders), each under its cap; their total size."""
    if not folder.is_dir():
        raise SubmissionRejected(f"{folder}: not a folder; pass the folder `halubench submit --out` wrote")
    if not FOLDER_NAME.fullmatch(folder.name):
        raise SubmissionRejected(f"{folder}: a submission's folder is named with letters, digits, '.', '_' and '-' "
                                 "only (it becomes the submission's name on the board)")
    present = sorted(p.name for p in folder.iterdir())
    for name in present:
        path = folder / name
        if name not in SUBMISSION_FILES:
            raise SubmissionRejected(f"{path}: not a submission file; a submission holds only "
                                     f"{', '.join(SUBMISSION_FILES)}")
        if path.is_symlink() or not path.is_file():
            raise SubmissionRejected(f"{path}: a link or a folder; a submission holds plain files only")
    missing = [name for name in SUBMISSION_FILES if name not in present]
    if missing:
        raise SubmissionRejected(f"{folder / missing[0]}: missing; make the folder again with `halubench submit`")
    total = 0
    for name in SUBMISSION_FILES:
        size = (folder / name).stat().st_size
        if size > CAPS[name]:
            raise SubmissionRejected(f"{folder / name}: {size:,} bytes, over its cap of {CAPS[name]:,} "
                                     "(docs/submit.md#what-is-checked)")
        total += size
    if total > TOTAL_CAP:
        raise SubmissionRejected(f"{folder}: {total:,} bytes in all, over the cap of {TOTAL_CAP:,}")
    return total


def _text_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise SubmissionRejected(f"{path}: not UTF-8 text (byte {exc.start}); a submission holds text "
                                 "files only") from None


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SubmissionRejected(f"{where}: not valid JSON ({exc.__class__.__name__})") from None


def _json_lines(path: Path, lines: list[str]) -> list[Line]:
    parsed = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        body = _json(text, f"{path.name} line {number}")
        if not isinstance(body, dict):
            raise SubmissionRejected(f"{path.name} line {number}: expected a JSON object")
        parsed.append(Line(number, body))
    return parsed


def read_files(folder: Path) -> SubmissionFiles:
    """The folder's files, checked in this order: shape and caps, manifest hashes, no key-shaped
    string, then each file parsed; the first problem is raised as ``SubmissionRejected``."""
    total = _shape(folder)
    try:
        problem = manifest_mismatch(folder, read_manifest(folder))
    except HalubenchError as exc:
        raise SubmissionRejected(str(exc)) from None
    if problem:
        raise SubmissionRejected(f"{problem}: the folder changed after `halubench submit`; make it again")
    contents = {name: _text_lines(folder / name) for name in SUBMISSION_FILES}
    for name, lines in contents.items():
        key = find_key(lines)
        if key:
            raise SubmissionRejected(f"{name} line {key.line}: an API-key-shaped string ({key.kind}: {key.masked}); "
                                     "remove it (and revoke the key) before submitting")
    try:
        card = read_card(folder)
    except HalubenchError as exc:
        raise SubmissionRejected(str(exc)) from None
    summary = _json("\n".join(contents[SUMMARY_FILE]), SUMMARY_FILE)
    if not isinstance(summary, dict) or summary.get("format") != FORMAT:
        raise SubmissionRejected(f"{SUMMARY_FILE}: not a halubench results summary (format {FORMAT})")
    texts: dict[str, Line] = {}
    for line in _json_lines(folder / TEXTS_FILE, contents[TEXTS_FILE]):
        if not isinstance(line.body.get("sha256"), str) or not isinstance(line.body.get("fields"), dict):
            raise SubmissionRejected(f"{TEXTS_FILE} line {line.number}: expected keys sha256 and fields")
        texts[line.body["sha256"]] = line
    samples = _json_lines(folder / SAMPLES_FILE, contents[SAMPLES_FILE])
    return SubmissionFiles(folder, card, summary, samples, texts, total)
