"""Backup: name, size, SHA-256, verification, consistency under writes, and the migrate guard."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import backup
from runbook.checks import failed
from runbook.errors import BadInput, RunFailed
from runbook.target import open_target

from conftest import new_sqlite_db

STAMP = "20240102_030405"


def sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def count(url: str, table: str) -> int:
    with open_target(url).engine().connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def copy_counts(target, path: str | Path) -> dict[str, int]:
    """Row counts of a backup, read from a scratch database restored from it."""
    with target.kind.scratch_copy(target, Path(path)) as scratch:
        with scratch.engine().connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {t: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in names}


def test_take_names_sizes_hashes_and_verifies(db_url, tmp_path):
    target = open_target(db_url)
    run_dir = tmp_path / "run"
    record = backup.take(target, tmp_path / "backups", stamp=STAMP, run_dir=run_dir)
    path = Path(record["path"])
    assert path.parent == (tmp_path / "backups").resolve()
    assert path.name.startswith(f"{target.name}_backup_{STAMP}")
    assert record["size_bytes"] == path.stat().st_size > 0
    assert record["sha256"] == sha(path)
    assert record["verified"] is True and record["checks"]
    assert all(c["passed"] for c in record["checks"]), record["checks"]
    assert record["target"] == target.display and record["tool"] and record["format"]
    assert re.match(r"\d{4}-\d\d-\d\dT", record["taken_at"])
    # the record sits beside the file, and round-trips through the run dir
    assert backup.sidecar_path(path) == path.with_name(path.name + ".json")
    assert backup.read_sidecar(path) == json.loads(json.dumps(record))
    assert backup.load(run_dir) == json.loads(json.dumps(record))
    # the copy holds the source's rows
    assert copy_counts(target, path)["contractors"] == count(db_url, "contractors")


def test_default_stamp_is_utc_now_and_names_do_not_collide(sqlite_url, tmp_path):
    target = open_target(sqlite_url)
    record = backup.take(target, tmp_path)
    assert re.fullmatch(r"power100_backup_\d{8}_\d{6}\.db", Path(record["path"]).name)
    backup.take(target, tmp_path, stamp=STAMP)
    with pytest.raises(BadInput, match="already exists"):
        backup.take(target, tmp_path, stamp=STAMP)


def test_backup_while_another_connection_writes_is_consistent(db_url, tmp_path):
    target = open_target(db_url)
    writer_target = open_target(db_url)
    initial = count(db_url, "contractors")
    inserted = 0
    enough_before = threading.Event()
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        nonlocal inserted
        try:
            eng = writer_target.engine()
            while not stop.is_set():
                with eng.begin() as conn:
                    conn.execute(sa.text("INSERT INTO contractors (name, email) VALUES (:n, :e)"),
                                 {"n": f"writer {inserted}", "e": f"writer{inserted}@example.test"})
                inserted += 1
                if inserted >= 25:
                    enough_before.set()
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
            enough_before.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert enough_before.wait(30)
        record = backup.take(target, tmp_path, stamp=STAMP)
        at_backup = inserted
        while inserted < at_backup + 25 and not errors and thread.is_alive():
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join(30)
    assert not errors, errors
    final = count(db_url, "contractors")
    assert final == initial + inserted
    assert record["verified"], record["checks"]
    in_copy = copy_counts(target, record["path"])
    # the writer was running before and after the copy: it caught a state strictly in between
    assert initial + 25 <= in_copy["contractors"] < final
    if "source_row_counts" in record:  # counted in the same snapshot as the copy
        assert {t: in_copy[t] for t in record["source_row_counts"]} == record["source_row_counts"]


def test_tampered_backup_fails_verification(db_url, tmp_path):
    target = open_target(db_url)
    record = backup.take(target, tmp_path, stamp=STAMP)
    path = Path(record["path"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    again = target.kind.verify_backup(target, record)
    assert [c["check"] for c in failed(again)][0].startswith("SHA-256")
    path.unlink()
    gone = target.kind.verify_backup(target, record)
    assert [c["check"] for c in failed(gone)] == ["backup file exists"]


def _corrupt_sqlite_db(path: Path) -> str:
    """A database whose index pages are damaged: its rows still count, integrity_check fails."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    conn.execute("CREATE INDEX ix_t_v ON t (v)")
    conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"value{i:06d}",) for i in range(5000)])
    conn.commit()
    root, page_size = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ix_t_v'").fetchone()[0], \
        conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    offset = root * page_size  # the page after the index's root: one of its leaves
    data[offset + 200:offset + 260] = b"\xff" * 60
    path.write_bytes(bytes(data))
    return f"sqlite:///{path}"


def test_backup_of_a_corrupt_database_fails_with_the_record(tmp_path):
    target = open_target(_corrupt_sqlite_db(tmp_path / "damaged.db"))
    run_dir = tmp_path / "run"
    with pytest.raises(backup.BackupFailed, match="did not verify") as info:
        backup.take(target, tmp_path / "backups", stamp=STAMP, run_dir=run_dir)
    record = info.value.record
    assert record["verified"] is False
    bad = {c["check"] for c in failed(record["checks"])}
    # depending on which damaged page SQLite reads first, integrity_check reports it or fails to run
    assert bad and bad <= {"integrity_check of the copy", "the copy reads as an SQLite database"}, bad
    assert re.fullmatch("[0-9a-f]{64}", record["sha256"])  # the deleted copy's, as it was on disk
    assert backup.load(run_dir)["verified"] is False  # written before failing: the report can show it
    with pytest.raises(RunFailed, match="did not verify \\((integrity_check|the copy reads)"):
        backup.require_verified(run_dir, target)


def test_require_verified_guards_the_migrate_step(db_url, tmp_path):
    target = open_target(db_url)
    run_dir = tmp_path / "run"
    with pytest.raises(RunFailed, match="no backup was taken in this run"):
        backup.require_verified(run_dir, target)

    skipped = backup.require_verified(run_dir, target, skip=True)
    assert skipped == {"skipped": True, "reason": "backup skipped by explicit option"}

    other = open_target(new_sqlite_db(tmp_path / "other.db"))
    backup.take(other, tmp_path / "b", stamp=STAMP, run_dir=run_dir)
    with pytest.raises(RunFailed, match="is of .*other.db, not of"):
        backup.require_verified(run_dir, target)

    record = backup.take(target, tmp_path / "b", stamp="20240102_030406", run_dir=run_dir)
    assert backup.require_verified(run_dir, target)["sha256"] == record["sha256"]

    path = Path(record["path"])
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(RunFailed, match="changed since it was verified"):
        backup.require_verified(run_dir, target)
    path.unlink()
    with pytest.raises(RunFailed, match="is gone"):
        backup.require_verified(run_dir, target)


def test_sqlite_paths_with_uri_characters_back_up_and_restore_the_right_file(tmp_path):
    from conftest import new_sqlite_db
    from runbook import backup, rollback
    from runbook.target import open_target

    folder = tmp_path / "we ird#dir"
    folder.mkdir()
    url = new_sqlite_db(folder / "power100.db")
    target = open_target(url)
    record = backup.take(target, tmp_path / "backups")
    assert record["verified"] and record["source_row_counts"]["contractors"] == 11
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backups", "we ird#dir"]  # no stray file
    rollback.restore_backup(target, record["path"], confirm=True)
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM contractors").scalar() == 11
