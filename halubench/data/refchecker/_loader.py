"""RefChecker annotations + references -> samples, per response or per claim.

Task options (YAML ``options:``, or ``--option KEY=VALUE`` on the command line):
``settings`` (list of zero / noisy / accurate), ``annotations`` (a local
``human_annotations_v1`` folder instead of the pinned download), and for the
response level ``fail_on``: ``contradiction`` (RefChecker's strict rule: a
response is FAIL when one of its claims is Contradiction) or ``not_entailment``
(FAIL when any claim is not Entailment, the paper's "non-factual").
``--data PATH`` is the references file. The options are validated with the task
(``halubench.backends.RefCheckerResponseOptions`` / ``RefCheckerClaimOptions``),
so the loaders read them as given.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from halubench.data._loaders import LoadedRows
from halubench.data._sample import Sample
from halubench.data._task import TaskSpec, file_sha256
from halubench.data.refchecker._annotations import LABELS, SETTINGS, Claim, Response, locate, read_responses
from halubench.data.refchecker._references import Reference, join
from halubench.errors import ConfigError

FAIL_RULES = {
    "contradiction": lambda claims: any(c.label == "Contradiction" for c in claims),
    "not_entailment": lambda claims: any(c.label != "Entailment" for c in claims),
}


def load_responses(spec: TaskSpec, data: Path | None) -> LoadedRows:
    """One sample per response with claims; responses without claims are counted apart."""
    rule_name = spec.options.get("fail_on", "contradiction")
    if len(spec.labels) != 2:
        raise ConfigError(f"{spec.source}: response-level RefChecker tasks need doc_to_choice [PASS, FAIL]")
    passed, failed = spec.labels
    responses, refs, provenance = _load(spec, data)
    fails = FAIL_RULES[rule_name]
    samples = [
        Sample(
            id=r.key,
            label=failed if fails(r.claims) else passed,
            fields=_fields(refs[r.setting][r.id], answer=r.text),
            groups={"setting": r.setting, "responder": r.responder},
        )
        for r in responses if r.claims
    ]
    abstained = [r for r in responses if not r.claims]
    excluded = {}
    if abstained:
        excluded["abstain"] = {
            "n": len(abstained),
            "reason": "responses without claim triplets (RefChecker's 'Abstain'): no gold label",
            "by_setting": dict(Counter(r.setting for r in abstained)),
            "by_responder": dict(Counter(r.responder for r in abstained)),
        }
    return LoadedRows(samples, {**provenance, "fail_on": rule_name}, excluded)


def load_claims(spec: TaskSpec, data: Path | None) -> LoadedRows:
    """One sample per human-labelled triplet, clustered by its response (scorer ``refchecker-claims``)."""
    if spec.labels != LABELS:
        raise ConfigError(f"{spec.source}: claim-level RefChecker tasks need doc_to_choice [{', '.join(LABELS)}]")
    responses, refs, provenance = _load(spec, data)
    samples = []
    for response in responses:
        reference = refs[response.setting][response.id]
        for index, claim in enumerate(response.claims):
            samples.append(Sample(
                id=f"{response.key}/{index}",
                label=claim.label,
                fields={**_fields(reference, answer=_claim_text(claim)), "triplet": _triplet(claim)},
                groups={"setting": response.setting, "responder": response.responder},
                cluster=response.key,
            ))
    return LoadedRows(samples, provenance)


def _load(
    spec: TaskSpec, data: Path | None
) -> tuple[list[Response], dict[str, dict[str, Reference]], dict[str, Any]]:
    settings = [SETTINGS[name] for name in spec.options.get("settings") or SETTINGS]
    directory = Path(spec.options["annotations"]) if spec.options.get("annotations") else None
    folder, annotation_source = locate(settings, directory)
    responses = read_responses(folder, settings)
    refs, reference_source = {}, {}
    for setting in settings:
        ids = [r.id for r in responses if r.setting == setting.name]
        refs[setting.name], reference_source[setting.name] = join(setting, ids, data)
    provenance = {
        "source": "refchecker",
        "settings": [s.name for s in settings],
        "annotations": annotation_source,
        "references": reference_source,
    }
    if data is not None:
        provenance["references_sha256"] = file_sha256(data)
    return responses, refs, provenance


def _fields(reference: Reference, answer: str) -> dict[str, str]:
    return {"question": reference.question, "passage": reference.text, "answer": answer}


def _claim_text(claim: Claim) -> str:
    """What heuristics such as the lexical judge read: the triplet as plain words."""
    return " ".join((claim.subject, claim.predicate, claim.object))


def _triplet(claim: Claim) -> str:
    """RefChecker shows its checker the claim in this form."""
    return f'("{claim.subject}", "{claim.predicate}", "{claim.object}")'
