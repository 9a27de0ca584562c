"""``runbook import`` of goose (github.com/pressly/goose) histories: its SQL files in numeric
order with their Up and Down sections read as goose's parser reads them (StatementBegin /
StatementEnd blocks, NO TRANSACTION), what goose refuses and what import cannot carry over (Go
migrations, ENVSUB) refused with nothing written, and adoption from goose's ``goose_db_version``
on SQLite and on the real PostgreSQL server. Fixtures are written here in goose's format."""

from __future__ import annotations

import shlex

import pytest

from runbook import importer, lint
from runbook import migrations as mig
from runbook.errors import BadInput
from runbook.migrate import migrate
from runbook.rollback import rollback_to
from runbook.target import open_target

from test_import import TODAY, listing, run_cli, sqlite_db
from test_import_tools import assert_both_applied_and_the_index_built
from test_project_dialect import write_folder as write

GOOSE = {
    # goose create's template, with a comment before the Up annotation (goose skips it)
    "00001_create_users.sql": """-- users of the app
-- +goose Up
-- +goose StatementBegin
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE users;
-- +goose StatementEnd
""",
    "00002_add_name.sql": "-- +goose Up\nALTER TABLE users ADD COLUMN name TEXT;\n\n"
                          "-- +goose Down\nALTER TABLE users DROP COLUMN name;\n",
    # a trigger goose sends as one statement: its block has no closing ";", which import writes
    "00010_audit.sql": """-- +goose up
CREATE TABLE audit (id INTEGER PRIMARY KEY, email TEXT);
-- +goose statementbegin
CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
    INSERT INTO audit (email) VALUES (NEW.email);
END
-- +goose statementend
-- +goose down
DROP TRIGGER users_audit;
DROP TABLE audit;
""",
    "20240101120000_noop.sql": "-- +goose Up\nSELECT 1;\n-- +goose Down\n",  # an empty Down: a no-op rollback
    "20240202120000_index.sql": "-- +goose Up\nCREATE INDEX users_email ON users (email);\n",  # no Down
    "main.go": "package main\n",  # goose leaves .go files without a version alone
    "00003_helpers_test.go": "package migrations\n",
    "README.md": "goose migrations\n",
}


def test_goose_files_import_in_numeric_order_with_their_sections_and_run_on_sqlite(tmp_path):
    src = write(tmp_path / "db" / "migrations", GOOSE)
    result = importer.import_history(src, tmp_path / "migrations", today=TODAY)
    assert (result.tool, result.dialect) == ("goose", "sqlite")
    assert [(m["version"], m["name"], m["source_version"], m["rollback"]) for m in result.migrations] == [
        ("001", "create_users", "1", "written"), ("002", "add_name", "2", "written"), ("003", "audit", "10", "written"),
        ("004", "noop", "20240101120000", "empty"), ("005", "index", "20240202120000", None)]
    out = tmp_path / "migrations"
    assert listing(out) == ["001_create_users.sql", "002_add_name.sql", "003_audit.sql", "004_noop.sql",
                            "005_index.sql", "rollbacks", "rollbacks/001_rollback_create_users.sql",
                            "rollbacks/002_rollback_add_name.sql", "rollbacks/003_rollback_audit.sql",
                            "rollbacks/004_rollback_noop.sql"]
    first = (out / "001_create_users.sql").read_text()
    assert "-- Source: goose version 1 (00001_create_users.sql)\n" in first and "-- Date: unknown" in first
    assert first.endswith("\nCREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n\n")
    assert "-- Date: 2024-01-01\n" in (out / "004_noop.sql").read_text()
    assert (out / "003_audit.sql").read_text().endswith(
        "    INSERT INTO audit (email) VALUES (NEW.email);\nEND\n;\n")  # the block's end, as goose drew it
    assert (out / "rollbacks" / "001_rollback_create_users.sql").read_text() == "DROP TABLE users;\n"
    assert (out / "rollbacks" / "004_rollback_noop.sql").read_text() == ""
    assert not [p for p in out.rglob("*.sql") if "+goose" in p.read_text()]
    assert lint.lint(out, dialect="sqlite").exit_code == 0
    target = open_target(sqlite_db(tmp_path / "app.db"))
    assert [m.status for m in migrate(target, out).migrations] == ["applied"] * 5
    with target.engine().begin() as conn:
        conn.exec_driver_sql("INSERT INTO users (id, email) VALUES (1, 'ann@example.com')")
        assert conn.exec_driver_sql("SELECT email FROM audit").scalar_one() == "ann@example.com"  # the trigger


