"""Inventory: counts, schema snapshots (equivalent across engines), fingerprints, quality checks,
the full snapshot and the comparison with it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import inventory as inv
from runbook import migrations as mig
from runbook.engines import sqlite as sqlite_engine
from runbook.engines.sqlite import sha256_file
from runbook.migrate import migrate
from runbook.target import open_target

BASELINE_COUNTS = {"contractors": 11, "strategic_partners": 3, "admin_users": 1}


def run_sql(url: str, *statements: str) -> None:
    with open_target(url).engine().begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)


def snapshot_of(url: str) -> dict:
    target = open_target(url)
    with target.engine().connect() as conn:
        return inv.schema_snapshot(conn, target.kind)


def fp(url: str, table: str, columns: list[str]) -> dict:
    target = open_target(url)
    with target.engine().connect() as conn:
        return inv.fingerprint(conn, table, columns, target.kind)


def quality(url: str) -> dict[str, dict]:
    with open_target(url).engine().connect() as conn:
        return {c["check"]: c for c in inv.quality_checks(conn)}


def target_is_sqlite(url: str) -> bool:
    return open_target(url).kind.name == "sqlite"


BASE_COLUMNS = ["id", "name", "email", "phone", "company_name", "created_at", "updated_at"]


def test_row_counts_are_the_guides(db_url, migrations_dir):
    with open_target(db_url).engine().connect() as conn:
        assert inv.row_counts(conn) == BASELINE_COUNTS
    migrate(open_target(db_url), migrations_dir)
    with open_target(db_url).engine().connect() as conn:
        counts = inv.row_counts(conn)
    assert "schema_history" not in counts
    assert {k: counts[k] for k in BASELINE_COUNTS} == BASELINE_COUNTS
    assert counts["contractor_partner_matches"] == 0


def test_take_has_the_documented_shape_and_changes_nothing(db_url, migrations_dir):
    target = open_target(db_url)
    before_file = sha256_file(Path(target.url.database)) if target.kind.name == "sqlite" else None
    snap = inv.take(target, migrations_dir)
    json.dumps(snap)  # JSON-able
    assert set(snap) == {"taken_at", "target", "engine", "size_bytes", "tables", "quality", "orphans", "migrations",
                         "views", "types", "sequences", "functions", "triggers", "extensions"}
    assert snap["orphans"] == {}  # the baseline declares no foreign key; the guide's relation comes with 001
    assert snap["engine"] == target.kind.name and snap["size_bytes"] > 0
    assert set(snap["tables"]) == set(BASELINE_COUNTS)
    c = snap["tables"]["contractors"]
    assert set(c) == {"rows", "size_bytes", "columns", "primary_key", "indexes", "foreign_keys", "checks", "fingerprint"}
    assert c["rows"] == 11
    assert [col["name"] for col in c["columns"]] == BASE_COLUMNS
    assert set(c["columns"][0]) == {"name", "type", "nullable", "default", "primary_key", "identity", "generated"}
    assert [col["name"] for col in c["columns"] if col["primary_key"]] == ["id"]
    assert c["primary_key"]["columns"] == ["id"]
    created = next(col for col in c["columns"] if col["name"] == "created_at")
    # as the engine spells it: the declared type on SQLite, format_type on PostgreSQL
    assert created["type"] == ("DATETIME" if target.kind.name == "sqlite" else "timestamp without time zone")
    assert created["default"] == "CURRENT_TIMESTAMP"
    # the UNIQUE email column is a unique index owned by its constraint, named by the engine
    email_key = "sqlite_autoindex_contractors_1" if target.kind.name == "sqlite" else "contractors_email_key"
    assert [(ix["name"], ix["columns"], ix["unique"], ix["constraint"]) for ix in c["indexes"]
            if ix["constraint"] != "primary key"] == [(email_key, ["email"], True, "unique")]
    assert c["fingerprint"]["columns"] == BASE_COLUMNS and c["fingerprint"]["rows"] == 11
    assert snap["migrations"]["current"] is None and snap["migrations"]["adopt_baseline"] is True
    assert snap["migrations"]["history_table"] is False
    assert len(snap["migrations"]["pending"]) == 5
    assert all(q["passed"] for q in snap["quality"])
    assert "ops@power100.example" not in json.dumps(snap)  # no personal data
    if before_file is not None:
        assert sha256_file(Path(target.url.database)) == before_file
    assert all(chk["passed"] for chk in inv.compare_to_snapshot(target, snap))


def test_take_after_migrations_lists_foreign_keys(db_url, migrations_dir):
    migrate(open_target(db_url), migrations_dir)
    snap = inv.take(open_target(db_url), migrations_dir)
    assert "schema_history" not in snap["tables"]
    assert snap["migrations"]["current"] == "004"
    with open_target(db_url).engine().connect() as conn:  # a backup's record counts the history too
        assert "schema_history" not in inv.row_counts(conn)
        assert inv.row_counts(conn, with_history=True) == {**inv.row_counts(conn), "schema_history": 5, "schema_events": 5}
    fks = snap["tables"]["contractor_partner_matches"]["foreign_keys"]
    assert {(tuple(f["columns"]), f["referred_table"]) for f in fks} == {
        (("contractor_id",), "contractors"), (("partner_id",), "strategic_partners")}
    assert {f["name"] for f in fks} == ({None} if target_is_sqlite(db_url) else {
        "contractor_partner_matches_contractor_id_fkey", "contractor_partner_matches_partner_id_fkey"})
    pk = [c["name"] for c in snap["tables"]["partner_focus_areas"]["columns"] if c["primary_key"]]
    assert pk == ["partner_id", "focus_area_id"]


# -- quality ---------------------------------------------------------------------------------
def test_quality_counts_missing_and_duplicate_emails(db_url):
    run_sql(db_url,
            "INSERT INTO contractors (name, email) VALUES ('No Mail', '')",
            "INSERT INTO contractors (name, email) VALUES ('Shouty Maria', 'MARIA@alvarezroofing.example')")
    q = quality(db_url)
    assert q["contractors_missing_email"]["count"] == 1 and not q["contractors_missing_email"]["passed"]
    assert q["contractors_duplicate_email"]["count"] == 2 and not q["contractors_duplicate_email"]["passed"]
    assert q["contractors_missing_name"]["passed"] and q["admin_users_duplicate_email"]["passed"]
    assert "maria" not in json.dumps(q).lower()  # counts only, never the rows
    skipped = q["contractors_unknown_partner"]
    assert skipped["skipped"] and skipped["passed"]
    assert skipped["detail"] == "skipped: column contractors.assigned_partner_id does not exist"


def test_quality_finds_unknown_partner_after_migration(db_url, migrations_dir):
    migrate(open_target(db_url), migrations_dir)
    assert quality(db_url)["contractors_unknown_partner"]["count"] == 0
    run_sql(db_url, "UPDATE contractors SET assigned_partner_id = 1 WHERE id = 1",
            "UPDATE contractors SET assigned_partner_id = 999 WHERE id = 2")
    q = quality(db_url)["contractors_unknown_partner"]
    assert q["count"] == 1 and not q["passed"] and not q.get("skipped")


def test_quality_check_on_a_missing_table_is_reported_skipped(sqlite_url):
    run_sql(sqlite_url, "DROP TABLE admin_users")
    q = quality(sqlite_url)
    assert len(q) == len(inv.QUALITY_CHECKS)  # never silently dropped
    for name in ("admin_users_missing_email", "admin_users_duplicate_email", "admin_users_missing_password_hash"):
        assert q[name] == {"check": name, "passed": True, "skipped": True, "table": "admin_users", "count": None,
                           "detail": "skipped: table admin_users does not exist"}


# -- fingerprints ----------------------------------------------------------------------------
def test_fingerprint_follows_values_not_other_columns(db_url):
    first = fp(db_url, "contractors", BASE_COLUMNS)
    assert first["rows"] == 11 and len(first["sha256"]) == 64
    assert fp(db_url, "contractors", BASE_COLUMNS) == first
    run_sql(db_url, "UPDATE contractors SET phone = '555-9999' WHERE id = 2")
    changed = fp(db_url, "contractors", BASE_COLUMNS)
    assert changed["sha256"] != first["sha256"]
    run_sql(db_url, "UPDATE contractors SET phone = '555-0102' WHERE id = 2")
    assert fp(db_url, "contractors", BASE_COLUMNS) == first
    run_sql(db_url, "UPDATE contractors SET phone = NULL WHERE id = 4")  # already NULL: no change
    assert fp(db_url, "contractors", BASE_COLUMNS) == first
    run_sql(db_url, "ALTER TABLE contractors ADD COLUMN nickname TEXT DEFAULT 'x'")
    assert fp(db_url, "contractors", BASE_COLUMNS) == first
    assert fp(db_url, "contractors", BASE_COLUMNS + ["nickname"])["sha256"] != first["sha256"]
    run_sql(db_url, "ALTER TABLE contractors DROP COLUMN nickname")
    assert fp(db_url, "contractors", BASE_COLUMNS) == first


def test_fingerprint_tells_kinds_apart_and_reads_in_chunks(sqlite_url, monkeypatch):
    run_sql(sqlite_url, 'CREATE TABLE "odd table" ("select", "Mixed Case" TEXT)',
            """INSERT INTO "odd table" VALUES (1, 'a'), ('1', 'a'), (1.0, 'a'), (NULL, 'a'), (x'01', 'a')""")
    whole = fp(sqlite_url, "odd table", ["select", "Mixed Case"])
    assert whole["rows"] == 5
    keyed = fp(sqlite_url, "contractors", BASE_COLUMNS)
    monkeypatch.setattr(sqlite_engine, "FINGERPRINT_CHUNK", 2)  # keyset chunks of 2 rows
    assert fp(sqlite_url, "contractors", BASE_COLUMNS) == keyed
    assert fp(sqlite_url, "odd table", ["select", "Mixed Case"]) == whole
    run_sql(sqlite_url, """UPDATE "odd table" SET "select" = '1.0' WHERE typeof("select") = 'real'""")
    assert fp(sqlite_url, "odd table", ["select", "Mixed Case"])["sha256"] != whole["sha256"]


def test_fingerprint_is_ordered_by_primary_key(sqlite_url):
    """Rows in another physical order (a rebuilt table) give the same fingerprint."""
    first = fp(sqlite_url, "strategic_partners", ["company_name"])
    run_sql(sqlite_url,
            "CREATE TABLE sp2 (id INTEGER PRIMARY KEY, company_name TEXT NOT NULL, is_active BOOLEAN DEFAULT TRUE, "
            "created_at DATETIME DEFAULT CURRENT_TIMESTAMP, updated_at DATETIME DEFAULT CURRENT_TIMESTAMP)",
            "INSERT INTO sp2 SELECT * FROM strategic_partners ORDER BY id DESC",
            "DROP TABLE strategic_partners", "ALTER TABLE sp2 RENAME TO strategic_partners")
    assert fp(sqlite_url, "strategic_partners", ["company_name"]) == first


# -- schema comparison -----------------------------------------------------------------------
def test_compare_schemas_names_each_difference(sqlite_url):
    before = snapshot_of(sqlite_url)
    assert inv.compare_schemas(before, before) == []
    run_sql(sqlite_url,
            "ALTER TABLE contractors ADD COLUMN company_website TEXT",
            "CREATE INDEX idx_x ON contractors(phone)",
            "CREATE TABLE extra (id INTEGER PRIMARY KEY)")
    after = snapshot_of(sqlite_url)
    assert inv.compare_schemas(before, after) == [
        "table extra added",
        "contractors: column company_website added",
        "contractors: index idx_x added (index on (phone))",
    ]
    assert inv.compare_schemas(after, before) == [
        "table extra missing",
        "contractors: column company_website missing",
        "contractors: index idx_x missing (index on (phone))",
    ]
    changed = json.loads(json.dumps(after))
    col = next(c for c in changed["tables"]["contractors"]["columns"] if c["name"] == "phone")
    col["default"] = "'a'"
    assert inv.compare_schemas(after, changed) == ["contractors: column phone default changed from none to 'a'"]
    col["default"] = "'b'"
    next(ix for ix in changed["tables"]["contractors"]["indexes"] if ix["name"] == "idx_x")["columns"] = ["email"]
    assert inv.compare_schemas(after, changed, canonical=True) == [
        "contractors: index on (email) added",
        "contractors: index on (phone) missing",
        "contractors: column phone default changed from none to 'b'",
    ]


def test_shipped_migrations_give_equivalent_schemas_on_both_engines(sqlite_url, pg_url, migrations_dir):
    assert inv.compare_schemas(snapshot_of(sqlite_url), snapshot_of(pg_url), canonical=True) == []
    for url in (sqlite_url, pg_url):
        assert migrate(open_target(url), migrations_dir).passed
    lite, pg = snapshot_of(sqlite_url), snapshot_of(pg_url)
    assert len(lite["tables"]) == len(pg["tables"]) == 7
    assert inv.compare_schemas(lite, pg, canonical=True) == []
    exact = inv.compare_schemas(lite, pg)  # the engines really do spell things differently
    assert "contractors: column created_at type changed from DATETIME to timestamp without time zone" in exact
    run_sql(pg_url, "ALTER TABLE contractors ALTER COLUMN current_stage SET DEFAULT 'matching'",
            "CREATE UNIQUE INDEX idx_partner_name ON strategic_partners(company_name)")
    assert inv.compare_schemas(lite, snapshot_of(pg_url), canonical=True) == [
        "contractors: column current_stage default changed from 'verification' to 'matching'",
        "strategic_partners: unique index on (company_name) added",
    ]


# -- the snapshot and the comparison with it -------------------------------------------------
def test_compare_to_snapshot_finds_each_kind_of_change(db_url, migrations_dir):
    target = open_target(db_url)
    snap = inv.take(target, migrations_dir)
    assert all(c["passed"] for c in inv.compare_to_snapshot(target, snap))
    run_sql(db_url, "UPDATE admin_users SET full_name = 'Someone Else'",
            "DELETE FROM contractors WHERE id = 11")
    failed = {c["check"]: c["detail"] for c in inv.compare_to_snapshot(target, snap) if not c["passed"]}
    assert failed == {
        "rows: contractors": "10 rows now, 11 in the snapshot",
        "content: contractors": failed["content: contractors"],
        "content: admin_users": failed["content: admin_users"],
    }
    assert failed["content: admin_users"].startswith("content differs from the snapshot (1 rows now, 1 then")
    migrate(target, migrations_dir, to="001")
    failed = {c["check"]: c["detail"] for c in inv.compare_to_snapshot(target, snap) if not c["passed"]}
    assert failed["schema equals the snapshot"].startswith("contractors: column company_website added")
    assert failed["migration history equals the snapshot's"] == (
        "the schema_history table exists now and did not in the snapshot; "
        "applied now, not in the snapshot: 000, 001")
    assert "content: strategic_partners" not in failed  # untouched table still equal


def test_compare_to_snapshot_checks_the_migration_history(db_url, migrations_dir):
    """Schema, rows and content may all be back while the history is not: a leftover history
    row (or a history table the snapshot did not have) fails the history check alone."""
    target = open_target(db_url)
    empty = inv.take(target, migrations_dir)  # no history table
    with target.engine().begin() as conn:
        mig.ensure_history(conn)
    failed = {c["check"]: c["detail"] for c in inv.compare_to_snapshot(target, empty) if not c["passed"]}
    assert failed == {"migration history equals the snapshot's":
                      "the schema_history table exists now and did not in the snapshot"}
    assert migrate(target, migrations_dir, to="002").passed
    snap = inv.take(target, migrations_dir)
    checks = {c["check"]: c for c in inv.compare_to_snapshot(target, snap)}
    assert checks["migration history equals the snapshot's"]["passed"]
    assert checks["migration history equals the snapshot's"]["detail"] == "at version 002, as in the snapshot"
    with target.engine().begin() as conn:  # a rollback that undid 003's schema but left its row
        conn.execute(mig.history.insert().values(version="003", name="create_supporting_tables", checksum="x",
                                                 applied_at="2026-01-01T00:00:00+00:00", duration_ms=1,
                                                 run_id="leftover", note=None))
    failed = {c["check"]: c["detail"] for c in inv.compare_to_snapshot(target, snap) if not c["passed"]}
    assert failed == {"migration history equals the snapshot's": "applied now, not in the snapshot: 003"}
    with target.engine().begin() as conn:
        conn.execute(mig.history.delete().where(mig.history.c.version.in_(["002", "003"])))
    failed = {c["check"]: c["detail"] for c in inv.compare_to_snapshot(target, snap) if not c["passed"]}
    assert failed["migration history equals the snapshot's"] == "applied in the snapshot, not now: 002"


@pytest.mark.postgres
def test_postgres_snapshot_is_one_repeatable_read_transaction(pg_url):
    target = open_target(pg_url)
    with target.kind.read_snapshot(target) as conn:
        assert inv.row_counts(conn)["contractors"] == 11
        run_sql(pg_url, "INSERT INTO contractors (name, email) VALUES ('Late Writer', 'late@x.example')")
        assert inv.row_counts(conn)["contractors"] == 11  # still the snapshot's moment
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            conn.exec_driver_sql("DELETE FROM admin_users")
    with target.engine().connect() as conn:
        assert inv.row_counts(conn)["contractors"] == 12


def test_sqlite_snapshot_reads_are_consistent_while_a_writer_writes(sqlite_url):
    """The read transaction holds SQLite's snapshot: no row slips in between its reads."""
    target = open_target(sqlite_url)
    path = target.url.database
    with target.kind.read_snapshot(target) as conn:
        assert inv.row_counts(conn)["contractors"] == 11
        writer = sqlite3.connect(path, timeout=0.1)
        try:  # rollback journal: the writer must wait; WAL: it commits, unseen by the snapshot
            writer.execute("INSERT INTO contractors (name, email) VALUES ('Late Writer', 'late@x.example')")
            writer.commit()
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
        finally:
            writer.close()
        assert inv.row_counts(conn)["contractors"] == 11


