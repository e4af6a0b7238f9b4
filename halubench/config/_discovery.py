"""Where task and judge YAML files are found.

Definitions ship in the wheel (``halubench/definitions/{tasks,judges}``, copied
from the repository's top-level ``tasks/`` and ``judges/`` at build time); in a
source checkout they are read from those top-level folders directly. Users add
their own with ``--include-path DIR`` or ``HALUBENCH_INCLUDE_PATH`` (lm-eval's
name for the same idea): every ``*.yaml`` below such a folder is read, and a file
is a task if it has a ``task:`` key, a judge if it has a ``judge:`` key. A user
definition with the name of a built-in one replaces it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from halubench.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the halubench package
INCLUDE_PATH_ENV = "HALUBENCH_INCLUDE_PATH"


def builtin_dirs() -> list[Path]:
    shipped = PACKAGE_DIR / "definitions"
    if shipped.is_dir():
        return [shipped / "tasks", shipped / "judges"]
    checkout = PACKAGE_DIR.parent
    return [checkout / "tasks", checkout / "judges"]


def search_dirs(include_paths: Iterable[Path] = ()) -> list[Path]:
    """Built-ins first, then the environment, then the command line: later wins."""
    env = [Path(p) for p in os.environ.get(INCLUDE_PATH_ENV, "").split(os.pathsep) if p]
    return [*builtin_dirs(), *env, *include_paths]


# libyaml's safe loader where PyYAML was built with it: the same documents, a tenth of the time (every
# command that names a judge reads every task and judge file).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Definition:
    kind: str  # "task" or "judge"
    name: str
    path: Path
    body: dict[str, Any]


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        body = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(body, dict):
        raise ConfigError(f"{path}: expected a mapping of keys, got {type(body).__name__}")
    return body


def discover(kind: str, include_paths: Iterable[Path] = ()) -> dict[str, Definition]:
    found: dict[str, Definition] = {}
    for folder in search_dirs(include_paths):
        if not folder.exists():
            continue
        if not folder.is_dir():
            raise ConfigError(f"include path {folder} is not a directory")
        for path in sorted(folder.rglob("*.yaml")):
            body = read_yaml(path)
            name = body.get(kind)
            if isinstance(name, str):
                found[name] = Definition(kind, name, path, body)
    return found


def lookup(kind: str, name: str, include_paths: Iterable[Path] = ()) -> Definition:
    found = discover(kind, include_paths)
    if name not in found:
        valid = ", ".join(sorted(found)) or "(none found)"
        raise ConfigError(f"unknown {kind} '{name}'. Valid {kind}s: {valid}")
    return found[name]
