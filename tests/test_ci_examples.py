"""The CI recipes in docs/examples run as written: their `runbook` commands, in order, in a project
made by `runbook init`, against a real PostgreSQL database (the hosted runner is not needed)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import pytest
import sqlalchemy as sa
import yaml

from conftest import REPO

EXAMPLES = REPO / "docs" / "examples"
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def github_commands() -> list[str]:
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    steps = workflow["jobs"]["migrations"]["steps"]
    assert any(s.get("uses", "").startswith("actions/upload-artifact") and s["with"]["path"] == "reports/"
               and s.get("if") == "always()" for s in steps), "the reports are uploaded, also after a failure"
    return [s["run"].strip() for s in steps if s.get("run", "").startswith("runbook")]


def gitlab_commands() -> list[str]:
    job = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())["migrations"]
    assert job["artifacts"] == {"when": "always", "paths": ["reports/"]}
    return [line.strip() for line in job["script"]]


def test_the_ci_examples_run_their_commands_against_postgresql(tmp_path, pg_empty_url):
    commands = github_commands()
    assert commands == gitlab_commands() == ["runbook lint", "runbook run --dry-run", "runbook run", "runbook check"]
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "runbook").write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m runbook \"$@\"\n")
    (shim / "runbook").chmod(0o755)
    url = sa.make_url(pg_empty_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNBOOK_") or k == "RUNBOOK_TEST_PG_URL"}
    env |= {"PATH": f"{shim}{os.pathsep}{env['PATH']}", "CI": "true",
            "DATABASE_URL": url._replace(password=None).render_as_string(hide_password=False)}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    project = tmp_path / "app"
    subprocess.run(["runbook", "init", str(project)], check=True, env=env, capture_output=True)
    (project / "migrations" / "001_create_tiers.sql").write_text(
        "-- Migration: create tiers\n-- Risk Level: LOW (Non-breaking additions)\n"
        "CREATE TABLE tiers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n")
    (project / "migrations" / "rollbacks" / "001_rollback_create_tiers.sql").write_text("DROP TABLE tiers;\n")
    for command in commands:
        done = subprocess.run(command, shell=True, env=env, cwd=project, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    runs = sorted((project / "reports").glob("*/run.json"))
    assert len(runs) == 2  # the dry run and the run: what the artifact keeps
    with sa.create_engine(url.set(drivername="postgresql+psycopg")).connect() as conn:
        assert conn.exec_driver_sql("SELECT version FROM schema_history").scalars().all() == ["001"]
        conn.exec_driver_sql("SELECT id, name FROM tiers")
    # the gate: a new migration not yet applied makes `runbook check` fail the build
    (project / "migrations" / "002_more.sql").write_text("CREATE TABLE more_tiers (id INTEGER PRIMARY KEY);\n")
    assert subprocess.run(["runbook", "check"], env=env, cwd=project, capture_output=True).returncode == 1
