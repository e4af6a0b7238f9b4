"""``KEY=VALUE`` pairs from the command line (``--option``, ``--judge-arg``) over a settings mapping.

Values are read as YAML, as in the files they override: ``8`` is a number,
``[a, b]`` a list, ``null`` clears a setting. A dotted key reaches into a block
(``engine.tensor_parallel_size=8``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from halubench.errors import ConfigError


def apply_pairs(settings: Mapping[str, Any], pairs: Sequence[str], flag: str, example: str) -> dict[str, Any]:
    """A copy of ``settings`` with each pair applied; ``flag`` and ``example`` word the error."""
    merged = _copy(settings)
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        path = [part for part in key.strip().split(".") if part]
        if not sep or not path:
            raise ConfigError(f"{flag} {pair!r}: write KEY=VALUE, e.g. {flag} {example}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            raise ConfigError(f"{flag} {pair!r}: the value is not valid YAML") from None
        block = merged
        for part in path[:-1]:
            if not isinstance(block.get(part), dict):
                block[part] = {}
            block = block[part]
        block[path[-1]] = value
    return merged


def _copy(value: Any) -> Any:
    return {k: _copy(v) for k, v in value.items()} if isinstance(value, Mapping) else value
