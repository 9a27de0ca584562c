"""The HTML migration log, read as a reviewer reads it: in a real (headless) Chromium.

One real run (papermill, the demo database) gives the passing run; the failing, refused and dry
runs are made in-process with the same functions the notebooks call (migrate, rollback,
inventory), so the records are real but no kernel starts. Chromium is Debian's
(/usr/bin/chromium), driven by Playwright; with CI=true these tests never skip.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from runbook import inventory, pipeline, reports, rollback
from runbook import migrate as migrating
from runbook import migrations as mig
from runbook.cli import main as cli
from runbook.reports import Run, StepResult
from runbook.target import open_target

from conftest import MIGRATIONS, new_sqlite_db
from test_cli import failing_folder

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.slow


def _step(run: Run, step: str, error: str | None = None) -> None:
    """A step done in-process: its notebook is a one-cell stand-in (the summary cell goes on top)."""
    name = reports.notebook_path(step).name
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"{step}, done in-process by the test"))
    nbformat.write(nb, run.run_dir / name)
    result = StepResult(step, "failed" if error else "passed", name, 0.2, error)
    reports.add_summary_cell(run.run_dir / name, result, run_id=run.run_id, target_display=run.target)
    run.steps.append(result)


def in_process_run(reports_dir: Path, url: str, folder: Path, kind: str) -> Run:
    """A failed (migration fails, rolled back), refused (bad --to) or dry run, without papermill."""
    target = open_target(url)
    run_dir = reports.new_run_dir(reports_dir, target.name)
    run = Run(run_dir.name, run_dir, target.display, target.kind.name,
              options={"dry_run": True} if kind == "dry" else {}, source=reports.migrations_source(folder))
    run.versions["before"] = pipeline.current_version(target)
    snapshot = inventory.take(target, folder)
    reports.save_artifact(run_dir, "inventory", snapshot)
    run.database_size_bytes["before"] = snapshot["size_bytes"]
    _step(run, "inventory")
    if kind == "refused":
        _step(run, "migrate", "BadInput: --to 9: no migration numbered 009")
    else:
        result = migrating.migrate(target, folder, dry_run=kind == "dry", run_id=run.run_id)
        reports.save_artifact(run_dir, "migrate", result.as_dict())
        reports.save_artifact(run_dir, "rehearsal", {"ran": False, "reason": "rehearse = False"})
        _step(run, "migrate", f"RunFailed: {result.error}" if result.error else None)
        if result.error:
            back = rollback.rollback_to(target, folder, "none", run_id=run.run_id)
            reports.save_artifact(run_dir, "rollback", back)
            _step(run, "rollback")
            run.error = f"migrate: RunFailed: {result.error}"
    run.versions["after"] = pipeline.current_version(target)
    reports.save_artifact(run_dir, "after", reports.after_snapshot(target))
    run.status = "failed" if any(not s.passed for s in run.steps) else "passed"
    run.finished_at = reports.utc_now().isoformat(timespec="seconds")
    run.write()
    reports.finish(run)
    return run


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> dict:
    """A reports folder with a passing (real, papermill), a failing, a refused and a dry run."""
    tmp = tmp_path_factory.mktemp("log")
    reports_dir = tmp / "reports"
    url = new_sqlite_db(tmp / "power100.db")
    opts = pipeline.Options(migrations_dir=MIGRATIONS, reports_dir=reports_dir, backup_dir=tmp / "backups",
                            rehearse=False)
    passed = pipeline.execute(open_target(url), pipeline.PIPELINE, opts)
    assert passed.status == "passed", passed.error
    (tmp / "f").mkdir()
    bad_url = new_sqlite_db(tmp / "f" / "power100.db")
    failed = in_process_run(reports_dir, bad_url, failing_folder(tmp / "f"), "failed")
    refused = in_process_run(reports_dir, bad_url, MIGRATIONS, "refused")
    dry = in_process_run(reports_dir, bad_url, MIGRATIONS, "dry")
    return {"dir": reports_dir, "passed": passed, "failed": failed, "refused": refused, "dry": dry,
            "bad_url": bad_url}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and no /usr/bin/chromium (apt-get install chromium)", pytrace=False)
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM))
        yield b
        b.close()


def open_page(browser, path: Path, external: list[str]):
    page = browser.new_page(viewport={"width": 1100, "height": 800})

    def route(r):  # every request a page makes: anything but a file or inline data is external
        if not r.request.url.startswith(("file:", "data:")):
            external.append(r.request.url)
            return r.abort()
        return r.continue_()

    page.route("**/*", route)
    page.goto(path.as_uri())
    return page


def assert_links_resolve(page, path: Path) -> list[Path]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    assert hrefs, f"{path}: no links"
    files = []
    for href in hrefs:
        if href.startswith("#"):
            continue
        parsed = urlparse(href)
        assert not parsed.scheme and not parsed.netloc, f"{path}: link {href} leaves the folder"
        target = (path.parent / unquote(parsed.path)).resolve()
        assert target.is_file(), f"{path}: link {href} resolves to no file"
        files.append(target)
    return files


def assert_not_blank(page, shot: Path) -> None:
    from PIL import Image

    page.screenshot(path=str(shot), full_page=True)
    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 20, f"{shot} is (nearly) one colour"


def test_front_page_lists_every_run_newest_first(log, browser, tmp_path):
    external: list[str] = []
    page = open_page(browser, log["dir"] / "index.html", external)
    badges = page.locator("#runs tbody tr td:first-child").all_inner_texts()
    assert [b.strip() for b in badges] == ["DRY RUN", "REFUSED", "FAILED", "PASSED"]
    first = page.locator("#runs tbody tr").nth(3).inner_text()
    assert "none → 004" in first and "power100.db" in first and "@" in first  # versions, target, who
    assert "rolled back: 002_enhance_partner_table" in page.locator("#runs tbody tr").nth(2).inner_text()
    assert "would apply" in page.locator("#runs tbody tr").nth(0).inner_text()
    links = assert_links_resolve(page, log["dir"] / "index.html")
    assert {p.parent.name for p in links} == {log[k].run_id for k in ("passed", "failed", "refused", "dry")}
    assert_not_blank(page, tmp_path / "index.png")
    assert external == []


@pytest.mark.parametrize("kind,verdict", [("passed", "PASSED"), ("failed", "FAILED"), ("refused", "REFUSED"),
                                          ("dry", "DRY RUN")])
def test_run_page(log, browser, tmp_path, kind, verdict):
    run = log[kind]
    path = run.run_dir / "index.html"
    external: list[str] = []
    page = open_page(browser, path, external)
    assert page.locator("#verdict").inner_text().strip() == verdict
    assert page.title().startswith(verdict)
    facts = page.locator("#facts").inner_text()
    assert run.target in facts and "runbook version" in facts
    user, host = mig.who_and_host()
    assert f"{user} on {host}" in facts
    assert "set checksum" in facts
    diff = page.locator("#schema-diff").inner_text()
    if kind == "passed":
        assert "commit" in facts  # the shipped migrations are in this git checkout
        assert "table contractor_partner_matches added" in diff
        row = page.locator("#schema-diff tr", has_text="column company_website added").inner_text()
        assert row.split("\t")[:2] == ["added", "contractors"]
        assert page.locator("#failure").count() == 0
    elif kind == "failed":
        failure = page.locator("#failure").inner_text()
        assert "Failed at step migrate" in failure
        assert "003_add_audit_log, statement 2 (line 4)" in failure
        assert "'duplicate key'" in page.locator("#failing-sql").inner_text()
        assert "No schema change." in diff  # rolled back to where it was
    elif kind == "refused":
        assert "no migration numbered 009" in page.locator("#failure").inner_text()
    else:
        assert "No schema change." in diff
    for linked in assert_links_resolve(page, path):
        if linked.suffix == ".html" and linked.name != "index.html":  # a notebook as HTML, beside the run page
            nb_page = open_page(browser, linked, external)
            assert verdict in nb_page.locator("body").inner_text()[:2000]  # its summary cell names the run's verdict
            nb_page.close()
    assert_not_blank(page, tmp_path / f"{kind}.png")
    assert external == []


def test_no_page_needs_the_network(log):
    pages = sorted(log["dir"].rglob("*.html"))
    assert len(pages) >= 4 + 1 + 4
    outside_text = re.compile(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", re.I)
    for page in pages:
        text = page.read_text()
        assert not outside_text.search(text), f"{page}: {outside_text.search(text).group(0)}"
        assert "<script" not in text.lower(), f"{page} has a script"


def test_notebooks_first_cell_shows_the_run_verdict(log):
    run = log["failed"]
    nb = nbformat.read(run.run_dir / "01_inventory.ipynb", as_version=4)
    first = nb.cells[0].source
    assert first.startswith("# inventory: PASSED · run: FAILED")
    assert "(index.html)" in first
    real = nbformat.read(log["passed"].run_dir / "03_migrate.ipynb", as_version=4).cells[0].source
    assert "run: PASSED" in real and "✅" not in real and "❌" not in real


def test_reports_html_rebuilds_every_page_from_the_records(log, capsys):
    pages = [log["dir"] / "index.html", *(log[k].run_dir / "index.html" for k in ("passed", "failed", "refused", "dry"))]
    before = {p: p.read_text() for p in pages}
    for p in pages:
        p.unlink()
    assert cli(["reports", "--html", "--reports", str(log["dir"])]) == 0
    for p in pages:
        assert p.is_file()
        assert re.sub(r"data:image/png;base64,[^\"]+", "", p.read_text()) == \
            re.sub(r"data:image/png;base64,[^\"]+", "", before[p])
    capsys.readouterr()
    assert cli(["reports", "--json", "--reports", str(log["dir"])]) == 0
    listed = json.loads(capsys.readouterr().out)["runs"]
    assert [r["verdict"] for r in listed] == ["DRY RUN", "REFUSED", "FAILED", "PASSED"]


def test_run_json_says_who_and_from_what(log):
    data = json.loads((log["passed"].run_dir / "run.json").read_text())
    user, host = mig.who_and_host()
    assert data["who"] == {"user": user, "host": host}
    assert len(data["source"]["checksum"]) == 64 and data["source"]["files"] >= 10
    assert data["source"]["commit"] and data["source"]["dirty"] in (True, False)
    assert not any(k in json.dumps(data).lower() for k in ("password", "pgpassword"))
    statements = json.loads((log["passed"].run_dir / "migrate.json").read_text())["migrations"][1]["statements"]
    assert all(s["duration_ms"] is not None for s in statements if not (s["note"] or "").startswith("transaction"))


def test_a_failed_rehearsal_is_reported_and_not_followed_by_a_rollback(tmp_path):
    url = new_sqlite_db(tmp_path / "power100.db")
    opts = pipeline.Options(migrations_dir=failing_folder(tmp_path), reports_dir=tmp_path / "reports",
                            backup_dir=tmp_path / "backups")
    run = pipeline.execute(open_target(url), pipeline.PIPELINE, opts)
    assert [(s.step, s.status) for s in run.steps] == [("inventory", "passed"), ("backup", "passed"),
                                                       ("migrate", "failed")]  # no no-op "rollback: PASSED"
    data = json.loads((run.run_dir / "run.json").read_text())
    assert data["rehearsal"]["ran"] is True and data["rehearsal"]["passed"] is False
    assert "003_add_audit_log" in data["rehearsal"]["error"]
    assert "target was not touched" in data["rollback_skipped"]
    page = (run.run_dir / "index.html").read_text()
    assert "The rehearsal on a scratch copy failed" in page and "No rollback: the rehearsal failed" in page


def test_a_failed_notebook_page_keeps_papermills_banner_and_traceback(tmp_path):
    """A notebook page is rendered by our nbconvert template: papermill's red banner keeps its
    text (nbconvert's image embedding used to close its <span> empty), the error output shows,
    and nothing is fetched from anywhere."""
    from runbook import html

    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    nb.cells = [
        nbformat.v4.new_markdown_cell('<span style="color:red; font-family:Helvetica Neue, Helvetica, Arial, sans-serif; '
                                      'font-size:2em;">An Exception was encountered at \'<a href="#papermill-error-cell">'
                                      'In [2]</a>\'.</span>'),
        nbformat.v4.new_code_cell("x = 1 / 0", execution_count=2, outputs=[nbformat.v4.new_output(
            "error", ename="ZeroDivisionError", evalue="division by zero",
            traceback=["\x1b[0;31mZeroDivisionError\x1b[0m: division by zero"])]),
    ]
    path = tmp_path / "03_migrate.ipynb"
    nbformat.write(nb, path)
    page = html.render_notebook(path).read_text()
    assert re.search(r'<span style="color:red[^"]*">An Exception was encountered at \'<a href="#papermill-error-cell">'
                     r'In \[2\]</a>\'\.</span>', page)
    assert 'class="ansi-red-fg">ZeroDivisionError' in page and "division by zero" in page
    assert "<script" not in page.lower() and "could not be rendered" not in page
    assert '<span class="mi">1</span>' in page  # the code is highlighted


def test_a_notebook_nbformat_finds_invalid_is_still_rendered(tmp_path):
    """nbformat logs what is wrong with an invalid notebook; its page shows what it can (nbconvert
    is not asked to validate it again after its preprocessors, see ``NotebookPage``)."""
    from runbook import html

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1 + 1", execution_count=1)]
    data = json.loads(nbformat.writes(nb))
    data["cells"][0]["execution_count"] = "one"  # the schema wants a number
    path = tmp_path / "01_inventory.ipynb"
    path.write_text(json.dumps(data))
    page = html.render_notebook(path).read_text()
    assert '<span class="n">x</span>' in page and '<span class="mi">1</span>' in page

def test_charts_are_svg_drawn_from_the_values():
    from runbook.charts import Markers, NotebookChart, Series, hbars

    svg = hbars("Rows <per> table", ["a&b", "new"], [Series("before", [10, None]), Series("after", [10, 1000])],
                unit="rows", log=True, markers=Markers("rehearsal", [5, None]))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "Rows &lt;per&gt; table" in svg and "a&amp;b" in svg and "<per>" not in svg
    assert ">—</text>" in svg and ">1,000</text>" in svg and "(log scale)" in svg
    assert "new, rehearsal" not in svg and "a&amp;b, rehearsal: 5" in svg  # a marker only where there is a value
    chart = NotebookChart("Rows per table", ["contractors"], [Series("rows", [11])], unit="rows")
    assert chart._repr_html_().startswith('<img alt="Rows per table" src="data:image/svg+xml;base64,')
    assert repr(chart) == "Rows per table: contractors 11"
    long = "011_added_runtime_environment_title_and_its_slug"  # wider than the label column
    labels = re.findall(r'text-anchor="end">([^<]*)<title>([^<]*)</title>', hbars("t", [long], [Series("s", [1])], unit="ms"))
    assert labels == [(long[:30] + "…", long)], labels  # cut to the 220 px column, whole in its tooltip


def _tables(page: Path) -> list[tuple[list[str], list[list[str]]]]:
    """The tables of a notebook page: (header cells, rows of cell texts), as a reviewer reads them."""
    from html import unescape

    def cells(row: str) -> list[str]:
        return [unescape(c) for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", row, re.S)]

    out = []
    for table in re.findall(r'<table class="dataframe">(.*?)</table>', page.read_text(), re.S):
        head = re.search(r"<thead>(.*?)</thead>", table, re.S)
        body = re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1)
        out.append((cells(head.group(1)) if head else [], [cells(r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]))
    return out


def test_notebook_pages_show_their_tables(log):
    """The notebooks' tables (``runbook.table.Table``) on the reviewers' pages: every table each
    step shows, with its columns and the run's values."""
    run_dir = log["passed"].run_dir
    inventory = _tables(run_dir / "01_inventory.html")
    assert [h for h, _ in inventory] == [
        ["table", "rows", "size_bytes", "columns", "indexes"], ["check", "passed", "detail", "table", "count", "skipped"],
        ["table", "name", "type", "nullable", "default", "primary_key"], ["table", "index", "columns", "unique"],
        ["version", "name", "state"]]
    assert ["contractors", "11"] in [r[:2] for r in inventory[0][1]] and len(inventory[0][1]) == 3
    assert ["000", "baseline", "pending"] in inventory[4][1]
    backup_record, backup_checks = _tables(run_dir / "02_backup.html")
    record = dict(backup_record[1])
    assert backup_record[0] == [] and list(record) == ["path", "format", "size_bytes", "sha256", "tool", "taken_at"]
    assert record["sha256"] == json.loads((run_dir / "backup.json").read_text())["sha256"]
    assert backup_checks[0] == ["check", "passed", "detail"] and all(r[1] == "True" for r in backup_checks[1])
    migrate = _tables(run_dir / "03_migrate.html")
    assert migrate[0][0][:2] == ["migration", "category"] and len(migrate[0][1]) == 4
    applied = next(rows for head, rows in migrate if head[:2] == ["migration", "status"])
    assert [r[:2] for r in applied] == [["000_baseline", "adopted"], ["001_add_contractor_fields", "applied"],
                                              ["002_enhance_partner_table", "applied"],
                                              ["003_create_supporting_tables", "applied"], ["004_add_search_indexes", "applied"]]
    assert (["contractor_count"], [["11"]]) in migrate  # the migration's own verification query, its result
    verify_checks, health, plans = _tables(run_dir / "04_verify.html")
    assert verify_checks[0][:3] == ["check", "passed", "detail"] and all(r[1] == "True" for r in verify_checks[1])
    assert health[0] == ["check_type", "status", "detail"] and {r[1] for r in health[1]} == {"PASS"}
    assert plans[0][1] == "with them (indexes preferred)" and "USING INDEX" in plans[1][0][1]


def test_table_shows_records_escaped_and_as_text():
    from runbook.table import Table

    t = Table([{"check": "a <b>", "passed": True}, {"check": "c", "detail": None}])
    assert t.columns == ["check", "passed", "detail"] and len(t) == 2 and t.column("check") == ["a <b>", "c"]
    assert t._repr_html_() == ('<table class="dataframe"><thead><tr><th>check</th><th>passed</th><th>detail</th></tr>'
                               '</thead><tbody><tr><td>a &lt;b&gt;</td><td>True</td><td></td></tr>'
                               '<tr><td>c</td><td></td><td>None</td></tr></tbody></table>')
    assert repr(t).splitlines() == ["check  passed  detail", "a <b>  True", "c              None"]
    ragged = Table.of_columns({"before": ["SCAN t"], "after": ["SEARCH t", "USE INDEX"]})
    assert ragged.rows == [["SCAN t", "SEARCH t"], ["", "USE INDEX"]]
    assert Table([(1, "x")], columns=["id", "name"]).rows == [[1, "x"]]
    assert "<thead>" not in Table.of_record({"path": "/b.db"})._repr_html_()
    assert "<th>path</th><td>/b.db</td>" in Table.of_record({"path": "/b.db"})._repr_html_()
    assert repr(Table([])) == "(empty)"
    restore = Table({"rows": 2, "tables": {"contractors": 2}, "method": "row digests"})  # one record (a restore's)
    assert restore.columns == ["rows", "tables", "method"] and restore.rows == [[2, {"contractors": 2}, "row digests"]]


@pytest.fixture
def fresh_templates(monkeypatch, tmp_path):
    """html's Jinja2 environments, nbconvert's exporter and the template cache made afresh, with
    the temporary directory (where Jinja2 keeps compiled templates) in ``tmp_path``."""
    import tempfile

    from runbook import html

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    caches = (html._bytecode_cache, html._env, html._notebook_exporter)
    for f in caches:
        f.cache_clear()
    yield tmp_path / f"_jinja2-cache-{os.getuid()}"
    for f in caches:
        f.cache_clear()


def test_compiled_templates_are_kept_for_the_next_run_and_pages_do_not_depend_on_it(log, fresh_templates):
    from runbook import html

    run_dir = log["passed"].run_dir
    pages = sorted(run_dir.glob("*.html"))  # the run page and the notebooks
    before = {p: p.read_text() for p in pages}
    for p in pages:
        p.unlink()
    html.write_run(run_dir)
    cached = sorted(fresh_templates.glob("__jinja2_*.cache"))
    assert len(cached) >= 5  # our run page and nbconvert's templates (each of their parts)
    assert {p: p.read_text() for p in pages} == before

    for f in (html._bytecode_cache, html._env, html._notebook_exporter):  # a new process, a folder it cannot use
        f.cache_clear()
    for p in fresh_templates.iterdir():  # the compiled templates and the cells' HTML
        p.unlink()
    fresh_templates.rmdir()
    fresh_templates.write_text("not a folder")
    for p in pages:
        p.unlink()
    html.write_run(run_dir)
    assert html._bytecode_cache() is None
    assert {p: p.read_text() for p in pages} == before


def test_the_html_of_the_notebooks_own_cells_is_kept_for_the_next_run_and_pages_do_not_depend_on_it(
        log, fresh_templates):
    """The narration and code of the notebooks render the same in every run: their HTML is kept
    beside the compiled templates and used again; what a run writes into a notebook (its summary,
    papermill's injected parameters) is not kept; an unreadable cache is no cache."""
    from runbook import html
    from runbook.reports import STATUS_TAG

    run_dir = log["passed"].run_dir
    pages = sorted(run_dir.glob("[0-9][0-9]_*.html"))
    before = {p: p.read_text() for p in pages}
    for p in pages:
        p.unlink()
    html.write_run(run_dir)
    assert {p: p.read_text() for p in pages} == before
    (cache,) = fresh_templates.glob("runbook-cells-*.json")
    kept = json.loads(cache.read_text())
    notebooks = [nbformat.read(p.with_suffix(".ipynb"), as_version=4) for p in pages]
    cells = [c for nb in notebooks for c in nb.cells]
    narration = [c for c in cells if c.cell_type == "markdown" and STATUS_TAG not in c.metadata.get("tags", [])]
    assert narration and all(html.CellCache.key("markdown", c.source) in kept for c in narration)
    summaries = [c for c in cells if STATUS_TAG in c.metadata.get("tags", [])]
    assert len(summaries) == len(pages)
    assert not any(html.CellCache.key("markdown", c.source) in kept for c in summaries)
    injected = [c for c in cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and not any(html.CellCache.key(f"code {lang}", c.source) in kept
                                for c in injected for lang in ("python3", "ipython3"))
    assert any(html.CellCache.key("code python3", c.source) in kept for c in cells if c.cell_type == "code")

    # the next run (a new process) takes the HTML from the file
    html._notebook_exporter.cache_clear()
    first = html.CellCache.key("markdown", narration[0].source)
    cache.write_text(json.dumps({**kept, first: "<p>taken from the cache</p>"}))
    for p in pages:
        p.unlink()
    html.write_run(run_dir)
    assert "<p>taken from the cache</p>" in pages[0].read_text()

    html._notebook_exporter.cache_clear()  # a file that is not the cache's: rendered as before
    cache.write_text("not json")
    for p in pages:
        p.unlink()
    html.write_run(run_dir)
    assert {p: p.read_text() for p in pages} == before


def test_notebook_pages_highlight_code_as_nbconvert_does():
    """The exporter's highlight filter (one lexer and formatter per language, kept) gives
    nbconvert's own HTML for each code cell, whatever the language."""
    import warnings

    from nbconvert.filters.highlight import Highlight2HTML

    from runbook import html

    exporter = html._notebook_exporter()
    cells = ["x = 1 / 0\nprint(f'{x!r}')  # a comment", "", "SELECT count(*) FROM t WHERE a = 'b'",
             "%%sql\nSELECT 1", "<b>&</b>"]
    magics = {"magics_language": "sql"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No lexer found for language 'no-such-language'"
        for language in ("python3", "sql", "ipython3", "no-such-language"):
            exporter.highlight.pygments_lexer = language
            for source in cells:
                for metadata in (None, magics):
                    for _ in range(2):  # made, then kept
                        assert exporter.highlight(source, metadata=metadata) == \
                            Highlight2HTML(pygments_lexer=language)(source, metadata=metadata)
            assert exporter.highlight(cells[0], "sql") == Highlight2HTML()(cells[0], "sql")


def test_nbconvert_is_imported_without_its_unused_optional_modules_which_stay_importable():
    """``_notebook_exporter`` imports nbconvert with the modules of ``html._ABSENT`` treated as
    absent; the process can import them afterwards (a fresh process: these tests import them)."""
    import subprocess
    import sys

    code = """if True:
        import sys
        from runbook import html
        html._notebook_exporter()
        print(sorted(name for name in html._ABSENT if name in sys.modules))
        import charset_normalizer, soupsieve
        from nbconvert.postprocessors.serve import ServePostProcessor
        print(charset_normalizer.detect(b"abc")["encoding"], callable(soupsieve.select), ServePostProcessor.__name__)
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "ascii True ServePostProcessor"]
