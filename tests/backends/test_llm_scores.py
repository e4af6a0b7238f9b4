"""Scores for LLM judges from token log-probabilities, through the OpenAI SDK against the loopback server."""

import json
import math

import pytest
from conftest import run_cli
from fake_llm_server import FakeLLMServer, verdict_confidence

from halubench.backends import TokenChoice, first_label_probability
from halubench.results import load_runs

LOGPROBS = ("--judge-arg", "generation.logprobs=true", "--judge-arg", "generation.top_logprobs=5")


def run_sample(tmp_path, server, *args):
    env = {"OPENAI_BASE_URL": server.openai_base_url, "OPENAI_API_KEY": "x"}
    result = run_cli("run", "--judge", "openai:judge-model", "--task", "halubench-sample", *args,
                     cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    (run,) = load_runs(tmp_path / "results")
    return run.summary, run.samples()


def test_logprobs_give_scores_and_auroc(tmp_path):
    with FakeLLMServer() as server:
        summary, samples = run_sample(tmp_path, server, *LOGPROBS)
        said = [(entry.call.prompt, entry.action) for entry in server.log]
        asked = [entry.call.body for entry in server.log]
    assert all(body["logprobs"] is True and body["top_logprobs"] == 5 for body in asked)
    expected = sorted(verdict_confidence(p) if a.verdict == "PASS" else 1 - verdict_confidence(p)
                      for p, a in said if a.verdict)
    assert sorted(s["score"] for s in samples if s["score"] is not None) == pytest.approx(expected)
    assert all(s["score"] is None for s in samples if s["status"] == "unparsed")
    for sample in samples:
        if sample["score"] is not None:  # the score agrees with the verdict the text states
            assert (sample["score"] > 0.5) == (sample["verdict"] == "PASS")
    overall = summary["metrics"]["overall"]
    assert overall["scored"] == len(expected) and overall["auroc"] is not None


def test_without_logprobs_there_is_no_score(tmp_path):
    with FakeLLMServer() as server:
        summary, samples = run_sample(tmp_path, server, "--limit", "12")
    assert all(s["score"] is None for s in samples)
    assert "auroc" not in summary["metrics"]["overall"]


def test_verdict_token_after_the_score_key_not_in_the_reasoning():
    def t(text, top=()):
        return TokenChoice(text, list(top))

    tokens = [t('{"REASONING": "'), t("PASS", [("PASS", 0.0)]), t(' is wrong", "SCORE": "'),
              t("F", [("F", math.log(0.6)), ("P", math.log(0.3)), ("The", math.log(0.1))]), t('AIL"}')]
    assert json.loads("".join(x.text for x in tokens))["SCORE"] == "FAIL"
    assert first_label_probability(tokens, ("PASS", "FAIL")) == pytest.approx(0.3 / 0.9)
    bare = [t("Ent", [("Ent", math.log(0.5)), ("Neutral", math.log(0.25)), ("Contr", math.log(0.25))]),
            t("ailment")]
    assert first_label_probability(bare, ("Entailment", "Neutral", "Contradiction")) == pytest.approx(0.5)
    assert first_label_probability([t("I cannot tell.")], ("PASS", "FAIL")) is None


def test_vllm_engine_output_gives_the_same_score_as_the_openai_wire():
    """vLLM's per-token {token id: Logprob} (as its CompletionOutput holds them) read like OpenAI's top_logprobs."""
    from types import SimpleNamespace as Logprob

    from halubench.backends import TokenChoice, first_label_probability, verdict_score

    pieces = [("{\"", {}), ("SCORE", {}), ("\": \"", {}), ("PASS", {"FAIL": -1.2, "P": -3.0}), ("\"}", {})]
    positions, token_ids, wire = [], [], []
    for number, (text, others) in enumerate(pieces):
        alternatives = {10 * number: Logprob(decoded_token=text, logprob=-0.1)}
        alternatives.update({10 * number + k + 1: Logprob(decoded_token=t, logprob=lp)
                             for k, (t, lp) in enumerate(others.items())})
        positions.append(alternatives)
        token_ids.append(10 * number)
        wire.append(TokenChoice(text, [(a.decoded_token, a.logprob) for a in alternatives.values()]))
    completion = Logprob(token_ids=token_ids, logprobs=positions)
    score = verdict_score(completion, ("PASS", "FAIL"))
    expected = (math.exp(-0.1) + math.exp(-3.0)) / (math.exp(-0.1) + math.exp(-3.0) + math.exp(-1.2))
    assert score == pytest.approx(expected) == first_label_probability(wire, ("PASS", "FAIL"))
    assert verdict_score(Logprob(token_ids=token_ids, logprobs=None), ("PASS", "FAIL")) is None
