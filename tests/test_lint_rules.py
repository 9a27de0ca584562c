"""Every rule in the registry fires on its own example (one test per rule), and the
classification cases of issue 7 that were wrong before the PostgreSQL classifier read pglast's
parse tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook import lint
from runbook.engines import ENGINES
from runbook.lint.registry import markdown_table
from runbook.sqltext import split

from conftest import MIGRATIONS

HEAD = "-- Migration: m\n-- Risk Level: {risk}\n"
BASE = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);\n"


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "migrations"
    (root / "rollbacks").mkdir(parents=True)
    for name, text in files.items():
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text(text)
    return root


def mig(body: str, risk: str = "LOW") -> str:
    return HEAD.format(risk=risk) + body


#: code → (files, engine, lint options): the smallest folder that makes the rule fire
EXAMPLES: dict[str, tuple[dict[str, str], str]] = {
    "bad-name": ({"001_base.sql": mig(BASE), "two.sql": "SELECT 1;"}, "sqlite"),
    "duplicate-number": ({"001_base.sql": mig(BASE), "001_again.sql": mig("SELECT 1;")}, "sqlite"),
    "number-gap": ({"001_base.sql": mig(BASE), "003_later.sql": mig("SELECT 1;")}, "sqlite"),
    "orphan-rollback": ({"001_base.sql": mig(BASE), "rollbacks/002_rollback_x.sql": "SELECT 1;"}, "sqlite"),
    "risk-understated": ({"001_base.sql": mig(BASE), "002_drop.sql": mig("ALTER TABLE t DROP COLUMN name;"),
                          "rollbacks/002_rollback_drop.sql": "ALTER TABLE t ADD COLUMN name TEXT;"}, "sqlite"),
    "risk-missing": ({"001_base.sql": "-- Migration: m\n" + BASE}, "sqlite"),
    "rollback-missing": ({"001_base.sql": mig(BASE), "002_drop.sql": mig("ALTER TABLE t DROP COLUMN name;", "MEDIUM")},
                         "sqlite"),
    "unparsable": ({"001_base.sql": mig(BASE + "FROBNICATE t;", "HIGH"), "rollbacks/001_rollback_base.sql": "DROP TABLE t;"},
                   "sqlite"),
    "unclassified": ({"001_do.postgresql.sql": mig("DO LANGUAGE plperl $$ my $x = 1; $$;", "HIGH"),
                      "001_do.sql": mig("SELECT 1;"), "rollbacks/001_rollback_do.sql": "SELECT 1;"}, "postgresql"),
    "empty": ({"001_base.sql": mig("")}, "sqlite"),
    "unknown-name": ({"001_base.sql": mig(BASE + "CREATE INDEX ix ON missing (id);")}, "sqlite"),
    "index-not-concurrent": ({"001_base.postgresql.sql": mig(BASE), "001_base.sql": mig(BASE),
                              "002_ix.postgresql.sql": mig("CREATE INDEX ix ON t (name);"), "002_ix.sql": mig("SELECT 1;")},
                             "postgresql"),
    "lock-timeout-disabled": ({"001_base.postgresql.sql": mig(BASE), "001_base.sql": mig(BASE),
                               "002_x.postgresql.sql": mig("SET lock_timeout = 0;\nALTER TABLE t ADD COLUMN x TEXT;"),
                               "002_x.sql": mig("SELECT 1;")}, "postgresql"),
    "rollback-mismatch": ({"001_base.sql": mig(BASE), "rollbacks/001_rollback_base.sql": "SELECT 1;"}, "sqlite"),
    "rollback-failed": ({"001_base.sql": mig(BASE), "rollbacks/001_rollback_base.sql": "DROP TABLE nope;"}, "sqlite"),
    "apply-failed": ({"001_base.sql": mig("ALTER TABLE nope ADD COLUMN x TEXT;")}, "sqlite"),
    "not-runnable": ({"001_base.sql": mig(BASE + "ROLLBACK;")}, "sqlite"),
    "verify-script-writes": ({"001_base.sql": mig(BASE),
                              "verify/001_verify_base.sql": "SELECT id, name FROM t WHERE 0;\nINSERT INTO t (name) VALUES ('x');"},
                             "sqlite"),
    "orphan-verify": ({"001_base.sql": mig(BASE), "verify/002_verify_x.sql": "SELECT 1;"}, "sqlite"),
    "may-write-through-code": ({"001_f.postgresql.sql": mig("CREATE FUNCTION fill() RETURNS void LANGUAGE sql AS "
                                                         "$$ SELECT 1 $$;\nSELECT fill();", "HIGH"),
                                "001_f.sql": mig("SELECT 1;"), "rollbacks/001_rollback_f.sql": "SELECT 1;"}, "postgresql"),
    "wrote-through-code": ({"001_base.sql": mig(BASE + "CREATE TABLE log (n INTEGER);\nINSERT INTO log VALUES (0);\n"
                                                "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN UPDATE log SET n = n + 1; END;"),
                            "002_add.sql": mig("INSERT INTO t (name) VALUES ('x');")}, "sqlite"),
    "cluster-wide": ({"001_role.postgresql.sql": mig("ALTER ROLE app_reader SET search_path = app;"),
                      "001_role.sql": mig("SELECT 1;")}, "postgresql"),
}
#: rules whose example needs what a test cannot make here (a server refusing CREATE DATABASE; a
#: replay on a server): tested by name in tests/test_lint.py and tests/test_scratch_roles.py instead
ELSEWHERE = {"rollback-unchecked", "left-on-server"}


def test_every_rule_has_an_example_and_a_help_line() -> None:
    assert set(EXAMPLES) | ELSEWHERE == set(lint.RULES)
    for rule in lint.RULES.values():
        assert rule.help and rule.summary and rule.level in ("error", "warning")
        assert f"`{rule.code}`" in markdown_table()


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_rule_fires_on_its_example(code: str, tmp_path: Path) -> None:
    files, engine = EXAMPLES[code]
    report = lint.lint(folder(tmp_path, files), engine=ENGINES[engine])
    found = [f for f in report.all_findings() if f.code == code]
    assert found, f"{code} did not fire: {[(f.code, f.message) for f in report.all_findings()]}"
    assert found[0].level == lint.RULES[code].level or code == "unknown-name"
    assert found[0].as_dict()["help"] == lint.RULES[code].help


def test_docs_rules_table_is_the_registry() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "lint.md").read_text()
    assert markdown_table() in docs, "regenerate docs/lint.md's findings table: python -m runbook.lint.registry"


# -- PostgreSQL classification from pglast's parse tree (issue 7) -------------------------------
PG_BASE = """CREATE TABLE accounts (id SERIAL PRIMARY KEY, email VARCHAR(100) NOT NULL, region_id INTEGER);
CREATE TABLE regions (id SERIAL PRIMARY KEY, name TEXT);
CREATE SEQUENCE invoice_no;
CREATE SCHEMA old_stuff;
CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION g(a text) RETURNS integer LANGUAGE sql AS 'SELECT 2';
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);
"""


def pg_unit(tmp_path: Path, body: str, risk: str = "HIGH") -> lint.MigrationLint:
    root = folder(tmp_path, {"001_base.sql": mig("SELECT 1;"), "001_base.postgresql.sql": mig(PG_BASE),
                             "002_case.sql": mig("SELECT 1;"), "002_case.postgresql.sql": mig(body, risk),
                             "rollbacks/002_rollback_case.sql": "SELECT 1;"})
    report = lint.lint(root, engine=ENGINES["postgresql"], check_rollback=False)
    return next(u for u in report.migrations if u.migration.number == 2)


@pytest.mark.parametrize("body, category", [
    ("CREATE FUNCTION h() RETURNS text LANGUAGE plpgsql AS $fn$ BEGIN DELETE FROM accounts; RETURN 'a;b'; END $fn$;", 1),
    ("/* outer /* nested; DROP TABLE accounts; */ still a comment */ SELECT 1;", 1),
    ("INSERT INTO regions (name) VALUES (E'it\\'s; DROP TABLE accounts');", 1),
    ("ALTER SEQUENCE invoice_no RENAME TO invoice_number;", 1),
    ("ALTER TRIGGER accounts_touch ON accounts RENAME TO accounts_touched;", 1),
    ("ALTER FUNCTION f(integer) RENAME TO f2;", 2),
    ("ALTER TABLE accounts RENAME CONSTRAINT accounts_email_key TO accounts_email_unique;", 1),
    ("DROP SCHEMA old_stuff;", 2),
    ("DROP FUNCTION f(integer), g(text);", 2),
    ("DROP TRIGGER accounts_touch ON accounts;", 1),
    ("CREATE OR REPLACE FUNCTION f(a integer) RETURNS integer LANGUAGE sql AS 'SELECT 3';", 1),
    ("CREATE TRIGGER accounts_audit AFTER INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION touch();", 1),
    ("ALTER TABLE accounts ALTER COLUMN region_id SET NOT NULL;", 2),
    ("ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;", 1),  # already NOT NULL: nothing to check
    ("ALTER TABLE accounts ADD COLUMN referrer_id INTEGER REFERENCES accounts(id);", 1),
    ("ALTER TABLE accounts ADD COLUMN region2 INTEGER DEFAULT 1 REFERENCES regions(id);", 2),
    ("CREATE MATERIALIZED VIEW account_counts AS SELECT region_id, count(*) FROM accounts GROUP BY region_id;\n"
     "CREATE UNIQUE INDEX ON account_counts (region_id);\nREFRESH MATERIALIZED VIEW account_counts;", 1),
    # partitions (pagila's payment): attaching moves no row; detaching takes rows out of the parent
    ("CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);\n"
     "CREATE TABLE events_2022 (at date NOT NULL);\n"
     "ALTER TABLE events ATTACH PARTITION events_2022 FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');", 1),
    ("CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);\n"
     "CREATE TABLE events_2022 PARTITION OF events FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');\n"
     "ALTER TABLE events DETACH PARTITION events_2022;", 2),
])
def test_postgresql_statements_classify_from_the_parse_tree(tmp_path: Path, body: str, category: int) -> None:
    unit = pg_unit(tmp_path, body)
    codes = {f.code for f in unit.findings}
    assert not codes & {"unparsable", "unclassified", "unknown-name"}, [f.message for f in unit.findings]
    assert unit.category == category, [(v.kind, v.category, v.reason) for v in unit.statements]


def test_a_statement_postgresql_cannot_parse_is_an_error(tmp_path: Path) -> None:
    unit = pg_unit(tmp_path, "ALTER TABLE accounts ADD COLUMN note TEXT;\nALTER TABLE accounts FROB note;")
    [f] = [f for f in unit.findings if f.code == "unparsable"]
    assert f.level == "error" and f.line == 4 and "syntax error" in f.message
    assert unit.category == 3


def test_a_statement_only_postgresql_parses_says_which_dialect_reads_it(tmp_path: Path) -> None:
    """A history written for PostgreSQL read in the default dialect (SQLite's): its unparsable
    findings say PostgreSQL's parser reads the statement; one neither parser reads says nothing more."""
    body = "ALTER TABLE t ALTER COLUMN name TYPE varchar(20) USING name::varchar;\nALTER TABLE t FROB name;\n"
    root = folder(tmp_path, {"001_base.sql": mig(BASE), "002_pg.sql": mig(body, "HIGH"),
                             "rollbacks/001_rollback_base.sql": "DROP TABLE t;",
                             "rollbacks/002_rollback_pg.sql": "SELECT 1;"})
    unit = lint.lint(root, engine=ENGINES["sqlite"], check_rollback=False).migrations[1]
    first, second = [f.message for f in unit.findings if f.code == "unparsable"]
    assert "PostgreSQL's parser reads it" in first and "--dialect postgresql" in first
    assert "syntax error" in second and "PostgreSQL" not in second


def test_sqlite_trigger_body_and_nullable_foreign_key_are_category_1(tmp_path: Path) -> None:
    body = ("ALTER TABLE t ADD COLUMN parent_id INTEGER REFERENCES t(id);\n"
            "CREATE TRIGGER t_touch AFTER UPDATE ON t BEGIN\n  UPDATE t SET name = name WHERE id = NEW.id;\n"
            "  DELETE FROM t WHERE id < 0;\nEND;\nDROP TRIGGER t_touch;\n")
    root = folder(tmp_path, {"001_base.sql": mig(BASE), "002_case.sql": mig(body),
                             "rollbacks/001_rollback_base.sql": "DROP TABLE t;"})
    report = lint.lint(root, engine=ENGINES["sqlite"])
    unit = report.migrations[1]
    assert [v.category for v in unit.statements] == [1, 1, 1] and not unit.destructive
    assert not [f for f in report.all_findings() if f.level == "error"], [f.message for f in report.all_findings()]
    assert unit.schema_source == "engine"  # names came from the replay on a scratch SQLite file


def test_names_come_from_the_engine_not_a_hand_written_model(tmp_path: Path) -> None:
    """A table the static model cannot follow (made by a statement lint does not model) exists for
    the engine: no false unknown-name when the migrations are replayed."""
    files = {"001_base.sql": mig(BASE),
             "002_copy.sql": mig("CREATE TABLE t_copy AS SELECT * FROM t WHERE 0;", "HIGH"),
             "rollbacks/002_rollback_copy.sql": "DROP TABLE t_copy;",
             "003_ix.sql": mig("CREATE INDEX t_copy_name ON t_copy (name);")}
    report = lint.lint(folder(tmp_path, files), engine=ENGINES["sqlite"])
    assert not [f for f in report.all_findings() if f.code == "unknown-name"]
    assert report.migrations[2].schema_source == "engine"


def test_the_engines_own_catalogs_are_not_unknown_names(tmp_path: Path) -> None:
    """A migration may write SQLite's ``sqlite_sequence`` or read PostgreSQL's catalogs
    (lemmy's ``UPDATE pg_index``, ``information_schema``): they exist, though no migration made
    them. Statically and on the engine's replay alike."""
    files = {"001_base.sql": mig(BASE.replace("INTEGER PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT")),
             "002_seq.sql": mig("DELETE FROM sqlite_sequence WHERE name = 't';", "HIGH")}
    sqlite_report = lint.lint(folder(tmp_path / "s", files), engine=ENGINES["sqlite"])
    pg = {"001_base.sql": mig(BASE),
          "002_catalog.sql": mig("UPDATE pg_index SET indisready = true WHERE indrelid = 't'::regclass;\n"
                                 "UPDATE pg_catalog.pg_class SET relhasindex = true WHERE relname = 't';\n"
                                 "INSERT INTO t (name) SELECT column_name FROM information_schema.columns;\n", "HIGH")}
    pg_report = lint.lint(folder(tmp_path / "p", pg), engine=ENGINES["postgresql"], dialect="postgresql")
    for report in (sqlite_report, pg_report):
        assert not [f for f in report.all_findings() if f.code == "unknown-name"], \
            [f.message for f in report.all_findings()]
        assert report.migrations[1].category == 3


@pytest.mark.postgres
def test_materialized_views_and_engine_made_names_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """With --db, names come from the engine after each replayed migration: an index on a
    materialized view, a table made by CREATE TABLE (LIKE ...), a table made inside a function
    that a migration calls: no false unknown-name."""
    from runbook.target import open_target

    body2 = ("CREATE MATERIALIZED VIEW account_counts AS SELECT region_id, count(*) AS n FROM accounts GROUP BY region_id;\n"
             "CREATE TABLE accounts_archive (LIKE accounts INCLUDING ALL);\n")
    body3 = ("CREATE UNIQUE INDEX account_counts_region ON account_counts (region_id);\n"
             "CREATE INDEX accounts_archive_email ON accounts_archive (email);\n")
    files = {"001_base.sql": mig("SELECT 1;"), "001_base.postgresql.sql": mig(PG_BASE),
             "rollbacks/001_rollback_base.sql": "SELECT 1;",
             "002_views.sql": mig("SELECT 1;"), "002_views.postgresql.sql": mig(body2),
             "rollbacks/002_rollback_views.sql": "SELECT 1;",
             "rollbacks/002_rollback_views.postgresql.sql": "DROP TABLE accounts_archive;\nDROP MATERIALIZED VIEW account_counts;",
             "003_ix.sql": mig("SELECT 1;"), "003_ix.postgresql.sql": mig(body3)}
    report = lint.lint(folder(tmp_path, files), target=open_target(pg_url))
    assert not [f for f in report.all_findings() if f.code == "unknown-name"], [f.message for f in report.all_findings()]
    by_version = {u.migration.version: u for u in report.migrations}
    assert by_version["003"].schema_source == "engine"
    assert by_version["002"].rollback_check["status"] == "passed", by_version["002"].rollback_check


SCHEMAS = {
    "001_schemas.sql": mig("CREATE SCHEMA app;\nCREATE SCHEMA audit;\n"
                           "CREATE TABLE app.users (id serial PRIMARY KEY, email text NOT NULL);\n"
                           "CREATE TABLE audit.users (id serial PRIMARY KEY, user_id int NOT NULL);\n"),
    "rollbacks/001_rollback_schemas.sql": "DROP SCHEMA audit CASCADE;\nDROP SCHEMA app CASCADE;\n",
    "002_columns.sql": mig("ALTER TABLE app.users ADD COLUMN name text;\nALTER TABLE audit.users ADD COLUMN note text;\n"
                           "CREATE INDEX users_email ON app.users (email);\n"
                           "CREATE VIEW app.named AS SELECT id, name FROM app.users;\n"),
    "rollbacks/002_rollback_columns.sql": "DROP VIEW app.named;\nDROP INDEX app.users_email;\n"
                                          "ALTER TABLE audit.users DROP COLUMN note;\nALTER TABLE app.users DROP COLUMN name;\n",
    # unqualified names after SET search_path are in that schema; a moved table keeps its columns
    "003_search_path.sql": mig("SET search_path TO audit;\nALTER TABLE users ALTER COLUMN note SET DEFAULT 'n';\n"
                               "CREATE TABLE trail (id serial PRIMARY KEY, users_id int);\n"
                               "ALTER TABLE trail SET SCHEMA app;\n"
                               "ALTER TABLE app.trail ALTER COLUMN users_id SET NOT NULL;\n", "MEDIUM"),
    "rollbacks/003_rollback_search_path.sql": "DROP TABLE app.trail;\nALTER TABLE audit.users ALTER COLUMN note DROP DEFAULT;\n",
    # a table in a dropped schema is gone: a true unknown name
    "004_drop_audit.sql": mig("DROP SCHEMA audit CASCADE;\n", "HIGH"),
    "005_late.sql": mig("ALTER TABLE audit.users ADD COLUMN late text;\nALTER TABLE users ADD COLUMN late text;\n"),
}


@pytest.mark.postgres
def test_tables_of_the_same_name_in_two_schemas(tmp_path: Path, pg_url: str) -> None:
    """``app.users`` and ``audit.users`` are two tables (each migration's names resolved as
    PostgreSQL resolves them: ``SET search_path``, ``SET SCHEMA``, ``DROP SCHEMA ... CASCADE``),
    statically and on the engine's replay alike. Before, lint keyed tables by their bare name: a
    column of one was reported missing on the other."""
    from runbook.target import open_target

    static = lint.lint(folder(tmp_path / "s", SCHEMAS), engine=ENGINES["postgresql"], dialect="postgresql")
    replayed = lint.lint(folder(tmp_path / "r", SCHEMAS), target=open_target(pg_url), dialect="postgresql")
    for report in (static, replayed):
        unknown = [(Path(f.file).name, f.message) for f in report.all_findings() if f.code == "unknown-name"]
        assert len(unknown) == 2 and all(name == "005_late.sql" for name, _ in unknown), unknown
        assert "audit.users" in unknown[0][1] and "users" in unknown[1][1], unknown
        assert "column-default" in report.migrations[2].statements[1].kind
    assert replayed.migrations[2].schema_source == "engine"
    assert replayed.migrations[1].rollback_check["status"] == "passed", replayed.migrations[1].rollback_check


def test_incremental_introspection_equals_a_full_one(tmp_path: Path) -> None:
    """The replay re-reads only the tables a migration names (and those whose foreign keys point
    at them): after a rename that rewrites another table's foreign key, the result is the same as
    reading everything."""
    import sqlite3

    import sqlalchemy as sa

    from runbook.lint.check import lint_migration, touched_names
    from runbook.lint.model import reflect
    from runbook.migrations import discover

    db = tmp_path / "x.db"
    sqlite3.connect(db).executescript(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT);"
        "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));"
        "CREATE TABLE untouched (id INTEGER PRIMARY KEY);").close()
    root = folder(tmp_path, {"001_rename.sql": mig("ALTER TABLE a RENAME TO c;\nCREATE INDEX c_name ON c (name);", "MEDIUM"),
                             "rollbacks/001_rollback_rename.sql": "DROP INDEX c_name;\nALTER TABLE c RENAME TO a;"})
    [m] = discover(root)
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        state = reflect(conn)
    unit = lint_migration(m, ENGINES["sqlite"], state[0].copy())
    touched = touched_names(unit, state, ENGINES["sqlite"])
    assert touched == {"a", "b"}
    sqlite3.connect(db).executescript("ALTER TABLE a RENAME TO c; CREATE INDEX c_name ON c (name);").close()
    with engine.connect() as conn:
        partial, full = reflect(conn, state, touched), reflect(conn)
    assert partial[1] == full[1]
    assert partial[1]["tables"]["b"]["foreign_keys"][0]["referred_table"] == "c"
    assert partial[0].tables.keys() == full[0].tables.keys() and partial[0].indexes == full[0].indexes


