"""Bad input stops with one clear line: what, where, how to fix; no traceback."""

import json

import pytest
from conftest import assert_one_line_error, halubench_row, run_cli, write_jsonl


def test_missing_column(tmp_path):
    rows = [halubench_row(i) for i in range(4)]
    for row in rows:
        del row["source_ds"]
    data = write_jsonl(tmp_path / "bad.jsonl", rows)
    result = run_cli("run", "--judge", "lexical", "--data", str(data), cwd=tmp_path)
    assert_one_line_error(result, "bad.jsonl", "missing column 'source_ds'")


def test_unknown_label(tmp_path):
    rows = [halubench_row(i) for i in range(4)]
    rows[2]["label"] = "MAYBE"
    data = write_jsonl(tmp_path / "bad.jsonl", rows)
    result = run_cli("run", "--judge", "lexical", "--data", str(data), cwd=tmp_path)
    assert_one_line_error(result, "bad.jsonl", "line 3", "id r2", "'label'", "MAYBE")


def test_duplicate_id(tmp_path):
    rows = [halubench_row(i) for i in range(4)]
    rows[3]["id"] = "r1"
    data = write_jsonl(tmp_path / "bad.jsonl", rows)
    result = run_cli("run", "--judge", "lexical", "--data", str(data), cwd=tmp_path)
    assert_one_line_error(result, "bad.jsonl", "line 4", "duplicate id 'r1'", "line 2")


def test_empty_answer_in_csv(tmp_path):
    import pandas as pd

    rows = [halubench_row(i) for i in range(3)]
    rows[1]["answer"] = ""
    pd.DataFrame(rows).to_csv(tmp_path / "bad.csv", index=False)
    result = run_cli("run", "--judge", "lexical", "--data", str(tmp_path / "bad.csv"), cwd=tmp_path)
    assert_one_line_error(result, "bad.csv", "line 3", "'answer'", "non-empty")


def test_invalid_json_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(halubench_row(0)) + "\n{not json\n")
    result = run_cli("run", "--judge", "lexical", "--data", str(path), cwd=tmp_path)
    assert_one_line_error(result, "bad.jsonl", "line 2", "invalid JSON")


@pytest.mark.parametrize("args, needle", [
    (("--judge", "nope"), "Valid judges: always-contradiction, always-entailment, always-fail, "
                          "always-neutral, always-pass, "),
    (("--judge", "lexical", "--task", "nope"), "Valid tasks:"),
])
def test_unknown_names_list_the_valid_ones(tmp_path, args, needle):
    assert_one_line_error(run_cli("run", *args, cwd=tmp_path), needle)


def test_unknown_domain(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [halubench_row(i) for i in range(3)])
    result = run_cli("run", "--judge", "lexical", "--data", str(data), "--domain", "DROP", cwd=tmp_path)
    assert_one_line_error(result, "unknown domain DROP", "halueval")


def test_hub_unreachable_says_how_to_work_offline(tmp_path):
    """The real `datasets` loading path, pointed at a closed port on loopback."""
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9",
           "HF_HUB_ETAG_TIMEOUT": "2", "HF_HUB_DOWNLOAD_TIMEOUT": "2"}
    result = run_cli("run", "--judge", "lexical", "--task", "halubench", cwd=tmp_path, env=env)
    assert_one_line_error(result, "PatronusAI/HaluBench", "--data", "halubench-sample")
    assert not (tmp_path / "results").exists()