def test_a_large_rollback_journal_database_is_read_from_a_copy_that_does_not_stop_writers(
        sqlite_url, migrations_dir, monkeypatch):
    """SQLite in rollback-journal mode: a reader's lock stops every writer's commit, so the
    inventory's long read goes to a copy (``live_snapshot``): the same inventory, and the
    application commits while it reads; the copy is gone after."""
    target = open_target(sqlite_url)
    in_place = inv.take(target, migrations_dir)
    monkeypatch.setattr(sqlite_engine, "SNAPSHOT_COPY_FROM", 0)  # every file counts as large
    copied = inv.take(target, migrations_dir)
    assert {k: v for k, v in copied.items() if k not in ("taken_at", "tables")} == \
        {k: v for k, v in in_place.items() if k not in ("taken_at", "tables")}
    for name, table in copied["tables"].items():  # the same, and the copy's stored pages (a file read alone)
        fp = table["fingerprint"]
        assert "pages" not in in_place["tables"][name]["fingerprint"] and len(fp["pages"]["sha256"]) == 64
        assert table | {"fingerprint": {k: v for k, v in fp.items() if k != "pages"}} == in_place["tables"][name]

    writer = sqlite3.connect(Path(target.url.database), timeout=0)  # no waiting: a lock would fail it
    with target.kind.live_snapshot(target) as conn:
        copy = Path(conn.engine.url.database)
        assert copy != Path(target.url.database) and copy.is_file()
        assert copy.parent == Path(target.url.database).parent and copy.stat().st_mode & 0o777 == 0o600
        n = inv.count_rows(conn, "contractors")
        writer.execute("INSERT INTO contractors (name, email) VALUES ('app', 'app@example.com')")
        writer.commit()  # would be "database is locked" under an open read of the file itself
        assert inv.count_rows(conn, "contractors") == n  # still the snapshot
    writer.close()
    assert not copy.exists()
    with target.kind.read_snapshot(target) as conn:  # in place, a reader blocks the commit
        inv.count_rows(conn, "contractors")
        blocked = sqlite3.connect(Path(target.url.database), timeout=0)
        blocked.execute("INSERT INTO contractors (name, email) VALUES ('app2', 'app2@example.com')")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            blocked.commit()
        blocked.rollback()
        blocked.close()



