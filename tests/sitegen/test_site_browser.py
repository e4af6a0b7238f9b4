"""The site in a real browser: Debian's Chromium driven by Playwright.

Every page is opened both from a loopback HTTP server and from file://, the
two ways people open the site. The browser is Debian's (Playwright's own
download cannot run here); `nox -s browser` sets HALUBENCH_REQUIRE_BROWSER so a
missing browser fails there instead of skipping.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
from pathlib import Path

import pytest
from conftest import REPO, SHARED_DATA, read_results, results_file, run_cli
from siteruns import (
    CONSTRUCTED,
    CONTESTED_IDS,
    EVIL_JUDGE,
    IMG,
    OFFLINE_JUDGES,
    PAYLOAD,
    SCRIPT,
    UNPARSED_ID,
    make_results,
    write_constructed_runs,
    write_scored_runs,
)

from halubench.results import slug

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("HALUBENCH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"
MODES = ("http", "file")


def unavailable(reason: str) -> None:
    if os.environ.get("HALUBENCH_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (HALUBENCH_REQUIRE_BROWSER is set: browser tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[browser]')")
    if not CHROMIUM.is_file():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set HALUBENCH_CHROMIUM)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


SUBMITTED_JUDGE = "lexical"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """Results of the offline judges (and the payload run), the lexical run also submitted (merged under
    submissions/), and the site built from them."""
    folder = tmp_path_factory.mktemp("browser-site")
    make_results(folder, with_shared_data=SHARED_DATA.is_dir())
    packed = run_cli("submit", SUBMITTED_JUDGE, "--task", "halubench-sample", "--out", "submissions/lexical",
                     "--contact", "researcher@example.org", cwd=folder)
    assert packed.returncode == 0, packed.stderr
    result = run_cli("site", "--out", "site", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server(project):
    handler = functools.partial(QuietHandler, directory=str(project / "site"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(params=MODES)
def base(request, project, server):
    return server if request.param == "http" else (project / "site").as_uri() + "/"


class Visit:
    """A page with every console message, page error and request recorded."""

    def __init__(self, browser, base: str, path: str):
        self.page = browser.new_page(viewport={"width": 1360, "height": 900})
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.problems.append(m.text))
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        # A navigation cancels loads still pending on the page it leaves (net::ERR_ABORTED): not a fault.
        self.page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "")
                     and self.problems.append(f"failed: {r.url} ({r.failure})"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.base = base
        self.goto(path)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)

    def check_clean(self) -> None:
        assert self.problems == []
        assert self.requests and all(url.startswith(self.base) for url in self.requests), self.requests
        assert self.page.evaluate("window.__pwned") is None

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def visit(browser):
    opened: list[Visit] = []

    def open_page(base: str, path: str) -> Visit:
        opened.append(Visit(browser, base, path))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


def wait_for_rows(visit: Visit) -> None:
    """Until the explorer has rendered the current filter and page (it unsets data-page while loading)."""
    visit.page.locator("#rows[data-page]").wait_for(state="attached")


def test_every_page_loads_clean(visit, base, project):
    pages = ["index.html", "about.html", "contested.html"] + sorted(
        p.relative_to(project / "site").as_posix() for folder in ("runs", "rows")
        for p in (project / "site" / folder).rglob("*.html"))
    page = visit(base, pages[0])
    for path in pages:
        page.goto(path)
        if path.endswith(".samples.html"):
            wait_for_rows(page)
            assert page.page.locator("#rows > li").count() > 0
        elif path.startswith("runs/"):
            page.page.wait_for_function("() => document.querySelector('img.chart').complete")
            assert page.page.evaluate("document.querySelector('img.chart').naturalWidth") > 0
        page.check_clean()


def column_values(page, table: str, column: int) -> list[str]:
    return page.locator(f"{table} tbody tr").evaluate_all(
        f"rows => rows.map(r => r.cells[{column}].getAttribute('data-sort'))")


def test_leaderboard_sorts_by_any_column(visit, base):
    page = visit(base, "index.html")
    table = "table[data-task='halubench-sample']:not(.unranked)"  # the main board; runs apart sort on their own
    headers = page.page.locator(f"{table} thead th")
    names = headers.all_inner_texts()
    judge, overall = names.index("Judge"), names.index("Overall")
    assert names[:3] == ["Rank", "Source", "Judge"]
    headers.nth(judge).locator("button").click()
    values = column_values(page.page, table, judge)
    assert values == sorted(values, key=str.lower)
    headers.nth(judge).locator("button").click()
    assert column_values(page.page, table, judge) == sorted(values, key=str.lower, reverse=True)
    assert headers.nth(judge).get_attribute("aria-sort") == "descending"
    for column in [0, *range(3, len(names))]:  # every numeric column sorts, missing values last
        headers.nth(column).locator("button").click()
        numbers = column_values(page.page, table, column)
        present = [float(v) for v in numbers if v]
        direction = headers.nth(column).get_attribute("aria-sort")
        assert present == sorted(present, reverse=direction == "descending"), names[column]
        assert numbers[len(present):] == [""] * (len(numbers) - len(present))
    headers.nth(overall).locator("button").click()
    page.check_clean()


def test_reported_and_measured_rows_cannot_be_mistaken(visit, base, project):
    page = visit(base, "index.html").page
    table = page.locator("table[data-task='halubench']")
    reported = table.locator("tbody tr.reported")
    assert reported.count() == 11
    for row in reported.all():
        assert row.locator(".col-source").inner_text().strip().lower() == "reported"
        assert row.locator("a.judge-name").count() == 0 and row.locator(".dagger").count() == 1
    # Striped background and italics set reported rows apart even without reading the badge.
    style = reported.first.evaluate("r => [getComputedStyle(r).backgroundImage, getComputedStyle(r).fontStyle]")
    assert "gradient" in style[0] and style[1] == "italic"
    measured = page.locator("tbody tr.measured")
    for row in measured.all():
        badge = row.locator(".col-source").inner_text().strip().lower()
        assert badge == row.get_attribute("data-provenance") and badge in ("reproduced", "submitted")
        assert row.locator("a.judge-name").count() == 1
    sonnet = table.locator("tbody tr.reported", has_text="Claude-3-Sonnet")
    assert "78.8" in sonnet.inner_text()
    note = page.locator(sonnet.locator("a.note-ref").get_attribute("href"))
    assert "82.6" in note.inner_text()
    haiku = table.locator("tbody tr.reported", has_text="Claude-3-Haiku").inner_text()
    assert "69.0" in haiku
    assert "arXiv:2407.08488" in page.locator("#task-halubench .citation").inner_text()
    if SHARED_DATA.is_dir():  # measured halubench runs share the table with the paper's rows
        assert table.locator("tbody tr.measured").count() == len(OFFLINE_JUDGES)
    page.locator("#task-halubench input.show-reported").uncheck()
    assert reported.first.is_hidden()
    assert all(row.is_visible() for row in table.locator("tbody tr.measured").all())
    page.locator("#task-halubench input.show-reported").check()
    assert reported.first.is_visible()


def test_every_row_says_how_it_was_obtained_and_the_filter_keeps_reproduced_rows(visit, base):
    board = visit(base, "index.html")
    page = board.page
    rows = page.locator("table[data-task='halubench-sample']:not(.unranked) tbody tr")
    badges = [(r.get_attribute("data-provenance"), r.locator(".col-source .badge").inner_text().strip().lower())
              for r in rows.all()]
    assert all(kind == shown for kind, shown in badges)
    assert sorted({kind for kind, _ in badges}) == ["reproduced", "submitted"]
    submitted = rows.filter(has=page.locator(".badge.submitted"))
    assert submitted.count() == 1 and "Lexical overlap heuristic" in submitted.inner_text()
    # Submitted and reproduced runs of one judge: both ranked, each linking the other with the paired test.
    chip = submitted.locator("a.chip", has_text="vs the reproduced run")
    assert "McNemar p = 1" in chip.inner_text()
    colours = submitted.locator(".badge").evaluate("b => getComputedStyle(b).backgroundColor")
    reproduced_colour = rows.locator(".badge.reproduced").first.evaluate("b => getComputedStyle(b).backgroundColor")
    assert colours != reproduced_colour  # told apart without reading the word

    every = page.locator("table.leaderboard tbody tr")
    total = every.count()
    page.locator("input[name=reproduced]").check()
    visible = [r for r in every.all() if r.is_visible()]
    assert visible and all(r.get_attribute("data-provenance") == "reproduced" for r in visible)
    assert submitted.first.is_hidden() and page.locator("tbody tr.reported").first.is_hidden()
    assert page.locator("#filter-count").inner_text() == f"{len(visible)} of {total} rows shown"
    page.locator("input[name=reproduced]").uncheck()
    assert submitted.first.is_visible() and page.locator("#filter-count").inner_text() == ""

    chip.click()  # to the reproduced run, whose page names the check too
    page.wait_for_load_state()
    assert page.locator("h1 .badge").inner_text().strip().lower() == "reproduced"
    assert "Reproducibility check" in page.locator("#obtained").inner_text()
    board.check_clean()


def test_a_submitted_runs_page_says_how_it_was_obtained(visit, base, project):
    [summary] = (project / "submissions" / "lexical").glob("summary.json")
    config = json.loads(summary.read_text())["config_id"]
    page = visit(base, f"runs/halubench-sample/lexical/{config}-submitted.html")
    assert page.page.locator("h1 .badge").inner_text().strip().lower() == "submitted"
    obtained = page.page.locator("#obtained").inner_text()
    assert "sent every raw reply" in obtained and "researcher@example.org" in obtained
    page.page.wait_for_function("() => document.querySelector('img.chart').complete")
    assert page.page.evaluate("document.querySelector('img.chart').naturalWidth") > 0
    page.page.locator("a", has_text="explore the 96 judgments").click()
    wait_for_rows(page)
    assert page.page.locator("#rows > li").count() > 0
    page.check_clean()


def read_samples(project: Path, task: str, judge: str) -> list[dict]:
    return read_results(project / "results", task, judge)[1]


def run_page(project: Path, task: str, judge: str) -> str:
    """A run's page address without its suffix: runs/<task>/<judge>/<config_id>."""
    return f"runs/{task}/{slug(judge)}/{results_file(project / 'results', task, judge).stem}"


