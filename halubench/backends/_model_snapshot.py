"""Which weights and chat template a model id stands for, found without loading the model.

The cache key of an in-process judge has to name the exact weights and chat
template that answer, yet a fully cached re-run must not start a 70B engine
just to learn them. So both are read from disk:

- A hub id resolves through the local Hugging Face cache first (``refs/<revision>``
  names the commit; no network). Only a model never downloaded here is asked of
  the hub, for its small files (config, tokenizer config, chat template), never
  the weights; the engine would fetch them anyway. The engine is then started on
  that commit, so the key names the weights that answered even after ``main``
  moves on the hub (pass ``revision`` to choose another).
- A local folder is identified by ``model_fingerprint`` (names, sizes, mtimes).

The chat template is the one ``transformers`` loads with the tokenizer:
``chat_template.jinja`` beside the weights, else ``tokenizer_config.json``'s
``chat_template`` (a named list of templates is hashed whole).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

SMALL_FILES = ("config.json", "tokenizer_config.json", "chat_template.jinja")


def hub_snapshot(model: str, revision: str | None) -> Path:
    """The snapshot folder of ``model`` at ``revision`` (default ``main``); its name is the commit.

    Raises ``OSError`` (not in the cache, hub unreachable, no such repo) or
    ``ValueError`` (not a valid repo id) for the caller to word.
    """
    from huggingface_hub import snapshot_download, try_to_load_from_cache

    found = try_to_load_from_cache(model, "config.json", revision=revision)
    if isinstance(found, str):
        return Path(found).parent
    return Path(snapshot_download(model, revision=revision, allow_patterns=list(SMALL_FILES)))


def model_chat_template(folder: Path) -> str | None:
    """The model's own chat template as text, or None when it ships none."""
    standalone = folder / "chat_template.jinja"
    if standalone.is_file():
        return standalone.read_text(encoding="utf-8")
    config = folder / "tokenizer_config.json"
    if not config.is_file():
        return None
    template = json.loads(config.read_text(encoding="utf-8")).get("chat_template")
    if template is None or isinstance(template, str):
        return template
    return json.dumps(template, sort_keys=True)


def model_fingerprint(folder: Path) -> str:
    """Names, sizes and mtimes of a local checkpoint's files: changes whenever a file is rewritten.

    Hashing the weights themselves (140 GB for a 70B) would take longer than judging.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def text_sha256(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None
