"""Speed and memory of the read-heavy steps on a large Power100 database.

Builds a database with the baseline schema and N contractors (generated in SQL), then runs each
operation in a fresh Python process and reports its wall time and peak resident memory above an
idle interpreter that imported the runbook. If memory grows with N, something loads a table into
memory.

    python3 benchmarks/bench_large_tables.py                      # SQLite, 100k and 1M rows
    python3 benchmarks/bench_large_tables.py --rows 200000 --engine postgresql --pg-url postgresql://postgres@127.0.0.1/postgres
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runbook.seeds import build_baseline  # noqa: E402
from runbook.target import open_target  # noqa: E402

FILL = """
INSERT INTO contractors (name, email, phone, company_name)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
SELECT 'Contractor ' || i, 'c' || i || '@bench.example', '555-' || i, 'Company ' || (i % 1000) FROM n
"""
FILL_PG = """
INSERT INTO contractors (name, email, phone, company_name)
SELECT 'Contractor ' || i, 'c' || i || '@bench.example', '555-' || i, 'Company ' || (i % 1000)
FROM generate_series(1, {rows}) AS i
"""

OPERATIONS = {
    "idle (import runbook)": "pass",
    "row counts": "from runbook import inventory\nwith t.engine().connect() as c: inventory.row_counts(c)",
    "fingerprint contractors": (
        "from runbook import inventory\nwith t.engine().connect() as c:\n"
        "    cols = [x['name'] for x in sa.inspect(c).get_columns('contractors')]\n"
        "    inventory.fingerprint(c, 'contractors', cols, t.kind)"),
    "inventory.take": "from runbook import inventory\ninventory.take(t, MIGRATIONS)",
    "backup (engine)": "import tempfile\nfrom pathlib import Path\nd = tempfile.mkdtemp()\nt.kind.backup(t, Path(d) / 'bench.backup')",
}

CHILD = """
import resource, sys, time, json
import sqlalchemy as sa
from pathlib import Path
from runbook.target import open_target
MIGRATIONS = Path({migrations!r})
t = open_target({url!r})
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""


def measure(url: str, body: str) -> dict:
    code = CHILD.format(url=url, body=body, migrations=str(REPO / "runbook" / "demo" / "migrations"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def build(engine: str, rows: int, workdir: Path, pg_url: str | None) -> tuple[str, callable]:
    if engine == "sqlite":
        path = workdir / f"bench_{rows}.db"
        import sqlite3
        sqlite3.connect(path).close()
        url = f"sqlite:///{path}"
        fill, cleanup = FILL, (lambda: path.unlink(missing_ok=True))
    else:
        admin = sa.create_engine(sa.make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
        name = f"rbbench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.make_url(pg_url).set(database=name).render_as_string(hide_password=False)

        def cleanup() -> None:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        fill = FILL_PG
    target = open_target(url)
    build_baseline(target, REPO / "runbook" / "demo" / "migrations", REPO / "runbook" / "demo" / "seeds")
    with target.engine().begin() as conn:
        target.kind.run_sql(conn, fill.format(rows=rows))
    target.dispose()
    return url, cleanup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = ap.parse_args()
    print("| engine | contractors | operation | seconds | peak RSS (MiB) | above idle (MiB) |")
    print("|---|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            url, cleanup = build(args.engine, rows, Path(tmp), args.pg_url)
            try:
                idle = None
                for name, body in OPERATIONS.items():
                    m = measure(url, body)
                    rss = m["max_rss_kb"] / 1024
                    idle = rss if idle is None else idle
                    print(f"| {args.engine} | {rows:,} | {name} | {m['seconds']:.2f} | {rss:.0f} | {rss - idle:.0f} |", flush=True)
            finally:
                cleanup()


if __name__ == "__main__":
    main()
