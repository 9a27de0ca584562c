"""Case 4 and 6 of issue 8: what dead runs leave behind is found and removed, and a run that
died is marked so instead of staying "running" forever."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import backup, pipeline, reports
from runbook.owner import owner_tag
from runbook.target import open_target

from conftest import MIGRATIONS, db_state
from helpers import dead_pid, kill_at_barrier, runbook


def test_dead_run_is_marked_died_and_a_live_one_is_not(tmp_path):
    folder = tmp_path / "reports"
    for name, pid in (("dead", dead_pid()), ("alive", os.getpid())):
        run = reports.Run(name, folder / name, "sqlite:///x.db", "sqlite")
        run.pid = pid
        (folder / name).mkdir(parents=True)
        run.write()
    assert {r["run_id"]: r["status"] for r in reports.list_runs(folder)} == {"alive": "running", "dead": "died"}
    assert reports.mark_dead_runs(folder) == ["dead"]
    dead = json.loads((folder / "dead" / "run.json").read_text())
    assert dead["status"] == "died" and "killed or crashed" in dead["error"]
    assert json.loads((folder / "alive" / "run.json").read_text())["status"] == "running"
    done = runbook("reports", "--reports", str(folder))
    assert "DIED" in done.stdout and "RUNNING" in done.stdout


def test_rehearsal_copy_lives_beside_the_backup_private_and_goes(db_url, tmp_path):
    target = open_target(db_url)
    record = backup.take(target, tmp_path / "backups")
    seen = []
    with target.kind.scratch_copy(target, Path(record["path"])) as scratch:
        with target.kind.lock(scratch):  # migrate takes the scratch copy's own lock
            pass
        if target.kind.name == "sqlite":
            copy = Path(scratch.url.database)
            seen.append(copy)
            assert copy.parent == Path(record["path"]).parent and owner_tag() in copy.name
            assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        else:
            assert owner_tag() in scratch.url.database
    assert not any(p.exists() for p in seen)
    name = Path(record["path"]).name
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [name, name + ".json"]


def test_killed_rehearsal_leftovers_are_removed_by_the_next_run(db_url, tmp_path, pg_server_or_none):
    """A rehearsal killed (the process group, SIGKILL) while it migrates its scratch copy leaves
    the copy (a file in the backups folder, or a scratch database); ``clean_leftovers`` of the
    next run removes it, and the target was never touched."""
    folder = tmp_path / "backups"
    record = backup.take(open_target(db_url), folder)
    before = db_state(db_url)
    code = (f"from runbook import rehearsal, backup; from runbook.target import open_target; "
            f"t = open_target({db_url!r}); "
            f"rehearsal.rehearse(t, backup.read_sidecar({record['path']!r}), {str(MIGRATIONS)!r})")
    kill_at_barrier(code, tmp_path / "barrier", "before-migration-001")
    target = open_target(db_url)
    leftovers = _scratch(target, folder, pg_server_or_none)
    assert leftovers, "the killed rehearsal left nothing to clean (the test would prove nothing)"
    with target.kind.lock(target):
        done = pipeline.clean_leftovers(target, tmp_path / "reports", folder)
    assert len(done) == len(leftovers), done
    assert _scratch(target, folder, pg_server_or_none) == []
    assert db_state(db_url) == before


def _scratch(target, folder: Path, server) -> list[str]:
    files = [p.name for p in folder.iterdir() if "rehearsal" in p.name]
    if target.kind.name != "postgresql":
        return files
    eng = sa.create_engine(server, poolclass=sa.pool.NullPool)
    with eng.connect() as conn:
        names = conn.execute(sa.text("SELECT datname FROM pg_database WHERE starts_with(datname, :p)"),
                             {"p": target.url.database + "_rehearsal_"}).scalars().all()
    return files + list(names)


@pytest.fixture
def pg_server_or_none(request):
    return request.getfixturevalue("pg_server") if "postgresql" in request.node.name else None


def test_killed_inventory_leaves_its_live_copy_beside_the_database_and_the_next_run_removes_it(sqlite_url, tmp_path):
    """A large SQLite file is read from a copy of production data (``live_snapshot``): killed
    while reading it, the run leaves that copy beside the database, private and owner-tagged,
    never in the system's temporary folder; `runbook clean --db` (the next run) removes it."""
    db = Path(sa.make_url(sqlite_url).database)
    before = db_state(sqlite_url)
    temp_before = set(Path(tempfile.gettempdir()).iterdir())
    code = ("import runbook.engines.sqlite as s; s.SNAPSHOT_COPY_FROM = 0\n"
            "from runbook import inventory; from runbook.target import open_target\n"
            f"inventory.take(open_target({sqlite_url!r}), {str(MIGRATIONS)!r})")
    kill_at_barrier(code, tmp_path / "barrier", "live-snapshot-copied")
    (copy,) = [p for p in db.parent.iterdir() if p.name.startswith(f".{db.stem}_snapshot_")]
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600 and copy.stat().st_size > 0
    from runbook.kernel import SOCKETS_PREFIX

    # another worker's kernel sockets, or the test suite's own throwaway PostgreSQL clusters
    # (``runbook-pg-``, ``runbook-pgpw-``, started by another worker meanwhile): none of the run's
    assert not [p for p in set(Path(tempfile.gettempdir()).iterdir()) - temp_before
                if "runbook" in p.name and not p.name.startswith((SOCKETS_PREFIX, "runbook-pg-", "runbook-pgpw-"))]
    done = runbook("clean", "--db", sqlite_url, "--backups", str(tmp_path / "backups"),
                   "--reports", str(tmp_path / "reports"))
    assert done.returncode == 0 and str(copy) in done.stdout, done.stdout + done.stderr
    assert not copy.exists()
    assert db_state(sqlite_url) == before
