"""Verify scripts (``verify/NNN_verify_*.sql``, Sqitch's verify): read with their migration, run
at migrate before the migration commits, at verify and after a rollback, on both engines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import backup, rehearsal, rollback, steps
from runbook import migrations as mig
from runbook.errors import BadInput, RunFailed
from runbook.migrate import migrate, planned_sql, prepare_verify, verify_script_checks
from runbook.target import open_target
from runbook.verify import verify

from conftest import MIGRATIONS, db_state

ADD_NOTES = "-- Migration: Add notes\n-- Risk Level: LOW\nALTER TABLE contractors ADD COLUMN notes TEXT;\n"


def demo_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """The demo's migrations plus ``files`` (path in the folder → text)."""
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    for name, text in files.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(text)
    return folder


def events(url: str) -> list[tuple[str, str]]:
    with open_target(url).engine().connect() as conn:
        return [(e["event"], e["version"]) for e in mig.event_log(conn)]


def has_table(url: str, name: str) -> bool:
    with open_target(url).engine().connect() as conn:
        return sa.inspect(conn).has_table(name)


# -- reading ---------------------------------------------------------------------------------------
def test_discover_reads_verify_scripts_their_variants_and_refuses_orphans(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    (folder / "verify").mkdir(parents=True)
    (folder / "001_base.sql").write_text("CREATE TABLE t (id INTEGER PRIMARY KEY);\n")
    (folder / "002_more.sql").write_text("ALTER TABLE t ADD COLUMN x TEXT;\n")
    (folder / "verify" / "001_verify_base.sql").write_text("SELECT id FROM t WHERE 1 = 0;\n")
    (folder / "verify" / "001_verify_base.postgresql.sql").write_text("SELECT id FROM t WHERE false;\n")
    (folder / "verify" / "README.md").write_text("notes are not scripts\n")
    first, second = mig.discover(folder)
    assert first.verify.path == folder / "verify" / "001_verify_base.sql"
    assert first.verify.variants == {"postgresql": folder / "verify" / "001_verify_base.postgresql.sql"}
    assert second.verify is None
    assert [m.verify is not None for m in mig.discover(MIGRATIONS)] == [False, True, True, True, True]

    (folder / "verify" / "003_verify_nothing.sql").write_text("SELECT 1;\n")
    with pytest.raises(BadInput, match="003_verify_nothing.sql: verify script for migration 003, which does not exist"):
        mig.discover(folder)
    (folder / "verify" / "003_verify_nothing.sql").rename(folder / "verify" / "verify_003.sql")
    with pytest.raises(BadInput, match="verify_003.sql: verify script file names must look like NNN_verify_description.sql"):
        mig.discover(folder)


def test_a_verify_script_is_not_in_the_checksum_and_an_empty_one_is_none(sqlite_url: str, tmp_path: Path) -> None:
    folder = demo_with(tmp_path, {})
    target = open_target(sqlite_url)
    assert migrate(target, folder, run_id="up").passed
    path = folder / "verify" / "002_verify_enhance_partner_table.sql"
    path.write_text(path.read_text() + "SELECT 1 FROM strategic_partners WHERE 1 = 0;\n")  # improved later
    with target.engine().connect() as conn:
        assert mig.status(conn, mig.discover(folder), target.kind).drifted == []
    path.write_text("-- nothing yet\nBEGIN;\nROLLBACK;\n")  # Sqitch's wrapping, no statement
    assert prepare_verify(mig.discover(folder)[2], target.kind) is None


# -- at migrate --------------------------------------------------------------------------------------
def test_a_failing_verify_script_fails_its_migration_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    folder = demo_with(tmp_path, {"005_add_notes.sql": ADD_NOTES,
                                  "verify/005_verify_add_notes.sql": "BEGIN;\nSELECT notes FROM contractors WHERE 1 = 0;\n"
                                                                     "SELECT nickname FROM contractors WHERE 1 = 0;\nROLLBACK;\n"})
    target = open_target(db_url)
    assert migrate(target, folder, to="004", run_id="up").passed
    before = db_state(db_url)
    result = migrate(target, folder, run_id="fails")
    assert not result.passed and result.after == "004"
    assert result.error.startswith("migration 005_add_notes failed its verify script verify/005_verify_add_notes.sql "
                                   "at statement 3 (line 3): 'SELECT nickname FROM contractors WHERE 1 = 0': ")
    assert result.error.endswith("; its transaction was rolled back") and "nickname" in result.error
    [failed] = [m for m in result.migrations if m.version == "005"]
    assert failed.status == "failed" and failed.statements[0].note.startswith("FAILED: verify/005_verify_add_notes.sql: ")
    assert db_state(db_url) == before  # no notes column, no history row
    assert events(db_url)[-1] == ("fail", "005")

    (folder / "verify" / "005_verify_add_notes.sql").write_text("SELECT notes FROM contractors WHERE 1 = 0;\n")
    again = migrate(target, folder, run_id="passes")
    assert again.passed and again.after == "005"
    assert db_state(db_url)["history"][-1]["version"] == "005"


def test_what_a_verify_script_does_at_migrate_is_discarded(db_url: str, tmp_path: Path) -> None:
    folder = demo_with(tmp_path, {"005_add_notes.sql": ADD_NOTES,
                                  "verify/005_verify_add_notes.sql": "CREATE TABLE verify_was_here (id INTEGER);\n"
                                                                     "SELECT notes FROM contractors WHERE 1 = 0;\n"})
    target = open_target(db_url)
    assert migrate(target, folder, run_id="up").passed
    assert not has_table(db_url, "verify_was_here")


@pytest.mark.postgres
def test_a_verify_script_failing_after_a_statement_outside_a_transaction_says_it_is_committed(
        pg_url: str, tmp_path: Path) -> None:
    folder = demo_with(tmp_path, {
        "005_index_team_size.sql": "-- Risk Level: LOW\nCREATE INDEX idx_team_size ON contractors (team_size);\n",
        "005_index_team_size.postgresql.sql": "-- Risk Level: LOW\nCREATE INDEX CONCURRENTLY idx_team_size ON contractors (team_size);\n",
        "rollbacks/005_rollback_index_team_size.sql": "DROP INDEX idx_team_size;\n",
        "verify/005_verify_index_team_size.sql": "SELECT nickname FROM contractors WHERE 1 = 0;\n"})
    target = open_target(pg_url)
    result = migrate(target, folder, run_id="up")
    assert not result.passed and result.after == "005"
    assert "failed its verify script verify/005_verify_index_team_size.sql at statement 1 (line 1)" in result.error
    assert "is committed: 005 is applied and recorded" in result.error and "runbook rollback" in result.error
    assert db_state(pg_url)["history"][-1]["version"] == "005"
    back = rollback.rollback_to(target, folder, "004", run_id="down")
    assert back["error"] is None and back["after"] == "004"


def test_a_failing_verify_script_stops_the_run_at_the_rehearsal(db_url: str, tmp_path: Path) -> None:
    folder = demo_with(tmp_path, {"005_add_notes.sql": ADD_NOTES,
                                  "verify/005_verify_add_notes.sql": "SELECT nickname FROM contractors WHERE 1 = 0;\n"})
    target = open_target(db_url)
    record = backup.take(target, tmp_path / "backups")
    before = db_state(db_url)
    result = rehearsal.rehearse(target, record, folder, run_id="rehearse")
    assert result["passed"] is False and "verify script verify/005_verify_add_notes.sql" in result["error"]
    with pytest.raises(RunFailed, match="the target was not touched"):
        rehearsal.assert_rehearsal_passed(result)
    assert db_state(db_url) == before


# -- at verify and after a rollback ------------------------------------------------------------------
def test_the_verify_step_runs_every_applied_verify_script(db_url: str, tmp_path: Path) -> None:
    folder = demo_with(tmp_path, {})
    target = open_target(db_url)
    assert migrate(target, folder, to="003", run_id="up").passed
    result = verify(target, folder)
    rows = {c["check"]: c for c in result["checks"] if c["check"].startswith("verify script ")}
    assert list(rows) == ["verify script 001_add_contractor_fields", "verify script 002_enhance_partner_table",
                          "verify script 003_create_supporting_tables"]  # 004 is not applied
    assert all(c["passed"] for c in rows.values())
    assert rows["verify script 003_create_supporting_tables"]["detail"] == \
        "verify/003_verify_create_supporting_tables.sql: 4 statement(s) ran without error"
    assert {h["check_type"]: h["status"] for h in result["health"]}["Verify Scripts"] == "PASS"

    with target.engine().begin() as conn:
        conn.exec_driver_sql("DROP TABLE partner_focus_areas")
    [bad] = [c for c in verify(target, folder)["checks"] if c["check"].startswith("verify script ") and not c["passed"]]
    assert bad["check"] == "verify script 003_create_supporting_tables"
    assert bad["detail"].startswith("verify/003_verify_create_supporting_tables.sql statement 3 (line 7): ")
    assert "partner_focus_areas" in bad["detail"]


def test_the_verify_step_discards_writes_and_refuses_them_on_postgresql(db_url: str, tmp_path: Path) -> None:
    folder = demo_with(tmp_path, {})
    target = open_target(db_url)
    assert migrate(target, folder, to="001", run_id="up").passed
    (folder / "verify" / "001_verify_add_contractor_fields.sql").write_text(
        "CREATE TABLE verify_was_here (id INTEGER);\n")
    [row] = verify_script_checks(target, mig.discover(folder)[:2])
    assert not has_table(db_url, "verify_was_here")
    if target.kind.name == "postgresql":  # a READ ONLY transaction
        assert not row["passed"] and "read-only transaction" in row["detail"]
    else:  # rolled back
        assert row["passed"]


def test_rollback_verifies_the_migrations_still_applied(db_url: str, tmp_path: Path) -> None:
    folder = demo_with(tmp_path, {})
    target = open_target(db_url)
    assert migrate(target, folder, run_id="up").passed
    result = rollback.rollback_to(target, folder, "002", run_id="down")
    assert result["error"] is None and result["after"] == "002"
    assert [(c["check"], c["passed"]) for c in result["checks"]] == [
        ("verify script 001_add_contractor_fields", True), ("verify script 002_enhance_partner_table", True)]

    assert migrate(target, folder, run_id="up again").passed
    path = folder / "verify" / "001_verify_add_contractor_fields.sql"  # a verify script that reads a table 003 made
    path.write_text(path.read_text() + "SELECT slug FROM focus_areas WHERE 1 = 0;\n")
    result = rollback.rollback_to(target, folder, "001", run_id="down again")
    [check] = result["checks"]
    assert check["check"] == "verify script 001_add_contractor_fields" and not check["passed"]
    assert "focus_areas" in check["detail"]
    after = rollback.compare_after(target, tmp_path / "reports" / "run", None, result)
    assert check in after["checks"]  # the rollback step's checks (and its notebook's table) hold them


def test_a_restore_verifies_the_migrations_applied_in_the_restored_database(db_url: str, tmp_path: Path) -> None:
    folder = demo_with(tmp_path, {})
    target = open_target(db_url)
    assert migrate(target, folder, to="002", run_id="up").passed
    taken = backup.take(target, tmp_path / "backups")
    assert migrate(target, folder, run_id="up again").passed
    path = folder / "verify" / "002_verify_enhance_partner_table.sql"  # a verify script that reads a table 003 made
    path.write_text(path.read_text() + "SELECT slug FROM focus_areas WHERE 1 = 0;\n")
    result = steps.roll_back(target, folder, run_id="restore", to=None, restore_backup=taken["path"],
                             confirm_restore=True, before=None)
    assert result["method"] == "restore" and result["after"] == "002"
    assert [(c["check"], c["passed"]) for c in result["checks"]] == [
        ("verify script 001_add_contractor_fields", True), ("verify script 002_enhance_partner_table", False)]
    assert "focus_areas" in result["checks"][1]["detail"]
    after = rollback.compare_after(target, tmp_path / "reports" / "run", None, result)
    assert result["checks"][1] in after["checks"]  # the rollback step's checks (and its notebook's table) hold them

    (folder / "001_add_contractor_fields.sql").rename(tmp_path / "moved.sql")  # a folder that cannot be read
    again = rollback.restore_backup(target, Path(taken["path"]), confirm=True, migrations_dir=folder)
    [skipped] = again["checks"]
    assert skipped["passed"] and skipped.get("skipped") and "could not be read" in skipped["detail"]


def test_a_dry_run_lists_each_pending_migrations_verify_script_without_running_it(db_url: str, tmp_path: Path) -> None:
    folder = demo_with(tmp_path, {"005_add_notes.sql": ADD_NOTES,
                                  "verify/005_verify_add_notes.sql": "BEGIN;\nSELECT notes FROM contractors WHERE 1 = 0;\n"
                                                                     "ROLLBACK;\n"})
    target = open_target(db_url)
    assert migrate(target, folder, to="003", run_id="up").passed
    before = db_state(db_url)
    result = migrate(target, folder, dry_run=True, run_id="plan")
    assert db_state(db_url) == before
    planned = {m.version: m.verify for m in result.migrations}
    variant = ".postgresql" if target.kind.name == "postgresql" else ""
    assert {v: p["file"] for v, p in planned.items()} == {
        "004": f"verify/004_verify_add_search_indexes{variant}.sql", "005": "verify/005_verify_add_notes.sql"}
    assert [sql.rstrip(";") for sql in planned["005"]["statements"]] == [  # its BEGIN/ROLLBACK are the runner's
        "SELECT notes FROM contractors WHERE 1 = 0"]
    assert all(p["ran"] is False for p in planned.values())
    plan = planned_sql(result.as_dict())
    assert ("ALTER TABLE contractors ADD COLUMN notes TEXT;\n"
            "-- verify script verify/005_verify_add_notes.sql: runs after the statements, before the commit, in a "
            "savepoint rolled back; not run in a dry run (it checks the migrated database, which a dry run does not "
            "make)\n--   SELECT notes FROM contractors WHERE 1 = 0;\n") in plan

    applied = migrate(target, folder, run_id="up again")
    assert [(m.version, m.verify) for m in applied.migrations] == [
        ("004", {"file": f"verify/004_verify_add_search_indexes{variant}.sql", "ran": True, "passed": True}),
        ("005", {"file": "verify/005_verify_add_notes.sql", "ran": True, "passed": True})]
