"""The library calls a `runbook run` makes in its kernel, in one process: CPU and wall per part.

Inventory, backup, lint gate, rehearsal (scratch copy, its inventory, migrate with the full data
check, verify), migrate on the target, verify: on a fresh copy of an SQLite file, or of a
PostgreSQL database used as a template, with the demo's migrations. ``--profile DIR`` writes a
cProfile file per part (``python3 -m pstats DIR/rehearsal.prof``). No notebooks, no writer: where
the rows cost CPU in the kernel (``bench_run.py`` times whole runs). On PostgreSQL each part also
reports the server's CPU for it: the backends that ended meanwhile (the postmaster's waited-for
children, as ``bench_run.py`` counts them) plus the growth of the live ones.

    python3 benchmarks/bench_large_tables.py ...   # or any database with the demo's baseline
    python3 benchmarks/profile_pipeline.py sqlite /path/to/template.db
    python3 benchmarks/profile_pipeline.py postgresql template_db_name --profile /tmp/prof
"""

from __future__ import annotations

import argparse
import cProfile
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runbook import backup, inventory, lint, reports, steps, verify  # noqa: E402
from runbook import migrate as migrating  # noqa: E402
from runbook.target import open_target  # noqa: E402

MIGRATIONS = str(REPO / "runbook" / "demo" / "migrations")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("engine", choices=["sqlite", "postgresql"])
    ap.add_argument("template", help="SQLite file, or PostgreSQL database name (copied, never changed)")
    ap.add_argument("--profile", type=Path, help="write one cProfile file per part here")
    ap.add_argument("--statements", type=int, default=0, metavar="N",
                    help="PostgreSQL: list the N statements that cost the server the most CPU, per part")
    ap.add_argument("--pg-url", default=os.environ.get("RUNBOOK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rbprofile-") as tmp:
        work = Path(tmp)
        if args.engine == "sqlite":
            shutil.copyfile(args.template, work / "t.db")
            url, drop, server = f"sqlite:///{work / 't.db'}", None, None
        else:
            admin = sa.create_engine(sa.make_url(args.pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
            name = f"rbprofile_{os.getpid()}"
            with admin.connect() as c:
                c.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{args.template}"')
            url = sa.make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
            with admin.connect() as c:  # every backend's parent
                backend = c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            server = name, int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])

            def drop() -> None:
                with admin.connect() as c:
                    c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        try:
            run(open_target(url), work, args.profile, server, args.statements)
        finally:
            if drop:
                drop()


def server_cpu(server: tuple[str, int]) -> float:
    """The server's CPU seconds so far, as ``bench_run.py`` counts a run's: every backend that
    ended (the postmaster's waited-for children: also another session's, on a busy server) and
    the live backends of the database and its scratch copies (``<database>_...``); ``server``:
    (the database, the postmaster's pid)."""
    from bench_run import _exited_children_cpu, _server_cpu

    database, postmaster = server
    return _exited_children_cpu(postmaster) + sum(_server_cpu(database, set()).values())


def _children_cpu() -> float:
    """CPU seconds of the client tools (pg_dump, pg_restore, psql) this process has waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def watch_statements(server: tuple[str, int]) -> list[tuple[float, float, str]]:
    """(server CPU s, wall s, statement) of every statement run through SQLAlchemy from now on."""
    seen: list[tuple[float, float, str]] = []

    @sa.event.listens_for(sa.Engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["rb_started"] = (server_cpu(server), time.perf_counter())

    @sa.event.listens_for(sa.Engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        s0, w0 = conn.info.pop("rb_started")
        seen.append((server_cpu(server) - s0, time.perf_counter() - w0, " ".join(statement.split())))

    return seen


def run(target, work: Path, profile: Path | None, server: tuple[str, int] | None = None, statements: int = 0) -> None:
    run_dir = work / "run"
    run_dir.mkdir()
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    total = 0.0
    seen = watch_statements(server) if server and statements else []

    def part(name, fn):
        nonlocal total
        c0, w0 = time.process_time(), time.perf_counter()
        k0 = _children_cpu()
        first = len(seen)
        s0 = server_cpu(server) if server else 0.0
        if profile:
            prof = cProfile.Profile()
            out = prof.runcall(fn)
            prof.dump_stats(profile / f"{name}.prof")
        else:
            out = fn()
        cpu = time.process_time() - c0
        total += cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        shown = f"  server cpu {server_cpu(server) - s0:6.2f} s" if server else ""
        print(f"{name:10s} cpu {cpu:6.2f} s  tools {_children_cpu() - k0:5.2f} s{shown}  wall {time.perf_counter() - w0:6.2f} s  "
              f"peak RSS so far {peak} MiB", flush=True)
        for cost, took, sql in sorted(seen[first:], reverse=True)[:statements]:
            print(f"    server {cost:6.2f} s  wall {took:6.2f} s  {sql[:150]}")
        return out

    snapshot = part("inventory", lambda: inventory.take(target, MIGRATIONS, row_hashes=False))  # as 01_inventory
    reports.save_artifact(run_dir, "inventory", snapshot)
    part("backup", lambda: backup.take(target, work / "backups", run_dir=run_dir))
    _, pending = migrating.plan(target, MIGRATIONS)
    part("lint", lambda: lint.gate(pending, target.kind, target=target))
    guard = steps.backup_guard(run_dir, target, dry_run=False, skip_backup=False)
    rehearsed = part("rehearsal", lambda: steps.rehearse_if_wanted(
        target, guard, MIGRATIONS, pending, wanted=True, dry_run=False, to=None, run_id="profile", run_dir=run_dir))
    result = part("migrate", lambda: migrating.migrate(target, MIGRATIONS, run_id="profile"))
    reports.save_artifact(run_dir, "migrate", result.as_dict())
    checked = part("verify", lambda: verify.verify(target, MIGRATIONS, steps.snapshot_from(run_dir, None), run_dir=run_dir))
    print(f"total cpu {total:.2f} s; rehearsal passed {rehearsed['passed']}, verify passed {checked['passed']}")
    for label, data in rehearsed["data"].items():
        print(f"  rehearsal {label}: {rehearsed['migration_durations_ms'].get(label)} ms, data check {data.get('check_ms')} ms")
    target.dispose()


if __name__ == "__main__":
    main()
