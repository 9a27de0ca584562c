"""Verify: a state check after migrating, against the applied migrations and the pre-migration
inventory; each kind of damage fails the check that names it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import inventory as inv
from runbook import schema
from runbook.errors import CheckFailed
from runbook.migrate import migrate
from runbook.target import open_target
from runbook.verify import VERIFY_LOCK_TIMEOUT_MS, assert_passed, verify


def run_sql(url: str, *statements: str) -> None:
    with open_target(url).engine().begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)


def indexes(url: str, table: str) -> set[str]:
    with open_target(url).engine().connect() as conn:
        return {ix["name"] for ix in sa.inspect(conn).get_indexes(table)}


def failed(result: dict) -> dict[str, str]:
    return {c["check"]: c["detail"] for c in result["checks"] if not c["passed"]}


def health(result: dict) -> dict[str, str]:
    return {h["check_type"]: h["status"] for h in result["health"]}


@pytest.fixture
def migrated(db_url, migrations_dir):
    """A production-like database after all shipped migrations, with its pre-migration inventory."""
    before = inv.take(open_target(db_url), migrations_dir)
    assert migrate(open_target(db_url), migrations_dir).passed
    return db_url, before


def test_verify_passes_after_a_real_migration(migrated, migrations_dir):
    url, before = migrated
    result = verify(open_target(url), migrations_dir, before)
    assert failed(result) == {}
    assert result["passed"] is True
    assert_passed(result)
    names = {c["check"] for c in result["checks"]}
    assert {"schema: contractors", "rows: contractors", "content: contractors",
            "orphans: contractors(assigned_partner_id) → strategic_partners(id)",
            "orphans: contractor_partner_matches(contractor_id) → contractors(id)",
            "JSON round trip: contractors.services_offered", "JSON round trip left the data as it was",
            "query plan: indexes used", "query plan: indexes intact after the comparison"} <= names
    assert not any(c.get("skipped") for c in result["checks"])
    assert set(health(result).values()) == {"PASS"}
    assert {"Data Integrity", "Schema Consistency"} <= set(health(result))
    contractors = next(c for c in result["checks"] if c["check"] == "schema: contractors")
    assert contractors["detail"] == "23 columns and 3 indexes as the applied migrations declare"
    rt = result["json_round_trip"]
    assert rt["read_back"] == '["plumbing", "electrical"]' and rt["equal"] and rt["restored"]


def test_verify_changes_nothing(migrated, migrations_dir):
    """The JSON round trip and the plan comparison are rolled back: data and indexes as they were."""
    url, _ = migrated
    target = open_target(url)
    snap = inv.take(target, migrations_dir)
    result = verify(target, migrations_dir)
    assert result["json_round_trip"]["id"] == 1
    assert set(result["plans"]["dropped_for_before"]) == {
        "idx_contractors_stage", "idx_contractors_focus_area", "idx_contractors_assigned_partner"}
    assert [c for c in inv.compare_to_snapshot(target, snap) if not c["passed"]] == []
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT services_offered FROM contractors WHERE id = 1").scalar_one() == "[]"
    assert {"idx_contractors_stage", "idx_contractors_focus_area", "idx_contractors_assigned_partner"} <= indexes(
        url, "contractors")


def test_plan_shows_the_index_after_and_not_before(migrated, migrations_dir):
    url, _ = migrated
    plans = verify(open_target(url), migrations_dir)["plans"]
    assert plans["query"].startswith("SELECT * FROM contractors WHERE current_stage = 'matching'")
    assert plans["index_used"] is True
    ours = ("idx_contractors_stage", "idx_contractors_focus_area")
    assert any(ix in line for line in plans["index_plan"] for ix in ours)
    assert not any(ix in line for line in plans["before_indexes"] for ix in ours)
    if open_target(url).kind.name == "sqlite":
        assert plans["after_indexes"] == plans["index_plan"]
        assert plans["after_indexes"][0].startswith("SEARCH contractors USING INDEX idx_contractors_")
        assert plans["before_indexes"] == ["SCAN contractors"]
    else:
        assert "Index Scan" in plans["index_plan"][0]
        assert plans["before_indexes"][0].startswith("Seq Scan on contractors")
        assert plans["after_indexes"][0].startswith("Seq Scan on contractors")  # 11 rows: the planner's choice


def test_a_tables_index_names_are_those_of_the_schema_model(migrated):
    """The plan comparison checks the indexes it dropped are back by their names
    (``Engine.index_names``): the names the schema model gives them, in any PostgreSQL schema."""
    url, _ = migrated
    target = open_target(url)
    if target.kind.name == "postgresql":
        run_sql(url, "CREATE SCHEMA billing", "CREATE TABLE billing.contractors (id int, stage text)",
                "CREATE INDEX idx_billing_stage ON billing.contractors (stage)")
    with target.engine().connect() as conn:
        model = schema.introspect(conn, target.kind)
        for table, t in model["tables"].items():
            assert target.kind.index_names(conn, table) == {ix["name"] for ix in t["indexes"]}, table
        assert {"idx_contractors_stage", "idx_contractors_focus_area"} <= target.kind.index_names(conn, "contractors")
        if target.kind.name == "postgresql":
            assert target.kind.index_names(conn, "billing.contractors") == {"idx_billing_stage"}


def test_verify_without_inventory_skips_comparisons_and_says_why(migrated, migrations_dir):
    url, _ = migrated
    result = verify(open_target(url), migrations_dir)
    skipped = {c["check"]: c["detail"] for c in result["checks"] if c.get("skipped")}
    assert skipped == {
        "rows: compared with the pre-migration inventory": "skipped: no pre-migration inventory given",
        "content: compared with the pre-migration inventory": "skipped: no pre-migration inventory given",
    }
    assert result["passed"]
    assert health(result)["Row Counts"] == "SKIP"


def test_deleted_row_is_concurrent_writes_on_the_target_and_fails_where_no_one_writes(migrated, migrations_dir):
    """On a live target a row gone since the inventory that no migration declares is the
    application's doing: reported, not failed. Where no one else writes (writers=False, the
    rehearsal copy), it fails."""
    url, before = migrated
    run_sql(url, "DELETE FROM contractors WHERE id = 5")
    result = verify(open_target(url), migrations_dir, before)
    assert failed(result) == {}
    writes = next(c for c in result["checks"] if c["check"] == "concurrent writes since the inventory")
    assert writes["tables"] == ["contractors"] and "contractors (-1 rows)" in writes["detail"]
    assert health(result)["Concurrent Writes"] == "PASS"
    strict = verify(open_target(url), migrations_dir, before, writers=False)
    assert failed(strict) == {"rows: contractors": "10 rows now, 11 in the snapshot: an undeclared change",
                              "content: contractors": failed(strict)["content: contractors"]}
    assert health(strict)["Data Integrity"] == "FAIL"
    with pytest.raises(CheckFailed, match=r"rows: contractors \(10 rows now, 11 in the snapshot: an undeclared"):
        assert_passed(strict)


def test_changed_value_is_concurrent_writes_on_the_target_and_fails_where_no_one_writes(migrated, migrations_dir):
    url, before = migrated
    run_sql(url, "UPDATE strategic_partners SET company_name = 'Renamed Co' WHERE id = 2")
    result = verify(open_target(url), migrations_dir, before)
    assert failed(result) == {}
    content = next(c for c in result["checks"] if c["check"] == "content: strategic_partners")
    assert "concurrent writes since the inventory" in content["detail"] and "Renamed" not in content["detail"]
    strict = verify(open_target(url), migrations_dir, before, writers=False)
    assert list(failed(strict)) == ["content: strategic_partners"]
    assert health(strict)["Content Unchanged"] == "FAIL" and health(strict)["Data Integrity"] == "PASS"


def test_added_column_dropped_by_hand_fails_schema_consistency(migrated, migrations_dir):
    url, before = migrated
    run_sql(url, "ALTER TABLE contractors DROP COLUMN company_website")
    result = verify(open_target(url), migrations_dir, before)
    assert failed(result) == {
        "schema: contractors": "column company_website is missing",
        "verify script 001_add_contractor_fields": "verify/001_verify_add_contractor_fields.sql statement 1 (line 5): "
                                                   + ("no such column: company_website" if url.startswith("sqlite")
                                                      else 'column "company_website" does not exist')}
    assert health(result)["Schema Consistency"] == "FAIL" and health(result)["Verify Scripts"] == "FAIL"
    with pytest.raises(CheckFailed, match="schema: contractors"):
        assert_passed(result)


def test_column_added_by_hand_fails_schema_consistency(migrated, migrations_dir):
    url, before = migrated
    run_sql(url, "ALTER TABLE contractors ADD COLUMN nickname TEXT")
    assert failed(verify(open_target(url), migrations_dir, before)) == {
        "schema: contractors": "column nickname is not declared by any applied migration"}


def test_dropped_index_and_changed_default_fail_schema(pg_url, migrations_dir):
    migrate(open_target(pg_url), migrations_dir)
    run_sql(pg_url, "DROP INDEX idx_partners_active",
            "ALTER TABLE strategic_partners ALTER COLUMN client_count SET DEFAULT 5")
    assert failed(verify(open_target(pg_url), migrations_dir)) == {
        "schema: strategic_partners": "index idx_partners_active is missing; "
                                      "column client_count default is 5, the applied migrations give 0",
        "verify script 004_add_search_indexes": "verify/004_verify_add_search_indexes.postgresql.sql statement 1 "
                                                "(line 5): a search index of 004_add_search_indexes is missing"}


def test_orphan_assigned_partner_fails_referential_integrity(migrated, migrations_dir):
    url, before = migrated
    run_sql(url, "UPDATE contractors SET assigned_partner_id = 2 WHERE id = 1",
            "UPDATE contractors SET assigned_partner_id = 999 WHERE id = 3")
    result = verify(open_target(url), migrations_dir, before)
    assert failed(result) == {"orphans: contractors(assigned_partner_id) → strategic_partners(id)":
                              "1 row(s) reference nothing (implied by the guide)"}
    assert health(result)["Referential Integrity"] == "FAIL"


def test_orphans_from_before_the_migrations_are_reported_and_only_more_fail(sqlite_url, migrations_dir):
    """A real database holds rows whose reference matches nothing (SQLite enforces no foreign key
    unless the session asks): the pre-migration inventory counts them, and verify fails only when
    there are more (Karakeep's rule tables, seeded at its 050, failed every run before)."""
    label = "contractors(assigned_partner_id) → strategic_partners(id)"
    migrate(open_target(sqlite_url), migrations_dir, to="001")
    run_sql(sqlite_url, "UPDATE contractors SET assigned_partner_id = 999 WHERE id = 3")
    before = inv.take(open_target(sqlite_url), migrations_dir)
    assert before["orphans"][label] == 1
    assert migrate(open_target(sqlite_url), migrations_dir).passed
    result = verify(open_target(sqlite_url), migrations_dir, before)
    assert result["passed"], failed(result)
    detail = {c["check"]: c["detail"] for c in result["checks"]}[f"orphans: {label}"]
    assert detail == "1 row(s) reference nothing (implied by the guide), as 1 did before the migrations: not their doing"
    run_sql(sqlite_url, "UPDATE contractors SET assigned_partner_id = 998 WHERE id = 1")
    assert failed(verify(open_target(sqlite_url), migrations_dir, before)) == {
        f"orphans: {label}": "2 row(s) reference nothing (implied by the guide); 1 did before the migrations"}


def test_orphan_of_a_declared_foreign_key_is_found(sqlite_url, migrations_dir):
    """SQLite does not enforce foreign keys unless asked: verify counts what slipped in."""
    migrate(open_target(sqlite_url), migrations_dir)
    run_sql(sqlite_url, "INSERT INTO contractor_partner_matches (contractor_id, partner_id) VALUES (1, 1), (42, 1)")
    assert failed(verify(open_target(sqlite_url), migrations_dir)) == {
        "orphans: contractor_partner_matches(contractor_id) → contractors(id)": "1 row(s) reference nothing (foreign key)"}


def test_before_the_migration_plans_and_json_are_skipped_with_reasons(db_url, migrations_dir):
    before = inv.take(open_target(db_url), migrations_dir)
    migrate(open_target(db_url), migrations_dir, to="000")  # adopt the baseline only
    result = verify(open_target(db_url), migrations_dir, before)
    assert result["passed"] and result["plans"] is None
    skipped = {c["check"]: c["detail"] for c in result["checks"] if c.get("skipped")}
    assert skipped["query plan: indexes used"] == (
        "skipped: column(s) contractors.current_stage, contractors.primary_focus_area do not exist "
        "(migration not applied)")
    assert skipped["JSON round trip: contractors.services_offered"] == (
        "skipped: column(s) contractors.services_offered do not exist (migration not applied)")
    assert result["json_round_trip"]["skipped"]
    assert health(result)["Query Plan"] == "SKIP" and health(result)["Data Integrity"] == "PASS"
    schema = {c["check"]: c for c in result["checks"] if c["check"].startswith("schema: ")}
    # the tables, and on PostgreSQL the identity sequences and the plpgsql extension
    assert set(schema) - {"schema: sequences", "schema: extensions"} == {
        "schema: contractors", "schema: strategic_partners", "schema: admin_users"}
    assert all(c["passed"] for c in schema.values())


def test_drift_and_a_column_dropped_on_purpose(sqlite_url, migrations_dir, tmp_path: Path):
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir, folder)
    (folder / "005_drop_phone.sql").write_text("ALTER TABLE contractors DROP COLUMN phone;\n")
    before = inv.take(open_target(sqlite_url), folder)
    assert migrate(open_target(sqlite_url), folder).passed
    result = verify(open_target(sqlite_url), folder, before)
    assert failed(result) == {}
    content = next(c for c in result["checks"] if c["check"] == "content: contractors")
    assert content["skipped"] and "phone: by 005_drop_phone" in content["detail"]
    with (folder / "004_add_search_indexes.sql").open("a") as f:
        f.write("-- edited after it was applied\n")
    assert failed(verify(open_target(sqlite_url), folder, before)) == {
        "migration history matches the folder": "004_add_search_indexes changed on disk since it was applied"}


