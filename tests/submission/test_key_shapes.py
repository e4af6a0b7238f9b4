"""API-key shapes: the providers' prefixes are found as whole words, and the real benchmark texts have none
(a false alarm there would reject every submission of the task)."""

from __future__ import annotations

import pytest

from halubench.data import load_task
from halubench.submission import find_key

# Key-shaped strings are assembled at run time, so that no key-shaped text is tracked in the repository.
AWS_EXAMPLE = "AKIA" + "IOSFODNN7" + "EXAMPLE"  # AWS's documented example key id


@pytest.mark.parametrize("text, kind", [
    ("key sk-" + "a1B2c3D4e5" * 3, "OpenAI API key"),
    ("sk-proj-" + "Zz09_-" * 8, "OpenAI API key"),
    ('"api_key": "sk-ant-api03-' + "q" * 40 + '"', "Anthropic API key"),
    (f"aws {AWS_EXAMPLE} here", "AWS access key id"),
    ("token=hf_" + "AbCdEfGhIj" * 3 + "Kl", "Hugging Face token"),
    ("ghp_" + "x" * 36, "GitHub token"),
])
def test_each_providers_shape_is_found_and_masked(text, kind):
    found = find_key(["first line", text])
    assert found is not None and (found.line, found.kind) == (2, kind)
    assert len(found.masked) == 7 and found.masked.endswith("…")


@pytest.mark.parametrize("text", [
    "a risk" + "-adjusted-return-on-capital-measure-for-banks",  # "sk-" inside a word
    "the desk-" + "top" * 10,
    "sk-short",  # too short to be a key
    f"M{AWS_EXAMPLE}X",  # inside a longer word
    "hf_model_name",
])
def test_words_that_merely_contain_a_prefix_are_not_keys(text):
    assert find_key([text]) is None


def test_the_bundled_sample_has_no_key_shaped_text():
    path = load_task("halubench-sample").data_file
    assert find_key(path.read_text(encoding="utf-8").splitlines()) is None


def test_the_real_benchmark_texts_have_no_key_shaped_text(shared_data):
    files = sorted((shared_data / "halubench-like").glob("*.jsonl")) + sorted(
        (shared_data / "refchecker").rglob("*.json"))
    assert files
    for path in files:
        assert find_key(path.read_text(encoding="utf-8").splitlines()) is None, path
