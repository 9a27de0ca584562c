"""``runbook demo``: the guide's Power100 database on SQLite, migrated end to end.

Builds ``DIR/power100.db`` as the guide's production database stands (the baseline tables and
the sample data, no history table), runs the whole pipeline on it with its reports in
``DIR/reports`` and backups in ``DIR/backups``, then loads the reference seeds the new tables want.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

from .. import pipeline, seeds
from ..errors import BadInput
from ..migrations import discover
from ..reports import Run
from ..target import open_target

# The demo's migrations and seeds ship inside the package (package data), so an installed wheel
# runs the demo from any directory.
DATA = Path(str(resources.files(__name__)))
MIGRATIONS = DATA / "migrations"
SEEDS = DATA / "seeds"
REFERENCE_SEEDS = ("focus_areas.sql", "revenue_ranges.sql")


def build_database(path: Path) -> str:
    """(Re)build the demo database file; returns its URL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    sqlite3.connect(path).close()
    url = f"sqlite:///{path.resolve()}"
    seeds.build_baseline(open_target(url), MIGRATIONS, SEEDS)
    return url


def run_demo(folder: Path, stop_before: str | None = None) -> Run:
    """Build the demo database and run the pipeline on it. ``stop_before``: migrate only up to
    the migration before that version, leaving it and the later ones pending (for an operator to
    step through in JupyterLab)."""
    folder = Path(folder)
    to = None
    if stop_before is not None:
        earlier = [m.version for m in discover(MIGRATIONS) if int(m.version) < _number(stop_before)]
        if not earlier:
            raise BadInput(f"--stop-before {stop_before}: no demo migration comes before it (the first is 000)")
        to = earlier[-1]
    url = build_database(folder / "power100.db")
    print(f"built {folder / 'power100.db'}: the guide's baseline schema and sample data, no history table")
    target = open_target(url)
    opts = pipeline.Options(migrations_dir=MIGRATIONS, reports_dir=folder / "reports", backup_dir=folder / "backups", to=to)
    run = pipeline.execute(target, pipeline.PIPELINE, opts)
    if run.status == "passed" and to is None:
        loaded = seeds.load(target, [SEEDS / name for name in REFERENCE_SEEDS])
        print("reference seeds: " + ", ".join(f"{name} ({rows} rows)" for name, rows in loaded.items()))
    return run


def _number(version: str) -> int:
    try:
        return int(version)
    except ValueError:
        raise BadInput(f"not a migration version: {version!r} (expected a number such as 001)") from None
