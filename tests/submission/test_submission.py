"""Submissions end to end, as an outside researcher and the pull request's check meet them.

`halubench run` -> `halubench submit` -> `halubench verify` on the bundled sample and on a RefChecker
claims task; the merged folder on the board with its badge and the same figures; and every way a
tampered folder is rejected, each with one line naming what and where. The tampering is done the way
a cheat would do it: edit a file, then write the manifest again so that the hashes still agree.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run_cli, write_jsonl
from refchecker_data import annotations_dir, write_references

from halubench import verify
from halubench.config import config_id
from halubench.data import load_task
from halubench.results import (
    MANIFEST_FILE,
    SUBMISSION_FILES,
    fields_key,
    load_runs,
    load_samples,
    read_run,
    write_run,
)
from halubench.scoring import score_run
from halubench.submission import CAPS

TASK = "halubench-sample"
CONTACT = "researcher@example.org"


def ok(*args: str, cwd: Path, env: dict[str, str] | None = None):
    result = run_cli(*args, cwd=cwd, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def submitter(tmp_path_factory) -> Path:
    """A researcher's folder: a lexical run of the sample, packed into submissions/lexical."""
    folder = tmp_path_factory.mktemp("submitter")
    ok("run", "--judge", "lexical", "--task", TASK, cwd=folder)
    packed = ok("submit", "lexical", "--task", TASK, "--out", "submissions/lexical", "--contact", CONTACT,
                cwd=folder)
    assert packed.stdout.rstrip().splitlines()[-2] == "accepted"
    return folder


@pytest.fixture
def good(submitter, tmp_path) -> Path:
    """A copy of the accepted submission to tamper with."""
    return Path(shutil.copytree(submitter / "submissions" / "lexical", tmp_path / "lexical"))


def rehash(folder: Path) -> None:
    """What a cheat does after an edit: the manifest written again, so every hash agrees."""
    files = {name: {"sha256": hashlib.sha256((folder / name).read_bytes()).hexdigest(),
                    "bytes": (folder / name).stat().st_size} for name in SUBMISSION_FILES[1:]}
    (folder / MANIFEST_FILE).write_text(json.dumps({"format": "halubench-submission/1", "files": files}))


def edit_json(folder: Path, edit) -> None:
    path = folder / "summary.json"
    summary = json.loads(path.read_text())
    edit(summary)
    path.write_text(json.dumps(summary, indent=2))


def edit_lines(folder: Path, name: str, edit) -> None:
    path = folder / name
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(line) + "\n" for line in edit(lines)))


def rejected(folder: Path, **options) -> str:
    found = verify(folder, **options)
    assert not found.accepted and found.lines()[-1] == "rejected"
    assert "\n" not in found.rejection
    return found.rejection


# --- Round trips ------------------------------------------------------------------------------------


def board_rows(folder: Path, task: str) -> dict[tuple[str, str], dict[str, str]]:
    """(judge, provenance) -> the CSV row of `halubench report --csv`."""
    ok("report", "--csv", "board.csv", cwd=folder)
    with (folder / "board.csv").open() as handle:
        return {(r["judge"], r["provenance"]): r for r in csv.DictReader(handle) if r["task"] == task}


FIGURES = ("acc_micro", "acc_micro_lo", "acc_micro_hi", "acc_macro", "acc_macro_lo", "acc_macro_hi", "n")


