"""The event log in the database (``schema_events``): deploys, reverts, failures and adoptions,
written with the history change and kept when a rollback removes history rows."""

from __future__ import annotations

import json
import sqlite3

import pytest

from runbook import inventory
from runbook import migrations as mig
from runbook import steps
from runbook.cli import main as cli
from runbook.errors import RunFailed
from runbook.migrate import migrate
from runbook.rollback import rollback_to
from runbook.target import open_target

from conftest import MIGRATIONS, new_sqlite_db
from test_cli import failing_folder


def events(target) -> list[tuple[str, str, str]]:
    with target.engine().connect() as conn:
        return [(e["event"], e["version"], e["run_id"]) for e in mig.event_log(conn)]


def test_deploys_and_reverts_are_logged_and_kept(tmp_path, capsys):
    target = open_target(new_sqlite_db(tmp_path / "power100.db"))
    assert migrate(target, MIGRATIONS, to="002", run_id="up").passed
    assert rollback_to(target, MIGRATIONS, "001", run_id="down")["error"] is None
    assert events(target) == [("adopt", "000", "up"), ("deploy", "001", "up"), ("deploy", "002", "up"),
                              ("revert", "002", "down")]
    with target.engine().connect() as conn:
        assert [a.version for a in mig.applied(conn)] == ["000", "001"]  # the history row is gone, its events stay
        log = mig.event_log(conn)
    user, host = mig.who_and_host()
    assert all(e["who"] == user and e["host"] == host and e["at"] for e in log)
    assert log[1]["checksum"] == mig.discover(MIGRATIONS)[1].script.checksum_for(target.kind)
    # the runbook's own tables are not part of the schema it migrates
    assert mig.EVENTS_TABLE not in inventory.take(target, MIGRATIONS)["tables"]

    assert cli(["history", "--db", target.display, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(e["event"], e["version"]) for e in out["events"]] == [(e, v) for e, v, _ in events(target)]
    assert cli(["history", "--db", target.display]) == 0
    text = capsys.readouterr().out
    assert "revert   002_enhance_partner_table" in text and f"by {user}@{host}" in text


def test_a_failure_is_logged_in_a_managed_database_only(tmp_path):
    folder = failing_folder(tmp_path)
    db = tmp_path / "power100.db"
    target = open_target(new_sqlite_db(db))
    result = migrate(target, folder, run_id="first")  # 000 adopted, 001, 002 applied, 003 fails
    assert result.error and "003_add_audit_log" in result.error
    assert events(target)[-1] == ("fail", "003", "first")
    with target.engine().connect() as conn:
        note = mig.event_log(conn)[-1]["note"]
    assert "UNIQUE constraint failed" in note and "'created'" not in note.split("VALUES")[0]

    fresh = open_target(new_sqlite_db(tmp_path / "fresh.db"))
    only_003 = tmp_path / "only"
    (only_003 / "rollbacks").mkdir(parents=True)
    for p in folder.glob("00[03]_*.sql"):
        (only_003 / p.name).write_text(p.read_text())
    assert migrate(fresh, only_003, run_id="x").error  # adoption rolled back with it: nothing written
    tables = {r[0] for r in sqlite3.connect(tmp_path / "fresh.db").execute("SELECT name FROM sqlite_master")}
    assert not tables & set(mig.RUNBOOK_TABLES)


def test_rollback_to_none_leaves_a_database_as_the_run_found_it(tmp_path):
    db = tmp_path / "power100.db"
    target = open_target(new_sqlite_db(db))
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    assert migrate(target, MIGRATIONS, to="001", run_id="run-1").passed
    back = rollback_to(target, MIGRATIONS, "none", run_id="run-1")
    assert back["history_table_dropped"] and back["event_log_dropped"]
    assert {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")} == tables

    # an event log with earlier runs' events is kept
    assert migrate(target, MIGRATIONS, to="001", run_id="run-2").passed
    assert rollback_to(target, MIGRATIONS, "none", run_id="run-3")["event_log_dropped"] is False
    assert [e for e, _, _ in events(target)] == ["adopt", "deploy", "revert", "revert"]


def test_a_failed_rehearsal_keeps_its_record(tmp_path):
    from runbook import backup

    folder = failing_folder(tmp_path)
    target = open_target(new_sqlite_db(tmp_path / "power100.db"))
    run_dir = tmp_path / "run"
    record = backup.take(target, tmp_path / "backups", run_dir=run_dir)
    pending = mig.discover(folder)
    with pytest.raises(RunFailed, match="target was not touched"):
        steps.rehearse_if_wanted(target, record, folder, pending, wanted=True, dry_run=False, to=None,
                                 run_id="r", run_dir=run_dir)
    saved = json.loads((run_dir / "rehearsal.json").read_text())
    assert saved["ran"] is True and saved["passed"] is False and "003_add_audit_log" in saved["error"]
