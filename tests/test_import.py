"""``runbook import``: other tools' migrations folders (golang-migrate, Flyway, Diesel, dbmate) and Sqitch projects
converted into a runbook folder that lint, migrate and rollback take as it is; bad input refused
with nothing written; adoption of a database the other tool migrated (its history table)."""

from __future__ import annotations

import json
import shlex
import sqlite3
from datetime import date
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa

from runbook import importer, lint
from runbook import migrations as mig
from runbook.cli import main
from runbook.errors import BadInput
from runbook.migrate import migrate
from runbook.rollback import rollback_to
from runbook.target import open_target

from test_package import schema
from test_project_dialect import write_folder as write

TODAY = date(2024, 5, 6)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


USERS = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n"
GOLANG = {
    "000001_create_users.up.sql": USERS,
    "000001_create_users.down.sql": "DROP TABLE users;\n",
    "000002_add_name.up.sql": "ALTER TABLE users ADD COLUMN name TEXT;\n",
    "000002_add_name.down.sql": "ALTER TABLE users DROP COLUMN name;\n",
    "000010_drop_name.up.sql": "ALTER TABLE users DROP COLUMN name;\n",
    "000010_drop_name.down.sql": "ALTER TABLE users ADD COLUMN name TEXT;\n",
    "000011_noop.up.sql": "-- nothing to do on this engine\n",
    "000011_noop.down.sql": "",
}


# -- the four layouts --------------------------------------------------------------------------
def test_golang_migrate_history_imports_in_version_order_and_lints_clean(tmp_path):
    src = write(tmp_path / "gm", GOLANG)
    result = importer.import_history(src, tmp_path / "migrations", today=TODAY)
    dest = tmp_path / "migrations"
    assert result.tool == "golang-migrate"
    assert listing(dest) == ["001_create_users.sql", "002_add_name.sql", "003_drop_name.sql", "004_noop.sql",
                             "rollbacks", "rollbacks/001_rollback_create_users.sql",
                             "rollbacks/002_rollback_add_name.sql", "rollbacks/003_rollback_drop_name.sql",
                             "rollbacks/004_rollback_noop.sql"]
    third = (dest / "003_drop_name.sql").read_text()
    assert third.startswith("-- Migration: drop name\n-- Date: unknown (imported 2024-05-06)\n"
                            "-- Description: drop name\n"
                            "-- Source: golang-migrate version 10 (000010_drop_name.up.sql, 000010_drop_name.down.sql)\n"
                            f"-- Risk Level: MEDIUM ({importer.RISK_NOTE}: Category 2, breaking)\n\n")
    assert third.endswith("\nALTER TABLE users DROP COLUMN name;\n")
    assert (dest / "rollbacks" / "004_rollback_noop.sql").read_bytes() == b""  # kept as it was
    assert [(m["source_version"], m["risk"], m["rollback"]) for m in result.migrations] == [
        ("1", "LOW", "written"), ("2", "LOW", "written"), ("10", "MEDIUM", "written"), ("11", "LOW", "empty")]
    assert result.as_dict()["empty_rollbacks"] == ["004"]
    report = lint.lint(dest)
    assert report.exit_code == 0, lint.render(report)
    assert [u.declared_risk for u in report.migrations] == ["LOW", "LOW", "MEDIUM", "LOW"]
    assert not [f for u in report.migrations for f in u.findings if f.code.startswith("risk-")]


def test_imported_history_migrates_rolls_back_and_migrates_again_on_sqlite(tmp_path):
    src = write(tmp_path / "gm", GOLANG)
    importer.import_history(src, tmp_path / "migrations")
    target = open_target(sqlite_db(tmp_path / "app.db"))
    assert [m.status for m in migrate(target, tmp_path / "migrations").migrations] == ["applied"] * 4
    assert rollback_to(target, tmp_path / "migrations", "001", run_id="back")["error"] is None
    with target.engine().connect() as conn:
        assert [a.version for a in mig.applied(conn)] == ["001"]
    assert [m.status for m in migrate(target, tmp_path / "migrations").migrations] == ["applied"] * 3


def test_flyway_versions_are_ordered_as_flyway_orders_them(tmp_path):
    src = write(tmp_path / "fw", {
        "V1__Create_users.sql": USERS,
        "V1.1__Add_name.sql": "ALTER TABLE users ADD COLUMN name TEXT;\n",
        "V1_2__Add_age.sql": "ALTER TABLE users ADD COLUMN age INTEGER;\n",
        "V2__Add_city.sql": "ALTER TABLE users ADD COLUMN city TEXT;\n",
        "V10__Add_zip.sql": "ALTER TABLE users ADD COLUMN zip TEXT;\n",
        "U1.1__Add_name.sql": "ALTER TABLE users DROP COLUMN name;\n",
    })
    result = importer.import_history(src, tmp_path / "migrations", today=TODAY)
    assert [(m["version"], m["name"], m["source_version"], m["rollback"]) for m in result.migrations] == [
        ("001", "create_users", "1", None), ("002", "add_name", "1.1", "written"),
        ("003", "add_age", "1.2", None), ("004", "add_city", "2", None), ("005", "add_zip", "10", None)]
    assert (tmp_path / "migrations" / "rollbacks" / "002_rollback_add_name.sql").read_text() == \
        "ALTER TABLE users DROP COLUMN name;\n"
    assert "-- Source: flyway version 1.2 (V1_2__Add_age.sql)\n" in (tmp_path / "migrations" / "003_add_age.sql").read_text()


