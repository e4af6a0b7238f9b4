"""What the definition files say, checked: YAML discovery, schemas, overrides, run identity, prompts.

Task and judge files are found here (built-ins, ``HALUBENCH_INCLUDE_PATH``,
``--include-path``), their shared schema machinery gives one-line errors,
``KEY=VALUE`` flags are applied, a run's configuration identity is computed,
and prompt templates are resolved and rendered.
"""

from __future__ import annotations

from halubench.config._discovery import (
    INCLUDE_PATH_ENV,
    PACKAGE_DIR,
    Definition,
    builtin_dirs,
    discover,
    lookup,
    read_yaml,
    search_dirs,
)
from halubench.config._identity import (
    config_id,
    dataset_identity,
    endpoint_info,
    identity_options,
    run_config,
    selection_identity,
    variant,
)
from halubench.config._overrides import apply_pairs
from halubench.config._paths import CACHE_ENV, default_cache_path
from halubench.config._prompts import BUILTIN_DIR, PromptRenderer, PromptTemplate, resolve_template
from halubench.config._schema import NonNegativeFloat, PositiveInt, Strict, describe, parse, validate

__all__ = [
    "BUILTIN_DIR",
    "CACHE_ENV",
    "Definition",
    "INCLUDE_PATH_ENV",
    "NonNegativeFloat",
    "PACKAGE_DIR",
    "PositiveInt",
    "PromptRenderer",
    "PromptTemplate",
    "Strict",
    "apply_pairs",
    "builtin_dirs",
    "config_id",
    "dataset_identity",
    "default_cache_path",
    "describe",
    "discover",
    "endpoint_info",
    "identity_options",
    "lookup",
    "parse",
    "read_yaml",
    "resolve_template",
    "run_config",
    "search_dirs",
    "selection_identity",
    "validate",
    "variant",
]
