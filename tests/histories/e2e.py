"""The machinery of the histories' acceptance tests (``tests/test_histories.py``): the runbook CLI in
a subprocess, production-like databases at the baseline with the seed's rows, and the raw
engine's state (``raw.py``) at each point the runbook's run and rollbacks reach.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import raw

REPO = Path(__file__).resolve().parents[2]
HISTORIES = raw.HERE
#: the folders' project dialect: PostgreSQL-only histories are written in PostgreSQL
DIALECT = {"pg_app": "postgresql", "sqlite_app": None, "shared_app": None}
#: rows each seeded table holds at 000 (the seed files), and what the run must leave in them
SEEDED = {
    "pg_app": {"accounts": 3, "users": 6, "projects": 4, "tasks": 12},
    "sqlite_app": {"users": 4, "feeds": 5, "items": 20, "subscriptions": 8},
    "shared_app": {"members": 6, "books": 10, "loans": 8},
}
#: where the rollback goes, step by step, after the run. The last step, "none", is as far as the
#: scripts go: down to the baseline, which was adopted (never run by the runbook, so never rolled
#: back: only its history row goes, and the history table with it), i.e. the state before the run,
#: which the runbook itself also checks against the run's inventory (--snapshot)
ROLLBACK_STEPS = {
    "pg_app": ["016", "none"],
    "sqlite_app": ["018", "none"],
    "shared_app": ["016", "none"],
}
#: values the database writes itself at migration time (DEFAULT CURRENT_TIMESTAMP on rows a
#: data migration inserts): they differ between two runs of the same script, so not compared
VOLATILE = {"shared_app": {"fines": ("created_at",)}}
DURATIONS: dict[str, float] = {}


def runbook(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "runbook.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=900)
    return done, time.monotonic() - started


def run_json(out: str) -> dict:
    line = next(line for line in out.splitlines() if line.startswith("report: "))
    return json.loads(Path(line.removeprefix("report: ")).read_text())


def dialect_args(name: str) -> list[str]:
    return ["--dialect", DIALECT[name]] if DIALECT[name] else []


def masked(name: str, rows: dict[str, list[str]]) -> dict[str, list[str]]:
    """Rows with the volatile values of ``VOLATILE`` blanked (tables with no such column: as is)."""
    out = {}
    for table, texts in rows.items():
        drop = VOLATILE.get(name, {}).get(table, ())
        if not drop:
            out[table] = texts
            continue
        out[table] = sorted(json.dumps({k: (None if k in drop else v) for k, v in json.loads(t).items()},
                                       sort_keys=True) for t in texts)
    return out


# -- the engines, raw and through the runbook -------------------------------------------------
class PgSide:
    translate: bool

    def __init__(self, name: str, admin: str, workdir: Path):
        self.name, self.admin, self.workdir = name, admin, workdir
        self.translate = DIALECT[name] is None
        self.dbs: list[str] = []

    def new(self, label: str) -> str:
        db, url = raw.pg_create(self.admin, f"hist_{self.name}_{label}")
        self.dbs.append(db)
        return url

    def apply(self, url: str, script: Path) -> None:
        raw.pg_apply(url, script, translate=self.translate, workdir=self.workdir)

    def state(self, url: str) -> dict:
        return {"schema": raw.pg_schema(url), "rows": masked(self.name, raw.pg_rows(url))}

    def counts(self, url: str) -> dict[str, int]:
        return {t: len(r) for t, r in raw.pg_rows(url).items()}

    def close(self) -> None:
        for db in self.dbs:
            raw.pg_drop(self.admin, db)


class SqliteSide:
    def __init__(self, name: str, workdir: Path):
        self.name, self.workdir = name, workdir

    def new(self, label: str) -> str:
        path = self.workdir / f"{self.name}_{label}.db"
        sqlite3.connect(path).close()
        return f"sqlite:///{path}"

    @staticmethod
    def path(url: str) -> Path:
        return Path(url.removeprefix("sqlite:///"))

    def apply(self, url: str, script: Path) -> None:
        raw.sqlite_apply(self.path(url), script)

    def state(self, url: str) -> dict:
        return {"schema": raw.sqlite_schema(self.path(url)), "rows": masked(self.name, raw.sqlite_rows(self.path(url)))}

    def counts(self, url: str) -> dict[str, int]:
        return {t: len(r) for t, r in raw.sqlite_rows(self.path(url)).items()}

    def close(self) -> None:
        pass


def reference_states(side, name: str, stops: list[str]) -> dict[str, dict]:
    """The raw engine's state after the whole history ("up") and after rolling back, script by
    script, to each version of ``stops``: what the runbook must leave at each point."""
    folder, steps = HISTORIES / name, raw.history(HISTORIES / name)
    stops = ["000" if v == "none" else v for v in stops]
    url = side.new("ref")
    for s in steps:
        side.apply(url, s.path)
        if s.version == "000":
            side.apply(url, folder / "seed.sql")
    states = {"up": side.state(url)}
    for s in reversed(steps):
        if not stops:
            break
        if s.version == stops[0]:
            states[stops.pop(0)] = side.state(url)
            if not stops:
                break
        side.apply(url, s.rollback)
    return states


def production_like(side, name: str, label: str = "target") -> str:
    """A database at the baseline with the seed's rows, no history table: the runbook adopts it."""
    url = side.new(label)
    side.apply(url, raw.history(HISTORIES / name)[0].path)
    side.apply(url, HISTORIES / name / "seed.sql")
    assert side.counts(url) == SEEDED[name]
    return url