def test_sample_round_trip_run_submit_verify_board(submitter, tmp_path):
    checked = run_cli("verify", "submissions/lexical", cwd=submitter)
    assert checked.returncode == 0, checked.stderr
    lines = checked.stdout.splitlines()
    assert lines[-1] == "accepted" and lines[0].startswith("submission submissions/lexical: Lexical overlap")
    assert sum(line.startswith("  ok  ") for line in lines) == 7
    assert "board: rank" in checked.stdout and "domain-macro accuracy 34.4% (95% CI" in checked.stdout
    again = run_cli("verify", "submissions/lexical", cwd=submitter)
    assert again.stdout == checked.stdout  # deterministic

    # The board's own folder: other judges, and the pull request's folder merged under submissions/.
    board = tmp_path / "board"
    board.mkdir()
    for judge in ("always-pass", "random"):
        ok("run", "--judge", judge, "--task", TASK, cwd=board)
    shutil.copytree(submitter / "submissions", board / "submissions")
    rows = board_rows(board, TASK)
    assert set(rows) == {("always-pass", "reproduced"), ("random", "reproduced"), ("lexical", "submitted")}
    submitted = rows[("lexical", "submitted")]
    assert submitted["ranked"] == "True" and submitted["kind"] == "measured"
    own = board_rows(submitter, TASK)[("lexical", "reproduced")]  # the submitter's run, as its own board has it
    assert {k: submitted[k] for k in FIGURES} == {k: own[k] for k in FIGURES}
    assert submitted["run_id"] == own["run_id"] + "-submitted"

    markdown = ok("report", "--markdown", "board.md", cwd=board)
    assert "| lexical " in (board / "board.md").read_text() and "submitted" in (board / "board.md").read_text()
    assert "lexical (submitted)" in markdown.stdout

    ok("site", "--out", "site", "--repository", "https://github.com/example/halubench", cwd=board)
    about = (board / "site" / "about.html").read_text()
    assert 'href="https://github.com/example/halubench/blob/HEAD/docs/submit.md"' in about
    index = (board / "site" / "index.html").read_text()
    assert 'data-provenance="submitted"' in index and '<span class="badge submitted"' in index
    page = (board / "site" / "runs" / f"{submitted['run_id']}.html").read_text()
    assert "How this run was obtained" in page and CONTACT in page
    assert f"{submitted['run_id'].split('/')[-1]}.samples.html" in page


def test_a_judge_both_submitted_and_reproduced_gets_a_paired_test(submitter):
    """The submitter's own folder holds both: the board shows both rows and McNemar's test of their verdicts."""
    printed = ok("report", cwd=submitter).stdout
    assert ("reproducibility check: lexical: submitted 34.4% vs reproduced 34.4% on 96 paired rows (+0.0 pp); "
            "McNemar's test (exact binomial; 0 only submitted right, 0 only reproduced right): p = 1") in printed
    rows = board_rows(submitter, TASK)
    assert rows[("lexical", "submitted")]["ranked"] == rows[("lexical", "reproduced")]["ranked"] == "True"


def test_the_python_api_submits_and_verifies(submitter, tmp_path):
    import halubench

    report = halubench.submit("lexical", tmp_path / "mine", task=TASK, contact=CONTACT,
                              results_dir=submitter / "results", card=["display_name=My lexical"])
    assert report.accepted and report.folder == tmp_path / "mine"
    found = halubench.verify(tmp_path / "mine", results_dir=submitter / "results")
    assert found.accepted and "My lexical" in found.title
    assert found.markdown().startswith("### Submission `mine`: accepted")


def test_refchecker_claims_round_trip(shared_data, tmp_path, monkeypatch):
    references = write_references(tmp_path / "refs.jsonl", shared_data, settings=("zero",))
    env = {"HALUBENCH_REFCHECKER_ANNOTATIONS": str(annotations_dir(shared_data))}
    task = "refchecker-zero-claims"
    ok("run", "--judge", "lexical", "--task", task, "--data", str(references), cwd=tmp_path, env=env)
    ok("submit", "lexical", "--task", task, "--data", str(references), "--out", "submissions/lexical-claims",
       "--contact", CONTACT, cwd=tmp_path, env=env)
    checked = ok("verify", "submissions/lexical-claims", "--data", str(references), cwd=tmp_path, env=env)
    assert "all 3,319 rows of refchecker-zero-claims" in checked.stdout
    assert "refchecker-claims" in checked.stdout  # the task's own scorer, agreement figures included
    rows = board_rows(tmp_path, task)
    submitted, own = rows[("lexical", "submitted")], rows[("lexical", "reproduced")]
    assert submitted["ranked"] == "True"
    assert {k: submitted[k] for k in FIGURES} == {k: own[k] for k in FIGURES}
    ok("site", "--out", "site", cwd=tmp_path, env=env)
    index = (tmp_path / "site" / "index.html").read_text()
    section = index.split(f'id="task-{task}"', 1)[1].split("</section>", 1)[0]
    assert section.count('data-provenance="submitted"') == 1 and '<span class="badge submitted"' in section
    # Without the board's references file, the data is not the board's.
    other = write_references(tmp_path / "other.jsonl", shared_data, settings=("zero",))
    other.write_text(other.read_text().replace("Passage text 0", "Passage text zero"))
    monkeypatch.setenv("HALUBENCH_REFCHECKER_ANNOTATIONS", env["HALUBENCH_REFCHECKER_ANNOTATIONS"])
    reason = rejected(tmp_path / "submissions" / "lexical-claims", data=other, results_dir=tmp_path / "results")
    assert "summary.json config.dataset" in reason and "references sha256" in reason