def shown_count(page) -> int:
    text = page.locator("#count").inner_text()
    return 0 if text == "no rows match" else int(text.split(" of ")[1].split()[0].replace(",", ""))


def test_explorer_filters(visit, base, project):
    visit_ = visit(base, run_page(project, "halubench-sample", "lexical") + ".samples.html")
    page = visit_.page
    wait_for_rows(visit_)
    samples = read_samples(project, "halubench-sample", "lexical")
    assert shown_count(page) == len(samples) == 96
    assert page.locator("#rows > li").count() == 20

    def choose(name: str, label: str) -> None:
        page.locator(f"select[name={name}]").select_option(label=label)
        wait_for_rows(visit_)

    choose("group-domain", "DROP")
    assert shown_count(page) == 16
    assert set(page.locator("#rows .judgment-head .tag.group").all_inner_texts()) == {"DROP"}
    choose("outcome", "wrong")
    wrong = [s for s in samples if s["groups"]["domain"] == "DROP" and not s["correct"]]
    assert shown_count(page) == len(wrong)
    assert page.locator("#rows > li").evaluate_all("rows => rows.map(r => r.dataset.id)") == [s["id"] for s in wrong]
    choose("gold", "FAIL")
    assert shown_count(page) == sum(s["gold"] == "FAIL" for s in wrong)
    choose("group-domain", "all")
    choose("gold", "all")
    choose("outcome", "correct")
    assert shown_count(page) == sum(s["correct"] for s in samples)
    choose("outcome", "all")
    page.locator("#next").click()
    wait_for_rows(visit_)
    assert page.locator("#rows > li").first.get_attribute("data-id") == samples[20]["id"]
    first = page.locator("#rows > li").first
    assert samples[20]["fields"]["question"] in first.inner_text()
    visit_.check_clean()


