"""What the rollback's own data check (``rollback.RollbackWatch``: row counts of the tables a
rollback script names, before and after its statements, in its transaction) costs.

Builds a Power100 database with N contractors, applies the demo migrations, then rolls them all
back and reports the rollback's wall time and the part spent in the watch (wall and this
process's CPU).

    python3 benchmarks/bench_rollback_watch.py --engine sqlite --rows 1000000
    python3 benchmarks/bench_rollback_watch.py --engine postgresql --rows 1000000 --pg-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_large_tables import FILL, FILL_PG  # noqa: E402
from runbook import migrate, rollback  # noqa: E402
from runbook.seeds import build_baseline  # noqa: E402
from runbook.target import open_target  # noqa: E402

MIGRATIONS, SEEDS = REPO / "runbook" / "demo" / "migrations", REPO / "runbook" / "demo" / "seeds"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    a = p.parse_args()
    if a.engine == "sqlite":
        path = Path(tempfile.mkdtemp()) / "bench.db"
        sqlite3.connect(path).close()
        url = f"sqlite:///{path}"
    else:
        admin = sa.create_engine(a.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text("DROP DATABASE IF EXISTS bench_rollback_watch"))
            c.execute(sa.text("CREATE DATABASE bench_rollback_watch"))
        url = sa.make_url(a.pg_url).set(database="bench_rollback_watch").render_as_string(hide_password=False)
    target = open_target(url)
    build_baseline(target, MIGRATIONS, SEEDS)
    with target.engine().begin() as c:
        c.execute(sa.text((FILL if a.engine == "sqlite" else FILL_PG).format(rows=a.rows)))
    assert migrate.migrate(target, MIGRATIONS, run_id="bench").error is None
    spent = {"wall": 0.0, "cpu": 0.0}

    def timed(f):
        def g(*args, **kw):
            w, c = time.perf_counter(), time.process_time()
            try:
                return f(*args, **kw)
            finally:
                spent["wall"] += time.perf_counter() - w
                spent["cpu"] += time.process_time() - c
        return g

    rollback.RollbackWatch.before = timed(rollback.RollbackWatch.before)
    rollback.RollbackWatch.after = timed(rollback.RollbackWatch.after)
    started = time.perf_counter()
    result = rollback.rollback_to(target, MIGRATIONS, "000", run_id="bench-back")
    total = time.perf_counter() - started
    assert result["error"] is None, result["error"]
    target.dispose()
    if a.engine == "postgresql":
        with admin.connect() as c:
            c.execute(sa.text("DROP DATABASE bench_rollback_watch"))
    print(f"{a.engine} {a.rows:,} contractors: rollback 004 -> 000 {total:.2f} s wall; "
          f"the watch {spent['wall']:.2f} s wall, {spent['cpu']:.2f} s CPU of this process")


if __name__ == "__main__":
    main()