def test_goose_down_sections_roll_back_on_sqlite(tmp_path):
    src = write(tmp_path / "goose", {k: v for k, v in GOOSE.items() if not k.startswith("2024")})
    importer.import_history(src, tmp_path / "migrations")
    target = open_target(sqlite_db(tmp_path / "app.db"))
    assert [m.status for m in migrate(target, tmp_path / "migrations").migrations] == ["applied"] * 3
    assert rollback_to(target, tmp_path / "migrations", "001", run_id="back")["error"] is None
    with target.engine().connect() as conn:
        assert [a.version for a in mig.applied(conn)] == ["001"]
        assert conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name IN ('audit', 'users_audit') "
                                    "OR (tbl_name = 'users' AND sql LIKE '%name TEXT%')").fetchall() == []
    assert [m.status for m in migrate(target, tmp_path / "migrations").migrations] == ["applied"] * 2


def test_goose_folders_are_told_from_dbmate_golang_migrate_and_sqlx(tmp_path):
    assert importer.detect(write(tmp_path / "goose", {"1_a.sql": "-- +goose Up\nSELECT 1;\n"})) == "goose"
    assert importer.detect(write(tmp_path / "lower", {"1_a.sql": "--+goose up\nSELECT 1;\n"})) == "goose"
    assert importer.detect(write(tmp_path / "dbmate", {"1_a.sql": "-- migrate:up\nSELECT 1;\n"})) == "dbmate"
    assert importer.detect(write(tmp_path / "sqlx", {"1_a.sql": "SELECT 1;\n"})) == "sqlx"
    assert importer.detect(write(tmp_path / "gm", {"1_a.up.sql": "SELECT 1;\n"})) == "golang-migrate"
    # a Go file that is no migration (golang-migrate's and goose's embed files) is left alone by both
    embed = {"migrations.go": "package migrations\n\n//go:embed *.sql\nvar FS embed.FS\n"}
    assert importer.detect(write(tmp_path / "gm-embed", {"1_a.up.sql": "SELECT 1;\n"} | embed)) == "golang-migrate"
    assert importer.detect(write(tmp_path / "goose-embed", {"1_a.sql": "-- +goose Up\nSELECT 1;\n"} | embed)) == "goose"


# -- PostgreSQL: blocks, NO TRANSACTION, rollback -------------------------------------------------
PG_GOOSE = {
    "20240101000000_orders.sql": """-- +goose Up
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer text NOT NULL,
    total numeric NOT NULL DEFAULT 0,
    updated_at timestamptz
);

-- +goose StatementBegin
CREATE FUNCTION touch_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at()
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER orders_touch ON orders;
-- +goose StatementBegin
DROP FUNCTION touch_updated_at()
-- +goose StatementEnd
DROP TABLE orders;
""",
    "20240102000000_orders_customer.sql": """-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY orders_customer ON orders (customer);
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_total ON orders (total);

-- +goose Down
DROP INDEX CONCURRENTLY orders_customer;
DROP INDEX CONCURRENTLY IF EXISTS orders_total;
""",
}


@pytest.mark.postgres
def test_goose_plpgsql_blocks_and_no_transaction_index_migrate_and_roll_back_on_postgresql(pg_empty_url, tmp_path):
    src = write(tmp_path / "goose", PG_GOOSE)
    dest = tmp_path / "migrations"
    result = importer.import_history(src, dest, dialect="postgresql")
    assert [m["rollback"] for m in result.migrations] == ["written", "written"]
    assert "-- goose: -- +goose NO TRANSACTION: a statement the engine refuses inside a transaction runs outside one" \
        in (dest / "002_orders_customer.sql").read_text()
    assert [n for n in result.notes if n.startswith("20240102000000_orders_customer.sql: -- +goose NO TRANSACTION")]
    target = open_target(pg_empty_url)
    assert lint.lint(dest, target=target, dialect="postgresql").exit_code == 0  # each rollback replayed on the server
    assert_both_applied_and_the_index_built(pg_empty_url, dest)  # several per file, as hatchet's (one migration)
    with target.engine().begin() as conn:
        assert conn.exec_driver_sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_total'::regclass"
                                    ).scalar() is True
        conn.exec_driver_sql("INSERT INTO orders (customer) VALUES ('ann')")
        assert conn.exec_driver_sql("SELECT updated_at IS NOT NULL FROM orders").scalar_one() is True  # the trigger
    assert rollback_to(target, dest, "001", run_id="back", dialect="postgresql")["error"] is None
    with target.engine().connect() as conn:
        assert [a.version for a in mig.applied(conn)] == ["001"]
        assert conn.exec_driver_sql("SELECT to_regclass('orders_customer')").scalar() is None
    with pytest.raises(BadInput, match="1 rows .*written since"):  # the row inserted above
        rollback_to(target, dest, "none", run_id="back2", dialect="postgresql")
    done = rollback_to(target, dest, "none", run_id="back3", dialect="postgresql", discard_new_data=True)
    assert done["error"] is None
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT to_regclass('orders'), to_regprocedure('touch_updated_at()')"
                                    ).one() == (None, None)


