import asyncio

from conftest import judge_spec

from halubench.backends import JudgeRequest, build_judge, lexical_verdict, resolve_judge
from halubench.data import Sample

LABELS = ("PASS", "FAIL")
CLAIM_LABELS = ("Entailment", "Neutral", "Contradiction")
PASSAGE = "The Clifton Suspension Bridge opened in 1864 and spans the Avon Gorge in Bristol."


def test_lexical_catches_a_changed_number():
    verdict, reasons = lexical_verdict("It opened in 1846.", PASSAGE, LABELS, 0.75)
    assert verdict == "FAIL" and "1846" in reasons[0]
    assert lexical_verdict("It opened in 1864.", PASSAGE, LABELS, 0.75)[0] == "PASS"


def test_lexical_flags_unsupported_content_and_uses_neutral_for_three_labels():
    answer = "The bridge was designed by a famous Victorian railway engineer."
    assert lexical_verdict(answer, PASSAGE, LABELS, 0.75)[0] == "FAIL"
    assert lexical_verdict(answer, PASSAGE, CLAIM_LABELS, 0.75)[0] == "Neutral"
    assert lexical_verdict("It opened in 1900.", PASSAGE, CLAIM_LABELS, 0.75)[0] == "Contradiction"


def test_random_judge_is_order_free_and_seeded():
    spec = resolve_judge("random")
    sample = Sample("x", "PASS", {"question": "q", "passage": "p", "answer": "a"})
    requests = [JudgeRequest(f"k{i}", (), sample.fields, LABELS) for i in range(40)]

    async def verdicts(reqs):
        judge = build_judge(spec)
        return {r.key: r.text async for r in judge.stream(reqs, 4)}

    forward = asyncio.run(verdicts(requests))
    backward = asyncio.run(verdicts(list(reversed(requests))))
    assert forward == backward
    assert len({t for t in forward.values()}) == 2  # both verdicts occur in 40 coins
    other = asyncio.run(verdicts([JudgeRequest(r.key, (), sample.fields, LABELS) for r in requests]))
    assert other == forward
    reseeded = resolve_judge("random", overrides=["seed=7"])
    judge = build_judge(reseeded)

    async def collect():
        return {r.key: r.text async for r in judge.stream(requests, 4)}

    assert asyncio.run(collect()) != forward


def test_secrets_never_reach_public_settings():
    # A server's own generation fields pass through unchecked, credentials among them if a user puts them there.
    spec = judge_spec("x", "openai", "m", generation={"max_tokens": 600, "api_key": "sk-secret",
                                                      "headers": {"Authorization": "b"}})
    assert spec.public_settings()["generation"] == spec.reply_settings()["generation"] == {"max_tokens": 600}
