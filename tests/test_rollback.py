"""Rollback: scripts down to a version (each undone migration's schema equals the snapshot taken
before it, data intact), refusals that change nothing, a failing script, restore from a backup."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import backup, inventory, reports, rollback, schema, seeds
from runbook import migrations as mig
from runbook.errors import BadInput, RunFailed
from runbook.migrate import migrate
from runbook.target import open_target

from conftest import MIGRATIONS, SEEDS, new_sqlite_db


def history(target) -> list[str] | None:
    with target.engine().connect() as conn:
        return [a.version for a in mig.applied(conn)] if mig.has_history(conn) else None


def state(target, migrations_dir: Path = MIGRATIONS) -> dict:
    """Everything "nothing changed" promises: schema, rows, content fingerprints, history rows."""
    snap = inventory.take(target, migrations_dir)
    with target.engine().connect() as conn:
        rows = [a.__dict__ for a in mig.applied(conn)] if mig.has_history(conn) else None
    return {"tables": snap["tables"], "history": rows}


def schema_now(target) -> dict:
    with target.engine().connect() as conn:
        return inventory.schema_snapshot(conn, target.kind)


def assert_back_to(target, snapshot: dict) -> None:
    assert inventory.compare_schemas(snapshot, schema_now(target)) == []
    checks = rollback.check_restored(target, snapshot)
    assert checks and all(c["passed"] for c in checks), [c for c in checks if not c["passed"]]


def folder_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    return folder


def test_rollback_each_version_down_to_the_baseline_and_below(db_url, migrations_dir):
    target = open_target(db_url)
    snapshots = {"none": inventory.take(target, migrations_dir)}  # no history table
    assert migrate(target, migrations_dir, to="000", run_id="adopt").passed  # history: 000 (adopted)
    for version in ("001", "002", "003", "004"):
        previous = inventory.take(target, migrations_dir)
        snapshots[f"before {version}"] = previous
        assert migrate(target, migrations_dir, to=version, run_id=f"up-{version}").passed
    assert history(target) == ["000", "001", "002", "003", "004"]
    same = rollback.rollback_to(target, migrations_dir, "004", run_id="noop")
    assert same["rolled_back"] == [] and same["before"] == same["after"] == "004" and same["error"] is None

    for to, undone in (("003", "004"), (2, "003"), ("1", "002"), ("000", "001")):
        result = rollback.rollback_to(target, migrations_dir, to, run_id=f"down-{to}")
        assert result["error"] is None, result["error"]
        assert [r["version"] for r in result["rolled_back"]] == [undone]
        step = result["rolled_back"][0]
        assert step["action"] == "script" and step["statements"] > 0 and step["duration_ms"] >= 0
        assert result["before"] == undone and result["after"] == f"{int(to):03d}"
        assert history(target) == [v for v in ("000", "001", "002", "003") if v < undone]
        assert_back_to(target, snapshots[f"before {undone}"])

    # below the adopted baseline: its row goes, its tables stay, the history table goes
    result = rollback.rollback_to(target, migrations_dir, "none", run_id="down-none")
    assert result["error"] is None and result["after"] is None and result["to"] == "none"
    assert result["rolled_back"] == [{"version": "000", "name": "baseline", "action": "adoption removed",
                                      "duration_ms": result["rolled_back"][0]["duration_ms"], "statements": 0}]
    assert result["history_table_dropped"] is True and history(target) is None
    assert_back_to(target, snapshots["none"])


def test_failed_first_run_goes_back_to_no_history(db_url, migrations_dir, tmp_path):
    """What `runbook demo` meets: a database without history, the baseline adopted by the run,
    a migration failing; rolling back to the version before the run leaves it as it was."""
    target = open_target(db_url)
    folder = folder_copy(tmp_path)
    (folder / "005_broken.sql").write_text("ALTER TABLE no_such_table ADD COLUMN x TEXT;\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    snapshot = inventory.take(target, folder)
    reports.save_artifact(run_dir, "inventory", snapshot)  # as the inventory notebook does
    result = migrate(target, folder, run_id="failing-run")
    assert not result.passed and history(target) == ["000", "001", "002", "003", "004"]

    version = rollback.resolve_version(None, reports.load_artifact(run_dir, "inventory"))
    assert version == "none"
    undone = rollback.rollback_to(target, folder, version, run_id="failing-run")
    assert undone["error"] is None
    assert [r["version"] for r in undone["rolled_back"]] == ["004", "003", "002", "001", "000"]
    assert history(target) is None
    assert_back_to(target, snapshot)


def test_refusals_change_nothing(db_url, migrations_dir, tmp_path):
    target = open_target(db_url)
    folder = folder_copy(tmp_path)
    moved = [*folder.glob("003_*.sql"), *(folder / "rollbacks").glob("003_*.sql"), *(folder / "verify").glob("003_*.sql")]
    for p in moved:
        p.rename(tmp_path / p.name)
    assert migrate(target, folder, run_id="up").passed
    for p in moved:
        (tmp_path / p.name).rename(p)
    assert history(target) == ["000", "001", "002", "004"]  # 003 is now pending, below 004
    before = state(target, folder)

    cases = [
        ("005", "above the current version 004"),
        ("003", "not an applied version"),
        ("abc", "must be a migration number or 'none'"),
        (-3, "must be a migration number or 'none'"),
        (None, "no version to roll back to"),
    ]
    for version, message in cases:
        with pytest.raises(BadInput, match=message):
            rollback.rollback_to(target, folder, version, run_id="refused")
    assert state(target, folder) == before

    # drift: an applied migration edited on disk
    with (folder / "001_add_contractor_fields.sql").open("a") as f:
        f.write("\n-- edited\n")
    with pytest.raises(BadInput, match="checksum drift"):
        rollback.rollback_to(target, folder, "000", run_id="refused")
    assert state(target, folder) == before


def test_missing_rollback_script_changes_nothing(db_url, migrations_dir, tmp_path):
    target = open_target(db_url)
    folder = folder_copy(tmp_path)
    assert migrate(target, folder, run_id="up").passed
    (folder / "rollbacks" / "003_rollback_supporting_tables.sql").unlink()
    before = state(target, folder)
    with pytest.raises(BadInput, match="no rollback script for 003_create_supporting_tables"):
        rollback.rollback_to(target, folder, "001", run_id="refused")
    assert state(target, folder) == before  # 004 was not rolled back either: checked before anything ran


def everything(target) -> dict:
    """All a failed rollback promises to leave as it was: the schema as the engine reports it,
    every table's rows (the history and the event log included), read in one transaction."""
    with target.kind.read_snapshot(target) as conn:
        model = schema.introspect(conn, target.kind)
        rows = {t: sorted(tuple(map(repr, r)) for r in conn.exec_driver_sql(
                    f"SELECT * FROM {target.kind.quote_table(t)}"))
                for t in target.kind.table_names(conn)}
    assert mig.HISTORY_TABLE in rows and mig.EVENTS_TABLE in rows
    return {"schema": model, "rows": rows}


