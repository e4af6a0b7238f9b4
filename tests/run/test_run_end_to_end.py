import json

import pytest
from conftest import halubench_row, read_results, run_cli, write_jsonl


def read_summary(folder, task, judge):
    return read_results(folder / "results", task, judge)


def test_embedded_default_runs_offline(tmp_path):
    result = run_cli("run", "--judge", "lexical", "--task", "halubench-sample", cwd=tmp_path,
                     env={"HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    for domain in ("halueval", "RAGTruth", "FinanceBench", "DROP", "covidQA", "pubmedQA"):
        assert domain in result.stdout
    assert "results/halubench-sample/lexical/" in result.stdout
    summary, samples = read_summary(tmp_path, "halubench-sample", "lexical")
    assert summary["n"] == 96 == len(samples)
    assert set(summary["metrics"]["by_domain"]) == {
        "halueval", "RAGTruth", "FinanceBench", "DROP", "covidQA", "pubmedQA"}
    by_domain = summary["metrics"]["by_domain"]
    assert all(m["n"] == 16 for m in by_domain.values())
    macro = sum(m["accuracy"] for m in by_domain.values()) / 6
    assert summary["metrics"]["overall"]["domain_macro_accuracy"] == pytest.approx(macro)
    correct = sum(s["correct"] for s in samples)
    assert summary["metrics"]["overall"]["accuracy"] == pytest.approx(correct / 96)
    provenance = summary["provenance"]
    assert provenance["dataset"]["source"] == "file" and len(provenance["dataset"]["sha256"]) == 64
    assert len(provenance["prompt_template"]["sha256"]) == 64
    assert provenance["judge"]["backend"] == "lexical"
    first = samples[0]
    assert {"id", "gold", "verdict", "status", "raw", "latency_s", "groups"} <= set(first)
    assert json.loads(first["raw"])["SCORE"] == first["verdict"]


@pytest.mark.parametrize("judge, verdict", [("always-pass", "PASS"), ("always-fail", "FAIL")])
def test_constant_judges_on_halueval_score_exactly_half(tmp_path, shared_data, judge, verdict):
    data = shared_data / "halubench-like" / "halueval.jsonl"
    result = run_cli("run", "--judge", judge, "--task", "halubench", "--data", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary, samples = read_summary(tmp_path, "halubench", judge)
    overall = summary["metrics"]["overall"]
    assert summary["n"] == 1000
    assert overall["accuracy"] == 0.5 and overall["domain_macro_accuracy"] == 0.5
    assert overall["balanced_accuracy"] == 0.5 and overall["unparsed"] == 0
    assert {s["verdict"] for s in samples} == {verdict}


def test_limit_is_stratified_and_seeded(tmp_path, shared_data):
    data = shared_data / "halubench-like" / "halueval.jsonl"
    args = ("run", "--judge", "random", "--task", "halubench", "--data", str(data), "--limit", "50")
    assert run_cli(*args, "--seed", "1", cwd=tmp_path).returncode == 0
    _, first = read_summary(tmp_path, "halubench", "random")
    assert len(first) == 50 and sum(s["gold"] == "FAIL" for s in first) == 25
    assert run_cli(*args, "--seed", "1", cwd=tmp_path).returncode == 0
    _, again = read_summary(tmp_path, "halubench", "random")
    assert [s["id"] for s in first] == [s["id"] for s in again]
    assert run_cli(*args, "--seed", "2", cwd=tmp_path).returncode == 0
    # another seed draws other rows: another configuration, kept beside the first
    runs = [json.loads(p.read_text()) for p in (tmp_path / "results/halubench/random").glob("*.json")]
    assert sorted(r["config"]["selection"]["seed"] for r in runs) == [1, 2]
    other = read_results(tmp_path / "results", "halubench", "random", seed=2)[1]
    assert [s["id"] for s in first] != [s["id"] for s in other]


def test_domain_filter_on_sample(tmp_path):
    result = run_cli("run", "--judge", "always-fail", "--task", "halubench-sample",
                     "--domain", "DROP", "--domain", "covidQA", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary, _ = read_summary(tmp_path, "halubench-sample", "always-fail")
    assert set(summary["metrics"]["by_domain"]) == {"DROP", "covidQA"}
    assert summary["n"] == 32 and summary["metrics"]["overall"]["accuracy"] == 0.5


@pytest.mark.parametrize("suffix", ["csv", "parquet", "json"])
def test_other_file_formats(tmp_path, suffix):
    import pandas as pd

    frame = pd.DataFrame([halubench_row(i, "FAIL" if i % 2 else "PASS") for i in range(6)])
    path = tmp_path / f"d.{suffix}"
    {"csv": lambda: frame.to_csv(path, index=False),
     "parquet": lambda: frame.to_parquet(path),
     "json": lambda: frame.to_json(path, orient="records")}[suffix]()
    result = run_cli("run", "--judge", "always-pass", "--data", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary, _ = read_summary(tmp_path, "halubench", "always-pass")
    assert summary["metrics"]["overall"]["accuracy"] == 0.5


def test_custom_template_and_include_path(tmp_path):
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "terse.jinja").write_text("Q: {{ question }}\nD: {{ passage }}\nA: {{ answer }}\n")
    (defs / "my-judge.yaml").write_text(
        "judge: my-lexical\nbackend: lexical\nthreshold: 0.5\n"
        "templates:\n  faithfulness: terse.jinja\n")
    data = write_jsonl(tmp_path / "d.jsonl", [halubench_row(i) for i in range(2)])
    result = run_cli("run", "--judge", "my-lexical", "--data", str(data),
                     "--include-path", str(defs), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary, _ = read_summary(tmp_path, "halubench", "my-lexical")
    assert summary["provenance"]["prompt_template"]["name"] == "terse"
    assert summary["provenance"]["judge"]["threshold"] == 0.5