def test_untrusted_text_shows_as_text_and_runs_nothing(visit, base, project):
    board = visit(base, "index.html")
    cell = board.page.locator("tr.measured", has_text="evil <b>judge</b>").locator("a.judge-name")
    assert cell.inner_text() == EVIL_JUDGE and cell.locator("b, img").count() == 0
    board.check_clean()

    page_of_run = visit(base, run_page(project, "halubench-sample", EVIL_JUDGE) + ".html")
    assert EVIL_JUDGE in page_of_run.page.locator("h1").inner_text()
    page_of_run.check_clean()

    explorer = visit(base, run_page(project, "halubench-sample", EVIL_JUDGE) + ".samples.html")
    page = explorer.page
    wait_for_rows(explorer)
    page.locator("select[name=status]").select_option(label="unparsed")
    wait_for_rows(explorer)
    assert shown_count(page) == 1
    unparsed = page.locator("#rows > li")
    assert unparsed.get_attribute("data-id") == UNPARSED_ID
    assert f"I cannot decide. {PAYLOAD}" in unparsed.inner_text()
    page.locator("select[name=status]").select_option(label="all")
    page.locator("input[name=id]").fill("xss-passage")
    wait_for_rows(explorer)
    card = page.locator("#rows > li")
    card.locator("details summary").evaluate_all("all => all.forEach(s => s.click())")
    text = card.inner_text()
    for shown in (f"When? {PAYLOAD}", f"In 1900. {PAYLOAD}", f"reasoning with {PAYLOAD}", SCRIPT, IMG):
        assert shown in text
    assert page.locator("#rows script, #rows img, #rows b").count() == 0
    page.wait_for_timeout(300)  # an injected onerror would fire on the failed image load
    explorer.check_clean()


