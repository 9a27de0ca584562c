"""``runbook import`` of Flyway projects as Flyway reads them: subfolders, repeatable migrations
(and Flyway's checksum, for adoption), placeholders, script configuration files, callbacks; and a
statement PostgreSQL runs only outside a transaction beside others, refused at import."""

from __future__ import annotations

import re

import pytest

from runbook import flyway, importer, lint
from runbook.errors import BadInput
from runbook.migrate import migrate
from runbook.target import open_target

from test_import import USERS, listing, run_cli, sqlite_db
from test_import_tools import assert_both_applied_and_the_index_built
from test_project_dialect import write_folder as write

VIEW = "CREATE VIEW active_users AS SELECT id FROM users;\n"


def refused(tmp_path, src, message, **kw):
    """``import_history`` refuses ``src`` with ``message`` and writes nothing anywhere."""
    before = listing(tmp_path)
    with pytest.raises(BadInput, match=message):
        importer.import_history(src, tmp_path / "migrations", **kw)
    assert listing(tmp_path) == before


# -- subfolders ------------------------------------------------------------------------------
def test_flyway_subfolders_are_read_recursively_in_version_order(tmp_path):
    src = write(tmp_path / "db" / "migration", {"v2/V2__add_name.sql": "ALTER TABLE users ADD COLUMN name TEXT;\n",
                                                "v2/U2__add_name.sql": "ALTER TABLE users DROP COLUMN name;\n",
                                                "v1/V1__users.sql": USERS, "V1_5__noop.sql": "SELECT 1;\n"})
    assert importer.detect(src) == "flyway"
    result = importer.import_history(src, tmp_path / "migrations")
    assert [(m["version"], m["source_version"], m["rollback"]) for m in result.migrations] == [
        ("001", "1", None), ("002", "1.5", None), ("003", "2", "written")]
    assert "-- Source: flyway version 2 (v2/V2__add_name.sql, v2/U2__add_name.sql)\n" in \
        (tmp_path / "migrations" / "003_add_name.sql").read_text()
    assert lint.lint(tmp_path / "migrations").exit_code == 0


def test_flyway_one_version_in_two_subfolders_is_refused(tmp_path):
    src = write(tmp_path / "fw", {"a/V1__users.sql": USERS, "b/V1.0__again.sql": "SELECT 1;\n"})
    refused(tmp_path, src, r"two migrations with version 1.*a/V1__users.sql and b/V1.0__again.sql")


def test_a_subfolder_of_other_files_is_still_in_no_known_layout(tmp_path):
    src = write(tmp_path / "fw", {"V1__users.sql": USERS, "notes/plan.sql": "SELECT 1;\n"})
    refused(tmp_path, src, r"notes is in no known layout")


def test_a_lower_case_prefix_flyway_skips_is_refused_saying_so(tmp_path):
    src = write(tmp_path / "fw", {"V1__users.sql": USERS, "v1.1__sequences.sql": "SELECT 1;\n"})
    refused(tmp_path, src, r"v1.1__sequences.sql is in no known layout .*prefixes V, U and R are case-sensitive: "
                           r"Flyway itself skips such a file")


# -- repeatable migrations and Flyway's checksum ---------------------------------------------
def test_flyway_checksum_is_flyways_crc32_of_the_lines(tmp_path):
    # the values the steps of Flyway's ChecksumCalculator give with the JDK's BufferedReader and
    # CRC32 (computed with javac/java on these bytes): line endings and a BOM do not count
    view = "CREATE OR REPLACE VIEW active_users AS{0}SELECT id, email FROM users WHERE active;{0}"
    assert flyway.checksum(view.format("\n")) == 243612524
    assert flyway.checksum(view.format("\r\n")) == 243612524
    assert flyway.checksum("\ufeff" + view.format("\r\n")) == 243612524
    assert flyway.checksum("CREATE VIEW café AS SELECT 1;\rSELECT 2;\n\n") == 289951517
    assert flyway.checksum("CREATE OR REPLACE VIEW v AS SELECT 8;\n") == -237880135  # a signed int


def test_repeatable_migrations_follow_the_versioned_ones_by_description(tmp_path):
    src = write(tmp_path / "fw", {"V1__users.sql": USERS, "V2__email_index.sql": "CREATE INDEX e ON users (email);\n",
                                  "views/R__users_view.sql": VIEW,
                                  "R__a_first.sql": "CREATE VIEW first AS SELECT 1 AS one;\n"})
    result = importer.import_history(src, tmp_path / "migrations")
    assert [(m["version"], m["source_version"], m["rollback"]) for m in result.migrations] == [
        ("001", "1", None), ("002", "2", None), ("003", "R__a_first", None), ("004", "R__users_view", None)]
    text = (tmp_path / "migrations" / "004_users_view.sql").read_text()
    assert "-- Source: flyway repeatable migration 'users view' (views/R__users_view.sql)\n" in text
    assert f"-- {importer.REPEATABLE_NOTE}\n" in text
    assert text.endswith("\n" + VIEW)
    target = open_target(sqlite_db(tmp_path / "app.db"))
    assert [m.status for m in migrate(target, tmp_path / "migrations").migrations] == ["applied"] * 4


