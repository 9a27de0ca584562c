"""Rehearsal: migrate and verify a scratch copy restored from the backup; the target is untouched."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

from runbook import backup, inventory, rehearsal
from runbook import migrations as mig
from runbook.errors import BadInput, RunFailed
from runbook.target import open_target

LATER = ["001_add_contractor_fields", "002_enhance_partner_table", "003_create_supporting_tables",
         "004_add_search_indexes"]


def state(url: str, migrations_dir: Path) -> dict:
    """What "untouched" means: schema, rows, content fingerprints and the history table."""
    target = open_target(url)
    snap = inventory.take(target, migrations_dir)
    with target.engine().connect() as conn:
        history = [a.__dict__ for a in mig.applied(conn)] if mig.has_history(conn) else None
    target.dispose()
    return {"tables": snap["tables"], "history": history}


def assert_gone(scratch_display: str) -> None:
    with pytest.raises(BadInput):
        open_target(scratch_display)


def folder_with(tmp_path: Path, migrations_dir: Path, name: str, sql: str) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir, folder)
    (folder / name).write_text(sql)
    return folder


@pytest.fixture
def taken(db_url, tmp_path):
    target = open_target(db_url)
    return target, backup.take(target, tmp_path / "backups")


def test_rehearsal_passes_and_leaves_the_target_untouched(db_url, taken, migrations_dir):
    target, record = taken
    before = state(db_url, migrations_dir)
    result = rehearsal.rehearse(target, record, migrations_dir, run_id="rehearse-1")
    assert result["passed"], result["error"]
    rehearsal.assert_rehearsal_passed(result)
    assert result["error"] is None
    assert result["adopted"] == ["000_baseline"] and result["migrations"] == LATER
    assert set(result["migration_durations_ms"]) == set(LATER)
    assert 0 < result["migrate_duration_s"] <= result["duration_s"]
    assert result["verify"]["passed"] and result["verify"]["checks"] > 10 and result["verify"]["failed"] == []
    assert state(db_url, migrations_dir) == before
    assert before["history"] is None  # still no history table: the adoption happened on the copy only
    assert_gone(result["scratch"])


def test_rehearsal_up_to_a_version_on_a_database_with_history(db_url, migrations_dir, tmp_path):
    from runbook.migrate import migrate

    target = open_target(db_url)
    assert migrate(target, migrations_dir, to="001", run_id="earlier").passed
    record = backup.take(target, tmp_path)
    before = state(db_url, migrations_dir)
    result = rehearsal.rehearse(target, record, migrations_dir, to="003")
    assert result["passed"], result["error"]
    assert result["adopted"] == [] and result["migrations"] == LATER[1:3]
    assert state(db_url, migrations_dir) == before


def test_failing_migration_fails_the_rehearsal_target_untouched(taken, db_url, migrations_dir, tmp_path):
    target, record = taken
    folder = folder_with(tmp_path, migrations_dir, "005_broken.sql",
                         "CREATE TABLE audit_log (id INTEGER PRIMARY KEY);\n"
                         "ALTER TABLE no_such_table ADD COLUMN x TEXT;\n")
    before = state(db_url, folder)
    result = rehearsal.rehearse(target, record, folder)
    assert result["passed"] is False
    assert "005_broken" in result["error"] and "statement 2" in result["error"]
    assert result["migrations"] == LATER and result["verify"] is None
    with pytest.raises(RunFailed, match="005_broken.*the target was not touched"):
        rehearsal.assert_rehearsal_passed(result)
    assert state(db_url, folder) == before
    assert_gone(result["scratch"])


@pytest.mark.parametrize("body, failed_check", [
    ("DELETE FROM contractors WHERE id > 3", "rows: contractors"),  # rows lost
    ("UPDATE contractors SET name = name || '!' WHERE id = 2", "content: contractors"),  # as many rows, other values
])
def test_an_undeclared_change_where_no_statement_names_fails_the_rehearsal(taken, db_url, migrations_dir, tmp_path,
                                                                         body, failed_check):
    """A migration that runs fine but changes a table none of its statements names (a trigger does
    it): the migration's own check watches only the tables it names; verify on the copy, where
    no one else writes, compares every table with the backup and fails. As many rows with other
    values: on SQLite the copy's stored pages differ from the backup's, so its rows are hashed on
    both."""
    target, record = taken
    folder = folder_with(tmp_path, migrations_dir, "005_touch.sql",
                         f"CREATE TRIGGER sp_touch AFTER UPDATE ON strategic_partners BEGIN {body}; END;\n"
                         "UPDATE strategic_partners SET is_active = is_active;\n")
    (folder / "005_touch.postgresql.sql").write_text(
        f"CREATE FUNCTION sp_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$;\n"
        "CREATE TRIGGER sp_touch AFTER UPDATE ON strategic_partners FOR EACH STATEMENT EXECUTE FUNCTION sp_touch();\n"
        "UPDATE strategic_partners SET is_active = is_active;\n")
    before = state(db_url, folder)
    result = rehearsal.rehearse(target, record, folder)
    assert result["passed"] is False and result["migrations"][-1] == "005_touch"
    assert "verification" in result["error"] and failed_check in result["error"]
    assert "an undeclared change" in result["error"]
    failed = [c["check"] for c in result["verify"]["failed"]]
    assert failed_check in failed and all(c.endswith(": contractors") for c in failed)
    assert state(db_url, folder) == before
    assert_gone(result["scratch"])


def test_rehearsal_refuses_without_a_usable_backup(taken, migrations_dir):
    target, record = taken
    with pytest.raises(BadInput, match="no backup to rehearse on"):
        rehearsal.rehearse(target, {"skipped": True, "reason": "x"}, migrations_dir)
    path = Path(record["path"])
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(BadInput, match="changed since it was verified"):
        rehearsal.rehearse(target, record, migrations_dir)


@pytest.mark.postgres
def test_a_definition_pg_restore_prints_otherwise_is_the_same_definition(pg_empty_url, tmp_path):
    """``status varchar CHECK (status IN ('a', 'b'))``, and an index and a view with that test:
    PostgreSQL prints what a restore made (``ARRAY['a'::character varying::text, ...]``) other
    than what the migration made (``ARRAY['a'::character varying, ...]::text[]``). Every rehearsal
    after the first failed its verify; a restore back to the backup failed its schema check. Both
    texts, read again by the server, are one definition. Another list is still another one."""
    folder = tmp_path / "m"
    (folder / "rollbacks").mkdir(parents=True)
    (folder / "001_r.sql").write_text("-- Risk Level: LOW\nCREATE TABLE r (id int PRIMARY KEY, "
                                      "status varchar NOT NULL CHECK (status IN ('a', 'b')));\n"
                                      "CREATE INDEX r_ab ON r (id) WHERE status IN ('a', 'b');\n"
                                      "CREATE VIEW v_ab AS SELECT id FROM r WHERE status IN ('a', 'b');\n")
    (folder / "rollbacks" / "001_rollback_r.sql").write_text("DROP VIEW v_ab;\nDROP TABLE r;\n")
    (folder / "002_x.sql").write_text("-- Risk Level: LOW\nCREATE TABLE x (id int PRIMARY KEY);\n")
    (folder / "rollbacks" / "002_rollback_x.sql").write_text("DROP TABLE x;\n")
    target = open_target(pg_empty_url)
    assert mig_run(target, folder, "001").passed
    taken = backup.take(target, tmp_path / "backups")
    rehearsed = rehearsal.rehearse(target, taken, folder, run_id="again", dialect="postgresql")
    assert rehearsed["passed"], rehearsed["error"]
    made = "status::text = ANY (ARRAY['a'::character varying, 'b'::character varying]::text[])"
    restored = "status::text = ANY (ARRAY['a'::character varying::text, 'b'::character varying::text])"
    other = restored.replace("'b'", "'c'")
    same = functools.partial(target.kind.same_definition, target)
    for kind, where, text in [("check", "r", "CHECK ({})"), ("index", "r", "CREATE INDEX r_ab ON public.r USING btree (id) WHERE ({})"),
                              ("view", "v_ab", "SELECT r.id FROM r WHERE {};")]:
        assert same(kind, where, text.format(made), text.format(restored)), kind
        assert not same(kind, where, text.format(made), text.format(other)), kind
    snapshot = inventory.take(target, folder)
    from runbook import rollback
    restored = rollback.restore_backup(target, taken["path"], confirm=True)
    assert restored.get("error") is None, restored
    failed = [c for c in rollback.check_restored(target, snapshot) if not c["passed"]]
    assert not failed, failed
    target.dispose()


def mig_run(target, folder: Path, to: str):
    from runbook.migrate import migrate

    return migrate(target, folder, to=to, dialect="postgresql")
