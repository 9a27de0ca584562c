"""``runbook lab``: an operator's interactive session, recorded in the migration log like a run.

The session gets its own run folder under the reports folder; the five notebooks are copied into
it with their parameters set for the target (papermill's parameterization, without executing), so
the package's source notebooks stay clean and every record the notebooks leave (inventory.json,
backup.json, ...) lands in the session folder, next to the notebooks that made it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from . import reports
from .pipeline import Options, _parameters
from .target import Target


def prepare(target: Target, *, migrations_dir: Path, reports_dir: Path, backup_dir: Path,
            rehearse: bool = True) -> Path:
    """Make the session folder and its parameterized notebooks; returns the folder."""
    import nbformat

    from .startup import load_notebook_runner

    load_notebook_runner()  # as a run imports papermill (without boto3)
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from .migrations import discover

    discover(migrations_dir)  # a bad migrations folder is refused before anything is made
    run_dir = reports.new_run_dir(Path(reports_dir), f"{target.name}-lab")
    run = reports.Run(run_dir.name, run_dir, target.display, target.kind.name, status="interactive", interactive=True,
                      options={"session": "runbook lab", "migrations_dir": str(migrations_dir)})
    opts = Options(migrations_dir=Path(migrations_dir), reports_dir=Path(reports_dir), backup_dir=Path(backup_dir),
                   rehearse=rehearse, rollback_on_failure=False)
    for step in reports.STEPS:
        source = reports.notebook_path(step)
        nb = load_notebook_node(str(source))
        nb = parameterize_notebook(nb, _parameters(step, target, run_dir, opts, run), report_mode=False)
        nbformat.write(nb, run_dir / source.name)
    run.write()
    return run_dir


def jupyterlab_installed() -> bool:
    return importlib.util.find_spec("jupyterlab") is not None


def start(session: Path) -> int:
    """JupyterLab in the session folder, until the operator stops it."""
    return subprocess.call([sys.executable, "-m", "jupyter", "lab", "--notebook-dir", str(session)], cwd=session)