def test_claim_level_run_filters_by_both_breakdowns(visit, base, project):
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}: the RefChecker run was not made")
    explorer = visit(base, run_page(project, "refchecker-claims", "random") + ".samples.html")
    page = explorer.page
    wait_for_rows(explorer)
    samples = read_samples(project, "refchecker-claims", "random")
    assert shown_count(page) == len(samples) == 10733
    for name, label in (("group-setting", "zero"), ("group-responder", "gpt4"), ("gold", "Contradiction")):
        page.locator(f"select[name={name}]").select_option(label=label)
        wait_for_rows(explorer)
    expected = [s["id"] for s in samples if s["groups"] == {"setting": "zero", "responder": "gpt4"}
                and s["gold"] == "Contradiction"]
    assert shown_count(page) == len(expected) > 0
    assert page.locator("#rows > li").first.get_attribute("data-id") == expected[0]
    assert "Contradiction" in page.locator("#rows > li").first.inner_text()
    board = visit(base, "index.html").page
    headers = board.locator("table[data-task='refchecker-claims'] thead th").all_inner_texts()
    assert headers[3:6] == ["accurate", "noisy", "zero"]  # after Rank, Source and Judge
    explorer.check_clean()


def test_large_run_pages_through_shards(visit, base, project):
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}: the HaluEval runs were not made")
    explorer = visit(base, run_page(project, "halubench", "lexical") + ".samples.html")
    page = explorer.page
    wait_for_rows(explorer)
    assert shown_count(page) == 1000
    before = {u for u in explorer.requests if "/r0" in u or "/texts/" in u}
    for _ in range(30):  # to rows 601-620: later reply and text shards load on demand
        page.locator("#next").click()
    wait_for_rows(explorer)
    page.locator("#rows[data-page='30']").wait_for(state="attached")
    samples = read_samples(project, "halubench", "lexical")
    assert page.locator("#rows > li").first.get_attribute("data-id") == samples[600]["id"]
    after = {u for u in explorer.requests if "/r0" in u or "/texts/" in u}
    assert any(u.endswith("/r00002.js") for u in after - before)
    assert any(u.endswith("/texts/00006.js") for u in after - before)
    explorer.check_clean()