# -- refusals: nothing written -----------------------------------------------------------------
def refused(tmp_path, files, message, **kw):
    """``import_history`` refuses a goose folder of ``files`` with ``message`` and writes nothing."""
    src = write(tmp_path / "goose", files)
    before = listing(tmp_path)
    with pytest.raises(BadInput, match=message):
        importer.import_history(src, tmp_path / "migrations", **kw)
    assert listing(tmp_path) == before


USERS = "-- +goose Up\nCREATE TABLE users (id INTEGER PRIMARY KEY);\n-- +goose Down\nDROP TABLE users;\n"


@pytest.mark.parametrize("files, tool, message", [
    ({"00002_rename_root.go": "package migrations\n\nfunc init() { goose.AddMigrationContext(up, down) }\n",
      "00003_more.go": "package migrations\n"},
     None, r"00002_rename_root.go, 00003_more.go: goose Go migration\(s\): the runbook runs SQL only.*hole.*Write what "
           r"each does as a goose SQL migration of the same version.*move the .go file out"),
    ({"00002_region.sql": "-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE ${REGION}_post (id int);\n"}, None,
     r"00002_region.sql:2: `-- \+goose ENVSUB ON`: goose replaced \$\{VAR\}.*cannot know"),
    ({"00002_down_only.sql": "-- +goose Down\nDROP TABLE users;\n"}, None,
     r"00002_down_only.sql:1: `-- \+goose Down` before `-- \+goose Up`"),
    ({"00002_no_annotations.sql": "CREATE TABLE t (id int);\n"}, "goose",
     r"00002_no_annotations.sql is not in goose's layout"),
    ({"00002_no_annotations.sql": "CREATE TABLE t (id int);\n"}, None,
     r"mixes layouts \(goose: 00001_users.sql; sqlx: 00002_no_annotations.sql\)"),
    ({"00002_no_up.sql": "-- +goose StatementEnd\n"}, None, r"00002_no_up.sql:1: `-- \+goose StatementEnd` without"),
    ({"00002_comments.sql": "-- only a comment\n-- +goose NO TRANSACTION\n"}, None,
     r"00002_comments.sql: no `-- \+goose Up` annotation"),
    ({"create_posts.sql": "-- +goose Up\nCREATE TABLE posts (id int);\n"}, "goose",
     r"create_posts.sql is not in goose's layout \(\{version\}_\{name\}.sql with -- \+goose Up / -- \+goose Down\)"),
    ({"0_init.sql": "-- +goose Up\nSELECT 1;\n"}, None, r"0_init.sql: version 0: goose takes versions from 1"),
    ({"01_again.sql": USERS}, "goose", r"two migrations with version 1: 00001_users.sql and 01_again.sql"),
    ({"00002_both.sql": "-- +goose Up\n-- migrate:up\nSELECT 1;\n"}, None,
     r"00002_both.sql: holds both dbmate's `-- migrate:` sections and goose's `-- \+goose` annotations"),
    ({"00002_b.up.sql": "SELECT 1;\n"}, None,
     r"mixes layouts \(golang-migrate: 00002_b.up.sql; goose: 00001_users.sql\)"),
    ({"00002_before.sql": "SELECT 1;\n-- +goose Up\nSELECT 2;\n"}, None,
     r"00002_before.sql:1: SQL before `-- \+goose Up`: `SELECT 1;` \(goose refuses the file too\)"),
    ({"00002_unknown.sql": "-- +goose Up\n-- +goose Statement Begin\nSELECT 1;\n"}, None,
     r"00002_unknown.sql:2: `-- \+goose Statement Begin`, not an annotation goose knows"),
    ({"00002_indented.sql": "-- +goose Up\n  -- +goose StatementBegin\nSELECT 1;\n"}, None,
     r"00002_indented.sql:2: an indented annotation"),
    ({"00002_open.sql": "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE t (id int);\n"}, None,
     r"00002_open.sql:3: `-- \+goose StatementBegin` without its `-- \+goose StatementEnd`"),
    ({"00002_twice.sql": "-- +goose Up\nSELECT 1;\n-- +goose Up\nSELECT 2;\n"}, None,
     r"00002_twice.sql:3: a second `-- \+goose Up`"),
    ({"00002_semicolon.sql": "-- +goose Up\nCREATE TABLE t (\n  id int\n)\n-- +goose Down\nDROP TABLE t;\n"}, None,
     r"00002_semicolon.sql:5: the up section ends inside a statement, `CREATE TABLE t \(`: missing its `;`\?"),
])
def test_goose_folders_goose_or_import_cannot_take_are_refused_with_nothing_written(tmp_path, files, tool, message):
    refused(tmp_path, {"00001_users.sql": USERS} | files, message, tool=tool)


