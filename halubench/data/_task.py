"""A task: where its rows come from, how they become samples, its prompt and labels.

Task files use lm-eval's vocabulary where it fits (``task``, ``dataset_path``,
``dataset_name``, ``dataset_kwargs.revision``, ``test_split``, ``doc_to_text``,
``doc_to_target``, ``doc_to_choice``, ``group``); the keys lm-eval has no word
for are halubench's own: ``loader`` (which Python loader turns rows into
samples), ``data_file`` (a file shipped in the package), ``positive_label`` and
``breakdowns``. A task file and its ``options`` (per loader) are validated
against ``halubench.backends`` when the task is resolved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from halubench.config import PACKAGE_DIR, Definition, Strict, apply_pairs, discover, lookup, parse, validate
from halubench.data._loaders import LoadedRows, loader_entry
from halubench.errors import ConfigError


class DatasetKwargs(Strict):
    revision: str | None = None  # the dataset's hub commit


class TaskFile(Strict):
    """A task file, in lm-eval's vocabulary where it has a word (see ``halubench.data``)."""

    task: str
    group: str | None = None
    description: str = ""
    dataset_path: str | None = None
    dataset_name: str | None = None
    dataset_kwargs: DatasetKwargs | None = None
    test_split: str = "test"
    doc_to_text: str
    doc_to_target: str | None = None
    doc_to_choice: Annotated[list[str], Field(min_length=2)]
    metadata: dict[str, Any] | None = None
    loader: str
    data_file: str | None = None
    positive_label: str | None = None
    breakdowns: list[str] = []
    options: dict[str, Any] | None = None
    scorer: str = "classification"  # a name in halubench.scoring.SCORERS


@dataclass(frozen=True)
class TaskSpec:
    name: str
    loader: str
    labels: tuple[str, ...]
    prompt: str  # template name or path, see halubench.config
    positive_label: str | None
    breakdowns: tuple[str, ...]
    dataset_path: str | None = None
    dataset_name: str | None = None
    revision: str | None = None
    split: str = "test"
    data_file: Path | None = None
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    # The task file's own options: a run with other options (--option) is a variant, never ranked.
    default_options: dict[str, Any] = field(default_factory=dict)
    scorer: str = "classification"
    source: Path | None = None

    @classmethod
    def from_definition(cls, definition: Definition) -> TaskSpec:
        where = definition.path
        body = parse(TaskFile, definition.body, str(where))
        options = validate(loader_entry(body.loader, str(where)).options, body.options or {}, f"{where} options")
        labels = tuple(body.doc_to_choice)
        if body.positive_label is not None and body.positive_label not in labels:
            raise ConfigError(f"{where}: positive_label {body.positive_label!r} is not in doc_to_choice")
        return cls(
            name=definition.name,
            loader=body.loader,
            labels=labels,
            prompt=body.doc_to_text,
            positive_label=body.positive_label,
            breakdowns=tuple(body.breakdowns),
            dataset_path=body.dataset_path,
            dataset_name=body.dataset_name,
            revision=body.dataset_kwargs.revision if body.dataset_kwargs else None,
            split=body.test_split,
            data_file=PACKAGE_DIR / body.data_file if body.data_file else None,
            description=body.description,
            options=options,
            default_options=options,
            scorer=body.scorer,
            source=where,
        )

    def with_options(self, pairs: Sequence[str]) -> TaskSpec:
        """This task with ``--option KEY=VALUE`` pairs applied, validated against its loader's options."""
        merged = apply_pairs(self.options, pairs, "--option", "fail_on=not_entailment")
        options = validate(loader_entry(self.loader, f"task {self.name}").options, merged, "--option", pairs)
        return replace(self, options=options)

    def load(self, data: Path | None = None) -> LoadedRows:
        """The task's rows: from ``data`` (a local file) when given, else from where the task file says."""
        return loader_entry(self.loader, str(self.source or f"task {self.name}")).function()(self, data)


def load_task(name: str, include_paths: Iterable[Path] = ()) -> TaskSpec:
    return TaskSpec.from_definition(lookup("task", name, include_paths))


def group_members(name: str, include_paths: Iterable[Path] = ()) -> list[str] | None:
    """Task names of a group (lm-eval's ``group`` key), or None if no task names it."""
    members = [
        d.name for d in discover("task", include_paths).values() if d.body.get("group") == name
    ]
    return sorted(members) or None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

