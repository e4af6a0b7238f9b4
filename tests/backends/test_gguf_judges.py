"""GGUF judges without llama.cpp: ``gguf:`` names, settings, and the identity by file content.

The model itself runs in tests/backends/test_llamacpp.py (`nox -s llama_cpp`).
Here the files are tiny GGUF headers (tests/gguf_files.py): what halubench
reads from a GGUF file without llama.cpp is all the identity needs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil

import pytest
from conftest import assert_one_line_error, run_cli
from gguf_files import LLAMA3_TEMPLATE, write_gguf

from halubench.backends import LlamaCppJudge, build_judge, resolve_judge
from halubench.errors import ConfigError, JudgeError


@pytest.fixture(autouse=True)
def digest_store(tmp_path, monkeypatch):
    """The remembered sha256 digests live beside the reply cache: keep them in this test's folder."""
    monkeypatch.setenv("HALUBENCH_CACHE", str(tmp_path / "cache" / "replies.sqlite"))
    return tmp_path / "cache" / "gguf-sha256.json"


def judge(name: str, *overrides: str) -> LlamaCppJudge:
    built = build_judge(resolve_judge(name, overrides=overrides))
    assert isinstance(built, LlamaCppJudge)
    return built


def test_gguf_names_a_local_file_or_a_hub_file(tmp_path):
    local = write_gguf(tmp_path / "model.gguf")
    spec = resolve_judge(f"gguf:{local}")
    assert spec.backend == "llamacpp" and spec.model == str(local)
    assert spec.name == "gguf:model.gguf"  # the file's name: a local path never reaches the results
    assert build_judge(spec).reference.repo is None
    hub = judge("gguf:PatronusAI/Some-GGUF/sub/model-q4_k_m.gguf", "revision=abc123").reference
    assert (hub.repo, hub.path, hub.revision) == ("PatronusAI/Some-GGUF", "sub/model-q4_k_m.gguf", "abc123")
    # A judge file may name the repository and the file apart (a long id stays readable in `halubench judges`).
    apart = judge("gguf:PatronusAI/Some-GGUF", "file=sub/model-q4_k_m.gguf", "revision=abc123")
    assert apart.reference == hub


@pytest.mark.parametrize(("name", "overrides", "needle"), [
    ("gguf:", (), "names no model; write gguf:<model>"),
    ("gguf:owner/repo/weights.bin", (), "neither a local file nor a hub file"),
    ("gguf:./here.gguf", ("revision=main",), "revision 'main' applies to a hub file"),
    ("gguf:/models/here.gguf", ("file=x.gguf",), "with file: x.gguf, model is the hub repository"),
])
def test_a_wrong_name_is_one_config_error(name, overrides, needle):
    with pytest.raises(ConfigError, match=needle):
        build_judge(resolve_judge(name, overrides=overrides))


def test_settings_are_typed_and_a_misspelt_key_stops_the_run(tmp_path):
    path = write_gguf(tmp_path / "m.gguf")
    settings = resolve_judge(f"gguf:{path}", overrides=["n_ctx=256", "generation.max_tokens=8"]).settings
    assert settings.n_ctx == 256 and settings.generation.max_tokens == 8 and settings.generation.temperature == 0
    result = run_cli("run", "--judge", f"gguf:{path}", "--judge-arg", "n_threds=2", cwd=tmp_path)
    assert_one_line_error(result, "--judge-arg n_threds=2", "n_threads")
    result = run_cli("run", "--judge", f"gguf:{path}", "--judge-arg", "generation.temprature=0.5", cwd=tmp_path)
    assert_one_line_error(result, "generation.temprature", "temperature")


def test_a_copy_is_the_same_judge_and_another_file_is_not(tmp_path):
    """Identity by content: the sha256, never the path; both the run's configuration and the cache key."""
    original = write_gguf(tmp_path / "lynx-q4.gguf")
    copy = tmp_path / "elsewhere" / "renamed.gguf"
    copy.parent.mkdir()
    shutil.copyfile(original, copy)
    other = write_gguf(tmp_path / "lynx-q8.gguf", weights=b"\1" * 64)  # same header, other weights
    first, second, third = judge(f"gguf:{original}"), judge(f"gguf:{copy}"), judge(f"gguf:{other}")
    assert first.config_identity() == second.config_identity() == second.cache_identity()
    assert first.config_identity()["gguf_sha256"] != third.config_identity()["gguf_sha256"]
    assert "model" not in first.config_identity() and str(tmp_path) not in json.dumps(first.config_identity())
    assert first.model_version.startswith("lynx-q4.gguf@sha256:")
    assert second.model_version.startswith("renamed.gguf@sha256:")


def test_the_identity_holds_what_changes_a_reply_and_not_placement(tmp_path):
    path = write_gguf(tmp_path / "m.gguf")
    base = judge(f"gguf:{path}").config_identity()
    assert base["n_ctx"] == 8192  # from the file's llama.context_length
    assert base["generation"]["max_tokens"] == 600 and base["generation"]["temperature"] == 0
    placed = judge(f"gguf:{path}", "n_threads=3", "n_threads_batch=5", "n_parallel=8", "n_gpu_layers=0",
                   "n_batch=64").config_identity()
    assert placed == base
    for override in ("n_ctx=256", "generation.max_tokens=100", "generation.temperature=0.7",
                     "generation.stop=[END]", "flash_attn=false"):
        assert judge(f"gguf:{path}", override).config_identity() != base, override


