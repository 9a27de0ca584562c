"""Case 1 and 3 of issue 8: a restore proves what it restores, and never drops newer writes
silently. Each refusal is checked to leave the target exactly as it was (full state)."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import backup, rollback
from runbook.errors import BadInput
from runbook.target import open_target

from conftest import db_state, new_sqlite_db
from helpers import kill_at_barrier, runbook


def _take(url: str, folder: Path) -> dict:
    return backup.take(open_target(url), folder)


def test_a_backup_appears_complete_with_its_record_or_not_at_all(db_url, tmp_path):
    record = _take(db_url, tmp_path / "backups")
    path = Path(record["path"])
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".json"]  # no partials
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    side = json.loads(backup.sidecar_path(path).read_text())
    assert side["verified"] is True and side["sha256"] == record["sha256"]
    assert side["identity"] and side["source_row_counts"]["contractors"] > 0
    assert "schema_version" in side


def test_restore_refuses_what_is_not_a_verified_backup_of_this_database(db_url, tmp_path):
    target = open_target(db_url)
    folder = tmp_path / "backups"
    mine = Path(_take(db_url, folder)["path"])
    before = db_state(db_url)
    refusals = []

    empty = folder / "empty.bak"
    empty.write_bytes(b"")
    refusals.append((empty, {}, "is empty \\(0 bytes\\)"))

    blank = folder / "blank.db"  # an SQLite database without a single table
    sqlite3.connect(blank).execute("PRAGMA user_version = 1").connection.close()
    refusals.append((blank, {"trust_unverified": True}, "holds no tables|not a readable"))

    unrecorded = folder / "copy-without-record.bak"
    unrecorded.write_bytes(mine.read_bytes())
    refusals.append((unrecorded, {}, "has no record beside it.*--trust-unverified-backup"))

    if target.kind.name == "sqlite":  # PostgreSQL: test_postgres_restore_refuses_another_databases_dump
        other_url = new_sqlite_db(tmp_path / "other.db")
        theirs = Path(_take(other_url, folder)["path"])
        refusals.append((theirs, {}, "is a backup of .*other.db"))
        bare = folder / "theirs-without-record.db"
        bare.write_bytes(theirs.read_bytes())
        refusals.append((bare, {"trust_unverified": True}, "is a backup of another database"))

        app = folder / "another-app.db"  # another application's database: its own application_id
        conn = sqlite3.connect(app)
        conn.execute("PRAGMA application_id = 1234567")
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('x')")
        conn.commit()
        conn.close()
        refusals.append((app, {"trust_unverified": True}, "is a backup of another database"))

    for path, flags, message in refusals:
        with pytest.raises(BadInput, match=message):
            rollback.restore_backup(target, path, confirm=True, **flags)
        assert db_state(db_url) == before, path.name


@pytest.mark.postgres
def test_postgres_restore_refuses_another_databases_dump(pg_url, pg_server, tmp_path):
    import uuid

    from conftest import MIGRATIONS, SEEDS, create_pg_database, drop_pg_database
    from runbook.seeds import build_baseline

    name = f"rbother_{uuid.uuid4().hex[:8]}"
    other = create_pg_database(pg_server, name)
    try:
        build_baseline(open_target(other), MIGRATIONS, SEEDS)
        theirs = Path(_take(other, tmp_path / "backups")["path"])
    finally:
        drop_pg_database(pg_server, name)
    target = open_target(pg_url)
    before = db_state(pg_url)
    with pytest.raises(BadInput, match="is a backup of .*rbother_.*not of"):
        rollback.restore_backup(target, theirs, confirm=True)
    bare = tmp_path / "theirs.dump"  # the same dump without its record, even when trusted
    bare.write_bytes(theirs.read_bytes())
    with pytest.raises(BadInput, match="is a backup of another database"):
        rollback.restore_backup(target, bare, confirm=True, trust_unverified=True)
    assert db_state(pg_url) == before


def test_restore_names_the_rows_written_since_the_backup(db_url, tmp_path):
    target = open_target(db_url)
    path = Path(_take(db_url, tmp_path / "backups")["path"])
    with target.engine().begin() as conn:
        for i in range(7):
            conn.execute(sa.text("INSERT INTO contractors (name, email) VALUES (:n, :e)"),
                         {"n": f"late {i}", "e": f"late{i}@example.com"})
    target.dispose()
    before = db_state(db_url)
    with pytest.raises(BadInput, match=r"would discard (\d+) row\(s\) .*contractors: \d+") as info:
        rollback.restore_backup(target, path, confirm=True)
    n = int(str(info.value).split("would discard ")[1].split(" ")[0])
    assert n == 7 if target.kind.name == "sqlite" else n >= 7  # exact on SQLite; counters on PostgreSQL
    assert db_state(db_url) == before
    result = rollback.restore_backup(target, path, confirm=True, discard_newer_writes=True)
    assert result["discarded"]["tables"]["contractors"] >= 7
    with target.engine().connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM contractors WHERE name LIKE 'late %'")).scalar() == 0


def test_restore_keeps_the_event_log(db_url, tmp_path):
    from runbook import migrate
    from runbook import migrations as mig

    from conftest import MIGRATIONS

    target = open_target(db_url)
    assert migrate.migrate(target, MIGRATIONS, to="002", run_id="before-backup").error is None
    path = Path(_take(db_url, tmp_path / "backups")["path"])
    assert migrate.migrate(target, MIGRATIONS, run_id="after-backup").error is None
    assert rollback.rollback_to(target, MIGRATIONS, "003", run_id="a-rollback")["error"] is None
    with target.engine().connect() as conn:
        before = mig.event_log(conn)
    assert {e["run_id"] for e in before} >= {"before-backup", "after-backup", "a-rollback"}

    result = rollback.restore_backup(target, path, confirm=True, discard_newer_writes=True, run_id="the-restore")
    with target.engine().connect() as conn:
        after = mig.event_log(conn)
        versions = [a.version for a in mig.applied(conn)]
    target.dispose()
    assert versions[-1] == "002"  # the history is the backup's
    strip = [{k: v for k, v in e.items() if k != "id"} for e in after]
    assert strip[:-1] == [{k: v for k, v in e.items() if k != "id"} for e in before]  # nothing lost, same order
    carried = [e for e in before if e["run_id"] in ("after-backup", "a-rollback")]
    assert result["events_carried"] == len(carried) > 0
    last = after[-1]
    assert (last["event"], last["version"], last["run_id"], last["checksum"]) == ("restore", "002", "the-restore",
                                                                                 result["sha256"])
    assert path.name in last["note"] and str(path.parent) not in last["note"]
    data = json.loads(last["data"])
    assert data["backup"] == path.name and data["before"] == "003" and data["after"] == "002"
    assert data["events_carried"] == len(carried)
    shown = runbook("history", "--db", db_url)
    assert shown.returncode == 0 and "restore" in shown.stdout and path.name in shown.stdout
    assert not list(path.parent.glob(".*.events.json"))  # the log kept during the restore is gone


def test_restore_without_newer_writes_needs_no_flag(db_url, tmp_path):
    target = open_target(db_url)
    path = Path(_take(db_url, tmp_path / "backups")["path"])
    result = rollback.restore_backup(target, path, confirm=True)
    assert result["discarded"]["rows"] == 0 and result["identity_checked"] is True


def test_killed_backup_leaves_no_file_under_a_backup_name_and_clean_removes_it(db_url, tmp_path):
    folder = tmp_path / "backups"
    code = (f"from runbook import backup; from runbook.target import open_target; "
            f"backup.take(open_target({db_url!r}), {str(folder)!r})")
    kill_at_barrier(code, tmp_path / "barrier", "backup-written")
    left = sorted(p.name for p in folder.iterdir())
    assert left and all(name.startswith(".") and ".partial" in name for name in left), left
    target = open_target(db_url)
    before = db_state(db_url)
    for name in left:  # a partial file is never restored
        with pytest.raises(BadInput):
            rollback.restore_backup(target, folder / name, confirm=True)
    assert db_state(db_url) == before
    done = runbook("clean", "--backups", str(folder), "--reports", str(tmp_path / "reports"))
    assert done.returncode == 0, done.stderr
    assert list(folder.iterdir()) == [], done.stdout


def test_killed_restore_keeps_the_event_log_for_the_next_run(db_url, tmp_path):
    """A restore killed after replacing the database, before carrying the event log over: the
    log waits beside the backup (private), `runbook clean` without the database keeps it, and the
    next run of the database (here `runbook clean --db`) appends what the database lacks."""
    from runbook import migrate
    from runbook import migrations as mig

    from conftest import MIGRATIONS

    target = open_target(db_url)
    assert migrate.migrate(target, MIGRATIONS, to="002", run_id="before-backup").error is None
    folder = tmp_path / "backups"
    path = Path(_take(db_url, folder)["path"])
    assert migrate.migrate(target, MIGRATIONS, run_id="after-backup").error is None
    with target.engine().connect() as conn:
        before = [{k: v for k, v in e.items() if k != "id"} for e in mig.event_log(conn)]
    target.dispose()
    code = (f"from runbook import rollback; from runbook.target import open_target; "
            f"rollback.restore_backup(open_target({db_url!r}), {str(path)!r}, confirm=True, "
            f"discard_newer_writes=True)")
    kill_at_barrier(code, tmp_path / "barrier", "restore-replaced")
    with target.engine().connect() as conn:
        cut = mig.event_log(conn)
        assert [a.version for a in mig.applied(conn)][-1] == "002"  # the backup's database
    target.dispose()
    assert not any(e["run_id"] == "after-backup" for e in cut)  # the events after the backup are not in it
    (pending,) = folder.glob(".*.events.json")
    assert pending.stat().st_mode & 0o777 == 0o600
    kept = runbook("clean", "--backups", str(folder), "--reports", str(tmp_path / "reports"))
    assert kept.returncode == 0 and pending.exists(), kept.stdout  # a leftover it may not remove
    done = runbook("clean", "--db", db_url, "--backups", str(folder), "--reports", str(tmp_path / "reports"))
    assert done.returncode == 0 and "interrupted restore" in done.stdout, done.stdout + done.stderr
    assert not pending.exists()
    with target.engine().connect() as conn:
        after = [{k: v for k, v in e.items() if k != "id"} for e in mig.event_log(conn)]
    target.dispose()
    assert after[:-1] == before  # every event, in order
    assert after[-1]["event"] == "restore" and json.loads(after[-1]["data"])["interrupted"] is True
