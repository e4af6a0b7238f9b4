"""``halubench refchecker-references``: one references file for every RefChecker setting.

Natural Questions dev, the zero-context source, is not on the HuggingFace hub:
Google serves it as five gzipped JSONL shards (about 1 GB) under
``gs://natural_questions/v1.0/dev/``. This command keeps only the benchmark's
100 examples, with the reference RefChecker used: the first annotation's long
answer, HTML tokens dropped, tokens joined by spaces. ``--hub`` adds the dolly
and MS MARCO references through ``datasets``, so one file serves
``--task refchecker`` on a machine that cannot reach the hub later.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from halubench.data.refchecker._annotations import SETTINGS, locate, read_responses
from halubench.data.refchecker._references import HUB_SOURCES, Reference, from_hub
from halubench.errors import DataError

_EXAMPLE_ID = re.compile(rb'"example_id":\s*(-?\d+)')


def nq_reference(example: dict[str, Any]) -> Reference | None:
    """None when the first annotator marked no long answer (nothing to check against)."""
    long_answer = example["annotations"][0]["long_answer"]
    start, end = long_answer["start_token"], long_answer["end_token"]
    if start < 0:
        return None
    tokens = example["document_tokens"][start:end]
    text = " ".join(t["token"] for t in tokens if not t["html_token"])
    return Reference(example["question_text"], (text,))


def nq_references(shards: Iterable[Path], ids: Iterable[str]) -> dict[str, Reference]:
    """Scan the shards for ``ids``; a line is parsed only when its example_id is wanted (lines are ~100 KB)."""
    wanted = set(ids)
    found: dict[str, Reference] = {}
    for shard in shards:
        if not shard.exists():
            raise DataError(f"{shard}: no such file (Natural Questions dev shard, nq-dev-0N.jsonl.gz)")
        opener = gzip.open if shard.suffix == ".gz" else open
        with opener(shard, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not any(m.decode() in wanted for m in _EXAMPLE_ID.findall(line)):
                    continue
                try:
                    example = json.loads(line)
                    example_id = str(example["example_id"])
                    reference = nq_reference(example) if example_id in wanted else None
                except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
                    raise DataError(
                        f"{shard}: line {number}: not a Natural Questions example ({exc.__class__.__name__}: "
                        f"{exc}); use the full v1.0 dev shards, not the simplified ones"
                    ) from None
                if reference is not None:
                    found[example_id] = reference
    return found


def make_references(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write (id, setting, question, reference).")],
    nq_dev: Annotated[list[Path] | None, typer.Option("--nq-dev", help=(
        "A Natural Questions v1.0 dev shard (nq-dev-0N.jsonl.gz); repeat for all five."))] = None,
    hub: Annotated[bool, typer.Option("--hub", help=(
        "Also write the accurate (dolly) and noisy (MS MARCO) references, read through `datasets`."))] = False,
    annotations_dir: Annotated[Path | None, typer.Option("--annotations", help=(
        "Local human_annotations_v1 folder (default: the pinned download), for the benchmark's ids."))] = None,
) -> None:
    """Write a RefChecker references file from Natural Questions dev shards (and the hub)."""
    wanted = (["zero"] if nq_dev else []) + (list(HUB_SOURCES) if hub else [])
    if not wanted:
        raise DataError("nothing to write: pass --nq-dev SHARD (repeatable) and/or --hub")
    settings = [SETTINGS[name] for name in wanted]
    folder, _ = locate(settings, annotations_dir)
    responses = read_responses(folder, settings)
    lines, counts = [], []
    for setting in settings:
        ids = list(dict.fromkeys(r.id for r in responses if r.setting == setting.name))
        found = nq_references(nq_dev or [], ids) if setting.name == "zero" else from_hub(setting.name, ids)
        counts.append(f"{setting.name} {len(found)} of {len(ids)}")
        for item_id in ids:
            if item_id in found:
                ref = found[item_id]
                lines.append(json.dumps({"id": item_id, "setting": setting.name, "question": ref.question,
                                         "reference": list(ref.passages)}, ensure_ascii=False))
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    typer.echo(f"wrote {out}: {', '.join(counts)} references")