def test_a_large_database_is_read_in_place_when_the_tables_to_hash_are_small(sqlite_url, monkeypatch):
    """Copying a large file holds its read lock longer than reading a few small tables in place:
    ``live_snapshot`` copies only when the tables its caller may hash take ``SNAPSHOT_COPY_FROM``
    bytes or more (verify names them: the tables no migration declares it changes)."""
    path = Path(open_target(sqlite_url).url.database)
    with sqlite3.connect(path) as db:  # contractors: ~400 KiB of pages, the rest a few KiB
        db.executemany("INSERT INTO contractors (name, email) VALUES (?, ?)",
                       [("x" * 2000, f"c{i}@example.com") for i in range(200)])
    db.close()
    monkeypatch.setattr(sqlite_engine, "SNAPSHOT_COPY_FROM", 100 * 1024)  # the file counts as large
    target = open_target(sqlite_url)

    def read_from(reading):
        with target.kind.live_snapshot(target, reading=reading) as conn:
            return Path(conn.engine.url.database)

    assert read_from(["admin_users", "strategic_partners", "no_such_table"]) == path  # small: in place
    assert read_from([]) == path
    assert read_from(["admin_users", "contractors"]) != path  # a copy
    assert read_from(None) != path  # the caller does not say: a copy


def test_a_live_files_pages_are_read_by_a_child_process_and_the_readers_lock_holds(sqlite_url, monkeypatch):
    """Opening and closing a live database's file in this process would drop SQLite's locks on it
    (a writer could commit under an open reader): ``content_pages`` has a child process read a
    live file's pages. The digests equal those of a copy read here, and the reader's lock still
    stops a writer's commit after they are read."""
    monkeypatch.setattr(sqlite_engine, "SNAPSHOT_COPY_FROM", 0)  # every file counts as large
    target = open_target(sqlite_url)
    path = Path(target.url.database)
    tables = ["admin_users", "contractors", "strategic_partners"]
    with target.kind.live_snapshot(target) as conn:  # a copy: read in this process
        copied = target.kind.content_pages(conn, tables)
    with target.kind.read_snapshot(target) as conn:  # the live file
        assert inv.row_counts(conn)["contractors"] == 11  # the read lock is held from here on, as in verify
        assert target.kind.content_pages(conn, tables) == copied and set(copied) == set(tables)
        # another process (POSIX locks are per process; SQLite orders its own connections itself)
        code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=0); "
                "c.execute(\"INSERT INTO contractors (name, email) VALUES ('app', 'app@example.com')\"); c.commit()")
        writer = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
        assert writer.returncode != 0 and "locked" in writer.stderr
    with target.engine().connect() as conn:
        assert inv.row_counts(conn)["contractors"] == 11  # nothing came in


