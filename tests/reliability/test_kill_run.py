"""Case 4 of issue 8 for a whole `runbook run`: the CLI and its notebook kernel killed with
SIGKILL while a migration's transaction has run everything but its commit.

The run is a real process group (the CLI, started with ``start_new_session``); the kernel that
runs the migrate notebook is started by jupyter_client in a session of its own, so both groups
are killed, as a crash of the machine or the OOM killer would. The migration's transaction dies
uncommitted: the database is exactly as before the run (full state: schema, rows, fingerprints,
history), no history row or event of the run exists, ``runbook reports`` shows the run as died,
and the next ``runbook run`` marks it so, recovers and passes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from runbook import migrations as mig
from runbook.target import open_target

from conftest import MIGRATIONS, db_state
from helpers import REPO, runbook


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow
def test_killed_run_leaves_the_database_before_the_migration_and_the_next_run_recovers(db_url, tmp_path):
    before = db_state(db_url)
    barrier, reports_dir = tmp_path / "barrier", tmp_path / "reports"
    barrier.mkdir()
    point = "uncommitted-001"  # inside migration 001's transaction (with the baseline's adoption), not committed
    (barrier / f"{point}.wanted").touch()
    args = ["run", "--db", db_url, "--migrations", str(MIGRATIONS), "--reports", str(reports_dir),
            "--backups", str(tmp_path / "backups"), "--no-rehearsal"]
    cli = subprocess.Popen([sys.executable, "-m", "runbook.cli", *args], start_new_session=True, cwd=tmp_path,
                           env={**os.environ, "RUNBOOK_BARRIER_DIR": str(barrier),
                                "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while not (barrier / f"{point}.reached").exists():
        if cli.poll() is not None:
            raise AssertionError(f"the run ended before {point}: {cli.stdout.read()}")
        assert time.monotonic() < deadline, f"the run never reached {point}"
        time.sleep(0.05)
    kernel = int((barrier / f"{point}.reached").read_text())
    assert kernel != cli.pid and os.getpgid(kernel) != cli.pid  # the kernel has a session of its own
    kernel_group = os.getpgid(kernel)
    os.killpg(cli.pid, signal.SIGKILL)  # the run's process group: the CLI
    os.killpg(kernel_group, signal.SIGKILL)  # and its kernel's
    cli.wait(timeout=60)
    deadline = time.monotonic() + 60
    while not _gone(kernel):
        assert time.monotonic() < deadline, "the kernel survived SIGKILL"
        time.sleep(0.05)

    after = db_state(db_url)  # waits for nothing: the dead sessions' transactions rolled back
    assert after == before  # fully before: not a table, row or history row of the run
    target = open_target(db_url)
    with target.engine().connect() as conn:
        assert not mig.has_history(conn)
        assert mig.event_log(conn) == []
    target.dispose()

    killed = next(reports_dir.iterdir()).name
    listed = runbook("reports", "--reports", str(reports_dir), "--json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    runs = {r["run_id"]: r for r in json.loads(listed.stdout)["runs"]}
    assert runs[killed]["status"] == "died"

    again = runbook(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads((reports_dir / killed / "run.json").read_text())["status"] == "died"  # marked by the next run
    target = open_target(db_url)
    with target.engine().connect() as conn:
        assert [a.version for a in mig.applied(conn)] == ["000", "001", "002", "003", "004"]
        deploys = [e for e in mig.event_log(conn) if e["event"] == "deploy"]
        columns = {c["name"] for c in sa.inspect(conn).get_columns("contractors")}
    target.dispose()
    assert len(deploys) == 4 and killed not in {e["run_id"] for e in deploys}
    assert "assigned_partner_id" in columns


@pytest.mark.slow
def test_a_kernel_killed_mid_migration_leaves_a_full_report_and_the_lock_free(db_url, tmp_path):
    """Only the kernel dies (the OOM killer's pick), inside migration 001's transaction: the CLI
    still writes the whole report. The versions after are read by the CLI itself (the kernel held
    the run's database work), so it knows the migration rolled back whole and does not try a
    rollback; the lock went with the kernel, and the next run passes."""
    before = db_state(db_url)
    barrier, reports_dir = tmp_path / "barrier", tmp_path / "reports"
    barrier.mkdir()
    point = "uncommitted-001"
    (barrier / f"{point}.wanted").touch()
    args = ["run", "--db", db_url, "--migrations", str(MIGRATIONS), "--reports", str(reports_dir),
            "--backups", str(tmp_path / "backups"), "--no-rehearsal"]
    cli = subprocess.Popen([sys.executable, "-m", "runbook.cli", *args], cwd=tmp_path,
                           env={**os.environ, "RUNBOOK_BARRIER_DIR": str(barrier),
                                "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    while not (barrier / f"{point}.reached").exists():
        assert cli.poll() is None and time.monotonic() < deadline, "the run never reached the barrier"
        time.sleep(0.05)
    os.kill(int((barrier / f"{point}.reached").read_text()), signal.SIGKILL)  # the kernel alone
    out, _ = cli.communicate(timeout=300)
    assert cli.returncode == 1, out

    assert db_state(db_url) == before
    run = json.loads(next(reports_dir.glob("*/run.json")).read_text())
    assert run["status"] == "failed" and run["versions"] == {"before": None, "after": None}
    assert "rolled back whole" in run["rollback_skipped"] and [s["step"] for s in run["steps"]][-1] == "migrate"
    again = runbook(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
