"""Typed settings leave every judge's identity as it was: same config ids, same reply-cache keys.

``judge_identities.json`` was written by the dict-based settings code (commit
8e228c6, before judge settings were typed): for every judge file shipped then
and a few ``--base-url`` / ``--judge-arg`` / ``--batch*`` variants, the reply
settings (the run identity's judge part), the public settings (a results
file's ``provenance.judge``, key order included) and the cache identity (the
reply-cache key's judge part; an in-process vLLM engine's needs its weights, so
it is left out). Each must come out byte for byte the same from the typed code. One change since, made
on purpose: a classifier's cache identity names ``long_hypothesis`` (issue 22: a hypothesis too long for
the window is judged by sentence, so its replies cached as too long before are not reused).
"""

import asyncio
import json
from pathlib import Path

import pytest

from halubench.backends import (
    BACKENDS,
    ApiSettings,
    JudgeRequest,
    JudgeSpec,
    RetryPolicy,
    build_judge,
    resolve_judge,
    with_batch_flags,
)

CASES = json.loads((Path(__file__).with_name("judge_identities.json")).read_text(encoding="utf-8"))


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _spec(case) -> JudgeSpec:
    spec = resolve_judge(case["judge"], (), case["base_url"], case["judge_args"])
    return with_batch_flags(spec, *case["batch_flags"]) if case["batch_flags"] else spec


@pytest.mark.parametrize("case", CASES, ids=lambda c: " ".join([c["judge"], *c["judge_args"], *(
    ["--base-url"] if c["base_url"] else []), *(["--batch*"] if c["batch_flags"] else [])]))
def test_identities_are_those_of_the_dict_based_settings(case, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    spec = _spec(case)
    assert _json(spec.reply_settings()) == _json(case["reply_settings"])
    assert _json(spec.public_settings()) == _json(case["public_settings"])
    if case["cache_identity"] is not None or spec.backend != "vllm":
        assert _json(build_judge(spec).cache_identity()) == _json(case["cache_identity"])



def test_a_default_is_stated_once_in_the_schema_and_the_backend_uses_it(tmp_path):
    """A judge file without ``threshold`` runs at the schema's threshold; the identity never names a default."""
    (tmp_path / "plain.yaml").write_text(json.dumps({"judge": "plain", "backend": "lexical"}))
    plain = resolve_judge("plain", [tmp_path])
    default = BACKENDS["lexical"].settings.model_fields["threshold"].default
    assert plain.settings.threshold == default and "threshold" not in plain.reply_settings()
    passage, answer = "alpha beta gamma delta", "alpha beta gamma epsilon"  # 75% of the answer's words
    sample = {"passage": passage, "answer": answer, "question": ""}

    def verdict(spec: JudgeSpec) -> str:
        reply = asyncio.run(build_judge(spec).complete(JudgeRequest("r", (), sample, ("PASS", "FAIL"))))
        return json.loads(reply.text)["SCORE"]

    assert verdict(plain) == "PASS"  # coverage 0.75 >= the default 0.75
    assert verdict(resolve_judge("plain", [tmp_path], overrides=[f"threshold={default + 0.01}"])) == "FAIL"


def test_api_defaults_come_from_the_schema():
    judge = build_judge(resolve_judge("openai:m"))
    assert judge.generation == dict(ApiSettings.default_generation) and judge.retry == RetryPolicy()
    assert "generation" not in judge.spec.reply_settings() and "retry" not in judge.spec.public_settings()
