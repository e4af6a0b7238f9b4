"""Where RefChecker data comes from: the pinned download, references files, NQ shards, the hub.

The download is tested against a real HTTP server on loopback serving the
upstream files; the hub path against a dataset folder that `datasets` loads.
"""

import gzip
import hashlib
import json
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import assert_one_line_error, run_cli, write_jsonl
from refchecker_data import annotations_dir, example_ids, raw_items, read_run, write_references

from halubench.data.refchecker import COMMIT, HubSource, checksums, from_hub


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """Serve a folder over HTTP on 127.0.0.1; yields a function folder -> base URL."""
    servers = []

    def start(folder):
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def download_env(base_url):
    return {"HALUBENCH_REFCHECKER_ANNOTATIONS": "", "HALUBENCH_REFCHECKER_URL": base_url}


def test_checksums_pin_the_shared_copy(shared_data):
    pinned = checksums()
    assert len(pinned) == 21
    for name, digest in pinned.items():
        assert hashlib.sha256((annotations_dir(shared_data) / name).read_bytes()).hexdigest() == digest


def test_download_caches_and_then_runs_offline(tmp_path, shared_data, serve):
    references = write_references(tmp_path / "refs.jsonl", shared_data, settings=("noisy",))
    args = ("run", "-j", "always-fail", "-t", "refchecker-noisy", "--data", str(references))
    result = run_cli(*args, cwd=tmp_path, env=download_env(serve(annotations_dir(shared_data))))
    assert result.returncode == 0, result.stderr
    cached = tmp_path / "data" / "refchecker" / COMMIT  # beside $HALUBENCH_CACHE, set by run_cli
    assert sorted(p.name for p in (cached / "noisy_context").iterdir()) == sorted(
        n.split("/")[1] for n in checksums() if n.startswith("noisy_context/"))
    summary, _ = read_run(tmp_path, "refchecker-noisy", "always-fail")
    assert summary["n"] == 625 and summary["metrics"]["overall"]["correct"] == 143
    assert summary["provenance"]["dataset"]["annotations"]["source"] == "download"
    assert summary["provenance"]["dataset"]["annotations"]["commit"] == COMMIT

    # The server is gone (port 9 is closed): the cache answers.
    result = run_cli(*args, cwd=tmp_path, env=download_env("http://127.0.0.1:9"))
    assert result.returncode == 0, result.stderr


