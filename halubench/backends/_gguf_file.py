"""Which GGUF file a judge names, and what it is, found without loading it.

A GGUF judge names a file: a local path, or ``owner/repo/file.gguf`` on the
Hugging Face hub (optionally at a ``revision``), downloaded once into the usual
hub cache. What the file *is* is its sha256: a copy under another name is the
same judge, a Q4 and a Q8 of one model are two. Hashing a 5 GB file takes
seconds, so the digest is remembered beside the reply cache by path, size and
modification time, and a re-run of an unchanged file reads it back.

The header (``read_metadata``) holds the model's chat template, its training
context and its architecture; it is read here in pure Python (the GGUF key-value
section, per the format's specification in ggml's ``docs/gguf.md``), so that a
fully cached re-run knows its identity without llama.cpp or the weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from halubench._atomic_io import atomic_write
from halubench.config import default_cache_path
from halubench.errors import ConfigError, JudgeError

GGUF_MAGIC = b"GGUF"
SUFFIX = ".gguf"
# GGUF value types (ggml docs/gguf.md): scalar type -> struct format; 8 is a string, 9 an array.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
# Arrays are skipped unless they are this short: the vocabulary (128k strings) is not needed here.
_ARRAY_KEPT = 64
_HASH_CHUNK = 8 << 20


@dataclass(frozen=True)
class GgufReference:
    """A local file (``repo`` None), or ``path`` inside the hub repository ``repo`` at ``revision``."""

    path: str
    repo: str | None = None
    revision: str | None = None

    @property
    def shown(self) -> str:
        return f"{self.repo}/{self.path}" if self.repo else self.path


def parse_reference(model: str, file: str | None, revision: str | None, where: str) -> GgufReference:
    """``file`` inside the hub repository ``model``; else a path that exists (or looks like one: absolute,
    ``./``, ``~``) is local, and anything else is ``owner/repo/file.gguf`` on the hub."""
    if file is not None:
        if model.count("/") != 1 or model.startswith(("/", ".", "~")):
            raise ConfigError(f"{where}: with file: {file}, model is the hub repository (owner/repo), not {model}")
        return GgufReference(file, model, revision)
    local = Path(model).expanduser()
    if local.exists() or model.startswith(("/", ".", "~")) or model.count("/") < 2:
        if revision is not None:
            raise ConfigError(f"{where}: revision {revision!r} applies to a hub file (owner/repo/file.gguf), "
                              f"not the local path {model}")
        return GgufReference(str(local))
    owner, name, path = model.split("/", 2)
    if not path.endswith(SUFFIX):
        raise ConfigError(f"{where}: {model} is neither a local file nor a hub file; write a path to a "
                          f"{SUFFIX} file, or owner/repo/file{SUFFIX}")
    return GgufReference(path, f"{owner}/{name}", revision)


def locate(reference: GgufReference, where: str) -> Path:
    """The file on this disk: a local path as it is, a hub file from the hub cache (downloaded once)."""
    if reference.repo is None:
        path = Path(reference.path)
        if not path.is_file():
            raise JudgeError(f"{where}: no GGUF file at {path}; give the path of a {SUFFIX} file, "
                             f"or owner/repo/file{SUFFIX} for a file on the Hugging Face hub")
        return path
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    cached = try_to_load_from_cache(reference.repo, reference.path, revision=reference.revision)
    if isinstance(cached, str):
        return Path(cached)
    try:
        return Path(hf_hub_download(reference.repo, reference.path, revision=reference.revision))
    except Exception as exc:  # huggingface_hub raises many kinds (offline, 404, gated, disk full)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise JudgeError(
            f"{where}: cannot get {reference.shown}@{reference.revision or 'main'} from the Hugging Face hub "
            f"({reason}); check the repository, file name and revision, or download it first "
            f"(huggingface-cli download {reference.repo} {reference.path})"
        ) from None


def file_sha256(path: Path) -> str:
    """The file's sha256, remembered by (resolved path, size, mtime) so an unchanged file is hashed once."""
    stat = path.stat()
    key = f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
    store = _digest_store()
    known = _read_store(store)
    if key in known:
        return known[key]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    known = {**_read_store(store), key: digest.hexdigest()}  # another run may have added its own meanwhile
    try:
        atomic_write(store, [json.dumps(known, indent=0, sort_keys=True).encode("utf-8")])
    except OSError:
        pass  # a read-only cache folder costs a re-hash next time, nothing else
    return known[key]