def test_a_rollback_that_leaves_a_view_behind_is_a_mismatch(tmp_path: Path) -> None:
    files = {"001_base.sql": mig(BASE + "CREATE VIEW names AS SELECT name FROM t;"),
             "rollbacks/001_rollback_base.sql": "DROP TABLE t;"}  # forgets the view
    report = lint.lint(folder(tmp_path, files), engine=ENGINES["sqlite"])
    [f] = [f for f in report.all_findings() if f.code == "rollback-mismatch"]
    assert "view names" in f.message


def test_sqlite_table_options_are_a_new_table(tmp_path: Path) -> None:
    files = {"001_base.sql": mig("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;\n"
                                 "CREATE TABLE s (id INTEGER PRIMARY KEY, n INTEGER) STRICT;")}
    report = lint.lint(folder(tmp_path, files), engine=ENGINES["sqlite"], check_rollback=False)
    assert [v.kind for v in report.migrations[0].statements] == ["create-table", "create-table"]
    assert not report.all_findings()


# -- verify scripts: what reads and what writes, by the engine's parser -----------------------------
@pytest.mark.parametrize("dialect, sql, writes", [
    ("sqlite", "SELECT id, name FROM t WHERE 0", False),
    ("sqlite", "SELECT 1 / COUNT(*) FROM sqlite_master WHERE name = 't'", False),
    ("sqlite", "WITH n AS (SELECT 1) SELECT * FROM n", False),
    ("sqlite", "SELECT name FROM t INDEXED BY ix WHERE 0", False),
    ("sqlite", "PRAGMA table_info(t)", False),
    ("sqlite", "EXPLAIN QUERY PLAN SELECT * FROM t", False),
    ("sqlite", "ROLLBACK", False),
    ("sqlite", "PRAGMA user_version = 3", True),
    ("sqlite", "WITH n AS (SELECT 1) DELETE FROM t", True),
    ("sqlite", "REPLACE INTO t VALUES (1, 'x')", True),
    ("sqlite", "CREATE TABLE u (id INTEGER)", True),
    ("sqlite", "ALTER TABLE t ADD COLUMN x", True),
    ("postgresql", "SELECT 1/count(*) FROM pg_namespace WHERE nspname = 'app'", False),
    ("postgresql", "DO $$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM t; ASSERT n > 0, 'empty'; END $$", False),
    ("postgresql", "SET LOCAL statement_timeout = '1s'", False),
    ("postgresql", "EXPLAIN SELECT * FROM t", False),
    ("postgresql", "DO $$ BEGIN INSERT INTO t VALUES (1); END $$", True),
    ("postgresql", "DO $$ BEGIN EXECUTE 'SELECT 1'; END $$", True),
    ("postgresql", "WITH d AS (DELETE FROM t RETURNING id) SELECT count(*) FROM d", True),
    ("postgresql", "SELECT * INTO t_copy FROM t", True),
    ("postgresql", "SELECT * FROM t FOR UPDATE", True),
    ("postgresql", "EXPLAIN ANALYZE UPDATE t SET name = 'x'", True),
    ("postgresql", "CREATE INDEX ix ON t (name)", True),
])
def test_what_a_verify_script_may_run(dialect: str, sql: str, writes: bool) -> None:
    [st] = split(sql, dialect)
    assert bool(st.writes(dialect)) is writes, st.writes(dialect)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_the_demo_verify_scripts_only_read(engine: str) -> None:
    report = lint.lint(MIGRATIONS, engine=ENGINES[engine], check_rollback=False)
    assert [f.message for f in report.all_findings() if f.code in ("verify-script-writes", "orphan-verify")] == []