def test_download_refuses_a_changed_file(tmp_path, shared_data, serve):
    mirror = tmp_path / "mirror"
    shutil.copytree(annotations_dir(shared_data), mirror)
    changed = mirror / "zero_context" / "nq_chatgpt_answers.json"
    items = json.loads(changed.read_text())
    items[0]["claude2_response_kg"][0]["human_label"] = "Entailment"
    changed.write_text(json.dumps(items))
    result = run_cli("run", "-j", "always-fail", "-t", "refchecker-zero", cwd=tmp_path,
                     env=download_env(serve(mirror)))
    assert_one_line_error(result, "nq_chatgpt_answers.json", "sha256", COMMIT[:12])
    # The same changed copy read as a local folder is used, and provenance says it differs.
    references = write_references(tmp_path / "refs.jsonl", shared_data, settings=("zero", "noisy"))
    for task, identical in (("refchecker-zero", False), ("refchecker-noisy", True)):
        result = run_cli("run", "-j", "always-fail", "-t", task, "--option", f"annotations={mirror}",
                         "--data", str(references), cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        summary, _ = read_run(tmp_path, task, "always-fail")
        assert summary["provenance"]["dataset"]["annotations"]["identical_to_commit"] is identical
    assert not (tmp_path / "data" / "refchecker" / COMMIT / "zero_context" / "nq_chatgpt_answers.json").exists()


def test_download_unreachable_says_how_to_work_offline(tmp_path):
    result = run_cli("run", "-j", "always-fail", "-t", "refchecker-accurate", cwd=tmp_path,
                     env=download_env("http://127.0.0.1:9"))
    assert_one_line_error(result, "could not download", "dolly_gpt4_answers.json", "--option annotations=DIR")


def test_annotations_option_overrides_the_environment(tmp_path, shared_data):
    references = write_references(tmp_path / "refs.jsonl", shared_data, settings=("accurate",))
    result = run_cli("run", "-j", "always-fail", "-t", "refchecker-accurate", "--data", str(references),
                     "--option", f"annotations={annotations_dir(shared_data)}", cwd=tmp_path,
                     env={"HALUBENCH_REFCHECKER_ANNOTATIONS": str(tmp_path / "nowhere")})
    assert result.returncode == 0, result.stderr
    result = run_cli("run", "-j", "always-fail", "-t", "refchecker-accurate", "--data", str(references),
                     cwd=tmp_path, env={"HALUBENCH_REFCHECKER_ANNOTATIONS": str(tmp_path / "nowhere")})
    assert_one_line_error(result, "nowhere does not exist", "annotations=DIR")


def nq_example(example_id, question, tokens, long_answer=(0, None)):
    start, end = long_answer
    return {
        "example_id": int(example_id),
        "question_text": question,
        "document_html": "<p>irrelevant html holding \"example_id\": 1</p>",
        "document_tokens": [{"token": t, "html_token": t.startswith("<"), "start_byte": 0, "end_byte": 0}
                            for t in tokens],
        "annotations": [{"long_answer": {"start_token": start, "end_token": len(tokens) if end is None else end,
                                         "candidate_index": 0}, "short_answers": [], "yes_no_answer": "NONE"}],
    }


def test_nq_shards_become_a_references_file(tmp_path, shared_data):
    ids = example_ids(shared_data, "zero")
    shard = tmp_path / "nq-dev-00.jsonl.gz"
    examples = [
        nq_example(ids[0], "who sang i dig rock and roll music",
                   ["<P>", "Peter", ",", "Paul", "and", "Mary", "sang", "it", ".", "</P>", "<Table>", "x"],
                   long_answer=(0, 10)),
        nq_example(ids[1], "a question without a long answer", ["<P>", "text", "</P>"], long_answer=(-1, -1)),
        nq_example("12345", "not in the benchmark", ["<P>", "skip", "</P>"]),
    ]
    with gzip.open(shard, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(e) + "\n" for e in examples)
    result = run_cli("refchecker-references", "--nq-dev", str(shard), "--out", str(tmp_path / "nq.jsonl"),
                     "--annotations", str(annotations_dir(shared_data)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "zero 1 of 100" in result.stdout
    rows = [json.loads(line) for line in (tmp_path / "nq.jsonl").read_text().splitlines()]
    assert rows == [{"id": ids[0], "setting": "zero", "question": "who sang i dig rock and roll music",
                     "reference": ["Peter , Paul and Mary sang it ."]}]

    result = run_cli("run", "-j", "always-fail", "-t", "refchecker-zero", "--data", str(tmp_path / "nq.jsonl"),
                     cwd=tmp_path, env={"HALUBENCH_REFCHECKER_ANNOTATIONS": str(annotations_dir(shared_data))})
    assert_one_line_error(result, "99 of 100 zero-context ids have no reference", "nq.jsonl")


def test_a_setting_column_keeps_colliding_ids_apart(tmp_path, shared_data):
    zero_ids = example_ids(shared_data, "zero")
    rows = [{"id": i, "setting": "zero", "question": "q", "reference": [f"zero {i}"]} for i in zero_ids]
    rows += [{"id": zero_ids[0], "setting": "noisy", "question": "q", "reference": ["a noisy row"]}]
    data = write_jsonl(tmp_path / "refs.jsonl", rows)
    env = {"HALUBENCH_REFCHECKER_ANNOTATIONS": str(annotations_dir(shared_data))}
    result = run_cli("run", "-j", "always-fail", "-t", "refchecker-zero", "--data", str(data), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    _, samples = read_run(tmp_path, "refchecker-zero", "always-fail")
    first = next(s for s in samples if s["id"].endswith(f"/{zero_ids[0]}"))
    assert first["fields"]["passage"] == f"zero {zero_ids[0]}"


@pytest.mark.parametrize("row, needle", [
    ({"id": "1", "question": "q", "reference": {"a": 1}}, "must be a list of passages"),
    ({"id": "1", "question": "q", "reference": ["ok", ""]}, "non-empty list of non-empty strings"),
    ({"id": "1", "question": "", "reference": ["ok"]}, "'question' must be a non-empty string"),
    ({"id": "1", "setting": "closed", "question": "q", "reference": ["ok"]}, "unknown setting 'closed'"),
])
def test_bad_references_file(tmp_path, shared_data, row, needle):
    data = write_jsonl(tmp_path / "refs.jsonl", [{"id": "0", "question": "q", "reference": ["p"]}, row])
    result = run_cli("run", "-j", "always-fail", "-t", "refchecker-zero", "--data", str(data), cwd=tmp_path,
                     env={"HALUBENCH_REFCHECKER_ANNOTATIONS": str(annotations_dir(shared_data))})
    assert_one_line_error(result, "refs.jsonl", "line 2", needle)


def test_hub_sources_through_datasets(tmp_path, shared_data, monkeypatch):
    """dolly by row index and MS MARCO by query_id, from dataset folders `datasets` loads as it loads the hub."""
    import pandas as pd

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    dolly = tmp_path / "dolly"
    dolly.mkdir()
    pd.DataFrame([{"instruction": f"instruction {i}", "context": f"context {i}", "response": "r",
                   "category": "closed_qa"} for i in range(20)]).to_parquet(dolly / "train.parquet")
    found = from_hub("accurate", ["3", "17", "99"], HubSource(str(dolly), None, "train", None))
    assert {k: (v.question, v.text) for k, v in found.items()} == {
        "3": ("instruction 3", "context 3"), "17": ("instruction 17", "context 17")}

    marco = tmp_path / "marco"
    marco.mkdir()
    noisy_id = example_ids(shared_data, "noisy")[0]
    pd.DataFrame([{"query_id": int(qid), "query": f"query {qid}", "query_type": "DESCRIPTION",
                   "answers": ["a"], "wellFormedAnswers": [],
                   "passages": {"is_selected": [0, 1], "passage_text": [f"first {qid}", f"second {qid}"],
                                "url": ["u1", "u2"]}}
                  for qid in (noisy_id, "5")]).to_parquet(marco / "validation.parquet")
    found = from_hub("noisy", [noisy_id], HubSource(str(marco), None, "validation", "query_id"))
    assert found[noisy_id].text == f"Passage 1: first {noisy_id}\nPassage 2: second {noisy_id}"
    assert raw_items(shared_data, "noisy", "gpt4")[0]["id"] == noisy_id
