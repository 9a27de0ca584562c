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
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import MIGRATIONS
from helpers import runbook

WRITER = """
import sys, time, uuid
from pathlib import Path
import sqlalchemy as sa
url, stop, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
engine = sa.create_engine(url, connect_args={"timeout": 120} if url.startswith("sqlite") else {})
acknowledged = 0
while not stop.exists():
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO contractors (name, email) VALUES ('live writer', :e)"),
                     {"e": f"w{uuid.uuid4().hex}@app.example"})
    acknowledged += 1  # the commit returned: the database acknowledged this row
    out.write_text(str(acknowledged))
    time.sleep(0.005)
"""


@pytest.mark.slow
def test_an_application_writing_during_the_run_loses_nothing(db_url, tmp_path):
    stop, out = tmp_path / "stop", tmp_path / "acknowledged"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, db_url, str(stop), str(out)],
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not out.exists():  # the application is writing before the run starts
            assert writer.poll() is None and time.monotonic() < deadline, writer.stderr.read() if writer.stderr else ""
            time.sleep(0.01)
        done = runbook("run", "--db", db_url, "--migrations", str(MIGRATIONS), "--reports", str(tmp_path / "reports"),
                       "--backups", str(tmp_path / "backups"), cwd=tmp_path)
    finally:
        stop.touch()
        writer.wait(timeout=120)
    assert writer.returncode == 0, writer.stderr.read() if writer.stderr else ""
    assert done.returncode == 0, done.stdout + done.stderr
    acknowledged = int(out.read_text())
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT COUNT(*) FROM contractors WHERE name = 'live writer'")).scalar_one()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("contractors")}
    engine.dispose()
    assert kept == acknowledged > 0  # every acknowledged write is there
    assert "assigned_partner_id" in columns  # migrated, not rolled back
    run_dir = next((tmp_path / "reports").glob("*/verify.json")).parent
    checks = json.loads((run_dir / "verify.json").read_text())["checks"]
    concurrent = [c for c in checks if "concurrent" in c["check"] or "concurrent" in c.get("detail", "")]
    assert concurrent and all(c["passed"] for c in concurrent), concurrent
    assert os.path.exists(run_dir / "index.html")
