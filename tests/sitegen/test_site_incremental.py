"""Incremental site builds: a change to one judge's run rewrites that judge's files and the task's summary
pages, and nothing else; a build with nothing changed writes nothing; and whatever the history, the site
is the same as a build from scratch."""

import shutil

import pytest
from siteruns import run_ok, write_constructed_runs

from halubench.results import load_runs, write_run
from halubench.scoring import score_run
from halubench.sitegen import build_site
from halubench.submission import submit

TASK = "halubench-sample"
# The pages that summarise the task: they change with any of its runs.
SUMMARY = {"index.html", "contested.html", "about.html", "leaderboard.csv", f"rows/{TASK}.html",
           f"data/{TASK}/rows.js", f"data/{TASK}/judges.js", f"charts/{TASK}-cost.svg",
           f"charts/{TASK}-latency.svg", f".halubench-cache/{TASK}-contested.json", ".halubench-manifest.json"}


def snapshot(site):
    """Every file's bytes, inode and mtime: a file rewritten with the same bytes still shows."""
    found = {}
    for path in site.rglob("*"):
        if path.is_file():
            stat = path.stat()
            found[path.relative_to(site).as_posix()] = (path.read_bytes(), stat.st_ino, stat.st_mtime_ns)
    return found


def own(judge):
    """Whether a site path is one of ``judge``'s own files (its pages and its explorer data)."""
    return lambda path: path.startswith((f"runs/{TASK}/{judge}/", f"data/{TASK}/runs/{judge}/"))


def rerun(results, judge, change, finished):
    """Write ``judge``'s run again with ``change(samples)`` applied, as a refresh writes a changed run."""
    (run,) = [r for r in load_runs(results) if r.judge == judge]
    samples = run.samples()
    change(samples)
    summary = {k: v for k, v in run.summary.items() if k not in ("format", "samples_file", "texts_file")}
    summary["metrics"] = score_run(samples, summary["labels"], summary["positive_label"], ("domain",))
    summary["provenance"] = {**summary["provenance"], "finished_at": finished}
    write_run(summary, samples, results)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """The build remembers its input files' hashes beside the reply cache: here, not in the user's."""
    monkeypatch.setenv("HALUBENCH_CACHE", str(tmp_path / "cache" / "replies.sqlite"))


@pytest.fixture
def results(tmp_path):
    write_constructed_runs(tmp_path / "results")
    return tmp_path / "results"


def differs(before, after):
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def test_nothing_changed_writes_nothing(results, tmp_path):
    site = tmp_path / "site"
    build_site(results, site, [])
    before = snapshot(site)
    again = build_site(results, site, [])
    assert not again.changed and again.remade == [] and snapshot(site) == before


@pytest.mark.parametrize("jobs", [1, 2])  # in the build's process, and in worker processes
def test_one_changed_judge_rewrites_its_files_and_the_task_summaries_only(results, tmp_path, jobs):
    site = tmp_path / "site"
    build_site(results, site, [], jobs)
    before = snapshot(site)

    def new_replies(samples):
        for sample in samples[:30]:
            sample["reasoning"] = f"a second look at {sample['id']}"
        samples[40].update(verdict=None, status="unparsed", correct=False)

    rerun(results, "strong-d", new_replies, "2026-11-09T12:00:00+00:00")
    built = build_site(results, site, [], jobs)
    after = snapshot(site)
    changed = differs(before, after)
    assert built.remade == [f"{TASK}/strong-d/strong-d-config"]
    assert set(built.written) == changed - {".halubench-manifest.json"}
    assert {p for p in changed if not own("strong-d")(p)} <= SUMMARY
    mine = {p for p in after if own("strong-d")(p)}
    assert {f"runs/{TASK}/strong-d/strong-d-config.html", f"data/{TASK}/runs/strong-d/strong-d-config/r00000.js",
            f"data/{TASK}/runs/strong-d/strong-d-config/index.js"} <= changed & mine
    # Every other judge's files keep their bytes, inode and mtime.
    assert all(before[p] == after[p] for p in before if p not in SUMMARY and not own("strong-d")(p))

    # The same site as a build from scratch, byte for byte, its manifest included.
    scratch = tmp_path / "scratch"
    build_site(results, scratch, [], jobs)
    assert {p: v[0] for p, v in snapshot(scratch).items()} == {p: v[0] for p, v in after.items()}


