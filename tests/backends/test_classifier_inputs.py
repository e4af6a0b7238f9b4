"""What a classifier judge reads, without torch: pairs per task kind, class roles, chunk windows."""

import pytest

from halubench.backends import Pair, chunk_spans, hypothesis_rule, label_roles, render_pair
from halubench.errors import ConfigError


def test_pair_rule_follows_the_task_loader():
    fields = {"question": " Who built it? ", "passage": "Ann built it.", "answer": "Ann",
              "triplet": '("Ann", "built", "it")'}
    assert render_pair(fields, hypothesis_rule("halubench")) == Pair("Ann built it.", "Who built it? Ann")
    assert render_pair(fields, hypothesis_rule("refchecker-claims")) == Pair("Ann built it.", "Ann")
    assert render_pair(fields, hypothesis_rule("refchecker-responses")) == Pair("Ann built it.", "Ann")
    with pytest.raises(ConfigError, match="'passage' field"):
        render_pair({"answer": "x"}, "question_answer")


def test_roles_from_id2label_or_overrides():
    assert label_roles({0: "ENTAILMENT", 1: "neutral", 2: "Contradiction"}, None, "m") == [
        "entailment", "neutral", "contradiction"]
    assert label_roles({0: "LABEL_0", 1: "LABEL_1"}, {0: "unsupported", 1: "supported"}, "m") == [
        "not_entailment", "entailment"]
    with pytest.raises(ConfigError, match=r"class 0 \('LABEL_0'\).*labels\.0="):
        label_roles({0: "LABEL_0", 1: "LABEL_1"}, None, "m")
    with pytest.raises(ConfigError, match="neither two-way"):
        label_roles({0: "entailment", 1: "neutral"}, None, "m")


def test_windows_overlap_and_cover_the_passage():
    text = " ".join(f"w{i:02d}" for i in range(50))  # 50 tokens of 3 characters, one space apart
    offsets = [(4 * i, 4 * i + 3) for i in range(50)]
    spans = chunk_spans(offsets, len(text), budget=20, overlap=5)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    words = [text[a:b].split() for a, b in spans]
    assert all(len(w) <= 20 for w in words)
    for before, after in zip(words[:-1], words[1:], strict=True):
        assert before[-5:] == after[:5]  # consecutive windows share 5 tokens
    assert sorted({w for chunk in words for w in chunk}) == text.split()  # nothing dropped
    assert chunk_spans(offsets, len(text), budget=50, overlap=5) == [(0, len(text))]