@pytest.mark.postgres
def test_plan_comparison_gives_way_to_the_application(pg_url, migrations_dir):
    """An application transaction reading contractors: dropping its indexes for the "before"
    plan would wait behind it (and the application's next queries behind that); verify's short
    lock timeout ends the wait, whatever the target's lock_timeout, and verify reports it, unharmed."""
    migrate(open_target(pg_url), migrations_dir)
    app = sa.create_engine(sa.make_url(pg_url).set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool)
    with app.connect() as reader:
        reader.exec_driver_sql("SELECT COUNT(*) FROM contractors").scalar_one()  # holds ACCESS SHARE
        started = time.monotonic()
        result = verify(open_target(pg_url, lock_timeout_s=30), migrations_dir)
        took = time.monotonic() - started
        reader.rollback()
    assert took < 10, took  # not the target's 30 s lock_timeout
    assert result["plans"]["not_compared"] == (
        f"the application holds a lock on contractors (not granted within {VERIFY_LOCK_TIMEOUT_MS} ms)")
    assert result["plans"]["before_indexes"] == [] and result["plans"]["index_used"] is True
    assert result["passed"], failed(result)
    intact = next(c for c in result["checks"] if c["check"] == "query plan: indexes intact after the comparison")
    assert intact["detail"].startswith("plans not compared: the application holds a lock on contractors")
    assert {"idx_contractors_stage", "idx_contractors_focus_area"} <= indexes(pg_url, "contractors")


