"""What the API-judge tests share: rows whose prompts say which row they are, a judge file, the server's env.

The expected results are computed from what the loopback server actually
answered (``expected_metrics``), never from what the code under test thinks.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from conftest import halubench_row, read_results
from fake_llm_server import FakeLLMServer, Text

DOMAINS = ("halueval", "DROP", "covidQA")
FAST_RETRY = {"max_attempts": 6, "base_delay_s": 0.01, "max_delay_s": 0.05, "request_timeout_s": 2.0,
              "deadline_s": 20.0}


def rows(n: int) -> list[dict]:
    return [halubench_row(i, "FAIL" if i % 3 == 0 else "PASS", DOMAINS[i % 3],
                          passage=f"Record {i}: the bridge opened in {1800 + i} and spans the river.")
            for i in range(n)]


def row_of(prompt: str) -> int:
    return int(prompt.split("Record ", 1)[1].split(":", 1)[0])


def expected_metrics(data: list[dict], replies: dict[str, Text], locate=row_of) -> dict[str, dict]:
    """Per-domain accuracy and unparsed counts implied by the server's final replies."""
    by_row = {locate(prompt): reply.verdict for prompt, reply in replies.items()}
    out: dict[str, dict] = {}
    for i, row in enumerate(data):
        stats = out.setdefault(row["source_ds"], Counter())
        stats["n"] += 1
        stats["correct"] += by_row[i] == row["label"]
        stats["unparsed"] += by_row[i] is None
    return {d: {"n": s["n"], "accuracy": s["correct"] / s["n"], "unparsed": s["unparsed"]} for d, s in out.items()}


def judge_file(folder: Path, name: str, backend: str, **settings) -> Path:
    body = {"judge": name, "backend": backend, "model": "fake-model", "retry": FAST_RETRY,
            "price_per_million": {"input": 2.0, "output": 8.0}, **settings}
    (folder / f"{name}.yaml").write_text(json.dumps(body))
    return folder


def summary_of(folder: Path, judge: str) -> tuple[dict, list[dict]]:
    return read_results(folder / "results", "halubench", judge)


def api_env(server: FakeLLMServer, key: str = "x") -> dict[str, str]:
    return {"OPENAI_BASE_URL": server.openai_base_url, "OPENAI_API_KEY": key,
            "ANTHROPIC_BASE_URL": server.url, "ANTHROPIC_API_KEY": key}


def assert_domains_match(summary: dict, expected: dict) -> None:
    by_domain = summary["metrics"]["by_domain"]
    assert set(by_domain) == set(expected)
    for domain, want in expected.items():
        got = by_domain[domain]
        assert (got["n"], got["accuracy"], got["unparsed"], got["errors"]) == (
            want["n"], want["accuracy"], want["unparsed"], 0), domain

