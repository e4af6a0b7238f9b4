"""A task: where its rows come from, how they become samples, its prompt and labels.

Task files use lm-eval's vocabulary where it fits (``task``, ``dataset_path``,
``dataset_name``, ``dataset_kwargs.revision``, ``test_split``, ``doc_to_text``,
``doc_to_target``, ``doc_to_choice``, ``group``); the keys lm-eval has no word
for are halubench's own: ``loader`` (which Python loader turns rows into
samples), ``data_file`` (a file shipped in the package), ``positive_label`` and
``breakdowns``. A task file and its ``options`` (per loader) are validated
against ``halubench.settings_schema`` when the task is resolved.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from halubench.definitions import PACKAGE_DIR, Definition, discover, lookup
from halubench.errors import ConfigError, DataError
from halubench.key_values import apply_pairs
from halubench.samples import Sample
from halubench.settings_schema import TaskFile, options_schema, parse, validate


@dataclass(frozen=True)
class TaskSpec:
    name: str
    loader: str
    labels: tuple[str, ...]
    prompt: str  # template name or path, see halubench.prompts
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
        options = validate(options_schema(body.loader, str(where)), body.options or {}, f"{where} options")
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
        options = validate(options_schema(self.loader, f"task {self.name}"), merged, "--option", pairs)
        return replace(self, options=options)


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


Loader = Callable[[TaskSpec, "Path | None"], LoadedRows]
_LOADERS: dict[str, str] = {
    "halubench": "halubench.loaders.halubench:load",
    "refchecker-responses": "halubench.loaders.refchecker:load_responses",
    "refchecker-claims": "halubench.loaders.refchecker:load_claims",
}


def loader_for(spec: TaskSpec) -> Loader:
    import importlib

    target = _LOADERS.get(spec.loader)
    if target is None:
        raise ConfigError(
            f"{spec.source}: unknown loader {spec.loader!r}; known: {', '.join(sorted(_LOADERS))}"
        )
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


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


def select(
    samples: Sequence[Sample],
    *,
    breakdown: str | None,
    domains: Sequence[str] = (),
    limit: int | None = None,
    seed: int = 0,
) -> list[Sample]:
    """Filter to ``domains`` and draw ``limit`` rows stratified by domain and label.

    Taking the first N rows would give a run of a single domain on HaluBench (its
    rows are sorted by source), so the draw keeps every (domain, label) stratum in
    its original proportion, using largest remainders so the total is exact.
    """
    chosen = list(samples)
    if domains:
        present = sorted({s.groups.get(breakdown or "", "") for s in chosen})
        unknown = [d for d in domains if d not in present]
        if unknown:
            raise DataError(
                f"unknown {breakdown or 'domain'} {', '.join(unknown)}; this data has: "
                f"{', '.join(present)}"
            )
        chosen = [s for s in chosen if s.groups.get(breakdown or "") in set(domains)]
    if limit is None or limit >= len(chosen):
        return chosen
    if limit <= 0:
        raise DataError(f"--limit must be positive, got {limit}")
    strata: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, sample in enumerate(chosen):
        strata[(sample.groups.get(breakdown or "", ""), sample.label)].append(index)
    quotas = {key: limit * len(idx) / len(chosen) for key, idx in strata.items()}
    counts = {key: int(q) for key, q in quotas.items()}
    leftover = limit - sum(counts.values())
    by_remainder = sorted(quotas, key=lambda k: (-(quotas[k] - counts[k]), k))
    for key in by_remainder[:leftover]:
        counts[key] += 1
    rng = random.Random(seed)
    keep: list[int] = []
    for key in sorted(strata):
        keep.extend(rng.sample(strata[key], counts[key]))
    return [chosen[i] for i in sorted(keep)]