def test_a_failing_rollback_script_rolls_the_whole_rollback_back(db_url, tmp_path):
    target = open_target(db_url)
    folder = folder_copy(tmp_path)
    assert migrate(target, folder, run_id="up").passed
    (folder / "rollbacks" / "003_rollback_supporting_tables.sql").write_text(
        "DROP TABLE partner_focus_areas;\n"
        "DROP TABLE no_such_table;\n"
    )
    before = everything(target)
    result = rollback.rollback_to(target, folder, "001", run_id="down")
    assert everything(target) == before  # 004's indexes and 003's first drop are back: one transaction
    assert result["rolled_back"] == [] and [u["version"] for u in result["undone"]] == ["004"]
    assert result["error"].startswith("rollback of 003_create_supporting_tables failed: "
                                      "003_rollback_supporting_tables.sql statement 2 (line 2): ")
    assert result["error"].endswith(
        "the rollback's transaction was rolled back whole with the steps that ran before it in that transaction "
        "(004_add_search_indexes): nothing was rolled back, 003_create_supporting_tables is still applied and the "
        "database is still at version 004")
    assert result["failed"]["script"] == "003_rollback_supporting_tables.sql"
    assert result["after"] == "004" and result["parts"] == [{"versions": ["004", "003", "002"], "transaction": True}]
    assert result["may_stop_at"] == [] and result["notice"] is None
    with pytest.raises(RunFailed, match="nothing was rolled back"):
        rollback.assert_rolled_back(result)


