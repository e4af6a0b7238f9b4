"""The real `lm_eval` command running the task pack, and its output imported as halubench runs.

Runs in the heavy session (`nox -s lm_eval`), which installs lm-evaluation-harness and vLLM's
CPU build. Two models: lm-eval's `local-chat-completions` against the loopback server, whose
replies have known verdicts (so lm-eval's reported accuracy must equal the planted one), and
lm-eval's `vllm` model on a tiny random Llama (noise: the point is the path and the unparsed
count). Each output is imported and checked against a native `halubench run` on the same replies.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import run_cli
from fake_llm_server import FakeLLMServer, Text, verdict_reply
from refchecker_data import annotations_dir, write_references
from tiny_llama import build_tiny_llama
from vllm_serving import vllm_server

from halubench.backends import resolve_judge
from halubench.config import PromptRenderer
from halubench.data import load_task
from halubench.results import runs_under
from halubench.run import choose_template
from halubench.scoring import parse_verdict

pytestmark = pytest.mark.lm_eval

SAMPLE = load_task("halubench-sample").data_file
SUBTASKS = {"halueval": "halueval", "RAGTruth": "ragtruth", "FinanceBench": "financebench", "DROP": "drop",
            "covidQA": "covidqa", "pubmedQA": "pubmedqa"}
# No hub, ever; a small KV cache keeps vLLM within a CI runner's memory.
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "VLLM_CPU_KVCACHE_SPACE": "1", "OPENAI_API_KEY": "EMPTY"}
MAX_MODEL_LEN = 4096  # every sample prompt fits with 600 new tokens: lm-eval would cut a longer one
LM_EVAL_TIMEOUT = 1200


def lm_eval_process(out: Path, *args: str) -> subprocess.CompletedProcess:
    """`lm_eval run` with the pack, found with `halubench lm-eval-tasks`."""
    pack = run_cli("lm-eval-tasks", cwd=out.parent).stdout.strip()
    command = [sys.executable, "-m", "lm_eval", "run", "--include_path", pack, "--output_path", str(out),
               "--log_samples", "--apply_chat_template", *args]
    return subprocess.run(command, cwd=out.parent, env={**os.environ, **OFFLINE}, capture_output=True, text=True,
                          timeout=LM_EVAL_TIMEOUT)


def lm_eval(out: Path, *args: str) -> dict:
    """`lm_eval run` that must succeed; returns its results JSON."""
    done = lm_eval_process(out, *args)
    assert done.returncode == 0, done.stderr[-4000:]
    [results] = out.rglob("results_*.json")
    return json.loads(results.read_text())


def sample_metadata(**extra: str) -> str:
    return json.dumps({"data_files": str(SAMPLE), **extra})


def native_prompts(task_name: str = "halubench", data: Path = SAMPLE, options: dict | None = None) -> dict:
    """id -> (sample, the user message a native run sends)."""
    task = load_task(task_name)
    if options:
        task = replace(task, options={**task.options, **options})
    renderer = PromptRenderer(choose_template(task, resolve_judge("openai:any"), None))
    return {s.id: (s, renderer.messages(s.fields)[0]["content"]) for s in task.load(data).samples}


def read_runs(results_dir: Path) -> dict[str, tuple[Path, dict, list[dict]]]:
    """task -> (summary path, summary, samples) of every run under ``results_dir``."""
    return {run.task: (run.path, run.summary, run.samples()) for run in runs_under(results_dir)}


def assert_same_scores(imported: tuple, native: tuple) -> None:
    """Same metrics, and row by row the same reply, verdict and status."""
    _, summary_a, samples_a = imported
    _, summary_b, samples_b = native
    assert summary_a["metrics"] == summary_b["metrics"]
    keep = ("id", "gold", "verdict", "status", "correct", "raw", "groups", "fields")
    assert [{k: s[k] for k in keep} for s in samples_a] == [{k: s[k] for k in keep} for s in samples_b]


@pytest.fixture(scope="module")
def server():
    with FakeLLMServer() as running:
        yield running


@pytest.fixture(scope="module")
def loopback_run(tmp_path_factory, server) -> Path:
    """lm-eval's local-chat-completions on the bundled sample, against the loopback server."""
    out = tmp_path_factory.mktemp("loopback") / "lm-eval-out"
    model_args = f"model=judge-under-test,base_url={server.openai_base_url}/chat/completions,num_concurrent=4," \
                 "max_retries=1,tokenized_requests=False"
    server.reset()
    lm_eval(out, "--model", "local-chat-completions", "--model_args", model_args, "--tasks", "halubench",
            "--metadata", sample_metadata())
    return out