def test_two_repeatable_migrations_with_one_description_are_refused(tmp_path):
    src = write(tmp_path / "fw", {"V1__users.sql": USERS, "a/R__users_view.sql": VIEW, "b/R__users view.sql": VIEW})
    refused(tmp_path, src, r"two repeatable migrations with description 'users view'")


FLYWAY_TABLE = ("CREATE TABLE flyway_schema_history (installed_rank INT PRIMARY KEY, version VARCHAR(50), "
                "description VARCHAR(200), type VARCHAR(20), script VARCHAR(1000), checksum INT, success BOOLEAN)")


def rows(*values: tuple) -> list[str]:
    return [FLYWAY_TABLE] + [
        "INSERT INTO flyway_schema_history VALUES ({})".format(", ".join("NULL" if v is None else repr(v) for v in row))
        for row in values]


REPEATABLE_PROJECT = {"V1__users.sql": USERS, "R__a_view.sql": "CREATE VIEW a AS SELECT 1 AS x;\n",
                      "R__b_view.sql": "CREATE VIEW b AS SELECT 2 AS x;\n", "R__c_view.sql": "CREATE VIEW c AS SELECT 3;\n"}


def adopt(tmp_path, files, *history, placeholders=None):
    src = write(tmp_path / "fw", files)
    _, sources = importer.read_history(src, placeholders=placeholders)
    return importer.adoption(open_target(sqlite_db(tmp_path / "app.db", *rows(*history))), "flyway", sources)


def test_a_repeatable_migration_is_applied_only_with_the_files_checksum(tmp_path):
    a, b = (flyway.checksum(REPEATABLE_PROJECT[f]) for f in ("R__a_view.sql", "R__b_view.sql"))
    found = adopt(tmp_path, REPEATABLE_PROJECT,
                  (1, "1", "users", "SQL", "V1__users.sql", 1, 1),
                  (2, None, "a view", "SQL", "R__a_view.sql", a + 1, 1),  # an earlier text of it
                  (3, None, "a view", "SQL", "R__a_view.sql", a, 1),  # the latest row counts
                  (4, None, "b view", "SQL", "R__b_view.sql", b + 1, 1))  # changed since
    assert (found.applied, found.last) == (["1", "R__a_view"], "R__a_view")
    assert [v for v, _ in found.pending] == ["R__b_view", "R__c_view"]
    assert f"changed since Flyway last applied it (checksum {b + 1} in flyway_schema_history; the file's is {b}" \
        in found.pending[0][1]
    assert found.pending[1][1] == "Flyway never applied it"


def test_an_unchanged_repeatable_migration_after_a_pending_one_runs_again(tmp_path):
    a, b = (flyway.checksum(REPEATABLE_PROJECT[f]) for f in ("R__a_view.sql", "R__b_view.sql"))
    found = adopt(tmp_path, REPEATABLE_PROJECT, (1, "1", "users", "SQL", "V1__users.sql", 1, 1),
                  (2, None, "a view", "SQL", "R__a_view.sql", a + 1, 1),
                  (3, None, "b view", "SQL", "R__b_view.sql", b, 1))
    assert (found.applied, found.last) == (["1"], "1")
    assert found.pending[1] == ("R__b_view", "unchanged since Flyway applied it, but numbered after a pending "
                                             "migration (R__a_view is pending): it runs again")


def test_a_repeatable_migration_the_folder_lacks_is_refused(tmp_path):
    with pytest.raises(BadInput, match=r"records repeatable migration\(s\) the folder does not hold: 'gone'"):
        adopt(tmp_path, REPEATABLE_PROJECT, (1, None, "gone", "SQL", "R__gone.sql", 5, 1))


def test_a_repeatable_checksum_is_taken_with_the_placeholders_replaced(tmp_path):
    files = {"V1__users.sql": USERS, "R__grants.sql": "GRANT SELECT ON users TO ${reader};\n"}
    applied = flyway.checksum("GRANT SELECT ON users TO app_reader;\n")  # Flyway 6.3 on
    history = [(1, "1", "users", "SQL", "V1__users.sql", 1, 1), (2, None, "grants", "SQL", "R__grants.sql", applied, 1)]
    assert adopt(tmp_path / "a", files, *history, placeholders={"reader": "app_reader"}).last == "R__grants"
    assert adopt(tmp_path / "b", files, *history, placeholders={"READER": "other"}).last == "1"
    history[1] = history[1][:5] + (flyway.checksum(files["R__grants.sql"]), 1)  # the raw file's (equivalent) checksum
    assert adopt(tmp_path / "c", files, *history, placeholders={"reader": "other"}).last == "R__grants"


