"""The migration log as HTML pages a reviewer opens in any browser: no server, no JavaScript, no
network.

``write_run(run_dir)`` writes ``reports/<run id>/index.html`` from the run's JSON records
(``run.json``, ``inventory.json``, ``migrate.json``, ``verify.json``, ...), and each executed
notebook rendered beside it as ``NN_<step>.html`` (nbconvert, its scripts removed: the outputs are
tables and images). ``write_index(reports_dir)`` writes ``reports/index.html``, every run newest
first. The pages are derived: ``rebuild(reports_dir)`` (``runbook reports --html``) writes them all
again from the records. Templates (Jinja2) and the one CSS file live in ``runbook/templates``;
the CSS and the plots (matplotlib PNG, base64) are inlined, so a page is one file.
"""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from . import __version__
from .reports import RUN_JSON, RUN_PAGE, load_artifact, load_runs, verdict

TEMPLATES = Path(__file__).resolve().parent / "templates"
INDEX = "index.html"
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_STYLE = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S | re.I)


def _env():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["size"] = human_size
    env.filters["badge"] = lambda v: (v or "").lower().replace(" ", "-")
    env.filters["short"] = lambda s, n=12: (s or "")[:n]
    env.globals["css"] = (TEMPLATES / "runbook.css").read_text()
    env.globals["runbook_version"] = __version__
    return env


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
    from .inventory import compare_schemas

    rows = []
    for line in compare_schemas(before, after, order=True):
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
def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def plots(run: dict[str, Any], migrations: list[dict[str, Any]], sizes: dict[str, Any],
          rows: list[dict[str, Any]]) -> dict[str, str]:
    """Static images (PNG data URIs) a reviewer would rather look at than read."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    steps = run.get("steps") or []
    if steps:
        fig, ax = plt.subplots(figsize=(6, 0.35 * len(steps) + 0.9))
        ax.barh([s["step"] for s in steps][::-1], [s.get("duration_s") or 0 for s in steps][::-1],
                color=["#2e7d32" if s.get("status") == "passed" else "#c62828" for s in steps][::-1])
        ax.set_xlabel("seconds"), ax.set_title("Duration per step")
        out["steps"] = _png(fig)
    timed = [m for m in migrations if m.get("duration_ms") is not None and m.get("status") not in ("planned", "adopted")]
    if timed:
        fig, ax = plt.subplots(figsize=(6, 0.35 * len(timed) + 0.9))
        labels = [m["label"] for m in timed][::-1]
        ax.barh(labels, [m["duration_ms"] for m in timed][::-1], color="#1565c0", label="this run")
        expected = [m.get("rehearsal_ms") for m in timed][::-1]
        if any(e is not None for e in expected):
            ax.scatter([e or 0 for e in expected], labels, color="#ef6c00", marker="|", s=200, label="rehearsal")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xlabel("milliseconds"), ax.set_title("Duration per migration")
        out["migrations"] = _png(fig)
    if sizes.get("before") is not None or sizes.get("after") is not None:
        fig, ax = plt.subplots(figsize=(4, 2.2))
        ax.bar(["before", "after"], [sizes.get("before") or 0, sizes.get("after") or 0], color=["#78909c", "#1565c0"])
        ax.set_ylabel("bytes"), ax.set_title("Database size")
        out["size"] = _png(fig)
    if rows:
        import numpy as np

        fig, ax = plt.subplots(figsize=(6, 0.35 * len(rows) + 1))
        y = np.arange(len(rows))
        ax.barh(y + 0.2, [r["before"] or 0 for r in rows], height=0.4, color="#78909c", label="before")
        ax.barh(y - 0.2, [r["after"] or 0 for r in rows], height=0.4, color="#1565c0", label="after")
        ax.set_yticks(y, [r["table"] for r in rows]), ax.invert_yaxis()
        ax.set_xscale("symlog", linthresh=1)  # log: small tables stay visible; 0 rows is no bar
        ax.set_xlabel("rows (log scale)"), ax.set_title("Rows per table"), ax.legend(fontsize=8)
        out["rows"] = _png(fig)
    return out


# -- notebooks as HTML -----------------------------------------------------------------------------
def offline(html: str) -> str:
    """A page that needs nothing from the network: scripts removed (nbconvert's CDN require.js,
    MathJax, mermaid; the outputs are static), CSS comments (which cite web pages) dropped."""
    html = _SCRIPT.sub("", html)
    return _STYLE.sub(lambda m: m.group(1) + _CSS_COMMENT.sub("", m.group(2)) + m.group(3), html)


def render_notebook(path: Path) -> Path:
    """``NN_<step>.ipynb`` as ``NN_<step>.html`` beside it (skipped when already newer)."""
    out = path.with_suffix(".html")
    if out.is_file() and out.stat().st_mtime >= path.stat().st_mtime:
        return out
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab", embed_images=True).from_filename(str(path))
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
