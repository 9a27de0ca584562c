"""Shared by the reliability tests: the CLI as a subprocess, barriers, dead pids, a live writer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[2]


def runbook(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runbook.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600, env={**os.environ, **(env or {})})


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def kill_at_barrier(code: str, barrier_dir: Path, point: str) -> None:
    """Start ``python -c code`` in its own process group, wait until it reaches ``point``, and
    SIGKILL the whole group there."""
    barrier_dir.mkdir(parents=True, exist_ok=True)
    (barrier_dir / f"{point}.wanted").touch()
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                            env={**os.environ, "RUNBOOK_BARRIER_DIR": str(barrier_dir)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (barrier_dir / f"{point}.reached").exists():
        if proc.poll() is not None:
            raise AssertionError(f"the process ended before {point}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the process never reached {point}")
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


#: an application: inserts a row into contractors every few ms until ``stop`` exists, and writes
#: the number of acknowledged inserts (commits that returned) to ``out`` after each
WRITER = """
import sys, time, uuid
from pathlib import Path
import sqlalchemy as sa
url, stop, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
engine = sa.create_engine(url, connect_args={"timeout": 120} if url.startswith("sqlite") else {})
acknowledged = 0
while not stop.exists():
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO contractors (name, email) VALUES ('live writer', :e)"),
                     {"e": f"w{uuid.uuid4().hex}@app.example"})
    acknowledged += 1  # the commit returned: the database acknowledged this row
    out.write_text(str(acknowledged))
    time.sleep(0.005)
"""


@contextmanager
def live_writer(db_url: str, folder: Path, *, at_least: int = 1) -> Iterator[Path]:
    """A real application writer process for the duration of the block: it has written at least
    ``at_least`` rows when the block starts; yields the file holding its acknowledged count, and
    stops it (asserting it ended cleanly) when the block ends."""
    stop, out = folder / "writer-stop", folder / "writer-acknowledged"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, db_url, str(stop), str(out)],
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not out.exists() or int(out.read_text() or 0) < at_least:
            assert writer.poll() is None and time.monotonic() < deadline, writer.stderr.read() if writer.stderr else ""
            time.sleep(0.01)
        yield out
    finally:
        stop.touch()
        writer.wait(timeout=120)
    assert writer.returncode == 0, writer.stderr.read() if writer.stderr else ""


def writer_rows(db_url: str) -> tuple[int, set[str]]:
    """The writer's rows now in ``contractors``, and the table's columns."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            kept = conn.execute(sa.text("SELECT COUNT(*) FROM contractors WHERE name = 'live writer'")).scalar_one()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("contractors")}
    finally:
        engine.dispose()
    return kept, columns
