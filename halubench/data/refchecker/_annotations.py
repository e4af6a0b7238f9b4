"""RefChecker's human annotations: where they come from and what they hold.

They live in the GitHub repository amazon-science/RefChecker, not on the
HuggingFace hub, so they are fetched as raw files at a pinned commit, checked
against the sha256 each file has at that commit (``annotations.sha256``, so a
proxy page or a moved branch can never pass as data), and kept in a local cache:
the second run needs no network. A local copy of ``human_annotations_v1/`` works
too, for machines that cannot reach GitHub.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from halubench._atomic_io import atomic_write
from halubench.config import default_cache_path
from halubench.errors import DataError

COMMIT = "1df1b25cee792ba2b171302e31ca4f768bd67703"
DEFAULT_BASE_URL = (
    f"https://raw.githubusercontent.com/amazon-science/RefChecker/{COMMIT}/benchmark/human_annotations_v1"
)
BASE_URL_ENV = "HALUBENCH_REFCHECKER_URL"
DIRECTORY_ENV = "HALUBENCH_REFCHECKER_ANNOTATIONS"
LABELS = ("Entailment", "Neutral", "Contradiction")
RESPONDERS = ("gpt4", "chatgpt", "davinci001", "falcon_40B_instruct", "alpaca_7B", "llama2_70b_chat", "claude2")
_CHECKSUMS = Path(__file__).with_name("annotations.sha256")
HOW_TO_GET = (
    f"pass a local copy of RefChecker's benchmark/human_annotations_v1 (commit {COMMIT[:12]}) "
    f"with --option annotations=DIR or ${DIRECTORY_ENV}"
)


@dataclass(frozen=True)
class Setting:
    """One of the benchmark's three context settings and the upstream names that go with it."""

    name: str  # halubench's short name: task names, breakdown values, sample ids
    folder: str  # upstream folder under human_annotations_v1/
    source: str  # upstream file prefix: the dataset the prompts come from


SETTINGS = {
    s.name: s
    for s in (
        Setting("zero", "zero_context", "nq"),
        Setting("noisy", "noisy_context", "msmarco"),
        Setting("accurate", "accurate_context", "dolly"),
    )
}


@dataclass(frozen=True)
class Claim:
    subject: str
    predicate: str
    object: str
    label: str  # the human label, one of LABELS


@dataclass(frozen=True)
class Response:
    setting: str
    responder: str
    id: str  # the prompt's id in its source dataset (shared by the 7 responders)
    text: str
    claims: tuple[Claim, ...]  # empty: RefChecker's "Abstain"

    @property
    def key(self) -> str:
        return f"{self.setting}/{self.responder}/{self.id}"


def file_name(setting: Setting, responder: str) -> str:
    return f"{setting.folder}/{setting.source}_{responder}_answers.json"


def checksums() -> dict[str, str]:
    lines = _CHECKSUMS.read_text(encoding="utf-8").splitlines()
    pairs = (line.split() for line in lines if line.strip() and not line.startswith("#"))
    return {name: digest for digest, name in pairs}


def data_cache_dir() -> Path:
    """Beside the reply cache, so ``HALUBENCH_CACHE`` moves both (tests rely on it)."""
    return default_cache_path().parent / "data" / "refchecker" / COMMIT


def locate(settings: Sequence[Setting], directory: Path | None) -> tuple[Path, dict[str, Any]]:
    """The folder to read: the one given (option, then environment), else the download cache."""
    if directory is None and os.environ.get(DIRECTORY_ENV):
        directory = Path(os.environ[DIRECTORY_ENV])
    names = [file_name(s, r) for s in settings for r in RESPONDERS]
    if directory is not None:
        if not directory.is_dir():
            raise DataError(f"RefChecker annotations folder {directory} does not exist; {HOW_TO_GET}")
        expected = checksums()
        identical = all(
            (directory / n).is_file() and _sha256((directory / n).read_bytes()) == expected[n] for n in names
        )
        return directory, {"source": "directory", "path": str(directory), "commit": COMMIT,
                           "identical_to_commit": identical}
    base_url = os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    target = data_cache_dir()
    download(base_url, target, names)
    return target, {"source": "download", "url": base_url, "cache": str(target), "commit": COMMIT}


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def download(base_url: str, target: Path, names: Iterable[str]) -> None:
    """Fetch the files the cache lacks; each is verified before it is renamed into place."""
    expected = checksums()
    for name in names:
        path = target / name
        if path.exists():
            continue
        url = f"{base_url.rstrip('/')}/{name}"
        try:
            with urllib.request.urlopen(url, timeout=60) as reply:
                body = reply.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DataError(f"could not download {url} ({reason}); {HOW_TO_GET}") from None
        digest = _sha256(body)
        if digest != expected[name]:
            raise DataError(
                f"{url}: sha256 {digest[:16]}... differs from the file at RefChecker commit {COMMIT[:12]} "
                f"({expected[name][:16]}...); check {BASE_URL_ENV} or {HOW_TO_GET}"
            )
        atomic_write(path, [body])


def read_responses(folder: Path, settings: Sequence[Setting]) -> list[Response]:
    """Every response of the given settings, in upstream order (setting, responder, file order)."""
    responses: list[Response] = []
    for setting in settings:
        for responder in RESPONDERS:
            path = folder / file_name(setting, responder)
            responses.extend(_read_file(path, setting, responder))
    return responses


def _read_file(path: Path, setting: Setting, responder: str) -> list[Response]:
    if not path.exists():
        raise DataError(f"{path}: no such file (expected in a RefChecker annotations folder); {HOW_TO_GET}")
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(items, list):
        raise DataError(f"{path}: expected a JSON list of responses")
    responses = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"{path}: item {index}"
        if not isinstance(item, dict) or not isinstance(item.get("response"), str):
            raise DataError(f"{where}: expected an object with 'id', 'response', 'claude2_response_kg'")
        item_id = str(item.get("id", "")).strip()
        if not item_id or item_id in seen:
            raise DataError(f"{where}: {'duplicate' if item_id else 'missing'} id {item_id!r}")
        seen.add(item_id)
        claims = tuple(_claim(t, f"{where} (id {item_id}) triplet {n}")
                       for n, t in enumerate(item.get("claude2_response_kg") or []))
        responses.append(Response(setting.name, responder, item_id, item["response"], claims))
    return responses


def _claim(entry: Any, where: str) -> Claim:
    triplet = entry.get("triplet") if isinstance(entry, dict) else None
    if not isinstance(triplet, list) or len(triplet) != 3:
        raise DataError(f"{where}: expected 'triplet' as [subject, predicate, object]")
    label = entry.get("human_label")
    if label not in LABELS:
        raise DataError(f"{where}: 'human_label' is {label!r}, expected one of {', '.join(LABELS)}")
    subject, predicate, obj = (str(part).strip() for part in triplet)
    return Claim(subject, predicate, obj, label)