def test_lm_eval_reports_the_planted_accuracy(loopback_run, server):
    [results_file] = loopback_run.rglob("results_*.json")
    results = json.loads(results_file.read_text())
    prompts = native_prompts()
    # What the server said is what a native run would have been told: same prompt bytes, one call per row.
    sent = [call.call.body["messages"] for call in server.log]
    assert sorted(json.dumps(m) for m in sent) == sorted(
        json.dumps([{"role": "user", "content": p}]) for _, p in prompts.values())
    planted = defaultdict(list)
    for sample, prompt in prompts.values():
        verdict = verdict_reply(prompt).verdict
        planted[sample.groups["domain"]].append((verdict == sample.label, verdict is None))
    for domain, rows in planted.items():
        figures = results["results"][f"halubench_{SUBTASKS[domain]}"]
        assert figures["acc,none"] == pytest.approx(sum(c for c, _ in rows) / len(rows))
        assert figures["unparsed,none"] == pytest.approx(sum(u for _, u in rows) / len(rows))
    accuracies = [sum(c for c, _ in rows) / len(rows) for rows in planted.values()]
    assert results["groups"]["halubench"]["acc,none"] == pytest.approx(sum(accuracies) / 6)
    assert 0 < results["groups"]["halubench"]["unparsed,none"] < 1  # the server's junk replies are counted


