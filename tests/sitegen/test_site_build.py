"""`halubench site`: what it writes, checked in the files (the browser tests check the pages)."""

import array
import base64
import json
import math
import re
import shutil
import sys
import zlib
from html.parser import HTMLParser

import pandas as pd
import pytest
from conftest import read_results, results_file, run_cli
from refchecker_data import annotations_dir, write_references
from siteruns import (
    EVIL_JUDGE,
    OFFLINE_JUDGES,
    PAYLOAD,
    SCORED_ROWS,
    make_results,
    write_claim_level_run,
    write_constructed_runs,
    write_scored_runs,
)

from halubench.board import build_leaderboards, run_verdicts
from halubench.config import PACKAGE_DIR
from halubench.results import load_runs, slug
from halubench.sitegen import TEXT_SHARD_ROWS, board_view, leaderboard_table


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    make_results(folder, with_shared_data=False)
    result = run_cli("site", "--out", "public", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert "leaderboard page" in result.stdout
    return folder


def page_of(results, task, judge):
    """A run's site address without suffix: runs/<task>/<judge>/<config_id>."""
    return f"runs/{task}/{slug(judge)}/{results_file(results, task, judge).stem}"


def unpack(packed):
    """A packed column of integers, "<array type>:<base64 of its little-endian bytes>", as a list; a list
    of columns (one per breakdown) gives the first one's."""
    packed = packed[0] if isinstance(packed, list) else packed
    values = array.array(packed[0], base64.b64decode(packed[2:]))
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


def read_data(path):
    """The key and JSON of a data file `halubenchData.inflate("key","<base64 of deflated JSON>");`."""
    text = path.read_text(encoding="utf-8")
    match = re.fullmatch(r'halubenchData\.inflate\(("[^"]*"),"([A-Za-z0-9+/=]*)"\);\n', text)
    assert match, path
    return json.loads(match.group(1)), json.loads(zlib.decompress(base64.b64decode(match.group(2))))


def test_site_has_a_page_chart_and_explorer_per_run(built):
    site = built / "public"
    for judge in OFFLINE_JUDGES:
        for suffix in (".html", ".samples.html", ".svg"):
            config = results_file(built / "results", "halubench-sample", judge).stem
            assert (site / "runs" / "halubench-sample" / judge / f"{config}{suffix}").is_file()
    index = (site / "index.html").read_text()
    assert index.count('class="reported"') == 11 and index.count('<span class="badge reported"') >= 11
    assert index.count('<tr class="measured"') == 5
    assert "Ravi, Mielczarek" in index and "82.6" in index
    frame = pd.read_csv(site / "leaderboard.csv")
    assert set(frame["kind"]) == {"measured", "reported"} and len(frame) == 11 + 5


def test_untrusted_text_is_escaped_in_every_file(built):
    site = built / "public"
    for page in [site / "index.html", *site.glob("runs/**/*.html")]:
        text = page.read_text()
        assert "<script>window" not in text and '<img src="x"' not in text, page
        assert "<b>judge</b>" not in text, page
    assert "evil &lt;b&gt;judge&lt;/b&gt;" in (site / "index.html").read_text()
    _, texts = read_data(next((site / "data" / "halubench-sample" / "texts").glob("*.js")))
    # Data files hold the text verbatim as JSON strings; the explorer renders it with textContent.
    assert any(PAYLOAD in row.get("passage", "") for row in texts)
    assert (site / f"{page_of(built / 'results', 'halubench-sample', EVIL_JUDGE)}.samples.html").is_file()


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside script elements."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.script_text, self._in_script = [], [], False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.script_text.append(data)


def test_pages_load_nothing_from_outside_and_run_no_inline_code(built):
    for page in (built / "public").rglob("*.html"):
        parsed = Elements(page.read_text())
        for tag, attrs in parsed.tags:
            assert tag != "img" or attrs["src"].endswith(".svg"), (page, attrs)  # only the site's charts
            assert not any(name.startswith("on") for name in attrs), (page, tag, attrs)
            for name in ("src", "href"):
                target = attrs.get(name) or ""
                if tag == "a" and name == "href":
                    continue  # links are followed only when clicked; nothing loads on its own
                assert not re.match(r"^([a-z]+:)?//", target), (page, tag, target)
        assert parsed.script_text == [], page
        csp = next(a["content"] for t, a in parsed.tags if a.get("http-equiv") == "Content-Security-Policy")
        assert "default-src 'none'" in csp and "script-src 'self'" in csp


def test_explorer_data_is_sharded_and_texts_stored_once_per_task(built):
    data = built / "public" / "data" / "halubench-sample"
    config = results_file(built / "results", "halubench-sample", "lexical").stem
    key, index = read_data(data / "runs" / "lexical" / config / "index.js")
    assert key == f"halubench-sample/runs/lexical/{config}/index" and index["rows"] == 96
    assert index["labels"] == ["PASS", "FAIL"] and index["breakdowns"][0]["name"] == "domain"
    domains = index["breakdowns"][0]["groups"]
    samples = read_results(built / "results", "halubench-sample", "lexical")[1]
    texts = [t for shard in sorted((data / "texts").glob("*.js")) for t in read_data(shard)[1]]
    ids_key, ids = read_data(data.parent / f"{index['ids']}.js")
    assert ids_key == index["ids"] and ids_key.startswith("halubench-sample/ids/")
    gold, verdict, status, text, domain = (unpack(index[c]) for c in ("gold", "verdict", "status", "text", "group"))
    for i, sample in enumerate(samples):
        assert ids[i] == sample["id"]
        assert index["labels"][gold[i]] == sample["gold"]
        assert verdict[i] == (index["labels"].index(sample["verdict"]) if sample["verdict"] else -1)
        assert index["statuses"][status[i]] == sample["status"]
        assert domains[domain[i]] == sample["groups"]["domain"]
        assert texts[text[i]] == sample["fields"]
    # The runs with the same rows in the same order share one list of ids.
    assert len(list((data / "ids").glob("*.js"))) == 2  # the sample's rows, and the payload run's
    # 96 sample rows + 6 rows of the payload file, whatever the number of judges.
    assert len(texts) == 102 and len(list((data / "texts").glob("*.js"))) == math.ceil(102 / TEXT_SHARD_ROWS)


def test_rebuild_replaces_its_own_site_but_never_a_foreign_folder(built, tmp_path):
    site = built / "public"
    stale = site / "runs" / "halubench-sample" / "gone.html"
    stale.write_text("old page")
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file() and p != stale}
    result = run_cli("site", "--out", "public", cwd=built)
    assert result.returncode == 0, result.stderr
    assert not stale.exists()
    # Deterministic: the same results give the same bytes (no build date anywhere), so a nightly
    # rebuild of unchanged results changes nothing.
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    result = run_cli("site", "--results-dir", str(built / "results"), "--out", str(foreign), cwd=tmp_path)
    assert result.returncode == 2 and "was not made by `halubench site`" in result.stderr
    assert (foreign / "notes.txt").read_text() == "keep me" and len(list(foreign.iterdir())) == 1


