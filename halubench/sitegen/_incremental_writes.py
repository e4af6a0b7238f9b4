"""Writing a site so that only what changed is rewritten.

A build writes the files whose bytes are new (or changed) into a folder beside
the site, and moves them into the site only once every page is made
(``commit``): a failed build leaves the previous site whole. A file whose bytes
equal the site's is not written at all, so it keeps its bytes, inode and mtime;
a build in which nothing changed writes nothing. A first build moves its folder
into place whole.

Work is skipped, not only writes, through *units*: a group of files (a run's
pages and explorer data, a task's text shards, a chart) made from inputs whose
fingerprint the previous build recorded in the site's manifest. A unit whose
fingerprint is unchanged (and whose files are all there) is not made again. A
fingerprint hashes everything the unit is made from: the content of its input
files, the values its pages show, and the builder itself (halubench's version
and the site generator's code, templates and assets), so a new release remakes
everything.

Input files are hashed by content; their size and mtime are kept beside the
hash in the user's cache folder, so a file that was not touched since the last
build is not read again (as ``git status`` does). A fresh checkout, whose
mtimes are all new, hashes every file once and, when the contents are the
same, still writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from halubench._version import __version__
from halubench.config import default_cache_path

MANIFEST = ".halubench-manifest.json"
MANIFEST_FORMAT = "halubench-site-manifest/1"
HINTS = "site-inputs.json"  # beside the reply cache: input files' size, mtime and hash
HERE = Path(__file__).resolve().parent


def fingerprint(value: Any) -> str:
    """A hash of a JSON-able value (keys sorted)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def builder_key() -> str:
    """halubench's version and the bytes of the site generator: its code, templates and assets."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(p for p in HERE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(HERE).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


def file_sha256(path: Path, limit: int | None = None) -> str:
    """The sha256 of a file's content (of its first ``limit`` bytes), read in blocks."""
    digest = hashlib.sha256()
    left = limit
    with path.open("rb") as handle:
        while left is None or left > 0:
            block = handle.read(1 << 20 if left is None else min(1 << 20, left))
            if not block:
                break
            digest.update(block)
            if left is not None:
                left -= len(block)
    return digest.hexdigest()