@pytest.mark.parametrize("text, message", [
    ("-- +goose NO TRANSACTION\n-- +goose Up\nUPDATE users SET id = id;\nCREATE INDEX CONCURRENTLY t_id ON users (id);\n",
     r"00002_t.sql: -- \+goose NO TRANSACTION, and CREATE \.\.\. cannot run inside a transaction.*goose ran its "
     r"statements one by one outside a transaction, the runbook cannot; split it"),
    ("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n-- +goose Down\n"
     "DROP INDEX CONCURRENTLY t_id;\nDROP TABLE x;\n",
     r"00002_t.sql: -- \+goose NO TRANSACTION, and DROP \.\.\. cannot run inside a transaction.*goose ran its "
     r"statements one by one"),
    ("-- +goose Up\nUPDATE users SET id = id;\nCREATE INDEX CONCURRENTLY t_id ON users (id);\n",
     r"00002_t.sql: CREATE \.\.\. cannot run inside a transaction.*goose ran the file's statements in one transaction "
     r"\(no `-- \+goose NO TRANSACTION`\), which postgresql refuses"),
])
def test_a_concurrent_statement_beside_others_in_a_goose_file_is_refused(tmp_path, text, message):
    refused(tmp_path, {"00001_users.sql": USERS, "00002_t.sql": text}, message, dialect="postgresql")


# -- adoption: goose_db_version ----------------------------------------------------------------------
#: goose's own table on SQLite (its sqlite3 dialect), and its rows: the first one (version 0) it
#: writes when it creates the table; then 1, 2 and 3 applied, and 3 rolled back by an older goose
GOOSE_TABLE_SQLITE = ("CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                      "version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, "
                      "tstamp TIMESTAMP DEFAULT (datetime('now')))")
GOOSE_ROWS = [(0, True), (1, True), (2, True), (3, True), (3, False)]
ADOPT = {
    "00001_users.sql": USERS,
    "00002_add_name.sql": "-- +goose Up\nALTER TABLE users ADD COLUMN name TEXT;\n",
    "00003_add_age.sql": "-- +goose Up\nALTER TABLE users ADD COLUMN age INTEGER;\n",
}


def goose_rows(rows: list[tuple[int, bool]]) -> list[str]:
    return [f"INSERT INTO goose_db_version (version_id, is_applied) VALUES ({v}, {int(a)})" for v, a in rows]


def test_goose_database_is_adopted_from_the_latest_row_of_each_version(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "goose", ADOPT)
    url = sqlite_db(tmp_path / "app.db", "CREATE TABLE users (id INTEGER PRIMARY KEY)",
                    "ALTER TABLE users ADD COLUMN name TEXT", GOOSE_TABLE_SQLITE, *goose_rows(GOOSE_ROWS))
    doc = run_cli(capsys, "import", "goose", "--migrations", "migrations", "--db", url)
    assert doc["adopt"] == {"pending": [], "notes": [], "table": "goose_db_version", "applied": ["1", "2"], "last": "2", "command":
                            f"runbook baseline --db {url} --migrations migrations --dialect sqlite --version 002"}
    run_cli(capsys, *shlex.split(doc["adopt"]["command"])[1:])
    target = open_target(url)
    assert [(m.version, m.status) for m in migrate(target, "migrations").migrations] == [("003", "applied")]
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM goose_db_version").scalar() == 5  # read only


