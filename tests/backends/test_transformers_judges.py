"""Classifier judges on real (tiny, random) transformers models: pairs, chunks, batches, cache, end to end.

Needs torch and transformers: run by `nox -s transformers`. The models are
built in a temporary folder (tests/tiny_classifiers.py); their verdicts are
noise, so the tests check what must hold whatever the weights.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from conftest import REPO, assert_one_line_error, judge_spec, run_cli
from refchecker_data import annotations_dir, write_references
from tiny_classifiers import WINDOW, build_tiny_roberta, build_tiny_t5

from halubench.backends import JudgeRequest, Pair, TransformersJudge, render_pair
from halubench.results import load_runs

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytestmark = pytest.mark.transformers

SAMPLE = REPO / "halubench" / "sample_data" / "halubench_sample.jsonl"
NLI_LABELS = {0: "entailment", 1: "neutral", 2: "contradiction"}


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()]
    corpus = [" ".join((r["passage"], r["question"], r["answer"])) for r in rows]
    folder = tmp_path_factory.mktemp("tiny-classifiers")
    return {
        "nli3": build_tiny_roberta(folder / "nli3", corpus, NLI_LABELS),
        "plain2": build_tiny_roberta(folder / "plain2", corpus, {0: "LABEL_0", 1: "LABEL_1"}),
        "t5": build_tiny_t5(folder / "t5", corpus),
    }


def judge_for(model: Path, **settings) -> TransformersJudge:
    judge = TransformersJudge(judge_spec("tiny", "transformers", str(model), **settings))
    asyncio.run(judge.start())
    return judge


def judge_rows(judge: TransformersJudge, fields: list[dict[str, str]], labels=("PASS", "FAIL")):
    requests = [JudgeRequest(str(i), (), f, labels) for i, f in enumerate(fields)]

    async def collect():
        return {r.key: r async for r in judge.stream(requests, 1)}

    replies = asyncio.run(collect())
    return [replies[str(i)] for i in range(len(fields))]


def only_run(folder: Path) -> tuple[dict, list[dict]]:
    (run,) = load_runs(folder / "results")
    return run.summary, run.samples()


def test_sample_end_to_end_scores_verdicts_and_cache(tmp_path, models):
    args = ("run", "--judge", f"hf:{models['nli3']}", "--task", "halubench-sample", "--judge-arg", "device=cpu")
    first = run_cli(*args, cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr
    summary, samples = only_run(tmp_path)
    assert summary["n"] == 96 and summary["usage"]["called"] == 96
    for sample in samples:
        assert sample["status"] == "ok" and 0 <= sample["score"] <= 1
        assert sample["verdict"] == ("PASS" if sample["score"] >= 0.5 else "FAIL")
        assert json.loads(sample["raw"])["SUPPORT"] == pytest.approx(sample["score"], abs=1e-6)
    overall = summary["metrics"]["overall"]
    assert overall["scored"] == 96 and 0 <= overall["auroc"] <= 1 and len(overall["auroc_ci95"]) == 2
    assert all("auroc" in group for group in summary["metrics"]["by_domain"].values())

    def cached_rows():
        with sqlite3.connect(tmp_path / "cache.sqlite") as db:
            return db.execute("SELECT key, score, created_at FROM replies ORDER BY key").fetchall()

    stored = cached_rows()
    assert len(stored) == 96 and sorted(r[1] for r in stored) == sorted(s["score"] for s in samples)
    again = run_cli(*args, cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr
    assert cached_rows() == stored  # every reply came from the cache: none was computed and written again
    cached_summary, cached_samples = only_run(tmp_path)
    assert [s["score"] for s in cached_samples] == [s["score"] for s in samples]
    assert cached_summary["metrics"]["overall"]["auroc"] == overall["auroc"]

    report = run_cli("report", "--no-reported", cwd=tmp_path)
    assert report.returncode == 0 and "AUROC" in report.stdout and f"{100 * overall['auroc']:.1f}" in report.stdout
    site = run_cli("site", "--no-reported", cwd=tmp_path, timeout=300)
    assert site.returncode == 0, site.stderr
    (roc,) = (tmp_path / "site").rglob("*.roc.svg")
    assert roc.read_text().lstrip().startswith("<?xml")
    (page,) = roc.parent.glob(roc.name.replace(".roc.svg", ".html"))
    assert roc.name in page.read_text() and "chosen on this test data" in page.read_text()


def test_seq2seq_scorer_end_to_end(tmp_path, models):
    result = run_cli("run", "--judge", f"hf:{models['t5']}", "--task", "halubench-sample", "--limit", "24",
                     cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr
    summary, samples = only_run(tmp_path)
    assert {s["status"] for s in samples} == {"ok"} and summary["metrics"]["overall"]["scored"] == 24


def test_unnamed_classes_need_a_mapping(tmp_path, models):
    base = ("run", "--judge", f"hf:{models['plain2']}", "--task", "halubench-sample", "--limit", "8")
    refused = run_cli(*base, cwd=tmp_path, timeout=600)
    assert_one_line_error(refused, "LABEL_0", "--judge-arg labels.0=")
    mapped = run_cli(*base, "--judge-arg", "labels.0=unsupported", "--judge-arg", "labels.1=supported",
                     cwd=tmp_path, timeout=600)
    assert mapped.returncode == 0, mapped.stderr


def test_refchecker_claims_map_three_way_labels(tmp_path, models, shared_data):
    references = write_references(tmp_path / "refs.jsonl", shared_data, settings=("accurate",))
    result = run_cli("run", "--judge", f"hf:{models['nli3']}", "--task", "refchecker-accurate-claims",
                     "--data", str(references), "--limit", "40", cwd=tmp_path, timeout=600,
                     env={"HALUBENCH_REFCHECKER_ANNOTATIONS": str(annotations_dir(shared_data))})
    assert result.returncode == 0, result.stderr
    _, samples = only_run(tmp_path)
    assert len(samples) == 40
    assert {s["verdict"] for s in samples} <= {"Entailment", "Neutral", "Contradiction"}
    assert all(s["status"] == "ok" and s["score"] is not None for s in samples)


def test_pairs_by_task_kind():
    fields = {"question": "Who?", "passage": "P.", "answer": "Ann", "triplet": '("a", "b", "c")'}
    assert render_pair(fields, "question_answer") == Pair("P.", "Who? Ann")
    assert render_pair(fields, "claim") == Pair("P.", "Ann")
    assert render_pair(fields, "response") == Pair("P.", "Ann")


def test_long_passage_is_chunked_never_truncated(models):
    judge = judge_for(models["nli3"], chunk_overlap=16)
    passage = " ".join(f"Sentence {i} says the bridge over the Avon opened in {1900 + i}." for i in range(40))
    pair = Pair(passage, "When did the bridge open? In 1921.")
    (chunks,) = judge.chunks(pair)  # one hypothesis: it fits beside a window of the passage
    assert len(chunks) > 3 and all(len(c["input_ids"]) <= WINDOW for c in chunks)
    texts = [judge._tokenizer.decode(c["input_ids"], skip_special_tokens=True) for c in chunks]
    for number in (1900, 1921, 1939):  # the start, the middle and the end all reach the model
        assert any(str(number) in text for text in texts)

    (reply,) = judge_rows(judge, [{"question": pair.hypothesis, "passage": passage, "answer": ""}])
    per_chunk = judge._probabilities(chunks)
    entail = judge._roles.index("entailment")
    assert reply.score == pytest.approx(max(p[entail] for p in per_chunk), abs=1e-5)
    assert json.loads(reply.text)["CHUNKS"] == len(chunks)


def test_hypothesis_longer_than_the_window_is_too_long(models):
    """Too long: a one-sentence hypothesis past the window, or one sentence of a longer one."""
    judge = judge_for(models["nli3"])
    (reply,) = judge_rows(judge, [{"question": "why " * 200, "passage": "Short.", "answer": "no"}])
    assert reply.too_long and reply.text is None and "the hypothesis takes" in reply.error
    answer = f"It opened in 1900 in Bath. It {'really ' * 300}closed."
    (reply,) = judge_rows(judge, [{"question": "When?", "passage": "Short.", "answer": answer}])
    assert reply.too_long and "one of the hypothesis's 2 sentences takes" in reply.error


AVON = " ".join(f"Sentence {i} says the bridge over the Avon opened in {1900 + i}." for i in range(40))
LONG_ANSWER = " ".join(f"In {1900 + i} the bridge over the Avon was opened by the mayor of Bath." for i in range(20))


def test_a_hypothesis_too_long_as_a_whole_is_judged_by_sentence(models):
    """A long answer (question and answer past the window, as long FinanceBench answers are) is judged
    sentence by sentence, never left too long: support = min over sentences of max over windows."""
    judge = judge_for(models["nli3"])
    fields = {"question": "When did the bridge open?", "passage": AVON, "answer": LONG_ANSWER}
    pair = render_pair(fields, "question_answer")
    assert len(judge._tokenizer(pair.hypothesis)["input_ids"]) > WINDOW  # too long as a whole
    groups = judge.chunks(pair)
    assert len(groups) == len(pair.sentences) == 20
    assert all(len(c["input_ids"]) <= WINDOW for windows in groups for c in windows)
    per_sentence = [judge._probabilities(windows) for windows in groups]
    entail = judge._roles.index("entailment")

    (reply,) = judge_rows(judge, [fields])
    assert not reply.too_long and reply.error is None
    assert reply.score == pytest.approx(min(max(p[entail] for p in probs) for probs in per_sentence), abs=1e-5)
    body = json.loads(reply.text)
    assert (body["SENTENCES"], body["CHUNKS"]) == (20, sum(map(len, groups)))
    assert body["SCORE"] == ("PASS" if reply.score >= 0.5 else "FAIL")

    # Three labels: Entailment only when every sentence is; else Contradiction when one is; else Neutral.
    (three,) = judge_rows(judge, [fields], labels=("Entailment", "Neutral", "Contradiction"))
    found = [next(r for r in ("entailment", "contradiction", "neutral")
                  if r in {judge._roles[max(range(3), key=p.__getitem__)] for p in probs}) for probs in per_sentence]
    expected = next(r for r in ("contradiction", "neutral", "entailment") if r in found)
    assert json.loads(three.text)["SCORE"] == expected.capitalize()


def test_batching_does_not_change_scores(models):
    rows = [json.loads(line) for line in SAMPLE.read_text().splitlines()][:12]
    fields = [{k: r[k] for k in ("question", "passage", "answer")} for r in rows]
    wide = judge_rows(judge_for(models["t5"], batch_size=64), fields)
    single = judge_rows(judge_for(models["t5"], batch_size=1), fields)
    assert [r.score for r in wide] == pytest.approx([r.score for r in single], abs=1e-5)