def test_screenshots_are_kept(visit, server, project):
    ARTIFACTS.mkdir(exist_ok=True)
    board = visit(server, "index.html")
    board.page.screenshot(path=str(ARTIFACTS / "leaderboard.png"), full_page=True)
    run = visit(server, run_page(project, "halubench-sample", "lexical") + ".html")
    run.page.screenshot(path=str(ARTIFACTS / "run-page.png"), full_page=True)
    explorer = visit(server, run_page(project, "halubench-sample", "lexical") + ".samples.html")
    wait_for_rows(explorer)
    explorer.page.screenshot(path=str(ARTIFACTS / "explorer.png"))
    for name in ("leaderboard.png", "run-page.png", "explorer.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000


# The board, chart, row view and contested labels on constructed runs whose verdicts are known
# (tests/siteruns.py: CONSTRUCTED), opened from file://.


@pytest.fixture(scope="module")
def constructed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("constructed-site")
    samples = write_constructed_runs(folder / "results")
    result = run_cli("site", "--out", "site", "--no-reported", cwd=folder)
    assert result.returncode == 0, result.stderr
    return (folder / "site").as_uri() + "/", samples


def visible_judges(page) -> list[str]:
    main = "table.leaderboard:not(.unranked) tbody tr"
    return [name for name in page.locator(f"{main} a.judge-name").all_inner_texts()
            if page.locator(main, has_text=name).first.is_visible()]


def test_board_filters_by_kind_weights_and_search(visit, constructed):
    base, _ = constructed
    board = visit(base, "index.html")
    page = board.page
    names = [card[0] for card in CONSTRUCTED.values()]
    assert visible_judges(page) == names  # display names, not ids; best first
    page.locator("select[name=kind]").select_option("fine-tuned")
    assert visible_judges(page) == ["Strong C"]
    page.locator("select[name=kind]").select_option("")
    page.locator("select[name=weights]").select_option("open")
    assert visible_judges(page) == ["Twin B", "Strong C", "Strong D"]
    page.locator("input[name=q]").fill("strong")
    assert visible_judges(page) == ["Strong C", "Strong D"]
    assert page.locator("#filter-count").inner_text() == "2 of 6 rows shown"  # the run not ranked counts too
    page.locator("select[name=weights]").select_option("")
    page.locator("input[name=q]").fill("twin-a")  # ids are found too
    assert visible_judges(page) == ["Twin A"]
    board.check_clean()


def test_rank_ranges_put_tied_judges_together(visit, constructed):
    base, _ = constructed
    board = visit(base, "index.html")
    ranks = dict(zip(
        board.page.locator("table.leaderboard tbody tr a.judge-name").all_inner_texts(),
        board.page.locator("table.leaderboard tbody tr td.col-rank").all_inner_texts(), strict=True))
    assert ranks["Twin A"] == ranks["Twin B"] and ranks["Twin A"].startswith("1–")
    assert ranks["Weak E"] == "5"
    # The run with failed rows is listed apart, unranked, saying why.
    apart = board.page.locator("table.leaderboard.unranked tbody tr")
    assert apart.count() == 1 and ranks["Flaky F"] == "–"
    assert "incomplete: 3 failed rows" in apart.inner_text()
    assert "Holm" in board.page.locator(".hint", has_text="Rank:").inner_text()
    board.check_clean()


def test_cost_and_latency_charts_have_one_point_per_run(visit, constructed):
    base, _ = constructed
    board = visit(base, "index.html")
    images = board.page.locator("figure.tradeoff img")
    assert images.count() == 2
    board.page.wait_for_function("() => [...document.querySelectorAll('figure.tradeoff img')].every(i => i.complete)")
    assert all(w > 0 for w in images.evaluate_all("all => all.map(i => i.naturalWidth)"))
    board.check_clean()
    for name in ("cost", "latency"):
        board.goto(f"charts/halubench-sample-{name}.svg")
        assert board.page.locator("[id^='point-']").count() == len(CONSTRUCTED)
        text = board.page.locator("svg").inner_html()
        assert "Pareto front" in text and "chance (50%)" in text
        for card in CONSTRUCTED.values():
            assert card[0] in text


def test_row_view_shows_every_judges_verdict(visit, constructed):
    base, samples = constructed
    explorer = visit(base, "runs/halubench-sample/twin-a/twin-a-config.samples.html")
    wait_for_rows(explorer)
    explorer.page.locator("input[name=id]").fill(CONTESTED_IDS[1])
    wait_for_rows(explorer)
    explorer.page.locator("#rows > li a.compare").click()
    explorer.page.locator(f"#rowview[data-shown='{CONTESTED_IDS[1]}']").wait_for(state="attached")
    cards = explorer.page.locator("#verdicts > li")
    assert cards.count() == len(CONSTRUCTED) + 1  # and the run not ranked
    for judge, card in CONSTRUCTED.items():
        (sample,) = [s for s in samples[judge] if s["id"] == CONTESTED_IDS[1]]
        text = cards.locator(f"xpath=self::*[@data-judge='{card[0]}']").inner_text()
        assert f"verdict {sample['verdict']}" in text and sample["reasoning"] in text
    assert f"question {int(CONTESTED_IDS[1][1:])}" in explorer.page.locator("#texts").inner_text()
    explorer.goto("rows/halubench-sample.html?id=no-such-row")
    assert explorer.page.locator("#status", has_text="no row with id no-such-row").count() == 1
    explorer.check_clean()


def test_explorer_filters_rows_where_two_judges_disagree(visit, constructed):
    base, samples = constructed
    explorer = visit(base, "runs/halubench-sample/twin-a/twin-a-config.samples.html")
    wait_for_rows(explorer)
    explorer.page.locator("select[name=disagree]").select_option(label="Strong D")
    explorer.page.locator("#count", has_text=" of ").wait_for()
    other = {s["id"]: s["verdict"] for s in samples["strong-d"]}
    expected = [s["id"] for s in samples["twin-a"] if other[s["id"]] != s["verdict"]]
    explorer.page.locator("#count", has_text=f"of {len(expected)} rows").wait_for()
    wait_for_rows(explorer)
    shown = explorer.page.locator("#rows > li").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert shown == expected[:20] and len(expected) == 8 + 20  # the contested rows and strong-d's misses
    explorer.check_clean()


def test_contested_page_lists_the_constructed_rows_per_domain(visit, constructed):
    base, _ = constructed
    contested = visit(base, "contested.html")
    page = contested.page
    rows = page.locator("li.contested-row").evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert sorted(rows) == CONTESTED_IDS
    counts = page.locator("table.contested-counts tbody tr").all_inner_texts()
    assert [" ".join(c.split()) for c in counts] == ["covidQA 4", "DROP 4"]
    first = page.locator("li.contested-row").first.inner_text()
    assert "3 of 4 strong judges disagree" in first and "Twin A reasons about" in first
    contested.check_clean()


def no_sideways_scroll(page) -> None:
    widths = page.locator(".table-scroll").evaluate_all("all => all.map(s => [s.scrollWidth, s.clientWidth])")
    assert widths and all(scroll <= client for scroll, client in widths), widths
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_ranking_fits_a_phone(visit, constructed, project):
    for base in (constructed[0], (project / "site").as_uri() + "/"):
        board = visit(base, "index.html")
        board.page.set_viewport_size({"width": 390, "height": 844})
        no_sideways_scroll(board.page)
        assert board.page.locator("table.leaderboard thead th", has_text="Overall").first.is_visible()
        assert board.page.locator("table.leaderboard thead th", has_text="Micro").first.is_hidden()  # folded away
        board.check_clean()


def test_screenshots_of_the_new_views_are_kept(visit, constructed):
    base, _ = constructed
    ARTIFACTS.mkdir(exist_ok=True)
    board = visit(base, "index.html")
    board.page.screenshot(path=str(ARTIFACTS / "constructed-leaderboard.png"), full_page=True)
    board.page.locator("figure.tradeoff").first.screenshot(path=str(ARTIFACTS / "cost-accuracy-chart.png"))
    rows = visit(base, f"rows/halubench-sample.html?id={CONTESTED_IDS[0]}")
    rows.page.locator(f"#rowview[data-shown='{CONTESTED_IDS[0]}']").wait_for(state="attached")
    rows.page.screenshot(path=str(ARTIFACTS / "row-view.png"), full_page=True)
    contested = visit(base, "contested.html")
    contested.page.screenshot(path=str(ARTIFACTS / "contested-labels.png"), full_page=True)
    for name in ("constructed-leaderboard.png", "cost-accuracy-chart.png", "row-view.png", "contested-labels.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000


def test_auroc_over_some_rows_never_sorts_among_the_full_ones(visit, tmp_path):
    """scores-some's AUROC (100, over 12 of 40 rows) is the highest, yet sorts after scores-all's (87.8,
    over every row) in both directions."""
    write_scored_runs(tmp_path / "results")
    result = run_cli("site", "--no-reported", "--out", "site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = visit((tmp_path / "site").as_uri() + "/", "index.html")
    table = "table[data-task='halubench-sample']:not(.unranked)"
    headers = page.page.locator(f"{table} thead th")
    auroc = headers.all_inner_texts().index("AUROC")
    judges = headers.all_inner_texts().index("Judge")
    for direction in ("descending", "ascending"):
        headers.nth(auroc).locator("button").click()
        assert headers.nth(auroc).get_attribute("aria-sort") == direction
        order = page.page.locator(f"{table} tbody tr").evaluate_all(
            f"rows => rows.map(r => r.cells[{judges}].textContent.trim())")
        assert [name.split()[0] for name in order] == ["scores-all", "scores-some"], direction
    page.check_clean()
