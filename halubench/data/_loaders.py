"""Task loaders: one registry entry per loader, holding its function and the schema of its options.

A task file names its ``loader``; the loader turns the task's raw rows into
``Sample`` objects and says where they came from (``LoadedRows``). A task's
``options`` are checked against the entry's schema when the task is read, and
the function is imported only when rows are loaded, so listing tasks costs no
loader's imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import field_validator

from halubench.config import Strict
from halubench.data._sample import Sample
from halubench.errors import ConfigError


@dataclass(frozen=True)
class LoadedRows:
    """What a loader hands the runner.

    ``excluded`` reports rows the loader could not turn into samples on purpose
    (RefChecker's responses without claims have no gold label), so a summary
    says how many were left out and why instead of hiding them.
    """

    samples: list[Sample]
    provenance: dict[str, Any]
    excluded: dict[str, Any] = field(default_factory=dict)


class NoOptions(Strict):
    """The ``halubench`` loader takes no options."""


RefCheckerSetting = Literal["zero", "noisy", "accurate"]


class RefCheckerClaimOptions(Strict):
    settings: list[RefCheckerSetting] | None = None  # None: all three
    annotations: str | None = None  # a local human_annotations_v1 folder

    @field_validator("settings", mode="before")
    @classmethod
    def _one_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class RefCheckerResponseOptions(RefCheckerClaimOptions):
    fail_on: Literal["contradiction", "not_entailment"] = "contradiction"


@dataclass(frozen=True)
class LoaderEntry:
    """A loader: ``target`` (``module:function``, imported on first use) and the schema of its options.

    The function is called as ``function(task, data_path_or_None) -> LoadedRows``.
    """

    target: str
    options: type[Strict]

    def function(self) -> Callable[..., LoadedRows]:
        module, attr = self.target.split(":")
        return getattr(importlib.import_module(module), attr)


LOADERS: dict[str, LoaderEntry] = {
    "halubench": LoaderEntry("halubench.data._halubench:load", NoOptions),
    "refchecker-responses": LoaderEntry("halubench.data.refchecker._loader:load_responses", RefCheckerResponseOptions),
    "refchecker-claims": LoaderEntry("halubench.data.refchecker._loader:load_claims", RefCheckerClaimOptions),
}


def loader_entry(name: str, where: str) -> LoaderEntry:
    try:
        return LOADERS[name]
    except KeyError:
        raise ConfigError(f"{where}: unknown loader {name!r}; known: {', '.join(sorted(LOADERS))}") from None