def test_import_prints_why_a_repeatable_migration_is_pending(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "fw", REPEATABLE_PROJECT)
    db = sqlite_db(tmp_path / "app.db", *rows((1, "1", "users", "SQL", "V1__users.sql", 1, 1)))
    doc = run_cli(capsys, "import", "fw", "--migrations", "migrations", "--db", db)
    assert doc["adopt"]["last"] == "1" and doc["adopt"]["command"].endswith("--version 001")
    assert doc["adopt"]["pending"][0] == {"source_version": "R__a_view", "version": "002",
                                          "why": "Flyway never applied it"}


# -- placeholders ----------------------------------------------------------------------------
PLACEHOLDERS = """CREATE TABLE ${schema}.t (id int, note text DEFAULT '${Note}');
COMMENT ON TABLE ${schema}.t IS 'from ${flyway:filename} by ${flyway:table}';
CREATE FUNCTION ${schema}.f() RETURNS text LANGUAGE plpgsql AS $fn$
BEGIN RETURN '${note}' || '$${kept}' || '$$${note}'; END
$fn$;
"""


def test_placeholders_are_replaced_as_flyway_replaces_them(tmp_path):
    src = write(tmp_path / "fw", {"V1__init.sql": PLACEHOLDERS})
    importer.import_history(src, tmp_path / "migrations", dialect="postgresql",
                            placeholders={"SCHEMA": "app", "note": "hi"})
    body = (tmp_path / "migrations" / "001_init.sql").read_text().split("\n\n", 1)[1]
    assert body == """CREATE TABLE app.t (id int, note text DEFAULT 'hi');
COMMENT ON TABLE app.t IS 'from V1__init.sql by flyway_schema_history';
CREATE FUNCTION app.f() RETURNS text LANGUAGE plpgsql AS $fn$
BEGIN RETURN 'hi' || '$${kept}' || '$$hi'; END
$fn$;
"""


@pytest.mark.parametrize("text, given, message", [
    ("SELECT 1;\nSELECT '${missing}';\n", {}, r"V1__init.sql:2: \$\{missing\} is a Flyway placeholder without a "
                                              r"value: give its value with --placeholder missing=VALUE"),
    ("GRANT USAGE ON SCHEMA public TO ${flyway:user};\n", {"other": "x"},
     r"V1__init.sql:1: \$\{flyway:user\} is Flyway's built-in placeholder for the user Flyway connected as, which "
     r"import cannot know: give its value with --placeholder flyway:user=VALUE"),
])
def test_a_placeholder_without_a_value_is_refused_naming_file_line_and_option(tmp_path, text, given, message):
    src = write(tmp_path / "fw", {"V0__first.sql": "SELECT 0;\n", "V1__init.sql": text})
    refused(tmp_path, src, message, placeholders=given)


def test_placeholder_option_from_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "fw", {"V1__init.sql": "CREATE TABLE t (note text DEFAULT '${Note}');\n"})
    write(tmp_path / "gm", {"1_a.up.sql": USERS})
    doc = run_cli(capsys, "import", "gm", "--migrations", "m1", "--placeholder", "a=b", expect=2)
    assert "--placeholder is for Flyway's placeholders" in doc["error"]["message"]
    doc = run_cli(capsys, "import", "fw", "--migrations", "m1", "--placeholder", "novalue", expect=2)
    assert "expected NAME=VALUE" in doc["error"]["message"]
    assert not (tmp_path / "m1").exists()
    doc = run_cli(capsys, "import", "fw", "--migrations", "m1", "--placeholder", "a=b", "--no-placeholder-replacement",
                  expect=2)
    assert "give one or the other" in doc["error"]["message"]
    assert not (tmp_path / "m1").exists()
    run_cli(capsys, "import", "fw", "--migrations", "m2", "--placeholder", "note=a=b")
    assert (tmp_path / "m2" / "001_init.sql").read_text().endswith("\nCREATE TABLE t (note text DEFAULT 'a=b');\n")
    run_cli(capsys, "import", "fw", "--migrations", "m3", "--no-placeholder-replacement")  # Flyway's option
    assert (tmp_path / "m3" / "001_init.sql").read_text().endswith("\nCREATE TABLE t (note text DEFAULT '${Note}');\n")


# -- script configuration, callbacks ---------------------------------------------------------
CONCURRENT = {"V1__orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, customer text);\n",
              "V2__orders_customer.sql": "CREATE INDEX CONCURRENTLY orders_customer ON orders (customer);\n",
              "V2__orders_customer.sql.conf": "# Flyway script configuration\nexecuteInTransaction=false\n"}


