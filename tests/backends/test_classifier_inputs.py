"""What a classifier judge reads, without torch: pairs per task kind, class roles, chunk windows."""

import pytest

from halubench.backends import Pair, chunk_spans, hypothesis_rule, label_roles, render_pair, split_sentences
from halubench.errors import ConfigError


def test_pair_rule_follows_the_task_loader():
    fields = {"question": " Who built it? ", "passage": "Ann built it.", "answer": "Ann",
              "triplet": '("Ann", "built", "it")'}
    assert render_pair(fields, hypothesis_rule("halubench")) == Pair("Ann built it.", "Who built it? Ann")
    assert render_pair(fields, hypothesis_rule("refchecker-claims")) == Pair("Ann built it.", "Ann")
    assert render_pair(fields, hypothesis_rule("refchecker-responses")) == Pair("Ann built it.", "Ann")
    with pytest.raises(ConfigError, match="'passage' field"):
        render_pair({"answer": "x"}, "question_answer")


def test_sentences_are_cut_simply_and_keep_every_word():
    text = ('No. The U.S. Army grew by 3.5 percent in 2020. Revenue was $1.2 billion! "Really?" He said so.\n'
            "1. The first item of the list\n2. The second one")
    assert split_sentences(text) == [
        "No. The U.S. Army grew by 3.5 percent in 2020.",  # short pieces join the next sentence
        "Revenue was $1.2 billion!",
        '"Really?" He said so.',
        "1. The first item of the list",
        "2. The second one",  # a line break ends a sentence
    ]
    assert split_sentences("It opened in 1900.") == ["It opened in 1900."]
    assert split_sentences("It opened in 1900. Yes") == ["It opened in 1900. Yes"]  # a short end joins the last
    assert split_sentences("") == []


def test_a_long_answer_gives_one_hypothesis_per_sentence_each_with_its_question():
    answer = "It opened in 1900 in Bath. It closed in 1950 for good."
    fields = {"question": " When? ", "passage": "P.", "answer": answer}
    pair = render_pair(fields, "question_answer")
    assert pair.hypothesis == "When? It opened in 1900 in Bath. It closed in 1950 for good."
    assert pair.sentences == ("When? It opened in 1900 in Bath.", "When? It closed in 1950 for good.")
    response = render_pair(fields, "response")
    assert response.sentences == ("It opened in 1900 in Bath.", "It closed in 1950 for good.")
    assert render_pair({**fields, "answer": "Ann built it. Bob built it too."}, "claim").sentences == ()


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
