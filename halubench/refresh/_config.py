"""`leaderboard.yaml`: the tasks and judges the board shows, validated before anything runs.

A typo in the nightly config must fail the night in one line, not skip a judge
silently, so every entry is checked with pydantic (unknown keys refused).
Entries may be bare names (``gpt-4o``) or mappings with settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from halubench.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CanarySettings(_Strict):
    """The drift probe: ``rows`` re-asked each night; more than ``max_changed`` changed verdicts is drift."""

    rows: int = Field(50, ge=1)
    max_changed: int = Field(3, ge=0)
    seed: int = 0


class JudgeEntry(_Strict):
    name: str
    batch: bool = False
    runner: Literal["cpu", "gpu"] = "cpu"
    base_url_env: str | None = None  # the variable holding a private endpoint (a secret in CI)
    canary: CanarySettings | None = None  # overrides the config's default canary
    tasks: list[str] | None = None  # only these of the config's tasks (default: all)


class TaskEntry(_Strict):
    name: str
    data: Path | None = None  # relative to the config file


class RefreshConfig(_Strict):
    tasks: list[TaskEntry]
    judges: list[JudgeEntry]
    canary: CanarySettings = CanarySettings()
    source: Path | None = None

    @field_validator("tasks", "judges", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        """A bare name is the entry with default settings."""
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @model_validator(mode="after")
    def _known_tasks(self) -> RefreshConfig:
        names = {t.name for t in self.tasks}
        for index, judge in enumerate(self.judges):
            unknown = sorted(set(judge.tasks or ()) - names)
            if unknown:
                raise ValueError(f"judges.{index}.tasks: {', '.join(unknown)} not in the config's tasks")
        return self

    def canary_for(self, judge: JudgeEntry) -> CanarySettings:
        return judge.canary or self.canary

    def tasks_for(self, judge: JudgeEntry) -> list[TaskEntry]:
        return [t for t in self.tasks if judge.tasks is None or t.name in judge.tasks]


def load_config(path: Path) -> RefreshConfig:
    """The config at ``path``, task data paths made absolute (they are relative to the file)."""
    try:
        body = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the refresh config ({exc.strerror}); pass --config PATH") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(body, dict):
        raise ConfigError(f"{path}: expected a mapping with 'tasks' and 'judges'")
    try:
        config = RefreshConfig.model_validate({**body, "source": path})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        raise ConfigError(f"{path}: key {where}: {error['msg']}") from None
    base = path.resolve().parent
    tasks = [t.model_copy(update={"data": base / t.data}) if t.data else t for t in config.tasks]
    return config.model_copy(update={"tasks": tasks})