def three_steps(tmp_path: Path) -> Path:
    """001 makes table a with a unique tag, 002 drops that uniqueness, 003 makes table b (two rows
    of its own) and adds a row to a, 004 adds a column to a and a row. 002's rollback makes the tag
    unique again: it passes on the scratch replay (no rows) and fails on a target whose
    application wrote the same tag twice since."""
    folder = tmp_path / "three"
    (folder / "rollbacks").mkdir(parents=True)
    files = {
        "001_create_a.sql": "CREATE TABLE a (id INTEGER PRIMARY KEY, tag TEXT);\nCREATE UNIQUE INDEX a_tag ON a (tag);\n",
        "rollbacks/001_rollback_create_a.sql": "DROP TABLE a;\n",
        "002_tags_repeat.sql": "DROP INDEX a_tag;\n",
        "rollbacks/002_rollback_tags_repeat.sql": "CREATE UNIQUE INDEX a_tag ON a (tag);\n",
        "003_create_b.sql": "CREATE TABLE b (id INTEGER PRIMARY KEY);\nINSERT INTO b (id) VALUES (1), (2);\n"
                            "INSERT INTO a (id, tag) VALUES (101, 'n');\n",
        "rollbacks/003_rollback_create_b.sql": "DELETE FROM a WHERE id = 101;\nDROP TABLE b;\n",
        "004_add_note.sql": "ALTER TABLE a ADD COLUMN note TEXT;\nINSERT INTO a (id, tag) VALUES (100, 'm');\n",
        "rollbacks/004_rollback_add_note.sql": "DELETE FROM a WHERE id = 100;\nALTER TABLE a DROP COLUMN note;\n",
    }
    for name, text in files.items():
        (folder / name).write_text("-- Risk Level: LOW\n" + text)
    return folder


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_rollback_over_three_migrations_whose_oldest_fails_on_the_targets_rows_changes_nothing(
        engine, request, tmp_path):
    target = open_target(empty_db_url(request, tmp_path))
    folder = three_steps(tmp_path)
    assert migrate(target, folder, run_id="up").passed
    with target.engine().begin() as conn:  # the application: the same tag twice, allowed since 002
        conn.exec_driver_sql("INSERT INTO a (id, tag) VALUES (1, 'x'), (2, 'x')")
    before = everything(target)
    result = rollback.rollback_to(target, folder, "001", run_id="down")
    assert everything(target) == before  # schema, every row, history and events: as before the rollback
    assert result["expected"]["status"] == "passed"  # the scratch replay had no rows: it could not see it
    assert result["error"].startswith("rollback of 002_tags_repeat failed: 002_rollback_tags_repeat.sql statement 1 "
                                      "(line 2): 'CREATE UNIQUE INDEX a_tag ON a (tag)")
    assert "nothing was rolled back, 002_tags_repeat is still applied and the database is still at version 004" \
        in result["error"]
    assert result["failed"] == {"version": "002", "name": "tags_repeat", "script": "002_rollback_tags_repeat.sql",
                                "statement": 1, "line": 2, "cause": result["failed"]["cause"]}
    assert result["rolled_back"] == [] and [u["version"] for u in result["undone"]] == ["004", "003"]
    assert result["before"] == result["after"] == "004" and result["history_table_dropped"] is False

    with target.engine().begin() as conn:  # the tags made unique again: now it goes, whole
        conn.exec_driver_sql("UPDATE a SET tag = 'y' WHERE id = 2")
    result = rollback.rollback_to(target, folder, "001", run_id="down again")
    assert result["error"] is None and result["after"] == "001" and result["undone"] == []
    assert [r["version"] for r in result["rolled_back"]] == ["004", "003", "002"]
    counted = [[(t["table"], t["rows_before"], t["rows_after"]) for t in r["data"]["tables"]]
               for r in result["rolled_back"]]
    assert counted == [[("a", 4, 3)], [("a", 3, 2)], []]  # each step's own counts, in the shared transaction
    with target.engine().connect() as conn:
        assert [(e["event"], e["version"]) for e in mig.event_log(conn)][-3:] == [
            ("revert", "004"), ("revert", "003"), ("revert", "002")]
    assert history(target) == ["001"]