# --- What submit refuses --------------------------------------------------------------------------


def test_submit_refuses_a_run_measured_differently(submitter, tmp_path):
    shutil.copytree(submitter / "results", tmp_path / "results")
    ok("run", "--judge", "random", "--task", TASK, "--limit", "12", cwd=tmp_path)
    result = run_cli("submit", "random", "--task", TASK, "--out", "submissions/random", "--contact", CONTACT,
                     cwd=tmp_path)
    assert_one_line_error(result, "is not the board's ranked configuration (--limit 12 (seed 0))",
                          "halubench-sample/random/")
    assert result.returncode == 1 and not (tmp_path / "submissions").exists()


def write_incomplete_run(results: Path) -> None:
    """The lexical run with three failed rows, as a run whose calls timed out is written."""
    [run] = [r for r in load_runs(results) if r.judge == "lexical"]
    samples = load_samples(run.path, run.summary)
    for sample in samples[:3]:
        sample.update(verdict=None, status="error", correct=False, raw=None, reasoning=None, error="timeout")
    summary = {k: v for k, v in run.summary.items() if k not in ("format", "samples_file", "texts_file")}
    summary.update(judge="flaky", complete=False, failures={"timeout": 3},
                   metrics=score_run(samples, ["PASS", "FAIL"], "FAIL", ("domain",)))
    write_run(summary, samples, results)


def test_submit_refuses_an_incomplete_run(submitter, tmp_path):
    shutil.copytree(submitter / "results", tmp_path / "results")
    write_incomplete_run(tmp_path / "results")
    result = run_cli("submit", "flaky", "--task", TASK, "--out", "flaky", "--contact", CONTACT, cwd=tmp_path)
    assert_one_line_error(result, "is incomplete (3 failed rows)", "halubench-sample/flaky/")


def test_submit_refuses_a_run_carrying_a_key(submitter, tmp_path):
    shutil.copytree(submitter / "results", tmp_path / "results")
    [run] = [r for r in load_runs(tmp_path / "results") if r.judge == "lexical"]
    body = json.loads(run.path.read_text())
    body["provenance"]["judge"]["note"] = "called with sk-proj-" + "Ab3" * 15
    run.path.write_text(json.dumps(body, indent=2))
    result = run_cli("submit", "lexical", "--task", TASK, "--out", "mine", "--contact", CONTACT, cwd=tmp_path)
    assert_one_line_error(result, "not packed: summary.json line", "API-key-shaped string (OpenAI API key: sk-pro…)")
    assert "Ab3Ab3" not in result.stderr and not (tmp_path / "mine").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


def test_submit_needs_a_card_it_can_show(submitter, tmp_path):
    result = run_cli("submit", "lexical", "--task", TASK, "--out", "mine", "--contact", CONTACT, "--card",
                     "url=javascript:alert(1)", "--results-dir", str(submitter / "results"), cwd=tmp_path)
    assert_one_line_error(result, "key 'url'", "http(s)://")
    result = run_cli("submit", "lexical", "--task", TASK, "--out", "mine", "--contact", CONTACT, "--card",
                     "colour=red", "--results-dir", str(submitter / "results"), cwd=tmp_path)
    assert_one_line_error(result, "--card 'colour=red': not a card key")


