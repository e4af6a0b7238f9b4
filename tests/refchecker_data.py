"""Shared helpers for the RefChecker tests: the real annotations, synthetic references.

Expected figures are recomputed here straight from the upstream JSON files,
independently of halubench's own reading code, and checked against the
published counts in the tests.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import read_results, write_jsonl

FOLDERS = {"zero": ("zero_context", "nq"), "noisy": ("noisy_context", "msmarco"),
           "accurate": ("accurate_context", "dolly")}
RESPONDERS = ("gpt4", "chatgpt", "davinci001", "falcon_40B_instruct", "alpaca_7B", "llama2_70b_chat", "claude2")


def annotations_dir(shared_data: Path) -> Path:
    return shared_data / "refchecker" / "human_annotations_v1"


def example_ids(shared_data: Path, setting: str) -> list[str]:
    prefix = FOLDERS[setting][1]
    return json.loads((shared_data / "refchecker" / "example_ids" / f"{prefix}_example_ids.json").read_text())


def raw_items(shared_data: Path, setting: str, responder: str) -> list[dict]:
    folder, prefix = FOLDERS[setting]
    path = annotations_dir(shared_data) / folder / f"{prefix}_{responder}_answers.json"
    return json.loads(path.read_text())


def human_labels(item: dict) -> list[str]:
    return [t["human_label"] for t in item.get("claude2_response_kg") or []]


def write_references(path: Path, shared_data: Path, settings=("zero", "noisy", "accurate"), skip=0,
                     text_of: dict[str, str] | None = None) -> Path:
    """Synthetic question/reference per id; noisy gets three passages (numbering), the rest one.

    ``text_of`` (id -> text) puts real text in the first passage, for judges that read it.
    """
    rows = []
    for setting in settings:
        for item_id in example_ids(shared_data, setting)[skip:]:
            passages = [f"Passage text {n} about item {item_id}." for n in range(3 if setting == "noisy" else 1)]
            if text_of:
                passages[0] = text_of[item_id]
            rows.append({"id": item_id, "question": f"What is item {item_id}?", "reference": passages})
    return write_jsonl(path, rows)


def read_run(folder: Path, task: str, judge: str) -> tuple[dict, list[dict]]:
    return read_results(folder / "results", task, judge)