@pytest.mark.postgres
def test_execute_in_transaction_false_runs_outside_a_transaction_on_postgresql(pg_empty_url, tmp_path):
    src = write(tmp_path / "fw", CONCURRENT)
    result = importer.import_history(src, tmp_path / "migrations", dialect="postgresql")
    text = (tmp_path / "migrations" / "002_orders_customer.sql").read_text()
    assert "-- Flyway: executeInTransaction=false (V2__orders_customer.sql.conf): " in text
    assert [n for n in result.notes if n.startswith("V2__orders_customer.sql: executeInTransaction=false")]
    assert_both_applied_and_the_index_built(pg_empty_url, tmp_path / "migrations")


@pytest.mark.parametrize("files, message", [
    ({"V2__orders_customer.sql": "UPDATE orders SET customer = trim(customer);\n" + CONCURRENT["V2__orders_customer.sql"]},
     r"V2__orders_customer.sql: executeInTransaction=false \(V2__orders_customer.sql.conf\), and CREATE \.\.\. cannot "
     r"run inside a transaction.*Flyway ran its statements one by one.*split it into one migration per such statement"),
    ({"V2__orders_customer.sql.conf": "executeInTransaction=false\nshouldExecute=false\n"},
     r"V2__orders_customer.sql.conf:2: shouldExecute is not a script configuration setting import reads"),
    ({"V2__orders_customer.sql.conf": "executeInTransaction=no\n"}, r"executeInTransaction=no: Flyway takes true or false"),
    ({"V3__gone.sql.conf": "executeInTransaction=false\n"}, r"V3__gone.sql.conf: a script configuration file without"),
    ({"callbacks/afterMigrate.sql": "GRANT SELECT ON orders TO PUBLIC;\n", "beforeEachMigrate__x.sql": "SELECT 1;\n"},
     r"beforeEachMigrate__x.sql, callbacks/afterMigrate.sql: Flyway SQL callback\(s\), not migrations.*move it out "
     r"of the folder and import again"),
    ({"B3__baseline.sql": USERS}, r"baseline migrations \(B3__baseline.sql\)"),
])
def test_flyway_files_import_cannot_carry_over_are_refused(tmp_path, files, message):
    src = write(tmp_path / "fw", CONCURRENT | files)
    refused(tmp_path, src, message, dialect="postgresql")


# -- golang-migrate: CREATE INDEX CONCURRENTLY beside other statements -----------------------
def test_golang_migrate_concurrent_index_beside_other_statements_is_refused_at_import(tmp_path):
    src = write(tmp_path / "gm", {"1_orders.up.sql": "UPDATE orders SET customer = trim(customer);\n"
                                                     "CREATE INDEX CONCURRENTLY orders_customer ON orders (customer);\n",
                                  "1_orders.down.sql": "DROP TABLE orders;\n"})
    refused(tmp_path, src, r"1_orders.up.sql: CREATE \.\.\. cannot run inside a transaction.*golang-migrate sent the "
                           r"file as one script.*split it into one migration per such statement", dialect="postgresql")


def test_a_concurrent_drop_beside_others_in_a_down_script_is_refused_naming_it(tmp_path):
    src = write(tmp_path / "gm", {"1_orders.up.sql": "CREATE INDEX CONCURRENTLY o_c ON orders (customer);\n",
                                  "1_orders.down.sql": "DROP INDEX CONCURRENTLY o_c;\nDROP TABLE x;\n"})
    refused(tmp_path, src, r"1_orders.down.sql: DROP \.\.\. cannot run inside a transaction", dialect="postgresql")


# -- defaultSchema: the search_path Flyway migrated with -------------------------------------
IN_SCHEMA = {"V1__orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, customer text);\n",
             "V2__note.sql": "ALTER TABLE orders ADD COLUMN note text;\n",
             "U2__note.sql": "ALTER TABLE orders DROP COLUMN note;\n",
             "R__orders_view.sql": "CREATE OR REPLACE VIEW orders_view AS SELECT id, note FROM orders;\n"}


@pytest.mark.postgres
def test_default_schema_is_first_in_the_search_path_of_each_migration_on_postgresql(pg_empty_url, tmp_path):
    src = write(tmp_path / "fw", IN_SCHEMA)
    importer.import_history(src, tmp_path / "migrations", dialect="postgresql", default_schema="app")
    first = (tmp_path / "migrations" / "001_orders.sql").read_text()
    assert first.endswith('\nCREATE SCHEMA IF NOT EXISTS "app";\nSET search_path TO "app", "$user", public;\n'
                          + IN_SCHEMA["V1__orders.sql"])
    assert (tmp_path / "migrations" / "rollbacks" / "002_rollback_note.sql").read_text() == \
        'SET search_path TO "app", "$user", public;\n' + IN_SCHEMA["U2__note.sql"]
    report = lint.lint(tmp_path / "migrations", dialect="postgresql")
    assert not [f for u in report.migrations for f in u.findings if f.code == "unknown-name"], lint.render(report)
    target = open_target(pg_empty_url)
    assert [m.status for m in migrate(target, tmp_path / "migrations", dialect="postgresql").migrations] == \
        ["applied"] * 3
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT table_schema, table_name FROM information_schema.tables "
                                    "WHERE table_name IN ('orders', 'orders_view') ORDER BY 2").all() == \
            [("app", "orders"), ("app", "orders_view")]


