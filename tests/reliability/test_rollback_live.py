"""A rollback on a live target: the application's writes are not the rollback's failure, and a
rollback that loses rows fails in its own transaction (docs/reliability.md, "a rollback on a
live target").

A real writer process inserts contractors, committing each, while `runbook rollback` undoes a
run's migrations and compares the result with that run's inventory: the rollback passes, the
inventory differences are reported as concurrent writes, and every acknowledged row is there. A
rollback script that deletes rows its migration did not add fails its data check inside its own
transaction, which rolls back: the database is exactly as it was before the rollback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import MIGRATIONS, db_state
from helpers import runbook
from test_live_writes import WRITER


def _run(db_url: str, tmp_path: Path, migrations: Path = MIGRATIONS) -> Path:
    done = runbook("run", "--db", db_url, "--migrations", str(migrations), "--reports", str(tmp_path / "reports"),
                   "--backups", str(tmp_path / "backups"), "--no-rehearsal", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return next((tmp_path / "reports").glob("*/inventory.json"))


def _rollback_record(tmp_path: Path) -> dict:
    path = max((tmp_path / "reports").glob("*/rollback.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(path.read_text())


@pytest.mark.slow
def test_rollback_while_the_application_writes_passes_and_loses_nothing(db_url, tmp_path):
    inventory_path = _run(db_url, tmp_path)
    stop, out = tmp_path / "stop", tmp_path / "acknowledged"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, db_url, str(stop), str(out)],
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not out.exists() or int(out.read_text() or 0) < 3:  # the application wrote since the inventory
            assert writer.poll() is None and time.monotonic() < deadline, writer.stderr.read() if writer.stderr else ""
            time.sleep(0.01)
        back = runbook("rollback", "--db", db_url, "--migrations", str(MIGRATIONS), "--reports",
                       str(tmp_path / "reports"), "--to", "none", "--snapshot", str(inventory_path), cwd=tmp_path)
    finally:
        stop.touch()
        writer.wait(timeout=120)
    assert writer.returncode == 0, writer.stderr.read() if writer.stderr else ""
    assert back.returncode == 0, back.stdout + back.stderr
    record = _rollback_record(tmp_path)
    assert record["error"] is None and record["after"] is None  # the run adopted the baseline
    assert record["compared_with"]["source"] == "given"
    checks = {c["check"]: c for c in record["checks"]}
    assert all(c["passed"] for c in checks.values()), [c for c in checks.values() if not c["passed"]]
    assert checks["schema equals the snapshot"]["passed"]
    assert checks["migration history equals the snapshot's"]["passed"]
    summary = checks["concurrent writes since the inventory"]
    assert "contractors" in summary["tables"], summary
    assert checks["rows: contractors"]["concurrent_writes"] > 0
    watched = {t["table"]: t for s in record["rolled_back"] for t in (s.get("data") or {}).get("tables", [])}
    assert watched["contractors"]["removed"] == 0  # counted in the rollback's own transaction
    acknowledged = int(out.read_text())
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT COUNT(*) FROM contractors WHERE name = 'live writer'")).scalar_one()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("contractors")}
    engine.dispose()
    assert kept == acknowledged > 0  # every acknowledged write is there
    assert "assigned_partner_id" not in columns  # rolled back


def test_a_rollback_script_that_deletes_rows_fails_in_its_own_transaction(db_url, tmp_path):
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    script = next((migrations / "rollbacks").glob("004_*.sql"))
    script.write_text(script.read_text() + "\nDELETE FROM contractors WHERE id = (SELECT MIN(id) FROM contractors);\n")
    _run(db_url, tmp_path, migrations)
    before = db_state(db_url)
    back = runbook("rollback", "--db", db_url, "--migrations", str(migrations), "--reports",
                   str(tmp_path / "reports"), "--to", "000", cwd=tmp_path)
    assert back.returncode != 0, back.stdout + back.stderr
    record = _rollback_record(tmp_path)
    assert "failed its data check" in record["error"] and "contractors: 1 of" in record["error"], record["error"]
    assert "004" in record["error"] and record["after"] == "004"
    assert record["failed"]["data"]["passed"] is False
    assert db_state(db_url) == before  # the rollback's transaction rolled back whole