#: Prisma/Drizzle quote every name: ``"User"`` and ``user`` are two tables for PostgreSQL
QUOTED = {
    "001_tables.sql": mig('CREATE TABLE "User" (id serial PRIMARY KEY, "Email" text);\n'
                          "CREATE TABLE user_ (id bigserial PRIMARY KEY);\n"
                          'CREATE TABLE Account (id smallserial PRIMARY KEY, "Owner" int);\n'
                          'CREATE TABLE "user" (id int PRIMARY KEY, handle varchar(20));\n'),
    "rollbacks/001_rollback_tables.sql": 'DROP TABLE "user";\nDROP TABLE account;\nDROP TABLE user_;\nDROP TABLE "User";\n',
}


def static_model(root: Path, engine: str) -> "lint.SchemaModel":
    """The static model after every migration of ``root`` (no database)."""
    from runbook.lint.check import lint_migration
    from runbook.migrations import discover

    model = lint.SchemaModel()
    for m in discover(root, "postgresql" if engine == "postgresql" else None):
        lint_migration(m, ENGINES[engine], model)
    return model


def columns(model: "lint.SchemaModel") -> dict:
    return {t: {c.name: (c.type.text if c.type else None, c.nullable) for c in info.columns.values()}
            for t, info in model.tables.items()}