@pytest.mark.parametrize("files, kw, message", [
    (CONCURRENT, {"dialect": "postgresql"},
     r"V2__orders_customer.sql: CREATE \.\.\. cannot run inside a transaction.*import cannot put --default-schema's "
     r"SET search_path before it: qualify its names with the schema \(app.name\)"),
    (IN_SCHEMA, {"dialect": "sqlite"}, r"--default-schema sets PostgreSQL's search_path, and the dialect is sqlite"),
    ({"1_a.up.sql": USERS}, {}, r"--default-schema is Flyway's defaultSchema, and .* is golang-migrate's folder"),
])
def test_default_schema_refusals(tmp_path, files, kw, message):
    refused(tmp_path, write(tmp_path / "src", files), message, default_schema="app", **kw)


# -- Java-based migrations: refused at import, named at adoption -----------------------------
@pytest.mark.parametrize("java", ["V3__Backfill.java", "V3__Backfill.kt", "sub/V3__Backfill.class"])
def test_java_migrations_in_the_folder_are_refused_naming_them(tmp_path, java):
    src = write(tmp_path / "fw", {"V1__users.sql": USERS, "V2__noop.sql": "SELECT 1;\n", java: "class V3__Backfill {}\n"})
    refused(tmp_path, src, rf"{java}: Flyway Java-based migration\(s\)\. Flyway runs each as the migration of the "
                           rf"version its class name says; import reads SQL only.*\(V3__Backfill.sql\), delete the class")


def test_java_migrations_beside_a_resources_folder_are_refused(tmp_path):
    # Flyway's default location classpath:db/migration holds the scripts and the compiled classes alike
    project = tmp_path / "app"
    write(project / "src" / "main" / "java" / "db" / "migration", {"V3__Backfill.java": "class V3__Backfill {}\n",
                                                                    "Helper.java": "class Helper {}\n"})
    src = write(project / "src" / "main" / "resources" / "db" / "migration",
                {"V1__users.sql": USERS, "V2__noop.sql": "SELECT 1;\n", "V4__more.sql": "SELECT 4;\n"})
    refused(tmp_path, src, r"src/main/java/db/migration/V3__Backfill.java: Flyway Java-based migration\(s\) \(the "
                           r"project's JVM sources in the same package")


def history(*values: tuple, table: str = "flyway_schema_history") -> list[str]:
    """``rows`` for a history table of another name (schema-qualified too)."""
    return [s.replace("flyway_schema_history", table, 1) for s in rows(*values)]


def on_postgresql(url: str, statements: list[str]) -> None:
    with open_target(url).engine().begin() as conn:
        for st in statements:
            conn.exec_driver_sql(st)


JAVA_ROWS = [(1, "1", "users", "SQL", "V1__users.sql", 1, True), (2, "2", "noop", "SQL", "V2__noop.sql", 2, True),
             (3, "3", "Backfill", "JDBC", "db.migration.V3__Backfill", None, True)]
TWO = {"V1__users.sql": USERS, "V2__noop.sql": "SELECT 1;\n"}


def database_with(request, tmp_path, engine: str, statements: list[str]) -> str:
    """A real database of ``engine`` (SQLite file, or this test's PostgreSQL database) holding ``statements``."""
    if engine == "sqlite":
        return sqlite_db(tmp_path / "app.db", *statements)
    url = request.getfixturevalue("pg_empty_url")
    on_postgresql(url, statements)
    return url


ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_version_a_java_migration_applied_is_named_at_adoption(request, tmp_path, engine):
    url = database_with(request, tmp_path, engine, rows(*JAVA_ROWS))
    src = write(tmp_path / "fw", TWO)
    refused(tmp_path, src, r"flyway_schema_history records version\(s\) the folder does not hold: 3 \('Backfill', "
                           r"type JDBC: a Java-based migration\): 3 was applied by Flyway from code, not SQL.*Write what "
                           r"each did as an SQL migration of the same version",
            check_database=lambda tool, sources: importer.adoption(open_target(url), tool, sources))


def test_a_java_migration_rewritten_as_sql_is_taken_as_applied_and_said(tmp_path):
    found = adopt(tmp_path, TWO | {"V3__backfill.sql": "UPDATE users SET email = lower(email);\n",
                                   "V4__more.sql": "SELECT 4;\n"},
                  *JAVA_ROWS, (4, "4", "more", "SPRING_JDBC", "db.migration.V4__more", None, True),
                  (5, "4", "more", "UNDO_JDBC", "db.migration.U4__more", None, True))  # a Java undo takes 4 back
    assert (found.applied, found.last) == (["1", "2", "3"], "3")
    assert found.notes == ["flyway_schema_history: version 3 ('Backfill', type JDBC: a Java-based migration) is the "
                           "folder's SQL file V3__backfill.sql now (Flyway itself would call that a type mismatch): "
                           "taken as applied"]


