"""Results for site tests, made the way a user makes them: `halubench run` in a subprocess.

One extra run carries untrusted text everywhere the site shows it: the judge's
name, the question, passage and answer, and the judge's reply (reasoning, and
the raw text of an unparsed reply). Its replies are rewritten after the run,
through halubench's own scoring and results writer, because no offline judge
echoes markup back.
"""

from __future__ import annotations

from pathlib import Path

from conftest import SHARED_DATA, halubench_row, run_cli, write_jsonl
from refchecker_data import annotations_dir, write_references

from halubench.results import load_runs, load_samples, write_run
from halubench.scoring import add_ranking_metrics, score_run

OFFLINE_JUDGES = ("always-pass", "always-fail", "random", "lexical")
SCRIPT = "<script>window.__pwned = (window.__pwned || 0) + 1</script>"
IMG = '<img src="x" onerror="window.__pwned = (window.__pwned || 0) + 1">'
PAYLOAD = f"{SCRIPT} {IMG}"
EVIL_JUDGE = f"evil <b>judge</b> {IMG}"
UNPARSED_ID = "xss-unparsed"


def run_ok(*args: str, cwd: Path, env: dict[str, str] | None = None) -> None:
    result = run_cli(*args, cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr


def make_payload_run(folder: Path) -> None:
    defs = folder / "defs"
    defs.mkdir(exist_ok=True)
    (defs / "evil.yaml").write_text(f"judge: '{EVIL_JUDGE}'\nbackend: lexical\n", encoding="utf-8")
    rows = [halubench_row(i, "FAIL" if i % 2 else "PASS", domain=("DROP", "covidQA")[i % 2]) for i in range(6)]
    rows[0].update(id="xss-passage", passage=f"The bridge opened in 1900. {PAYLOAD}",
                   question=f"When? {PAYLOAD}", answer=f"In 1900. {PAYLOAD}")
    rows[1]["id"] = UNPARSED_ID
    data = write_jsonl(folder / "payload.jsonl", rows)
    run_ok("run", "--judge", EVIL_JUDGE, "--task", "halubench-sample", "--data", str(data),
           "--include-path", str(defs), cwd=folder)
    (run,) = [r for r in load_runs(folder / "results") if r.judge == EVIL_JUDGE]
    samples = load_samples(run.path, run.summary)
    for sample in samples:
        if sample["id"] == "xss-passage":
            sample["reasoning"] = f"reasoning with {PAYLOAD}"
        if sample["id"] == UNPARSED_ID:
            sample.update(verdict=None, status="unparsed", correct=False, reasoning=None,
                          raw=f"I cannot decide. {PAYLOAD}")
    summary = dict(run.summary)
    summary["metrics"] = score_run(samples, summary["labels"], summary["positive_label"], ("domain",))
    for key in ("format", "samples_file"):
        summary.pop(key)
    write_run(summary, samples, folder / "results")


def make_results(folder: Path, with_shared_data: bool) -> None:
    """Offline judges on the bundled sample, plus the payload run; with ../shared, also on HaluEval
    and a claim-level RefChecker run (three labels, two breakdowns) on the real annotations."""
    for judge in OFFLINE_JUDGES:
        run_ok("run", "--judge", judge, "--task", "halubench-sample", cwd=folder)
        if with_shared_data:
            data = SHARED_DATA / "halubench-like" / "halueval.jsonl"
            run_ok("run", "--judge", judge, "--task", "halubench", "--data", str(data), cwd=folder)
    if with_shared_data:
        references = write_references(folder / "refs.jsonl", SHARED_DATA)
        env = {"HALUBENCH_REFCHECKER_ANNOTATIONS": str(annotations_dir(SHARED_DATA))}
        run_ok("run", "--judge", "random", "--task", "refchecker-claims", "--data", str(references),
               cwd=folder, env=env)
    make_payload_run(folder)


def write_claim_level_run(results_dir, judge="checker", verdicts=("Entailment", "Neutral", "Contradiction")):
    """A 3-class run broken down by setting, as RefChecker's tasks write them (no positive label)."""
    labels = ["Entailment", "Neutral", "Contradiction"]
    samples = []
    for i in range(12):
        gold, verdict = labels[i % 3], verdicts[(i // 2) % len(verdicts)]
        setting = ("zero_context", "noisy_context")[i % 2]
        samples.append({"id": f"c{i}", "gold": gold, "verdict": verdict, "status": "ok",
                        "correct": gold == verdict, "groups": {"setting": setting, "responder": "gpt4"},
                        "fields": {"claim": f"claim {i}", "reference": "ref"}, "raw": verdict})
    summary = {"task": "refchecker-claims", "judge": judge, "n": len(samples), "labels": labels,
               "positive_label": None, "metrics": score_run(samples, labels, None, ("setting", "responder")),
               "usage": {"cost_per_1000_usd": 1.25, "latency_p50_s": 0.8}, "provenance": {},
               "config_id": f"{judge}-config", "config": {"task": "refchecker-claims", "dataset": {"source": "x"}},
               "variant": [], "complete": True, "failures": {}, "endpoint": None}
    return write_run(summary, samples, results_dir), samples


CONSTRUCTED_ROWS = 200
CONTESTED_IDS = [f"k{i:03d}" for i in range(0, CONSTRUCTED_ROWS, 25)]  # 8 rows, 4 per domain
# judge -> (display name, kind, weights, rows it gets wrong besides the contested ones, wrong on contested?)
CONSTRUCTED = {
    "twin-a": ("Twin A", "llm", "closed", set(), True),
    "twin-b": ("Twin B", "llm", "open", set(), True),  # the same verdicts as twin-a: tied by construction
    "strong-c": ("Strong C", "fine-tuned", "open", {f"k{i:03d}" for i in range(1, 200, 20)}, True),
    "strong-d": ("Strong D", "classifier", "open", {f"k{i:03d}" for i in range(2, 200, 10)}, False),
    "weak": ("Weak E", "baseline", "none", {f"k{i:03d}" for i in range(1, 200, 2)}, False),
}


def write_constructed_runs(results_dir: Path) -> dict[str, list[dict]]:
    """Five judges on 200 rows with known verdicts (see CONSTRUCTED), each with a card, a cost and a
    latency; twin-a and twin-b agree on every row, and the first three strong judges contest the same
    ten labels. Returns each judge's samples."""
    labels = ["PASS", "FAIL"]
    written = {}
    for number, (judge, (name, kind, weights, wrong, contests)) in enumerate(CONSTRUCTED.items()):
        samples = []
        for i in range(CONSTRUCTED_ROWS):
            row_id, gold = f"k{i:03d}", labels[i % 2]
            right = row_id not in wrong and not (contests and row_id in CONTESTED_IDS)
            verdict = gold if right else labels[1 - i % 2]
            samples.append({"id": row_id, "gold": gold, "verdict": verdict, "status": "ok", "correct": right,
                            "groups": {"domain": ("DROP", "covidQA")[(i // 10) % 2]},
                            "fields": {"question": f"question {i}", "passage": f"passage {i}",
                                       "answer": f"answer {i}"},
                            "reasoning": f"{name} reasons about {row_id}", "raw": verdict})
        summary = {"task": "halubench-sample", "judge": judge, "n": len(samples), "labels": labels,
                   "positive_label": "FAIL", "metrics": score_run(samples, labels, "FAIL", ("domain",)),
                   "usage": {"cost_per_1000_usd": 0.5 * 3 ** number, "latency_p50_s": 0.2 * 2 ** number},
                   "provenance": {"finished_at": f"2026-11-0{number + 1}T12:00:00+00:00",
                                  "harness_version": "0.1.0",
                                  "judge": {"backend": "constant", "display_name": name, "kind": kind,
                                            "weights": weights, "provider": "Tests Inc."}},
                   "config_id": f"{judge}-config", "config": {"task": "halubench-sample", "dataset": {"source": "x"}},
                   "variant": [], "complete": True, "failures": {}, "endpoint": None}
        write_run(summary, samples, results_dir)
        written[judge] = samples
    # A sixth run with failed rows: listed apart, never ranked, never a strong judge or a chart point.
    flaky = [dict(s, verdict=None, status="error", correct=False, reasoning=None, raw=None, error="timeout")
             if i < 3 else s for i, s in enumerate(written["twin-a"])]
    write_run({"task": "halubench-sample", "judge": "flaky", "n": len(flaky), "labels": labels,
               "positive_label": "FAIL", "metrics": score_run(flaky, labels, "FAIL", ("domain",)),
               "usage": {"cost_per_1000_usd": 0.1, "latency_p50_s": 0.1},
               "provenance": {"finished_at": "2026-11-01T12:00:00+00:00", "judge": {"display_name": "Flaky F"}},
               "config_id": "flaky-config", "config": {"task": "halubench-sample", "dataset": {"source": "x"}},
               "variant": [], "complete": False, "failures": {"timeout": 3}, "endpoint": None},
              flaky, results_dir)
    return written


SCORED_ROWS = 40


def write_scored_runs(results_dir: Path) -> dict[str, tuple[int, float]]:
    """Two complete judges with a score per row on 40 rows: ``scores-all`` scores every row (an imperfect
    AUROC), ``scores-some`` only the first 12 (a perfect AUROC over those: the rest answered without a
    score, as an LLM judge whose logprobs were missing for some replies). Returns judge -> (scored rows,
    AUROC)."""
    labels, written = ["PASS", "FAIL"], {}
    for judge, scored, perfect in (("scores-all", SCORED_ROWS, False), ("scores-some", 12, True)):
        samples = []
        for i in range(SCORED_ROWS):
            gold = labels[i % 2]
            # PASS probability: perfect separates the labels; else every third row is ranked the wrong way
            support = (0.9 if gold == "PASS" else 0.1) if perfect or i % 3 else (0.2 if gold == "PASS" else 0.8)
            verdict = "PASS" if support >= 0.5 else "FAIL"
            samples.append({"id": f"s{i:02d}", "gold": gold, "verdict": verdict, "status": "ok",
                            "correct": verdict == gold, "groups": {"domain": ("DROP", "covidQA")[i // 2 % 2]},
                            "fields": {"question": f"q {i}", "passage": f"p {i}", "answer": f"a {i}"},
                            "raw": verdict, "score": support if i < scored else None})
        metrics = score_run(samples, labels, "FAIL", ("domain",))
        add_ranking_metrics(metrics, samples, "FAIL", ("domain",))
        write_run({"task": "halubench-sample", "judge": judge, "n": len(samples), "labels": labels,
                   "positive_label": "FAIL", "metrics": metrics, "usage": {}, "provenance": {},
                   "config_id": f"{judge}-config", "config": {"task": "halubench-sample", "dataset": {"source": "x"}},
                   "variant": [], "complete": True, "failures": {}, "endpoint": None}, samples, results_dir)
        written[judge] = (scored, metrics["overall"]["auroc"])
    return written
