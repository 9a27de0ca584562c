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
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import MIGRATIONS, db_state
from helpers import live_writer, runbook, writer_rows


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
    with live_writer(db_url, tmp_path, at_least=3) as out:  # the application wrote since the inventory
        back = runbook("rollback", "--db", db_url, "--migrations", str(MIGRATIONS), "--reports",
                       str(tmp_path / "reports"), "--to", "none", "--snapshot", str(inventory_path), cwd=tmp_path)
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
    kept, columns = writer_rows(db_url)
    assert kept == int(out.read_text()) > 0  # every acknowledged write is there
    assert "assigned_partner_id" not in columns  # rolled back


@pytest.mark.slow
def test_automatic_rollback_after_a_failed_verify_while_the_application_writes(db_url, tmp_path):
    """`runbook run` whose verify fails (migration 005 leaves an orphan reference) while a real
    writer inserts: the automatic rollback compares with this run's inventory, passes, reports
    the application's rows as concurrent writes, and every acknowledged row is there."""
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    (migrations / "005_point_at_nothing.sql").write_text(
        "UPDATE contractors SET assigned_partner_id = 999999 WHERE id = (SELECT MIN(id) FROM contractors);\n")
    (migrations / "rollbacks" / "005_rollback_point_at_nothing.sql").write_text(
        "UPDATE contractors SET assigned_partner_id = NULL WHERE assigned_partner_id = 999999;\n")
    with live_writer(db_url, tmp_path) as out:
        done = runbook("run", "--db", db_url, "--migrations", str(migrations), "--reports", str(tmp_path / "reports"),
                       "--backups", str(tmp_path / "backups"), "--no-rehearsal", "--allow-risk", cwd=tmp_path)
    run = json.loads(next((tmp_path / "reports").glob("*/run.json")).read_text())
    steps = {s["step"]: s["status"] for s in run["steps"]}
    assert steps["verify"] == "failed" and steps["rollback"] == "passed", (steps, done.stdout + done.stderr)
    assert done.returncode == 1 and "automatic rollback failed" not in done.stdout + done.stderr
    record = _rollback_record(tmp_path)
    assert record["compared_with"]["source"] == "this run" and record["after"] is None
    checks = {c["check"]: c for c in record["checks"]}
    assert all(c["passed"] for c in checks.values()), [c for c in checks.values() if not c["passed"]]
    assert "contractors" in checks["concurrent writes since the inventory"]["tables"]
    kept, columns = writer_rows(db_url)
    assert kept == int(out.read_text()) > 0
    assert "assigned_partner_id" not in columns


def test_a_rollback_script_that_deletes_rows_fails_in_its_own_transaction(db_url, tmp_path):
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    script = next((migrations / "rollbacks").glob("004_*.sql"))
    script.write_text(script.read_text() + "\nDELETE FROM contractors WHERE id = (SELECT MIN(id) FROM contractors);\n")
    _run(db_url, tmp_path, migrations)
    before = db_state(db_url)
    back = runbook("rollback", "--db", db_url, "--migrations", str(migrations), "--reports",
                   str(tmp_path / "reports"), "--to", "000", cwd=tmp_path)
    assert back.returncode == 1, back.stdout + back.stderr
    record = _rollback_record(tmp_path)
    assert "failed its data check" in record["error"] and "contractors: 1 of" in record["error"], record["error"]
    assert "004" in record["error"] and record["after"] == "004"
    assert record["failed"]["data"]["passed"] is False
    assert db_state(db_url) == before  # the rollback's transaction rolled back whole


def test_a_rollback_that_does_not_undo_its_migration_fails_unless_another_writer_explains_it(db_url, tmp_path):
    """Migration 005 adds 3 contractors; its rollback script deletes only 2 of them (its own
    transaction allows that: 2 ≤ 3). Against the inventory, the count arithmetic decides: when
    the application also inserted rows, the difference is more than the runbook's transactions
    account for (concurrent writes, passes); when nobody else wrote, the migrations (+3) and the
    rollback (−2) account for the whole difference: the rollback's, a failure."""
    from runbook import inventory, migrate, rollback
    from runbook.target import open_target

    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    (migrations / "005_seed_contractors.sql").write_text(
        "INSERT INTO contractors (name, email) VALUES ('seed', 's1@m5.example'), ('seed', 's2@m5.example'), "
        "('seed', 's3@m5.example');\n")
    (migrations / "rollbacks" / "005_rollback_seed_contractors.sql").write_text(
        "DELETE FROM contractors WHERE email IN ('s1@m5.example', 's2@m5.example');\n")
    target = open_target(db_url)
    assert migrate.migrate(target, migrations, to="004", run_id="r0").error is None

    def round_trip(run: str, app_rows: int) -> dict:
        with target.engine().begin() as conn:  # the row an earlier round left (its email is unique)
            conn.execute(sa.text("UPDATE contractors SET email = :e WHERE email = 's3@m5.example'"), {"e": run + "@left"})
        snap = tmp_path / f"{run}-inventory.json"
        snap.write_text(json.dumps(inventory.take(target, migrations)))
        applied = migrate.migrate(target, migrations, run_id=run)
        assert applied.error is None
        with target.engine().begin() as conn:  # the application, between the migration and its rollback
            for i in range(app_rows):
                conn.execute(sa.text("INSERT INTO contractors (name, email) VALUES ('app', :e)"), {"e": f"{run}{i}@a"})
        written = {m.version: m.data for m in applied.migrations if m.data}
        result = rollback.rollback_to(target, migrations, "004", run_id=run + "-back", written=written)
        assert result["error"] is None, result["error"]  # its own transaction: 2 removed, 3 added by 005
        (tmp_path / run).mkdir()
        return result | rollback.compare_after(target, tmp_path / run, snap, result)

    with_app = {c["check"]: c for c in round_trip("with-app", 2)["checks"]}
    assert all(c["passed"] for c in with_app.values()), [c for c in with_app.values() if not c["passed"]]
    assert "+2 rows written by others" in with_app["rows: contractors"]["detail"]
    assert "contractors" in with_app["concurrent writes since the inventory"]["tables"]

    alone = {c["check"]: c for c in round_trip("alone", 0)["checks"]}
    assert not alone["rows: contractors"]["passed"]
    assert "the rollback did not undo the migration" in alone["rows: contractors"]["detail"]
    assert alone["schema equals the snapshot"]["passed"] and alone["migration history equals the snapshot's"]["passed"]
    target.dispose()