def test_site_without_results_is_one_line(tmp_path):
    result = run_cli("site", "--results-dir", "missing", cwd=tmp_path)
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "site").exists()


def test_site_is_generic_over_breakdown_and_labels(tmp_path):
    """A 3-class run by setting, with sparse usage and provenance, as another task may write it."""
    write_claim_level_run(tmp_path / "results")
    result = run_cli("site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / f"{page_of(tmp_path / 'results', 'refchecker-claims', 'checker')}.html").read_text()
    for label in ("Entailment", "Neutral", "Contradiction", "zero_context", "macro-F1", "$1.25"):
        assert label in page
    index = (tmp_path / "site" / "index.html").read_text()
    section = index.split('id="task-refchecker-claims"')[1].split("</section>")[0]
    assert "by setting" in section and "checker" in section and 'class="reported"' not in section


def test_a_measured_run_of_a_paper_model_shows_beside_the_reported_row(tmp_path):
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "gpt.yaml").write_text("judge: gpt-4o\nbackend: lexical\n")
    data = PACKAGE_DIR / "sample_data" / "halubench_sample.jsonl"
    result = run_cli("run", "--judge", "gpt-4o", "--task", "halubench", "--data", str(data),
                     "--include-path", str(tmp_path / "defs"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    result = run_cli("site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    index = (tmp_path / "site" / "index.html").read_text()
    config = results_file(tmp_path / "results", "halubench", "gpt-4o").stem
    measured = index.split(f'id="run-halubench-gpt-4o-{config}"')[1].split("</tr>")[0]
    reported = index.split('id="halubench-reported-GPT-4o"')[1].split("</tr>")[0]
    assert 'href="#halubench-reported-GPT-4o">paper: GPT-4o<' in measured
    assert f'href="runs/halubench/gpt-4o/{config}.html">measured: GPT-4o<' in reported  # the card's name
    assert "86.5" in reported and "87.9" in reported
    page = (tmp_path / "site" / "runs" / "halubench" / "gpt-4o" / f"{config}.html").read_text()
    assert "The paper reports" in page and "86.5% overall" in page
    chart = (tmp_path / "site" / "runs" / "halubench" / "gpt-4o" / f"{config}.svg").read_text()
    assert "reported in the paper" in chart and chart.count("HaluEval") == 1


def test_a_summary_without_its_samples_is_one_line(built, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(built / "results" / "halubench-sample", results / "halubench-sample")
    summary = results_file(results, "halubench-sample", "lexical")
    (summary.parent / f"{summary.stem}.samples.jsonl").unlink()
    result = run_cli("site", cwd=tmp_path)
    assert result.returncode == 2 and f"{summary.stem}.samples.jsonl" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "site").exists()


def test_refchecker_runs_show_their_provenance_exclusions_and_agreement(tmp_path, shared_data):
    references = write_references(tmp_path / "refs.jsonl", shared_data)
    env = {"HALUBENCH_REFCHECKER_ANNOTATIONS": str(annotations_dir(shared_data))}
    for judge, task in (("always-fail", "refchecker-zero"), ("always-entailment", "refchecker-zero-claims")):
        result = run_cli("run", "-j", judge, "-t", task, "--data", str(references), cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
    result = run_cli("site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    site, results = tmp_path / "site", tmp_path / "results"
    responses = (site / f"{page_of(results, 'refchecker-zero', 'always-fail')}.html").read_text()
    assert "annotations commit 1df1b25cee792ba2b171302e31ca4f768bd67703" in responses
    assert "87 rows: responses without claim triplets" in responses
    claims = (site / f"{page_of(results, 'refchecker-zero-claims', 'always-entailment')}.html").read_text()
    assert "RefChecker agreement" in claims and "Contradiction" in claims
    index = (tmp_path / "site" / "index.html").read_text()
    assert "RefChecker annotations@1df1b25" in index and "by responder" in index


def test_cards_facts_and_about_page(built):
    site = built / "public"
    index = (site / "index.html").read_text()
    # Built-in judges show the display names of their judge files, with their card; ad-hoc ones their id.
    assert ">Lexical overlap heuristic</a>" in index and "halubench · baseline · no weights" in index
    assert 'data-card-kind="baseline" data-weights="none"' in index
    assert ">Lynx 70B</span>" in index  # a reported row carries the card of its judge file (for filters)
    assert "data last changed 20" in index and "harness 0.1.0" in index
    about = (site / "about.html").read_text()
    for phrase in ("Holm", "truncated", "too long", "Wilson", "How to submit a judge", "halubench-sample"):
        assert phrase in about
    contested = (site / "contested.html").read_text()
    assert "Not enough strong judges" in contested  # offline baselines are under the floor


def test_auroc_column_appears_only_when_runs_carry_it(tmp_path):
    write_constructed_runs(tmp_path / "results")
    (board,) = build_leaderboards(load_runs(tmp_path / "results"), [])
    view = board_view(board, lambda run_id: run_verdicts(board.runs[run_id], board.breakdown), {},
                      "halubench-sample")
    assert "AUROC" not in [h["text"] for h in leaderboard_table(board, view)["headers"]]
    board.rows[0]["auroc"] = 0.875  # as a classifier's row has it
    table = leaderboard_table(board, view)
    column = [h["text"] for h in table["headers"]].index("AUROC")
    assert table["rows"][0]["cells"][column]["text"] == "87.5"
    assert table["rows"][1]["cells"][column]["text"] == "–"
    balanced = [h["text"] for h in table["headers"]].index("Balanced")
    assert table["rows"][0]["cells"][balanced]["text"] == "96.0"


def test_auroc_over_some_rows_is_marked_with_its_coverage(tmp_path):
    """On the board and the run page: marked, its row count said, and sorted after the full-coverage AUROCs."""
    write_scored_runs(tmp_path / "results")
    result = run_cli("site", "--no-reported", "--out", "public", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (board,) = build_leaderboards(load_runs(tmp_path / "results"), [])
    view = board_view(board, lambda run_id: run_verdicts(board.runs[run_id], board.breakdown), {},
                      "halubench-sample")
    table = leaderboard_table(board, view)
    column = [h["text"] for h in table["headers"]].index("AUROC")
    cells = {row["judge"]: row["cells"][column] for row in table["rows"]}
    assert cells["scores-some"]["text"] == "100.0 ‡" and cells["scores-some"]["sort_group"] == 1
    assert cells["scores-some"]["sub"] == f"12 of {SCORED_ROWS} rows"
    assert cells["scores-all"]["text"] == "87.8" and cells["scores-all"]["sort_group"] == 0
    index = (tmp_path / "public" / "index.html").read_text()
    assert 'data-sort-group="1"' in index and f"12 of {SCORED_ROWS} rows" in index
    some = next((tmp_path / "public" / "runs" / "halubench-sample" / "scores-some").glob("*-config.html"))
    assert f"over 12 of {SCORED_ROWS} rows</strong>" in some.read_text()
    everything = next((tmp_path / "public" / "runs" / "halubench-sample" / "scores-all").glob("*-config.html"))
    assert f"over all {SCORED_ROWS} rows" in everything.read_text()