@pytest.mark.postgres
def test_a_row_hash_made_with_an_earlier_row_digest_is_not_compared(pg_url, migrations_dir):
    """PostgreSQL's rows were summed with md5 before ``hashtextextended``: a snapshot from then
    (its fingerprints name no digest) is not compared with today's hash, which would differ for
    the same rows. A live target skips the check and says why; a copy no one writes to fails it."""
    target = open_target(pg_url)
    snap = inv.take(target, migrations_dir)
    assert {t["fingerprint"]["digest"] for t in snap["tables"].values()} == {"hashtextextended"}
    with target.kind.read_snapshot(target) as conn:
        assert all(c["passed"] and "unchanged" in c["detail"] for c in inv.content_checks(conn, target.kind, snap))
    earlier = json.loads(json.dumps(snap))
    for t in earlier["tables"].values():
        del t["fingerprint"]["digest"]
    with target.kind.read_snapshot(target) as conn:
        live = {c["check"]: c for c in inv.content_checks(conn, target.kind, earlier, writers=True)}
        scratch = {c["check"]: c for c in inv.content_checks(conn, target.kind, earlier)}
    assert all(c["passed"] and c.get("skipped") and "another row digest" in c["detail"] for c in live.values())
    assert all(not c["passed"] and "cannot be compared" in c["detail"] for c in scratch.values())

