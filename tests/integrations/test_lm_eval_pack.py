"""The lm-eval task pack without lm-eval: its YAML hangs together and its hooks are halubench's own.

The real `lm_eval` command runs the pack in tests/integrations/test_lm_eval.py (`nox -s lm_eval`);
these checks need only the package, so they stay in the fast suite.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml
from conftest import run_cli

from halubench.backends import resolve_judge
from halubench.config import PromptRenderer
from halubench.data import load_task
from halubench.errors import DataError
from halubench.integrations.lm_eval import LmEvalRun, judge_for
from halubench.run import choose_template

SAMPLE = load_task("halubench-sample").data_file


class _PackLoader(yaml.SafeLoader):
    """lm-eval's YAML: ``!function utils.name`` is a reference to a hook, kept as its dotted name."""


_PackLoader.add_constructor("!function", lambda loader, node: ("function", loader.construct_scalar(node)))


@pytest.fixture(scope="module")
def pack() -> Path:
    result = run_cli("lm-eval-tasks", cwd=Path.cwd())
    assert result.returncode == 0, result.stderr
    folder = Path(result.stdout.strip())
    assert folder.is_dir() and (folder / "utils.py").is_file()
    return folder


@pytest.fixture(scope="module")
def utils(pack):
    """The hooks module loaded from its file, the way lm-eval loads it."""
    spec = importlib.util.spec_from_file_location("utils", pack / "utils.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(path: Path) -> dict:
    """A YAML file with its ``include`` chain resolved (included first, the file's own keys win)."""
    body = yaml.load(path.read_text(encoding="utf-8"), Loader=_PackLoader)
    included = body.pop("include", None)
    return {**(_config(path.parent / included) if included else {}), **body}


def test_groups_and_tasks_hang_together(pack, utils):
    configs = {p.stem: _config(p) for p in pack.glob("*.yaml")}
    tasks = {c["task"]: c for c in configs.values() if "task" in c and "group" not in c}
    groups = {c["group"]: c for c in configs.values() if "group" in c}
    assert set(groups) == {"halubench", "refchecker", "refchecker_claims"}
    for group in groups.values():
        assert all(member in tasks for member in group["task"]), group["group"]
        by_metric = {m["metric"]: m for m in group["aggregate_metric_list"]}
        assert by_metric["acc"]["weight_by_size"] is False  # the mean of the domains, as the paper
        assert by_metric["unparsed"]["weight_by_size"] is True  # the share of all rows
    for task in tasks.values():
        assert task["output_type"] == "generate_until" and task["generation_kwargs"]["until"] == []
        assert {m["metric"] for m in task["metric_list"]} == {"acc", "unparsed"}
        load_task(task["dataset_kwargs"]["halubench_task"])  # a native task of that name exists
        hooks = [v[1] for v in task.values() if isinstance(v, tuple)]
        assert hooks and all(callable(getattr(utils, h.removeprefix("utils."))) for h in hooks), hooks


def test_rows_and_prompts_are_a_native_runs(utils):
    """Same rows, same ids and labels, and the prompt byte for byte as `halubench run` sends it."""
    task = load_task("halubench")
    native = task.load(SAMPLE).samples
    docs = list(utils.rows("halubench", data_files=str(SAMPLE), version=1.0)["test"])
    assert [(d["id"], d["label"]) for d in docs] == [(s.id, s.label) for s in native]
    renderer = PromptRenderer(choose_template(task, resolve_judge("openai:any"), None))
    for doc, sample in zip(docs, native, strict=True):
        [message] = renderer.messages(sample.fields)
        assert utils.doc_to_text(doc).encode() == message["content"].encode()


def test_domain_subtasks_split_the_rows(utils):
    dataset = utils.rows("halubench", data_files=str(SAMPLE))["test"]
    splits = {name: utils.__dict__[f"only_{name}"](dataset) for name in
              ("halueval", "ragtruth", "financebench", "drop", "covidqa", "pubmedqa")}
    assert all(len(rows) == 16 for rows in splits.values())
    assert len({row["id"] for rows in splits.values() for row in rows}) == 96


def two_domain_file(folder: Path) -> Path:
    """The bundled sample's halueval and DROP rows alone: a user's file rarely holds all six domains."""
    lines = [line for line in SAMPLE.read_text().splitlines() if json.loads(line)["source_ds"] in ("halueval", "DROP")]
    path = folder / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_domain_the_file_lacks_stops_with_one_line_naming_what_to_run(utils, tmp_path):
    """lm-eval cannot run a subtask without rows (IndexError deep inside it): stop before, and say what to pass."""
    dataset = utils.rows("halubench", data_files=str(two_domain_file(tmp_path)))["test"]
    assert len(utils.only_halueval(dataset)) == len(utils.only_drop(dataset)) == 16
    with pytest.raises(SystemExit) as stopped:
        utils.only_financebench(dataset)
    assert str(stopped.value) == (
        "error: the data has no rows of RAGTruth, FinanceBench, covidQA, pubmedQA (only of halueval, DROP); "
        "run --tasks halubench_halueval,halubench_drop, the subtasks of the domains it has")


@pytest.mark.parametrize("reply, acc, unparsed", [
    ('{"REASONING": ["fits"], "SCORE": "PASS"}', 1.0, 0.0),
    ('```json\n{"score": "FAIL"}\n```', 0.0, 0.0),
    ("I cannot tell from the document.", 0.0, 1.0),  # no verdict: wrong, and counted
    ("", 0.0, 1.0),
])
def test_process_results_uses_halubenchs_parser(utils, reply, acc, unparsed):
    doc = {"id": "x", "label": "PASS", "halubench_task": "halubench", "fields": {}, "groups": {}}
    assert utils.process_results(doc, [reply]) == {"acc": acc, "unparsed": unparsed}


def test_claim_rows_use_the_claim_labels(utils):
    doc = {"id": "c", "label": "Neutral", "halubench_task": "refchecker-claims", "fields": {}, "groups": {}}
    assert utils.process_results(doc, ["Neutral"]) == {"acc": 1.0, "unparsed": 0.0}
    assert utils.process_results(doc, ["PASS"]) == {"acc": 0.0, "unparsed": 1.0}


def test_import_of_a_missing_folder_is_one_line(tmp_path):
    result = run_cli("import", "lm-eval", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nowhere'} does not exist; pass the folder given to lm_eval --output_path"]


def test_import_of_a_folder_without_results_says_what_to_run(tmp_path):
    result = run_cli("import", "lm-eval", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2 and "--output_path and --log_samples" in result.stderr
    assert not (tmp_path / "results").exists()


def _results(model: str, model_args: dict, **generation) -> LmEvalRun:
    """The parts of an lm-eval results file the judge is read from (lm-eval 0.4.13's keys)."""
    configs = {"halubench_drop": {"generation_kwargs": {"until": [], "max_gen_toks": 600, "temperature": 0,
                                                        **generation}}}
    return LmEvalRun(Path("results_x.json"), {"config": {"model": model, "model_args": model_args},
                                              "configs": configs}, {"halubench_drop": []})


def test_lm_eval_models_become_the_native_judges():
    spec, endpoint = judge_for(_results("vllm", {"pretrained": "/models/m", "max_model_len": 800,
                                                 "dtype": "float32", "batch_size": "auto"}))
    assert (spec.name, endpoint) == ("vllm:/models/m", None)
    assert spec.reply_settings() == {"backend": "vllm", "model": "/models/m",
                                     "engine": {"dtype": "float32", "max_model_len": 800}}
    spec, endpoint = judge_for(_results("openai-chat-completions", {"model": "gpt-4o"}))
    assert spec.reply_settings() == resolve_judge("openai:gpt-4o").reply_settings()  # no base_url: the official API
    assert endpoint == "https://api.openai.com/v1"
    spec, _ = judge_for(_results("openai-chat-completions", {"model": "gpt-4o"}, max_gen_toks=300), "gpt-4o")
    assert spec.name == "gpt-4o"
    assert spec.settings.generation.model_dump(exclude_unset=True) == {"temperature": 0, "max_tokens": 300}


def test_a_judge_file_of_another_model_is_refused():
    with pytest.raises(DataError, match="judge gpt-4o is model 'gpt-4o', lm-eval ran 'gpt-4o-mini'"):
        judge_for(_results("local-chat-completions", {"model": "gpt-4o-mini", "base_url": "http://h/v1"}), "gpt-4o")