def empty_db_url(request, tmp_path) -> str:
    if "postgresql" in request.node.name:
        return request.getfixturevalue("pg_empty_url")
    return new_sqlite_db(tmp_path / "empty.db", baseline=False)


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_baseline_the_runbook_applied_rolls_back_only_while_empty(engine, request, tmp_path, migrations_dir):
    target = open_target(empty_db_url(request, tmp_path))
    empty = inventory.take(target, migrations_dir)
    assert migrate(target, migrations_dir, run_id="fresh").passed
    result = rollback.rollback_to(target, migrations_dir, "none", run_id="down")
    assert result["error"] is None and result["rolled_back"][-1]["action"] == "script"
    assert history(target) is None and schema_now(target)["tables"] == {}
    assert_back_to(target, empty)

    assert migrate(target, migrations_dir, run_id="fresh-again").passed
    seeds.load(target, [SEEDS / "sample_data.sql"])
    before = state(target)
    with pytest.raises(BadInput, match="refusing to roll back the baseline 000_baseline.*hold rows"):
        rollback.rollback_to(target, migrations_dir, "none", run_id="refused")
    assert state(target) == before


# -- restore ----------------------------------------------------------------------------------
def test_restore_needs_confirm_and_a_matching_file(db_url, migrations_dir, tmp_path):
    target = open_target(db_url)
    record = backup.take(target, tmp_path / "backups")
    assert migrate(target, migrations_dir, run_id="up").passed
    before = state(target)
    path = Path(record["path"])
    with pytest.raises(BadInput, match=r"restoring overwrites .*pass confirm=True / --confirm-restore"):
        rollback.restore_backup(target, path, confirm=False)
    with pytest.raises(BadInput, match="backup file not found"):
        rollback.restore_backup(target, tmp_path / "nope.db", confirm=True)
    other = open_target(new_sqlite_db(tmp_path / "other.db"))
    other_record = backup.take(other, tmp_path / "backups")
    with pytest.raises(BadInput, match="is a backup of .*other.db"):
        rollback.restore_backup(target, Path(other_record["path"]), confirm=True)
    tampered = path.with_name("tampered" + path.suffix)
    tampered.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(BadInput, match="changed since it was taken"):
        rollback.restore_backup(target, tampered, confirm=True, record=record)
    junk = tmp_path / "backups" / "junk.bak"  # no record beside it: the engine must refuse it
    junk.write_text("not a backup\n")
    with pytest.raises(BadInput, match="not a readable"):
        rollback.restore_backup(target, junk, confirm=True)
    assert state(target) == before


def test_restore_makes_the_database_equal_the_backup(db_url, migrations_dir, tmp_path):
    target = open_target(db_url)
    snapshot = inventory.take(target, migrations_dir)
    record = backup.take(target, tmp_path / "backups")
    assert migrate(target, migrations_dir, run_id="up").passed
    with target.engine().begin() as conn:
        conn.execute(sa.text("UPDATE contractors SET name = 'changed after the backup' WHERE id = 1"))
    unchanged = state(target)
    with pytest.raises(BadInput, match=r"would discard [1-9]\d* row\(s\) .*contractors: [1-9].*--discard-newer-writes"):
        rollback.restore_backup(target, Path(record["path"]), confirm=True)  # rows written since the backup
    assert state(target) == unchanged
    result = rollback.restore_backup(target, Path(record["path"]), confirm=True, discard_newer_writes=True)
    assert result["error"] is None and result["record_checked"] is True and result["identity_checked"] is True
    assert result["discarded"]["tables"]["contractors"] >= 1
    assert result["before"] == "004" and result["after"] is None and result["sha256"] == record["sha256"]
    assert history(target) is None
    assert_back_to(target, snapshot)
    with target.engine().connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM contractors WHERE id = 1")).scalar_one() != "changed after the backup"