class FileStates:
    """Content hashes of the build's input files. Each file's size and mtime are remembered beside its
    hash (in the user's cache folder, ``HINTS``; not in the site, which stays a pure function of the
    results), so a file not touched since the last build is not read again."""

    def __init__(self) -> None:
        self._hints_path = default_cache_path().parent / HINTS
        try:
            self._known: dict[str, list[Any]] = json.loads(self._hints_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._known = {}
        self._seen: dict[str, list[Any]] = {}

    def sha256(self, path: Path) -> str:
        key = str(path.resolve())
        if key not in self._seen:
            stat = path.stat()
            known = self._known.get(key)
            if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
                sha = known[2]
            else:
                sha = file_sha256(path)
            self._seen[key] = [stat.st_size, stat.st_mtime_ns, sha]
        return self._seen[key][2]

    def learn(self, path: Path, sha: str) -> None:
        """The hash of a file read whole elsewhere (a run's samples, hashed while its explorer data was made)."""
        stat = path.stat()
        self._seen[str(path.resolve())] = [stat.st_size, stat.st_mtime_ns, sha]

    def size(self, path: Path) -> int:
        self.sha256(path)
        return self._seen[str(path.resolve())][0]

    def save(self) -> None:
        """Remember what this build hashed (a lost or stale file only costs reading the inputs again)."""
        if all(self._known.get(key) == state for key, state in self._seen.items()):
            return
        kept = {key: state for key, state in self._known.items() if key not in self._seen and os.path.exists(key)}
        try:
            self._hints_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._hints_path.with_name(f"{HINTS}.{os.getpid()}.tmp")
            temporary.write_text(json.dumps({**kept, **self._seen}), encoding="utf-8")
            os.replace(temporary, self._hints_path)
        except OSError:
            pass  # a read-only cache folder: the next build hashes again


@dataclass
class Manifest:
    """What a build recorded in the site: per unit, its fingerprint and its files (a run's also how far
    into the task's texts it points). A pure function of the results, like every file of the site."""

    units: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, site: Path) -> Manifest:
        """The manifest of a site; an empty one where there is none or it cannot be read (all is remade)."""
        try:
            body = json.loads((site / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(body, dict) or body.get("format") != MANIFEST_FORMAT:
            return cls()
        return cls(body.get("units") or {})

    def encode(self) -> bytes:
        body = {"format": MANIFEST_FORMAT, "units": self.units}
        return (json.dumps(body, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


@dataclass
class SiteFiles:
    """The files of one build: new bytes under ``staging``, the rest left where they are in ``site`` (the
    site being updated; None for a first build).

    Picklable (paths and lists), so a worker process writes a run's files with its own copy and
    hands back what it wrote.
    """

    staging: Path
    site: Path | None
    written: list[str] = field(default_factory=list)  # files whose bytes are new, waiting in ``staging``
    kept: list[str] = field(default_factory=list)  # files of ``site`` this build leaves as they are
    sizes: dict[str, int] = field(default_factory=dict)  # every file of the new site
    _folders: set[str] = field(default_factory=set, repr=False)

    def put(self, path: str, data: bytes) -> int:
        """Make the file at ``path`` (relative to the site) hold ``data``: written only when its bytes differ."""
        if self.site is not None and _same(os.path.join(self.site, path), data):
            self.kept.append(path)
        else:
            folder = os.path.dirname(path)
            if folder not in self._folders:
                os.makedirs(os.path.join(self.staging, folder), exist_ok=True)
                self._folders.add(folder)
            target = os.path.join(self.staging, path)
            temporary = f"{target}.{os.getpid()}.tmp"  # workers may write a shared file (a task's row ids) at once
            with open(temporary, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)
            self.written.append(path)
        self.sizes[path] = len(data)
        return len(data)

    def keep(self, paths: Iterable[str]) -> bool:
        """Leave these files of the site as they are; False (and nothing kept) when one is missing."""
        if self.site is None:
            return False
        paths = list(paths)
        try:
            sizes = [os.stat(os.path.join(self.site, p)).st_size for p in paths]
        except OSError:
            return False
        self.sizes.update(zip(paths, sizes, strict=True))
        self.kept += paths
        return True

    def read(self, path: str) -> bytes:
        """A file of this build, written now or kept."""
        pending = self.staging / path
        return (pending if pending.exists() else Path(self.site or self.staging, path)).read_bytes()

    def absorb(self, other: SiteFiles) -> None:
        """Take in what a worker's copy wrote."""
        self.written += other.written
        self.kept += other.kept
        self.sizes.update(other.sizes)

    def removed(self) -> list[str]:
        """Files of the site that this build did not make (a run gone, a page renamed)."""
        return sorted(files_under(self.site) - set(self.sizes) - {MANIFEST}) if self.site else []

    def commit(self, out: Path, manifest: bytes) -> None:
        """Move the new files into the site, delete the ones gone, then write the manifest (last: a build
        stopped half-way through here leaves units whose fingerprints differ, so the next one remakes them)."""
        if self.site is None:
            (self.staging / MANIFEST).write_bytes(manifest)
            if out.exists():
                out.rmdir()  # empty (``build_site`` checks)
            self.staging.rename(out)
            return
        for path in dict.fromkeys(self.written):  # a file runs share (their row ids) is written by each of them
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / path, target)
        for path in self.removed():
            (out / path).unlink()
        for root, folders, names in os.walk(out, topdown=False):
            if not folders and not names and Path(root) != out:
                os.rmdir(root)
        temporary = out / f"{MANIFEST}.tmp"
        temporary.write_bytes(manifest)
        os.replace(temporary, out / MANIFEST)
        shutil.rmtree(self.staging)


def _same(path: str, data: bytes) -> bool:
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def files_under(folder: Path) -> set[str]:
    """Every file under ``folder``, relative, as ``/``-separated paths."""
    found = set()
    for root, _, names in os.walk(folder):
        prefix = os.path.relpath(root, folder).replace(os.sep, "/")
        found.update(names if prefix == "." else (f"{prefix}/{name}" for name in names))
    return found
