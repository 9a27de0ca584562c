"""The migration log: one folder per run under ``reports/``, kept for reviewers.

``reports/<run id>/`` holds the executed notebooks (``NN_<step>.ipynb``), the JSON artefacts the
steps hand to each other (``inventory.json``, ``backup.json``, ...) and ``run.json``, the run's
summary. Every executed notebook gets a summary cell at the top (the run's verdict beside the
step's, target, run id, a link to the run's page), and on failure papermill's own banner naming the
failing cell; a failed step still leaves its notebook. ``index.html`` pages (see ``html``) are
derived from these records and rebuilt by ``runbook reports --html``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import subprocess
import time
from importlib import resources
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .errors import redact
from .owner import run_is_dead
from .target import mask

NOTEBOOKS_DIR = Path(str(resources.files("runbook") / "notebooks"))  # package data: the five source notebooks
STEPS = ("inventory", "backup", "migrate", "verify", "rollback")
RUN_JSON = "run.json"
#: exception names of database drivers (DB-API, SQLAlchemy, psycopg, sqlite3): their text is redacted
DB_ERRORS = {"DatabaseError", "DataError", "IntegrityError", "OperationalError", "ProgrammingError",
             "InternalError", "NotSupportedError", "InterfaceError", "DBAPIError"}
INTERACTIVE_REPORTS = "../demo/reports"  # relative to notebooks/, where JupyterLab runs them
RUN_PAGE = "index.html"
STATUS_TAG = "runbook-summary"
VERDICTS = ("PASSED", "FAILED", "DRY RUN", "REFUSED", "RUNNING", "DIED", "INTERACTIVE")


def notebook_path(step: str, notebooks_dir: Path | None = None) -> Path:
    """The source notebook of a step: ``notebooks/NN_<step>.ipynb``."""
    folder = notebooks_dir or NOTEBOOKS_DIR
    return folder / f"{STEPS.index(step) + 1:02d}_{step}.ipynb"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_run_dir(reports_dir: Path, target_name: str) -> Path:
    """A fresh ``reports/<UTC time>_<target name>`` folder (suffixed when two runs share a second)."""
    base = f"{utc_now():%Y%m%dT%H%M%SZ}_{target_name}"
    reports_dir.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        run_dir = reports_dir / (base if n == 1 else f"{base}-{n}")
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot create a run folder under {reports_dir}")


# -- artefacts steps hand to each other --------------------------------------------------------
def save_artifact(run_dir: str | Path, name: str, data: Any) -> Path:
    path = Path(run_dir) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")  # a crash never leaves a truncated record
    partial.write_text(json.dumps(data, indent=2, default=str) + "\n")
    partial.replace(path)
    return path


def load_artifact(run_dir: str | Path, name: str) -> Any | None:
    path = Path(run_dir) / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


# -- executing a step's notebook -----------------------------------------------------------------
@dataclass
class StepResult:
    step: str
    status: str  # passed | failed
    notebook: str
    duration_s: float
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@functools.cache
def papermill_engine() -> str:
    """The name of papermill's own engine (nbclient) as the runbook runs it: the executed notebook
    is saved when each cell starts and at the end, as papermill does, but not again when each cell
    completes. The save at the next cell's start holds everything the completed cell left, the
    last cell's is the final save, so a run that dies mid-cell leaves the same partial notebook;
    it halves the ~130 saves of a demo run (each a deep copy, validation and JSON of the notebook).
    The saves at each cell's start write the notebook as it is in memory, as one line of JSON
    (Python's C encoder; nbformat's indented JSON goes through the pure-Python one), without
    nbformat's copy and schema validation: 0.1 s of CPU for the ~70 saves of a demo run. It is
    the same notebook (a cell's source as one string rather than a list of lines, both valid);
    the final save, when the notebook ends or fails, is papermill's own, validated and indented."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
    from papermill.iorw import papermill_io

    class Manager(NotebookExecutionManager):
        running = False  # in cell_start: its save is the quick one

        def save(self, **kwargs):
            if not (self.running and self.output_path):
                return super().save(**kwargs)
            try:
                text = json.dumps(self.nb, ensure_ascii=False, sort_keys=True)
            except (TypeError, ValueError):  # something nbformat would encode (bytes): its own save
                return super().save(**kwargs)
            papermill_io.write(text, self.output_path)  # as papermill writes (relative to the caller's folder)

        def cell_start(self, cell, cell_index=None, **kwargs):
            self.running = True
            try:
                super().cell_start(cell, cell_index=cell_index, **kwargs)
            finally:
                self.running = False

        def cell_complete(self, cell, cell_index=None, **kwargs):
            path, self.output_path = self.output_path, None  # save() writes nothing without a path
            try:
                super().cell_complete(cell, cell_index=cell_index, **kwargs)
            finally:
                self.output_path = path

    class Engine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                             autosave_cell_every=30, **kwargs):
            # papermill's Engine.execute_notebook, with the manager above
            nb_man = Manager(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                             autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register("runbook", Engine)
    return "runbook"


def execute_step(step: str, run_dir: Path, parameters: dict[str, Any], *, run_id: str, target_display: str,
                 notebooks_dir: Path | None = None, km: Any = None) -> StepResult:
    """Run a step's notebook with papermill into ``run_dir/NN_<step>.ipynb``; never raises for a
    failed step (the failure is in the result and in the written notebook). ``km``: a kernel
    shared by the run's steps (``kernel.shared_kernel``); without it papermill starts its own."""
    import papermill  # heavy imports, only where notebooks run (keeps the CLI quick to answer)
    from papermill.exceptions import PapermillExecutionError

    source = notebook_path(step, notebooks_dir)
    output = run_dir / source.name
    started = time.perf_counter()
    error = None
    from .kernel import KERNEL_ARGUMENTS, KERNEL_NAME, fresh_namespace

    try:
        if km is not None:
            fresh_namespace(km)
        papermill.execute_notebook(
            str(source), str(output), parameters=parameters, kernel_name=KERNEL_NAME, engine_name=papermill_engine(),
            progress_bar=False, cwd=str(source.parent), extra_arguments=KERNEL_ARGUMENTS,
            **({"km": km} if km is not None else {}),
        )
    except PapermillExecutionError as exc:
        text = str(exc.evalue)  # a driver's error escaping a cell may quote row values: redacted
        error = f"{exc.ename}: {mask(redact(text) if exc.ename in DB_ERRORS else text)}".strip()
    except Exception as exc:  # kernel died, notebook unreadable: still a failed step with a report
        error = f"{type(exc).__name__}: {mask(str(exc))}"
    result = StepResult(step, "failed" if error else "passed", output.name,
                        round(time.perf_counter() - started, 2), error)
    add_summary_cell(output, result, run_id=run_id, target_display=target_display)
    return result


def redact_errors(nb: Any) -> None:
    """A database driver's error that escaped a cell may quote row values (``Key (email)=(...)``,
    a failing cast's input): take them out of the executed notebook's error outputs, text and
    traceback, as ``run.json`` and the console already do."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if out.get("output_type") == "error" and out.get("ename") in DB_ERRORS:
                out["evalue"] = mask(redact(out.get("evalue", "")))
                out["traceback"] = [mask(redact(line)) for line in out.get("traceback", [])]


def add_summary_cell(path: Path, result: StepResult, *, run_id: str, target_display: str,
                     run_verdict: str = "RUNNING") -> None:
    """Put a short, readable verdict at the top of an executed notebook: the run's verdict beside
    this step's, and links to the run's page and record (text marks, no emoji: they render as
    empty boxes where no emoji font is installed)."""
    import nbformat

    if not path.is_file():
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_markdown_cell("The notebook could not be executed; see run.json."))
    else:
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if STATUS_TAG not in c.get("metadata", {}).get("tags", [])]
        redact_errors(nb)
    lines = [
        f"# {result.step}: {'PASSED' if result.passed else 'FAILED'} · run: {run_verdict}",
        "",
        "| | |", "|---|---|",
        f"| this step | **{'PASSED' if result.passed else 'FAILED'}** |",
        f"| the whole run | **{run_verdict}** |",
        f"| run | `{run_id}` |",
        f"| target | `{target_display}` |",
        f"| duration | {result.duration_s:.1f} s |",
        f"| run page | [{RUN_PAGE}]({RUN_PAGE}) · record [`run.json`]({RUN_JSON}) |",
    ]
    if result.error:
        lines += ["", f"**Error:** `{result.error}`", "",
                  "The cell that failed is marked below by papermill's red banner; its output shows the details."]
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell.metadata["tags"] = [STATUS_TAG]
    nb.cells.insert(0, cell)
    nbformat.write(nb, path)


# -- who ran it, from what -------------------------------------------------------------------------
def who() -> dict[str, str]:
    """The OS user and host running the runbook (no secrets, no environment)."""
    from .owner import who_and_host

    user, host = who_and_host()
    return {"user": user, "host": host}


def migrations_source(folder: str | Path) -> dict[str, Any]:
    """Which migrations ran: the git commit of the migrations folder and whether it has uncommitted
    changes (``None`` outside a git checkout), and the SHA-256 of the set of files (names and
    contents of every ``.sql`` file, rollbacks included)."""
    folder = Path(folder)
    digest = hashlib.sha256()
    files = sorted(p for p in folder.rglob("*.sql") if p.is_file()) if folder.is_dir() else []
    for p in files:
        digest.update(p.relative_to(folder).as_posix().encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    out: dict[str, Any] = {"folder": str(folder.resolve()), "files": len(files), "checksum": digest.hexdigest(),
                           "commit": None, "dirty": None}
    try:
        git = ["git", "-C", str(folder.resolve())]
        head = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if head.returncode == 0:
            out["commit"] = head.stdout.strip()
            changes = subprocess.run(git + ["status", "--porcelain", "--", "."], capture_output=True, text=True, timeout=10)
            out["dirty"] = bool(changes.stdout.strip()) if changes.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def after_snapshot(target: Any) -> dict[str, Any]:
    """The schema, row counts and size at the end of a run (``after.json``): the "after" side of
    the run page's schema diff and row counts (the inventory is the "before")."""
    import sqlalchemy as sa

    from .inventory import row_counts, schema_snapshot

    try:
        with target.engine().connect() as conn:
            out = {"taken_at": utc_now().isoformat(timespec="seconds"), **schema_snapshot(conn, target.kind),
                   "rows": row_counts(conn), "size_bytes": target.kind.database_size(conn)}
    except sa.exc.SQLAlchemyError as exc:  # a damaged database: the page says so, the run's verdict stands
        out = {"taken_at": utc_now().isoformat(timespec="seconds"),
               "error": mask(f"{type(exc).__name__}: {exc}".splitlines()[0])}
    target.dispose()
    return out


def verdict(run: dict[str, Any]) -> str:
    """The run's verdict as a reviewer reads it: PASSED, FAILED, DRY RUN (passed, changed nothing),
    REFUSED (bad input: a step refused before touching anything), RUNNING, DIED (its process ended
    without finishing the report), INTERACTIVE."""
    status = run.get("status")
    if run.get("interactive") and status in (None, "running", "interactive"):
        return "INTERACTIVE"
    if status == "passed":
        return "DRY RUN" if (run.get("options") or {}).get("dry_run") else "PASSED"
    if status == "running":
        return "RUNNING"
    if status == "died":
        return "DIED"
    if status == "refused":  # the lint gate, before anything ran
        return "REFUSED"
    first = next((st for st in run.get("steps") or [] if st.get("status") != "passed"), None)
    if first is not None and (first.get("error") or "").startswith("BadInput"):
        return "REFUSED"
    return "FAILED"


def finish(run: "Run") -> None:
    """At the end of a run: every notebook's summary cell gets the run's verdict, then the run's
    page and the log's front page are (re)written."""
    final = verdict(run.as_dict())
    for result in run.steps:
        path = run.run_dir / result.notebook
        if path.is_file():
            add_summary_cell(path, result, run_id=run.run_id, target_display=run.target, run_verdict=final)
    from . import html

    try:
        html.write_run(run.run_dir)
        html.write_index(run.run_dir.parent)
    except Exception as exc:  # pages are derived; the records are written: say so, do not fail the run
        import sys

        print(f"runbook: the HTML pages of {run.run_id} were not written ({type(exc).__name__}: {exc}); "
              "`runbook reports --html` writes them from the records", file=sys.stderr)


# -- run.json --------------------------------------------------------------------------------------
@dataclass
class Run:
    run_id: str
    run_dir: Path
    target: str
    engine: str
    started_at: str = field(default_factory=lambda: utc_now().isoformat(timespec="seconds"))
    finished_at: str | None = None
    status: str = "running"
    steps: list[StepResult] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str | None] = field(default_factory=lambda: {"before": None, "after": None})
    database_size_bytes: dict[str, int | None] = field(default_factory=lambda: {"before": None, "after": None})
    backup: dict[str, Any] | None = None
    rehearsal: dict[str, Any] | None = None
    error: str | None = None
    host: str = field(default_factory=socket.gethostname)  # with pid: a run that died is told apart
    pid: int = field(default_factory=os.getpid)
    lint_refusal: list[dict[str, Any]] | None = None  # the findings behind a lint-gate refusal
    rollback_skipped: str | None = None  # why a failed run did not roll back
    who: dict[str, str] = field(default_factory=who)
    source: dict[str, Any] | None = None  # migrations_source() of the migrations folder
    interactive: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        data["steps"] = [asdict(s) for s in self.steps]
        data["runbook_version"] = __version__
        return data

    def write(self) -> Path:
        return save_artifact(self.run_dir, Path(RUN_JSON).stem, self.as_dict())