def test_a_repeatable_java_migration_the_folder_lacks_is_named(tmp_path):
    with pytest.raises(BadInput, match=r"records repeatable migration\(s\) the folder does not hold: 'grants' \(type "
                                       r"JDBC: a Java-based migration, which import cannot read"):
        adopt(tmp_path, REPEATABLE_PROJECT, (1, None, "grants", "JDBC", "db.migration.R__Grants", None, 1))


# -- a renamed history table (Flyway's table, in its default schema) -------------------------
APPLIED = [(1, "1", "users", "SQL", "V1__users.sql", 1, True)]


@pytest.mark.parametrize("engine, option, created", [
    ("sqlite", "MyHistory", "MyHistory"),
    pytest.param("postgresql", "MyHistory", '"MyHistory"', marks=pytest.mark.postgres),  # Flyway quotes it: exact case
    pytest.param("postgresql", "app.history", "app.history", marks=pytest.mark.postgres),
])
def test_history_table_option_reads_the_renamed_table(request, tmp_path, capsys, monkeypatch, engine, option, created):
    monkeypatch.chdir(tmp_path)
    schema = ["CREATE SCHEMA app"] if created.startswith("app.") else []
    url = database_with(request, tmp_path, engine, schema + history(*APPLIED, table=created))
    write(tmp_path / "fw", TWO)
    doc = run_cli(capsys, "import", "fw", "--migrations", "m1", "--db", url, "--history-table", option)
    assert (doc["adopt"]["table"], doc["adopt"]["last"]) == (option, "1")
    doc = run_cli(capsys, "import", "fw", "--migrations", "m2", "--db", url, expect=2)  # the default name: not there
    assert "has no flyway_schema_history table: flyway never ran there" in doc["error"]["message"]
    assert not (tmp_path / "m2").exists()


@pytest.mark.postgres
def test_the_history_table_is_read_in_the_default_schema_on_postgresql(pg_empty_url, tmp_path, capsys, monkeypatch):
    # Flyway keeps its table in defaultSchema (else the first of schemas), and a flyway.conf may name both
    monkeypatch.chdir(tmp_path)
    on_postgresql(pg_empty_url, ["CREATE SCHEMA app", "CREATE TABLE public.flyway_schema_history (x int)"]
                  + history(*APPLIED, table="app.flyway_schema_history") + history(*APPLIED, table="app.deploys"))
    write(tmp_path / "fw", TWO)
    doc = run_cli(capsys, "import", "fw", "--migrations", "m1", "--dialect", "postgresql", "--db", pg_empty_url,
                  "--default-schema", "app")
    assert (doc["adopt"]["table"], doc["adopt"]["last"]) == ("app.flyway_schema_history", "1")
    write(tmp_path / "fw", {"flyway.conf": "flyway.schemas=app,other\nflyway.table=deploys\n"
                                           "flyway.url=jdbc:postgresql://db/app\n"})
    doc = run_cli(capsys, "import", "fw", "--migrations", "m2", "--dialect", "postgresql", "--db", pg_empty_url)
    assert (doc["adopt"]["table"], doc["adopt"]["last"]) == ("app.deploys", "1")


@pytest.mark.parametrize("name, message", [
    ("flyway history", r"--history-table: the history table 'flyway history' is not a name or schema.name"),
    ("1history", r"'1history' is not a name or schema.name"),
    ("a.b.c", r"'a.b.c' is not a name or schema.name"),
    ("h;DROP TABLE users", r"is not a name or schema.name"),
])
def test_a_history_table_that_is_not_a_name_is_refused(tmp_path, capsys, monkeypatch, name, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "fw", TWO)
    doc = run_cli(capsys, "import", "fw", "--migrations", "m", "--history-table", name, expect=2)
    assert re.search(message, doc["error"]["message"]), doc
    assert not (tmp_path / "m").exists()


def test_flyway_options_for_another_tools_folder_are_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "gm", {"1_a.up.sql": USERS})
    for option in ("--history-table", "--sql-migration-prefix", "--encoding"):
        doc = run_cli(capsys, "import", "gm", "--migrations", "m", option, "latin_1", expect=2)
        assert f"{option} is Flyway's " in doc["error"]["message"] and "golang-migrate's folder" in doc["error"]["message"]
    assert not (tmp_path / "m").exists()


def test_flyway_table_placeholder_is_the_configured_table(tmp_path):
    src = write(tmp_path / "fw", {"V1__note.sql": "CREATE TABLE note (t TEXT DEFAULT '${flyway:table}');\n"})
    importer.import_history(src, tmp_path / "migrations", flyway_options={"table": "app.deploys"})
    assert (tmp_path / "migrations" / "001_note.sql").read_text().endswith("DEFAULT 'deploys');\n")


