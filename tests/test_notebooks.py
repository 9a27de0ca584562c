"""nbval over the five notebooks, in order, as an operator would run them in JupyterLab: their
``parameters`` cells unchanged, their defaults pointing at a fresh demo database (or, with
``RUNBOOK_DB`` set, at a PostgreSQL database)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook.demo import MIGRATIONS, build_database
from runbook.reports import NOTEBOOKS_DIR

pytestmark = pytest.mark.slow


def operator_checkout(tmp_path: Path) -> Path:
    """The repository layout the notebooks' defaults expect: notebooks/, migrations/, demo/."""
    shutil.copytree(NOTEBOOKS_DIR, tmp_path / "notebooks")
    (tmp_path / "migrations").symlink_to(MIGRATIONS)
    return tmp_path


def nbval(checkout: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(checkout), str(checkout / "notebooks")],
        capture_output=True, text=True, env=env, cwd=checkout, timeout=900,
    )


def interactive_run(checkout: Path) -> Path:
    """The session's own run folder: one run, listed by `runbook reports` like any other."""
    from runbook.reports import list_runs

    runs = list_runs(checkout / "demo" / "reports")
    assert [(r["verdict"], [s["step"] for s in r["steps"]]) for r in runs] == [
        ("INTERACTIVE", ["inventory", "backup", "migrate", "verify", "rollback"])]
    assert (checkout / "demo" / "reports" / "index.html").is_file()
    return checkout / "demo" / "reports" / runs[0]["run_id"]


def test_notebooks_on_the_demo_database(tmp_path):
    checkout = operator_checkout(tmp_path)
    build_database(checkout / "demo" / "power100.db")
    env = {k: v for k, v in os.environ.items() if k not in ("RUNBOOK_DB", "RUNBOOK_LOCK_HELD")}
    done = nbval(checkout, env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    run_dir = interactive_run(checkout)
    for artefact in ("inventory", "backup", "lint", "rehearsal", "migrate", "verify", "rollback"):
        assert (run_dir / f"{artefact}.json").is_file(), artefact
    # the rollback notebook took the database back to where the inventory found it
    conn = sqlite3.connect(checkout / "demo" / "power100.db")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"contractors", "strategic_partners", "admin_users"}


@pytest.mark.postgres
def test_notebooks_on_postgresql(tmp_path, pg_url):
    checkout = operator_checkout(tmp_path)
    url = sa.make_url(pg_url)
    env = {k: v for k, v in os.environ.items() if k != "RUNBOOK_LOCK_HELD"}
    env["RUNBOOK_DB"] = url._replace(password=None).render_as_string(hide_password=False)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = nbval(checkout, env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    run_dir = interactive_run(checkout)
    assert (run_dir / "verify.json").is_file() and (run_dir / "rollback.json").is_file()
    backups = list((checkout / "demo" / "backups").glob("*.dump"))
    assert backups, "pg_dump backup expected"