# --- What verify rejects: each with one line naming what and where ----------------------------------


def flip_first_verdict(folder: Path) -> None:
    def flip(lines):
        first = lines[0]
        first["verdict"] = "FAIL" if first["verdict"] == "PASS" else "PASS"
        first["correct"] = not first["correct"]
        return lines
    edit_lines(folder, "samples.jsonl", flip)


def test_a_flipped_verdict_whose_raw_reply_was_left_is_rejected(good):
    first = json.loads((good / "samples.jsonl").read_text().splitlines()[0])
    flip_first_verdict(good)
    rehash(good)
    reason = rejected(good)
    assert reason.startswith(f"samples.jsonl line 1 (row {first['id']}): verdict ")
    assert f"but its raw reply gives {first['verdict']}" in reason


def test_an_edited_metric_is_rejected(good):
    edit_json(good, lambda s: s["metrics"]["by_domain"]["DROP"].update(accuracy=0.75))
    rehash(good)
    assert rejected(good).startswith("summary.json metrics.by_domain.DROP.accuracy: 0.75 submitted, 0.3125 re-scored")


def test_a_missing_row_is_rejected(good):
    gone = json.loads((good / "samples.jsonl").read_text().splitlines()[5])["id"]
    edit_lines(good, "samples.jsonl", lambda lines: lines[:5] + lines[6:])
    rehash(good)
    assert rejected(good).startswith(f"samples.jsonl: row {gone} of task halubench-sample is missing (1 of 96")


def test_a_duplicated_row_is_rejected(good):
    edit_lines(good, "samples.jsonl", lambda lines: lines + [lines[3]])
    rehash(good)
    twice = json.loads((good / "samples.jsonl").read_text().splitlines()[3])["id"]
    assert rejected(good).startswith(f"samples.jsonl line 97 (row {twice}): the row is there twice (first at line 4)")


def test_an_extra_row_is_rejected(good):
    edit_lines(good, "samples.jsonl", lambda lines: lines + [{**lines[0], "id": "my-own-row"}])
    rehash(good)
    assert rejected(good).startswith("samples.jsonl line 97 (row my-own-row): not a row of task halubench-sample")


def test_an_edited_passage_is_rejected(good, tmp_path):
    old = json.loads((good / "texts.jsonl").read_text().splitlines()[0])
    edited = {**old["fields"], "passage": old["fields"]["passage"] + " (and it is certainly true)"}
    new = fields_key(edited)
    lazy = Path(shutil.copytree(good, tmp_path / "lazy"))
    edit_lines(lazy, "texts.jsonl", lambda lines: [{**lines[0], "fields": edited}, *lines[1:]])
    rehash(lazy)
    assert rejected(lazy).startswith(f"texts.jsonl line 1: its key {old['sha256']} is not the hash of its fields")
    # A thorough cheat keys the edited texts anew, in texts.jsonl and in the row.
    edit_lines(good, "texts.jsonl", lambda lines: [{"sha256": new, "fields": edited}, *lines[1:]])
    edit_lines(good, "samples.jsonl", lambda lines: [{**s, "fields_sha256": new} if s["fields_sha256"] == old["sha256"]
                                                     else s for s in lines])
    rehash(good)
    line = next(i for i, s in enumerate((good / "samples.jsonl").read_text().splitlines(), 1)
                if json.loads(s)["fields_sha256"] == new)
    reason = rejected(good)
    assert reason.startswith(f"samples.jsonl line {line} (row ")
    assert "its passage (texts.jsonl line 1) differs from the task's row" in reason


def test_a_non_default_prompt_template_is_rejected(good, submitter, tmp_path):
    template = tmp_path / "terse.jinja"
    template.write_text("Is the ANSWER faithful to the DOCUMENT?\n{{ passage }}\n{{ question }}\n{{ answer }}\n")
    ok("run", "--judge", "lexical", "--task", TASK, "--template", str(template), cwd=tmp_path)
    [other] = load_runs(tmp_path / "results")
    assert other.variant == [f"template terse ({other.summary['config']['template_sha256'][:8]})"]

    def smuggle(summary):  # the template run's identity, its variant words dropped
        summary["config"]["template_sha256"] = other.summary["config"]["template_sha256"]
        summary["provenance"]["prompt_template"] = other.summary["provenance"]["prompt_template"]
        summary["config_id"] = config_id(summary["config"])
    edit_json(good, smuggle)
    rehash(good)
    reason = rejected(good)
    assert reason.startswith("summary.json config: not the board's ranked configuration (template terse (")
    assert reason.endswith("the board ranks runs of the whole task with its own options and prompt template")