def test_after_a_rollback_a_rewritten_table_is_compared_through_the_runs_backup(sqlite_url, migrations_dir,
                                                                               tmp_path, monkeypatch):
    """SQLite, the inventory as the pipeline takes it on a large database: stored pages, no row
    hashes. Rolling 001 back drops its columns, which rewrites ``contractors`` (new pages): its
    rows are hashed on the database and on this run's backup (which holds the inventory's pages)
    and equal; the table the application wrote to after the backup is reported as its writes."""
    from runbook.engines import sqlite as sqlite_engine

    monkeypatch.setattr(sqlite_engine, "SNAPSHOT_COPY_FROM", 0)  # large: live reads go to a copy
    target = open_target(sqlite_url)
    run_dir = tmp_path / "reports" / "20300101T000000Z_run"
    run_dir.mkdir(parents=True)
    assert migrate(target, migrations_dir, to="000", run_id="baseline").passed
    snap = inventory.take(target, migrations_dir, row_hashes=False)
    assert snap["tables"]["contractors"]["fingerprint"]["sha256"] is None
    reports.save_artifact(run_dir, "inventory", snap)
    backup.take(target, tmp_path / "backups", run_dir=run_dir)
    assert migrate(target, migrations_dir, to="001", run_id="up").passed
    with target.engine().begin() as conn:
        conn.exec_driver_sql("UPDATE admin_users SET full_name = 'Written by the app' WHERE id = 1")
    result = rollback.rollback_to(target, migrations_dir, "000", run_id="down")
    assert result["error"] is None and result["after"] == "000"
    compared = rollback.compare_after(target, run_dir, None, result)
    assert compared["compared_with"]["source"] == "this run"
    checks = {c["check"]: c for c in compared["checks"]}
    assert all(c["passed"] for c in checks.values()), [c for c in checks.values() if not c["passed"]]
    assert checks["content: contractors"]["detail"] == "7 columns × 11 rows unchanged"  # hashed, both sides
    assert "stored pages are those of the snapshot" in checks["content: strategic_partners"]["detail"]
    assert checks["concurrent writes since the inventory"]["tables"] == ["admin_users"]


# -- a rollback that does not undo its migration ----------------------------------------------
def two_tables(tmp_path: Path, rollback_of_b: str = "") -> Path:
    """001 creates table a, 002 table b; 002's rollback script is ``rollback_of_b`` (empty: a
    declared no-op, as vaultwarden's Diesel history has them). No 000 baseline."""
    folder = tmp_path / "two"
    (folder / "rollbacks").mkdir(parents=True)
    (folder / "001_create_a.sql").write_text("-- Risk Level: LOW\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n")
    (folder / "rollbacks" / "001_rollback_create_a.sql").write_text("DROP TABLE a;\n")
    (folder / "002_create_b.sql").write_text("-- Risk Level: LOW\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n")
    (folder / "rollbacks" / "002_rollback_create_b.sql").write_text(rollback_of_b)
    return folder


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_an_empty_rollback_of_a_created_table_is_refused_before_anything_runs(engine, request, tmp_path):
    target = open_target(empty_db_url(request, tmp_path))
    folder = two_tables(tmp_path)
    assert migrate(target, folder, run_id="up").passed
    before = state(target, folder)
    with pytest.raises(BadInput, match="table b is still there: 002_create_b's rollback did not drop it.*"
                                       "Nothing was rolled back"):
        rollback.rollback_to(target, folder, "001", run_id="down")
    assert state(target, folder) == before  # 002 still applied, its history row and table b there
    with pytest.raises(BadInput, match="table b is still there") as refused:  # crossing it on the way down too
        rollback.rollback_to(target, folder, "none", run_id="down")
    assert state(target, folder) == before
    # 001's rollback drops a, as it should: the table 002's left behind is 002's alone
    assert "001_create_a's rollback" not in str(refused.value), str(refused.value)


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_after_a_rollback_a_table_its_migration_created_left_on_the_target_fails(engine, request, tmp_path):
    """The scripts pass on the replay; the target is compared after with the schema the
    migrations up to the version rolled back to give (no inventory of it here)."""
    target = open_target(empty_db_url(request, tmp_path))
    folder = two_tables(tmp_path, "DROP TABLE b;\n")
    assert migrate(target, folder, run_id="up").passed
    run_dir = tmp_path / "reports" / "run"
    run_dir.mkdir(parents=True)
    result = rollback.rollback_to(target, folder, "001", run_id="down", run_dir=run_dir)
    assert result["error"] is None and result["expected"]["status"] == "passed"
    passed = rollback.compare_after(target, run_dir, None, result)
    name = "schema equals what the migrations up to 001 give"
    assert [c["check"] for c in passed["checks"]] == [name] and passed["checks"][0]["passed"]
    assert passed["compared_with"]["source"] is None and "schema" not in passed["expected"]

    with target.engine().begin() as conn:  # as if the script had left it
        conn.exec_driver_sql("CREATE TABLE b (id INTEGER PRIMARY KEY)")
    left = rollback.compare_after(target, run_dir, None, result)["checks"]
    assert left == [{"check": name, "passed": False,
                     "detail": "table b is still there: 002_create_b's rollback did not drop it"}]


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_rollback_checks_its_scripts_on_a_replay_and_says_so(engine, request, tmp_path):
    target = open_target(empty_db_url(request, tmp_path))
    folder = two_tables(tmp_path, "DROP TABLE b;\n")
    assert migrate(target, folder, run_id="up").passed
    result = rollback.rollback_to(target, folder, "none", run_id="down")
    assert result["error"] is None and [r["version"] for r in result["rolled_back"]] == ["002", "001"]
    checked = result["expected"]
    assert checked["status"] == "passed" and checked["version"] == "none"
    assert {k: v for k, v in checked["declared_by"].items() if k.startswith("table ")} == {
        "table a": "001_create_a", "table b": "002_create_b"}
    assert set(checked["schema"]["tables"]) == set()