# -- interactive runs (JupyterLab) ------------------------------------------------------------------
def interactive_run(run_dir: str | Path | None, run_id: str | None, target: Any, step: str,
                    migrations_dir: str | Path) -> tuple[str, str]:
    """The run folder and run id a notebook's step writes into.

    papermill (``runbook run``) passes both: they are used as they are. A notebook run by hand in
    JupyterLab leaves them ``None``: its session is a run of its own, in a new folder under
    ``$RUNBOOK_REPORTS`` (default ``../demo/reports``) that ``runbook reports`` lists like any
    other. The inventory notebook starts it; the later notebooks join the newest interactive run
    of the same target (or start one when there is none). Each step is added to its ``run.json``
    (status ``interactive``: nobody but the operator watched its cells pass)."""
    if run_dir:
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        return str(run_dir), run_id or Path(run_dir).name
    reports_dir = Path(os.environ.get("RUNBOOK_REPORTS") or INTERACTIVE_REPORTS)
    joined = None if step == STEPS[0] else next(
        (r for r in load_runs(reports_dir) if r.get("interactive") and r.get("target") == target.display), None)
    if joined is None:
        folder = new_run_dir(reports_dir, target.name)
        data = Run(folder.name, folder, target.display, target.kind.name, status="interactive", interactive=True,
                   source=migrations_source(migrations_dir)).as_dict()
    else:
        folder, data = Path(joined["run_dir"]), joined
    data["steps"] = [st for st in data.get("steps") or [] if st.get("step") != step] + [
        {"step": step, "status": "interactive", "notebook": notebook_path(step).name, "duration_s": None,
         "error": None, "started_at": utc_now().isoformat(timespec="seconds")}]
    data["finished_at"] = utc_now().isoformat(timespec="seconds")
    save_artifact(folder, Path(RUN_JSON).stem, data)
    try:
        from . import html

        html.write_run(folder, notebooks=False)
        html.write_index(reports_dir)
    except Exception:  # the pages are derived (`runbook reports --html`); never stop an operator for them
        pass
    return str(folder), folder.name