def test_flyway_1_and_1_0_are_the_same_version(tmp_path):
    src = write(tmp_path / "fw", {"V1__a.sql": USERS, "V1.0__b.sql": "SELECT 1;\n"})
    with pytest.raises(BadInput, match="two migrations with version 1.*V1.0__b.sql and V1__a.sql"):
        importer.import_history(src, tmp_path / "migrations")


DIESEL = {
    "00000000000000_diesel_initial_setup/up.sql": "-- This file was automatically created by Diesel\n"
                                                  "CREATE TABLE settings (k TEXT PRIMARY KEY, v TEXT);\n",
    "00000000000000_diesel_initial_setup/down.sql": "DROP TABLE settings;\n",
    "2018-01-14-171611_create_users/up.sql": USERS,
    "2018-01-14-171611_create_users/down.sql": "-- This file should undo anything in `up.sql`\n",
    "2019-06-30-090000_add_name/up.sql": "ALTER TABLE users ADD COLUMN name TEXT;\n",
    "2019-06-30-090000_add_name/down.sql": "ALTER TABLE users DROP COLUMN name;\n",
    "2019-06-30-090000_add_name/metadata.toml": "run_in_transaction = false\n",
}


def test_diesel_folders_import_with_their_dates(tmp_path):
    src = write(tmp_path / "diesel", DIESEL)
    (src / ".keep").write_text("")
    result = importer.import_history(src, tmp_path / "migrations", today=TODAY)
    assert [(m["name"], m["source_version"], m["rollback"]) for m in result.migrations] == [
        ("diesel_initial_setup", "00000000000000", "written"), ("create_users", "20180114171611", "empty"),
        ("add_name", "20190630090000", "written")]
    text = (tmp_path / "migrations" / "002_create_users.sql").read_text()
    assert "-- Date: 2018-01-14\n" in text and "(2018-01-14-171611_create_users/up.sql, " in text
    assert (tmp_path / "migrations" / "rollbacks" / "002_rollback_create_users.sql").read_text() == \
        DIESEL["2018-01-14-171611_create_users/down.sql"]
    assert any("metadata.toml not carried over" in n for n in result.notes)
    # the comment-only down script of a CREATE TABLE is kept as it was; lint's replay says it is wrong
    assert result.lint == {"errors": 1, "warnings": 0, "codes": {"rollback-mismatch": 1}}


@pytest.mark.parametrize("tool", [None, "diesel"])
def test_a_file_beside_diesels_folders_is_not_imported_as_diesel_does_not_run_it(tmp_path, tool):
    """Diesel reads its migrations folder's subfolders only (crates.io keeps a data script,
    data_oauth_github.sql, beside them): import leaves such a file out, says so, and takes the
    folder for Diesel's all the same. Before, it refused the folder: "in no known layout"."""
    src = write(tmp_path / "diesel", DIESEL | {"data_oauth_github.sql": "INSERT INTO settings VALUES ('a', 'b');\n"})
    result = importer.import_history(src, tmp_path / "migrations", tool=tool, today=TODAY)
    assert result.tool == "diesel" and len(result.migrations) == 3
    assert "not imported: data_oauth_github.sql, beside the migration folders: Diesel runs folders only" in result.notes
    assert not any("INSERT" in p.read_text() for p in (tmp_path / "migrations").rglob("*.sql"))


def test_dbmate_sections_become_migration_and_rollback(tmp_path):
    src = write(tmp_path / "db", {
        "20200101000000_create_users.sql": "-- migrate:up\n" + USERS + "\n-- migrate:down\nDROP TABLE users;\n",
        "20200102000000_index.sql": "-- a comment before is fine\n-- migrate:up transaction:false\n"
                                    "CREATE INDEX users_email ON users (email);\n-- migrate:down\n",
        "20200103000000_add_name.sql": "-- migrate:up\nALTER TABLE users ADD COLUMN name TEXT;\n",
    })
    result = importer.import_history(src, tmp_path / "migrations", today=TODAY)
    dest = tmp_path / "migrations"
    assert [(m["source_version"], m["rollback"]) for m in result.migrations] == [
        ("20200101000000", "written"), ("20200102000000", "empty"), ("20200103000000", None)]
    assert (dest / "001_create_users.sql").read_text().endswith("\n" + USERS + "\n")
    assert (dest / "rollbacks" / "001_rollback_create_users.sql").read_text() == "DROP TABLE users;\n"
    assert (dest / "rollbacks" / "002_rollback_index.sql").read_text() == ""
    assert [n for n in result.notes if "transaction:false" in n]


