"""The project's dialect, no-op migrations and rollbacks, migration order, and what a rollback
compares with (issue 7, items 3, 6 and 7). In-process, on real SQLite files and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import inventory, pipeline, rollback
from runbook import migrations as mig
from runbook.errors import BadInput
from runbook.migrate import migrate
from runbook.target import open_target

from conftest import MIGRATIONS, db_state

# -- a PostgreSQL-only project: NNN_name.sql in PostgreSQL's dialect, no variant files ----------
PG_FOLDER = {
    "001_accounts.sql": """-- Migration: accounts with a touch trigger
-- Risk Level: LOW
CREATE TABLE accounts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL,
    note text DEFAULT E'it\\'s new; welcome',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz
);
/* a /* nested */ comment; */
CREATE FUNCTION accounts_touch() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.updated_at := now();  -- a ';' inside the body
    RETURN NEW;
END;
$fn$;
CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_touch();
""",
    "002_nothing_here.sql": "-- Migration: kept for numbering; the change moved to 003\n-- Risk Level: LOW\n",
    "003_status.sql": """-- Migration: account status
-- Risk Level: LOW
CREATE TYPE account_status AS ENUM ('active', 'closed');
ALTER TABLE accounts ADD COLUMN status account_status NOT NULL DEFAULT 'active';
""",
    "rollbacks/001_rollback_accounts.sql": "DROP TRIGGER accounts_touch ON accounts;\nDROP FUNCTION accounts_touch();\nDROP TABLE accounts;\n",
    "rollbacks/003_rollback_status.sql": "ALTER TABLE accounts DROP COLUMN status;\nDROP TYPE account_status;\n",
}


def write_folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def history(url: str) -> list[tuple[str, str | None]]:
    target = open_target(url)
    with target.engine().connect() as conn:
        rows = [(a.version, a.note) for a in mig.applied(conn)]
    target.dispose()
    return rows


def tables(url: str) -> set[str]:
    target = open_target(url)
    with target.engine().connect() as conn:
        names = set(sa.inspect(conn).get_table_names()) - set(mig.RUNBOOK_TABLES)
    target.dispose()
    return names


@pytest.mark.postgres
def test_postgresql_project_without_variant_files_migrates_and_rolls_back(pg_empty_url, tmp_path):
    folder = write_folder(tmp_path / "migrations", PG_FOLDER)
    target = open_target(pg_empty_url)
    result = migrate(target, folder, dialect="postgresql", run_id="pg-up")
    assert result.passed, result.error
    assert history(pg_empty_url) == [("001", None), ("002", mig.NO_OP_NOTE), ("003", None)]
    with target.engine().begin() as conn:  # the plpgsql trigger really runs: its body was not cut
        conn.exec_driver_sql("INSERT INTO accounts (email) VALUES ('a@example.org')")
        conn.exec_driver_sql("UPDATE accounts SET email = 'b@example.org'")
        row = conn.exec_driver_sql("SELECT note, status::text, updated_at IS NOT NULL FROM accounts").one()
    assert tuple(row) == ("it's new; welcome", "active", True)
    with pytest.raises(BadInput, match="1 value"):  # the row written since is not dropped silently
        rollback.rollback_to(target, folder, "none", run_id="pg-down", dialect="postgresql")
    back = rollback.rollback_to(target, folder, "none", run_id="pg-down", dialect="postgresql", discard_new_data=True)
    assert back["error"] is None
    assert [(r["version"], r["action"]) for r in back["rolled_back"]] == [
        ("003", "script"), ("002", "no-op: the migration was a no-op"), ("001", "script")]
    assert tables(pg_empty_url) == set() and back["history_table_dropped"]


def test_postgresql_project_on_a_sqlite_target_is_refused_before_anything_runs(tmp_path):
    folder = write_folder(tmp_path / "migrations", PG_FOLDER)
    path = tmp_path / "app.db"
    sa.create_engine(f"sqlite:///{path}").connect().close()
    url = f"sqlite:///{path}"
    target = open_target(url)
    before = path.read_bytes()
    with pytest.raises(BadInput, match=r"written in postgresql .* sqlite cannot run them: 001_accounts.sql, "
                                       r"002_nothing_here.sql, 003_status.sql have no \.sqlite\.sql variant"):
        migrate(target, folder, dialect="postgresql")
    opts = pipeline.Options(folder, tmp_path / "reports", tmp_path / "backups", dialect="postgresql")
    with pytest.raises(BadInput, match="written in postgresql"):
        pipeline.check_input(target, ("inventory",), opts)
    target.dispose()
    assert path.read_bytes() == before
    assert not (tmp_path / "reports").exists()


def test_a_sqlite_variant_makes_one_migration_of_a_postgresql_project_runnable_on_sqlite(tmp_path):
    folder = write_folder(tmp_path / "migrations", {
        "001_t.sql": "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);\n",
        "001_t.sqlite.sql": "CREATE TABLE t (id INTEGER PRIMARY KEY);\n",
    })
    path = tmp_path / "app.db"
    sa.create_engine(f"sqlite:///{path}").connect().close()
    assert migrate(open_target(f"sqlite:///{path}"), folder, dialect="postgresql").passed
    assert tables(f"sqlite:///{path}") == {"t"} and history(f"sqlite:///{path}") == [("001", None)]


# -- no-ops ----------------------------------------------------------------------------------
def shipped_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    return folder


def test_comment_only_migration_is_a_recorded_no_op(db_url, tmp_path):
    folder = shipped_copy(tmp_path)
    (folder / "005_reserved.sql").write_text("-- Migration: reserved\n-- Risk Level: LOW\n/* nothing yet; */\n")
    assert migrate(open_target(db_url), folder, to="004", run_id="up").passed
    before = db_state(db_url)
    # a run may apply it without a rollback script: it changes nothing, so there is nothing to undo
    pipeline.check_input(open_target(db_url), pipeline.PIPELINE,
                         pipeline.Options(folder, tmp_path / "reports", tmp_path / "backups"))
    result = migrate(open_target(db_url), folder, run_id="noop")
    assert result.passed and result.after == "005"
    assert result.migrations[-1].note == mig.NO_OP_NOTE
    assert history(db_url)[-1] == ("005", mig.NO_OP_NOTE)
    assert db_state(db_url)["tables"] == before["tables"]
    # and the way back over it needs no script: it changed nothing
    back = rollback.rollback_to(open_target(db_url), folder, "004", run_id="noop-down")
    assert back["error"] is None and back["rolled_back"][0]["action"] == "no-op: the migration was a no-op"
    assert [v for v, _ in history(db_url)][-1] == "004"


def test_empty_rollback_script_is_a_no_op_and_an_uncrossed_missing_script_blocks_nothing(sqlite_url, tmp_path):
    folder = shipped_copy(tmp_path)
    (folder / "005_touch_nothing.sql").write_text("UPDATE contractors SET name = name WHERE 1 = 0;\n")
    (folder / "rollbacks" / "005_rollback_touch_nothing.sql").write_text("-- nothing to undo\n")
    (folder / "rollbacks" / "001_rollback_contractor_fields.sql").unlink()  # never crossed below
    target = open_target(sqlite_url)
    assert migrate(target, folder, run_id="up").passed
    back = rollback.rollback_to(target, folder, "003", run_id="down")
    assert back["error"] is None
    assert [(r["version"], r["action"]) for r in back["rolled_back"]] == [
        ("005", "no-op: empty rollback script"), ("004", "script")]
    assert [v for v, _ in history(sqlite_url)] == ["000", "001", "002", "003"]
    before = db_state(sqlite_url)
    with pytest.raises(BadInput, match="no rollback script for 001_add_contractor_fields, which rolling back to 000"):
        rollback.rollback_to(target, folder, "000", run_id="down2")
    assert db_state(sqlite_url) == before


# -- order -----------------------------------------------------------------------------------
def test_out_of_order_migration_is_refused_unless_allowed(sqlite_url, tmp_path):
    folder = shipped_copy(tmp_path)
    (folder / "006_later.sql").write_text("CREATE TABLE later (id INTEGER PRIMARY KEY);\n")
    target = open_target(sqlite_url)
    assert migrate(target, folder, run_id="first").after == "006"
    (folder / "005_earlier.sql").write_text("CREATE TABLE earlier (id INTEGER PRIMARY KEY);\n")
    before = db_state(sqlite_url)
    with pytest.raises(BadInput, match="005_earlier: numbered below the current version 006.*--out-of-order"):
        migrate(target, folder, run_id="second")
    opts = pipeline.Options(folder, tmp_path / "reports", tmp_path / "backups")
    with pytest.raises(BadInput, match="005_earlier"):
        pipeline.check_input(target, pipeline.PIPELINE, opts)
    assert db_state(sqlite_url) == before
    result = migrate(target, folder, run_id="third", out_of_order=True)
    assert result.passed and [m.version for m in result.migrations] == ["005"]
    assert "earlier" in tables(sqlite_url)


# -- what a rollback compares with -------------------------------------------------------------
def save_inventory(reports: Path, run: str, snap: dict) -> Path:
    path = reports / run / "inventory.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(snap))
    return path


def test_rollback_without_snapshot_uses_the_latest_inventory_and_fails_on_a_table_not_there_before(sqlite_url, tmp_path):
    folder = shipped_copy(tmp_path)
    (folder / "005_extra.sql").write_text("CREATE TABLE extra (id INTEGER PRIMARY KEY);\n")
    (folder / "rollbacks" / "005_rollback_extra.sql").write_text("DROP TABLE extra;\n")
    target = open_target(sqlite_url)
    reports = tmp_path / "reports"
    run_dir = reports / "20300101T000000Z_rollback"
    run_dir.mkdir(parents=True)
    none_yet = rollback.compare_after(target, run_dir, None, {"after": "004"})
    assert none_yet["checks"] == [] and none_yet["compared_with"]["source"] is None
    assert "no inventory of" in none_yet["compared_with"]["detail"]

    assert migrate(target, folder, to="004", run_id="up").passed
    snap = inventory.take(target, folder)
    old = save_inventory(reports, "20260101T000000Z_power100", snap | {"taken_at": "2026-01-01T00:00:00+00:00"})
    new = save_inventory(reports, "20260102T000000Z_power100", snap | {"taken_at": "2026-01-02T00:00:00+00:00"})
    save_inventory(reports, "20260103T000000Z_other", snap | {"target": "sqlite:///elsewhere.db",
                                                              "taken_at": "2026-01-03T00:00:00+00:00"})
    save_inventory(reports, "20260104T000000Z_power100", snap | {"taken_at": "2026-01-04T00:00:00+00:00",
                                                                 "migrations": {"current": "003"}})
    assert migrate(target, folder, run_id="up2").after == "005"
    with target.engine().begin() as conn:  # made beside the migrations: no migration declares it
        conn.exec_driver_sql("CREATE TABLE stray (id INTEGER PRIMARY KEY)")
    result = rollback.rollback_to(target, folder, "004", run_id="down")
    assert result["error"] is None and result["after"] == "004"
    compared = rollback.compare_after(target, run_dir, None, result)
    assert compared["compared_with"]["source"] == "latest in reports"
    assert compared["compared_with"]["path"] == str(new.resolve()) != str(old.resolve())
    bad = [c for c in compared["checks"] if not c["passed"]]
    assert [c["check"] for c in bad] == ["schema equals the snapshot"] and "stray" in bad[0]["detail"]
    with target.engine().begin() as conn:
        conn.exec_driver_sql("DROP TABLE stray")
    assert all(c["passed"] for c in rollback.compare_after(target, run_dir, None, result)["checks"])


@pytest.mark.slow
def test_cli_rollback_without_snapshot_says_which_inventory_and_exits_1_on_a_table_not_there_before(sqlite_url, tmp_path):
    import subprocess
    import sys

    folder = shipped_copy(tmp_path)
    (folder / "005_extra.sql").write_text("CREATE TABLE extra (id INTEGER PRIMARY KEY);\n")
    (folder / "rollbacks" / "005_rollback_extra.sql").write_text("DROP TABLE extra;\n")
    target = open_target(sqlite_url)
    reports = tmp_path / "reports"
    assert migrate(target, folder, to="004", run_id="up").passed
    used = save_inventory(reports, "20260102T000000Z_power100", inventory.take(target, folder))
    assert migrate(target, folder, run_id="up2").after == "005"
    with target.engine().begin() as conn:  # made beside the migrations: no migration declares it
        conn.exec_driver_sql("CREATE TABLE stray (id INTEGER PRIMARY KEY)")
    target.dispose()
    done = subprocess.run([sys.executable, "-m", "runbook.cli", "rollback", "--db", sqlite_url, "--migrations",
                           str(folder), "--reports", str(reports), "--to", "004", "--dialect", "sqlite"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "schema equals the snapshot" in done.stderr
    run_dir = next(p for p in reports.iterdir() if (p / "rollback.json").is_file())
    record = json.loads((run_dir / "rollback.json").read_text())
    assert record["compared_with"]["path"] == str(used.resolve())
    assert record["after"] == "004" and record["rolled_back"][0]["action"] == "script"
    assert record["expected"]["status"] == "passed"
    assert json.loads((run_dir / "run.json").read_text())["options"]["dialect"] == "sqlite"