def test_import_equals_a_native_run_on_the_same_replies(loopback_run, server, tmp_path):
    imported = run_cli("import", "lm-eval", str(loopback_run), "--results-dir", "imported", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "error" not in imported.stderr and "halubench · judge openai:judge-under-test" in imported.stdout
    native = run_cli("run", "--judge", "openai:judge-under-test", "--base-url", server.openai_base_url,
                     "--task", "halubench", "--data", str(SAMPLE), "--no-cache", "--results-dir", "native",
                     cwd=tmp_path, env={"OPENAI_API_KEY": "EMPTY"})
    assert native.returncode == 0, native.stderr
    a, b = read_runs(tmp_path / "imported")["halubench"], read_runs(tmp_path / "native")["halubench"]
    assert_same_scores(a, b)
    summary = a[1]
    for key in ("config", "config_id"):
        assert summary.get(key) == b[1].get(key)
    # lm-eval logs no tokens: no cost, and no mode (no judge was called by halubench)
    assert list(summary["usage"]) == list(b[1]["usage"])[:-2] and summary["usage"]["cost_usd"] is None
    lm = summary["provenance"]["lm_eval"]
    assert lm["version"] and lm["model"] == "local-chat-completions"
    assert lm["model_args"]["model"] == "judge-under-test" and lm["task_versions"]["halubench_drop"] == 1.0
    paired = run_cli("compare", str(a[0]), str(b[0]), cwd=tmp_path)
    assert paired.returncode == 0, paired.stderr
    assert "0 rows where the verdicts differ" in paired.stdout and "left out" not in paired.stdout


def test_an_imported_run_is_submitted_and_verified_like_a_native_one(loopback_run, tmp_path):
    """lm-eval's replies, imported, packed with `halubench submit` and accepted by `halubench verify` (a board
    over the sample file, the data lm-eval read)."""
    imported = run_cli("import", "lm-eval", str(loopback_run), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    packed = run_cli("submit", "openai:judge-under-test", "--task", "halubench", "--data", str(SAMPLE),
                     "--out", "submissions/lm-eval-judge", "--contact", "me@example.org",
                     "--card", "provider=Tests Inc.", "--card", "kind=llm", "--card", "weights=closed", cwd=tmp_path)
    assert packed.returncode == 0, packed.stderr
    card = (tmp_path / "submissions" / "lm-eval-judge" / "card.yaml").read_text()
    assert "made_by: lm-evaluation-harness 0.4" in card and "endpoint: 127.0.0.1:" in card
    checked = run_cli("verify", "submissions/lm-eval-judge", "--data", str(SAMPLE), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "all 96 rows of halubench" in checked.stdout and checked.stdout.splitlines()[-1] == "accepted"


def test_a_figure_lm_eval_reported_differently_is_an_error(loopback_run, tmp_path):
    tampered = tmp_path / "out"
    shutil.copytree(loopback_run, tampered)
    [results_file] = tampered.rglob("results_*.json")
    results = json.loads(results_file.read_text())
    results["results"]["halubench_drop"]["acc,none"] += 1 / 16
    results_file.write_text(json.dumps(results))
    done = run_cli("import", "lm-eval", str(tampered), cwd=tmp_path)
    assert done.returncode == 1
    assert "error: halubench_drop: lm-eval reported acc" in done.stderr
    assert "halubench's re-scoring of its 16 logged replies gives" in done.stderr
    assert read_runs(tmp_path / "results")["halubench"][1]["n"] == 96  # re-scored rows are still written


def test_a_file_lacking_domains_stops_with_one_line_then_runs_the_subtasks_it_names(server, tmp_path):
    """Two of the six domains: the `halubench` group stops before any call with one line (no IndexError
    from inside lm-eval), and the subtasks that line names run."""
    lines = [line for line in SAMPLE.read_text().splitlines() if json.loads(line)["source_ds"] in ("halueval", "DROP")]
    data = tmp_path / "rows.jsonl"
    data.write_text("\n".join(lines) + "\n")
    model_args = f"model=judge-under-test,base_url={server.openai_base_url}/chat/completions,num_concurrent=4," \
                 "max_retries=1,tokenized_requests=False"
    metadata = json.dumps({"data_files": str(data)})
    server.reset()
    stopped = lm_eval_process(tmp_path / "group", "--model", "local-chat-completions", "--model_args", model_args,
                              "--tasks", "halubench", "--metadata", metadata)
    assert stopped.returncode != 0 and "Traceback" not in stopped.stderr and "IndexError" not in stopped.stderr
    last = stopped.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the data has no rows of RAGTruth, FinanceBench, covidQA, pubmedQA")
    assert server.log == []  # stopped before any call
    tasks = re.search(r"--tasks (\S+)", last).group(1).rstrip(",").split(",")
    assert tasks == ["halubench_halueval", "halubench_drop"]
    results = lm_eval(tmp_path / "subtasks", "--model", "local-chat-completions", "--model_args", model_args,
                      "--tasks", ",".join(tasks), "--metadata", metadata)
    assert set(results["results"]) == set(tasks) and len(server.log) == 32


def test_refchecker_through_lm_eval(shared_data, server, tmp_path):
    """Response- and claim-level RefChecker rows built by halubench's loader inside lm-eval (--limit)."""
    references = write_references(tmp_path / "refs.jsonl", shared_data, settings=("accurate",))
    annotations = annotations_dir(shared_data)
    out = tmp_path / "lm-eval-out"
    model_args = f"model=judge-under-test,base_url={server.openai_base_url}/chat/completions,num_concurrent=4," \
                 "tokenized_requests=False"
    metadata = json.dumps({"data_files": str(references), "annotations": str(annotations)})
    lm_eval(out, "--model", "local-chat-completions", "--model_args", model_args, "--limit", "20",
            "--tasks", "refchecker_accurate", "refchecker_accurate_claims", "--metadata", metadata)
    done = run_cli("import", "lm-eval", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = read_runs(tmp_path / "results")
    assert set(runs) == {"refchecker-accurate", "refchecker-accurate-claims"}
    for task, (_, summary, samples) in runs.items():
        prompts = native_prompts(task, references, {"annotations": str(annotations)})
        assert summary["n"] == 20 and summary["provenance"]["selection"]["limit"] == 20
        for s in samples:
            sample, prompt = prompts[s["id"]]
            planted = parse_verdict(verdict_reply(prompt).text, tuple(summary["labels"])).verdict
            assert (s["gold"], s["verdict"]) == (sample.label, planted), s["id"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    prompts = native_prompts()
    corpus = [p for _, p in prompts.values()]
    folder = build_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), corpus)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    longest = max(len(tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True))
                  for p in corpus)
    assert longest + 600 <= MAX_MODEL_LEN, f"a prompt of {longest} tokens would be cut by lm-eval"
    return folder


def assert_noise_imported(out: Path, tmp_path: Path, judge: str) -> dict:
    """Import a run of the tiny model and check it against lm-eval and against a native run of its replies."""
    [results_file] = out.rglob("results_*.json")
    results = json.loads(results_file.read_text())
    assert results["groups"]["halubench"]["unparsed,none"] > 0  # a random model's noise has no verdicts
    done = run_cli("import", "lm-eval", str(out), "--results-dir", "imported", cwd=tmp_path, env=OFFLINE)
    assert done.returncode == 0, done.stderr  # lm-eval's figures equal halubench's re-scoring
    imported = read_runs(tmp_path / "imported")["halubench"]
    summary, samples = imported[1], imported[2]
    assert summary["judge"] == judge and summary["n"] == 96
    overall = summary["metrics"]["overall"]
    without_verdict = sum(s["verdict"] is None for s in samples)
    assert without_verdict == round(results["groups"]["halubench"]["unparsed,none"] * 96) > 0
    assert overall["unparsed"] + overall.get("truncated", 0) == without_verdict

    # The same replies, served to a native run: it must score them exactly as the import did.
    prompts = native_prompts()
    replies = {prompts[s["id"]][1]: s["raw"] for s in samples}
    with FakeLLMServer(lambda call: Text(replies[call.prompt])) as replay:
        native = run_cli("run", "--judge", "openai:replay", "--base-url", replay.openai_base_url, "--task",
                         "halubench", "--data", str(SAMPLE), "--no-cache", "--results-dir", "native",
                         cwd=tmp_path, env={"OPENAI_API_KEY": "EMPTY"})
    assert native.returncode == 0, native.stderr
    assert_same_scores(imported, read_runs(tmp_path / "native")["halubench"])
    return summary


# lm-eval 0.4.13 asks importlib.metadata for the version of a distribution named "vllm" when it loads
# its vllm model (lm_eval/models/vllm_causallms.py); vLLM's CPU build is the distribution "vllm-cpu".
VLLM_CPU_UNNAMED = "No package metadata was found for vllm"


def test_lm_eval_vllm_model_on_cpu(tiny_model, tmp_path):
    out = tmp_path / "lm-eval-out"
    done = lm_eval_process(out, "--model", "vllm", "--model_args",
                           f"pretrained={tiny_model},max_model_len={MAX_MODEL_LEN},dtype=float32",
                           "--tasks", "halubench", "--metadata", sample_metadata())
    if done.returncode != 0 and VLLM_CPU_UNNAMED in done.stderr:
        pytest.xfail("lm-eval's vllm model checks the 'vllm' distribution's version; vLLM's CPU build "
                     "is named 'vllm-cpu' (see test_lm_eval_against_vllm_serve_on_cpu for the engine)")
    assert done.returncode == 0, done.stderr[-4000:]
    summary = assert_noise_imported(out, tmp_path, f"vllm:{tiny_model}")
    assert summary["provenance"]["judge"]["engine"] == {"max_model_len": MAX_MODEL_LEN, "dtype": "float32"}


def test_lm_eval_against_vllm_serve_on_cpu(tiny_model, tmp_path):
    """The vLLM engine on CPU behind its OpenAI server, driven by lm-eval's chat-completions model."""
    out = tmp_path / "lm-eval-out"
    with vllm_server(tiny_model, tmp_path / "vllm.log", max_model_len=MAX_MODEL_LEN) as base_url:
        model_args = f"model={tiny_model},base_url={base_url}/chat/completions,num_concurrent=4," \
                     "tokenized_requests=False"
        lm_eval(out, "--model", "local-chat-completions", "--model_args", model_args, "--tasks", "halubench",
                "--metadata", sample_metadata())
    summary = assert_noise_imported(out, tmp_path, f"openai:{tiny_model}")
    assert summary["provenance"]["judge"]["base_url"] == base_url
