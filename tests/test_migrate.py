"""Migrate: order, one transaction per migration with its history row, adoption, drift, dry run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import inventory
from runbook import migrations as mig
from runbook.errors import BadInput
from runbook.migrate import migrate
from runbook.target import open_target

from conftest import db_state


def columns(url: str, table: str) -> list[str]:
    with open_target(url).engine().connect() as conn:
        return [c["name"] for c in sa.inspect(conn).get_columns(table)]


def tables(url: str) -> set[str]:
    with open_target(url).engine().connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def history(url: str) -> list[str]:
    with open_target(url).engine().connect() as conn:
        return [a.version for a in mig.applied(conn)]


def test_adopts_baseline_and_applies_all(db_url, migrations_dir):
    result = migrate(open_target(db_url), migrations_dir, run_id="t1")
    assert result.passed, result.error
    assert [m.status for m in result.migrations] == ["adopted", "applied", "applied", "applied", "applied"]
    assert history(db_url) == ["000", "001", "002", "003", "004"]
    assert {"company_website", "opted_in_coaching", "current_stage"} <= set(columns(db_url, "contractors"))
    again = migrate(open_target(db_url), migrations_dir, run_id="t2")
    assert again.passed and again.migrations == [] and again.after == "004"


def test_guide_verification_queries_are_reported(db_url, migrations_dir):
    result = migrate(open_target(db_url), migrations_dir, to="001")
    m001 = result.migrations[-1]
    count = next(s for s in m001.statements if s.columns == ["contractor_count"])
    assert count.rows == [[11]]
    table_info = next(s for s in m001.statements if "name" in s.columns and len(s.rows) > 20)
    names = [row[s] for s in [table_info.columns.index("name")] for row in table_info.rows]
    assert "opted_in_coaching" in names


def _failing_folder(tmp_path: Path, migrations_dir: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir, folder)
    for p in [*folder.glob("00[3-4]_*.sql"), *(folder / "rollbacks").glob("00[3-4]_*.sql"),
              *(folder / "verify").glob("00[3-4]_*.sql")]:
        p.unlink()
    (folder / "003_broken.sql").write_text(
        "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, what TEXT);\n"
        "ALTER TABLE no_such_table ADD COLUMN x TEXT;\n"
        "ALTER TABLE contractors ADD COLUMN never_added TEXT;\n"
    )
    return folder


def test_failure_mid_migration_rolls_back_that_migration_only(db_url, migrations_dir, tmp_path):
    folder = _failing_folder(tmp_path, migrations_dir)
    result = migrate(open_target(db_url), folder, run_id="t3")
    assert not result.passed
    assert "003_broken" in result.error and "statement 2" in result.error and "line 2" in result.error
    assert history(db_url) == ["000", "001", "002"]
    assert "audit_log" not in tables(db_url)
    assert "never_added" not in columns(db_url, "contractors")


def test_dry_run_changes_nothing(db_url, migrations_dir):
    before = db_state(db_url)
    result = migrate(open_target(db_url), migrations_dir, dry_run=True)
    assert result.passed and [m.status for m in result.migrations] == ["planned"] * 5
    assert any("company_website" in s.sql for s in result.migrations[1].statements)
    assert db_state(db_url) == before
    assert mig.HISTORY_TABLE not in tables(db_url)


def test_checksum_drift_refuses(db_url, migrations_dir, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir, folder)
    migrate(open_target(db_url), folder, to="001")
    path = folder / "001_add_contractor_fields.sql"
    path.write_text(path.read_text() + "\n-- edited after it was applied\n")
    with pytest.raises(BadInput, match="checksum drift.*001_add_contractor_fields"):
        migrate(open_target(db_url), folder)
    assert history(db_url) == ["000", "001"]


def test_target_version(db_url, migrations_dir):
    result = migrate(open_target(db_url), migrations_dir, to=2)
    assert result.after == "002" and history(db_url) == ["000", "001", "002"]
    with pytest.raises(BadInput, match="below the current version"):
        migrate(open_target(db_url), migrations_dir, to=1)
    with pytest.raises(BadInput, match="no migration numbered 009"):
        migrate(open_target(db_url), migrations_dir, to=9)


@pytest.mark.parametrize("name,content,message", [
    ("005_unterminated.sql", "CREATE TABLE t (x TEXT DEFAULT 'open);\n", "005_unterminated.sql:1: SQLite reads an unterminated"),
    ("1_short.sql", "CREATE TABLE t (x INTEGER);", "NNN_description.sql"),
    ("001-dash.sql", "CREATE TABLE t (x INTEGER);", "NNN_description.sql"),
    ("002_again.sql", "CREATE TABLE t (x INTEGER);", "two migrations numbered 002"),
])
def test_bad_folder_is_rejected_before_anything_runs(db_url, migrations_dir, tmp_path, name, content, message):
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir, folder)
    (folder / name).write_text(content)
    before = db_state(db_url)
    with pytest.raises(BadInput, match=message):
        migrate(open_target(db_url), folder)
    assert db_state(db_url) == before


def test_missing_sqlite_file_is_not_created(tmp_path, migrations_dir):
    path = tmp_path / "nope.db"
    with pytest.raises(BadInput, match="not found"):
        open_target(f"sqlite:///{path}")
    assert not path.exists()


def test_percent_signs_and_semicolons_in_literals_run_as_written(db_url, migrations_dir, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir, folder)
    (folder / "005_normalize_phone_notes.sql").write_text(
        "-- Risk Level: HIGH\n"
        "ALTER TABLE contractors ADD COLUMN notes TEXT DEFAULT '100% sure; really';\n"
        "UPDATE contractors SET notes = 'a%b' WHERE email LIKE '%@olsenhvac.example';\n")
    result = migrate(open_target(db_url), folder, run_id="pct")
    assert result.passed, result.error
    with open_target(db_url).engine().connect() as conn:
        notes = dict(conn.exec_driver_sql(
            "SELECT email, notes FROM contractors WHERE email IN "
            "('derek@olsenhvac.example', 'maria@alvarezroofing.example')").fetchall())
    assert notes == {"derek@olsenhvac.example": "a%b", "maria@alvarezroofing.example": "100% sure; really"}


def test_verification_queries_show_counts_and_schema_but_never_table_contents(db_url, migrations_dir, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir, folder)
    (folder / "005_check_contractors.sql").write_text(
        "-- Risk Level: LOW\n"
        "SELECT COUNT(*) AS n, SUM(team_size) AS people FROM contractors;\n"
        "SELECT name, email FROM contractors;\n"
        "SELECT MAX(password_hash) FROM admin_users;\n"
        "PRAGMA table_info(admin_users);\n")
    result = migrate(open_target(db_url), folder)
    counted, listed, largest, info = result.migrations[-1].statements
    assert counted.rows == [[11, None]] and counted.columns == ["n", "people"]
    assert listed.columns == ["name", "email"] and listed.rows == [] and listed.rowcount == 11
    assert "withheld" in listed.note
    assert largest.rows == [] and largest.rowcount == 1 and "withheld" in largest.note
    assert any("password_hash" in row for row in info.rows)
    assert "maria@alvarezroofing.example" not in str(result.as_dict())
    assert "pbkdf2_sha256" not in str(result.as_dict())


def test_a_failing_first_migration_leaves_no_adoption_behind(db_url, migrations_dir, tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    shutil.copy(migrations_dir / "000_baseline.sql", folder)
    (folder / "001_broken.sql").write_text("ALTER TABLE contractors ADD COLUMN x TEXT;\nALTER TABLE nope ADD COLUMN y TEXT;\n")
    target = open_target(db_url)
    before = inventory.take(target, folder)
    result = migrate(target, folder)
    assert not result.passed and [m.status for m in result.migrations] == ["failed"]
    assert mig.HISTORY_TABLE not in tables(db_url)
    checks = inventory.compare_to_snapshot(target, before)
    assert checks and all(c["passed"] for c in checks), checks
