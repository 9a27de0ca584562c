"""``runbook import --from pop``: gobuffalo pop's and Ory popx's SQL migrations (Kratos, Hydra, Keto),
one folder holding files for several databases."""

from __future__ import annotations

import shlex

import pytest

from runbook import importer
from runbook import migrations as mig
from runbook.errors import BadInput
from runbook.migrate import migrate
from runbook.target import open_target

from test_import import run_cli, sqlite_db
from test_project_dialect import write_folder as write

#: as Kratos writes them: a file for all databases, files per database winning over it, a version
#: only one database has, an empty no-op, and an index built outside a transaction
POP = {
    "20200101000000000000_identities.up.sql": "CREATE TABLE identities (id VARCHAR(36) PRIMARY KEY, traits TEXT);\n",
    "20200101000000000000_identities.down.sql": "DROP TABLE identities;\n",
    "20200102000000000000_state.postgres.up.sql": "ALTER TABLE identities ADD COLUMN state TEXT NOT NULL DEFAULT 'active';\n",
    "20200102000000000000_state.postgres.down.sql": "ALTER TABLE identities DROP COLUMN state;\n",
    "20200102000000000000_state.sqlite3.up.sql": "ALTER TABLE identities ADD COLUMN state TEXT NOT NULL DEFAULT 'on';\n",
    "20200102000000000000_state.sqlite3.down.sql": "ALTER TABLE identities DROP COLUMN state;\n",
    "20200102000000000000_state.up.sql": "SELECT 1;\n",  # for the others (MySQL...): not chosen here
    "20200103000000000000_mysql_only.mysql.up.sql": "ALTER TABLE identities ENGINE=InnoDB;\n",
    "20200104000000000000_nothing.up.sql": "",
    "20200105000000000000_traits_index.postgres.autocommit.up.sql":
        "CREATE INDEX CONCURRENTLY identities_traits ON identities (traits);\n",
    "20200105000000000000_traits_index.postgres.autocommit.down.sql": "DROP INDEX CONCURRENTLY identities_traits;\n",
    "20200105000000000000_traits_index.sqlite3.up.sql": "CREATE INDEX identities_traits ON identities (traits);\n",
    "20200105000000000000_traits_index.sqlite3.down.sql": "DROP INDEX identities_traits;\n",
}


def test_pop_migrations_are_read_for_the_dialect_asked_the_database_s_own_file_winning(tmp_path):
    src = write(tmp_path / "sql", POP)
    assert importer.detect(src) == "pop"
    for dialect, state in (("sqlite", "'on'"), ("postgresql", "'active'")):
        result = importer.import_history(src, tmp_path / dialect, dialect=dialect)
        assert [m["source_version"][-15:-12] for m in result.migrations] == ["101", "102", "104", "105"]
        assert state in (tmp_path / dialect / "002_state.sql").read_text()
        assert [m["rollback"] for m in result.migrations] == ["written", "written", None, "written"]
    autocommit = (tmp_path / "postgresql" / "004_traits_index.sql").read_text()
    assert "pop: `.autocommit` in its name: a statement the engine refuses inside a transaction runs outside one" \
        in autocommit and "CONCURRENTLY" in autocommit


@pytest.mark.parametrize("extra, dialect, message", [
    ({}, None, "pop keeps migrations for several databases side by side: say which ones to import with --dialect"),
    ({"20200106000000000000_x.up.fizz": 'create_table("x") {}\n'}, "sqlite",
     r"20200106000000000000_x.up.fizz: pop's fizz migration\(s\), its own DSL"),
    ({"20200106000000000000_x.oracle.up.sql": "SELECT 1;\n"}, "sqlite", "for a database pop does not know"),
    ({"20200102000000000000_state.sqlite.up.sql": "SELECT 2;\n"}, "sqlite",
     "two up files for version 20200102000000000000 on sqlite"),
    ({"20200107000000000000_gone.sqlite3.down.sql": "SELECT 1;\n"}, "sqlite", "a down script without its up script"),
])
def test_pop_folders_the_runbook_cannot_take_are_refused_with_nothing_written(tmp_path, extra, dialect, message):
    src = write(tmp_path / "sql", POP | extra)
    with pytest.raises(BadInput, match=message):
        importer.import_history(src, tmp_path / "migrations", tool="pop", dialect=dialect)
    assert not (tmp_path / "migrations").exists()