@pytest.mark.postgres
def test_json_round_trip_under_an_application_row_lock_is_skipped(pg_url, migrations_dir):
    """The application holds contractor 1 (SELECT ... FOR UPDATE): the round trip's UPDATE gives
    up after verify's short lock timeout; verify does not raise (a raising verify would make the
    pipeline roll back a migration that worked), says why the check was skipped, and the row and
    every table are as they were."""
    assert migrate(open_target(pg_url), migrations_dir).passed
    target = open_target(pg_url, lock_timeout_s=30)
    snap = inv.take(target, migrations_dir)
    app = sa.create_engine(sa.make_url(pg_url).set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool)
    with app.connect() as holder:
        holder.exec_driver_sql("SELECT id, services_offered FROM contractors WHERE id = 1 FOR UPDATE").one()
        started = time.monotonic()
        result = verify(target, migrations_dir)
        took = time.monotonic() - started
        holder.rollback()
    assert took < 10, took
    reason = f"the application holds a lock on contractors id 1 (not granted within {VERIFY_LOCK_TIMEOUT_MS} ms)"
    checks = {c["check"]: c for c in result["checks"]}
    rt = checks["JSON round trip: contractors.services_offered"]
    assert rt["passed"] and rt["skipped"] and rt["detail"] == f"skipped: {reason}"
    left = checks["JSON round trip left the data as it was"]
    assert left["passed"] and not left.get("skipped")
    assert result["json_round_trip"]["skipped"] == reason and result["json_round_trip"]["restored"] is True
    assert "read_back" not in result["json_round_trip"]
    assert result["passed"], failed(result)
    assert health(result)["JSON Round Trip"] == "PASS"
    assert [c for c in inv.compare_to_snapshot(target, snap) if not c["passed"]] == []
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT services_offered FROM contractors WHERE id = 1").scalar_one() == "[]"