def static_and_engine_models(tmp_path: Path, url: str, files: dict[str, str], name: str) -> tuple:
    """Lint's static model of ``files`` on PostgreSQL, and the model read from the engine once
    ``files[name]`` ran on ``url``."""
    from runbook.target import open_target

    static = static_model(folder(tmp_path, files), "postgresql")
    with open_target(url).engine().begin() as conn:
        conn.exec_driver_sql(files[name])
    with open_target(url).engine().connect() as conn:
        return static, lint.schema_from_database(conn)


@pytest.mark.postgres
def test_static_model_keeps_quoted_case_and_the_types_postgresql_holds(tmp_path: Path, pg_empty_url: str) -> None:
    """The static model of a history with ``"User"``, ``"user"`` and ``Account`` is the one
    PostgreSQL reports once the same SQL ran on it: quoted names keep their case, unquoted ones
    are folded, and ``serial``/``bigserial``/``smallserial`` are the integer types the engine holds
    (NOT NULL). Before, the names were all lower-cased (``"User"`` and ``"user"`` merged) and the
    types were ``serial``."""
    static, engine_model = static_and_engine_models(tmp_path, pg_empty_url, QUOTED, "001_tables.sql")
    assert set(static.tables) == {"User", "user", "user_", "account"}
    assert columns(static) == columns(engine_model)
    assert static.tables["User"].columns["id"].type.text == "integer"