def test_a_chat_template_file_overrides_the_files_own_and_is_named_by_its_hash(tmp_path):
    path = write_gguf(tmp_path / "m.gguf")
    folder = tmp_path / "judges"
    folder.mkdir()
    (folder / "mine.jinja").write_text(LLAMA3_TEMPLATE + "{# my own #}")
    (folder / "mine.yaml").write_text(f"judge: mine\nbackend: llamacpp\nmodel: {path}\nchat_template: mine.jinja\n")
    own = judge(f"gguf:{path}").config_identity()
    overridden = build_judge(resolve_judge("mine", [folder])).config_identity()
    assert overridden["chat_template_sha256"] != own["chat_template_sha256"]
    assert "chat_template" not in overridden and overridden["gguf_sha256"] == own["gguf_sha256"]


def test_the_digest_is_remembered_until_the_file_changes(tmp_path, digest_store):
    path = write_gguf(tmp_path / "m.gguf")
    first = judge(f"gguf:{path}").config_identity()["gguf_sha256"]
    remembered = json.loads(digest_store.read_text())
    assert list(remembered.values()) == [first]
    # A remembered digest is read back, not recomputed (this one is planted to prove it) ...
    digest_store.write_text(json.dumps({key: "f" * 64 for key in remembered}))
    assert judge(f"gguf:{path}").config_identity()["gguf_sha256"] == "f" * 64
    # ... until the file is rewritten: a new size or modification time is a new key.
    write_gguf(path, weights=b"\2" * 64)
    os.utime(path, ns=(1, 1))
    rewritten = judge(f"gguf:{path}").config_identity()["gguf_sha256"]
    assert rewritten not in (first, "f" * 64)


@pytest.mark.parametrize(("content", "needle"), [
    (b"PK\3\4 a zip, not a model", "is not a GGUF file"),
    (b"GGUF" + (1).to_bytes(4, "little") + bytes(16), "GGUF version 1"),
    (b"GGUF" + (3).to_bytes(4, "little") + bytes(8) + (5).to_bytes(8, "little"), "damaged GGUF header"),
])
def test_a_file_that_is_not_gguf_says_so(tmp_path, content, needle):
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(JudgeError, match=needle):
        judge(f"gguf:{path}").config_identity()


def test_a_missing_file_or_template_or_context_is_one_line(tmp_path):
    with pytest.raises(JudgeError, match=r"no GGUF file at /no/such\.gguf"):
        judge("gguf:/no/such.gguf").config_identity()
    bare = write_gguf(tmp_path / "bare.gguf", {"general.architecture": "llama"})
    with pytest.raises(ConfigError, match="carries no chat template; give one as chat_template"):
        judge(f"gguf:{bare}").config_identity()
    no_context = write_gguf(tmp_path / "nc.gguf", {"general.architecture": "llama",
                                                    "tokenizer.chat_template": LLAMA3_TEMPLATE})
    with pytest.raises(ConfigError, match="does not say its context length; set n_ctx"):
        judge(f"gguf:{no_context}").config_identity()
    assert judge(f"gguf:{no_context}", "n_ctx=512").config_identity()["n_ctx"] == 512


def test_long_arrays_such_as_the_vocabulary_are_walked_past(tmp_path):
    metadata = {"general.architecture": "llama", "tokenizer.ggml.tokens": [f"t{i}" for i in range(500)],
                "tokenizer.ggml.token_type": list(range(500)), "llama.context_length": 4096,
                "tokenizer.chat_template": LLAMA3_TEMPLATE}
    path = write_gguf(tmp_path / "vocab.gguf", metadata)
    assert judge(f"gguf:{path}").config_identity()["n_ctx"] == 4096


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is not None, reason="llama-cpp-python is installed here")
def test_without_llama_cpp_one_line_says_what_to_install(tmp_path):
    path = write_gguf(tmp_path / "m.gguf")
    result = run_cli("run", "--judge", f"gguf:{path}", "--task", "halubench-sample", cwd=tmp_path)
    assert_one_line_error(result, "not installed", "pip install 'halubench[gguf]'", "--base-url")
    assert not (tmp_path / "results").exists()


def test_the_gguf_judge_files_name_lynx_on_the_hub():
    expected = {
        "lynx-8b-gguf": ("PatronusAI/Llama-3-Patronus-Lynx-8B-Instruct-Q4_K_M-GGUF", "q4_k_m", 8192),
        "lynx-8b-v1.1-gguf": ("mradermacher/Llama-3-Patronus-Lynx-8B-Instruct-v1.1-GGUF", "Q4_K_M", 32768),
    }
    for name, (repo, quant, n_ctx) in expected.items():
        built = judge(name)
        assert built.reference.repo == repo and quant in built.reference.path, name
        assert built.reference.path.endswith(".gguf") and built.settings.file == built.reference.path
        settings = built.settings
        assert settings.n_ctx == n_ctx and settings.generation.temperature == 0
        assert settings.generation.max_tokens == 600 and settings.generation.stop == ["<|eot_id|>"]
        assert settings.kind == "fine-tuned" and settings.license == "CC-BY-NC-4.0"