def _digest_store() -> Path:
    """Beside the reply cache, so ``HALUBENCH_CACHE`` moves both."""
    return default_cache_path().parent / "gguf-sha256.json"


def _read_store(store: Path) -> dict[str, str]:
    try:
        known = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def read_metadata(path: Path) -> dict[str, Any]:
    """The header's key-value pairs (long arrays such as the vocabulary are left out).

    Raises ``JudgeError`` for a file that is not GGUF (a wrong path, a
    safetensors checkpoint, a truncated download).
    """
    try:
        with path.open("rb") as handle:
            if handle.read(4) != GGUF_MAGIC:
                raise JudgeError(f"{path} is not a GGUF file (it does not start with 'GGUF'); "
                                 f"a judge of this backend loads llama.cpp's {SUFFIX} files")
            version, _tensors, count = struct.unpack("<IQQ", _exactly(handle, 20))
            if version < 2:
                raise JudgeError(f"{path} is GGUF version {version}, which llama.cpp no longer reads; "
                                 f"convert it again with a current llama.cpp")
            metadata: dict[str, Any] = {}
            for _ in range(count):
                key = _string(handle)
                (kind,) = struct.unpack("<I", _exactly(handle, 4))
                value = _value(handle, kind)
                if value is not _SKIPPED:
                    metadata[key] = value
            return metadata
    except (struct.error, EOFError, UnicodeDecodeError, KeyError) as exc:
        raise JudgeError(f"{path}: damaged GGUF header ({type(exc).__name__}: {exc}); "
                         f"download or convert the file again") from None


def chat_template(metadata: Mapping[str, Any]) -> str | None:
    """The model's own chat template, as llama.cpp reads it (``tokenizer.chat_template``)."""
    template = metadata.get("tokenizer.chat_template")
    return template if isinstance(template, str) else None


def context_length(metadata: Mapping[str, Any]) -> int | None:
    """The context the model was trained with (``<architecture>.context_length``)."""
    length = metadata.get(f"{metadata.get('general.architecture')}.context_length")
    return int(length) if isinstance(length, int) and length > 0 else None


_SKIPPED = object()


def _exactly(handle: IO[bytes], size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise EOFError(f"the header ends early (wanted {size} more bytes)")
    return data


def _string(handle: IO[bytes]) -> str:
    (length,) = struct.unpack("<Q", _exactly(handle, 8))
    return _exactly(handle, length).decode("utf-8")


def _value(handle: IO[bytes], kind: int) -> Any:
    if kind == _STRING:
        return _string(handle)
    if kind == _ARRAY:
        (item_kind,) = struct.unpack("<I", _exactly(handle, 4))
        (count,) = struct.unpack("<Q", _exactly(handle, 8))
        if item_kind in _SCALARS and count > _ARRAY_KEPT:  # a fixed-size run: seek past it
            handle.seek(count * struct.calcsize(_SCALARS[item_kind]), os.SEEK_CUR)
            return _SKIPPED
        if item_kind == _STRING and count > _ARRAY_KEPT:  # the vocabulary, the merges: lengths only
            for _ in range(count):
                handle.seek(struct.unpack("<Q", _exactly(handle, 8))[0], os.SEEK_CUR)
            return _SKIPPED
        items = [_value(handle, item_kind) for _ in range(count)]
        return items if count <= _ARRAY_KEPT else _SKIPPED
    fmt = _SCALARS[kind]  # an unknown type raises KeyError: the header cannot be walked past it
    return struct.unpack(fmt, _exactly(handle, struct.calcsize(fmt)))[0]