@pytest.mark.parametrize("text, message", [
    ("CREATE TABLE t (id INTEGER);\n-- migrate:up\nSELECT 1;\n", "statements before `-- migrate:up`"),
    ("-- migrate:down\nDROP TABLE t;\n-- migrate:up\nCREATE TABLE t (id INTEGER);\n", "comes before"),
    ("-- migrate:down\nDROP TABLE t;\n", "a down section without its up"),
])
def test_dbmate_files_dbmate_refuses_are_refused(tmp_path, text, message):
    src = write(tmp_path / "db", {"1_a.sql": text})
    with pytest.raises(BadInput, match=message):
        importer.import_history(src, tmp_path / "migrations", tool="dbmate")


# -- bad input: refused, nothing written --------------------------------------------------------
@pytest.mark.parametrize("files, tool, message", [
    ({"1_a.up.sql": USERS, "V2__b.sql": "SELECT 1;\n"}, None, r"mixes layouts \(flyway: V2__b.sql; golang-migrate: 1_a.up.sql\)"),
    ({"1_a.up.sql": USERS, "schema.sql": "SELECT 1;\n"}, None, "schema.sql is in no known layout"),
    ({"notes.sql": "SELECT 1;\n"}, None, "notes.sql is in no known layout"),
    ({"1_a.up.sql": USERS}, "flyway", r"1_a.up.sql is not in flyway's layout"),
    ({"1_a.up.sql": USERS, "01_b.up.sql": "SELECT 1;\n"}, None, "two migrations with version 1: 01_b.up.sql and 1_a.up.sql"),
    ({"1_a.up.sql": USERS, "2_b.down.sql": "SELECT 1;\n"}, None, r"2_b.down.sql: a down script without its up script \(version 2\)"),
    ({"V1__a.sql": USERS, "U2__b.sql": "SELECT 1;\n"}, None, r"U2__b.sql: a down script without its up script"),
    ({"20180114171611_a/down.sql": "SELECT 1;\n"}, None, "a down script without its up script"),
])
def test_bad_folders_are_refused_before_anything_is_written(tmp_path, files, tool, message):
    src = write(tmp_path / "src", files)
    before = listing(tmp_path)
    with pytest.raises(BadInput, match=message):
        importer.import_history(src, tmp_path / "migrations", tool=tool)
    assert listing(tmp_path) == before  # no destination, no temporary folder left


def test_a_destination_that_is_not_empty_is_left_untouched(tmp_path):
    src = write(tmp_path / "gm", GOLANG)
    dest = write(tmp_path / "migrations", {"001_mine.sql": "SELECT 1;\n"})
    with pytest.raises(BadInput, match="exists and is not an empty folder"):
        importer.import_history(src, dest)
    assert listing(dest) == ["001_mine.sql"] and (dest / "001_mine.sql").read_text() == "SELECT 1;\n"
    (dest / "001_mine.sql").unlink()  # an empty folder is fine
    importer.import_history(src, dest)
    assert (dest / "001_create_users.sql").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_folder_imported_is_never_the_destination(tmp_path):
    src = write(tmp_path / "migrations", GOLANG)  # golang-migrate's folder where runbook's default is
    with pytest.raises(BadInput, match="is the folder imported .*--migrations"):
        importer.import_history(src, src)
    assert listing(src) == sorted(GOLANG)


def test_sql_the_dialect_cannot_read_is_refused(tmp_path):
    src = write(tmp_path / "gm", {"1_a.up.sql": USERS, "2_b.up.sql": "CREATE TABLE t (id int;\n"})
    with pytest.raises(BadInput, match=r"cannot be read as postgresql SQL, the first .*2_b.up.sql.*--dialect"):
        importer.import_history(src, tmp_path / "migrations", dialect="postgresql")
    assert not (tmp_path / "migrations").exists()


# -- adoption: the other tool's history table ---------------------------------------------------
def sqlite_db(path: Path, *statements: str) -> str:
    with sqlite3.connect(path) as conn:
        for st in statements:
            conn.execute(st)
    return f"sqlite:///{path}"