def test_to_zero_without_a_version_000_names_to_none(sqlite_url, tmp_path):
    target = open_target(new_sqlite_db(tmp_path / "plain.db", baseline=False))
    folder = two_tables(tmp_path, "DROP TABLE b;\n")
    assert migrate(target, folder, run_id="up").passed
    before = state(target, folder)
    for version in ("0", "000", 0):
        with pytest.raises(BadInput, match=r"there is no version 000 in the folder; to roll back every applied "
                                           r"migration \(001, 002\), use --to none"):
            rollback.rollback_to(target, folder, version, run_id="refused")
    assert state(target, folder) == before


@pytest.mark.postgres
def test_a_rollback_script_outside_a_transaction_splits_the_rollback_and_says_so_first(pg_empty_url, tmp_path):
    """003's rollback drops its index CONCURRENTLY (PostgreSQL refuses that in a transaction):
    004 runs in one part, 003 alone, 002 in a third. The operator is told before the first
    statement; 002 failing on the target's rows leaves 004 and 003 rolled back, at version 002."""
    from runbook import progress

    target = open_target(pg_empty_url)
    folder = three_steps(tmp_path)
    for path in [*folder.glob("003_*.sql"), *folder.glob("rollbacks/003_*.sql")]:
        path.unlink()
    (folder / "003_index_tags.sql").write_text("-- Risk Level: LOW\nCREATE INDEX a_tag_plain ON a (tag);\n")
    (folder / "rollbacks" / "003_rollback_index_tags.sql").write_text("DROP INDEX CONCURRENTLY a_tag_plain;\n")
    assert migrate(target, folder, run_id="up").passed
    with target.engine().begin() as conn:
        conn.exec_driver_sql("INSERT INTO a (id, tag) VALUES (1, 'x'), (2, 'x')")
    heard: list[str] = []
    stop = progress.listen(lambda e: heard.append(e["message"]))
    try:
        result = rollback.rollback_to(target, folder, "001", run_id="down")
    finally:
        stop()
    assert result["parts"] == [{"versions": ["004"], "transaction": True}, {"versions": ["003"], "transaction": False},
                               {"versions": ["002"], "transaction": True}]
    assert result["may_stop_at"] == ["003", "002"]
    assert result["notice"] == (
        "the rollback to 001 cannot be all or nothing: the rollback script of 003_index_tags holds a statement that "
        "cannot run inside a transaction, so it runs in 3 parts, newest first, each all or nothing (one transaction: "
        "004_add_note; alone, outside a transaction: 003_index_tags; one transaction: 002_tags_repeat); when a part "
        "fails, the parts before it stay committed and the database is left at version 003 or 002")
    told = next(i for i, m in enumerate(heard) if result["notice"] in m)
    assert told < heard.index(f"rollback {target.name}: 004_add_note")  # before anything ran
    assert [r["version"] for r in result["rolled_back"]] == ["004", "003"] and result["after"] == "002"
    assert "its part's transaction was rolled back, so 002_tags_repeat is still applied; 004_add_note, 003_index_tags " \
           "stay rolled back (committed in the parts before, see the notice): the database is at version 002, not at " \
           "001" in result["error"]
    assert history(target) == ["001", "002"]
    with target.engine().connect() as conn:
        assert target.kind.index_names(conn, "a") == {"a_pkey"}  # 003's index gone, no a_tag (002 still applied)
        assert "note" not in {c["name"] for c in sa.inspect(conn).get_columns("a")}  # 004 rolled back
