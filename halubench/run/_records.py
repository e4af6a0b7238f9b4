"""One row's record: the sample, the judge's reply and the verdict read from it, with its status."""

from __future__ import annotations

from halubench.backends import (
    JudgeRequest,
    Reply,
)
from halubench.data import Sample
from halubench.scoring import SampleRecord, parse_verdict


def row_status(reply: Reply, verdict: str | None) -> str:
    """A verdict read from a reply cut at the token limit stands; without one, the cut is the reason."""
    if reply.too_long:
        return "too_long"
    if reply.error is not None or reply.text is None:
        return "error"
    if verdict is not None:
        return "ok"
    return "truncated" if reply.cut_off else "unparsed"


def row_record(sample: Sample, request: JudgeRequest, reply: Reply) -> SampleRecord:
    """The record of a row a judge answered: the one place a ``SampleRecord`` is made of a reply."""
    parsed = parse_verdict(reply.text, request.labels) if reply.ok else None
    verdict = parsed.verdict if parsed else None
    record: SampleRecord = {
        "id": sample.id,
        "gold": sample.label,
        "verdict": verdict,
        "status": row_status(reply, verdict),
        "correct": verdict == sample.label,
        "groups": dict(sample.groups),
        "fields": dict(sample.fields),
        "raw": reply.text,
        "reasoning": parsed.reasoning if parsed else None,
        "error": reply.error,
        "latency_s": reply.latency_s,
        "input_tokens": reply.input_tokens,
        "output_tokens": reply.output_tokens,
        "model_version": reply.model_version,
        "finish_reason": reply.finish_reason,
        "score": reply.score,
        "cached": reply.cached,
    }
    if sample.cluster is not None:
        record["cluster"] = sample.cluster
    return record