# -- stored pages (SQLite): unchanged tables without hashing their rows ------------------------
def content(url: str, snapshot: dict, **kwargs) -> dict[str, dict]:
    """``content_checks`` as verify runs them on a large live target: on a copy (``live_snapshot``)."""
    target = open_target(url)
    with target.kind.live_snapshot(target) as conn:
        return {c["check"]: c for c in inv.content_checks(conn, target.kind, snapshot, **kwargs)}


@pytest.fixture
def large(monkeypatch):
    """Every SQLite file counts as large: live reads go to a copy, whose stored pages are read."""
    monkeypatch.setattr(sqlite_engine, "SNAPSHOT_COPY_FROM", 0)


def test_sqlite_reads_no_pages_of_a_live_file(sqlite_url, migrations_dir):
    """A live database read in place (a small one): its file is never opened beside SQLite, whose
    locks a close would drop, so its tables are hashed."""
    snap = inv.take(open_target(sqlite_url), migrations_dir, row_hashes=False)
    assert all("pages" not in t["fingerprint"] and len(t["fingerprint"]["sha256"]) == 64
               for t in snap["tables"].values())


def test_sqlite_tells_an_unchanged_table_by_its_stored_pages(sqlite_url, migrations_dir, large):
    """The same stored pages and column layout as in the snapshot: unchanged, not hashed. Adding a
    column or an index keeps them; a column renamed and another added under its old name keeps
    the pages but reads them differently: hashed, and it differs; a rebuilt table has new pages:
    hashed, and it is unchanged."""
    snap = inv.take(open_target(sqlite_url), migrations_dir)
    assert all(len(t["fingerprint"]["pages"]["sha256"]) == 64 for t in snap["tables"].values())
    run_sql(sqlite_url, "ALTER TABLE contractors ADD COLUMN note TEXT DEFAULT 'x'",
            "CREATE INDEX ix_note ON contractors (note)")
    checks = content(sqlite_url, snap)
    assert len(checks) == 3
    assert all(c["passed"] and "stored pages are those of the snapshot" in c["detail"] for c in checks.values())
    run_sql(sqlite_url, "ALTER TABLE admin_users RENAME COLUMN email TO old_email",
            "ALTER TABLE admin_users ADD COLUMN email TEXT DEFAULT 'same@pages.example'",
            "CREATE TABLE sp_new AS SELECT * FROM strategic_partners", "DROP TABLE strategic_partners",
            "ALTER TABLE sp_new RENAME TO strategic_partners")
    checks = content(sqlite_url, snap)
    assert not checks["content: admin_users"]["passed"]
    assert "content differs from the snapshot" in checks["content: admin_users"]["detail"]
    rebuilt = checks["content: strategic_partners"]
    assert rebuilt["passed"] and "unchanged" in rebuilt["detail"] and "stored pages" not in rebuilt["detail"]