# -- naming settings, and the project's flyway.conf / flyway.toml ----------------------------
RENAMED = {"M1-users.pkg": USERS, "M2-name.sql": "ALTER TABLE users ADD COLUMN name TEXT;\n",
           "D2-name.sql": "ALTER TABLE users DROP COLUMN name;\n", "RR-view.PKG": VIEW}
NAMING = {"sqlMigrationPrefix": "M", "undoSqlMigrationPrefix": "D", "repeatableSqlMigrationPrefix": "RR",
          "sqlMigrationSeparator": "-", "sqlMigrationSuffixes": [".pkg", ".sql"]}


def assert_renamed_project_imported(dest):
    assert sorted(p.name for p in dest.rglob("*.sql")) == ["001_users.sql", "002_name.sql", "002_rollback_name.sql",
                                                           "003_view.sql"]
    assert "-- Source: flyway version 2 (M2-name.sql, D2-name.sql)\n" in (dest / "002_name.sql").read_text()


def test_naming_options_read_a_project_that_renames_flyways_files(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "fw", RENAMED)
    run_cli(capsys, "import", "fw", "--migrations", "m", "--sql-migration-prefix", "M", "--undo-sql-migration-prefix",
            "D", "--repeatable-sql-migration-prefix", "RR", "--sql-migration-separator", "-",
            "--sql-migration-suffixes", ".pkg,.sql")
    assert_renamed_project_imported(tmp_path / "m")
    refused(tmp_path, tmp_path / "fw", r"M1-users.pkg.* in no known layout")  # Flyway's defaults read none of them


@pytest.mark.parametrize("name, text", [
    ("flyway.conf", "# the project's Flyway configuration\nflyway.url=jdbc:postgresql://db:5432/app\n"
                    "flyway.user=deploy\nflyway.sqlMigrationPrefix=M\nflyway.undoSqlMigrationPrefix=D\n"
                    "flyway.repeatableSqlMigrationPrefix = RR\nflyway.sqlMigrationSeparator=-\n"
                    "flyway.sqlMigrationSuffixes=.pkg,\\\n  .sql\nflyway.locations=filesystem:sql\n"
                    "flyway.validateMigrationNaming=true\nflyway.placeholders.who=app\n"),
    ("flyway.toml", '[environments.default]\nurl = "jdbc:postgresql://db:5432/app"\n\n[flyway]\n'
                    'sqlMigrationPrefix = "M"\nundoSqlMigrationPrefix = "D"\nrepeatableSqlMigrationPrefix = "RR"\n'
                    'sqlMigrationSeparator = "-"\nsqlMigrationSuffixes = [".pkg", ".sql"]\n'
                    'locations = ["filesystem:sql"]\nexecuteInTransaction = true\n\n[flyway.placeholders]\n'
                    'who = "app"\n\n[flywayDesktop]\ndevelopmentEnvironment = "development"\n'),
])
def test_the_projects_flyway_configuration_file_is_read_as_flyway_reads_it(tmp_path, name, text):
    src = write(tmp_path / "project", {name: text, "README.md": "notes\n", "schema-model/tables.json": "{}",
                                       **{f"sql/{k}": v for k, v in RENAMED.items()}})
    write(src / "sql", {"M3-grant.sql": "CREATE TABLE ${who}_log (id INTEGER);\n"})
    importer.import_history(src, tmp_path / "migrations")
    assert (tmp_path / "migrations" / "003_grant.sql").read_text().endswith("CREATE TABLE app_log (id INTEGER);\n")
    assert "-- Source: flyway version 2 (sql/M2-name.sql, sql/D2-name.sql)\n" in \
        (tmp_path / "migrations" / "002_name.sql").read_text()


def test_options_win_over_the_configuration_file_and_toml_wins_over_conf(tmp_path):
    src = write(tmp_path / "fw", {"flyway.toml": '[flyway]\nsqlMigrationPrefix = "M"\n',
                                  "flyway.conf": "flyway.initSql=SET ROLE nobody\n",  # Flyway reads only the TOML one
                                  "M1__users.sql": USERS})
    assert [m["source_version"] for m in importer.import_history(src, tmp_path / "m1").migrations] == ["1"]
    (src / "M1__users.sql").rename(src / "X1__users.sql")
    assert [m["source_version"] for m in importer.import_history(
        src, tmp_path / "m2", flyway_options={"sqlMigrationPrefix": "X"}).migrations] == ["1"]


