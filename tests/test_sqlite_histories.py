"""What real SQLite histories showed the runbook getting wrong: spacedrive's Prisma migrations
(a foreign key naming a table the same migration creates further down), Komga's Flyway ones
(FTS5 virtual tables sqlglot's grammar does not read), Karakeep's drizzle-kit ones (table
constraints without commas, a rebuild's copy filling a new column from another table). Each case is the smallest folder that
reproduced it, linted against a real (empty) SQLite file, as ``runbook lint --db`` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook import lint
from runbook.target import open_target

HEAD = "-- Migration: m\n-- Risk Level: {risk}\n"


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "migrations"
    (root / "rollbacks").mkdir(parents=True)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def lint_on_file(tmp_path: Path, files: dict[str, str]) -> lint.LintReport:
    tmp_path.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "empty.db"
    db.touch()
    return lint.lint(folder(tmp_path, files), target=open_target(f"sqlite:///{db}"))


def unknown_names(report: lint.LintReport) -> list[str]:
    return [f"{Path(f.file).name}:{f.line}: {f.message}" for f in report.all_findings() if f.code == "unknown-name"]


def test_a_foreign_key_to_a_table_created_later_in_the_same_migration_is_no_unknown_name(tmp_path: Path) -> None:
    """Prisma's first migration creates tables in name order, so owned_operation references node
    before node's CREATE TABLE: SQLite accepts it (it looks the target up when a row is written)
    and the migration ends with both. A reference still dangling at the end of its migration
    (Plume's users → medias, created three migrations later) stays an unknown name."""
    first = ('CREATE TABLE "owned_operation" ("id" BLOB NOT NULL PRIMARY KEY, "node_id" INTEGER NOT NULL,\n'
             '  CONSTRAINT "owned_operation_node_id_fkey" FOREIGN KEY ("node_id") REFERENCES "node" ("id"));\n'
             'CREATE TABLE "node" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL);\n'
             "CREATE TABLE users (id INTEGER PRIMARY KEY, avatar_id INTEGER REFERENCES medias(id));\n")
    files = {"001_init.sql": HEAD.format(risk="LOW") + first,
             "rollbacks/001_rollback_init.sql": "DROP TABLE users;\nDROP TABLE node;\nDROP TABLE owned_operation;\n",
             "002_medias.sql": HEAD.format(risk="LOW") + "CREATE TABLE medias (id INTEGER PRIMARY KEY);\n",
             "rollbacks/002_rollback_medias.sql": "DROP TABLE medias;\n"}
    report = lint_on_file(tmp_path, files)
    found = unknown_names(report)
    assert len(found) == 1 and "001_init.sql:6" in found[0] and "medias" in found[0], found
    assert "at the end of its migration" in found[0], found
    assert report.migrations[0].category == 1


def test_an_fts5_virtual_table_is_a_new_table(tmp_path: Path) -> None:
    """Komga's full-text search: CREATE VIRTUAL TABLE ... USING fts5(... UNINDEXED, content=...),
    which sqlglot's SQLite grammar rejects, then the FTS 'rebuild' command and the triggers that
    keep it current. A new table (Category 1), not an unclassified statement followed by unknown
    names."""
    body = ("CREATE TABLE book (book_id TEXT PRIMARY KEY, title TEXT NOT NULL);\n"
            "create virtual table fts_book using fts5(title, book_id UNINDEXED, content=book, "
            "tokenize = 'porter unicode61 remove_diacritics 2');\n"
            "INSERT INTO fts_book(fts_book) VALUES('rebuild');\n"
            "CREATE TRIGGER book__after_insert AFTER INSERT ON book BEGIN\n"
            "  INSERT INTO fts_book(rowid, title, book_id) VALUES (new.rowid, new.title, new.book_id);\nEND;\n"
            "CREATE VIRTUAL TABLE IF NOT EXISTS \"fts_plain\" USING fts5(title);\n")
    files = {"001_fts.sql": HEAD.format(risk="LOW") + body,
             "rollbacks/001_rollback_fts.sql": "DROP TABLE fts_plain;\nDROP TABLE fts_book;\nDROP TABLE book;\n"}
    report = lint_on_file(tmp_path, files)
    unit = report.migrations[0]
    codes = {f.code for f in report.all_findings()}
    assert not codes & {"unclassified", "unknown-name", "unparsable"}, [f.message for f in report.all_findings()]
    assert not [f for f in report.all_findings() if f.level == "error"], [f.message for f in report.all_findings()]
    assert unit.category == 1, [(v.kind, v.reason) for v in unit.statements]
    kinds = [v.kind for v in unit.statements]
    assert kinds == ["create-table", "create-table", "insert-values", "create-trigger", "create-table"], kinds


# -- table names spelled in another case (Komga: ``alter table library`` on ``LIBRARY``) ----------
BOOK = ("-- Migration: book\n-- Risk Level: LOW\n"
        "CREATE TABLE BOOK (ID INTEGER PRIMARY KEY, NAME TEXT NOT NULL);\n")


def book_rows(tmp_path: Path) -> tuple[str, Path]:
    """A real SQLite file at 001 (table ``BOOK``) holding two rows, and its migrations folder."""
    from runbook.migrate import migrate

    root = folder(tmp_path, {"001_book.sql": BOOK, "rollbacks/001_rollback_book.sql": "DROP TABLE BOOK;\n"})
    (tmp_path / "app.db").touch()
    url = f"sqlite:///{tmp_path / 'app.db'}"
    target = open_target(url)
    assert migrate(target, root, run_id="base").passed
    with target.engine().begin() as conn:
        conn.exec_driver_sql("INSERT INTO BOOK (NAME) VALUES ('saga'), ('bone')")
    target.dispose()
    return url, root


def test_an_update_naming_the_table_in_lower_case_is_declared(tmp_path: Path) -> None:
    """SQLite's names ignore case: ``update book`` changes ``BOOK``, and declares it. The rehearsal's
    verify of its copy (no writers there) took the change for an undeclared one and failed."""
    from runbook import backup, rehearsal
    from runbook.migrate import migrate

    url, root = book_rows(tmp_path)
    (root / "002_upper.sql").write_text("-- Migration: upper\n-- Risk Level: HIGH\nupdate book set NAME = upper(NAME);\n")
    (root / "rollbacks" / "002_rollback_upper.sql").write_text("SELECT 1;\n")
    target = open_target(url)
    rehearsed = rehearsal.rehearse(target, backup.take(target, tmp_path / "backups"), root, run_id="rehearse")
    assert rehearsed["passed"], rehearsed["error"]
    result = migrate(target, root, run_id="upper")
    assert result.passed, result.error
    (t,) = result.migrations[-1].data["tables"]
    assert (t["table"], t["rows_before"], t["rows_after"], t["changed_columns"]) == ("BOOK", 2, 2, {"NAME": 2}), t
    target.dispose()


def test_a_lossy_rebuild_naming_the_table_in_lower_case_fails_and_changes_nothing(tmp_path: Path) -> None:
    """A rebuild written ``FROM book`` / ``DROP TABLE book`` of ``BOOK`` that leaves a row behind:
    the data check did not watch ``book`` (no such name in the catalog) and let the loss through."""
    from runbook.migrate import migrate

    url, root = book_rows(tmp_path)
    rebuild = ("-- Migration: rebuild\n-- Risk Level: HIGH\n"
               "CREATE TABLE book_new (ID INTEGER PRIMARY KEY, NAME TEXT NOT NULL, NOTE TEXT);\n"
               "INSERT INTO book_new (ID, NAME) SELECT ID, NAME FROM book WHERE NAME <> 'bone';\n"
               "DROP TABLE book;\nALTER TABLE book_new RENAME TO BOOK;\n")
    (root / "002_rebuild.sql").write_text(rebuild)
    (root / "rollbacks" / "002_rollback_rebuild.sql").write_text("ALTER TABLE BOOK DROP COLUMN NOTE;\n")
    target = open_target(url)
    with target.engine().connect() as conn:
        before = conn.exec_driver_sql("SELECT * FROM BOOK ORDER BY ID").fetchall()
    result = migrate(target, root, run_id="lossy")
    assert not result.passed and "a rebuild must keep every row: 1 of 2 rows removed" in (result.error or ""), result.error
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT * FROM BOOK ORDER BY ID").fetchall() == before
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'book_new'").scalar_one() == 0
    (root / "002_rebuild.sql").write_text(rebuild.replace(" WHERE NAME <> 'bone'", ""))
    result = migrate(target, root, run_id="rebuild")
    assert result.passed, result.error
    (t,) = result.migrations[-1].data["tables"]
    assert (t["table"], t["now"], t["rows_before"], t["rows_after"], t["removed"]) == ("BOOK", "BOOK", 2, 2, 0), t
    target.dispose()


def test_a_rollback_that_re_creates_a_dropped_fts5_table_is_checked(tmp_path: Path) -> None:
    """A migration drops an FTS5 table; its rollback creates it again and rebuilds it. Lint checks
    the rollback in a savepoint of the migration's transaction, and SQLite then refuses the COMMIT
    ("SQL logic error"): lint reported "cannot make a scratch database" and checked no rollback of
    the whole folder. Now that migration is checked as it runs for real (each script committed)
    and every other one as before."""
    fts = "CREATE VIRTUAL TABLE note_fts USING fts5(title, content=note, content_rowid=id);\n"
    files = {"001_note.sql": HEAD.format(risk="LOW") + "CREATE TABLE note (id INTEGER PRIMARY KEY, title TEXT NOT NULL);\n",
             "rollbacks/001_rollback_note.sql": "DROP TABLE note;\n",
             "002_fts.sql": HEAD.format(risk="LOW") + fts + "INSERT INTO note_fts(note_fts) VALUES('rebuild');\n",
             "rollbacks/002_rollback_fts.sql": "DROP TABLE note_fts;\n",
             "003_no_fts.sql": HEAD.format(risk="MEDIUM") + "DROP TABLE note_fts;\n",
             "rollbacks/003_rollback_no_fts.sql": fts + "INSERT INTO note_fts(note_fts) VALUES('rebuild');\n"}
    report = lint_on_file(tmp_path, files)
    assert [u.rollback_check["status"] for u in report.migrations] == ["passed"] * 3, \
        [(u.rollback_check, [f.message for f in u.findings]) for u in report.migrations]
    assert not [f for f in report.all_findings() if f.code.startswith("rollback-")], \
        [f.message for f in report.all_findings()]
    files["rollbacks/003_rollback_no_fts.sql"] = "SELECT 1;\n"  # a rollback that does not undo is still caught
    mismatch = lint_on_file(tmp_path / "again", files)
    assert [f.code for f in mismatch.all_findings() if f.code.startswith("rollback-")] == ["rollback-mismatch"]


def test_a_rollback_dropping_the_table_in_lower_case_names_the_rows_it_would_drop(tmp_path: Path) -> None:
    """The migration created ``BOOK``, the application wrote two rows, and the rollback script says
    ``DROP TABLE book``. SQLite drops ``BOOK``: the guard looked for ``book`` in the catalog, found
    no such table and let the rows go unnamed. It now refuses before anything runs (the rows
    are still there), and ``--discard-new-data`` drops them and names them."""
    from runbook import rollback
    from runbook.errors import BadInput

    url, root = book_rows(tmp_path)
    (root / "rollbacks" / "001_rollback_book.sql").write_text("DROP TABLE book;\n")
    target = open_target(url)
    with pytest.raises(BadInput, match=r"table BOOK holds 2 rows .*pass --discard-new-data"):
        rollback.rollback_to(target, root, "none", run_id="back")
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT NAME FROM BOOK ORDER BY ID").scalars().all() == ["saga", "bone"]
    done = rollback.rollback_to(target, root, "none", run_id="back", discard_new_data=True)
    assert done["error"] is None, done["error"]
    assert [(d["table"], d["values"], d["written_since"]) for d in done["discarded"]] == [("BOOK", 2, 2)]
    target.dispose()


def test_a_rollback_deleting_rows_of_the_table_in_lower_case_is_watched(tmp_path: Path) -> None:
    """A rollback script that deletes rows the migration did not add, naming ``BOOK`` as ``book``:
    its own data check (row counts in its transaction) did not watch ``book`` and let the row go.
    It now fails the rollback, and the database is as it was."""
    from runbook import rollback
    from runbook.migrate import migrate

    url, root = book_rows(tmp_path)
    (root / "002_note.sql").write_text("-- Migration: note\n-- Risk Level: LOW\nALTER TABLE BOOK ADD COLUMN NOTE TEXT;\n")
    (root / "rollbacks" / "002_rollback_note.sql").write_text(
        "DELETE FROM book WHERE NAME = 'bone';\nALTER TABLE BOOK DROP COLUMN NOTE;\n")
    target = open_target(url)
    assert migrate(target, root, run_id="note").passed
    with target.engine().connect() as conn:
        before = conn.exec_driver_sql("SELECT * FROM BOOK ORDER BY ID").fetchall()
    done = rollback.rollback_to(target, root, "001", run_id="back")
    assert done["error"] and "a rollback must not remove rows it did not add" in done["error"], done["error"]
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT * FROM BOOK ORDER BY ID").fetchall() == before
    target.dispose()


def test_a_drizzle_rebuild_with_constraints_sqlite_alone_reads_is_read_from_the_engine(tmp_path: Path) -> None:
    """Karakeep's 030 (drizzle-kit): the new table's foreign keys have no comma between them,
    which SQLite's grammar allows and sqlglot's does not; its copy fills the new userId column
    from bookmarks. SQLite makes the table and lint reads it from SQLite's catalog: a rebuild
    that copies the old rows and changes the foreign keys (Category 3), not an unclassified
    statement, five unknown names and a claim that the rows are lost."""
    body = ("CREATE TABLE user (id text PRIMARY KEY NOT NULL);\n"
            "CREATE TABLE bookmarks (id text PRIMARY KEY NOT NULL, userId text NOT NULL REFERENCES user(id));\n"
            "CREATE TABLE assets (id text PRIMARY KEY NOT NULL, assetType text NOT NULL,\n"
            "  bookmarkId text REFERENCES bookmarks(id) ON DELETE cascade);\n")
    rebuild = ("CREATE TABLE `assets_new` (\n"
               "  `id` text PRIMARY KEY NOT NULL,\n  `assetType` text NOT NULL,\n  `bookmarkId` text,\n"
               "  `userId` text NOT NULL,\n"
               "  FOREIGN KEY (`bookmarkId`) REFERENCES `bookmarks`(`id`) ON UPDATE no action ON DELETE cascade\n"
               "  FOREIGN KEY (`userId`) REFERENCES `user`(`id`) ON UPDATE no action ON DELETE cascade\n"
               ");--> statement-breakpoint\n"
               "INSERT INTO `assets_new` (`id`, `assetType`, `bookmarkId`, `userId`) SELECT `id`, `assetType`, "
               "`bookmarkId`, (select `bookmarks`.`userId` from `bookmarks` where `bookmarks`.`id` = "
               "`assets`.`bookmarkId`) FROM `assets`;--> statement-breakpoint\n"
               "DROP TABLE `assets`;--> statement-breakpoint\n"
               "ALTER TABLE `assets_new` RENAME TO `assets`;--> statement-breakpoint\n"
               "CREATE INDEX `assets_userId_idx` ON `assets` (`userId`);\n")
    files = {"001_init.sql": HEAD.format(risk="LOW") + body,
             "rollbacks/001_rollback_init.sql": "DROP TABLE assets;\nDROP TABLE bookmarks;\nDROP TABLE user;\n",
             "002_assets_user.sql": HEAD.format(risk="HIGH") + rebuild,
             "rollbacks/002_rollback_assets_user.sql": "DROP INDEX assets_userId_idx;\n"}
    report = lint_on_file(tmp_path, files)
    unit = report.migrations[1]
    codes = {f.code for f in report.all_findings()}
    assert not codes & {"unclassified", "unknown-name", "unparsable"}, [f.message for f in report.all_findings()]
    kinds = [(v.kind, v.category, v.destructive) for v in unit.statements]
    assert kinds == [("table-rebuild", 2, False), ("insert-select", 3, False), ("table-rebuild", 2, False),
                     ("table-rebuild", 3, False), ("create-index", 1, False)], kinds
    renamed = unit.statements[3].reason
    assert "changes its foreign keys" in renamed and "(userid) → user(id)" in renamed, renamed
    assert "no statement copies" not in renamed, renamed
    assert unit.category == 3


def test_a_foreign_key_to_a_column_added_later_in_the_same_migration_is_no_unknown_name(tmp_path: Path) -> None:
    """Hydra's 102 (popx, SQLite) creates tables whose foreign keys name ``hydra_client (id, nid)``
    before it adds ``nid`` to ``hydra_client``: SQLite resolves a foreign key when a row is
    written, and the migration ends with the column. One naming a column still missing at the end
    is reported."""
    body = ("CREATE TABLE hydra_client (id TEXT PRIMARY KEY);\n"
            "CREATE TABLE logout (id TEXT PRIMARY KEY, client_id TEXT, nid TEXT,\n"
            "  FOREIGN KEY (client_id, nid) REFERENCES hydra_client (id, nid));\n"
            "ALTER TABLE hydra_client ADD COLUMN nid TEXT;\n"
            "CREATE TABLE session (id TEXT PRIMARY KEY, client_id TEXT, tenant TEXT,\n"
            "  FOREIGN KEY (client_id, tenant) REFERENCES hydra_client (id, tenant));\n")
    files = {"001_init.sql": HEAD.format(risk="LOW") + body,
             "rollbacks/001_rollback_init.sql": "DROP TABLE session;\nDROP TABLE logout;\nDROP TABLE hydra_client;\n"}
    found = unknown_names(lint_on_file(tmp_path, files))
    assert len(found) == 1 and "001_init.sql:7" in found[0] and "hydra_client.tenant" in found[0], found