#: identity columns, none of them declared NOT NULL or a key: PostgreSQL makes each NOT NULL
IDENTITY = {
    "001_identity.sql": mig("CREATE TABLE ticket (id bigint GENERATED ALWAYS AS IDENTITY, "
                            "n int GENERATED BY DEFAULT AS IDENTITY (START WITH 10), note text);\n"
                            "ALTER TABLE ticket ADD COLUMN seq smallint GENERATED ALWAYS AS IDENTITY;\n"),
    "rollbacks/001_rollback_identity.sql": "DROP TABLE ticket;\n",
}


@pytest.mark.postgres
def test_static_model_makes_identity_columns_not_null_as_postgresql_does(tmp_path: Path, pg_empty_url: str) -> None:
    """A column ``GENERATED ... AS IDENTITY`` (in CREATE TABLE or added by ALTER TABLE) is NOT NULL
    and has a default in the static model, as in the model read from PostgreSQL once the same SQL
    ran there: the engine adds the NOT NULL. Before, the static model had them nullable."""
    static, engine_model = static_and_engine_models(tmp_path, pg_empty_url, IDENTITY, "001_identity.sql")
    assert columns(static) == columns(engine_model)
    defaults = {c.name: c.has_default for c in static.tables["ticket"].columns.values()}
    assert defaults == {c.name: c.has_default for c in engine_model.tables["ticket"].columns.values()}
    assert columns(static)["ticket"] == {"id": ("bigint", False), "n": ("integer", False), "note": ("text", True),
                                         "seq": ("smallint", False)}