def test_a_snapshot_without_row_hashes_is_compared_with_its_baseline(sqlite_url, migrations_dir, tmp_path, large):
    """``take(row_hashes=False)`` hashes no rows where pages are read; a table whose pages changed
    is then hashed on both sides, the snapshot's side from ``baseline`` (a copy holding its data)."""
    copy = tmp_path / "baseline.db"
    copy.write_bytes(Path(sa.make_url(sqlite_url).database).read_bytes())
    snap = inv.take(open_target(sqlite_url), migrations_dir, row_hashes=False)
    assert all(t["fingerprint"]["sha256"] is None for t in snap["tables"].values())
    run_sql(sqlite_url, "UPDATE contractors SET name = name || '!' WHERE id = 2")  # same count, one value
    target = open_target(sqlite_url)
    baseline = target.kind.backup_database(target, copy)
    checks = content(sqlite_url, snap, baseline=baseline)
    assert not checks["content: contractors"]["passed"]
    assert "content differs from the snapshot (11 rows now, 11 then)" in checks["content: contractors"]["detail"]
    assert "stored pages" in checks["content: admin_users"]["detail"] and checks["content: admin_users"]["passed"]
    without = content(sqlite_url, snap)
    assert not without["content: contractors"]["passed"]
    assert without["content: contractors"]["detail"].startswith("cannot be compared: its stored pages differ")
    run_sql(sqlite_url, "UPDATE contractors SET name = substr(name, 1, length(name) - 1) WHERE id = 2")
    assert content(sqlite_url, snap, baseline=baseline)["content: contractors"]["passed"]  # hashed: the same
    run_sql(f"sqlite:///{copy}", "UPDATE contractors SET phone = 'elsewhere' WHERE id = 3")  # no longer the snapshot's
    live = content(sqlite_url, snap, baseline=baseline, writers=True, declared={})["content: contractors"]
    assert live["passed"] and live.get("skipped") and "no backup holds the table as the snapshot saw it" in live["detail"]


def test_sqlite_pages_are_not_read_from_a_file_whose_log_holds_frames(sqlite_url):
    """In WAL mode the file alone is not the database while the log holds frames: no digest."""
    path = sa.make_url(sqlite_url).database
    target = open_target(sqlite_url)
    target = target.kind.backup_database(target, Path(path))  # counts as a file the runbook reads alone
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=wal")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE admin_users SET full_name = 'In The Log'")
    with target.kind.read_snapshot(target) as conn:
        assert conn.exec_driver_sql("SELECT full_name FROM admin_users").scalar() == "In The Log"
        assert target.kind.content_pages(conn, ["admin_users"]) is None
    writer.close()  # the last connection checkpoints the log into the file and removes it
    with target.kind.read_snapshot(target) as conn:
        assert set(target.kind.content_pages(conn, ["admin_users"])) == {"admin_users"}
