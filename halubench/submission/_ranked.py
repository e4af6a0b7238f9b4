"""The board's ranked configuration, as a submission must match it.

The board ranks complete runs of a task's default configuration (the whole
task, the task file's own options and prompt template) on the board's data:
the task's pinned hub revision, or the file a board over your own data names
(``halubench.board.comparable_set``). A submission is held to that from its
recorded configuration, never from the words it carries about itself: the
``variant`` a summary states is checked against the configuration, not trusted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from halubench.config import config_id, dataset_identity, identity_options, selection_identity, variant
from halubench.data import TaskSpec
from halubench.results import SUMMARY_FILE
from halubench.run import task_template
from halubench.submission._rejected import SubmissionRejected

WHOLE_TASK = selection_identity(None, 0, ())


def identity_text(identity: Mapping[str, Any]) -> str:
    """A dataset identity in a few words: hub id and revision, a file's sha256, RefChecker's pins."""
    source = identity.get("source")
    if source == "hub":
        return f"{identity.get('path')} at revision {str(identity.get('revision'))[:12]}"
    if source == "file":
        return f"a file with sha256 {str(identity.get('sha256'))[:12]}"
    if source == "refchecker":
        references = identity.get("references")
        refs = f"references sha256 {references[:12]}" if isinstance(references, str) else "references from the hub"
        modified = ", modified" if identity.get("annotations_modified") else ""
        return f"RefChecker annotations {str(identity.get('annotations_commit'))[:7]}{modified}, {refs}"
    return f"data from {source}"


def check_configuration(summary: Mapping[str, Any], task: TaskSpec, board_data_given: bool) -> None:
    """Everything of the ranked configuration that needs no data: complete, whole task, the task's own
    options and template, a configuration that hashes to its id, the task's pinned hub revision."""
    if "ensemble" in summary:
        raise SubmissionRejected(f"{SUMMARY_FILE}: an ensemble's run; ensembles are votes of the board's own runs "
                                 "(halubench ensemble): submit each member instead")
    failures = summary.get("failures") or {}
    if not summary.get("complete") or failures:
        rows = sum(failures.values()) if isinstance(failures, Mapping) else "some"
        raise SubmissionRejected(f"{SUMMARY_FILE}: an incomplete run ({rows} failed rows); run the same command "
                                 "again to finish it, then submit")
    config = summary.get("config")
    if not isinstance(config, Mapping) or config.get("task") != task.name:
        raise SubmissionRejected(f"{SUMMARY_FILE} config: not a configuration of task {task.name}")
    template = (summary.get("provenance") or {}).get("prompt_template") or {}
    differs = variant(config.get("selection") or {}, config.get("options") or {},
                      identity_options(task.default_options),
                      {"name": template.get("name"), "sha256": config.get("template_sha256")},
                      task_template(task).sha256)
    if config.get("selection") != WHOLE_TASK and not differs:
        differs = [f"selection {config.get('selection')}"]
    if differs:
        raise SubmissionRejected(f"{SUMMARY_FILE} config: not the board's ranked configuration ({'; '.join(differs)}); "
                                 "the board ranks runs of the whole task with its own options and prompt template")
    if summary.get("variant"):
        raise SubmissionRejected(f"{SUMMARY_FILE} variant: says the run departs from the task's default "
                                 f"({'; '.join(map(str, summary['variant']))}); submit a default run")
    if summary.get("config_id") != config_id(config):
        raise SubmissionRejected(f"{SUMMARY_FILE} config_id: {summary.get('config_id')} is not the hash of its "
                                 f"config ({config_id(config)}); the summary was edited")
    dataset = config.get("dataset") or {}
    if not board_data_given and task.revision and dataset.get("source") == "hub" and \
            dataset.get("revision") != task.revision:
        raise SubmissionRejected(f"{SUMMARY_FILE} config.dataset: {task.dataset_path} revision "
                                 f"{str(dataset.get('revision'))[:12]}, but the board's task pins revision "
                                 f"{task.revision[:12]}; run on the pinned revision")


def check_dataset(summary: Mapping[str, Any], provenance: Mapping[str, Any]) -> str:
    """The run's data is the board's (``provenance``: the loaded rows'); returns the data in words."""
    board = dataset_identity(provenance)
    submitted = (summary.get("config") or {}).get("dataset") or {}
    if submitted != board:
        raise SubmissionRejected(f"{SUMMARY_FILE} config.dataset: {identity_text(submitted)}, but the board's data "
                                 f"is {identity_text(board)}; run on the board's data (or verify with --data FILE "
                                 "for a board over your own data)")
    return identity_text(board)
