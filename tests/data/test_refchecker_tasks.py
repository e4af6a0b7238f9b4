"""RefChecker tasks end to end on the real human annotations, with synthetic references."""

from collections import Counter

import pytest
from conftest import assert_one_line_error, run_cli
from refchecker_data import (
    FOLDERS,
    RESPONDERS,
    annotations_dir,
    example_ids,
    human_labels,
    raw_items,
    read_run,
    write_references,
)

# Published counts (RefChecker benchmark, all 7 responders): E/N/C per setting,
# responses with any Contradiction, responses without triplets.
LABEL_COUNTS = {"zero": (1047, 1818, 454), "noisy": (2779, 436, 205), "accurate": (3350, 368, 276)}
ANY_CONTRADICTION = {"zero": 274, "noisy": 143, "accurate": 89}
ABSTAIN = {"zero": 87, "noisy": 75, "accurate": 33}
SIX = [r for r in RESPONDERS if r != "davinci001"]


@pytest.fixture
def env(shared_data):
    return {"HALUBENCH_REFCHECKER_ANNOTATIONS": str(annotations_dir(shared_data))}


@pytest.fixture
def references(tmp_path, shared_data):
    return write_references(tmp_path / "refs.jsonl", shared_data)


def test_published_counts_hold_in_the_shared_copy(shared_data):
    """The hand-computed reference figures, from the raw files alone."""
    for setting in FOLDERS:
        labels, contradicted, abstained = Counter(), 0, 0
        for responder in RESPONDERS:
            for item in raw_items(shared_data, setting, responder):
                found = human_labels(item)
                labels.update(found)
                contradicted += "Contradiction" in found
                abstained += not found
        assert (labels["Entailment"], labels["Neutral"], labels["Contradiction"]) == LABEL_COUNTS[setting]
        assert contradicted == ANY_CONTRADICTION[setting] and abstained == ABSTAIN[setting]