def load_runs(reports_dir: Path) -> list[dict[str, Any]]:
    """Every run record (``run.json``) in a reports folder, newest first."""
    runs = []
    for path in Path(reports_dir).glob(f"*/{RUN_JSON}"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # a record being written, or damaged: the others are still listed
        if data.get("status") == "running" and run_is_dead(data.get("host"), data.get("pid")):
            data["status"] = "died"  # its process is gone: it will never finish (see mark_dead_runs)
        data["run_dir"] = str(path.parent)
        data.setdefault("run_id", path.parent.name)
        runs.append(data)
    return sorted(runs, key=lambda d: (d.get("started_at") or "", d["run_id"]), reverse=True)


def list_runs(reports_dir: Path) -> list[dict[str, Any]]:
    """Every run in a reports folder, newest first (for reviewers and ``runbook reports``)."""
    return [{k: data.get(k) for k in ("run_id", "status", "target", "engine", "started_at", "finished_at", "run_dir")}
            | {"verdict": verdict(data), "who": data.get("who"),
               "versions": data.get("versions"),
               "steps": [{"step": s["step"], "status": s["status"]} for s in data.get("steps") or []]}
            for data in load_runs(reports_dir)]


def mark_dead_runs(reports_dir: Path) -> list[str]:
    """Mark ``died`` every run still ``running`` in ``run.json`` whose process (same host, its
    pid) is gone; the run ids marked. A run of another host is left as it is."""
    marked = []
    for path in sorted(Path(reports_dir).glob(f"*/{RUN_JSON}")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if data.get("status") == "running" and run_is_dead(data.get("host"), data.get("pid")):
            data["status"] = "died"
            data["error"] = data.get("error") or ("the run's process ended without finishing its report "
                                                  "(killed or crashed); marked by a later run")
            data["finished_at"] = data.get("finished_at") or utc_now().isoformat(timespec="seconds")
            save_artifact(path.parent, path.stem, data)
            marked.append(str(data.get("run_id") or path.parent.name))
    return marked