def test_a_pop_sqlite_database_is_adopted_from_schema_migration_and_migrated_on(tmp_path, capsys, monkeypatch):
    """popx records each version applied in ``schema_migration``; what is not there is pending."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "sql", POP)
    url = sqlite_db(tmp_path / "app.db", POP["20200101000000000000_identities.up.sql"],
                    "CREATE TABLE schema_migration (version VARCHAR(48) NOT NULL, version_self INT NOT NULL DEFAULT 0)",
                    "INSERT INTO schema_migration (version) VALUES ('20200101000000000000')",
                    "INSERT INTO identities VALUES ('a', '{}')")
    doc = run_cli(capsys, "import", "sql", "--dialect", "sqlite", "--migrations", "migrations", "--db", url)
    assert doc["tool"] == "pop" and doc["adopt"]["applied"] == ["20200101000000000000"]
    run_cli(capsys, *shlex.split(doc["adopt"]["command"])[1:])
    target = open_target(url)
    result = migrate(target, "migrations")
    assert [(m.version, m.status) for m in result.migrations] == [("002", "applied"), ("003", "applied"),
                                                                  ("004", "applied")], result.error
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT id, state FROM identities").all() == [("a", "on")]
        assert [a.version for a in mig.applied(conn)] == ["001", "002", "003", "004"]


@pytest.mark.postgres
def test_pop_postgresql_history_runs_its_autocommit_index_outside_a_transaction(pg_empty_url, tmp_path):
    src = write(tmp_path / "sql", POP)
    dest = tmp_path / "migrations"
    importer.import_history(src, dest, dialect="postgresql")
    target = open_target(pg_empty_url)
    assert migrate(target, dest, dialect="postgresql").passed
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT indisvalid FROM pg_index WHERE indexrelid = 'identities_traits'::regclass"
                                    ).scalar() is True
        assert conn.exec_driver_sql("SELECT column_default FROM information_schema.columns "
                                    "WHERE table_name = 'identities' AND column_name = 'state'").scalar() == "'active'::text"


#: supabase/auth's pop migrations print the connection's ``Namespace`` option; popx's test the
#: database's kind
TEMPLATED = {
    "00_init.up.sql": 'CREATE TABLE IF NOT EXISTS {{ index .Options "Namespace" }}.users (id uuid PRIMARY KEY);\n',
    "20210710035447_alter_users.up.sql":
        '{{/* a comment */}}ALTER TABLE {{index .Options "Namespace" }}.users ADD COLUMN phone text;\n',
    "20210710035447_alter_users.down.sql": 'ALTER TABLE {{ index .Options "Namespace" }}.users DROP COLUMN phone;\n',
    "20210801000000_kinds.up.sql": "{{ if .IsPostgreSQL }}CREATE INDEX users_phone ON auth.users (phone);"
                                   "{{ else }}SELECT 'other';{{ end }}\n"
                                   "{{- if not .IsSQLite }}\nSELECT 1;\n{{ end -}}\n",
}


def test_pop_templates_are_rendered_as_pop_renders_them_for_the_database_imported_for(tmp_path):
    src = write(tmp_path / "sql", TEMPLATED)
    dest = tmp_path / "migrations"
    importer.import_history(src, dest, tool="pop", dialect="postgresql", placeholders={"Namespace": "auth"})
    body = (dest / "001_init.sql").read_text()
    assert "CREATE TABLE IF NOT EXISTS auth.users (id uuid PRIMARY KEY);" in body and "{{" not in body
    assert "ALTER TABLE auth.users ADD COLUMN phone text;" in (dest / "002_alter_users.sql").read_text()
    assert "ALTER TABLE auth.users DROP COLUMN phone;" in (dest / "rollbacks" / "002_rollback_alter_users.sql").read_text()
    kinds = (dest / "003_kinds.sql").read_text()
    assert "CREATE INDEX users_phone ON auth.users (phone);\nSELECT 1;\n" in kinds and "other" not in kinds


@pytest.mark.parametrize("text, message", [
    ('SELECT {{ index .Options "Namespace" }};\n', r'00_init.up.sql:1: \{\{ index .Options "Namespace" \}\} is a value '
                                                   r"of pop's connection: give it with --placeholder Namespace=VALUE"),
    ("SELECT 1;\nSELECT '{{ .Password }}';\n", r"00_init.up.sql:2: \{\{ .Password \}\} prints the connection's password"),
    ("{{ range .Options }}SELECT 1;{{ end }}\n", r"\{\{ range .Options \}\} is a Go template action import cannot render"),
    ("{{ if .IsOracle }}SELECT 1;{{ end }}\n", r"tests .IsOracle, which pop's and popx's templates do not give"),
    ("{{ if .IsSQLite }}SELECT 1;\n", r"an \{\{ if \}\} without its \{\{ end \}\}"),
])
def test_a_pop_template_import_cannot_render_exactly_is_refused_naming_its_line(tmp_path, text, message):
    src = write(tmp_path / "sql", {"00_init.up.sql": text})
    with pytest.raises(BadInput, match=message):
        importer.import_history(src, tmp_path / "migrations", tool="pop", dialect="sqlite")
    assert not (tmp_path / "migrations").exists()