@pytest.mark.parametrize("name, text, message", [
    ("flyway.conf", "flyway.url=jdbc:sqlite:app.db\nflyway.initSql=SET ROLE app\n",
     r"flyway.conf:2: initSql is a Flyway setting import does not read; it changes what Flyway runs"),
    ("flyway.conf", "flyway.outOfOrder=true\n", r"flyway.conf:1: outOfOrder = 'true', and import follows it only at "
                                                r"Flyway's default \('false'\)"),
    ("flyway.conf", "flyway.callbacks=com.example.Audit\n", r"callbacks is a Flyway setting import does not read"),
    ("flyway.toml", '[flyway]\nplaceholderPrefix = "#["\n', r"flyway.toml: flyway.placeholderPrefix: "
                                                            r"placeholderPrefix = '#\['"),
    ("flyway.toml", '[environments.default]\ninitSql = "SET ROLE app"\n',
     r"flyway.toml: environments.default.initSql is a Flyway setting import does not read"),
    ("flyway.toml", '[flyway]\nlocations = ["classpath:db/migration"]\n',
     r"location 'classpath:db/migration': import reads a folder of files"),
    ("flyway.conf", "flyway.locations=filesystem:../elsewhere\n", r"location 'filesystem:../elsewhere' is outside"),
    ("flyway.conf", "flyway.table=deploys.v2\n", r"flyway.conf: the history table 'deploys.v2' is not a name"),
    ("flyway.conf", "flyway.sqlMigrationSeparator=\n", r"flyway.conf: sqlMigrationSeparator is empty"),
])
def test_a_configuration_that_changes_what_flyway_runs_unread_is_refused(tmp_path, name, text, message):
    refused(tmp_path, write(tmp_path / "fw", {name: text, "V1__users.sql": USERS}), message)


# -- encoding: per script (.sql.conf) and the project's ------------------------------------
CAFE = "CREATE VIEW café AS SELECT 1;\rSELECT 2;\n\n"  # Flyway's checksum of it: 289951517 (see the checksum test)


def test_a_scripts_encoding_decodes_it_and_flyways_checksum_still_matches(tmp_path):
    files = {"V1__users.sql": USERS, "V2__note.sql": "-- naïve\nSELECT 'é';\n", "V2__note.sql.conf": "encoding=ISO-8859-1\n",
             "R__cafe.sql": CAFE, "R__cafe.sql.conf": "encoding=windows-1252\nexecuteInTransaction=true\n"}
    src = tmp_path / "fw"
    write(src, {k: v for k, v in files.items() if k.endswith(".conf") or k == "V1__users.sql"})
    (src / "V2__note.sql").write_bytes(files["V2__note.sql"].encode("iso-8859-1"))
    (src / "R__cafe.sql").write_bytes(CAFE.encode("cp1252"))
    _, sources = importer.read_history(src)
    assert sources[1].up == "-- naïve\nSELECT 'é';\n" and sources[2].checksums == (289951517,)
    db = sqlite_db(tmp_path / "app.db", *rows((1, "1", "users", "SQL", "V1__users.sql", 1, 1),
                                              (2, "2", "note", "SQL", "V2__note.sql", 2, 1),
                                              (3, None, "cafe", "SQL", "R__cafe.sql", 289951517, 1)))
    assert importer.adoption(open_target(db), "flyway", sources).last == "R__cafe"
    importer.import_history(src, tmp_path / "migrations")
    assert (tmp_path / "migrations" / "002_note.sql").read_text(encoding="utf-8").endswith("\n-- naïve\nSELECT 'é';\n")


def test_the_projects_encoding_from_the_option_or_its_configuration(tmp_path):
    src = tmp_path / "fw"
    write(src, {"flyway.conf": "flyway.encoding=UTF-16\n"})
    (src / "R__cafe.sql").write_bytes(CAFE.encode("utf-16"))  # with a BOM, as Java writes UTF-16
    _, sources = importer.read_history(src)
    assert sources[0].checksums == (289951517,)
    (src / "flyway.conf").unlink()
    refused(tmp_path, src, r"R__cafe.sql is not text \(it holds NUL bytes\)")  # read as UTF-8: not what Flyway read
    _, sources = importer.read_history(src, flyway_options={"encoding": "UTF-16"})
    assert sources[0].checksums == (289951517,)


@pytest.mark.parametrize("files, kw, message", [
    ({"V1__users.sql.conf": "encoding=klingon\n"}, {},
     r"V1__users.sql.conf:1: encoding 'klingon' is not an encoding Python knows"),
    ({}, {"flyway_options": {"encoding": "EBCDIC-XX"}}, r"--encoding: encoding 'EBCDIC-XX' is not an encoding"),
    ({"flyway.conf": "flyway.encoding=nope\n"}, {}, r"flyway.conf: encoding 'nope' is not an encoding"),
    ({"V1__users.sql.conf": "encoding=US-ASCII\n", "V1__users.sql": "SELECT 'é';\n"}, {},
     r"V1__users.sql is not US-ASCII text \(byte 8"),
])
def test_an_unknown_encoding_or_a_script_not_in_its_encoding_is_refused(tmp_path, files, kw, message):
    refused(tmp_path, write(tmp_path / "fw", {"V1__users.sql": USERS} | files), message, **kw)