def test_a_different_dataset_revision_is_rejected(good):
    """The full task pins its hub revision: a run on another revision is refused before any download."""
    pinned = load_task("halubench").revision

    def other_revision(summary):
        summary["task"] = summary["config"]["task"] = "halubench"
        summary["config"]["dataset"] = {"source": "hub", "path": "PatronusAI/HaluBench", "name": None,
                                        "split": "test", "revision": "0123456789abcdef0123"}
        summary["config_id"] = config_id(summary["config"])
    edit_json(good, other_revision)
    card = good / "card.yaml"
    card.write_text(card.read_text().replace("task: halubench-sample", "task: halubench"))
    rehash(good)
    assert rejected(good) == (
        "summary.json config.dataset: PatronusAI/HaluBench revision 0123456789ab, but the board's task pins "
        f"revision {pinned[:12]}; run on the pinned revision")


def test_a_run_on_other_data_than_the_boards_file_is_rejected(good, tmp_path):
    """A board over your own data names its file: the sample's rows with one answer edited are other data."""
    sample = load_task(TASK).data_file
    rows = [json.loads(line) for line in sample.read_text().splitlines()]
    rows[0]["answer"] += "!"
    edited = write_jsonl(tmp_path / "board-data.jsonl", rows)
    reason = rejected(good, data=edited)
    digest = hashlib.sha256(sample.read_bytes()).hexdigest()[:12]
    assert reason.startswith(f"summary.json config.dataset: a file with sha256 {digest}, but the board's data is a "
                             "file with sha256 ")


def test_an_incomplete_run_is_rejected(good):
    def fail_three(lines):
        for line in lines[:3]:
            line.update(verdict=None, status="error", correct=False, raw=None, error="timeout")
        return lines
    edit_lines(good, "samples.jsonl", fail_three)
    edit_json(good, lambda s: s.update(complete=False, failures={"timeout": 3}))
    rehash(good)
    assert rejected(good).startswith("summary.json: an incomplete run (3 failed rows)")


def test_a_file_over_the_cap_is_rejected(good):
    with (good / "samples.jsonl").open("r+b") as handle:
        handle.truncate(CAPS["samples.jsonl"] + 1)  # sparse: the size is checked before a byte is read
    reason = rejected(good)
    assert reason == (f"{good / 'samples.jsonl'}: {CAPS['samples.jsonl'] + 1:,} bytes, over its cap of "
                      f"{CAPS['samples.jsonl']:,} (docs/submit.md#what-is-checked)")


def test_a_yaml_file_with_a_python_tag_is_rejected_and_nothing_runs(good, tmp_path):
    marker = tmp_path / "pwned"
    card = good / "card.yaml"
    card.write_text(card.read_text() + f"extra: !!python/object/apply:os.system ['touch {marker}']\n")
    rehash(good)
    line = len(card.read_text().splitlines())
    assert rejected(good) == (f"card.yaml line {line}: the tag !!python/object/apply:os.system is not plain data; "
                              "a submission's YAML holds only mappings, lists, strings and numbers")
    assert not marker.exists()


def test_a_yaml_alias_is_rejected(good):
    card = good / "card.yaml"
    card.write_text(card.read_text().replace("provider: halubench", "provider: &maker halubench") +
                    "again: *maker\n")
    rehash(good)
    assert "YAML anchors and aliases are not accepted" in rejected(good)


