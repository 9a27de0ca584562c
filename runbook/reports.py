"""The migration log: one folder per run under ``reports/``, kept for reviewers.

``reports/<run id>/`` holds the executed notebooks (``NN_<step>.ipynb``), the JSON artefacts the
steps hand to each other (``inventory.json``, ``backup.json``, ...) and ``run.json``, the run's
summary. Every executed notebook gets a summary cell at the top (step, status, target, run id,
where to look), and on failure papermill's own banner naming the failing cell; a failed step still
leaves its notebook.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .errors import redact
from .owner import run_is_dead
from .target import mask

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
STEPS = ("inventory", "backup", "migrate", "verify", "rollback")
RUN_JSON = "run.json"
#: exception names of database drivers (DB-API, SQLAlchemy, psycopg, sqlite3): their text is redacted
DB_ERRORS = {"DatabaseError", "DataError", "IntegrityError", "OperationalError", "ProgrammingError",
             "InternalError", "NotSupportedError", "InterfaceError", "DBAPIError"}
STATUS_TAG = "runbook-summary"


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
            str(source), str(output), parameters=parameters, kernel_name=KERNEL_NAME,
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


def add_summary_cell(path: Path, result: StepResult, *, run_id: str, target_display: str) -> None:
    """Put a short, readable verdict at the top of an executed notebook."""
    import nbformat

    if not path.is_file():
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_markdown_cell("The notebook could not be executed; see run.json."))
    else:
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if STATUS_TAG not in c.get("metadata", {}).get("tags", [])]
    mark = "✅ PASSED" if result.passed else "❌ FAILED"
    lines = [
        f"# {result.step}: {mark}",
        "",
        "| | |", "|---|---|",
        f"| run | `{run_id}` |",
        f"| target | `{target_display}` |",
        f"| duration | {result.duration_s:.1f} s |",
        f"| run summary | [`run.json`]({RUN_JSON}) |",
    ]
    if result.error:
        lines += ["", f"**Error:** `{result.error}`", "",
                  "The cell that failed is marked below by papermill's red banner; its output shows the details."]
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell.metadata["tags"] = [STATUS_TAG]
    nb.cells.insert(0, cell)
    nbformat.write(nb, path)


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

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        data["steps"] = [asdict(s) for s in self.steps]
        data["runbook_version"] = __version__
        return data

    def write(self) -> Path:
        return save_artifact(self.run_dir, Path(RUN_JSON).stem, self.as_dict())


def list_runs(reports_dir: Path) -> list[dict[str, Any]]:
    """Every run in a reports folder, oldest first (for reviewers and ``runbook reports``)."""
    runs = []
    for path in sorted(Path(reports_dir).glob(f"*/{RUN_JSON}")):
        data = json.loads(path.read_text())
        if data.get("status") == "running" and run_is_dead(data.get("host"), data.get("pid")):
            data["status"] = "died"
        runs.append({k: data.get(k) for k in ("run_id", "status", "target", "started_at")}
                    | {"steps": " → ".join(f"{s['step']}:{s['status']}" for s in data.get("steps", []))})
    return runs


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