def test_quoted_names_are_distinct_tables_for_unknown_name(tmp_path: Path) -> None:
    """``ALTER TABLE "user"`` when only ``"User"`` exists names a table that is not there; a
    column of ``"User"`` is not one of ``user``; ``User`` unquoted is ``user``. SQLite ignores case."""
    files = {"001_base.sql": mig('CREATE TABLE "User" (id int PRIMARY KEY, "Email" text);\n'),
             "002_add.sql": mig('ALTER TABLE "user" ADD COLUMN note text;\n'
                                'ALTER TABLE "User" ADD COLUMN note text;\n'
                                'CREATE INDEX user_email ON "User" ("Email");\n'
                                'CREATE INDEX user_email2 ON "User" (email);\n')}
    report = lint.lint(folder(tmp_path / "p", files), engine=ENGINES["postgresql"], dialect="postgresql",
                       check_rollback=False)
    unknown = [f.message for f in report.all_findings() if f.code == "unknown-name"]
    assert len(unknown) == 2 and any('user' in m and 'User' not in m for m in unknown) \
        and any("email" in m for m in unknown), unknown
    sqlite = {"001_base.sql": mig("CREATE TABLE User (id INTEGER PRIMARY KEY, Email TEXT);\n"),
              "002_add.sql": mig('ALTER TABLE "user" ADD COLUMN note TEXT;\nCREATE INDEX e ON USER (email);\n')}
    report = lint.lint(folder(tmp_path / "s", sqlite), engine=ENGINES["sqlite"], check_rollback=False)
    assert not [f for f in report.all_findings() if f.code == "unknown-name"], report.all_findings()


