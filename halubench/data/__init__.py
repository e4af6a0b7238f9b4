"""Task rows: task specs, their loaders, row selection and the tables rows are read from.

A task file names a loader; the loader turns raw rows (the hub at a pinned
revision, or a local file) into validated ``Sample`` objects.
"""

from __future__ import annotations

from halubench.data._loaders import (
    LOADERS,
    LoadedRows,
    LoaderEntry,
    NoOptions,
    RefCheckerClaimOptions,
    RefCheckerResponseOptions,
    RefCheckerSetting,
    loader_entry,
)
from halubench.data._sample import Sample
from halubench.data._select import select
from halubench.data._task import TaskFile, TaskSpec, file_sha256, group_members, load_task

__all__ = [
    "LOADERS",
    "LoadedRows",
    "NoOptions",
    "RefCheckerClaimOptions",
    "RefCheckerResponseOptions",
    "RefCheckerSetting",
    "Sample",
    "TaskFile",
    "TaskSpec",
    "file_sha256",
    "group_members",
    "load_task",
    "loader_entry",
    "LoaderEntry",
    "select",
]
