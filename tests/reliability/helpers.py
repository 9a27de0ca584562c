"""Shared by the reliability tests: the CLI as a subprocess, barriers, dead pids."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def runbook(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runbook.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600, env={**os.environ, **(env or {})})


def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def start_at_barrier(code: str, barrier_dir: Path, point: str) -> subprocess.Popen:
    """Start ``python -c code`` in its own process group and wait until it reaches ``point``."""
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
    return proc
