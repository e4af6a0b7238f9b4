"""The verdict parser over reply shapes seen from real judges: each row says what the reply means.

A row's expected verdict is None where a careful human reader could not say
which label the judge chose: those replies must stay unparsed, never guessed.
"""

import pytest

from halubench.scoring import parse_verdict

PASS_FAIL = ("PASS", "FAIL")
THREE_WAY = ("Entailment", "Neutral", "Contradiction")

# A reply cut at max_tokens inside Lynx's JSON: prose in the reasoning says "score: pass",
# the real key on the last line says FAIL.
TRUNCATED_WITH_PROSE = (
    '{"REASONING": ["The question asks for the year; a careless score: pass would ignore the date.",\n'
    '"The answer says 1998 but the document says 1989."],\n'
    '"SCORE": "FAIL"'
)

SHAPES = [
    # --- plain JSON, as the prompt asks ---------------------------------------------------------
    ('{"REASONING": ["the date matches"], "SCORE": "PASS"}', PASS_FAIL, "PASS"),
    ('{"reasoning": "ok", "score": "fail"}', PASS_FAIL, "FAIL"),
    ('{"Reasoning": ["a", "b"], "Score": "FAIL."}', PASS_FAIL, "FAIL"),
    ('{"SCORE": "PASS", "REASONING": "score first"}', PASS_FAIL, "PASS"),
    ('{"analysis": {"REASONING": ["nested"], "SCORE": "PASS"}}', PASS_FAIL, "PASS"),
    ('{"label": "PASS", "score": 0.93}', PASS_FAIL, "PASS"),
    # --- fences and preambles -------------------------------------------------------------------
    ('```json\n{"REASONING": ["x"], "SCORE": "FAIL"}\n```', PASS_FAIL, "FAIL"),
    ('```\n{"SCORE": "PASS"}\n```\nLet me know if you need more.', PASS_FAIL, "PASS"),
    ('Sure! Here is my analysis.\n{"reasoning": "ok", "score": "pass"}', PASS_FAIL, "PASS"),
    ("Here is the JSON you asked for:\n\n```json\n{\n  \"REASONING\": [\"fine\"],\n  \"SCORE\": \"FAIL\"\n}\n```",
     PASS_FAIL, "FAIL"),
    # --- Python dicts (single quotes) -----------------------------------------------------------
    ("{'REASONING': ['single quotes'], 'SCORE': 'PASS'}", PASS_FAIL, "PASS"),
    ("{'SCORE': 'FAIL'}", PASS_FAIL, "FAIL"),
    # --- Lynx-8B running past its stop token: a second object; the first one is the answer -------
    ('{"REASONING": ["a"], "SCORE": "FAIL"}\n{"REASONING": ["b"], "SCORE": "PASS"}', PASS_FAIL, "FAIL"),
    ('{"REASONING": ["a"], "SCORE": "PASS"}\n\n{"REASONING": ["a"], "SCORE": "PASS"}\n{"REAS', PASS_FAIL, "PASS"),
    # --- key lines, markdown, case, punctuation -------------------------------------------------
    ("SCORE: FAIL", PASS_FAIL, "FAIL"),
    ("score: pass", PASS_FAIL, "PASS"),
    ("**SCORE**: **PASS**", PASS_FAIL, "PASS"),
    ("**Verdict:** FAIL", PASS_FAIL, "FAIL"),
    ("**Verdict:**\n\nPASS", PASS_FAIL, "PASS"),
    ("The answer is supported by the passage.\n\nFinal verdict: PASS.", PASS_FAIL, "PASS"),
    ("Reasoning: the passage gives 1989, the answer 1998.\nScore: FAIL!", PASS_FAIL, "FAIL"),
    ("- Reasoning: matches\n- Score: `PASS`", PASS_FAIL, "PASS"),
    ("SCORE = FAIL", PASS_FAIL, "FAIL"),
    ("Score: PASS\n\nTo restate, SCORE: PASS", PASS_FAIL, "PASS"),  # key lines that agree
    ("PASS", PASS_FAIL, "PASS"),
    ("**FAIL**", PASS_FAIL, "FAIL"),
    ("fail.", PASS_FAIL, "FAIL"),
    # --- truncation -----------------------------------------------------------------------------
    (TRUNCATED_WITH_PROSE, PASS_FAIL, "FAIL"),
    ('{"REASONING": ["the passage agrees"], "SCORE": "PASS"', PASS_FAIL, "PASS"),
    ("{'REASONING': ['cut off'], 'SCORE': 'FAIL'", PASS_FAIL, "FAIL"),
    ('{"REASONING": ["truncated because max tokens ran out', PASS_FAIL, None),
    ('{"REASONING": ["x"], "SCORE": "PA', PASS_FAIL, None),
    # --- ambiguous: no verdict ------------------------------------------------------------------
    ('{"SCORE": "PASS/FAIL"}', PASS_FAIL, None),
    ('{"REASONING": ["x"], "SCORE": "PASS or FAIL"}', PASS_FAIL, None),
    ("SCORE: PASS or FAIL", PASS_FAIL, None),
    ("SCORE: PASS/FAIL", PASS_FAIL, None),
    ("Score: PASS, FAIL", PASS_FAIL, None),
    ("Underscore: PASS", PASS_FAIL, None),
    ('"Underscore": "PASS"', PASS_FAIL, None),
    ("Scores: PASS", PASS_FAIL, None),
    ("SCORE: PASS\nOn reflection, SCORE: FAIL", PASS_FAIL, None),  # key lines that disagree
    ("Score: PASS\nScore: FAIL", PASS_FAIL, None),
    ('{"REASONING": ["x"], "SCORE": "MAYBE"}', PASS_FAIL, None),
    ('{"SCORE": 1}', PASS_FAIL, None),
    ("Score: 8/10", PASS_FAIL, None),
    ("I cannot decide whether this should PASS or FAIL.", PASS_FAIL, None),
    ("PASS FAIL", PASS_FAIL, None),
    # --- refusals and empty content -------------------------------------------------------------
    ("I cannot help with that.", PASS_FAIL, None),
    ("I'm sorry, but I can't assist with evaluating this content.", PASS_FAIL, None),
    ("", PASS_FAIL, None),
    ("   \n", PASS_FAIL, None),
    (None, PASS_FAIL, None),
    # --- RefChecker's checker: a bare three-way label -------------------------------------------
    ("Entailment", THREE_WAY, "Entailment"),
    ("Contradiction.", THREE_WAY, "Contradiction"),
    ("neutral", THREE_WAY, "Neutral"),
    ("  Neutral\n", THREE_WAY, "Neutral"),
    ('{"SCORE": "neutral"}', THREE_WAY, "Neutral"),
    ("Label: Contradiction", THREE_WAY, "Contradiction"),
    ("Entailment or Neutral", THREE_WAY, None),
    ("Neutral/Contradiction", THREE_WAY, None),
    ("Label: Neutral, Contradiction", THREE_WAY, None),
    ("PASS", THREE_WAY, None),  # not one of this task's labels
]


@pytest.mark.parametrize("text, labels, verdict", SHAPES)
def test_reply_shapes(text, labels, verdict):
    assert parse_verdict(text, labels).verdict == verdict


def test_reasoning_is_kept():
    parsed = parse_verdict('{"REASONING": ["one", "two"], "SCORE": "PASS"}', PASS_FAIL)
    assert parsed.reasoning == "one\ntwo"
