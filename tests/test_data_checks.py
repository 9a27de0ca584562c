"""Data checks where they are exact: declared data changes (effects), the migration's own
transaction, the rehearsal copy; concurrent writes on the live target; rollback that will not
drop values written after the migration. Real SQLite files and the real PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import backup, effects, inventory, rehearsal, rollback
from runbook.engines import sqlite as sqlite_engine
from runbook.errors import BadInput
from runbook.migrate import migrate
from runbook.target import open_target
from runbook.verify import verify

from conftest import MIGRATIONS, db_state

BACKFILL = """-- Migration: Lower-case copy of contractor emails, names trimmed
-- Risk Level: HIGH (Category 3: data migration)
ALTER TABLE contractors ADD COLUMN email_lower TEXT;
UPDATE contractors SET email_lower = lower(email), name = trim(name);
"""
BACKFILL_ROLLBACK = "ALTER TABLE contractors DROP COLUMN email_lower;\n"

HALF_REBUILD = """-- Migration: Rebuild admin_users (copies only half of it: a bug)
CREATE TABLE admin_users_new (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL,
  full_name TEXT, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
INSERT INTO admin_users_new (id, email, password_hash, full_name, created_at)
  SELECT id, email, password_hash, full_name, created_at FROM admin_users WHERE id % 2 = 0;
DROP TABLE admin_users;
ALTER TABLE admin_users_new RENAME TO admin_users;
"""

NONCE = "CREATE TABLE nonce (nonce TEXT NOT NULL PRIMARY KEY);\n"
RESET_NONCE = """-- Migration: nonce gets a state key; its rows are dropped, not copied (vaultwarden's sso_nonce)
-- Risk Level: MEDIUM
DROP TABLE nonce;
CREATE TABLE nonce (state TEXT NOT NULL PRIMARY KEY, nonce TEXT NOT NULL);
"""
RESET_NONCE_ROLLBACK = "DROP TABLE IF EXISTS nonce;\nCREATE TABLE nonce (nonce TEXT NOT NULL PRIMARY KEY);\n"
# rebuilds of nonce that keep only the rows WHERE says (``{where}``: "" keeps every row)
REBUILDS = {
    "create new, copy, drop, rename": """CREATE TABLE nonce_new (nonce TEXT NOT NULL PRIMARY KEY, state TEXT);
INSERT INTO nonce_new (nonce) SELECT nonce FROM nonce{where};
DROP TABLE nonce;
ALTER TABLE nonce_new RENAME TO nonce;
""",
    "rename old, create, copy, drop old": """ALTER TABLE nonce RENAME TO nonce_old;
CREATE TABLE nonce (nonce TEXT NOT NULL PRIMARY KEY, state TEXT);
INSERT INTO nonce (nonce) SELECT nonce FROM nonce_old{where};
DROP TABLE nonce_old;
""",
    "create as select, drop, rename": """CREATE TABLE nonce_new AS SELECT nonce FROM nonce{where};
DROP TABLE nonce;
ALTER TABLE nonce_new RENAME TO nonce;
""",
    "kept aside, drop, re-create, copy back": """CREATE TABLE nonce_kept AS SELECT nonce FROM nonce{where};
DROP TABLE nonce;
CREATE TABLE nonce (nonce TEXT NOT NULL PRIMARY KEY, state TEXT);
INSERT INTO nonce (nonce) SELECT nonce FROM nonce_kept;
DROP TABLE nonce_kept;
""",
}

TRIGGER_UPDATE = """CREATE TRIGGER contractors_lower_email AFTER UPDATE OF name ON contractors
BEGIN UPDATE contractors SET email = lower(email) WHERE id = NEW.id; END;
UPDATE contractors SET name = trim(name);
"""
TRIGGER_UPDATE_PG = """CREATE FUNCTION contractors_lower_email() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;
CREATE TRIGGER contractors_lower_email BEFORE UPDATE OF name ON contractors
  FOR EACH ROW EXECUTE FUNCTION contractors_lower_email();
UPDATE contractors SET name = trim(name);
"""


def run_sql(url: str, *statements: str) -> None:
    target = open_target(url)
    with target.engine().begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)
    target.dispose()


def folder_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def rehearse_on_backup(target, folder: Path, tmp_path: Path, run_id: str) -> dict:
    """A backup of ``target`` (this run's), and the rehearsal of ``folder`` on a copy restored from it."""
    return rehearsal.rehearse(target, backup.take(target, tmp_path / "backups"), folder, run_id=run_id)


def failed(result: dict) -> dict[str, str]:
    return {c["check"]: c["detail"] for c in result["checks"] if not c["passed"]}


@pytest.fixture
def at_004(db_url):
    """The production-like database migrated to 004 (the shipped migrations)."""
    assert migrate(open_target(db_url), MIGRATIONS).passed
    return db_url


# -- declaring ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_each_statement_declares_what_it_may_change(dialect):
    d = effects.declare([
        ("s1", "ALTER TABLE contractors ADD COLUMN tier TEXT DEFAULT 'basic'"),
        ("s2", "UPDATE contractors SET tier = 'gold', name = upper(name) WHERE id = 1"),
        ("s3", "DELETE FROM audit_log WHERE id < 10"),
        ("s4", "INSERT INTO focus_areas (slug, label) VALUES ('x', 'X')"),
        ("s5", "CREATE TABLE p_new (id INTEGER PRIMARY KEY, company_name TEXT)"),
        ("s6", "INSERT INTO p_new (id, company_name) SELECT id, company_name FROM partners"),
        ("s7", "DROP TABLE partners"),
        ("s8", "ALTER TABLE p_new RENAME TO partners"),
        ("s9", "CREATE VIEW v AS SELECT * FROM contractors"),
        ("s10", "DROP TABLE old_stuff"),
        ("s11", "ALTER TABLE admin_users DROP COLUMN full_name"),
    ], dialect)
    c = d.tables["contractors"]
    assert c.added_columns == ["tier"] and c.changed_columns == {"tier", "name"}
    assert not c.may_add_rows and not c.may_remove_rows
    assert d.tables["audit_log"].may_remove_rows and not d.tables["audit_log"].may_add_rows
    assert d.tables["focus_areas"].may_add_rows and not d.tables["focus_areas"].changed_columns
    p = d.tables["partners"]
    assert p.rebuilt and p.now == "partners" and not p.may_add_rows and not p.may_remove_rows
    assert d.tables["old_stuff"].now is None
    assert d.tables["admin_users"].dropped_columns == ["full_name"]
    assert "v" not in d.tables and d.created == {}


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_drop_and_re_create_declares_every_row_removed_and_a_copy_across_is_a_rebuild(dialect):
    """A table dropped and created anew under its name, none of its rows copied into the new one,
    is declared as DROP TABLE alone declares it (every row removed); the new table is created. One
    whose rows the new table copies (whatever the order and the names) is a rebuild."""
    def declared(script: str) -> effects.Declared:
        return effects.declare([(f"s{i}", sql) for i, sql in enumerate(script.strip().split(";\n"), 1)], dialect)

    recreated = declared(RESET_NONCE.split("\n", 2)[2])
    n = recreated.tables["nonce"]
    assert n.now is None and not n.rebuilt and set(recreated.created) == {"nonce"}
    assert "every row removed" in n.why[-1]
    filled_elsewhere = declared("DROP TABLE nonce;\nCREATE TABLE nonce (nonce TEXT PRIMARY KEY);\n"
                                "INSERT INTO nonce SELECT nonce FROM other_nonces")
    assert filled_elsewhere.tables["nonce"].now is None and set(filled_elsewhere.created) == {"nonce"}
    for name, script in REBUILDS.items():
        d = declared(script.format(where=""))
        r = d.tables["nonce"]
        assert (r.rebuilt, r.now, r.may_remove_rows, set(d.created)) == (True, "nonce", False, set()), name


def test_postgresql_tables_are_named_as_the_schema_model_names_them():
    d = effects.declare([("s1", "UPDATE billing.invoices SET amount = 1"), ("s2", "ALTER TABLE billing.drafts RENAME TO old"),
                         ("s3", "DELETE FROM public.contractors WHERE id = 1"), ("s4", "TRUNCATE audit.log")], "postgres")
    assert set(d.tables) == {"billing.invoices", "billing.drafts", "contractors", "audit.log"}
    assert d.tables["billing.drafts"].now == "billing.old" and d.tables["billing.invoices"].changed_columns == {"amount"}


def test_unparsable_or_unknown_statements_say_what_they_declare():
    d = effects.declare([("s1", "FROBNICATE contractors"), ("s2", "CALL backfill()"),
                         ("s3", "DO $$ BEGIN DELETE FROM t; EXECUTE 'DELETE FROM u'; END $$")], "postgres")
    assert any("s1 cannot be parsed" in n for n in d.notes)
    assert any("s2 is of a kind whose effect is not known and names no table" in n for n in d.notes)
    assert any("s3 is a DO block that also runs SQL the parser cannot read" in n for n in d.notes)
    assert d.tables["t"].may_remove_rows and "u" not in d.tables  # its statement as written is read, EXECUTE's is not
    d = effects.declare([("s1", "LOCK TABLE contractors IN SHARE MODE")], "postgres")
    assert d.tables["contractors"].anything and "may change anything on contractors" in d.tables["contractors"].why[0]


# -- the rehearsal and the migration's own transaction --------------------------------------
def test_category_3_backfill_passes_rehearsal_migrate_and_verify(at_004, tmp_path):
    """A correct data migration (declared HIGH, with a rollback) changes content as declared."""
    url = at_004
    run_sql(url, "UPDATE contractors SET name = '  ' || name || ' ' WHERE id = 2",
            "UPDATE contractors SET email = 'Mixed.Case@Example.com' WHERE id = 3")
    folder = folder_with(tmp_path, {"005_email_lower.sql": BACKFILL,
                                    "rollbacks/005_rollback_email_lower.sql": BACKFILL_ROLLBACK})
    target = open_target(url)
    before = inventory.take(target, folder)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-backfill")
    assert rehearsed["passed"], rehearsed["error"]
    data = rehearsed["data"]["005_email_lower"]
    assert data["passed"] and data["mode"] == "full"
    (t,) = data["tables"]
    assert (t["table"], t["added"], t["removed"], t["changed"]) == ("contractors", 0, 0, 1)
    assert t["changed_columns"] == {"name": 1} and t["new_columns"] == {"email_lower": 11}

    result = migrate(target, folder, run_id="backfill")
    assert result.passed, result.error
    assert result.migrations[-1].data["tables"][0]["changed_columns"] == {"name": 1}
    checked = verify(target, folder, before)
    assert failed(checked) == {}
    content = next(c for c in checked["checks"] if c["check"] == "content: contractors")
    assert "changed as declared" in content["detail"] and "005_email_lower" in content["detail"]
    assert next(c for c in checked["checks"] if c["check"] == "concurrent writes since the inventory")["tables"] == []


def test_rebuild_that_copies_half_the_rows_fails_and_changes_nothing(at_004, tmp_path):
    url = at_004
    run_sql(url, *[f"INSERT INTO admin_users (id, email, password_hash) VALUES ({i}, 'a{i}@x.example', 'h')"
                   for i in range(2, 11)])
    folder = folder_with(tmp_path, {"005_rebuild_admin_users.sql": HALF_REBUILD})
    target = open_target(url)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-rebuild")
    assert not rehearsed["passed"]
    assert "a rebuild must keep every row: 5 of 10 rows removed" in rehearsed["error"]
    unchanged = db_state(url)
    result = migrate(target, folder, run_id="rebuild")
    assert not result.passed and result.migrations[-1].status == "failed"
    assert "admin_users: a rebuild must keep every row: 5 of 10 rows removed" in result.error
    assert "rolled back" in result.error
    (t,) = result.migrations[-1].data["tables"]
    assert (t["rows_before"], t["rows_after"], t["removed"], t["added"]) == (10, 5, 5, 0)
    assert db_state(url) == unchanged  # the whole migration rolled back, admin_users intact


def test_rows_deleted_and_inserted_again_under_their_keys_are_a_declared_replacement(at_004, tmp_path):
    """``DELETE`` then ``INSERT`` of the same keys with other values (a common way to rewrite
    reference rows) replaces those rows: every column may differ. Found on a real Flyway history
    (top-leader-be's 042), which the data check refused as "changed, and no statement sets it"."""
    url = at_004
    run_sql(url, "INSERT INTO admin_users (id, email, password_hash) VALUES (2, 'two@x.example', 'h2')")
    folder = folder_with(tmp_path, {"005_reset_admins.sql": (
        "-- Risk Level: HIGH\n"
        "DELETE FROM admin_users WHERE id = 2;\n"
        "INSERT INTO admin_users (id, email, password_hash) VALUES (2, 'two@new.example', 'h2');\n")})
    target = open_target(url)
    before = inventory.take(target, folder)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-replace")
    assert rehearsed["passed"], rehearsed["error"]
    result = migrate(target, folder, run_id="replace")
    assert result.passed, result.error
    (t,) = result.migrations[-1].data["tables"]
    assert (t["table"], t["added"], t["removed"], t["changed_columns"]["email"]) == ("admin_users", 0, 0, 1)
    assert failed(verify(target, folder, before)) == {}
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT email FROM admin_users WHERE id = 2").scalar_one() == "two@new.example"
    # only a removal before the insertion can bring a row back: inserted first, existing rows stay as they were
    replaced = effects.declare([("1", "DELETE FROM t WHERE id = 1"), ("2", "INSERT INTO t VALUES (1, 'x')")], "sqlite")
    kept = effects.declare([("1", "INSERT INTO t VALUES (9, 'x')"), ("2", "DELETE FROM t WHERE id = 1")], "sqlite")
    assert effects.ALL in replaced.tables["t"].changed_columns and not kept.tables["t"].changed_columns


def test_a_column_a_trigger_sets_on_a_table_the_statement_names_is_declared_by_the_header(sqlite_url, tmp_path):
    """A trigger (or a function) that the migration's own ``UPDATE`` fires writes another column of
    the same table: undeclared without a header, and the migration rolls back whole; with
    ``-- Writes: contractors`` the data check takes it as declared."""
    trigger = ("CREATE TRIGGER stamp AFTER UPDATE OF name ON contractors BEGIN "
               "UPDATE contractors SET email = lower(email) WHERE id = NEW.id; END;\n"
               "UPDATE contractors SET name = trim(name);\n")
    run_sql(sqlite_url, "UPDATE contractors SET email = 'Mixed.Case@Example.com' WHERE id = 3")
    target = open_target(sqlite_url)
    assert migrate(target, MIGRATIONS).passed
    unchanged = db_state(sqlite_url)
    bare = folder_with(tmp_path / "bare", {"005_trim.sql": "-- Risk Level: HIGH\n" + trigger})
    result = migrate(target, bare, run_id="bare")
    assert not result.passed and "column email changed in 1 rows, and no statement sets it" in result.error
    assert db_state(sqlite_url) == unchanged
    declared = folder_with(tmp_path / "declared", {
        "005_trim.sql": "-- Risk Level: HIGH\n-- Writes: contractors (by trigger stamp)\n" + trigger})
    result = migrate(target, declared, run_id="declared")
    assert result.passed, result.error
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT email FROM contractors WHERE id = 3").scalar_one() == "mixed.case@example.com"


@pytest.fixture
def nonce_rows(at_004, tmp_path):
    """At 005, which creates the table nonce, into which the application wrote 2 rows."""
    folder = folder_with(tmp_path, {"005_create_nonce.sql": NONCE,
                                    "rollbacks/005_rollback_create_nonce.sql": "DROP TABLE nonce;\n"})
    assert migrate(open_target(at_004), folder, run_id="nonce").passed
    run_sql(at_004, "INSERT INTO nonce VALUES ('n1'), ('n2')")
    return at_004, folder


def test_drop_and_re_create_of_a_table_with_rows_passes_declaring_every_row_removed(nonce_rows, tmp_path):
    """vaultwarden's sso_nonce: DROP TABLE then CREATE TABLE under the same name, nothing copied
    across. The rehearsal (with its verify), the migration's data check and verify pass; the
    record says every row of the table was removed, as declared, and a new table took its name."""
    url, folder = nonce_rows
    (folder / "006_reset_nonce.sql").write_text(RESET_NONCE)
    target = open_target(url)
    before = inventory.take(target, folder)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-reset")
    assert rehearsed["passed"], rehearsed["error"]
    result = migrate(target, folder, run_id="reset")
    assert result.passed, result.error
    data = result.migrations[-1].data
    (t,) = data["tables"]
    assert (t["table"], t["now"], t["compared"], t["rows_before"], t["removed"]) == (
        "nonce", None, "dropped as declared", 2, 2)
    assert "none of its rows copied into it: every row removed" in t["declared"][-1]
    assert data["created_rows"] == {"nonce": 0}
    assert effects.summary(data) == ("nonce: dropped as declared, every row removed (2 rows); "
                                      "a new table took its name (0 rows)")
    checked = verify(target, folder, before)
    assert failed(checked) == {}
    rows = next(c for c in checked["checks"] if c["check"] == "rows: nonce")
    assert rows["skipped"] and "dropped on purpose (by 006_reset_nonce); the table of that name now is a new one" \
        in rows["detail"]
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM nonce").scalar_one() == 0
    target.dispose()


@pytest.mark.parametrize("rebuild", sorted(REBUILDS))
def test_a_rebuild_must_keep_every_row_whatever_its_order_and_names(nonce_rows, rebuild):
    """The same rebuild passes when it copies every row across and is refused, changing nothing,
    when it leaves one behind."""
    url, folder = nonce_rows
    script = folder / "006_rebuild_nonce.sql"
    script.write_text(REBUILDS[rebuild].format(where=" WHERE nonce <> 'n1'"))
    unchanged = db_state(url)
    target = open_target(url)
    result = migrate(target, folder, run_id="lossy")
    assert not result.passed and "nonce: a rebuild must keep every row: 1 of 2 rows removed" in result.error
    assert db_state(url) == unchanged
    script.write_text(REBUILDS[rebuild].format(where=""))
    result = migrate(target, folder, run_id="rebuild")
    assert result.passed, result.error
    (t,) = result.migrations[-1].data["tables"]
    assert (t["now"], t["rows_before"], t["rows_after"], t["removed"]) == ("nonce", 2, 2, 0)
    target.dispose()


def test_update_that_changes_an_undeclared_column_fails_and_changes_nothing(at_004, tmp_path):
    url = at_004
    run_sql(url, "UPDATE contractors SET email = 'Mixed.Case@Example.com' WHERE id = 3")
    folder = folder_with(tmp_path, {"005_trim_names.sql": TRIGGER_UPDATE,
                                    "005_trim_names.postgresql.sql": TRIGGER_UPDATE_PG})
    unchanged = db_state(url)
    target = open_target(url)
    result = migrate(target, folder, run_id="trim")
    assert not result.passed
    assert "contractors: column email changed in 1 rows, and no statement sets it" in result.error
    assert db_state(url) == unchanged  # the trigger was not created, no name was trimmed
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT email FROM contractors WHERE id = 3").scalar_one() == "Mixed.Case@Example.com"


# -- the live target ---------------------------------------------------------------------------
def test_application_writes_after_the_inventory_are_concurrent_writes_not_failures(db_url, migrations_dir):
    target = open_target(db_url)
    before = inventory.take(target, migrations_dir)
    run_sql(db_url, *[f"INSERT INTO contractors (name, email) VALUES ('App {i}', 'app{i}@x.example')"
                      for i in range(3)],
            "UPDATE strategic_partners SET company_name = 'Renamed by the app' WHERE id = 1")
    assert migrate(target, migrations_dir, run_id="live").passed
    result = verify(target, migrations_dir, before)
    assert failed(result) == {}, failed(result)
    writes = next(c for c in result["checks"] if c["check"] == "concurrent writes since the inventory")
    assert writes["tables"] == ["contractors", "strategic_partners"]
    assert "contractors (+3 rows)" in writes["detail"] and "strategic_partners (rows changed)" in writes["detail"]
    rows = next(c for c in result["checks"] if c["check"] == "rows: contractors")
    assert rows["concurrent_writes"] == 3 and "Renamed" not in str(result["checks"])


def test_an_inventory_without_row_hashes_is_compared_through_the_runs_backup(db_url, migrations_dir, tmp_path,
                                                                            monkeypatch):
    """The inventory as the pipeline takes it (``row_hashes=False``: on SQLite stored pages, no row
    hashes). A table the application updated after the backup (as many rows) is hashed on the
    target and on this run's backup: concurrent writes. On SQLite, one it updated before the
    backup cannot be compared (nothing holds its rows as the inventory saw them): skipped; one
    no one wrote to is unchanged by its stored pages."""
    monkeypatch.setattr(sqlite_engine, "SNAPSHOT_COPY_FROM", 0)  # large: live reads go to a copy
    target = open_target(db_url)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    before = inventory.take(target, migrations_dir, row_hashes=False)
    run_sql(db_url, "UPDATE admin_users SET full_name = 'Before the backup' WHERE id = 1")
    backup.take(target, tmp_path / "backups", run_dir=run_dir)
    run_sql(db_url, "UPDATE strategic_partners SET company_name = 'After the backup' WHERE id = 1")
    assert migrate(target, migrations_dir, run_id="live").passed
    result = verify(target, migrations_dir, before, run_dir=run_dir)
    assert failed(result) == {}, failed(result)
    checks = {c["check"]: c for c in result["checks"]}
    assert checks["content: strategic_partners"]["concurrent_writes"] == 0
    assert "content differs from the snapshot (3 rows now, 3 then)" in checks["content: strategic_partners"]["detail"]
    admin = checks["content: admin_users"]
    if target.kind.name == "sqlite":
        assert all(t["fingerprint"]["sha256"] is None for t in before["tables"].values())
        assert admin["skipped"] and "no backup holds the table as the snapshot saw it" in admin["detail"]
        assert "stored pages are those of the snapshot" in checks["content: contractors"]["detail"]
        assert checks["concurrent writes since the inventory"]["tables"] == ["strategic_partners"]
    else:  # no page digests: every table was hashed at the inventory
        assert admin["concurrent_writes"] == 0
        assert checks["concurrent writes since the inventory"]["tables"] == ["admin_users", "strategic_partners"]


def test_a_table_with_a_column_dropped_on_purpose_is_compared_by_the_columns_it_keeps(at_004, tmp_path):
    """A migration drops ``contractors.phone``. Where this run's backup can be read as a database
    (SQLite's file), verify hashes the columns kept, on the target and on the backup, instead of
    skipping the table: unchanged passes; a kept value the application changed after the backup is
    a concurrent write on the live target and a failure on a copy no one else writes to. Where it
    cannot (PostgreSQL's dump), the check is still skipped and says why. Before, it was skipped
    on both engines."""
    folder = folder_with(tmp_path, {
        "005_drop_phone.sql": "-- Risk Level: HIGH\nALTER TABLE contractors DROP COLUMN phone;\n",
        "rollbacks/005_rollback_drop_phone.sql": "ALTER TABLE contractors ADD COLUMN phone TEXT;\n"})
    target = open_target(at_004)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    before = inventory.take(target, folder)
    backup.take(target, tmp_path / "backups", run_dir=run_dir)
    assert migrate(target, folder, run_id="drop").passed
    content = next(c for c in verify(target, folder, before, run_dir=run_dir)["checks"]
                   if c["check"] == "content: contractors")
    if target.kind.name == "postgresql":
        assert content["skipped"] and "no backup holds it" in content["detail"], content
        return
    assert content["passed"] and not content.get("skipped"), content
    assert content["detail"].startswith("the 22 columns kept × 11 rows, compared with the backup")
    assert content["detail"].endswith("phone: by 005_drop_phone): unchanged")
    run_sql(at_004, "UPDATE contractors SET name = 'Changed later' WHERE id = 1")
    live = {c["check"]: c for c in verify(target, folder, before, run_dir=run_dir)["checks"]}
    assert live["content: contractors"]["passed"] and live["content: contractors"]["concurrent_writes"] == 0
    assert live["concurrent writes since the inventory"]["tables"] == ["contractors"]
    copy = verify(target, folder, before, run_dir=run_dir, writers=False)
    assert "an undeclared change" in failed(copy)["content: contractors"]
    target.dispose()


@pytest.mark.postgres
def test_a_primary_key_whose_type_changes_is_compared_by_its_text(pg_url, tmp_path):
    """Prisma's move to text ids (documenso's migrate_to_cuids_for_webhooks): ``id`` goes from
    integer to text with every row kept. The data check joins the table with its copy from before
    on the key's text; before, PostgreSQL refused its join (text = integer) and migrate raised a
    driver error."""
    folder = tmp_path / "migrations"
    (folder / "rollbacks").mkdir(parents=True)
    (folder / "001_webhook.sql").write_text('-- Risk Level: LOW\nCREATE TABLE "Webhook" ("id" SERIAL NOT NULL, '
                                            '"url" TEXT NOT NULL, CONSTRAINT "Webhook_pkey" PRIMARY KEY ("id"));\n')
    (folder / "002_cuid.sql").write_text(
        '-- Risk Level: MEDIUM\nALTER TABLE "Webhook" DROP CONSTRAINT "Webhook_pkey", ALTER COLUMN "id" DROP DEFAULT, '
        'ALTER COLUMN "id" SET DATA TYPE TEXT, ADD CONSTRAINT "Webhook_pkey" PRIMARY KEY ("id");\n'
        'DROP SEQUENCE "Webhook_id_seq";\n')
    target = open_target(pg_url)
    assert migrate(target, folder, to="001", dialect="postgresql").passed
    run_sql(pg_url, """INSERT INTO "Webhook" (url) VALUES ('a'), ('b')""")
    result = migrate(target, folder, dialect="postgresql", data_checks="full")
    assert result.passed, result.error
    (t,) = result.migrations[-1].data["tables"]
    assert (t["table"], t["compared"], t["added"], t["removed"]) == ("Webhook", "content", 0, 0)
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql('SELECT id FROM "Webhook" ORDER BY url').scalars().all() == ["1", "2"]
    target.dispose()


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_primary_key_column_renamed_is_joined_under_its_name_now(engine, request, tmp_path):
    """Permify's goose migration 20230729145034 renames ``schema_definitions.entity_type``, part of
    its primary key, to ``name``. The data check joins the table with its copy from before by the
    key: under the key's name now on the table, its name before on the copy. Before, it used the
    name before on both, the engine refused its own query (no such column) and the migration failed."""
    if engine == "postgresql":
        url, dialect = request.getfixturevalue("pg_empty_url"), "postgresql"
    else:
        sqlite3.connect(tmp_path / "app.db").close()
        url, dialect = f"sqlite:///{tmp_path / 'app.db'}", "sqlite"
    folder = tmp_path / "migrations"
    (folder / "rollbacks").mkdir(parents=True)
    (folder / "001_defs.sql").write_text("-- Risk Level: LOW\nCREATE TABLE defs (tenant TEXT NOT NULL, "
                                         "entity_type TEXT NOT NULL, version TEXT NOT NULL, body TEXT, "
                                         "PRIMARY KEY (tenant, entity_type, version));\n")
    (folder / "002_name.sql").write_text("-- Risk Level: HIGH\nALTER TABLE defs RENAME COLUMN entity_type TO name;\n"
                                         "UPDATE defs SET body = upper(body) WHERE name = 'user';\n")
    target = open_target(url)
    assert migrate(target, folder, to="001", dialect=dialect).passed
    run_sql(url, "INSERT INTO defs VALUES ('t', 'user', 'v1', 'x'), ('t', 'doc', 'v1', 'y')")
    result = migrate(target, folder, dialect=dialect, data_checks="full")
    assert result.passed, result.error
    (t,) = result.migrations[-1].data["tables"]
    assert (t["compared"], t["added"], t["removed"], t["changed"], t["changed_columns"]) == ("content", 0, 0, 1,
                                                                                             {"body": 1})
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT name, body FROM defs ORDER BY name").all() == [("doc", "y"), ("user", "X")]
    target.dispose()


def checked_second_migration(url: str, tmp_path: Path, first: str, second: str, rows: str) -> tuple:
    """On PostgreSQL: migration 001 (``first``), the application's ``rows``, then 002 (``second``)
    with the full data check, which passes; the target and 002's data report of its one table."""
    folder = tmp_path / "migrations"
    (folder / "rollbacks").mkdir(parents=True)
    (folder / "001_first.sql").write_text("-- Risk Level: LOW\n" + first)
    (folder / "002_second.sql").write_text("-- Risk Level: HIGH\n" + second)
    target = open_target(url)
    assert migrate(target, folder, to="001", dialect="postgresql").passed
    run_sql(url, rows)
    result = migrate(target, folder, dialect="postgresql", data_checks="full")
    assert result.passed, result.error
    (t,) = result.migrations[-1].data["tables"]
    return target, t


@pytest.mark.parametrize("table, by_code, key_sql, rows", [
    # supabase/auth's 044: id (text) renamed to provider_id in a DO block, a new id uuid takes its place
    ("identities (id text NOT NULL, provider text NOT NULL, data text, PRIMARY KEY (provider, id))",
     "DO $$ BEGIN EXECUTE 'ALTER TABLE identities RENAME COLUMN id TO provider_id'; END $$;\n"
     "ALTER TABLE identities DROP CONSTRAINT identities_pkey, "
     "ADD COLUMN id uuid DEFAULT gen_random_uuid() PRIMARY KEY;\n",
     "SELECT provider_id, data FROM identities ORDER BY 1", [("1", "A"), ("2", "B")]),
    # the key's type changed by code no parser reads (integer to text)
    ("identities (id integer NOT NULL, provider text NOT NULL, data text, PRIMARY KEY (provider, id))",
     "DO $$ BEGIN EXECUTE 'ALTER TABLE identities ALTER COLUMN id TYPE text'; END $$;\n",
     "SELECT id, data FROM identities ORDER BY 1", [("1", "A"), ("2", "B")]),
])
def test_key_columns_renamed_or_retyped_by_code_are_followed_by_the_catalog(pg_empty_url, tmp_path, table, by_code,
                                                                           key_sql, rows):
    """The data check follows each column by the engine's own identity for it (PostgreSQL's
    table oid and ``attnum``: a rename keeps it, a column added again gets a new one) and joins a key column
    whose type the catalog shows changed by its text: whatever renamed or retyped it, code no
    parser reads included. Before, supabase/auth's 044 failed every rehearsal with rows: the
    check's own join compared the new uuid ``id`` with the old text one (uuid = text)."""
    target, t = checked_second_migration(pg_empty_url, tmp_path, f"CREATE TABLE {table};\n",
                                         by_code + "UPDATE identities SET data = upper(data);\n",
                                         "INSERT INTO identities VALUES ('1', 'github', 'a'), ('2', 'google', 'b')")
    assert (t["compared"], t["added"], t["removed"], t["changed"], t["changed_columns"]) == (
        "content", 0, 0, 2, {"data": 2}), t
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql(key_sql).all() == rows
    target.dispose()


def test_a_table_made_anew_is_compared_by_its_columns_names(pg_empty_url, tmp_path):
    """A rebuild (create new, copy, drop, rename) makes a new table: its columns' identities are
    new, so it is compared by their names; b, the second column now, is b, once the third."""
    target, t = checked_second_migration(
        pg_empty_url, tmp_path, "CREATE TABLE items (id int PRIMARY KEY, a text, b text);\n",
        "CREATE TABLE items_new (id int PRIMARY KEY, b text);\nINSERT INTO items_new SELECT id, b FROM items;\n"
        "DROP TABLE items;\nALTER TABLE items_new RENAME TO items;\n", "INSERT INTO items VALUES (1, 'x', 'p'), (2, 'y', 'q')")
    assert (t["now"], t["compared"], t["added"], t["removed"], t["changed"]) == ("items", "content", 0, 0, 0), t
    target.dispose()


# -- rollback --------------------------------------------------------------------------------
def test_rollback_refuses_to_drop_values_written_after_the_migration(at_004, tmp_path):
    url = at_004
    folder = folder_with(tmp_path, {"005_email_lower.sql": BACKFILL,
                                    "rollbacks/005_rollback_email_lower.sql": BACKFILL_ROLLBACK})
    target = open_target(url)
    result = migrate(target, folder, run_id="backfill")
    assert result.passed, result.error
    written = {"005": result.migrations[-1].data}
    run_sql(url, *[f"INSERT INTO contractors (name, email, email_lower) VALUES ('New {i}', 'n{i}@x.example', "
                   f"'n{i}@x.example')" for i in range(4)])
    at_005 = db_state(url)
    with pytest.raises(BadInput, match=r"drop 4 value\(s\) written after the migration \(005_email_lower: "
                                       r"contractors.email_lower holds 15 values \(11 written by the migrations, "
                                       r"so 4 written since\)\); pass --discard-new-data"):
        rollback.rollback_to(target, folder, "004", run_id="back", written=written)
    with pytest.raises(BadInput, match=r"drop 4 value\(s\) .*\(11 written by the migrations"):
        rollback.rollback_to(target, folder, "004", run_id="back")  # a later run: the event log remembers the 11
    assert db_state(url) == at_005  # refused: nothing rolled back
    done = rollback.rollback_to(target, folder, "004", run_id="back", written=written, discard_new_data=True)
    assert done["error"] is None and done["after"] == "004"
    assert [(d["table"], d["column"], d["values"], d["written_since"]) for d in done["discarded"]] == [
        ("contractors", "email_lower", 15, 4)]
    with target.engine().connect() as conn:
        assert "email_lower" not in {c["name"] for c in sa.inspect(conn).get_columns("contractors")}


def test_rollback_that_drops_and_re_creates_a_table_names_its_rows_first(nonce_rows):
    """A rollback script that drops a table and creates it anew (vaultwarden's sso_nonce) drops
    the rows the application wrote since the migration, as DROP TABLE alone would: the refusal
    before anything runs names them (once, however many scripts drop the table) and changes
    nothing; --discard-new-data drops them and says so."""
    url, folder = nonce_rows
    (folder / "006_reset_nonce.sql").write_text(RESET_NONCE)
    (folder / "rollbacks/006_rollback_reset_nonce.sql").write_text(RESET_NONCE_ROLLBACK)
    target = open_target(url)
    result = migrate(target, folder, run_id="reset")
    assert result.passed, result.error
    written = {"006": result.migrations[-1].data}
    run_sql(url, "INSERT INTO nonce VALUES ('s1', 'n1'), ('s2', 'n2'), ('s3', 'n3')")
    at_006 = db_state(url)
    named = (r"drop 3 value\(s\) written after the migration \(006_reset_nonce: table nonce holds 3 rows "
             r"\(0 written by the migrations, so 3 written since\)\); pass --discard-new-data")
    with pytest.raises(BadInput, match=named):
        rollback.rollback_to(target, folder, "005", run_id="back", written=written)
    with pytest.raises(BadInput, match=named + ".*Nothing was rolled back$"):  # 005's DROP TABLE: the same rows
        rollback.rollback_to(target, folder, "004", run_id="back")  # a later run: the event log's counts
    assert db_state(url) == at_006
    done = rollback.rollback_to(target, folder, "005", run_id="back", discard_new_data=True)
    assert done["error"] is None and done["after"] == "005"
    assert [(d["table"], d["column"], d["values"], d["written_since"]) for d in done["discarded"]] == [
        ("nonce", None, 3, 3)]
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM nonce").scalar_one() == 0
        assert [c["name"] for c in sa.inspect(conn).get_columns("nonce")] == ["nonce"]
    target.dispose()


def test_rollback_that_drops_a_table_its_migration_did_not_create_names_it_as_older_than_the_migration(nonce_rows):
    """vaultwarden's add_state_to_sso_nonce: the migration adds a column, its rollback drops the
    table and creates it anew. The table existed before the migration (005 created it, the
    application wrote 2 rows), so its rows are not "written after the migration": the refusal
    names the table as one that existed before it, with every row it holds, and
    --discard-new-data alone does not drop them; --discard-old-rows does, and says so. Nothing
    changed until then."""
    url, folder = nonce_rows
    (folder / "006_add_state.sql").write_text("ALTER TABLE nonce ADD COLUMN state TEXT;\n")
    (folder / "rollbacks/006_rollback_add_state.sql").write_text(RESET_NONCE_ROLLBACK)
    target = open_target(url)
    assert migrate(target, folder, run_id="state").passed
    run_sql(url, "INSERT INTO nonce VALUES ('n3', 's3')")
    at_006 = db_state(url)
    named = (r"refusing to roll back: it would drop 3 row\(s\) of tables that existed before their migration, rows "
             r"from before the migration and rows written since alike \(006_add_state: table nonce holds 3 rows and "
             r"existed before the migration \(it did not create it\)\); pass --discard-old-rows "
             r"\(notebook: discard_old_rows = True\) to drop them. Nothing was rolled back$")
    for discard_new_data in (False, True):
        with pytest.raises(BadInput, match=named) as refused:
            rollback.rollback_to(target, folder, "005", run_id="back", discard_new_data=discard_new_data)
        assert "written after the migration" not in str(refused.value)
    assert db_state(url) == at_006
    done = rollback.rollback_to(target, folder, "005", run_id="back", discard_old_rows=True)
    assert done["error"] is None and done["after"] == "005"
    assert [(d["table"], d["kind"], d["values"], d["at_commit"], d["written_since"]) for d in done["discarded"]] == [
        ("nonce", "existed before", 3, None, None)]
    target.dispose()


def test_rollback_names_values_written_since_and_tables_older_than_the_migration_each_with_its_flag(nonce_rows):
    """One rollback that drops a column the migration added (holding a value the application
    wrote since) and a table the migration did not create, re-created as it was before (its
    schema comes back, its rows do not): both are named, each with its flag, and each flag lets
    through only its own kind of loss."""
    url, folder = nonce_rows
    (folder / "006_add_state.sql").write_text("ALTER TABLE nonce ADD COLUMN state TEXT;\n"
                                              "ALTER TABLE admin_users ADD COLUMN note TEXT;\n")
    (folder / "rollbacks/006_rollback_add_state.sql").write_text("ALTER TABLE admin_users DROP COLUMN note;\n"
                                                                 "DROP TABLE nonce;\n" + NONCE)  # as at 005
    target = open_target(url)
    assert migrate(target, folder, run_id="state").passed
    run_sql(url, "UPDATE admin_users SET note = 'x' WHERE id = 1")
    at_006 = db_state(url)
    values = r"drop 1 value\(s\) written after the migration \(006_add_state: admin_users.note holds 1 values"
    old = r"drop 2 row\(s\) of tables that existed before their migration"
    with pytest.raises(BadInput, match=values + ".*; and it would " + old):
        rollback.rollback_to(target, folder, "005", run_id="back")
    with pytest.raises(BadInput, match=old) as refused:
        rollback.rollback_to(target, folder, "005", run_id="back", discard_new_data=True)
    assert "--discard-new-data" not in str(refused.value)
    with pytest.raises(BadInput, match=values) as refused:
        rollback.rollback_to(target, folder, "005", run_id="back", discard_old_rows=True)
    assert "--discard-old-rows" not in str(refused.value)
    assert db_state(url) == at_006
    done = rollback.rollback_to(target, folder, "005", run_id="back", discard_new_data=True, discard_old_rows=True)
    assert done["error"] is None and done["after"] == "005"
    assert sorted((d["table"], d["column"], d["kind"], d["values"]) for d in done["discarded"]) == [
        ("admin_users", "note", "written since", 1), ("nonce", None, "existed before", 2)]
    target.dispose()


def test_rollback_of_columns_holding_only_defaults_is_not_refused(at_004, migrations_dir):
    """001 adds columns whose values are their defaults (or NULL): nothing written, nothing refused."""
    target = open_target(at_004)
    done = rollback.rollback_to(target, migrations_dir, "000", run_id="back")
    assert done["error"] is None and done["discarded"] == [] and done["after"] == "000"


def test_on_the_target_columns_added_only_are_not_counted_and_a_backfill_is(db_url, tmp_path):
    """The live target's check counts and compares only tables whose rows a statement may change:
    a migration that only adds columns and indexes (001) is not counted inside its write lock
    (the engine keeps every row), in the rehearsal either (its verify compares every table with
    the backup after the last migration); a backfill is compared."""
    target = open_target(db_url)
    result = migrate(target, MIGRATIONS, to="001")
    assert result.passed, result.error
    (t,) = result.migrations[-1].data["tables"]
    assert t["table"] == "contractors" and t["rows_before"] is None and t["rows_after"] is None
    assert (t["added"], t["removed"]) == (0, 0) and t["compared"].startswith("columns added or dropped only")
    assert "rows kept by the engine" in effects.summary(result.migrations[-1].data)
    record = backup.take(target, tmp_path / "backups")
    folder = folder_with(tmp_path, {"005_email_lower.sql": BACKFILL,
                                    "rollbacks/005_rollback_email_lower.sql": BACKFILL_ROLLBACK})
    rehearsed = rehearsal.rehearse(target, record, folder, run_id="rehearse-counted")
    assert rehearsed["passed"], rehearsed["error"]
    full = rehearsed["data"]["002_enhance_partner_table"]["tables"]
    assert full and all(x["rows_before"] is None and x["compared"].startswith("columns added or dropped only")
                        for x in full)
    assert rehearsed["verify"]["passed"] and not rehearsed["verify"]["failed"]
    result = migrate(target, folder, run_id="backfill-counted")
    assert result.passed, result.error
    (t,) = result.migrations[-1].data["tables"]
    assert t["compared"] == "content" and t["rows_before"] == t["rows_after"] and t["rows_before"] > 0


@pytest.mark.postgres
def test_a_data_migration_on_a_table_outside_public_is_watched_and_passes(pg_url, tmp_path):
    """``UPDATE billing.invoices``: the migration's data check watches that table (not one named
    ``invoices`` in ``public``, nor none), the rehearsal and verify compare it as declared."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, "CREATE SCHEMA billing", "CREATE TABLE billing.invoices (id int PRIMARY KEY, amount int)",
            "INSERT INTO billing.invoices VALUES (1, 10), (2, 20), (3, NULL)",
            "CREATE TABLE invoices (id int PRIMARY KEY, amount int)", "INSERT INTO invoices VALUES (1, 10)")
    folder = folder_with(tmp_path, {"005_cents.sql": "UPDATE invoices SET amount = amount * 100;\n",
                                    "005_cents.postgresql.sql": "UPDATE billing.invoices SET amount = amount * 100;\n"})
    target = open_target(pg_url)
    before = inventory.take(target, folder)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-cents")
    assert rehearsed["passed"], rehearsed["error"]
    (t,) = rehearsed["data"]["005_cents"]["tables"]
    assert (t["table"], t["changed_columns"], t["added"], t["removed"]) == ("billing.invoices", {"amount": 2}, 0, 0)
    result = migrate(target, folder, run_id="cents")
    assert result.passed, result.error
    assert [t["table"] for t in result.migrations[-1].data["tables"]] == ["billing.invoices"]
    checked = verify(target, folder, before)
    assert failed(checked) == {}
    content = next(c for c in checked["checks"] if c["check"] == "content: billing.invoices")
    assert "changed as declared" in content["detail"] and "005_cents" in content["detail"]
    assert next(c for c in checked["checks"] if c["check"] == "content: invoices")["detail"].endswith("unchanged")
    target.dispose()


@pytest.mark.postgres
def test_rollback_refuses_to_drop_values_written_in_a_table_outside_public(pg_url, tmp_path):
    """The rollback's count of values written since the migration reads ``billing.invoices``
    there (a column it would drop), not nowhere."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, "CREATE SCHEMA billing", "CREATE TABLE billing.invoices (id int PRIMARY KEY, amount int)",
            "INSERT INTO billing.invoices VALUES (1, 10), (2, 20)")
    folder = folder_with(tmp_path, {"005_note.sql": "SELECT 1;\n",
                                    "005_note.postgresql.sql": "ALTER TABLE billing.invoices ADD COLUMN note text;\n",
                                    "rollbacks/005_rollback_note.sql": "SELECT 1;\n",
                                    "rollbacks/005_rollback_note.postgresql.sql":
                                        "ALTER TABLE billing.invoices DROP COLUMN note;\n"})
    target = open_target(pg_url)
    assert migrate(target, folder, run_id="note").passed
    run_sql(pg_url, "UPDATE billing.invoices SET note = 'paid' WHERE id = 1")
    at_005 = db_state(pg_url)
    with pytest.raises(BadInput, match=r"drop 1 value\(s\) written after the migration .*billing.invoices.note"):
        rollback.rollback_to(target, folder, "004", run_id="back")
    assert db_state(pg_url) == at_005
    target.dispose()


@pytest.mark.postgres
def test_a_migration_that_sets_search_path_is_recorded_watched_and_rolled_back(pg_url, tmp_path):
    """``SET search_path TO billing`` then unqualified names (a common way to write a schema's
    migrations): the data check declares ``billing.invoices`` (not ``invoices`` in ``public``,
    which also exists), a table moved with ``SET SCHEMA`` keeps its rows, and the runbook's own
    statements after the migration (its history row, its event) still find its tables. Before,
    the history insert failed ("schema_history" does not exist) and the rollback refused to
    remove the row the migration itself had added."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, "CREATE SCHEMA billing", "CREATE TABLE billing.invoices (id int PRIMARY KEY, amount int)",
            "INSERT INTO billing.invoices VALUES (1, 10)",
            "CREATE TABLE invoices (id int PRIMARY KEY, amount int)", "INSERT INTO invoices VALUES (1, 10)")
    body = ("SET search_path TO billing;\nINSERT INTO invoices VALUES (2, 20);\n"
            "UPDATE invoices SET amount = amount * 100 WHERE id = 2;\n"
            "CREATE TABLE drafts (id int PRIMARY KEY);\nINSERT INTO drafts VALUES (1);\n"
            "ALTER TABLE drafts SET SCHEMA public;\n")
    back = "DELETE FROM billing.invoices WHERE id = 2;\nDROP TABLE public.drafts;\n"
    folder = folder_with(tmp_path, {"005_cents.sql": "SELECT 1;\n", "005_cents.postgresql.sql": body,
                                    "rollbacks/005_rollback_cents.sql": "SELECT 1;\n",
                                    "rollbacks/005_rollback_cents.postgresql.sql": back})
    target = open_target(pg_url)
    at_004 = db_state(pg_url)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-cents")
    assert rehearsed["passed"], rehearsed["error"]
    (t,) = rehearsed["data"]["005_cents"]["tables"]
    assert (t["table"], t["added"], t["removed"]) == ("billing.invoices", 1, 0)
    result = migrate(target, folder, run_id="cents")
    assert result.passed, result.error
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT max(version) FROM schema_history").scalar() == "005"
        assert conn.exec_driver_sql("SELECT count(*) FROM public.drafts").scalar() == 1
        assert conn.exec_driver_sql("SELECT amount FROM public.invoices").scalar() == 10
    rollback.rollback_to(target, folder, "004", run_id="back")
    assert db_state(pg_url) == at_004
    target.dispose()


@pytest.mark.postgres
def test_a_pg_dump_baseline_that_empties_search_path_migrates(pg_url, tmp_path):
    """``pg_dump --schema-only`` output as the 000 baseline (the usual way to adopt a database)
    begins with ``set_config('search_path', '', false)`` and qualifies every name. The runbook's
    own statements after it (the data check's counts, the history row) still find their tables,
    and the next migration's unqualified names are ``public``'s. Before, it failed: "relation ...
    does not exist"."""
    dump = ("SELECT pg_catalog.set_config('search_path', '', false);\n"
            "CREATE TABLE public.actor (actor_id integer PRIMARY KEY, name text NOT NULL);\n"
            "INSERT INTO public.actor VALUES (1, 'PENELOPE');\n")
    folder = tmp_path / "migrations"
    (folder / "rollbacks").mkdir(parents=True)
    (folder / "000_baseline.sql").write_text("-- Risk Level: LOW\n" + dump)
    (folder / "001_lower.sql").write_text("-- Risk Level: HIGH\nALTER TABLE actor ADD COLUMN lower_name text;\n"
                                          "UPDATE actor SET lower_name = lower(name);\n")
    target = open_target(pg_url)
    result = migrate(target, folder, run_id="dump", dialect="postgresql")
    assert result.passed, result.error
    (t,) = result.migrations[-1].data["tables"]
    assert t["table"] == "actor"
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT lower_name FROM actor").scalar() == "penelope"
        assert conn.exec_driver_sql("SELECT count(*) FROM schema_history").scalar() == 2
    target.dispose()


# a migration whose backfill runs where the parser cannot see it (mattermost's 070: the column is
# added and filled inside a DO block); its rollback drops the column
OPAQUE_BACKFILLS = {
    "DO block": """DO $$
<< lower_emails >>
DECLARE
  column_exists boolean := FALSE;
BEGIN
  SELECT count(*) != 0 INTO column_exists FROM information_schema.columns
   WHERE table_name = 'contractors' AND table_schema = current_schema() AND column_name = 'email_lower';
  IF NOT column_exists THEN
    ALTER TABLE contractors ADD COLUMN email_lower text;
    EXECUTE 'UPDATE contractors SET email_lower = lower(email)';
  END IF;
END lower_emails
$$;
""",
    "function call": """ALTER TABLE contractors ADD COLUMN email_lower text;
CREATE FUNCTION fill_email_lower() RETURNS void LANGUAGE plpgsql AS $$
BEGIN UPDATE contractors SET email_lower = lower(email); END $$;
SELECT fill_email_lower();
DROP FUNCTION fill_email_lower();
""",
    "CALL": """CREATE PROCEDURE add_email_lower() LANGUAGE plpgsql AS $$
BEGIN
  ALTER TABLE contractors ADD COLUMN email_lower text;
  UPDATE contractors SET email_lower = lower(email);
END $$;
CALL add_email_lower();
DROP PROCEDURE add_email_lower();
""",
}


@pytest.mark.postgres
def test_a_table_written_inside_a_function_is_declared_in_the_header(pg_url, tmp_path):
    """A function the migration calls also upper-cases ``strategic_partners``, a table its text
    never names. Its header declares it (``-- Writes: strategic_partners``): the rehearsal's
    verify on the copy takes that change as declared, and verify on the live target does not
    report it as the application's writes; its transaction's write counters saw it
    (``unwatched_writes``). Before, such a migration could not pass its rehearsal."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    body = OPAQUE_BACKFILLS["function call"].replace(
        "UPDATE contractors SET email_lower = lower(email);",
        "UPDATE contractors SET email_lower = lower(email); UPDATE strategic_partners SET company_name = upper(company_name);")
    folder = folder_with(tmp_path, {"005_email_lower.sql": "SELECT 1;\n", "005_email_lower.postgresql.sql":
                                    "-- Writes: strategic_partners (fill_email_lower)\n" + body})
    target = open_target(pg_url)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    before = inventory.take(target, folder)
    record = backup.take(target, tmp_path / "backups", run_dir=run_dir)
    rehearsed = rehearsal.rehearse(target, record, folder, run_id="rehearse-opaque")
    assert rehearsed["passed"], rehearsed["error"]
    result = migrate(target, folder, run_id="opaque")
    assert result.passed and result.migrations[-1].data["unwatched_writes"] == ["strategic_partners"]
    checked = verify(target, folder, before, run_dir=run_dir)
    assert failed(checked) == {}
    checks = {c["check"]: c for c in checked["checks"]}
    assert "005_email_lower: its header declares it writes strategic_partners" in \
        checks["content: strategic_partners"]["detail"]
    assert checks["concurrent writes since the inventory"]["tables"] == []
    target.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("how", sorted(OPAQUE_BACKFILLS))
def test_rollback_knows_the_values_a_statement_the_parser_cannot_read_wrote(pg_url, tmp_path, how):
    """The migration's own backfill, run by a DO block, a function or a procedure, is measured in
    its transaction (the engine's catalog and write counters), so its rollback's pre-check names
    only the application's values: exactly 2, not the migration's 11 with them."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    folder = folder_with(tmp_path, {"005_email_lower.sql": "SELECT 1;\n",
                                    "005_email_lower.postgresql.sql": OPAQUE_BACKFILLS[how],
                                    "rollbacks/005_rollback_email_lower.sql": "SELECT 1;\n",
                                    "rollbacks/005_rollback_email_lower.postgresql.sql": BACKFILL_ROLLBACK})
    target = open_target(pg_url)
    result = migrate(target, folder, run_id="opaque")
    assert result.passed, result.error
    data = result.migrations[-1].data
    assert [t["new_columns"] for t in data["tables"] if t["now"] == "contractors"] == [{"email_lower": 11}]
    run_sql(pg_url, *[f"INSERT INTO contractors (name, email, email_lower) VALUES ('New {i}', 'n{i}@x.example', "
                      f"'n{i}@x.example')" for i in range(2)])
    at_005 = db_state(pg_url)
    named = (r"drop 2 value\(s\) written after the migration \(005_email_lower: contractors.email_lower holds 13 "
             r"values \(11 written by the migrations, so 2 written since\)\)")
    with pytest.raises(BadInput, match=named):
        rollback.rollback_to(target, folder, "004", run_id="back", written={"005": data})
    with pytest.raises(BadInput, match=named):
        rollback.rollback_to(target, folder, "004", run_id="back")  # a later run: the event log's counts
    assert db_state(pg_url) == at_005
    done = rollback.rollback_to(target, folder, "004", run_id="back", discard_new_data=True)
    assert done["error"] is None and done["after"] == "004"
    assert [(d["column"], d["values"], d["written_since"]) for d in done["discarded"]] == [("email_lower", 13, 2)]
    target.dispose()


@pytest.mark.postgres
def test_a_do_blocks_statements_are_declared_and_checked_like_any_other(pg_url, tmp_path):
    """The statements a DO block runs as written are read by PostgreSQL's PL/pgSQL parser and
    declared: the rehearsal (whose verify fails on a change nobody declares) passes, the
    migration's transaction compares contractors by content, verify says it changed as declared.
    SQL it runs through EXECUTE stays unread: the rehearsal fails on what it changed (nobody
    declares it and nobody else writes there), saying the migration's transaction wrote it and
    how to declare it; on the target the migration passes, its record lists the table it wrote
    (the engine's write counters), and verify calls that change the migration's."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    script = ("DO $$ BEGIN UPDATE contractors SET name = upper(name); "
              "EXECUTE 'UPDATE admin_users SET full_name = upper(full_name)'; END $$;\n")
    folder = folder_with(tmp_path, {"005_upper.sql": "SELECT 1;\n", "005_upper.postgresql.sql": script})
    target = open_target(pg_url)
    before = inventory.take(target, folder)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-upper")
    assert "content: contractors" not in rehearsed["error"]  # declared; EXECUTE's change to admin_users is not:
    assert not rehearsed["passed"] and "content: admin_users" in rehearsed["error"]  # no one else writes there
    (bad,) = rehearsed["verify"]["failed"]
    assert "005_upper's transaction wrote admin_users" in bad["detail"] and "-- Writes: admin_users" in bad["detail"]
    result = migrate(target, folder, run_id="upper")
    assert result.passed, result.error
    data = result.migrations[-1].data
    (t,) = data["tables"]
    assert (t["table"], t["compared"], t["changed_columns"]) == ("contractors", "content", {"name": 11})
    assert data["unwatched_writes"] == ["admin_users"]
    assert data["notes"] == ["statement 1 (line 1) is a DO block that also runs SQL the parser cannot read "
                             "(EXECUTE, CALL): what that changes is undeclared"]
    checked = verify(target, folder, before)
    content = next(c for c in checked["checks"] if c["check"] == "content: contractors")
    assert content["passed"] and "changed as declared" in content["detail"]
    admin = next(c for c in checked["checks"] if c["check"] == "content: admin_users")
    assert admin["passed"] and "005_upper's transaction wrote admin_users" in admin["detail"]
    target.dispose()


# -- what the engine's triggers add to an UPDATE ------------------------------------------------
TOUCH = ("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at = now(); "
         "RETURN NEW; END $$")


@pytest.mark.postgres
def test_an_update_of_a_table_whose_trigger_sets_updated_at_declares_that_column(pg_url, tmp_path):
    """Harbor's ``update_time`` trigger (BEFORE UPDATE, ``NEW.update_time = NOW()``): a migration's
    ``UPDATE`` of the table changes that column too, and an audit trigger (AFTER UPDATE) inserts a
    row per update elsewhere. The rehearsal and the migration's check refused them ("no statement
    sets it", "an undeclared change"); the engine's triggers declare them. A column the triggers do
    not set, changed by code the statements do not declare, still fails, and changes nothing."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, "CREATE TABLE jobs (id int PRIMARY KEY, status text, note text, "
                    "updated_at timestamptz DEFAULT '2020-01-01')",
            "INSERT INTO jobs (id, status) VALUES (1, 'queued'), (2, 'queued'), (3, 'done')", TOUCH,
            "CREATE TRIGGER jobs_touch BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION touch()",
            "CREATE TABLE job_audit (job int, status text)",
            "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO job_audit VALUES (NEW.id, NEW.status); RETURN NULL; END $$",
            "CREATE TRIGGER jobs_audit AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION audit()",
            "CREATE FUNCTION sneak() RETURNS void LANGUAGE sql AS $$ UPDATE jobs SET note = 'x' WHERE id = 3 $$")
    folder = folder_with(tmp_path, {"005_retry.sql": "SELECT 1;\n",
                                    "005_retry.postgresql.sql": "UPDATE jobs SET status = 'retry' WHERE status = 'queued';\n"})
    target = open_target(pg_url)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-retry")
    assert rehearsed["passed"], rehearsed["error"]
    tables = {t["table"]: t for t in rehearsed["data"]["005_retry"]["tables"]}
    assert tables["jobs"]["changed_columns"] == {"status": 2, "updated_at": 2}, tables
    assert (tables["job_audit"]["added"], tables["job_audit"]["compared"]) == (2, "count"), tables  # not copied
    before = inventory.take(target, folder)
    result = migrate(target, folder, run_id="retry")
    assert result.passed, result.error
    assert failed(verify(target, folder, before)) == {}

    (folder / "006_sneak.sql").write_text("SELECT 1;\n")
    (folder / "006_sneak.postgresql.sql").write_text("UPDATE jobs SET status = 'again' WHERE id = 1;\nSELECT sneak();\n")
    (folder / "rollbacks" / "006_rollback_sneak.sql").write_text("SELECT 1;\n")
    at_005 = db_state(pg_url)
    failed_run = migrate(target, folder, run_id="sneak")
    assert not failed_run.passed and "jobs: column note changed in 1 rows, and no statement sets it" in (failed_run.error or ""), \
        failed_run.error
    assert db_state(pg_url) == at_005
    target.dispose()


@pytest.mark.parametrize("body, columns", [
    ("BEGIN NEW.updated_at = now(); RETURN NEW; END", {"updated_at"}),
    ('BEGIN IF NEW.a IS NULL THEN NEW."Mixed" := 1; END IF; SELECT now() INTO NEW.t; RETURN NEW; END', {"Mixed", "t"}),
    ("BEGIN INSERT INTO audit VALUES (NEW.id); RETURN NEW; END", set()),  # another table's rows: not this one's
    ("BEGIN IF NEW.a = OLD.a THEN RETURN NULL; END IF; RETURN NEW; END", set()),
    ("BEGIN NEW := OLD; RETURN NEW; END", None),  # the whole row
    ("DECLARE r record; BEGIN r := NEW; RETURN r; END", None),  # may hand back a row of its own
    ("BEGIN RETURN jsonb_populate_record(NEW, '{}'); END", None),
    ("BEGIN EXECUTE 'SELECT 1' INTO NEW; RETURN NEW; END", None),
])
def test_the_columns_a_trigger_function_sets_are_read_by_the_plpgsql_parser(body, columns):
    from runbook.pgtext import new_fields_set

    assert new_fields_set(body) == columns


def test_what_sqlite_triggers_run_is_declared_by_the_statements_that_fire_them(sqlite_url, tmp_path):
    """SQLite's ``updated_at`` trigger updates its own table after each update (triggers cannot
    change ``NEW`` there), an audit trigger inserts a row elsewhere, and an insert into a third
    table fires a trigger that sets a note: the statements in the triggers' bodies are declared as
    the migration's own, on the rehearsal (its verify of the copy included) and on the target.
    Before, each was "no statement sets it"."""
    assert migrate(open_target(sqlite_url), MIGRATIONS).passed
    run_sql(sqlite_url, "CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT, note TEXT, updated_at TEXT DEFAULT 'then')",
            "INSERT INTO jobs (id, status) VALUES (1, 'queued'), (2, 'queued'), (3, 'done')",
            "CREATE TABLE job_audit (job INTEGER, status TEXT)", "CREATE TABLE pings (id INTEGER PRIMARY KEY)",
            "CREATE TRIGGER jobs_touch AFTER UPDATE OF status ON jobs BEGIN "
            "UPDATE jobs SET updated_at = 'now' WHERE id = NEW.id; END",
            "CREATE TRIGGER jobs_audit AFTER UPDATE ON jobs BEGIN INSERT INTO job_audit VALUES (NEW.id, NEW.status); END",
            "CREATE TRIGGER pings_note AFTER INSERT ON pings BEGIN UPDATE jobs SET note = 'x' WHERE id = 3; END")
    folder = folder_with(tmp_path, {"005_retry.sql": "UPDATE jobs SET status = 'retry' WHERE status = 'queued';\n"
                                                     "INSERT INTO pings VALUES (1);\n"})
    target = open_target(sqlite_url)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-retry")
    assert rehearsed["passed"], rehearsed["error"]
    tables = {t["table"]: t for t in rehearsed["data"]["005_retry"]["tables"]}
    assert tables["jobs"]["changed_columns"] == {"status": 2, "updated_at": 2, "note": 1}, tables["jobs"]
    assert (tables["job_audit"]["added"], tables["pings"]["added"]) == (5, 1), tables  # each UPDATE of jobs, its triggers' too
    result = migrate(target, folder, run_id="retry")
    assert result.passed, result.error
    target.dispose()


@pytest.mark.postgres
def test_a_type_the_migration_drops_with_the_column_that_used_it_is_not_held_by_the_check(pg_url, tmp_path):
    """trigger.dev's Prisma migration 028: a column of an enum type is dropped, then the type.
    The rehearsal's check copied the table (its columns dropped are compared) with the enum
    column as it was, so the copy depended on the type and ``DROP TYPE`` failed: "other objects
    depend on it". The copy holds such values as their text; the migration passes, the values
    the key column's type held are still compared."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, "CREATE TYPE run_state AS ENUM ('queued', 'done')", "CREATE DOMAIN code AS text",
            "CREATE TABLE runs (id code PRIMARY KEY, state run_state, note text)",
            "INSERT INTO runs VALUES ('a', 'queued', 'x'), ('b', 'done', 'y')")
    folder = folder_with(tmp_path, {"005_drop_state.sql": "SELECT 1;\n",
                                    "005_drop_state.postgresql.sql": "-- Risk Level: MEDIUM\n"
                                    "ALTER TABLE runs DROP COLUMN state;\nDROP TYPE run_state;\n"
                                    "UPDATE runs SET note = 'z' WHERE id = 'b';\n"})
    target = open_target(pg_url)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-drop")
    assert rehearsed["passed"], rehearsed["error"]
    (t,) = rehearsed["data"]["005_drop_state"]["tables"]
    assert (t["table"], t["compared"], t["changed_columns"], t["added"], t["removed"]) == \
        ("runs", "content", {"note": 1}, 0, 0), t
    result = migrate(target, folder, run_id="drop", data_checks="full")
    assert result.passed, result.error
    target.dispose()


def rehearsed_pg_migration(pg_url: str, tmp_path: Path, name: str, body: str) -> tuple:
    """A PostgreSQL-only migration 005 (a no-op rollback) on the demo at 004 plus what the test
    made: (target, folder, the rehearsal's data check of it), the rehearsal passed."""
    folder = folder_with(tmp_path, {f"005_{name}.sql": "SELECT 1;\n", f"005_{name}.postgresql.sql": body,
                                    f"rollbacks/005_rollback_{name}.sql": "SELECT 1;\n"})
    target = open_target(pg_url)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, f"rehearse-{name}")
    assert rehearsed["passed"], rehearsed["error"]
    return target, folder, rehearsed["data"][f"005_{name}"]


def assert_an_undeclared_write_still_fails(target, folder: Path, name: str, body: str, table: str, column: str,
                                           tables: tuple[str, ...]) -> None:
    """``body`` plus a function writing ``table.column`` (2 rows) that no statement declares:
    migrate fails naming it, and ``tables`` are as they were; then ``body`` alone passes."""
    def rows() -> list:
        with target.engine().connect() as conn:
            return [conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1").all() for t in tables]

    before = rows()
    (folder / f"005_{name}.postgresql.sql").write_text(
        body + f"CREATE FUNCTION touch() RETURNS void LANGUAGE sql AS $$ UPDATE {table} SET {column} = 'z' $$;\n"
        "SELECT touch();\n")
    refused = migrate(target, folder, run_id=f"{name}-undeclared")
    assert not refused.passed and f"column {column} changed in 2 rows" in refused.error, refused.error
    assert rows() == before
    (folder / f"005_{name}.postgresql.sql").write_text(body)
    assert migrate(target, folder, run_id=name).passed


@pytest.mark.postgres
def test_an_enum_value_renamed_declares_every_column_that_holds_the_type(pg_url, tmp_path):
    """Lemmy's ``ALTER TYPE registration_mode_enum RENAME VALUE 'closed' TO 'Closed'``: the rows
    holding that value read the new label, in every column of the type, of an array of it or of a
    domain over it (the engine's catalog says which); a column of another type is not declared."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, "CREATE TYPE mode AS ENUM ('closed', 'open')", "CREATE DOMAIN site_mode AS mode",
            "CREATE TYPE other AS ENUM ('closed')",
            "CREATE TABLE sites (id int PRIMARY KEY, mode mode, modes mode[], kept site_mode, other other)",
            "INSERT INTO sites VALUES (1, 'closed', '{closed,open}', 'closed', 'closed'), (2, 'open', '{}', 'open', 'closed')")
    folder = folder_with(tmp_path, {"005_relabel.sql": "SELECT 1;\n", "005_relabel.postgresql.sql":
                                    "-- Risk Level: HIGH\nALTER TYPE mode RENAME VALUE 'closed' TO 'Closed';\n"
                                    "UPDATE sites SET other = 'closed' WHERE id = 2;\n",
                                    "rollbacks/005_rollback_relabel.sql": "SELECT 1;\n"})
    target = open_target(pg_url)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-relabel")
    assert rehearsed["passed"], rehearsed["error"]
    (t,) = rehearsed["data"]["005_relabel"]["tables"]
    assert (t["table"], t["changed_columns"]) == ("sites", {"mode": 1, "modes": 1, "kept": 1}), t
    assert "mode, modes, kept" in " ".join(t["declared"])
    # lint --db reads the tables each statement names (what it wrote is held against them): none here
    assert effects.statement_tables(["ALTER TYPE mode RENAME VALUE 'a' TO 'b'", "UPDATE sites SET id = 1"],
                                    "postgres") == [set(), {"sites"}]
    assert migrate(target, folder, run_id="relabel", data_checks="full").passed
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT mode::text, kept::text, other::text FROM sites WHERE id = 1").one() == \
            ("Closed", "Closed", "closed")
    target.dispose()


@pytest.mark.postgres
def test_columns_dropped_then_added_or_renamed_in_are_declared_under_their_names_now(pg_url, tmp_path):
    """Lemmy's 215 drops a column and adds a new one under its name (new values); its 244 copies a
    column into another with an ``UPDATE``, drops the first and renames the second to its name.
    What each statement declared follows the column to its name after the migration, and the
    check follows each column by the engine's number for it: the column added again is new, not
    the old one changed; a column no statement touched that changes is still undeclared."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, "CREATE TABLE people (id int PRIMARY KEY, score int, inbox text, shared_inbox text, bio text)",
            "INSERT INTO people VALUES (1, 5, 'a', NULL, 'x'), (2, 7, 'b', 'B', 'y')")
    body = ("-- Risk Level: HIGH\nALTER TABLE people DROP COLUMN score, ADD COLUMN score boolean DEFAULT false NOT NULL;\n"
            "UPDATE people SET shared_inbox = inbox WHERE shared_inbox IS NULL;\n"
            "ALTER TABLE people DROP COLUMN inbox;\nALTER TABLE people RENAME COLUMN shared_inbox TO inbox;\n")
    target, folder, checked = rehearsed_pg_migration(pg_url, tmp_path, "moves", body)
    (t,) = checked["tables"]
    # inbox now against shared_inbox then; score is a new column (PostgreSQL's attnum says so), holding its default
    assert (t["changed_columns"], t["new_columns"]) == ({"inbox": 1}, {"score": 0}), t
    assert_an_undeclared_write_still_fails(target, folder, "moves", body, "people", "bio", ("people",))
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT inbox, score FROM people ORDER BY id").all() == [("a", False), ("B", False)]
    target.dispose()


@pytest.mark.postgres
def test_what_foreign_key_actions_do_to_other_tables_is_the_statements_doing(pg_url, tmp_path):
    """Lemmy's 096 deletes people without a key; ``ON DELETE CASCADE`` takes their sites and, in
    turn, the sites' aggregates; ``SET NULL`` clears a column of another table, ``ON UPDATE
    CASCADE`` follows a re-keyed parent. The engine's catalog says which; a table a foreign key
    only restricts is not declared, and a change nothing declares still fails the migration."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, "CREATE TABLE person (id int PRIMARY KEY, code text UNIQUE, key text)",
            "CREATE TABLE site (id int PRIMARY KEY, creator int REFERENCES person ON DELETE CASCADE)",
            "CREATE TABLE site_stats (site int PRIMARY KEY REFERENCES site ON DELETE CASCADE, n int)",
            "CREATE TABLE post (id int PRIMARY KEY, editor int REFERENCES person ON DELETE SET NULL, "
            "author_code text REFERENCES person (code) ON UPDATE CASCADE, body text)",
            "CREATE TABLE ban (person int REFERENCES person ON DELETE RESTRICT)",
            "INSERT INTO person VALUES (1, 'a', NULL), (2, 'b', 'k'), (3, 'c', NULL)",
            "INSERT INTO site VALUES (10, 1), (20, 2)", "INSERT INTO site_stats VALUES (10, 5), (20, 6)",
            "INSERT INTO post VALUES (100, 1, 'b', 'x'), (200, 2, 'b', 'y')")
    body = ("-- Risk Level: HIGH\nDELETE FROM person WHERE key IS NULL;\n"
            "UPDATE person SET code = upper(code);\n")
    target, folder, checked = rehearsed_pg_migration(pg_url, tmp_path, "prune", body)
    tables = {t["table"]: t for t in checked["tables"]}
    assert set(tables) == {"person", "site", "site_stats", "post"}, tables  # not ban
    assert (tables["site"]["removed"], tables["site_stats"]["removed"]) == (1, 1)
    assert tables["post"]["changed_columns"] == {"editor": 1, "author_code": 2}, tables["post"]
    assert_an_undeclared_write_still_fails(target, folder, "prune", body, "post", "body", ("person", "site", "post"))
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT id, editor, author_code FROM post ORDER BY id").all() == \
            [(100, None, "B"), (200, 2, "B")]
    target.dispose()


def test_sqlite_foreign_key_actions_are_read_where_the_session_enforces_them(tmp_path):
    """SQLite enforces foreign keys only where ``PRAGMA foreign_keys`` is on (off in the runbook's
    sessions, and a migration cannot turn it on inside its transaction)."""
    from runbook.engines import ENGINES
    from runbook.engines.base import ReferentialAction

    sqlite3.connect(tmp_path / "fk.db").close()
    url = f"sqlite:///{tmp_path / 'fk.db'}"
    run_sql(url, "CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT UNIQUE)",
            "CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent ON DELETE CASCADE, "
            "c TEXT REFERENCES parent (code) ON UPDATE SET NULL, q INTEGER REFERENCES parent)")
    target = open_target(url)
    with target.engine().connect() as conn:
        assert ENGINES["sqlite"].referential_actions(conn, ["parent"]) == []
    with sa.create_engine(url).connect() as conn:  # a session of another program, which turned it on
        conn.exec_driver_sql("PRAGMA foreign_keys = ON")
        assert ENGINES["sqlite"].referential_actions(conn, ["child"]) == []
        assert sorted(ENGINES["sqlite"].referential_actions(conn, ["PARENT"])) == sorted([
            ReferentialAction("PARENT", "child", ("p",), ("id",), "cascade", "none", ("p",)),
            ReferentialAction("PARENT", "child", ("c",), ("code",), "none", "set null", ("c",)),
            ReferentialAction("PARENT", "child", ("q",), ("id",), "none", "none", ("q",))])  # for TRUNCATE ... CASCADE
    target.dispose()


@pytest.mark.postgres
def test_a_rollback_that_would_take_the_applications_rows_through_a_foreign_key_fails_and_changes_nothing(
        pg_url, tmp_path):
    """A rollback deleting the rows its migration added to a parent table: ``ON DELETE CASCADE``
    would take the rows the application wrote since into a child table, ``SET NULL`` would clear
    another's keys. The rollback fails naming each, and the database is as it was; the rows the
    migration itself added to the child go with their parent."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, "CREATE TABLE tags (id int PRIMARY KEY, name text)",
            "CREATE TABLE tagged (id serial PRIMARY KEY, tag int REFERENCES tags ON DELETE CASCADE, what text)",
            "CREATE TABLE tagged_notes (tagged int REFERENCES tagged ON DELETE CASCADE)",
            "CREATE TABLE pinned (tag int REFERENCES tags ON DELETE SET NULL, what text)")
    folder = folder_with(tmp_path, {
        "005_tags.sql": "SELECT 1;\n",
        "005_tags.postgresql.sql": "INSERT INTO tags VALUES (1, 'new');\nINSERT INTO tagged (tag, what) VALUES (1, 'seed');\n",
        "rollbacks/005_rollback_tags.sql": "SELECT 1;\n",
        "rollbacks/005_rollback_tags.postgresql.sql": "DELETE FROM tags WHERE id = 1;\n"})
    target = open_target(pg_url)
    assert migrate(target, folder, run_id="tags").passed
    run_sql(pg_url, "INSERT INTO tagged (tag, what) VALUES (1, 'app')", "INSERT INTO pinned VALUES (1, 'app')",
            "INSERT INTO tagged_notes SELECT id FROM tagged WHERE what = 'seed'")
    at_005 = db_state(pg_url)
    refused = rollback.rollback_to(target, folder, "004", run_id="back")
    assert refused["error"] and "tagged: 2 of 2 rows removed (by ON DELETE CASCADE" in refused["error"], refused["error"]
    assert "pinned: 1 rows' tag set to NULL by ON DELETE SET NULL" in refused["error"]
    assert "tagged_notes: 1 of 1 rows removed (by ON DELETE CASCADE of its foreign key (tagged)" in refused["error"]
    assert db_state(pg_url) == at_005
    run_sql(pg_url, "DELETE FROM tagged WHERE what = 'app'", "DELETE FROM pinned", "DELETE FROM tagged_notes")
    done = rollback.rollback_to(target, folder, "004", run_id="back-again")  # the migration's own row goes
    assert done["error"] is None and done["after"] == "004", done["error"]
    # TRUNCATE ... CASCADE empties every table referring to it, whatever its foreign key's action
    run_sql(pg_url, "CREATE TABLE mentions (tag int REFERENCES tags)")
    (folder / "rollbacks" / "005_rollback_tags.postgresql.sql").write_text("TRUNCATE tags CASCADE;\n")
    assert migrate(target, folder, run_id="tags-again").passed
    run_sql(pg_url, "INSERT INTO mentions VALUES (1)")
    at_005 = db_state(pg_url)
    refused = rollback.rollback_to(target, folder, "004", run_id="truncate")
    assert refused["error"] and "mentions: 1 of 1 rows removed (by TRUNCATE ... CASCADE" in refused["error"], refused["error"]
    assert db_state(pg_url) == at_005
    target.dispose()



# -- ON DELETE SET DEFAULT: a rollback must not rewrite the keys of the application's rows ------
OWNERS = ("CREATE TABLE owners (id INTEGER PRIMARY KEY, name TEXT)",
          "INSERT INTO owners VALUES (0, 'unassigned'), (7, 'old')",
          "CREATE TABLE jobs (id INTEGER PRIMARY KEY, "
          "owner INTEGER DEFAULT 0 REFERENCES owners ON DELETE SET DEFAULT, what TEXT)",
          "INSERT INTO jobs VALUES (10, 7, 'before')")
OWNERS_MIGRATION = {"005_owners.sql": "INSERT INTO owners VALUES (1, 'new');\n"
                                      "INSERT INTO jobs VALUES (1, 1, 'seed');\n",
                    "rollbacks/005_rollback_owners.sql": "DELETE FROM owners WHERE id = 1;\n"}


def enforcing_foreign_keys(url: str):
    """The target of ``url``; on SQLite its sessions enforce foreign keys (``PRAGMA foreign_keys
    = ON``, as another program's session or a build of SQLite that turns them on): there the
    engine's actions run, as they always do on PostgreSQL."""
    target = open_target(url)
    if url.startswith("sqlite"):
        sa.event.listen(target.engine(), "connect", lambda dbapi_conn, _: dbapi_conn.execute("PRAGMA foreign_keys = ON"))
    return target


def test_a_rollback_that_would_set_the_applications_keys_to_their_default_fails_and_changes_nothing(
        at_004, tmp_path):
    """A rollback deleting the owner its migration added: ``ON DELETE SET DEFAULT`` would rewrite
    the owner of the job the application wrote since to the column's default (0, the
    'unassigned' owner), a write of the application silently lost. The rollback fails naming the
    key and the action (two keys changed, the migration added one row there), the database is
    as it was, and the flags that let a rollback drop values do not let it rewrite keys (as for
    ``SET NULL``: change the rows in the script). Before, ``SET DEFAULT`` was not seen and the
    rollback passed."""
    url = at_004
    run_sql(url, *OWNERS)
    folder = folder_with(tmp_path, OWNERS_MIGRATION)
    target = enforcing_foreign_keys(url)
    assert migrate(target, folder, run_id="owners").passed
    run_sql(url, "INSERT INTO jobs VALUES (2, 1, 'app')")
    at_005 = db_state(url)
    for flags in ({}, {"discard_new_data": True, "discard_old_rows": True}):
        refused = rollback.rollback_to(target, folder, "004", run_id="back", **flags)
        assert refused["error"] and "jobs: 2 rows' owner set to its default (0) by ON DELETE SET DEFAULT of its " \
            "foreign key to owners, and the migration it rolls back added 1 row(s) there" in refused["error"], \
            refused["error"]
        assert "nothing was rolled back" in refused["error"] and refused["after"] == "005", refused["error"]
        assert db_state(url) == at_005
    target.dispose()


def test_a_rollback_whose_set_default_rewrites_only_its_migrations_rows_passes_and_says_so(at_004, tmp_path):
    """The same rollback when only the job its migration added refers to the owner it deletes:
    ``ON DELETE SET DEFAULT`` rewrites that job's owner to the default, one key changed against
    the one row the migration added there: allowed, as ``CASCADE`` may take the rows a migration
    added. The step's data check reports the key, its action and the count; the job that was
    there before keeps its owner. Before, nothing reported it."""
    url = at_004
    run_sql(url, *OWNERS)
    folder = folder_with(tmp_path, OWNERS_MIGRATION)
    target = enforcing_foreign_keys(url)
    assert migrate(target, folder, run_id="owners").passed
    done = rollback.rollback_to(target, folder, "004", run_id="back")
    assert done["error"] is None and done["after"] == "004", done["error"]
    (step,) = done["rolled_back"]
    assert [(k["table"], k["columns"], k["action"], k["parent"], k["changed"], k["migration_added"])
            for k in step["data"]["keys"]] == [("jobs", ["owner"], "ON DELETE SET DEFAULT", "owners", 1, 1)], step["data"]
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT id, owner, what FROM jobs ORDER BY id").all() == \
            [(1, 0, "seed"), (10, 7, "before")]
    target.dispose()


def test_a_rollback_that_changes_a_referenced_key_must_not_reset_the_applications_keys(at_004, tmp_path):
    """A migration renames a code and its rollback renames it back: ``ON UPDATE SET DEFAULT``
    would set the code of the item the application wrote since to the column's default, ``ON
    UPDATE SET NULL`` would clear its tag. The rollback fails naming each key and its action, and
    the database is as it was; once the application's item no longer refers to the renamed code,
    the rollback passes. Before, the rollback's data check followed no ``ON UPDATE`` action and
    the rollback passed, rewriting both keys."""
    url = at_004
    run_sql(url, "CREATE TABLE codes (id INTEGER PRIMARY KEY, code TEXT UNIQUE)", "INSERT INTO codes VALUES (1, 'none'), (2, 'b')",
            "CREATE TABLE items (id INTEGER PRIMARY KEY, "
            "code TEXT DEFAULT 'none' REFERENCES codes (code) ON UPDATE SET DEFAULT, "
            "tag TEXT REFERENCES codes (code) ON UPDATE SET NULL)")
    folder = folder_with(tmp_path, {"005_codes.sql": "UPDATE codes SET code = 'b2' WHERE code = 'b';\n",
                                    "rollbacks/005_rollback_codes.sql": "UPDATE codes SET code = 'b' WHERE code = 'b2';\n"})
    target = enforcing_foreign_keys(url)
    assert migrate(target, folder, run_id="codes").passed
    run_sql(url, "INSERT INTO items VALUES (1, 'b2', 'b2')")
    at_005 = db_state(url)
    refused = rollback.rollback_to(target, folder, "004", run_id="back")
    assert refused["error"] and "items: 1 rows' code set to its default ('none'" in refused["error"], refused["error"]
    assert "by ON UPDATE SET DEFAULT of its foreign key to codes, and the migration it rolls back added 0 row(s) " \
        "there: the keys they referred to are changed by the rollback" in refused["error"]
    assert "items: 1 rows' tag set to NULL by ON UPDATE SET NULL of its foreign key to codes" in refused["error"]
    assert db_state(url) == at_005
    run_sql(url, "UPDATE items SET code = 'none', tag = NULL")
    done = rollback.rollback_to(target, folder, "004", run_id="back-again")
    assert done["error"] is None and done["after"] == "004", done["error"]
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT code FROM codes ORDER BY code").scalars().all() == ["b", "none"]
    target.dispose()

# -- what the functions a trigger calls do; what TRUNCATE ... CASCADE empties ----------------------
ACCOUNTS = ("CREATE TABLE account (id int PRIMARY KEY, name text)",
            "CREATE TABLE account_audit (account int, what text, stamp text)",
            "CREATE TABLE account_stats (account int PRIMARY KEY, changes int)",
            "CREATE TABLE name_log (name text)",
            "INSERT INTO account VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')",
            "INSERT INTO account_stats VALUES (1, 0), (2, 0), (3, 0)",
            # a SQL function (SQL-standard body, called in turn), a PL/pgSQL one and its overload: which one a call
            # resolves to is the server's choice, so both are declared
            "CREATE FUNCTION bump(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC "
            "UPDATE account_stats SET changes = changes + 1 WHERE account = a RETURNING changes; END",
            "CREATE FUNCTION audit_row(a int, what text) RETURNS void LANGUAGE plpgsql AS $$ DECLARE n int; BEGIN "
            "n := bump(a); INSERT INTO account_audit VALUES (a, what, n::text); END $$",
            "CREATE FUNCTION audit_row(a text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN INSERT INTO name_log VALUES (a); END $$",
            "CREATE FUNCTION account_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "PERFORM audit_row(NEW.id, 'renamed'); RETURN NULL; END $$",
            "CREATE TRIGGER account_changed AFTER UPDATE ON account FOR EACH ROW EXECUTE FUNCTION account_changed()")


@pytest.mark.postgres
def test_what_the_functions_a_trigger_calls_write_is_declared_and_code_no_parser_reads_is_not(pg_url, tmp_path):
    """A trigger function's ``PERFORM audit_row(...)``: what ``audit_row`` writes (an audit row,
    and through the SQL function it calls, a counter) is the statement's doing, read from
    ``pg_proc``; ``audit_row``'s overload is declared too (name_log: nothing added). The rehearsal
    and the migration pass. A function that writes through ``EXECUTE`` is still undeclared: the
    rehearsal fails (on the target it is a write nothing watched) and the target is unchanged.
    Before, ``audit_row``'s writes were undeclared."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, *ACCOUNTS)
    folder = folder_with(tmp_path, {"005_names.sql": "SELECT 1;\n",
                                    "005_names.postgresql.sql": "UPDATE account SET name = upper(name) WHERE id < 3;\n",
                                    "rollbacks/005_rollback_names.sql": "SELECT 1;\n"})
    target = open_target(pg_url)
    rehearsed = rehearse_on_backup(target, folder, tmp_path, "rehearse-names")
    assert rehearsed["passed"], rehearsed["error"]
    tables = {t["table"]: t for t in rehearsed["data"]["005_names"]["tables"]}
    assert (tables["account_audit"]["added"], tables["account_stats"]["changed_columns"], tables["name_log"]["added"]) \
        == (2, {"changes": 2}, 0), tables
    run_sql(pg_url, "CREATE OR REPLACE FUNCTION audit_row(a text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
                    "EXECUTE 'INSERT INTO name_log VALUES ($1)' USING a; END $$",
            "CREATE OR REPLACE FUNCTION account_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "PERFORM audit_row(NEW.id, 'renamed'); PERFORM audit_row(NEW.name); RETURN NULL; END $$")
    at_004 = db_state(pg_url)
    refused = rehearse_on_backup(target, folder, tmp_path / "again", "rehearse-execute")  # its verify: nobody else writes there
    assert not refused["passed"] and "content: name_log" in refused["error"], refused["error"]
    assert db_state(pg_url) == at_004
    run_sql(pg_url, "CREATE OR REPLACE FUNCTION account_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "PERFORM audit_row(NEW.id, 'renamed'); RETURN NULL; END $$")
    result = migrate(target, folder, run_id="names", data_checks="full")
    assert result.passed, result.error
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT account, what, stamp FROM account_audit ORDER BY 1").all() == \
            [(1, "renamed", "1"), (2, "renamed", "1")]
        assert conn.exec_driver_sql("SELECT changes FROM account_stats ORDER BY account").scalars().all() == [1, 1, 0]
    target.dispose()


@pytest.mark.postgres
def test_truncate_cascade_empties_every_table_referring_to_it_whatever_its_actions(pg_url, tmp_path):
    """PostgreSQL's ``TRUNCATE tag CASCADE`` empties the tables whose foreign keys refer to tag,
    and theirs in turn, ``NO ACTION`` ones included: declared, the migration passes. Before, only
    a key with ``ON DELETE CASCADE`` was declared, and this failed."""
    assert migrate(open_target(pg_url), MIGRATIONS).passed
    run_sql(pg_url, "CREATE TABLE tag (id int PRIMARY KEY)",
            "CREATE TABLE post_tag (id int PRIMARY KEY, tag int REFERENCES tag)",
            "CREATE TABLE post_tag_vote (pt int REFERENCES post_tag ON DELETE RESTRICT, n int)",
            "CREATE TABLE other (id int PRIMARY KEY)",
            "INSERT INTO tag VALUES (1), (2)", "INSERT INTO post_tag VALUES (10, 1), (20, 2)",
            "INSERT INTO post_tag_vote VALUES (10, 1)", "INSERT INTO other VALUES (1)")
    folder = folder_with(tmp_path, {"005_tags.sql": "SELECT 1;\n", "005_tags.postgresql.sql": "TRUNCATE tag CASCADE;\n",
                                    "rollbacks/005_rollback_tags.sql": "SELECT 1;\n"})
    target = open_target(pg_url)
    result = migrate(target, folder, run_id="tags", data_checks="full")
    assert result.passed, result.error
    tables = {t["table"]: t["removed"] for t in result.migrations[-1].data["tables"]}
    assert tables == {"tag": 2, "post_tag": 2, "post_tag_vote": 1}, tables
    target.dispose()


def test_sqlite_foreign_key_actions_are_declared_where_the_session_enforces_them(tmp_path):
    """In a session that enforces foreign keys (``PRAGMA foreign_keys = ON``: another program's,
    or a build of SQLite that turns them on), a ``DELETE`` of a parent cascades to its child and
    the child's child, and sets a column of another table to NULL: declared, the check passes,
    whatever case the ``REFERENCES`` clause spells the parent in; the triggers of the tables it
    cascades to fire too. (The runbook's own sessions leave foreign keys off: there nothing
    cascades.) Before, a parent spelled otherwise than its table was not followed."""
    from runbook.engines import ENGINES

    sqlite3.connect(tmp_path / "fk.db").close()
    url = f"sqlite:///{tmp_path / 'fk.db'}"
    run_sql(url, "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
            "CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES Parent ON DELETE CASCADE)",
            "CREATE TABLE grandchild (c INTEGER REFERENCES CHILD (id) ON DELETE CASCADE, n INTEGER)",
            "CREATE TABLE note (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent ON DELETE SET NULL)",
            "CREATE TABLE lone (id INTEGER PRIMARY KEY, n INTEGER)",
            "INSERT INTO parent VALUES (1), (2)", "INSERT INTO child VALUES (10, 1), (20, 2)",
            "INSERT INTO grandchild VALUES (10, 1), (20, 2)", "INSERT INTO note VALUES (5, 1)", "INSERT INTO lone VALUES (1, 0)")
    engine = ENGINES["sqlite"]

    def check(*statements: str) -> dict:
        db = sa.create_engine(url, poolclass=sa.pool.NullPool)
        sa.event.listen(db, "connect", lambda dbapi_conn, _: dbapi_conn.execute("PRAGMA foreign_keys = ON"))
        with db.connect() as conn, conn.begin() as tx:
            watch = effects.DataWatch(engine, effects.declare([(f"s{i}", s) for i, s in enumerate(statements)],
                                                              "sqlite", names_ignore_case=True), full=True)
            watch.before(conn)
            for sql in statements:
                conn.exec_driver_sql(sql)
            report = watch.after(conn)
            tx.rollback()
        return report

    report = check("DELETE FROM parent WHERE id = 1")
    assert report["passed"], report["problems"]
    tables = {t["table"]: t for t in report["tables"]}
    assert (tables["child"]["removed"], tables["grandchild"]["removed"], tables["note"]["changed_columns"]) == \
        (1, 1, {"p": 1}), tables
    assert "lone" not in tables
    run_sql(url, "CREATE TRIGGER gone AFTER DELETE ON grandchild BEGIN UPDATE lone SET n = n + 1; END")
    report = check("DELETE FROM parent WHERE id = 2")  # the triggers of the tables it cascades to fire too
    assert report["passed"], report["problems"]
    assert {t["table"]: t["changed_columns"] for t in report["tables"]}["lone"] == {"n": 1}
    with sqlite3.connect(tmp_path / "fk.db") as conn:
        assert conn.execute("SELECT count(*) FROM child").fetchone() == (2,)  # each check rolled back