@pytest.mark.parametrize("rows, applied, message", [
    ([(0, True)], [], None),
    ([(0, True), (1, True), (2, True), (2, False), (2, True)], ["1", "2"], None),  # rolled back, applied again
    ([(0, True), (2, True)], None, "goose_db_version records versions applied out of order: 1 is not applied"),
    ([(0, True), (1, True), (4, True)], None, "goose_db_version records version.* the folder does not hold: 4"),
])
def test_goose_history_table_tells_what_is_applied(tmp_path, rows, applied, message):
    src = write(tmp_path / "goose", ADOPT)
    target = open_target(sqlite_db(tmp_path / "app.db", GOOSE_TABLE_SQLITE, *goose_rows(rows)))
    if message is None:
        assert importer.adoption(target, "goose", importer.read_history(src)[1]).applied == applied
        return
    before = listing(tmp_path)
    with pytest.raises(BadInput, match=message):
        importer.import_history(src, tmp_path / "migrations",
                                check_database=lambda tool, sources: importer.adoption(target, tool, sources))
    assert listing(tmp_path) == before


@pytest.mark.postgres
def test_goose_postgresql_database_is_adopted_and_migrated_on(pg_empty_url, tmp_path, capsys):
    src = write(tmp_path / "goose", PG_GOOSE)
    target = open_target(pg_empty_url)
    with target.engine().begin() as conn:
        up, _, _ = importer.goose_sections(src / "20240101000000_orders.sql")
        conn.exec_driver_sql(up)
        conn.exec_driver_sql("""CREATE TABLE goose_db_version (
            id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, version_id bigint NOT NULL,
            is_applied boolean NOT NULL, tstamp timestamp NOT NULL DEFAULT now())""")  # goose's postgres dialect
        for version, applied in [(0, True), (20240101000000, True), (20240102000000, True), (20240102000000, False)]:
            conn.exec_driver_sql("INSERT INTO goose_db_version (version_id, is_applied) VALUES (%s, %s)",
                                 (version, applied))
    target.dispose()
    dest = tmp_path / "migrations"
    doc = run_cli(capsys, "import", str(src), "--from", "goose", "--dialect", "postgresql", "--migrations", str(dest),
                  "--db", pg_empty_url)
    assert doc["tool"] == "goose" and doc["adopt"]["applied"] == ["20240101000000"]
    assert doc["adopt"]["command"].endswith("--version 001")
    run_cli(capsys, *shlex.split(doc["adopt"]["command"])[1:])
    assert [(m.version, m.status) for m in migrate(target, dest, dialect="postgresql").migrations] == [
        ("002", "applied")]
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_customer'::regclass"
                                    ).scalar() is True
        assert conn.exec_driver_sql("SELECT count(*) FROM goose_db_version").scalar() == 4  # goose's, untouched


@pytest.mark.postgres
def test_goose_postgresql_database_past_a_no_transaction_file_of_several_indexes_is_adopted(
        pg_empty_url, tmp_path, capsys):
    """hatchet's case: goose applied a ``NO TRANSACTION`` file of several indexes; it imports as
    one migration keeping its version, so the database is adopted at it: nothing left to run."""
    src = write(tmp_path / "goose", PG_GOOSE)
    target = open_target(pg_empty_url)
    with target.engine().begin() as conn:
        conn.exec_driver_sql(importer.goose_sections(src / "20240101000000_orders.sql")[0])
        conn.exec_driver_sql("CREATE TABLE goose_db_version (id integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "
                             "version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now())")
        conn.exec_driver_sql("INSERT INTO goose_db_version (version_id, is_applied) "
                             "VALUES (0, true), (20240101000000, true), (20240102000000, true)")
    with target.engine().connect() as conn:  # goose ran the file's statements one by one, in autocommit
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        auto.exec_driver_sql("CREATE INDEX CONCURRENTLY orders_customer ON orders (customer)")
        auto.exec_driver_sql("CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_total ON orders (total)")
    target.dispose()
    dest = tmp_path / "migrations"
    doc = run_cli(capsys, "import", str(src), "--from", "goose", "--dialect", "postgresql", "--migrations", str(dest),
                  "--db", pg_empty_url)
    assert doc["adopt"]["applied"] == ["20240101000000", "20240102000000"], doc
    assert doc["adopt"]["command"].endswith("--version 002")
    run_cli(capsys, *shlex.split(doc["adopt"]["command"])[1:])
    done = migrate(target, dest, dialect="postgresql")
    assert done.passed and done.migrations == []  # nothing pending: both are adopted
    with target.engine().connect() as conn:
        assert [a.version for a in mig.applied(conn)] == ["001", "002"]