def test_serial_column_type_in_messages(tmp_path: Path) -> None:
    """A type change of a ``serial`` column names ``integer``, the type PostgreSQL holds."""
    unit = pg_unit(tmp_path, "CREATE TABLE s (id serial PRIMARY KEY);\nALTER TABLE s ALTER COLUMN id TYPE bigint;\n")
    messages = " ".join(v.reason for v in unit.statements)
    assert "from integer to bigint" in messages and "serial" not in messages, messages


@pytest.mark.postgres
def test_quoted_names_on_the_engines_replay(tmp_path: Path, pg_empty_url: str) -> None:
    """With a database, the model read from PostgreSQL keeps ``"User"`` and ``"user"`` apart too:
    a column of one is not taken for a column of the other. Before, the read names were lower-cased
    and the two tables merged."""
    from runbook.target import open_target

    files = {**QUOTED, "002_index.sql": mig('CREATE INDEX user_email ON "user" ("Email");\n'
                                            'CREATE INDEX user_handle ON "User" (handle);\n')}
    report = lint.lint(folder(tmp_path, files), target=open_target(pg_empty_url), dialect="postgresql")
    unknown = [f.message for f in report.all_findings() if f.code == "unknown-name"]
    assert len(unknown) == 2 and report.migrations[1].schema_source == "engine", unknown
    assert report.migrations[0].rollback_check["status"] == "passed", report.migrations[0].rollback_check