def test_runs_added_and_removed_leave_the_others_alone(results, tmp_path):
    site = tmp_path / "site"
    build_site(results, site, [])
    before = snapshot(site)
    # A judge on more rows than the others: new texts are appended to the task's texts, and the runs
    # already there keep pointing at theirs.
    (weak,) = [r for r in load_runs(results) if r.judge == "weak"]
    samples = weak.samples() + [dict(weak.samples()[0], id="k900", fields={"question": "q", "passage": "p",
                                                                           "answer": "a"})]
    summary = {k: v for k, v in weak.summary.items() if k not in ("format", "samples_file", "texts_file")}
    write_run({**summary, "judge": "newcomer", "config_id": "newcomer-config", "n": len(samples),
               "metrics": score_run(samples, summary["labels"], "FAIL", ("domain",))}, samples, results)
    build_site(results, site, [])
    after = snapshot(site)
    changed = differs(before, after)
    allowed = {p for p in after if own("newcomer")(p)} | SUMMARY | {f"data/{TASK}/texts/00002.js"}
    assert changed - allowed <= {p for p in after if p.startswith(f"data/{TASK}/ids/")}

    shutil.rmtree(results / TASK / "newcomer")
    removed = build_site(results, site, [])
    assert removed.removed and all(own("newcomer")(p) or p.startswith(f"data/{TASK}/ids/") for p in removed.removed)
    assert not any(own("newcomer")(p.relative_to(site).as_posix()) for p in site.rglob("*"))


def test_a_file_deleted_from_the_site_is_made_again(results, tmp_path):
    site = tmp_path / "site"
    build_site(results, site, [])
    page = site / "runs" / TASK / "weak" / "weak-config.html"
    page.unlink()
    built = build_site(results, site, [])
    assert page.is_file() and built.remade == [f"{TASK}/weak/weak-config"]


def test_texts_appended_by_another_run_leave_a_run_alone_but_texts_moved_remake_it(results, tmp_path):
    """A run's index points into the task's texts by position: texts added after the ones it points to
    change nothing of it; texts rewritten before them (a texts file edited) remake it."""
    site = tmp_path / "site"
    build_site(results, site, [])
    texts = results / TASK / "texts.jsonl"
    texts.write_text(texts.read_text() + '{"sha256": "0123456789abcdef01234567", "fields": {"q": "new"}}\n')
    assert build_site(results, site, []).remade == []
    lines = texts.read_text().splitlines(keepends=True)
    texts.write_text("".join([lines[1], lines[0], *lines[2:]]))  # the first two texts swap places
    assert len(build_site(results, site, []).remade) == 6


def test_a_site_of_an_earlier_version_is_updated_in_place(results, tmp_path):
    """No manifest (an older halubench wrote the site): every run is made again, the files whose bytes are
    the same are left alone, and the site ends as a build from scratch writes it."""
    site, scratch = tmp_path / "site", tmp_path / "scratch"
    build_site(results, site, [], 2)
    (site / ".halubench-manifest.json").unlink()
    shutil.rmtree(site / "data" / TASK / "ids")  # files several runs share, missing
    (site / "index.html").write_text("an older page")
    (site / "gone.html").write_text("a page no build makes any more")
    before = snapshot(site)
    built = build_site(results, site, [], 2)
    assert len(built.remade) == 6 and "gone.html" in built.removed
    after = snapshot(site)
    assert after[f"runs/{TASK}/weak/weak-config.html"] == before[f"runs/{TASK}/weak/weak-config.html"]
    build_site(results, scratch, [], 2)
    assert {p: v[0] for p, v in snapshot(scratch).items()} == {p: v[0] for p, v in after.items()}


def test_a_reproduced_run_changed_remakes_its_submitted_twin_too(tmp_path):
    """A submitted run's page shows its paired test against the reproduced run of the same judge: a change
    to either remakes both, and the site is still the one a build from scratch writes."""
    for judge in ("lexical", "always-pass", "random"):
        run_ok("run", "--judge", judge, "--task", TASK, cwd=tmp_path)
    results, submissions, site = tmp_path / "results", tmp_path / "submissions", tmp_path / "site"
    submit("lexical", submissions / "lexical", contact="researcher@example.org", task=TASK, results_dir=results)
    build_site(results, site, [], submissions=submissions)
    assert not build_site(results, site, [], submissions=submissions).changed

    def flipped(samples):
        sample = samples[0]
        sample.update(verdict="FAIL" if sample["verdict"] == "PASS" else "PASS", correct=not sample["correct"])

    rerun(results, "lexical", flipped, "2026-11-09T12:00:00+00:00")
    built = build_site(results, site, [], submissions=submissions)
    assert [run_id.split("/")[1] for run_id in built.remade] == ["lexical", "lexical"]
    assert any(run_id.endswith("-submitted") for run_id in built.remade)
    scratch = tmp_path / "scratch"
    build_site(results, scratch, [], submissions=submissions)
    assert {p: v[0] for p, v in snapshot(scratch).items()} == {p: v[0] for p, v in snapshot(site).items()}
