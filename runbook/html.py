"""The migration log as HTML pages a reviewer opens in any browser: no server, no JavaScript, no
network.

``write_run(run_dir)`` writes ``reports/<run id>/index.html`` from the run's JSON records
(``run.json``, ``inventory.json``, ``migrate.json``, ``verify.json``, ...), and each executed
notebook rendered beside it as ``NN_<step>.html`` (nbconvert, its scripts removed: the outputs are
tables and images). ``write_index(reports_dir)`` writes ``reports/index.html``, every run newest
first. The pages are derived: ``rebuild(reports_dir)`` (``runbook reports --html``) writes them all
again from the records. Templates (Jinja2) and the one CSS file live in ``runbook/templates``;
the CSS and the charts (SVG drawn by ``charts``) are inlined, so a page is one file.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup

from . import __version__
from .reports import RUN_JSON, RUN_PAGE, STATUS_TAG, load_artifact, load_runs, verdict

TEMPLATES = Path(__file__).resolve().parent / "templates"
INDEX = "index.html"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_STYLE = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S | re.I)


@functools.cache
def _env():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True,
                             bytecode_cache=_bytecode_cache())
    env.filters["size"] = human_size
    env.filters["badge"] = lambda v: (v or "").lower().replace(" ", "-")
    env.filters["short"] = lambda s, n=12: (s or "")[:n]
    env.globals["css"] = (TEMPLATES / "runbook.css").read_text()
    env.globals["runbook_version"] = __version__
    return env


@functools.cache
def _bytecode_cache() -> Any:
    """Compiled templates kept between runs, in Jinja2's own cache folder (in the temporary
    directory, made private to the user by Jinja2): compiling nbconvert's templates and ours cost
    each run 0.06-0.08 s of CPU. ``None`` where that folder cannot be made; a cache file that
    cannot be written is skipped (the page is still written)."""
    import jinja2

    class Cache(jinja2.FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: Any) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    try:
        return Cache()
    except (OSError, RuntimeError):  # Jinja2 refuses a folder it cannot make or that is not the user's own
        return None


class CellCache:
    """The HTML of the notebooks' own cells (their narration in markdown, their code highlighted),
    kept between runs beside the compiled templates: every run renders the same cells of the same
    four notebooks, and making that HTML (mistune, pygments' lexers) cost each demo run 0.055 s of
    CPU, a quarter of rendering its notebooks. A cell is looked up by its text and kind, in a file
    named after the versions of nbconvert, mistune, pygments and of this module's own source, so
    an upgrade or an edit here never serves old HTML. What a run writes into a notebook (its
    summary, papermill's injected parameters) is never kept; a file grown past ``LIMIT`` cells
    (notebooks edited many times over) starts again. A file that cannot be read or written is no
    cache: the page is rendered all the same."""

    LIMIT = 5000

    def __init__(self, folder: str | Path | None) -> None:
        import hashlib

        import mistune
        import nbconvert
        import pygments

        versions = [nbconvert.__version__, mistune.__version__, pygments.__version__, __version__]
        digest = hashlib.sha256("\0".join(versions).encode() + Path(__file__).read_bytes()).hexdigest()[:16]
        self.path = Path(folder) / f"runbook-cells-{digest}.json" if folder else None
        self.known: dict[str, str] = {}
        self.added = False
        if self.path is not None:
            try:
                known = json.loads(self.path.read_text(encoding="utf-8"))
                self.known = known if isinstance(known, dict) else {}
            except (OSError, ValueError):
                pass

    @staticmethod
    def kept(cell_metadata: Any) -> bool:
        """Whether a cell is the notebook's own (neither the run's summary nor papermill's
        injected parameters)."""
        tags = (cell_metadata or {}).get("tags") or []
        return STATUS_TAG not in tags and "injected-parameters" not in tags

    @staticmethod
    def key(kind: str, text: str) -> str:
        import hashlib

        return hashlib.sha256(f"{kind}\0{text}".encode()).hexdigest()

    def html(self, kind: str, text: str, make: Any) -> str:
        key = self.key(kind, text)
        found = self.known.get(key)
        if isinstance(found, str):
            return found
        made = make()
        if len(self.known) >= self.LIMIT:
            self.known = {}
        self.known[key] = str(made)
        self.added = True
        return made

    def save(self) -> None:
        if not (self.added and self.path):
            return
        import os
        import tempfile

        try:  # a file of its own, then renamed: two runs saving at once never mix their writes
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.path.parent, prefix=self.path.name,
                                             suffix=".partial", delete=False) as f:
                f.write(json.dumps(self.known, ensure_ascii=False))
            os.replace(f.name, self.path)
            self.added = False
        except OSError:
            pass


def human_size(n: int | float | None) -> str:
    if n is None:
        return "—"
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def duration_s(run: dict[str, Any]) -> float | None:
    """Seconds from start to finish (``None`` while running)."""
    try:
        return (datetime.fromisoformat(run["finished_at"]) - datetime.fromisoformat(run["started_at"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None


# -- what went wrong -----------------------------------------------------------------------------
def failure(run: dict[str, Any], records: dict[str, Any]) -> dict[str, Any] | None:
    """The failing step, its error, and the failing statement (migration, number, line, SQL,
    cause) or the failed checks, when the run failed."""
    bad = next((s for s in run.get("steps") or [] if s.get("status") == "failed"), None)
    if bad is None and not run.get("error"):
        return None
    out: dict[str, Any] = {"step": bad.get("step") if bad else None,
                           "error": (bad or {}).get("error") or run.get("error"), "statement": None, "checks": []}
    migrate = records.get("migrate") or {}
    for m in migrate.get("migrations") or []:
        if m.get("status") == "failed":
            st = next((s for s in m.get("statements") or [] if (s.get("note") or "").startswith("FAILED")), {})
            out["statement"] = {"migration": f"{m['version']}_{m['name']}", "index": st.get("index"),
                                "line": st.get("line"), "sql": st.get("sql"),
                                "cause": (st.get("note") or "").removeprefix("FAILED: ")}
    rehearsal = records.get("rehearsal") or {}
    if out["statement"] is None and rehearsal.get("ran") and not rehearsal.get("passed"):
        out["rehearsal_error"] = rehearsal.get("error")
    rollback = records.get("rollback") or {}
    if out["statement"] is None and rollback.get("failed"):
        f = rollback["failed"]
        out["statement"] = {"migration": f"rollback of {f.get('version')}_{f.get('name')} ({f.get('script')})",
                            "index": f.get("statement"), "line": f.get("line"), "sql": None, "cause": f.get("cause")}
    for step in ("verify", "inventory", "backup"):
        rec = records.get(step) or {}
        checks = rec.get("checks") or rec.get("quality") or []
        out["checks"] += [{"step": step, **c} for c in checks if isinstance(c, dict) and c.get("passed") is False]
    return out


# -- schema and data before / after -----------------------------------------------------------------
def schema_diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, str]] | None:
    """Tables, columns, types, defaults, indexes and constraints added, removed or changed between
    the inventory snapshot and the schema at the end of the run (``None``: a side is missing)."""
    if not before or not after or "tables" not in before or "tables" not in after:
        return None
    from .schema import diff

    rows = []
    for line in diff(before, after, order=True):
        change = ("added" if " added" in line else "removed" if " missing" in line
                  else "changed" if " changed" in line else "changed")
        table, _, what = line.partition(": ") if ": " in line else ("", "", line)
        rows.append({"change": change, "table": table or line.split()[1], "what": (what or line).replace(" missing", " removed")})
    return rows


def table_rows(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    tb = (before or {}).get("tables") or {}
    ta = (after or {}).get("rows") or {}
    names = sorted(set(tb) | set(ta))
    return [{"table": t, "before": (tb.get(t) or {}).get("rows"), "after": ta.get(t)} for t in names]


# -- plots -----------------------------------------------------------------------------------------
def plots(run: dict[str, Any], migrations: list[dict[str, Any]], sizes: dict[str, Any],
          rows: list[dict[str, Any]]) -> dict[str, Markup]:
    """Static charts a reviewer would rather look at than read: inline SVG (see ``charts``)."""
    from .charts import Markers, Series, hbars

    out: dict[str, str] = {}
    steps = run.get("steps") or []
    if steps:
        out["steps"] = hbars("Duration per step", [s["step"] for s in steps],
                             [Series("duration", [s.get("duration_s") or 0 for s in steps],
                                     colours=["#2e7d32" if s.get("status") == "passed" else "#c62828" for s in steps])],
                             unit="seconds")
    timed = [m for m in migrations if m.get("duration_ms") is not None and m.get("status") not in ("planned", "adopted")]
    if timed:
        expected = [m.get("rehearsal_ms") for m in timed]
        out["migrations"] = hbars("Duration per migration", [m["label"] for m in timed],
                                  [Series("this run", [m["duration_ms"] for m in timed])], unit="milliseconds",
                                  markers=Markers("rehearsal", expected) if any(e is not None for e in expected) else None)
    if sizes.get("before") is not None or sizes.get("after") is not None:
        out["size"] = hbars("Database size", ["before", "after"],
                            [Series("size", [sizes.get("before") or 0, sizes.get("after") or 0],
                                    colours=["#78909c", "#1565c0"])], unit="bytes")
    if rows:
        out["rows"] = hbars("Rows per table", [r["table"] for r in rows],
                            [Series("before", [r["before"] for r in rows], "#78909c"),  # None: no such table
                             Series("after", [r["after"] for r in rows], "#1565c0")],
                            unit="rows", log=True)  # log: small tables stay visible; 0 rows is no bar
    return {k: Markup(v) for k, v in out.items()}  # our own SVG, its labels escaped


# -- notebooks as HTML -----------------------------------------------------------------------------
def offline(html: str) -> str:
    """A page that needs nothing from the network: scripts removed (nbconvert's CDN require.js,
    MathJax, mermaid; the outputs are static), CSS comments (which cite web pages) dropped."""
    html = _SCRIPT.sub("", html)
    return _STYLE.sub(lambda m: m.group(1) + _CSS_COMMENT.sub("", m.group(2)) + m.group(3), html)


_IMG_NO_ALT = re.compile(r"<img(?![^>]*\salt=)", re.I)
#: what importing nbconvert loads when it is installed and rendering never uses (each one's CPU
#: when nbconvert is imported in a run's process, which has imported papermill's tornado parts)
_ABSENT = (
    "soupsieve",  # bs4's CSS selectors (0.05 s, mostly compiling regular expressions): only
                  # HTMLExporter's own final pass selects anything, and NotebookPage does without it
    "charset_normalizer",  # bs4's guess at the encoding of bytes (0.04 s): nbconvert parses str
    "nbconvert.postprocessors.serve",  # ``--post serve``'s web server (tornado.web, 0.03 s)
)


@functools.cache
def _notebook_exporter():
    """One nbconvert exporter for every notebook this process renders (building one compiles
    its templates). Our template (``templates/notebook``): nbconvert's "classic" cells in a small
    page with our stylesheet, instead of the "lab" template's 250 KB of inline CSS.

    Importing nbconvert costs 0.3 s of CPU; it is cheaper here:

    - Optional modules its imports load when they are installed, which rendering never uses, are
      treated as absent while it is imported (each importer's own fallback), unless this process
      already has them (``_ABSENT``). The entries are removed afterwards: the process can still
      import them itself.
    - It is imported with the collector paused, then what the process holds is frozen
      (``startup.load``, as the CLI imports papermill): the collections the ~200 modules'
      27,000 objects trigger while they are made scan them and free nothing."""
    import warnings
    from html import escape

    import jinja2

    from . import startup

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The soupsieve package is not installed", UserWarning)
        startup.load("nbconvert", absent=_ABSENT)
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class Highlight(Highlight2HTML):
        """nbconvert's ``highlight_code`` filter with one pygments lexer and one formatter per
        language, kept for every page: nbconvert looks the lexer up and makes a formatter (which
        builds its whole stylesheet) for each code cell, 0.03 s of CPU for the 40 cells of a run.
        The same calls, so the same HTML. IPython's lexers (a notebook with magics) and a language
        pygments does not know go nbconvert's own way."""

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self._made: dict[str, tuple[Any, Any]] = {}

        def __call__(self, source: str, language: str | None = None, metadata: Any = None) -> str:
            language = language or self.pygments_lexer
            if language.startswith("ipython") or not CellCache.kept(metadata):  # IPython's: by the cell's magics
                return self._highlight(source, language, metadata)
            return cells.html(f"code {language}", source, lambda: self._highlight(source, language, metadata))

        def _highlight(self, source: str, language: str, metadata: Any) -> str:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import get_lexer_by_name
            from pygments.util import ClassNotFound

            if language not in self._made:
                if language.startswith("ipython"):
                    return super().__call__(source, language, metadata)
                try:
                    lexer = get_lexer_by_name(language)
                except ClassNotFound:
                    return super().__call__(source, language, metadata)
                self._made[language] = (lexer, HtmlFormatter(cssclass=escape(f" highlight hl-{language}"),
                                                            **self.extra_formatter_options))
            return highlight(source or " ", *self._made[language])

    class NotebookPage(HTMLExporter):
        """``HTMLExporter`` without its final BeautifulSoup pass over the whole page (it only adds
        alt text to images, done below by ``render_notebook``, and tab stops to the "lab"
        template's cells, which this template does not have)."""

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.highlight = Highlight(parent=self)

        def from_notebook_node(self, nb, resources=None, **kw):
            info = nb.metadata.get("language_info", {})
            lexer = info.get("pygments_lexer", info.get("name"))
            if lexer == "ipython3" and not _magics(nb):  # pygments' own: the same colours, no IPython import
                lexer = "python3"
            self.highlight.pygments_lexer = lexer or "ipython3"  # nbconvert's default
            self.register_filter("highlight_code", self.highlight)
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        def _validate_preprocessor(self, nb, preprocessor):
            """Not done. nbconvert validates the notebook after its preprocessors (after each of
            them, or once with ``optimistic_validation``) against a relaxed copy of nbformat's
            schema, compiled at its first use (0.05 s of CPU in a run's process, which has the
            strict one). ``nbformat.read`` has validated the notebook (it logs the errors of an
            invalid one, which is then rendered as far as nbconvert can, no longer replaced by
            the "could not be rendered" page), and the preprocessors this exporter runs (cells
            removed by tag or pattern, none configured; a cell magic's language in its metadata;
            the pygments stylesheet in the resources) leave a valid notebook valid."""

        @jinja2.pass_context
        def markdown2html(self, context, source):
            """With ``embed_images``, nbconvert re-parses every inline HTML tag of a markdown cell
            on its own, which closes it (papermill's red "An Exception was encountered" banner
            came out empty): embed only in a cell that has an image."""
            if "<img" in source.lower() or "![" in source:
                return super().markdown2html(context, source)
            cell = context.get("cell") or {}
            if cell.get("attachments") or not CellCache.kept(cell.get("metadata")):
                return self._markdown(context, source)
            return cells.html("markdown", source, lambda: self._markdown(context, source))

        def _markdown(self, context, source):
            self.embed_images = False
            try:
                return super().markdown2html(context, source)
            finally:
                self.embed_images = True

    compiled = _bytecode_cache()
    cells = CellCache(getattr(compiled, "directory", None))
    exporter = NotebookPage(template_name="notebook", extra_template_basedirs=[str(TEMPLATES)], embed_images=True)
    exporter.environment.bytecode_cache = compiled
    exporter.cells = cells
    return exporter


def _magics(nb: Any) -> bool:
    """Whether a code cell has a line IPython reads as a magic or a shell command."""
    return any(line.lstrip().startswith(("%", "!")) for cell in nb.cells if cell.cell_type == "code"
               for line in cell.source.splitlines())


def render_notebook(path: Path) -> Path:
    """``NN_<step>.ipynb`` as ``NN_<step>.html`` beside it (skipped when already newer)."""
    out = path.with_suffix(".html")
    if out.is_file() and out.stat().st_mtime >= path.stat().st_mtime:
        return out
    import nbformat

    nb = nbformat.read(path, as_version=4)
    css = (TEMPLATES / "runbook.css").read_text() + (TEMPLATES / "notebook" / "notebook.css").read_text()
    exporter = _notebook_exporter()
    body, _ = exporter.from_notebook_node(
        nb, resources={"metadata": {"name": path.stem, "path": str(path.parent)}, "runbook_css": css})
    exporter.cells.save()
    body = _IMG_NO_ALT.sub('<img alt="an image output of this cell"', body)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(offline(body))
    partial.replace(out)
    return out


# -- pages -----------------------------------------------------------------------------------------
def run_context(run_dir: Path) -> dict[str, Any]:
    """Everything the run page shows, read from the run's records."""
    run = json.loads((run_dir / RUN_JSON).read_text())
    names = ("inventory", "backup", "lint", "rehearsal", "migrate", "verify", "rollback", "after")
    records = {n: load_artifact(run_dir, n) for n in names}
    rehearsal = records["rehearsal"] or run.get("rehearsal") or {}
    expected_ms = rehearsal.get("migration_durations_ms") or {}
    lint = records["lint"] or {}
    by_label = {m.get("migration"): m for m in lint.get("migrations") or []}
    migrations = []
    for m in (records["migrate"] or {}).get("migrations") or []:
        label = f"{m['version']}_{m['name']}"
        info = by_label.get(label, {})
        migrations.append({**m, "label": label, "category": info.get("category"),
                           "category_name": info.get("category_name"), "declared_risk": info.get("declared_risk"),
                           "destructive": info.get("destructive"), "rehearsal_ms": expected_ms.get(label)})
    findings = [{"migration": m.get("migration"), **f} for m in lint.get("migrations") or [] for f in m.get("findings") or []]
    sizes = dict(run.get("database_size_bytes") or {})
    if sizes.get("after") is None and records["after"]:
        sizes["after"] = records["after"].get("size_bytes")
    rows = table_rows(records["inventory"], records["after"])
    notebooks = []
    for st in run.get("steps") or []:
        nb = run_dir / st["notebook"]
        html_page = nb.with_suffix(".html")
        json_name = f"{st['step']}.json"
        notebooks.append({**st, "html": html_page.name if html_page.is_file() else None,
                          "ipynb": nb.name if nb.is_file() else None,
                          "json": json_name if (run_dir / json_name).is_file() else None})
    others = sorted(p.name for p in run_dir.glob("*.json") if p.name != RUN_JSON
                    and p.name not in {n["json"] for n in notebooks})
    return {
        "run": run, "verdict": verdict(run), "duration_s": duration_s(run), "failure": failure(run, records),
        "records": records, "migrations": migrations, "findings": findings, "lint": lint,
        "schema_diff": schema_diff(records["inventory"], records["after"]), "rows": rows, "sizes": sizes,
        "rehearsal": rehearsal, "plots": plots(run, migrations, sizes, rows), "notebooks": notebooks,
        "other_records": others, "up": f"../{INDEX}",
    }


def write_run(run_dir: str | Path, *, notebooks: bool = True) -> Path:
    """Write ``run_dir/index.html`` (and the notebooks as HTML beside it, unless ``notebooks``
    is false) from the run's records."""
    run_dir = Path(run_dir)
    if notebooks:
        for nb in sorted(run_dir.glob("*.ipynb")):
            try:
                render_notebook(nb)
            except Exception as exc:  # a notebook nbconvert cannot read: the run page still gets written
                (nb.with_suffix(".html")).write_text(f"<!doctype html><title>{nb.name}</title>"
                                                     f"<p>{nb.name} could not be rendered: {type(exc).__name__}</p>")
    page = _env().get_template("run.html.j2").render(**run_context(run_dir))
    return _write(run_dir / RUN_PAGE, page)


def index_rows(reports_dir: Path) -> list[dict[str, Any]]:
    rows = []
    for run in load_runs(reports_dir):
        migrate = load_artifact(run["run_dir"], "migrate") or {}
        rollback = load_artifact(run["run_dir"], "rollback") or {}
        rows.append({
            "run": run, "verdict": verdict(run), "duration_s": duration_s(run),
            "link": f"{Path(run['run_dir']).name}/{RUN_PAGE}",
            "applied": [f"{m['version']}_{m['name']}" for m in migrate.get("migrations") or []
                        if m.get("status") in ("applied", "adopted")],
            "planned": [f"{m['version']}_{m['name']}" for m in migrate.get("migrations") or [] if m.get("status") == "planned"],
            "rolled_back": [f"{m['version']}_{m['name']}" for m in rollback.get("rolled_back") or []],
        })
    return rows


def write_index(reports_dir: str | Path) -> Path:
    """Write ``reports/index.html``: every run, newest first."""
    reports_dir = Path(reports_dir)
    page = _env().get_template("index.html.j2").render(rows=index_rows(reports_dir), folder=reports_dir.name)
    return _write(reports_dir / INDEX, page)


def rebuild(reports_dir: str | Path) -> list[Path]:
    """``runbook reports --html``: every run's page and the front page, from the JSON records."""
    reports_dir = Path(reports_dir)
    pages = [write_run(p.parent) for p in sorted(reports_dir.glob(f"*/{RUN_JSON}"))]
    return pages + [write_index(reports_dir)]


def _write(path: Path, text: str) -> Path:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    return path