def test_always_entailment_over_all_claims_is_exact(tmp_path, env, references, shared_data):
    result = run_cli("run", "-j", "always-entailment", "-t", "refchecker-claims", "--data", str(references),
                     cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    summary, samples = read_run(tmp_path, "refchecker-claims", "always-entailment")
    overall = summary["metrics"]["overall"]
    assert (summary["n"], overall["correct"]) == (10733, 7176)
    assert overall["accuracy"] == 7176 / 10733
    by_setting = summary["metrics"]["by_setting"]
    assert {k: (m["correct"], m["n"]) for k, m in by_setting.items()} == {
        "zero": (1047, 3319), "noisy": (2779, 3420), "accurate": (3350, 3994)}
    for setting, (e, n, c) in LABEL_COUNTS.items():
        confusion = by_setting[setting]["confusion"]
        assert [confusion[g]["Entailment"] for g in ("Entailment", "Neutral", "Contradiction")] == [e, n, c]
    assert len({s["id"] for s in samples}) == 10733
    assert summary["metrics"]["by_responder"]["gpt4"]["n"] == sum(
        len(human_labels(i)) for s in FOLDERS for i in raw_items(shared_data, s, "gpt4"))

    # RefChecker's agreement figures: always "factual", so accuracy is the factual share.
    agreement = summary["metrics"]["refchecker_agreement"]
    assert agreement["responders"] == SIX
    for setting in FOLDERS:
        labelled = [human_labels(i) for r in SIX for i in raw_items(shared_data, setting, r) if human_labels(i)]
        factual = sum(all(label == "Entailment" for label in labels) for labels in labelled)
        figures = agreement["by_setting"][setting]
        assert figures["responses"] == len(labelled) and figures["gold_factual"] == factual
        assert figures["accuracy"] == pytest.approx(factual / len(labelled))
        precision = factual / len(labelled)
        assert figures["factual_f1"] == pytest.approx(2 * precision / (precision + 1))
        assert figures["non_factual_f1"] == 0.0
        assert figures["pearson"] is None and figures["spearman"] is None  # constant prediction
    assert "RefChecker agreement" in result.stdout


def test_per_setting_claim_task_by_responder(tmp_path, env, references, shared_data):
    result = run_cli("run", "-j", "always-contradiction", "-t", "refchecker-zero-claims", "--data",
                     str(references), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    summary, samples = read_run(tmp_path, "refchecker-zero-claims", "always-contradiction")
    assert (summary["n"], summary["metrics"]["overall"]["correct"]) == (3319, 454)
    for responder in RESPONDERS:
        labels = [label for i in raw_items(shared_data, "zero", responder) for label in human_labels(i)]
        table = summary["metrics"]["by_responder"][responder]
        assert (table["n"], table["correct"]) == (len(labels), labels.count("Contradiction"))
    first = samples[0]
    item = raw_items(shared_data, "zero", "gpt4")[0]
    subject, predicate, obj = item["claude2_response_kg"][0]["triplet"]
    assert first["id"] == f"zero/gpt4/{item['id']}/0"
    assert first["fields"]["answer"] == f"{subject} {predicate} {obj}"
    assert first["fields"]["triplet"] == f'("{subject}", "{predicate}", "{obj}")'
    assert first["fields"]["passage"] == f"Passage text 0 about item {item['id']}."
    assert set(summary["metrics"]["refchecker_agreement"]["by_setting"]) == {"zero"}


def test_response_level_group_runs_three_settings(tmp_path, env, references):
    result = run_cli("run", "-j", "always-fail", "-t", "refchecker", "--data", str(references),
                     cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    for setting in FOLDERS:
        summary, samples = read_run(tmp_path, f"refchecker-{setting}", "always-fail")
        assert summary["n"] == 700 - ABSTAIN[setting]
        assert summary["metrics"]["overall"]["correct"] == ANY_CONTRADICTION[setting]
        assert summary["metrics"]["overall"]["precision"] == ANY_CONTRADICTION[setting] / summary["n"]
        assert summary["excluded"]["abstain"]["n"] == ABSTAIN[setting]
        assert sum(summary["excluded"]["abstain"]["by_responder"].values()) == ABSTAIN[setting]
        assert set(summary["metrics"]["by_responder"]) == set(RESPONDERS)
        assert {s["groups"]["setting"] for s in samples} == {setting}
        assert summary["provenance"]["dataset"]["fail_on"] == "contradiction"
    assert result.stdout.count("left out:") == 3


def test_fail_on_not_entailment_and_numbered_passages(tmp_path, env, references, shared_data):
    result = run_cli("run", "-j", "always-pass", "-t", "refchecker-noisy", "--data", str(references),
                     "--option", "fail_on=not_entailment", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    summary, samples = read_run(tmp_path, "refchecker-noisy", "always-pass")
    items = [i for r in RESPONDERS for i in raw_items(shared_data, "noisy", r) if human_labels(i)]
    factual = sum(all(label == "Entailment" for label in human_labels(i)) for i in items)
    assert summary["n"] == len(items) and summary["metrics"]["overall"]["correct"] == factual
    assert summary["provenance"]["dataset"]["fail_on"] == "not_entailment"
    sample = samples[0]
    assert sample["fields"]["passage"].splitlines()[1].startswith("Passage 2: Passage text 1")
    assert sample["fields"]["answer"] == raw_items(shared_data, "noisy", "gpt4")[0]["response"]


def test_lexical_judge_on_claims_and_agreement_recomputed(tmp_path, env, shared_data):
    """A judge with mixed verdicts: the agreement figures must match corr.py's recipe, redone here.

    The reference of each item is GPT-4's response, so the lexical judge finds support for some claims.
    """
    import statistics

    gpt4 = {i["id"]: i["response"] for i in raw_items(shared_data, "accurate", "gpt4")}
    references = write_references(tmp_path / "refs.jsonl", shared_data, settings=("accurate",), text_of=gpt4)
    result = run_cli("run", "-j", "lexical", "-t", "refchecker-accurate-claims", "--data", str(references),
                     cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    summary, samples = read_run(tmp_path, "refchecker-accurate-claims", "lexical")
    assert summary["n"] == 3994 and summary["metrics"]["overall"]["parsed"] == 3994
    assert len({s["verdict"] for s in samples}) > 1
    responses = {}
    for s in samples:
        if s["groups"]["responder"] != "davinci001":
            responses.setdefault(s["id"].rsplit("/", 1)[0], []).append(s)
    gold = [all(c["gold"] == "Entailment" for c in r) for r in responses.values()]
    pred = [all(c["verdict"] == "Entailment" for c in r) for r in responses.values()]
    gold_rate = [sum(c["gold"] != "Entailment" for c in r) / len(r) for r in responses.values()]
    pred_rate = [sum(c["verdict"] != "Entailment" for c in r) / len(r) for r in responses.values()]

    def f1(positive):
        tp = sum(g == p == positive for g, p in zip(gold, pred, strict=True))
        return 2 * tp / (gold.count(positive) + pred.count(positive))

    def ranks(values):
        order = sorted(values)
        return [order.index(v) + (order.count(v) + 1) / 2 for v in values]

    figures = summary["metrics"]["refchecker_agreement"]["by_setting"]["accurate"]
    assert figures["responses"] == len(responses)
    assert figures["accuracy"] == pytest.approx(sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold))
    assert figures["factual_f1"] == pytest.approx(f1(True))
    assert figures["non_factual_f1"] == pytest.approx(f1(False))
    assert figures["macro_f1"] == pytest.approx((f1(True) + f1(False)) / 2)
    assert figures["pearson"] == pytest.approx(statistics.correlation(gold_rate, pred_rate))
    assert figures["spearman"] == pytest.approx(statistics.correlation(ranks(gold_rate), ranks(pred_rate)))


def test_limit_leaves_partial_responses_out_of_agreement(tmp_path, env, references):
    result = run_cli("run", "-j", "random", "-t", "refchecker-claims", "--data", str(references),
                     "--limit", "300", "--domain", "zero", "--domain", "noisy", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    summary, samples = read_run(tmp_path, "refchecker-claims", "random")
    assert summary["n"] == 300 and set(summary["metrics"]["by_setting"]) == {"zero", "noisy"}
    figures = summary["metrics"]["refchecker_agreement"]["by_setting"]
    per_response = Counter(s["id"].rsplit("/", 1)[0] for s in samples if "davinci001" not in s["id"])
    assert sum(f["responses"] + f["incomplete_responses"] for f in figures.values()) == len(per_response)
    assert sum(f["incomplete_responses"] for f in figures.values()) > 0


def test_missing_references_fail_with_one_clear_line(tmp_path, env, shared_data):
    partial = write_references(tmp_path / "part.jsonl", shared_data, settings=("accurate",), skip=5)
    result = run_cli("run", "-j", "always-pass", "-t", "refchecker-accurate", "--data", str(partial),
                     cwd=tmp_path, env=env)
    first_missing = example_ids(shared_data, "accurate")[0]
    assert_one_line_error(result, "5 of 100 accurate-context ids have no reference", "part.jsonl",
                          first_missing, "id, question, reference")
    assert "KeyError" not in result.stderr
    assert not (tmp_path / "results").exists()


def test_zero_context_without_references_says_how_to_make_them(tmp_path, env):
    result = run_cli("run", "-j", "always-pass", "-t", "refchecker-zero", cwd=tmp_path, env=env)
    assert_one_line_error(result, "Natural Questions", "halubench refchecker-references", "--data")


ALLOWED = "allowed keys: annotations, fail_on, settings"


@pytest.mark.parametrize("option, needle", [
    ("nope=1", f"--option nope=1: unknown key 'nope'; {ALLOWED}"),
    ("fail_onn=x", f"--option fail_onn=x: unknown key 'fail_onn' (did you mean 'fail_on'?); {ALLOWED}"),
    ("fail_on=sometimes", "key 'fail_on': Input should be 'contradiction' or 'not_entailment' (got 'sometimes')"),
    ("settings=[zero,none]", "key 'settings': Input should be 'zero', 'noisy' or 'accurate' (got 'none')"),
    ("no-equals-sign", "write KEY=VALUE"),
])
def test_bad_task_options(tmp_path, env, references, option, needle):
    result = run_cli("run", "-j", "always-pass", "-t", "refchecker-zero", "--data", str(references),
                     "--option", option, cwd=tmp_path, env=env)
    assert_one_line_error(result, needle)


def test_constant_judge_with_the_wrong_labels(tmp_path, env, references):
    result = run_cli("run", "-j", "always-pass", "-t", "refchecker-zero-claims", "--data", str(references),
                     cwd=tmp_path, env=env)
    assert_one_line_error(result, "always-pass", "Entailment, Neutral, Contradiction")


def test_agreement_with_missing_verdicts_by_hand():
    """Four gpt4 responses and one davinci001 (left out); verdict None = the judge gave none."""
    from halubench.scoring import agreement

    E, N, C = "Entailment", "Neutral", "Contradiction"
    responses = {  # gold labels, verdicts
        "a": ([E, E], [E, E]),  # factual, predicted factual
        "b": ([E, N], [E, E]),  # non-factual, predicted factual
        "c": ([C], [C]),  # non-factual, predicted non-factual
        "d": ([E, E], [None, N]),  # factual, predicted non-factual despite a missing verdict
        "e": ([E], [None]),  # factual, no prediction: wrong, and out of the correlations
    }
    records = []
    for name, (gold, verdicts) in responses.items():
        for index, (g, v) in enumerate(zip(gold, verdicts, strict=True)):
            records.append({"id": f"{name}/{index}", "gold": g, "verdict": v, "cluster": f"zero/gpt4/{name}",
                            "groups": {"setting": "zero", "responder": "gpt4"}})
    records.append({"id": "x/0", "gold": E, "verdict": C, "cluster": "zero/davinci001/x",
                    "groups": {"setting": "zero", "responder": "davinci001"}})
    counts = Counter(r["cluster"] for r in records)
    figures = agreement(records, counts)["refchecker_agreement"]["by_setting"]["zero"]
    assert figures["responses"] == 5 and figures["gold_factual"] == 3 and figures["no_prediction"] == 1
    assert figures["accuracy"] == 2 / 5
    # factual: tp 1 (a), predicted factual a, b -> P 1/2; gold factual a, d, e -> R 1/3; F1 = 0.4
    assert figures["factual_f1"] == pytest.approx(0.4)
    # non-factual: tp 1 (c), predicted c, d -> P 1/2; gold b, c -> R 1/2; F1 = 0.5
    assert figures["non_factual_f1"] == pytest.approx(0.5)
    assert figures["macro_f1"] == pytest.approx(0.45)
    # correlations over a, b, c: gold rates 0, .5, 1; predicted 0, 0, 1 (d has a missing verdict)
    assert figures["correlated_responses"] == 3
    assert figures["pearson"] == pytest.approx(0.8660254037844386)
    assert figures["spearman"] == pytest.approx(0.8660254037844386)
