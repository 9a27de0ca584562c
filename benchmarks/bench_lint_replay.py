"""`runbook lint --db` against applying the same history once (issue 7, item 9: at most 3x).

Generates N migrations (a table, then a column, then an index on it, over and over), each with its
rollback script; applies them once with `migrate()` on an empty database; then lints them with
`--db` on another empty database of the same engine (every migration pending: the whole history
is replayed on a scratch database, each rollback checked).

    python3 benchmarks/bench_lint_replay.py                       # SQLite, 300 migrations
    python3 benchmarks/bench_lint_replay.py --engine postgresql --pg-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from runbook import lint
from runbook.migrate import migrate
from runbook.target import open_target


def history(root: Path, n: int) -> None:
    (root / "rollbacks").mkdir(parents=True)
    for i in range(1, n + 1):
        t, k = f"t{(i - 1) // 3:03d}", (i - 1) % 3
        up, down = [(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, name TEXT);", f"DROP TABLE {t};"),
                    (f"ALTER TABLE {t} ADD COLUMN note TEXT;", f"ALTER TABLE {t} DROP COLUMN note;"),
                    (f"CREATE INDEX {t}_name ON {t} (name);", f"DROP INDEX {t}_name;")][k]
        (root / f"{i:03d}_m{i}.sql").write_text(f"-- Migration: m{i}\n-- Risk Level: LOW\n{up}\n")
        (root / "rollbacks" / f"{i:03d}_rollback_m{i}.sql").write_text(down + "\n")


def empty_databases(args: argparse.Namespace, tmp: Path) -> list[str]:
    if args.engine == "sqlite":
        for name in ("a.db", "b.db"):
            sqlite3.connect(tmp / name).close()
        return [f"sqlite:///{tmp / 'a.db'}", f"sqlite:///{tmp / 'b.db'}"]
    url = sa.make_url(args.pg_url)
    admin = sa.create_engine(url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        for db in ("bench_lint_a", "bench_lint_b"):
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            c.exec_driver_sql(f"CREATE DATABASE {db}")
    return [url.set(database=db).render_as_string(hide_password=False) for db in ("bench_lint_a", "bench_lint_b")]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("-n", type=int, default=300)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        history(tmp / "migrations", args.n)
        a, b = empty_databases(args, tmp)
        started = time.monotonic()
        assert migrate(open_target(a), tmp / "migrations").passed
        apply_s = time.monotonic() - started
        started = time.monotonic()
        report = lint.lint(tmp / "migrations", target=open_target(b))
        lint_s = time.monotonic() - started
        checks: dict[str, int] = {}
        for u in report.migrations:
            checks[u.rollback_check["status"]] = checks.get(u.rollback_check["status"], 0) + 1
        print(f"{args.engine}, {args.n} migrations: apply once {apply_s:.1f} s; lint --db {lint_s:.1f} s "
              f"({lint_s / apply_s:.2f}x); {report.errors} errors; rollback checks {checks}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
