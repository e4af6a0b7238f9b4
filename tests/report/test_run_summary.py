"""The closing summary of ``halubench run``: every field, read from a real run against the loopback server."""

from __future__ import annotations

import json
from pathlib import Path

from api_runs import api_env, judge_file, rows, summary_of
from conftest import run_cli, write_jsonl
from fake_llm_server import FakeLLMServer, Status, Text, verdict_reply

from halubench.report import summary_lines


def script(call):
    if "Record 3:" in call.prompt or "Record 7:" in call.prompt:
        return Status(500, "upstream overloaded")
    if "Record 5:" in call.prompt:
        return Text("I cannot tell.")
    if "Record 9:" in call.prompt:
        return Text("")  # an empty reply: truncated
    return verdict_reply(call.prompt)


def test_closing_summary_after_a_run(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", rows(30))
    defs = judge_file(tmp_path, "fake", "openai")
    args = ("run", "--judge", "fake", "--data", str(path), "--include-path", str(defs))
    with FakeLLMServer(script) as server:
        first = run_cli(*args, cwd=tmp_path, env=api_env(server))
        again = run_cli(*args, cwd=tmp_path, env=api_env(server))
    assert first.returncode == 1, first.stderr  # written, but incomplete: two rows failed
    summary, _ = summary_of(tmp_path, "fake")
    usage, overall = summary["usage"], summary["metrics"]["overall"]
    out = first.stdout
    assert out.index("overall (micro)") < out.index("rows: 30 judged")  # after the per-domain table
    assert "rows: 30 judged, 0 from cache, 30 called" in out
    assert f"tokens: {usage['input_tokens']:,} in, {usage['output_tokens']:,} out" in out
    assert "prices from the judge file, undated" in out and "per 1,000 rows" in out
    assert "latency: p50 " in out and ", p95 " in out
    assert "model version answering: fake-model-fake-0001 (28)" in out
    assert (f"without a verdict: {overall['unparsed']} unparsed, {overall['truncated']} truncated, 2 errors, "
            "0 too long") in out
    assert "errors: 2 × HTTP 500: upstream overloaded" in out
    assert overall["truncated"] == 1 and "truncated: 1 × finish reason stop" in out
    results = next((tmp_path / "results").rglob("*.json")).relative_to(tmp_path)
    assert f"results: {results}" in out

    assert again.returncode == 1, again.stderr
    assert "rows: 30 judged, 27 from cache, 3 called" in again.stdout  # failed and truncated rows are asked again


def test_fields_other_runs_carry_are_shown():
    """Keys some summaries carry (truncated, complete, failures, usage.mode) appear when present."""
    summary = {
        "n": 10, "complete": False, "failures": {"HTTP 529: overloaded": 3, "timeout": 1},
        "usage": {"cached_replies": 4, "called": 6, "mode": "batch", "input_tokens": 1000, "output_tokens": 50,
                  "cost_usd": 0.5, "cost_per_1000_usd": 50.0, "latency_p50_s": 1.5, "latency_p95_s": 12.25,
                  "model_versions": {"m-2": 2, "m-1": 4}},
        "metrics": {"overall": {"unparsed": 1, "truncated": 2, "errors": 4, "too_long": 0}},
    }
    samples = [{"status": "truncated", "finish_reason": "length"}, {"status": "truncated", "finish_reason": None}]
    text = "\n".join(summary_lines(json.loads(json.dumps(summary)), samples, Path("results/x.json")))
    assert "rows: 10 judged, 4 from cache, 6 called (batch)" in text
    assert "cost: $0.50 ($50.00 per 1,000 rows; prices from the judge file, undated)" in text
    summary["usage"]["prices_as_of"] = "2026-11-01"
    text = "\n".join(summary_lines(summary, samples, Path("results/x.json")))
    assert "prices from the judge file, dated 2026-11-01" in text
    assert "latency: p50 1.50 s, p95 12.2 s" in text
    assert "model versions answering: m-1 (4), m-2 (2)" in text
    assert "without a verdict: 1 unparsed, 2 truncated, 4 errors, 0 too long" in text
    assert "errors: 3 × HTTP 529: overloaded; 1 × timeout" in text
    assert "truncated: 1 × finish reason length; 1 × finish reason none (empty reply)" in text
    assert text.endswith("results: results/x.json")
