"""Typed schemas of judge files, task files and their command-line overrides.

Why: a setting nobody reads is a silent lie. ``--judge-arg threshhold=0.99``
used to run with the default threshold and record the typo as if it had been
used. Every judge file, task file, ``--judge-arg`` and ``--option`` is now
checked here before any data is loaded or any call made (``extra="forbid"``),
and the first mistake stops the run with one line naming the file or flag, the
key and the keys allowed there.

Adding a backend: write one subclass of ``halubench.backends.JudgeSettings``
(its keys, typed, with their defaults) and register it beside its judge class
in ``halubench.backends.BACKENDS``. If some of its keys cannot change a reply or
its status (placement, batching, prices), list them in its ``not_reply``;
everything else is in the cache key and the run's identity by default. A new
task loader registers its options in ``TASK_OPTIONS`` the same way.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from halubench.errors import ConfigError

PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """No unknown keys; numbers are accepted where text is expected (YAML reads ``revision: 1234`` as a number)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


# --- Task files and task options ----------------------------------------------------------------


# --- Validation and its one-line errors ------------------------------------------------------------


def parse(schema: type[M], values: Mapping[str, Any], where: str, pairs: Sequence[str] = ()) -> M:
    """``values`` as a ``schema`` instance, or one ``ConfigError`` line about the first mistake.

    ``pairs`` are the ``KEY=VALUE`` flags behind ``values``: the error names the
    one that set the bad key (``where`` is then the flag, e.g. ``--judge-arg``).
    """
    try:
        return schema.model_validate(dict(values))
    except ValidationError as exc:
        # A misspelt key also leaves the right one missing: report the typo, it says more.
        error = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        top = str(error["loc"][0]) if error["loc"] else ""
        pair = next((p for p in pairs if p.partition("=")[0].strip().split(".")[0] == top), None)
        raise ConfigError(describe(error, schema, f"{where} {pair}" if pair else where)) from None


def validate(
    schema: type[BaseModel], values: Mapping[str, Any], where: str, pairs: Sequence[str] = ()
) -> dict[str, Any]:
    """The keys given in ``values``, typed (``temperature: 0`` becomes 0.0, so equal settings hash equal)."""
    return parse(schema, values, where, pairs).model_dump(exclude_unset=True)


def describe(error: ErrorDetails, schema: type[BaseModel], where: str) -> str:
    """One line: where, which key, what is wrong, and the keys allowed beside it."""
    model: type[BaseModel] | None = schema
    allowed = sorted(schema.model_fields)
    path: list[str] = []
    for part in error["loc"]:
        if model is None:
            break
        allowed = sorted(model.model_fields)
        if part in model.model_fields:
            path.append(str(part))
            model = _nested_model(model.model_fields[str(part)].annotation)
        elif error["type"] == "extra_forbidden" and part == error["loc"][-1]:
            path.append(str(part))
        else:
            break  # a union branch or a list index: the key so far says enough
    key = ".".join(path)
    keys = ", ".join(allowed) or "none"
    if error["type"] == "extra_forbidden":
        near = difflib.get_close_matches(path[-1], allowed, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return f"{where}: unknown key '{key}'{hint}; allowed keys: {keys}"
    if error["type"] == "missing":
        return f"{where}: missing key '{key}'; allowed keys: {keys}"
    got = repr(error.get("input"))
    got = got if len(got) <= 60 else got[:57] + "..."
    return f"{where}: key '{key}': {error['msg'].rstrip('.')} (got {got}); allowed keys: {keys}"


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X | None`` (or ``X`` itself), for reading nested keys."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _nested_model(arg)
            if found is not None:
                return found
    return None