def run_cli(capsys, *args: str, expect: int = 0) -> dict:
    rc = main([*args, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == expect, doc
    jsonschema.validate(doc, schema("error" if "error" in doc else doc["command"]))
    return doc


def test_golang_migrate_database_is_adopted_with_the_printed_baseline_command(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "gm", GOLANG)
    url = sqlite_db(tmp_path / "app.db", USERS, "ALTER TABLE users ADD COLUMN name TEXT",
                    "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
                    "INSERT INTO schema_migrations VALUES (2, 0)")
    doc = run_cli(capsys, "import", "gm", "--migrations", "migrations", "--db", url)
    assert doc["adopt"] == {"pending": [], "notes": [], "table": "schema_migrations", "applied": ["1", "2"], "last": "2", "command":
                            f"runbook baseline --db {url} --migrations migrations --dialect sqlite --version 002"}
    run_cli(capsys, *shlex.split(doc["adopt"]["command"])[1:])
    target = open_target(url)
    with target.engine().connect() as conn:
        status = mig.status(conn, mig.discover("migrations"), target.kind)
    assert [a.version for a in status.applied] == ["001", "002"] and [m.version for m in status.pending] == ["003", "004"]


def test_a_dirty_golang_migrate_database_is_refused(tmp_path, capsys):
    write(tmp_path / "gm", GOLANG)
    url = sqlite_db(tmp_path / "app.db", USERS, "CREATE TABLE schema_migrations (version bigint, dirty boolean)",
                    "INSERT INTO schema_migrations VALUES (2, 1)")
    doc = run_cli(capsys, "import", str(tmp_path / "gm"), "--migrations", str(tmp_path / "migrations"), "--db", url,
                  expect=2)
    assert "dirty at version 2" in doc["error"]["message"]
    assert not (tmp_path / "migrations").exists()


@pytest.mark.parametrize("tool, files, statements, applied, last", [
    ("dbmate", {"10_a.sql": "-- migrate:up\n" + USERS, "20_b.sql": "-- migrate:up\nSELECT 1;\n"},
     ["CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)", "INSERT INTO schema_migrations VALUES ('10')"],
     ["10"], "10"),
    ("diesel", {"2018-01-14-171611_a/up.sql": USERS, "2019-01-01-000000_b/up.sql": "SELECT 1;\n"},
     ["CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY, run_on TIMESTAMP)",
      "INSERT INTO __diesel_schema_migrations VALUES ('20180114171611', '2020-01-01')",
      "INSERT INTO __diesel_schema_migrations VALUES ('20190101000000', '2020-01-01')"],
     ["20180114171611", "20190101000000"], "20190101000000"),
    # a baseline at 1, then 1.1 applied and undone, 2 applied: 1, 2 (and 1.1 not) is out of order
    ("flyway", {"V1__a.sql": USERS, "V2__b.sql": "SELECT 1;\n", "V3__c.sql": "SELECT 2;\n"},
     ["CREATE TABLE flyway_schema_history (installed_rank INT, version VARCHAR(50), description VARCHAR(200), "
      "type VARCHAR(20), checksum INT, success BOOLEAN)",
      "INSERT INTO flyway_schema_history VALUES (1, '1', 'a', 'BASELINE', NULL, 1)",
      "INSERT INTO flyway_schema_history VALUES (2, '2', 'b', 'SQL', 1, 1)",
      "INSERT INTO flyway_schema_history VALUES (3, '3', 'c', 'SQL', 2, 1)",
      "INSERT INTO flyway_schema_history VALUES (4, '3', 'c', 'UNDO_SQL', 3, 1)"],
     ["1", "2"], "2"),
])
def test_each_tools_history_table_tells_what_is_applied(tmp_path, tool, files, statements, applied, last):
    src = write(tmp_path / "src", files)
    target = open_target(sqlite_db(tmp_path / "app.db", *statements))
    _, sources = importer.read_history(src)
    found = importer.adoption(target, tool, sources)
    assert (found.applied, found.last) == (applied, last)


@pytest.mark.parametrize("statements, message", [
    (["INSERT INTO schema_migrations VALUES ('20')"], "applied out of order: 10 is not applied"),
    (["INSERT INTO schema_migrations VALUES ('10')", "INSERT INTO schema_migrations VALUES ('30')"],
     "records version.* the folder does not hold: 30"),
])
def test_a_history_table_that_does_not_match_the_folder_is_refused(tmp_path, statements, message):
    src = write(tmp_path / "src", {"10_a.sql": "-- migrate:up\n" + USERS, "20_b.sql": "-- migrate:up\nSELECT 1;\n"})
    target = open_target(sqlite_db(tmp_path / "app.db", "CREATE TABLE schema_migrations (version varchar(128))",
                                   *statements))
    with pytest.raises(BadInput, match=message):
        importer.import_history(src, tmp_path / "migrations",
                                check_database=lambda tool, sources: importer.adoption(target, tool, sources))
    assert not (tmp_path / "migrations").exists()


# -- PostgreSQL: a golang-migrate history as real projects write it -----------------------------
PG_HISTORY = {
    "20230101000000_create_orders.up.sql": """BEGIN;
CREATE TYPE order_status AS ENUM ('new', 'paid');
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    status order_status NOT NULL DEFAULT 'new',
    total numeric(12, 2) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMIT;
""",
    "20230101000000_create_orders.down.sql": "DROP TABLE orders;\nDROP TYPE order_status;\n",
    "20230201000000_touch_trigger.up.sql": """CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();  -- a ; inside the body
    RETURN NEW;
END;
$$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
""",
    "20230201000000_touch_trigger.down.sql": "DROP TRIGGER orders_touch ON orders;\nDROP FUNCTION touch();\n",
    "20230301000000_orders_note.up.sql": """DO $body$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_name = 'orders' AND column_name = 'note') THEN
        ALTER TABLE orders ADD COLUMN note text;
    END IF;
END
$body$;
""",
    "20230301000000_orders_note.down.sql": "ALTER TABLE orders DROP COLUMN note;\n",
    "20230401000000_status_shipped.up.sql": "ALTER TYPE order_status ADD VALUE 'shipped';\n",
    "20230401000000_status_shipped.down.sql": "",
}


@pytest.mark.postgres
def test_postgresql_golang_migrate_history_lints_adopts_and_migrates(pg_empty_url, tmp_path, capsys):
    """Two migrations applied by golang-migrate (its schema_migrations table at version 2): the
    import says which baseline command adopts them, lint on the server checks every rollback
    (the empty one of ADD VALUE fails there), and migrate applies the other two."""
    src = write(tmp_path / "gm", PG_HISTORY)
    target = open_target(pg_empty_url)
    with target.engine().begin() as conn:
        for name in sorted(PG_HISTORY)[1::2][:2]:  # the first two up files, as golang-migrate ran them
            conn.exec_driver_sql(PG_HISTORY[name].replace("BEGIN;", "").replace("COMMIT;", ""))
        conn.exec_driver_sql("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
        conn.exec_driver_sql("INSERT INTO schema_migrations VALUES (20230201000000, false)")
        conn.exec_driver_sql("INSERT INTO orders (total) VALUES (9.50)")
    dest = tmp_path / "migrations"
    doc = run_cli(capsys, "import", str(src), "--migrations", str(dest), "--dialect", "postgresql", "--db", pg_empty_url)
    assert [(m["source_version"], m["risk"]) for m in doc["migrations"]] == [
        ("20230101000000", "LOW"), ("20230201000000", "LOW"), ("20230301000000", "LOW"), ("20230401000000", "LOW")]  # a DO block: its ADD COLUMN, read by PL/pgSQL's parser
    assert doc["empty_rollbacks"] == ["004"] and doc["adopt"]["last"] == "20230201000000"
    assert doc["adopt"]["command"].endswith(f"--migrations {dest} --dialect postgresql --version 002")
    report = lint.lint(dest, target=target, dialect="postgresql")  # on the server: rollbacks replayed
    assert [u.rollback_check["status"] for u in report.migrations] == ["passed", "passed", "passed", "failed"]
    errors = [(f.code, Path(f.file).name) for u in report.migrations for f in u.findings if f.level == "error"]
    # the empty down script of ADD VALUE was kept as it was: lint, not import, says it cannot undo it
    assert errors == [("rollback-mismatch", "004_rollback_status_shipped.sql")], lint.render(report)
    run_cli(capsys, *shlex.split(doc["adopt"]["command"])[1:])
    result = migrate(target, dest, dialect="postgresql")
    assert [(m.version, m.status) for m in result.migrations] == [("003", "applied"), ("004", "applied")]
    with target.engine().connect() as conn:
        assert conn.execute(sa.text("SELECT enum_range(NULL::order_status)::text, note FROM orders")).one() == \
            ("{new,paid,shipped}", None)
        assert conn.execute(sa.text("SELECT version, dirty FROM schema_migrations")).one() == (20230201000000, False)


# -- Sqitch: a plan, a conf, and deploy / revert / verify scripts --------------------------------
SQITCH_PLAN = r"""%syntax-version=1.0.0
%project=flipr
%uri=https://example.com/flipr/

# the first release
users 2026-11-28T12:07:18Z Ann Planner <ann@example.com> # Creates users table.
flips [users] 2026-11-28T12:07:19Z Ann Planner <ann@example.com> # Adds flips; note with # hash and \\ back
@v1.0 2026-11-28T12:07:19Z Ann Planner <ann@example.com> # Tag v1.0.

users [users@v1.0] 2026-11-28T12:07:20Z Ann Planner <ann@example.com> # Reworks users.
audit/log-2 [flips !legacy other:base] 2026-11-28T12:08:00Z Bo <bo@example.com> # Audit\nlog
"""
#: the ids Sqitch (1.3.1, `sqitch plan --format raw`) gives these four changes
SQITCH_IDS = ["e17bd21242146145995ce5a7587c9d678ffec09e", "1142a0b4e7dc79b301b7a855c74215256387a693",
              "ad469898bb4fda01a5d2bad487f15d4d5d1f815b", "9e414ff2e9dacfa994337165b924ff952747ff6a"]
SQITCH_SCRIPTS = {
    "deploy/users@v1.0.sql": "-- Deploy flipr:users to sqlite\n\nBEGIN;\n\n" + USERS + "\nCOMMIT;\n",
    "revert/users@v1.0.sql": "BEGIN;\nDROP TABLE users;\nCOMMIT;\n",
    "verify/users@v1.0.sql": "BEGIN;\nSELECT id, email FROM users WHERE false;\nROLLBACK;\n",
    "deploy/flips.sql": "BEGIN;\nCREATE TABLE flips (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), "
                        "body TEXT NOT NULL);\nCOMMIT;\n",
    "revert/flips.sql": "BEGIN;\nDROP TABLE flips;\nCOMMIT;\n",
    "verify/flips.sql": "BEGIN;\nSELECT id, user_id, body FROM flips WHERE false;\nROLLBACK;\n",
    "deploy/users.sql": "BEGIN;\nALTER TABLE users ADD COLUMN name TEXT;\nCOMMIT;\n",
    "revert/users.sql": "BEGIN;\nALTER TABLE users DROP COLUMN name;\nCOMMIT;\n",
    "verify/users.sql": "BEGIN;\nSELECT name FROM users WHERE false;\nROLLBACK;\n",
    "deploy/audit/log-2.sql": "BEGIN;\nCREATE TABLE audit_log (id INTEGER PRIMARY KEY, at TEXT NOT NULL);\nCOMMIT;\n",
    "revert/audit/log-2.sql": "BEGIN;\nDROP TABLE audit_log;\nCOMMIT;\n",
}


def sqitch_project(root: Path, engine: str | None = "sqlite", **files: str | None) -> Path:
    """A Sqitch project folder (``files`` replace or, when None, remove the usual ones)."""
    usual = {"sqitch.plan": SQITCH_PLAN, **SQITCH_SCRIPTS,
             "sqitch.conf": f"[core]\n\tengine = {engine}\n\t# plan_file = sqitch.plan\n" if engine else None}
    usual |= {name.replace("__", "/"): text for name, text in files.items()}
    return write(root, {name: text for name, text in usual.items() if text is not None})


def test_sqitch_plan_is_read_as_sqitch_reads_it(tmp_path):
    from runbook import sqitch

    plan = sqitch.read_plan(sqitch_project(tmp_path / "sq") / "sqitch.plan")
    assert (plan.project, plan.uri) == ("flipr", "https://example.com/flipr/")
    assert [(c.name, c.tags, c.rework_tags, c.requires, c.conflicts) for c in plan.changes] == [
        ("users", [], ["v1.0"], [], []), ("flips", ["v1.0"], [], ["users"], []),
        ("users", [], [], ["users@v1.0"], []), ("audit/log-2", [], [], ["flips", "other:base"], ["legacy"])]
    assert [c.note for c in plan.changes] == ["Creates users table.", "Adds flips; note with # hash and \\ back",
                                              "Reworks users.", "Audit\nlog"]
    assert [c.id for c in plan.changes] == SQITCH_IDS  # what the registry records


def test_sqitch_project_imports_each_change_in_plan_order_and_runs_on_sqlite(tmp_path):
    src = sqitch_project(tmp_path / "sq")
    dest = tmp_path / "migrations"
    result = importer.import_history(src, dest, today=TODAY)
    assert (result.tool, result.dialect) == ("sqitch", "sqlite")  # from core.engine
    assert [(m["name"], m["source_version"], m["rollback"], m["verify"]) for m in result.migrations] == [
        ("users", "users@v1.0", "written", "verify/001_verify_users.sql"),
        ("flips", "flips", "written", "verify/002_verify_flips.sql"),
        ("users", "users", "written", "verify/003_verify_users.sql"),
        ("audit_log_2", "audit/log-2", "written", None)]
    assert listing(dest) == [
        "001_users.sql", "002_flips.sql", "003_users.sql", "004_audit_log_2.sql", "rollbacks",
        "rollbacks/001_rollback_users.sql", "rollbacks/002_rollback_flips.sql", "rollbacks/003_rollback_users.sql",
        "rollbacks/004_rollback_audit_log_2.sql", "verify", "verify/001_verify_users.sql",
        "verify/002_verify_flips.sql", "verify/003_verify_users.sql"]
    assert (dest / "001_users.sql").read_text() == (
        "-- Migration: users\n-- Date: 2026-11-28\n-- Description: Creates users table.\n"
        "-- Source: sqitch change users@v1.0 (deploy/users@v1.0.sql, revert/users@v1.0.sql, verify/users@v1.0.sql)\n"
        f"-- Risk Level: LOW ({importer.RISK_NOTE}: Category 1, non-breaking)\n\n" + SQITCH_SCRIPTS["deploy/users@v1.0.sql"])
    fourth = (dest / "004_audit_log_2.sql").read_text()
    assert "-- Description: Audit log\n-- Source: sqitch change audit/log-2 (deploy/audit/log-2.sql, " \
           "revert/audit/log-2.sql)\n-- Requires: flips, other:base (planned earlier" in fourth
    assert "-- Conflicts: legacy (not checked by the runbook)\n" in fourth
    assert (dest / "verify" / "002_verify_flips.sql").read_text() == SQITCH_SCRIPTS["verify/flips.sql"]
    assert (dest / "rollbacks" / "003_rollback_users.sql").read_text() == SQITCH_SCRIPTS["revert/users.sql"]
    assert [n for n in result.notes if "other:base" in n]
    assert result.lint["errors"] == 0, result.lint
    # BEGIN; ... COMMIT; in the scripts: the runbook runs each migration in its own transaction
    target = open_target(sqlite_db(tmp_path / "app.db"))
    assert [m.status for m in migrate(target, dest).migrations] == ["applied"] * 4
    assert rollback_to(target, dest, "002", run_id="back")["error"] is None
    with target.engine().connect() as conn:
        assert [a.version for a in mig.applied(conn)] == ["001", "002"]
        assert "name" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}
    assert [m.status for m in migrate(target, dest).migrations] == ["applied"] * 2


def test_sqitch_conf_says_where_the_plan_and_scripts_are(tmp_path):
    """The engine's section wins over [core], [core] over the defaults (top_dir/deploy ...)."""
    files = {f"db/{k}" if not k.startswith("deploy/") else f"db/up/{k[7:-4]}.pgsql": v
             for k, v in SQITCH_SCRIPTS.items()}
    files = {k.replace(".sql", ".pgsql") if k.startswith(("db/revert", "db/verify")) else k: v for k, v in files.items()}
    src = write(tmp_path / "sq", {
        "sqitch.conf": '[core]\n\tengine = pg\n\ttop_dir = db ; a comment\n\textension = sql\n'
                       '[engine "pg"]\n\tplan_file = db/flipr.plan\n\tdeploy_dir = "db/up"\n\textension = pgsql\n'
                       '\ttarget = dev\n\tregistry = not_this_one\n[target "dev"]\n\turi = db:pg:dev\n\tregistry = changelog\n',
        "db/flipr.plan": SQITCH_PLAN, "sqitch.plan": "%project=not_this_one\n", **files})
    result = importer.import_history(src, tmp_path / "migrations", today=TODAY)
    assert result.dialect == "postgresql"
    assert result.migrations[0]["source_files"] == [
        str(src / "db/up/users@v1.0.pgsql"), str(src / "db/revert/users@v1.0.pgsql"), str(src / "db/verify/users@v1.0.pgsql")]
    _, sources = importer.read_history(src)
    assert {(s.recorded.registry, s.recorded.engine) for s in sources} == {("changelog", "pg")}  # the target's
    assert "-- Source: sqitch change flips (db/up/flips.pgsql, db/revert/flips.pgsql, db/verify/flips.pgsql)\n" in \
        (tmp_path / "migrations" / "002_flips.sql").read_text()


BAD_PLAN_LINES = SQITCH_PLAN.splitlines(keepends=True)


@pytest.mark.parametrize("files, dialect, message", [
    ({"sqitch.conf": "[core]\n  engine = mysql\n"}, None, "core.engine is 'mysql': the runbook runs Sqitch projects for pg and sqlite only"),
    ({"sqitch.conf": None}, None, "names no engine .*--dialect sqlite or --dialect postgresql"),
    ({}, "postgresql", "engine is sqlite .*so its scripts are sqlite, not postgresql"),
    ({"deploy/flips.sql": None}, None, "1 change.s. without a deploy script: deploy/flips.sql"),
    ({"deploy/users@v1.0.sql": None}, None, r"without a deploy script: deploy/users@v1.0.sql"),
    ({"sqitch.conf": "[core]\n\tengine = pg\n", "deploy/flips.sql": "\\set n 1\nSELECT :n;\n"}, None,
     r"cannot be read as postgresql SQL, the first .*deploy/flips.sql.*it holds a psql command, `\\set n 1`, which sqitch runs through psql"),
    ({"sqitch.conf": "[core]\n\tengine = sqlite\n\tdeploy_dir = ../elsewhere\n"}, None, "is outside the project folder"),
    ({"sqitch.plan": SQITCH_PLAN.replace("[users]", "[ghost]")}, None, "requires ghost, which is not planned before it"),
    ({"sqitch.plan": SQITCH_PLAN.replace("@v1.0 2026", "# @v1.0 2026")}, None, "change users duplicates the one on line 6"),
    ({"sqitch.plan": SQITCH_PLAN.replace("%project=flipr\n", "")}, None, "no %project pragma"),
    ({"sqitch.plan": SQITCH_PLAN.replace("flips [users] 2026-11-28T12:07:19Z ", "flips [users] ")}, None, "missing timestamp"),
    ({"sqitch.plan": SQITCH_PLAN.replace("\n\n# the first", "\n# the first")}, None, "a blank line must come between"),
    ({"sqitch.plan": "".join(BAD_PLAN_LINES[:4] + BAD_PLAN_LINES[7:8] + BAD_PLAN_LINES[5:7])}, None,
     "tag @v1.0 declared without a preceding change"),
])
def test_sqitch_projects_sqitch_or_the_runbook_cannot_run_are_refused_with_nothing_written(tmp_path, files, dialect, message):
    src = sqitch_project(tmp_path / "sq", **files)
    before = listing(tmp_path)
    with pytest.raises(BadInput, match=message):
        importer.import_history(src, tmp_path / "migrations", dialect=dialect)
    assert listing(tmp_path) == before


def test_a_sqitch_project_without_conf_takes_the_dialect_given(tmp_path):
    result = importer.import_history(sqitch_project(tmp_path / "sq", engine=None), tmp_path / "migrations",
                                     dialect="postgresql")
    assert result.dialect == "postgresql" and len(result.migrations) == 4


def sqitch_registry(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """A Sqitch registry's changes table (the columns import reads) holding ``rows``
    (change_id, change, project), deployed in that order."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE changes (change_id TEXT PRIMARY KEY, change TEXT NOT NULL, project TEXT NOT NULL, "
                      "committed_at DATETIME NOT NULL)")
        conn.executemany("INSERT INTO changes VALUES (?, ?, ?, ?)",
                         [(*row, f"2026-11-28 12:07:25.{n:03d}") for n, row in enumerate(rows)])
    return path


def test_a_database_sqitch_deployed_is_adopted_from_its_registry_file(tmp_path, capsys):
    src = sqitch_project(tmp_path / "sq")
    url = sqlite_db(tmp_path / "app.db", USERS, "CREATE TABLE flips (id INTEGER PRIMARY KEY, user_id INTEGER "
                                                 "REFERENCES users (id), body TEXT NOT NULL)")
    registry = sqitch_registry(tmp_path / "sqitch.db", [(SQITCH_IDS[0], "users", "flipr"), ("f" * 40, "users", "other"),
                                                         (SQITCH_IDS[1], "flips", "flipr")])
    stamp = registry.read_bytes()
    dest = tmp_path / "migrations"
    doc = run_cli(capsys, "import", str(src), "--migrations", str(dest), "--db", url)
    assert doc["dialect"] == "sqlite"
    assert doc["adopt"] == {"pending": [], "notes": [], "table": f"changes in {registry}", "applied": ["users@v1.0", "flips"], "last": "flips",
                            "command": f"runbook baseline --db {url} --migrations {dest} --dialect sqlite --version 002"}
    assert registry.read_bytes() == stamp  # read only
    run_cli(capsys, *shlex.split(doc["adopt"]["command"])[1:])
    target = open_target(url)
    assert [(m.version, m.status) for m in migrate(target, dest).migrations] == [("003", "applied"), ("004", "applied")]


@pytest.mark.parametrize("conf, database, registry_rows, message", [
    (None, "app.db", None, r"no Sqitch registry at .*/sqitch.db \(Sqitch keeps"),
    # a registry named in the conf, beside a database with another extension: registry.sqlite3
    ('[engine "sqlite"]\n\tregistry = registry\n', "app.sqlite3", None, r"no Sqitch registry at .*/registry.sqlite3 "),
    # the plan's first note edited since the deploy: every id from there on changed
    (None, "app.db", [("0" * 40, "users", "flipr")], r"records version.* the folder does not hold: users \(000000000000\) .*Cannot find change"),
    (None, "app.db", [(SQITCH_IDS[1], "flips", "flipr")], "applied out of order: users@v1.0 is not applied"),
])
def test_a_sqitch_registry_that_is_missing_or_does_not_match_the_plan_is_refused(tmp_path, conf, database,
                                                                                 registry_rows, message):
    src = sqitch_project(tmp_path / "sq", **({"sqitch.conf": "[core]\n\tengine = sqlite\n" + conf} if conf else {}))
    url = sqlite_db(tmp_path / database, USERS)
    if registry_rows is not None:
        sqitch_registry(tmp_path / "sqitch.db", registry_rows)
    with pytest.raises(BadInput, match=message):
        importer.import_history(src, tmp_path / "migrations",
                                check_database=lambda tool, sources: importer.adoption(open_target(url), tool, sources))
    assert not (tmp_path / "migrations").exists()


@pytest.mark.postgres
def test_postgresql_sqitch_registry_adopts_and_the_rest_migrates_and_rolls_back(pg_empty_url, tmp_path, capsys):
    """Sqitch deployed the first three changes (the reworked users twice); its registry schema
    also holds another project's change. The import adopts 003 and migrates 004 on the server."""
    src = sqitch_project(tmp_path / "sq", engine="pg")
    target = open_target(pg_empty_url)
    with target.engine().begin() as conn:
        for name in ("deploy/users@v1.0.sql", "deploy/flips.sql", "deploy/users.sql"):
            conn.exec_driver_sql(SQITCH_SCRIPTS[name].replace("BEGIN;", "").replace("COMMIT;", ""))
        conn.exec_driver_sql("CREATE SCHEMA sqitch")
        conn.exec_driver_sql("CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, change text NOT NULL, "
                             "project text NOT NULL, committed_at timestamptz NOT NULL DEFAULT clock_timestamp())")
        for change_id, change, project in [(SQITCH_IDS[0], "users", "flipr"), ("e" * 40, "widgets", "other"),
                                           (SQITCH_IDS[1], "flips", "flipr"), (SQITCH_IDS[2], "users", "flipr")]:
            conn.exec_driver_sql("INSERT INTO sqitch.changes (change_id, change, project) VALUES (%s, %s, %s)",
                                 (change_id, change, project))
        conn.exec_driver_sql("INSERT INTO users (id, email) VALUES (1, 'ann@example.com')")
    target.dispose()
    dest = tmp_path / "migrations"
    doc = run_cli(capsys, "import", str(src), "--migrations", str(dest), "--db", pg_empty_url)
    assert doc["dialect"] == "postgresql" and doc["lint"]["errors"] == 0
    assert (doc["adopt"]["table"], doc["adopt"]["applied"]) == ("sqitch.changes", ["users@v1.0", "flips", "users"])
    assert doc["adopt"]["command"].endswith(f"--migrations {dest} --dialect postgresql --version 003")
    report = lint.lint(dest, target=target, dialect="postgresql")  # on the server: each rollback replayed
    assert report.exit_code == 0, lint.render(report)
    run_cli(capsys, *shlex.split(doc["adopt"]["command"])[1:])
    assert [(m.version, m.status) for m in migrate(target, dest, dialect="postgresql").migrations] == [("004", "applied")]
    assert rollback_to(target, dest, "002", run_id="back", dialect="postgresql")["error"] is None
    with target.engine().connect() as conn:
        assert [a.version for a in mig.applied(conn)] == ["001", "002"]
        assert conn.exec_driver_sql("SELECT email FROM users").scalar_one() == "ann@example.com"
        assert conn.exec_driver_sql("SELECT count(*) FROM sqitch.changes").scalar_one() == 4  # Sqitch's, untouched