@pytest.mark.parametrize("key, kind", [
    ("sk-proj-" + "Qz9" * 16, "OpenAI API key"),
    ("sk-ant-api03-" + "x7Y" * 30, "Anthropic API key"),
    ("AKIA" + "ABCDEFGH23456789", "AWS access key id"),
    ("hf_" + "aBcDeFgHiJ" * 4, "Hugging Face token"),
])
def test_a_file_containing_an_api_key_shaped_string_is_rejected(good, key, kind):
    def leak(lines):
        lines[10]["raw"] = lines[10]["raw"] + f" (debug: {key})"
        return lines
    edit_lines(good, "samples.jsonl", leak)
    rehash(good)
    reason = rejected(good)
    assert reason.startswith(f"samples.jsonl line 11: an API-key-shaped string ({kind}: {key[:6]}…)")
    assert key not in reason


def flip_in_place(folder: Path) -> None:
    """The first row's verdict swapped in the file's text: the same size, another sha256."""
    path = folder / "samples.jsonl"
    first, rest = path.read_text().split("\n", 1)
    swapped = first.replace('"verdict": "PASS"', '"verdict": "TMP"').replace('"verdict": "FAIL"', '"verdict": "PASS"')
    path.write_text(swapped.replace('"verdict": "TMP"', '"verdict": "FAIL"') + "\n" + rest)


def test_a_manifest_hash_mismatch_is_rejected(good):
    flip_in_place(good)  # and no new manifest
    reason = rejected(good)
    assert reason.startswith("samples.jsonl: sha256 ") and "differs from manifest.json's" in reason


def test_a_file_that_is_no_submission_file_is_rejected(good):
    (good / "run.py").write_text("import os\n")
    assert rejected(good).startswith(f"{good / 'run.py'}: not a submission file")


def test_the_cli_says_a_rejection_in_one_line_and_exits_1(good, submitter):
    flip_first_verdict(good)
    rehash(good)
    summary = good.parent / "summary.md"
    result = run_cli("verify", str(good), "--report", str(summary), cwd=submitter)
    assert_one_line_error(result, "rejected: samples.jsonl line 1 (row ", "its raw reply gives")
    assert result.returncode == 1 and result.stdout.splitlines()[-1] == "rejected"
    assert summary.read_text().startswith("### Submission `lexical`: rejected")


def test_the_board_refuses_a_merged_folder_edited_after_its_check(submitter, tmp_path):
    board = tmp_path / "board"
    shutil.copytree(submitter / "submissions", board / "submissions")
    flip_in_place(board / "submissions" / "lexical")
    result = run_cli("report", cwd=board)
    assert_one_line_error(result, "submissions/lexical: samples.jsonl: sha256", "as `halubench verify` accepted it")


def test_a_submission_never_moves_the_board_onto_its_data(submitter, tmp_path):
    """Two submissions on other data than the one reproduced run: still listed apart, never ranked."""
    board = tmp_path / "board"
    board.mkdir()
    ok("run", "--judge", "always-pass", "--task", TASK, cwd=board)
    for name in ("a", "b"):
        folder = board / "submissions" / name
        shutil.copytree(submitter / "submissions" / "lexical", folder)

        def other(summary, name=name):
            summary["judge"] = f"judge-{name}"
            summary["config"]["dataset"]["sha256"] = "f" * 64
            summary["config_id"] = config_id(summary["config"])
        edit_json(folder, other)
        card = folder / "card.yaml"
        card.write_text(card.read_text().replace("judge: lexical", f"judge: judge-{name}"))
        rehash(folder)
    runs = {r.judge: r for r in load_runs(board / "results", board / "submissions")}
    assert runs["judge-a"].obtained == "submitted" and runs["always-pass"].obtained == "reproduced"
    rows = board_rows(board, TASK)
    assert rows[("always-pass", "reproduced")]["ranked"] == "True"
    assert rows[("judge-a", "submitted")]["ranked"] == "False"
    assert rows[("judge-a", "submitted")]["apart"].startswith("other data:")


def test_read_run_of_a_submission_summary_is_the_run(submitter):
    path = submitter / "submissions" / "lexical" / "summary.json"
    run = read_run(path)
    assert run.samples()[0]["fields"]["passage"] and os.path.basename(run.summary["samples_file"]) == "samples.jsonl"
