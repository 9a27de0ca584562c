"""Barriers for fault-injection tests: a run can be made to stop at a named point and wait.

With ``RUNBOOK_BARRIER_DIR`` set, ``barrier("after-migrate")`` writes ``<dir>/after-migrate.reached``
(holding the pid) and waits until ``<dir>/after-migrate.go`` exists; a test then kills the run's
process group, fills a disk or ends a database session at exactly that point, instead of
guessing with sleeps. Without the variable (every real run) it returns at once.

Points: ``backup-written``, ``before-migration-NNN``, ``uncommitted-NNN`` (inside the
transaction of migration, or rollback script, NNN: everything run but the commit) and
``after-<step>`` (the pipeline, between steps), ``restore-replaced`` (a restore replaced the
database, its event log not yet carried over), ``live-snapshot-copied`` (SQLite: the copy a
large live database is read from is written).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

BARRIER_ENV = "RUNBOOK_BARRIER_DIR"
MAX_WAIT_S = 300.0


def barrier(point: str) -> None:
    folder = os.environ.get(BARRIER_ENV)
    if not folder:
        return
    root = Path(folder)
    if not (root / f"{point}.wanted").exists():
        return  # the test waits at other points only
    (root / f"{point}.reached").write_text(str(os.getpid()))
    deadline = time.monotonic() + MAX_WAIT_S
    while not (root / f"{point}.go").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
