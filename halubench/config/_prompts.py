"""Prompt templates: Jinja2 text rendered from a sample's fields into chat messages.

A task names its template (``doc_to_text``): either a built-in name such as
``faithfulness`` (the Lynx protocol the HaluBench paper used for every judge) or
a path to a ``.jinja`` file. A judge file may replace it for a template name
(``templates: {faithfulness: my_lynx.jinja}``) and ``--template`` replaces it for
one run. The template's hash goes into the results, so runs with different
prompts are never mistaken for each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2

from halubench.errors import ConfigError

BUILTIN_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    source: str
    origin: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()

    def compile(self) -> jinja2.Template:
        env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
        try:
            return env.from_string(self.source)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(f"{self.origin}: line {exc.lineno}: template error: {exc.message}") from None


def resolve_template(reference: str | Path, relative_to: Path | None = None) -> PromptTemplate:
    """A built-in template name, or a file path (relative to the YAML that names it)."""
    candidate = Path(reference)
    if candidate.suffix != ".jinja":
        builtin = BUILTIN_DIR / f"{reference}.jinja"
        if not builtin.exists():
            known = ", ".join(sorted(p.stem for p in BUILTIN_DIR.glob("*.jinja")))
            raise ConfigError(f"unknown prompt template {reference!r}; built-in: {known}")
        return PromptTemplate(str(reference), builtin.read_text(encoding="utf-8"), str(builtin))
    if not candidate.is_absolute() and relative_to is not None:
        candidate = relative_to / candidate
    if not candidate.exists():
        raise ConfigError(f"prompt template file {candidate} does not exist")
    return PromptTemplate(candidate.stem, candidate.read_text(encoding="utf-8"), str(candidate))


class PromptRenderer:
    """Renders one template for many samples; the compiled template is reused."""

    def __init__(self, template: PromptTemplate):
        self.template = template
        self._compiled = template.compile()

    def messages(self, fields: Mapping[str, str]) -> tuple[dict[str, str], ...]:
        try:
            text = self._compiled.render(**fields)
        except jinja2.UndefinedError as exc:
            raise ConfigError(
                f"{self.template.origin}: {exc.message}; this task's samples have fields "
                f"{', '.join(sorted(fields))}"
            ) from None
        return ({"role": "user", "content": text},)
