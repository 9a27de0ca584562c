"""What a PostgreSQL `runbook run` must spend beyond the papermill floor before any check runs.

Issue 9's demo target allows a run half a floor above the floor (``bench_run.py``: papermill
executing a one-cell notebook). This measures, in one interleaved session, the parts of a
PostgreSQL run that the project's chosen parts cost whatever the runbook's own code does, each
against the floor:

- **kernel: database stack**: importing SQLAlchemy with its psycopg dialect, psycopg and pglast
  (the floor's kernel imports none of them); sqlglot apart (the demo's migrations are written in
  SQLite's dialect and translated);
- **kernel: start**: the runbook's trimmed ipykernel against the floor's full one (a saving);
- **CLI: the HTML exporter**: importing nbconvert and building the exporter for the reviewers'
  notebook pages (rendering the pages comes on top);
- **server: one backend**: connecting, one query, disconnecting (a run opens about 14);
- **server: the rehearsal's scratch copy**: ``CREATE DATABASE ... TEMPLATE template0`` and its
  ``DROP`` (restoring into it comes on top).

Each Python part is a fresh process (``-c``), its CPU (user + sys, from ``wait4``) minus that of
``python -c pass``; each server part is the backend's own CPU from ``/proc/<pid>/schedstat``
(nanoseconds: the 10 ms ticks of ``/proc/<pid>/stat`` read most of them as zero). Medians.

    python3 benchmarks/bench_fixed_costs.py --repeat 7
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_run import floor_command  # noqa: E402

#: (name, code run in a fresh process, what it stands for)
PYTHON_PARTS = [
    ("python -c pass", "pass", "subtracted from the parts below"),
    ("kernel: database stack", "import sqlalchemy, psycopg, pglast; "
     "from sqlalchemy.dialects.postgresql import psycopg as _d", "the floor's kernel has none"),
    ("kernel: sqlglot", "import sqlglot", "the demo's SQLite-dialect migrations, translated"),
    ("kernel: full ipykernel", "import ipykernel.kernelapp", "the floor's kernel"),
    ("kernel: trimmed ipykernel", "from runbook.startup import trim_kernel; trim_kernel(); "
     "import ipykernel.kernelapp", "the runbook's kernel"),
    ("CLI: papermill", "from runbook.startup import load_notebook_runner; load_notebook_runner()", "in the floor too"),
    ("CLI: papermill + HTML exporter", "from runbook.startup import load_notebook_runner; load_notebook_runner(); "
     "from runbook import html; html._notebook_exporter()", "the exporter: the difference"),
]


def cpu_of(cmd: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, cwd=REPO, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def server_parts(url: str) -> dict[str, float]:
    """One backend's life, and a scratch copy made and dropped (``RUNBOOK_TEST_PG_URL``'s server,
    which must run on this machine: its backends' CPU is read from ``/proc``)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as control:
        pid = control.execute("SELECT pg_backend_pid()").fetchone()[0]
        name = f"rb_fixed_{os.getpid()}"
        start = backend_cpu(pid)
        control.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        control.execute(f'DROP DATABASE "{name}"')
        scratch = backend_cpu(pid) - start
    with psycopg.connect(url) as one:
        one.execute("SELECT 1").fetchone()
        backend = backend_cpu(one.info.backend_pid)
    return {"server: one backend": backend, "server: scratch copy (CREATE + DROP DATABASE)": scratch}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pg-url", default=os.environ.get("RUNBOOK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()
    runs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="rbfixed-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
            "PYTHONPATH": str(REPO), "PYTHONPYCACHEPREFIX": str(Path(tmp, "pycache"))}  # as installed (bench_run --bytecode)
        floor = floor_command(Path(tmp))
        commands = [("floor", floor)] + [(name, [sys.executable, "-c", code]) for name, code, _ in PYTHON_PARTS]
        for _, cmd in commands:  # untimed: writes the bytecode
            subprocess.run(cmd, env=env, cwd=REPO, check=True, capture_output=True)
        for _ in range(args.repeat):
            for name, cmd in commands:
                runs.setdefault(name, []).append(cpu_of(cmd, env))
            for name, value in server_parts(args.pg_url).items():
                runs.setdefault(name, []).append(value)
    med = {name: statistics.median(values) for name, values in runs.items()}
    base = med["python -c pass"]
    part = {name: med[name] - base for name, _, _ in PYTHON_PARTS[1:]} | {
        name: v for name, v in med.items() if name.startswith("server:")}
    part["CLI: HTML exporter"] = part.pop("CLI: papermill + HTML exporter") - part["CLI: papermill"]
    part["kernel: trimmed against full ipykernel"] = part["kernel: trimmed ipykernel"] - part["kernel: full ipykernel"]
    floor_s = med["floor"]
    print(f"floor (papermill, one-cell notebook): {floor_s:.3f} s CPU; issue 9's allowance above it: "
          f"{0.5 * floor_s:.3f} s\n")
    print("| part | CPU s | of the floor |\n|---|---:|---:|")
    shown = ["kernel: database stack", "kernel: sqlglot", "kernel: trimmed against full ipykernel",
             "CLI: HTML exporter", "server: one backend", "server: scratch copy (CREATE + DROP DATABASE)"]
    for name in shown:
        print(f"| {name} | {part[name]:.3f} | {part[name] / floor_s:.2f} |")
    fixed = sum(part[n] for n in shown if n != "server: one backend") + 14 * part["server: one backend"]
    print(f"\nwith a run's 14 backends: {fixed:.3f} s, {fixed / floor_s:.2f} of the floor, before any cell's work, "
          "any page rendered, or any cell's messaging")


if __name__ == "__main__":
    main()
