"""An application that keeps writing while `runbook run` migrates: no acknowledged write is lost.

A real writer process inserts a contractor every few milliseconds, committing each, and counts
the inserts the database acknowledged. Meanwhile the whole pipeline runs on the same database
(inventory, backup, rehearsal, migrate, verify). The application's writes after the inventory
are concurrent writes: verify reports them and passes, nothing is rolled back, and every
acknowledged row is there at the end.
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import MIGRATIONS
from helpers import live_writer, runbook, writer_rows


@pytest.mark.slow
def test_an_application_writing_during_the_run_loses_nothing(db_url, tmp_path):
    with live_writer(db_url, tmp_path) as out:  # the application is writing before the run starts
        done = runbook("run", "--db", db_url, "--migrations", str(MIGRATIONS), "--reports", str(tmp_path / "reports"),
                       "--backups", str(tmp_path / "backups"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    kept, columns = writer_rows(db_url)
    assert kept == int(out.read_text()) > 0  # every acknowledged write is there
    assert "assigned_partner_id" in columns  # migrated, not rolled back
    run_dir = next((tmp_path / "reports").glob("*/verify.json")).parent
    checks = json.loads((run_dir / "verify.json").read_text())["checks"]
    concurrent = [c for c in checks if "concurrent" in c["check"] or "concurrent" in c.get("detail", "")]
    assert concurrent and all(c["passed"] for c in concurrent), concurrent
    assert os.path.exists(run_dir / "index.html")