def test_verify_reads_a_large_live_file_in_place_unless_it_would_hash_a_large_table(sqlite_url, migrations_dir,
                                                                                  monkeypatch, tmp_path):
    """Counting rows and digesting stored pages read less than copying the whole file: verify
    reads a large live file in place, and copies it first only when a large table has the
    inventory's row count but other pages (its rows would be hashed, holding the read lock that
    long). ``tables_to_hash`` tells which, as the file is now."""
    import sqlite3

    from runbook.engines import sqlite as sqlite_engine
    from runbook.verify import tables_to_hash

    path = Path(open_target(sqlite_url).url.database)
    with sqlite3.connect(path) as db:  # contractors: ~400 KiB of pages
        db.executemany("INSERT INTO contractors (name, email) VALUES (?, ?)",
                       [("x" * 2000, f"c{i}@example.com") for i in range(200)])
    db.close()
    monkeypatch.setattr(sqlite_engine, "SNAPSHOT_COPY_FROM", 100 * 1024)  # the file counts as large
    target = open_target(sqlite_url)
    before = inv.take(target, migrations_dir, row_hashes=False)
    copies = []
    real_copy = sqlite_engine._online_copy
    monkeypatch.setattr(sqlite_engine, "_online_copy", lambda src, dest: copies.append(dest) or real_copy(src, dest))

    assert tables_to_hash(target, before, []) == []
    assert verify(target, migrations_dir, before, run_dir=tmp_path)["passed"] and copies == []  # in place

    run_sql(sqlite_url, "UPDATE contractors SET name = 'y' || name WHERE id = 1")  # same count, other pages
    assert tables_to_hash(target, before, []) == ["contractors"]
    result = verify(target, migrations_dir, before, run_dir=tmp_path)
    assert len(copies) == 1 and not Path(copies[0]).exists()  # read from a copy, removed after
    assert result["passed"]  # a live target: the application's update is reported, not a failure

    run_sql(sqlite_url, "INSERT INTO contractors (name, email) VALUES ('z', 'z@example.com')")  # the count decides
    assert "contractors" not in tables_to_hash(target, before, [])  # the small tables' rows are hashed: cheap
    assert verify(target, migrations_dir, before, run_dir=tmp_path)["passed"] and len(copies) == 1  # in place


