"""Issue 7's acceptance tests: the three histories of ``tests/histories/`` (30+ migrations each,
written like real projects' histories) run through the runbook end to end, on databases that
already hold rows, the way CI runs it: ``runbook run`` (rehearsal on) in a subprocess, then
``runbook rollback --to`` in a few steps as far as the rollback scripts go (down to the adopted
baseline). After the run and after every rollback step the database must hold exactly what the
raw engine holds after the same scripts (``histories/raw.py``: psql / sqlite3, no runbook):
the same schema as the engine reports it, the same rows (every table, every row, every value),
and the seeded tables their expected counts.

Also: a correct Category 3 (data) migration passes while a rebuild that copies only half the
rows fails and leaves the target untouched; a database error that quotes a row value
(``555-0101``, a phone number) leaves no trace of that value in any file of the reports folder.

Each test is one ``run`` plus a few one-notebook ``rollback`` runs (papermill); the durations
are in the module's ``DURATIONS`` printout (``-s``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from histories import raw
from histories.e2e import (DURATIONS, HISTORIES, PgSide, SqliteSide, history_copy, pg_admin, print_durations,
                           production_like, run_history, run_json, runbook)

pytestmark = [pytest.mark.slow, pytest.mark.histories]

__all__ = ["pg_admin"]  # a fixture, imported for pytest


# -- declared data changes ---------------------------------------------------------------------
def test_a_rebuild_that_loses_rows_fails_and_changes_nothing(tmp_path):
    """sqlite_app's 000-002 and 005, then its 006 rebuild of items copying only the even ids:
    undeclared row loss. The run fails and leaves the target as it was (the rehearsal catches it
    on the scratch copy)."""
    side = SqliteSide("sqlite_app", tmp_path)
    bad = history_copy("sqlite_app", ["000", "001", "002", "005", "006"], tmp_path / "bad")
    rebuild = bad / "006_items_read_check.sql"
    text = rebuild.read_text()
    assert "SELECT id, feed_id, guid, title, link, published, read, starred FROM items;" in text
    rebuild.write_text(text.replace("starred FROM items;", "starred FROM items WHERE id % 2 = 0;"))
    url = production_like(side, "sqlite_app")
    before = side.state(url)
    done, seconds = runbook("run", "--db", url, "--migrations", str(bad), "--reports", str(tmp_path / "reports"),
                            "--backups", str(tmp_path / "backups"), cwd=tmp_path)
    DURATIONS["category 3 half-copy run"] = seconds
    assert done.returncode == 1, done.stdout + done.stderr
    record = run_json(done.stdout)
    assert record["status"] == "failed" and "items" in record["error"], record["error"]
    assert side.state(url) == before


@pytest.mark.postgres
def test_pg_app_runs_and_rolls_back_on_postgresql(pg_admin, tmp_path):
    side = PgSide("pg_app", pg_admin, tmp_path)
    try:
        run_history(side, "pg_app", tmp_path)
    finally:
        side.close()


def test_sqlite_app_runs_and_rolls_back_on_sqlite(tmp_path):
    run_history(SqliteSide("sqlite_app", tmp_path), "sqlite_app", tmp_path)


def test_shared_app_runs_and_rolls_back_on_sqlite(tmp_path):
    run_history(SqliteSide("shared_app", tmp_path), "shared_app", tmp_path)


@pytest.mark.postgres
def test_shared_app_runs_and_rolls_back_on_postgresql(pg_admin, tmp_path):
    side = PgSide("shared_app", pg_admin, tmp_path)
    try:
        run_history(side, "shared_app", tmp_path)
    finally:
        side.close()


# -- declared data changes ---------------------------------------------------------------------
def test_a_correct_data_migration_passes(tmp_path):
    """sqlite_app's 000-002, 005-007 and 012: 005 and 007 are declared backfills of new columns,
    006 a table rebuild that keeps every row, 012 (HIGH) rewrites existing values of a baseline
    column (users.email NULL -> a placeholder address) and rebuilds the table: the content of a
    column that existed before the run changes, as declared. (003, a WITHOUT ROWID table, and
    004, a comment-only no-op, are left out: only declared data changes decide this test.)"""
    side = SqliteSide("sqlite_app", tmp_path)
    good = history_copy("sqlite_app", ["000", "001", "002", "005", "006", "007", "012"], tmp_path / "good")
    url = production_like(side, "sqlite_app")
    done, seconds = runbook("run", "--db", url, "--migrations", str(good), "--reports", str(tmp_path / "reports"),
                            "--backups", str(tmp_path / "backups"), cwd=tmp_path)
    DURATIONS["category 3 (sqlite_app 000-012, 7 migrations) run"] = seconds
    assert done.returncode == 0, done.stdout + done.stderr
    assert run_json(done.stdout)["versions"]["after"] == "012"
    reference = side.new("reference")
    for s in raw.history(good):
        side.apply(reference, s.path)
        if s.version == "000":
            side.apply(reference, HISTORIES / "sqlite_app" / "seed.sql")
    assert side.state(url) == side.state(reference), "the data migrations did what the raw engine does"


# -- no row values in reports ------------------------------------------------------------------
@pytest.mark.postgres
def test_no_row_value_reaches_the_reports(pg_admin, tmp_path):
    """shared_app's baseline and seed, then a migration whose cast fails on a seeded phone number:
    PostgreSQL's message quotes it (invalid input syntax for type integer: "555-0101")."""
    side = PgSide("shared_app", pg_admin, tmp_path)
    try:
        folder = history_copy("shared_app", ["000"], tmp_path / "migrations")
        (folder / "001_phone_digits.sql").write_text(
            "-- Migration: Phone numbers as digits\n-- Date: 2024-07-01\n"
            "-- Description: a numeric copy of the phone number, for the dialer\n"
            "-- Risk Level: HIGH (data backfill)\n\n"
            "ALTER TABLE members ADD COLUMN phone_digits INTEGER;\n"
            "UPDATE members SET phone_digits = CAST(phone AS INTEGER);\n")
        (folder / "rollbacks" / "001_rollback_phone_digits.sql").write_text(
            "ALTER TABLE members DROP COLUMN phone_digits;\n")
        url = production_like(side, "shared_app")
        before = side.state(url)
        reports = tmp_path / "reports"
        done, seconds = runbook("run", "--db", url, "--migrations", str(folder), "--reports", str(reports),
                                "--backups", str(tmp_path / "backups"), cwd=tmp_path)
        DURATIONS["redaction run (fails)"] = seconds
        assert done.returncode == 1, done.stdout + done.stderr
        assert side.state(url) == before
        record = (Path(run_json(done.stdout)["run_dir"]) / "run.json").read_text()
        assert "invalid input syntax for type integer" in record, "the error class stays in the report"
        assert "555-0101" not in done.stdout + done.stderr
        leaks = [str(p.relative_to(reports)) for p in reports.rglob("*")
                 if p.is_file() and b"555-0101" in p.read_bytes()]
        assert leaks == []
    finally:
        side.close()


def teardown_module(module) -> None:
    print_durations()