def run_history(side, name: str, tmp_path: Path) -> None:
    folder, label = HISTORIES / name / "migrations", f"{name}/{type(side).__name__}"
    last = raw.history(folder)[-1].version
    stops = ROLLBACK_STEPS[name]
    expected = reference_states(side, name, list(stops))
    url = production_like(side, name)
    reports, backups = tmp_path / "reports", tmp_path / "backups"

    done, seconds = runbook("run", "--db", url, "--migrations", str(folder), "--reports", str(reports),
                            "--backups", str(backups), *dialect_args(name), cwd=tmp_path)
    DURATIONS[f"{label} run"] = seconds
    assert done.returncode == 0, done.stdout + done.stderr
    run = run_json(done.stdout)
    # before: no history table yet (000 is adopted during the run, as in the demo)
    assert run["status"] == "passed" and run["versions"] == {"before": None, "after": last}, run["versions"]
    assert run["rehearsal"]["passed"], run["rehearsal"]
    assert side.state(url) == expected["up"]
    snapshot = Path(run["run_dir"]) / "inventory.json"

    for version in stops:
        extra = ["--snapshot", str(snapshot)] if version == "none" else []
        done, seconds = runbook("rollback", "--db", url, "--migrations", str(folder), "--to", version,
                                "--reports", str(reports), *extra, *dialect_args(name), cwd=tmp_path)
        DURATIONS[f"{label} rollback --to {version}"] = seconds
        assert done.returncode == 0, f"rollback --to {version}\n" + done.stdout + done.stderr
        after = None if version == "none" else version
        assert run_json(done.stdout)["versions"]["after"] == after
        reference = expected["000" if version == "none" else version]
        assert side.state(url) == reference, f"state after rollback --to {version}"
    assert side.counts(url) == SEEDED[name], "back at the baseline with every seeded row"


def history_copy(name: str, versions: list[str], dest: Path) -> Path:
    """A migrations folder with some of a history's migrations (and their rollbacks)."""
    (dest / "rollbacks").mkdir(parents=True)
    for s in raw.history(HISTORIES / name):
        if s.version in versions:
            shutil.copy(s.path, dest)
            shutil.copy(s.rollback, dest / "rollbacks")
    return dest


@pytest.fixture
def pg_admin(pg_server) -> str:
    return pg_server.render_as_string(hide_password=False)


def print_durations() -> None:
    """The seconds each runbook command took (shown with ``pytest -s``), then forgotten."""
    if DURATIONS:
        print("\nDURATIONS (s): " + ", ".join(f"{k}: {v:.1f}" for k, v in DURATIONS.items()))
        DURATIONS.clear()