# -- objects no migration declares, on a history without a 000 baseline -----------------------
def empty_url(request, tmp_path: Path) -> str:
    if "postgresql" in request.node.name:
        return request.getfixturevalue("pg_empty_url")
    from conftest import new_sqlite_db

    return new_sqlite_db(tmp_path / "empty.db", baseline=False)


def a_then_b(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    (folder / "rollbacks").mkdir(parents=True)
    (folder / "001_create_a.sql").write_text("-- Risk Level: LOW\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n")
    (folder / "002_create_b.sql").write_text("-- Risk Level: LOW\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n")
    return folder


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_without_a_000_baseline_an_undeclared_table_fails_unless_the_inventory_or_an_adoption_explains_it(
        engine, request, tmp_path):
    """A table 002 left behind at version 001 (an empty rollback) is not declared by 001; a
    history without 000 is not an adopted one, so only a pre-migration inventory can explain it."""
    from runbook import migrations as mig

    url = empty_url(request, tmp_path)
    folder = a_then_b(tmp_path)
    assert migrate(open_target(url), folder, to="001").passed
    run_sql(url, "CREATE TABLE b (id INTEGER PRIMARY KEY)")
    result = verify(open_target(url), folder)
    assert failed(result) == {"schema: b": "table b is not declared by any applied migration (nothing tells it was "
                                           "there before the migrations: no pre-migration inventory (--snapshot), "
                                           "no adopted baseline (runbook baseline))"}
    before = inv.take(open_target(url), folder)  # an inventory that had it: there before, a note
    explained = verify(open_target(url), folder, before)
    assert failed(explained) == {}
    assert [c["detail"] for c in explained["checks"] if c["check"] == "schema: b"] == [
        "not declared by any applied migration (there before the migrations; table b is not declared by any "
        "applied migration)"]

    run_sql(url, f"DROP TABLE {mig.HISTORY_TABLE}", f"DROP TABLE {mig.EVENTS_TABLE}")
    mig.baseline(open_target(url), folder, "001")  # `runbook baseline --version 001`: 001 adopted, with b beside it
    assert failed(verify(open_target(url), folder)) == {}


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_guides_checks_are_not_reported_on_a_database_without_its_table(engine, request, tmp_path):
    url = empty_url(request, tmp_path)
    folder = a_then_b(tmp_path)
    before = inv.take(open_target(url), folder)
    assert before["quality"] == []
    assert migrate(open_target(url), folder).passed
    result = verify(open_target(url), folder, before)
    assert failed(result) == {}
    names = {c["check"] for c in result["checks"]}
    assert not {n for n in names if n.startswith(("JSON round trip", "query plan", "orphans"))}, names
    assert result["json_round_trip"] is None and result["plans"] is None
    assert {h["check_type"] for h in result["health"]} & {"JSON Round Trip", "Query Plan",
                                                          "Referential Integrity"} == set()
    assert inv.take(open_target(url), folder)["quality"] == []
