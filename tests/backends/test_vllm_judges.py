"""The vLLM judges where vLLM is not installed (the default test session).

The engine itself runs in tests/backends/test_vllm_cpu.py (`nox -s vllm_cpu`).
"""

import hashlib
import importlib.util
import json
import os

import pytest
from conftest import assert_one_line_error, judge_spec, run_cli

from halubench.backends import VLLMEngineJudge, resolve_judge
from halubench.config import apply_pairs, discover

VLLM_JUDGES = {name: d.body for name, d in discover("judge").items() if d.body.get("backend") == "vllm"}
no_vllm = pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")


@no_vllm
@pytest.mark.parametrize("args", [
    ("--judge", "lynx-70b"),
    ("--judge", "lynx-8b", "--task", "halubench-sample"),
    ("--judge", "vllm:/models/my-judge", "--task", "halubench-sample"),
])
def test_without_vllm_one_line_says_what_to_install(tmp_path, args):
    result = run_cli("run", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert_one_line_error(result, "not installed", "pip install 'halubench[vllm]'", "--base-url")
    assert not (tmp_path / "results").exists()


def test_named_judges_cover_lynx_and_the_open_baselines():
    expected = {
        "lynx-8b": ("PatronusAI/Llama-3-Patronus-Lynx-8B-Instruct", 8192),
        "lynx-70b": ("PatronusAI/Llama-3-Patronus-Lynx-70B-Instruct", 8192),
        "lynx-8b-v1.1": ("PatronusAI/Llama-3-Patronus-Lynx-8B-Instruct-v1.1", 131072),
        "lynx-70b-v1.1": ("PatronusAI/Llama-3-Patronus-Lynx-70B-Instruct-v1.1", 131072),
        "llama-3-8b-instruct": ("meta-llama/Meta-Llama-3-8B-Instruct", 8192),
        "llama-3-70b-instruct": ("meta-llama/Meta-Llama-3-70B-Instruct", 8192),
        "llama-3.1-8b-instruct": ("meta-llama/Llama-3.1-8B-Instruct", 131072),
        "llama-3.1-70b-instruct": ("meta-llama/Llama-3.1-70B-Instruct", 131072),
        "mistral-7b-instruct": ("mistralai/Mistral-7B-Instruct-v0.3", 32768),
        "qwen2.5-7b-instruct": ("Qwen/Qwen2.5-7B-Instruct", 32768),
        "qwen2.5-72b-instruct": ("Qwen/Qwen2.5-72B-Instruct", 32768),
    }
    assert set(VLLM_JUDGES) == set(expected)
    for name, body in VLLM_JUDGES.items():
        model, context = expected[name]
        assert body["model"] == model, name
        assert body["generation"]["temperature"] == 0 and body["generation"]["max_tokens"] == 600, name
        engine = body["engine"]
        assert engine["max_model_len"] == context and engine["dtype"] == "bfloat16", name
        assert engine["tensor_parallel_size"] == "auto" and "quantization" in engine, name
        if "Llama" in model:
            assert body["generation"]["stop"] == ["<|eot_id|>"], name


def test_judge_args_override_nested_settings_with_yaml_types():
    settings = {"engine": {"tensor_parallel_size": "auto", "dtype": "bfloat16"}, "threshold": 0.75}
    merged = apply_pairs(settings, [
        "engine.tensor_parallel_size=8", "engine.quantization=null", "generation.stop=[a, b]", "threshold=0.9",
    ], "--judge-arg", "x=1")
    assert merged == {
        "engine": {"tensor_parallel_size": 8, "dtype": "bfloat16", "quantization": None},
        "generation": {"stop": ["a", "b"]},
        "threshold": 0.9,
    }
    assert settings["engine"]["tensor_parallel_size"] == "auto"  # the judge file's settings stay untouched


def test_judge_arg_reaches_the_judge_and_the_results(tmp_path):
    base = ("run", "--judge", "lexical", "--task", "halubench-sample", "--no-cache")
    assert run_cli(*base, cwd=tmp_path).returncode == 0
    [default_file] = (tmp_path / "results/halubench-sample/lexical").glob("*.json")
    default = json.loads(default_file.read_text())
    result = run_cli(*base, "--judge-arg", "threshold=0.99", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # another judge setting is another configuration: both runs stay on disk
    [strict_file] = set((tmp_path / "results/halubench-sample/lexical").glob("*.json")) - {default_file}
    strict = json.loads(strict_file.read_text())
    assert strict["provenance"]["judge"]["threshold"] == 0.99
    fail_share = [s["metrics"]["overall"]["confusion"]["PASS"]["FAIL"] for s in (default, strict)]
    assert fail_share[1] > fail_share[0]  # a stricter threshold calls more faithful answers FAIL


def test_malformed_judge_arg_is_one_line(tmp_path):
    result = run_cli("run", "--judge", "lexical", "--task", "halubench-sample", "--judge-arg", "threshold",
                     cwd=tmp_path)
    assert_one_line_error(result, "--judge-arg 'threshold': write KEY=VALUE, e.g. --judge-arg engine.")
    result = run_cli("run", "--judge", "lexical", "--task", "halubench-sample", "--judge-arg", "threshold=[0.5",
                     cwd=tmp_path)
    assert_one_line_error(result, "--judge-arg 'threshold=[0.5': the value is not valid YAML")


def _engine_judge(model: str, **settings) -> VLLMEngineJudge:
    return VLLMEngineJudge(judge_spec("test", "vllm", model, **settings))


def test_cache_identity_follows_the_weights_not_the_placement(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    first = _engine_judge(str(folder)).cache_identity()
    assert first["backend"] == "vllm" and first["path"] == str(folder.resolve())
    assert first["generation"] == {"temperature": 0.0, "max_tokens": 600}
    spread = _engine_judge(str(folder), engine={"tensor_parallel_size": 8, "pipeline_parallel_size": 2})
    assert spread.cache_identity() == first
    assert _engine_judge(str(folder), engine={"dtype": "float16"}).cache_identity() != first
    assert _engine_judge(str(folder), generation={"max_tokens": 100}).cache_identity() != first
    (folder / "model.safetensors").write_bytes(b"retrained")
    os.utime(folder / "model.safetensors", ns=(1, 1))
    assert _engine_judge(str(folder)).cache_identity()["fingerprint"] != first["fingerprint"]


COMMITS = ("1" * 40, "2" * 40)


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """A Hugging Face cache on disk holding two commits of one repo's small files, and no network."""
    import huggingface_hub.constants

    repo = tmp_path / "hub" / "models--PatronusAI--Llama-3-Patronus-Lynx-70B-Instruct"
    for number, commit in enumerate(COMMITS):
        snapshot = repo / "snapshots" / commit
        snapshot.mkdir(parents=True)
        (snapshot / "config.json").write_text("{}")
        (snapshot / "tokenizer_config.json").write_text(json.dumps({"chat_template": f"template {number}"}))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMITS[0])
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    return repo


def test_cache_identity_of_a_hub_model_names_its_commit_and_template(hub_cache, tmp_path):
    """Resolved from the local snapshot (no engine, no network): main moving on changes the key."""
    lynx = resolve_judge("lynx-70b")
    identity = VLLMEngineJudge(lynx).cache_identity()
    assert identity["model"] == "PatronusAI/Llama-3-Patronus-Lynx-70B-Instruct"
    assert identity["commit"] == COMMITS[0]
    assert identity["chat_template_sha256"] == hashlib.sha256(b"template 0").hexdigest()
    assert identity["generation"]["stop"] == ["<|eot_id|>"]
    assert "tensor_parallel_size" not in identity["engine"] and identity["engine"]["max_model_len"] == 8192
    pinned = VLLMEngineJudge(resolve_judge("lynx-70b", overrides=[f"revision={COMMITS[1]}"])).cache_identity()
    assert pinned["commit"] == COMMITS[1] and pinned["chat_template_sha256"] != identity["chat_template_sha256"]
    (hub_cache / "refs" / "main").write_text(COMMITS[1])
    assert VLLMEngineJudge(lynx).cache_identity()["commit"] == COMMITS[1]
    # A chat_template file of the judge's own replaces the model's, by content.
    (tmp_path / "mine.jinja").write_text("{{ messages }}")
    own = VLLMEngineJudge(resolve_judge("lynx-70b", overrides=[f"chat_template={tmp_path / 'mine.jinja'}"]))
    assert own.cache_identity()["chat_template_sha256"] == hashlib.sha256(b"{{ messages }}").hexdigest()


def test_a_hub_model_not_found_is_one_judge_error(hub_cache):
    from halubench.errors import JudgeError

    judge = VLLMEngineJudge(resolve_judge("lynx-8b"))
    with pytest.raises(JudgeError, match=r"cannot find PatronusAI/Llama-3-Patronus-Lynx-8B-Instruct@main: no such "
                                         r"folder, and not in the Hugging Face cache or on the hub .*"
                                         r"huggingface-cli download"):
        judge.cache_identity()


def test_missing_chat_template_file_is_a_config_error(tmp_path):
    from halubench.errors import ConfigError

    with pytest.raises(ConfigError, match="chat_template file .*missing.jinja does not exist"):
        _engine_judge("some/model", chat_template=str(tmp_path / "missing.jinja"))


# --- server mode: the same judges against `vllm serve` (here a loopback server speaking its wire format) ---


def test_named_vllm_judge_with_base_url_talks_to_the_server(tmp_path):
    """No vLLM needed here: the judge is an OpenAI-compatible client of the server."""
    from fake_llm_server import FakeLLMServer

    with FakeLLMServer() as server:
        result = run_cli("run", "--judge", "lynx-8b", "--task", "halubench-sample", "--domain", "DROP",
                         "--base-url", server.openai_base_url, cwd=tmp_path,
                         env={"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
        calls = [entry.call for entry in server.log]
    assert result.returncode == 0, result.stderr
    assert len(calls) == 16 and {c.api for c in calls} == {"openai"}
    assert {c.model for c in calls} == {"PatronusAI/Llama-3-Patronus-Lynx-8B-Instruct"}
    for call in calls:
        assert call.body["temperature"] == 0 and call.body["max_tokens"] == 600
        assert call.body["stop"] == ["<|eot_id|>"]
        assert not {"engine", "max_model_len", "tensor_parallel_size"} & set(call.body)
    [path] = (tmp_path / "results/halubench-sample/lynx-8b").glob("*.json")
    summary = json.loads(path.read_text())
    assert summary["n"] == 16 and summary["metrics"]["overall"]["errors"] == 0
    assert summary["provenance"]["judge"]["base_url"] == server.openai_base_url
    # A local server is recorded as the endpoint, and marked as not the provider's own.
    assert summary["endpoint"]["url"] == server.openai_base_url.rstrip("/") and not summary["endpoint"]["official"]


def test_base_url_in_the_judge_settings_and_a_served_model_name(tmp_path):
    from fake_llm_server import FakeLLMServer

    with FakeLLMServer() as server:
        result = run_cli("run", "--judge", "lynx-70b", "--task", "halubench-sample", "--domain", "covidQA",
                         "--judge-arg", f"base_url={server.openai_base_url}", "--judge-arg", "served_model_name=lynx",
                         cwd=tmp_path, env={"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
        models = {entry.call.model for entry in server.log}
    assert result.returncode == 0, result.stderr
    assert models == {"lynx"}
