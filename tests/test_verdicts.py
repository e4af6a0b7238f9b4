import pytest

from halubench.verdicts import parse_verdict

LABELS = ("PASS", "FAIL")


@pytest.mark.parametrize(
    "text, verdict",
    [
        ('{"REASONING": ["the date matches"], "SCORE": "PASS"}', "PASS"),
        ('```json\n{"REASONING": ["x"], "SCORE": "FAIL"}\n```', "FAIL"),
        ('Sure! Here is my analysis.\n{"reasoning": "ok", "score": "pass"}', "PASS"),
        ('{"Reasoning": ["a", "b"], "Score": "FAIL."}', "FAIL"),
        ("{'REASONING': ['single quotes'], 'SCORE': 'PASS'}", "PASS"),
        # Lynx-8B running past its stop token: two objects, the first one counts
        ('{"REASONING": ["a"], "SCORE": "FAIL"}\n{"REASONING": ["b"], "SCORE": "PASS"}', "FAIL"),
        ('{"analysis": {"REASONING": ["nested"], "SCORE": "PASS"}}', "PASS"),
        ("PASS", "PASS"),
        ("SCORE: FAIL", "FAIL"),
    ],
)
def test_parses(text, verdict):
    assert parse_verdict(text, LABELS).verdict == verdict


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "I cannot decide whether this should PASS or FAIL.",
        '{"REASONING": ["truncated because max tokens ran out',
        '{"REASONING": ["x"], "SCORE": "MAYBE"}',
        '{"SCORE": 1}',
    ],
)
def test_unparsed_is_never_guessed(text):
    assert parse_verdict(text, LABELS).verdict is None


def test_reasoning_is_kept():
    parsed = parse_verdict('{"REASONING": ["one", "two"], "SCORE": "PASS"}', LABELS)
    assert parsed.reasoning == "one\ntwo"


def test_three_label_plain_reply():
    labels = ("Entailment", "Neutral", "Contradiction")
    assert parse_verdict("Contradiction", labels).verdict == "Contradiction"
    assert parse_verdict('{"SCORE": "neutral"}', labels).verdict == "Neutral"
