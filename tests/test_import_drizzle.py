"""``runbook import`` of drizzle-kit histories: the files its ``meta/_journal.json`` lists, in its
order, the dialect it names, Drizzle's ``DO ... EXCEPTION WHEN duplicate_object`` blocks classified
as what they create, adoption from drizzle-orm's ``__drizzle_migrations`` (by its rule: what is not
after the latest ``created_at`` is applied) on SQLite and the real PostgreSQL server, and each
refusal with nothing written. Fixtures are written here as drizzle-kit writes them."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from runbook import importer
from runbook import migrations as mig
from runbook.errors import BadInput
from runbook.migrate import migrate
from runbook.target import open_target

from test_import import TODAY, run_cli, sqlite_db
from test_project_dialect import write_folder as write

PG_INIT = """DO $$ BEGIN
 CREATE TYPE "public"."role" AS ENUM('admin', 'user');
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "users" (
\t"id" serial PRIMARY KEY NOT NULL,
\t"name" text NOT NULL,
\t"role" "role" DEFAULT 'user' NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "posts" (
\t"id" serial PRIMARY KEY NOT NULL,
\t"author_id" integer NOT NULL,
\t"title" text
);
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "posts" ADD CONSTRAINT "posts_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
"""
PG_PUBLISHED = ('ALTER TABLE "posts" ADD COLUMN "published" boolean DEFAULT false NOT NULL;--> statement-breakpoint\n'
                'UPDATE "posts" SET "published" = true WHERE "title" IS NOT NULL;')
SQLITE_INIT = ("CREATE TABLE `users` (\n\t`id` integer PRIMARY KEY NOT NULL,\n\t`name` text NOT NULL\n);\n"
               "--> statement-breakpoint\nCREATE UNIQUE INDEX `users_name_unique` ON `users` (`name`);")
SQLITE_REBUILD = """PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_users` (
\t`id` integer PRIMARY KEY NOT NULL,
\t`name` text NOT NULL,
\t`email` text
);
--> statement-breakpoint
INSERT INTO `__new_users`("id", "name") SELECT "id", "name" FROM `users`;--> statement-breakpoint
DROP TABLE `users`;--> statement-breakpoint
ALTER TABLE `__new_users` RENAME TO `users`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `users_name_unique` ON `users` (`name`);"""


def journal(dialect: str, *tags: tuple[str, int]) -> str:
    return json.dumps({"version": "7", "dialect": dialect, "entries": [
        {"idx": i, "version": "7", "when": when, "tag": tag, "breakpoints": True} for i, (tag, when) in enumerate(tags)]})


def drizzle_folder(root: Path, dialect: str, files: dict[str, str], whens: dict[str, int] | None = None) -> Path:
    """A drizzle-kit folder: ``files`` (tag → SQL) and the journal listing them in that order."""
    whens = whens or {tag: 1700000000000 + 1000 * i for i, tag in enumerate(files)}
    return write(root, {"meta/_journal.json": journal(dialect, *whens.items())}
                 | {f"{tag}.sql": sql for tag, sql in files.items()})


def test_drizzle_migrations_import_in_journal_order_with_the_journals_dialect(tmp_path):
    src = drizzle_folder(tmp_path / "drizzle", "sqlite", {"0000_cool_hulk": SQLITE_INIT, "0001_odd_storm": SQLITE_REBUILD},
                         whens={"0000_cool_hulk": 1720000000000, "0001_odd_storm": 1720086400000})
    (src / "0002_draft.sql").write_text("DROP TABLE users;\n")  # not in the journal: drizzle never runs it
    (src / "meta" / "0000_snapshot.json").write_text("{}")
    result = importer.import_history(src, tmp_path / "migrations", today=TODAY)
    assert (result.tool, result.dialect) == ("drizzle", "sqlite")
    assert [(m["source_version"], m["name"], m["rollback"]) for m in result.migrations] == [
        ("1720000000000", "cool_hulk", None), ("1720086400000", "odd_storm", None)]
    first = (tmp_path / "migrations" / "001_cool_hulk.sql").read_text()
    assert "-- Date: 2024-07-03\n" in first and "-- Source: drizzle version 1720000000000 (0000_cool_hulk.sql)" in first
    assert any("0002_draft.sql: not in meta/_journal.json, so drizzle never runs it" in n for n in result.notes)
    target = open_target(sqlite_db(tmp_path / "app.db"))
    assert migrate(target, tmp_path / "migrations").passed
    with target.engine().connect() as conn:
        assert [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(users)")] == ["id", "name", "email"]


@pytest.mark.postgres
def test_drizzle_do_blocks_are_what_they_create_and_a_postgresql_database_is_adopted(pg_empty_url, tmp_path, capsys):
    """Drizzle's enum and foreign key come in ``DO $$ BEGIN ... EXCEPTION WHEN duplicate_object``
    blocks: the init migration is LOW (new type, tables, a key to a table it creates), not an
    unclassified HIGH. A database drizzle-orm migrated to 0000 (its table in schema ``drizzle``)
    is adopted at 001 and the runbook applies 0001."""
    src = drizzle_folder(tmp_path / "drizzle", "pg", {"0000_brave_wolverine": PG_INIT,  # older drizzle-kit's name
                                                              "0001_icy_loners": PG_PUBLISHED})
    target = open_target(pg_empty_url)
    with target.engine().begin() as conn:  # as drizzle-orm's migrator leaves it
        conn.exec_driver_sql(PG_INIT)
        conn.exec_driver_sql("CREATE SCHEMA drizzle")
        conn.exec_driver_sql("CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, "
                             "created_at bigint)")
        conn.exec_driver_sql("INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('x', 1700000000000)")
        conn.exec_driver_sql("INSERT INTO users (name) VALUES ('ada')")
        conn.exec_driver_sql("INSERT INTO posts (author_id, title) VALUES (1, 'hello')")
    dest = tmp_path / "migrations"
    doc = run_cli(capsys, "import", str(src), "--migrations", str(dest), "--db", pg_empty_url)
    assert doc["dialect"] == "postgresql"
    assert [(m["version"], m["risk"]) for m in doc["migrations"]] == [("001", "LOW"), ("002", "HIGH")]
    assert doc["adopt"]["table"] == "drizzle.__drizzle_migrations" and doc["adopt"]["applied"] == ["1700000000000"]
    run_cli(capsys, *shlex.split(doc["adopt"]["command"])[1:])
    result = migrate(target, dest, dialect="postgresql")
    assert [(m.version, m.status) for m in result.migrations] == [("002", "applied")], result.error
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM posts WHERE published").scalar() == 1
        assert conn.exec_driver_sql("SELECT count(*) FROM drizzle.__drizzle_migrations").scalar() == 1  # read only


@pytest.mark.parametrize("rows, applied", [
    ([], []),
    ([1720000000000], ["1720000000000"]),
    ([1720000000000, 1720086400000], ["1720000000000", "1720086400000"]),
    ([1720000000000.0, 1720050000000], ["1720000000000"]),  # numeric on SQLite; a later created_at drizzle never had
])
def test_drizzle_sqlite_table_applies_what_is_not_after_its_latest_created_at(tmp_path, rows, applied):
    src = drizzle_folder(tmp_path / "drizzle", "sqlite", {"0000_cool_hulk": SQLITE_INIT, "0001_odd_storm": SQLITE_REBUILD},
                         whens={"0000_cool_hulk": 1720000000000, "0001_odd_storm": 1720086400000})
    url = sqlite_db(tmp_path / "app.db", "CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, "
                                         "created_at numeric)",
                    *[f"INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('h', {r})" for r in rows])
    state = importer.adoption(open_target(url), "drizzle", importer.read_history(src)[1])
    assert (state.table, state.applied) == ("__drizzle_migrations", applied)


@pytest.mark.parametrize("case, message", [
    ("missing file", r"lists 0001_icy_loners, and 0001_icy_loners.sql is not there"),
    ("mysql", r"dialect 'mysql': the runbook runs PostgreSQL and SQLite migrations only"),
    ("bad journal", r"not a journal drizzle-kit wrote"),
    ("no journal", r"holds no meta/_journal.json"),
    ("dialect given", r"names its dialect, so its scripts are postgresql, not sqlite"),
])
def test_drizzle_refusals_write_nothing(tmp_path, capsys, case, message):
    src = drizzle_folder(tmp_path / "drizzle", "mysql" if case == "mysql" else "postgresql",
                         {"0000_brave_wolverine": PG_INIT, "0001_icy_loners": PG_PUBLISHED})
    extra: list[str] = []
    if case == "missing file":
        (src / "0001_icy_loners.sql").unlink()
    elif case == "bad journal":
        (src / "meta" / "_journal.json").write_text('{"entries": [{"idx": 0}]}')
    elif case == "no journal":
        (src / "meta" / "_journal.json").unlink()
        extra = ["--from", "drizzle"]
    elif case == "dialect given":
        extra = ["--dialect", "sqlite"]
    doc = run_cli(capsys, "import", str(src), "--migrations", str(tmp_path / "migrations"), *extra, expect=2)
    assert re.search(message, doc["error"]["message"]), doc["error"]["message"]
    assert "nothing was written" in doc["error"]["message"]
    assert not (tmp_path / "migrations").exists()


def test_a_journal_whose_when_goes_back_is_said_and_its_database_refused(tmp_path):
    """drizzle-orm skips a migration whose ``when`` is not after the latest one a database holds
    (two branches merged): the import says so, and adoption refuses the database it may lack one of."""
    src = drizzle_folder(tmp_path / "drizzle", "sqlite", {"0000_cool_hulk": SQLITE_INIT, "0001_odd_storm": SQLITE_REBUILD},
                         whens={"0000_cool_hulk": 1720086400000, "0001_odd_storm": 1720000000000})
    result = importer.import_history(src, tmp_path / "migrations", today=TODAY)
    assert any("do not increase in journal order" in n for n in result.notes), result.notes
    url = sqlite_db(tmp_path / "app.db", "CREATE TABLE __drizzle_migrations (id SERIAL PRIMARY KEY, hash text, created_at numeric)",
                    "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('h', 1720000000000)")
    with pytest.raises(BadInput, match="applied out of order"):
        importer.adoption(open_target(url), "drizzle", importer.read_history(src)[1])
    assert mig.discover(tmp_path / "migrations")  # the import itself stands
