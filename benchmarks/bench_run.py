"""`runbook run` beside the guide's raw procedure and the papermill floor, in one interleaved session.

For each engine and size (11 rows: the demo; then N generated contractors), a template database
is built once (the guide's production database: baseline schema, sample data, no history). Then,
``--repeat`` times, in turn (A B C A B C ...), on a fresh copy of the template each time:

- **runbook**: ``runbook run --db URL`` (inventory, backup, rehearsal, migrate, verify), with the
  demo's migrations;
- **raw**: the guide's procedure by hand: backup (``cp`` / ``pg_dump -Fc``), row counts, apply the
  migrations with ``sqlite3`` / ``psql -1`` (PostgreSQL: the runbook's own translation, written to
  files before timing), the guide's verification queries;
- **floor**: papermill executing a one-cell notebook (the cost of any notebook run).

With ``--bytecode`` (BYTECODE), the runbook and the floor run as an installed package runs: every
module's compiled bytecode cached (``PYTHONPYCACHEPREFIX`` in the bench's temporary folder, written
by one untimed run of each, ``PYTHONDONTWRITEBYTECODE`` unset). Without it, in an environment that
sets ``PYTHONDONTWRITEBYTECODE`` (this project's), the runbook, run from its source tree, compiles
its own modules at every start in both of its processes, while its dependencies (and the floor's)
load the bytecode their installation wrote.

Each is one process tree, timed from outside: CPU seconds (user + sys of the tree, from wait4;
on PostgreSQL plus the server's CPU for the run: the backends that ended during it, read from
the postmaster's waited-for children, and any of the run's still open when it ends),
wall seconds, and peak memory of the whole tree (the sum of its processes' RSS, sampled every
50 ms). With ``--writer``, an application writer inserts a row into ``contractors`` every 10 ms
during the runbook and raw runs and reports the longest time one insert + commit took: the
write-lock window the run imposed on the application.

    python3 benchmarks/bench_run.py                                  # SQLite: demo, 1M
    python3 benchmarks/bench_run.py --engine postgresql --rows 11 1000000 --writer
    python3 benchmarks/bench_run.py --rows 11 1000000 5000000 --repeat 3 --writer

Prints one table: medians per (engine, rows, command), ratios runbook/raw and runbook/floor, the
per-million-rows slope of each, and the writer's longest stall.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runbook import migrate as migrating  # noqa: E402
from runbook.engines import ENGINES  # noqa: E402
from runbook import migrations as mig  # noqa: E402
from runbook.seeds import build_baseline  # noqa: E402
from runbook.target import open_target  # noqa: E402

from bench_large_tables import FILL, FILL_PG  # noqa: E402

MIGRATIONS = REPO / "runbook" / "demo" / "migrations"
SEEDS = REPO / "runbook" / "demo" / "seeds"
#: the guide's post-migration verification queries (Post-Migration Verification, Health Checks)
VERIFY_SQL = [
    "SELECT COUNT(*) FROM contractors",
    "SELECT COUNT(*) FROM strategic_partners",
    "SELECT COUNT(*) FROM admin_users",
    "SELECT COUNT(*) FROM contractors WHERE email IS NULL OR email = ''",
    "SELECT COUNT(*) FROM contractors c LEFT JOIN strategic_partners p ON c.assigned_partner_id = p.id "
    "WHERE c.assigned_partner_id IS NOT NULL AND p.id IS NULL",
]


# -- measuring a process tree ------------------------------------------------------------------
def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _tree_rss(root: int) -> int:
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
        todo += tree.get(pid, [])
    return total


TICK = os.sysconf("SC_CLK_TCK")


def _server_cpu(db_prefix: str, exclude: set[int]) -> dict[int, float]:
    """The CPU seconds so far of every live PostgreSQL backend serving a database whose name
    starts with ``db_prefix`` (the run's database and its scratch copies ``<db>_rehearsal_...``),
    by pid; ``exclude``: the application writer's backend."""
    seen = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            if not cmdline.startswith("postgres: "):
                continue
            words = cmdline.split(": ", 2)[-1].split()  # "15/main: user db host(port) state"
            if len(words) < 2 or not words[1].startswith(db_prefix):
                continue
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen[int(entry)] = (int(fields[11]) + int(fields[12])) / TICK
    return seen


def _exited_children_cpu(pid: int) -> float:
    """The CPU seconds of the processes ``pid`` has waited for (the postmaster: every backend that
    has ended)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / TICK


def measure(cmd: list[str], env: dict[str, str] | None = None, *, server: tuple[int, str] | None = None,
            exclude: set[int] | None = None) -> dict[str, float]:
    """CPU (user + sys of the tree), wall, peak tree RSS of one command; it must exit 0. With
    ``server`` (PostgreSQL: the postmaster's pid, the run's database name), also the server's CPU
    for the run: every backend that ended meanwhile (the postmaster's waited-for children: the
    run's sessions, short ones included, and its scratch databases'; also any other backend that
    ends meanwhile, on a quiet server autovacuum's), after the run's own backends have ended."""
    started = time.monotonic()
    exited_before = _exited_children_cpu(server[0]) if server else 0.0
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... exited {proc.returncode}:\n{stderr.decode()[-2000:]}")
    out = {"cpu": usage.ru_utime + usage.ru_stime, "wall": time.monotonic() - started, "peak_mib": peak / 2**20,
           "stderr": stderr.decode(errors="replace")}
    if server:
        for _ in range(100):  # the run's sessions end as its processes exit: wait for their backends
            live = _server_cpu(server[1], exclude or set())
            if not live:
                break
            time.sleep(0.05)
        out["client_cpu"] = out["cpu"]
        out["server_cpu"] = _exited_children_cpu(server[0]) - exited_before + sum(live.values())
        out["cpu"] += out["server_cpu"]
    return out


# -- the application writer ----------------------------------------------------------------------
class Writer:
    """Inserts a contractor every 10 ms and records the longest insert + commit."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(url, connect_args={"timeout": 600} if url.startswith("sqlite") else {})
        self.stop = threading.Event()
        self.longest = 0.0
        self.writes = 0
        self.inserts: list[tuple[float, float]] = []
        self.conn = self.engine.connect()  # one connection: on PostgreSQL, one backend (left out of the server CPU)
        self.backend_pid = (self.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
                            if url.startswith("postgresql") else None)
        self.conn.rollback()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        while not self.stop.wait(0.01):
            t0 = time.monotonic()
            with self.conn.begin():
                self.conn.execute(sa.text("INSERT INTO contractors (name, email) VALUES (:n, :e)"),
                                  {"n": "app writer", "e": f"w{uuid.uuid4().hex}@app.example"})
            took = time.monotonic() - t0
            self.longest = max(self.longest, took)
            self.inserts.append((time.time() - took, took))  # (wall clock at its start, seconds)
            self.writes += 1

    def longest_within(self, start: float, end: float) -> float:
        """The longest insert + commit that was waiting at some moment between ``start`` and ``end``."""
        return max((took for at, took in self.inserts if at <= end and at + took >= start), default=0.0)

    def __enter__(self) -> "Writer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.conn.close()
        self.engine.dispose()


# -- databases -------------------------------------------------------------------------------
class Databases:
    """A template database per size, and fresh copies of it for each measured run."""

    def __init__(self, engine: str, workdir: Path, pg_url: str):
        self.engine, self.workdir, self.pg_url = engine, workdir, pg_url
        self.admin = (sa.create_engine(sa.make_url(pg_url).set(drivername="postgresql+psycopg"),
                                       isolation_level="AUTOCOMMIT") if engine == "postgresql" else None)
        self.created: list[str] = []
        self.postmaster = None
        if self.admin is not None:  # every backend's parent
            with self.admin.connect() as c:
                backend = c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            self.postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])

    def _pg(self, sql: str) -> None:
        with self.admin.connect() as c:  # type: ignore[union-attr]
            c.exec_driver_sql(sql)

    def _url(self, name: str) -> str:
        if self.engine == "sqlite":
            return f"sqlite:///{self.workdir / name}"
        return sa.make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def template(self, rows: int) -> str:
        # the pid in the name: two sessions on one server must not drop each other's template
        name = f"rbbench_tmpl_{rows}_{os.getpid()}" + (".db" if self.engine == "sqlite" else "")
        if self.engine == "sqlite":
            sqlite3.connect(self.workdir / name).close()
        else:
            self._pg(f'DROP DATABASE IF EXISTS "{name}"')
            self._pg(f'CREATE DATABASE "{name}"')
            self.created.append(name)
        target = open_target(self._url(name))
        build_baseline(target, MIGRATIONS, SEEDS)
        if rows > 11:
            with target.engine().begin() as conn:
                target.kind.run_sql(conn, (FILL if self.engine == "sqlite" else FILL_PG).format(rows=rows - 11))
        target.dispose()
        return name

    def copy(self, template: str) -> str:
        name = f"rbbench_{uuid.uuid4().hex[:8]}" + (".db" if self.engine == "sqlite" else "")
        if self.engine == "sqlite":
            shutil.copyfile(self.workdir / template, self.workdir / name)
        else:
            self._pg(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        if self.engine == "sqlite":
            (self.workdir / name).unlink(missing_ok=True)
        else:
            self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            self.drop(name)


# -- the three commands ----------------------------------------------------------------------------
def raw_script(engine: str, workdir: Path) -> Path:
    """The guide's migrations as the raw procedure applies them (PostgreSQL: translated once)."""
    folder = workdir / f"raw_{engine}"
    folder.mkdir(exist_ok=True)
    kind = ENGINES[engine]
    for m in mig.discover(MIGRATIONS)[1:]:
        sql = [s for p in migrating.prepare(m.script, kind) for s in p.sql]
        (folder / f"{m.label}.sql").write_text(";\n".join(sql) + ";\n")
    (folder / "verify.sql").write_text(";\n".join(VERIFY_SQL) + ";\n")
    return folder


def raw_command(engine: str, db: str, url: str, workdir: Path, scripts: Path) -> list[str]:
    files = " ".join(str(p) for p in sorted(scripts.glob("0*.sql")))
    if engine == "sqlite":
        path = workdir / db
        wait = "-cmd '.timeout 600000'"  # wait for the application's write lock, as the runbook does
        return ["sh", "-c", f"set -e; cp {path} {path}.bak; sqlite3 {wait} {path} 'SELECT COUNT(*) FROM contractors' >/dev/null; "
                            f"echo migrate-start $(date +%s.%N) >&2; cat {files} | sqlite3 {wait} -bail {path} >/dev/null; "
                            "echo migrate-end $(date +%s.%N) >&2; "
                            f"sqlite3 {wait} {path} < {scripts / 'verify.sql'} >/dev/null"]
    conn = f"'{url}'"
    return ["sh", "-c", f"set -e; pg_dump -Fc -f {workdir / db}.dump {conn}; "
                        f"psql -X -q -v ON_ERROR_STOP=1 {conn} -c 'SELECT COUNT(*) FROM contractors' >/dev/null; "
                        f"echo migrate-start $(date +%s.%N) >&2; cat {files} | psql -X -q -1 -v ON_ERROR_STOP=1 {conn} >/dev/null; "
                        "echo migrate-end $(date +%s.%N) >&2; "
                        f"psql -X -q -v ON_ERROR_STOP=1 {conn} -f {scripts / 'verify.sql'} >/dev/null"]


def floor_command(workdir: Path) -> list[str]:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    path = workdir / "floor.ipynb"
    nbformat.write(nb, path)
    return [sys.executable, "-c", f"import papermill; papermill.execute_notebook({str(path)!r}, "
                                  f"{str(workdir / 'floor_out.ipynb')!r}, progress_bar=False, kernel_name='python3')"]


def runbook_command(url: str, workdir: Path, db: str) -> list[str]:
    return [sys.executable, "-m", "runbook.cli", "run", "--db", url, "--migrations", str(MIGRATIONS),
            "--reports", str(workdir / f"{db}.reports"), "--backups", str(workdir / f"{db}.backups")]


def _events(workdir: Path, db: str) -> list[dict]:
    import json

    files = list((workdir / f"{db}.reports").glob("*/progress.jsonl"))
    return [json.loads(line) for line in files[0].read_text().splitlines() if line.strip()] if files else []


def stalled_during(what: str, writer: Writer, workdir: Path, db: str) -> str:
    """What the runbook was doing (its last progress event) when the writer's longest insert began."""
    if what != "runbook" or not writer.inserts:
        return ""
    at, _ = max(writer.inserts, key=lambda i: i[1])
    before = [e for e in _events(workdir, db) if e["at"] <= at]
    return str(before[-1].get("message", ""))[:80] if before else "before the first step"


def migrate_window(what: str, stderr: str, workdir: Path, db: str) -> tuple[float, float] | None:
    """When the migrations ran on the target (wall clock): raw marks it on stderr; the runbook's
    progress.jsonl has "migrate <target>: ..." events (the rehearsal's name its scratch copy)
    up to the step's end."""
    if what == "raw":
        marks = dict(line.split() for line in stderr.splitlines() if line.startswith("migrate-"))
        return (float(marks["migrate-start"]), float(marks["migrate-end"])) if len(marks) == 2 else None
    if what != "runbook":
        return None
    name = db.removesuffix(".db")
    events = _events(workdir, db)
    starts = [e["at"] for e in events if str(e.get("message", "")).startswith(f"migrate {name}: ")]
    ends = [e["at"] for e in events if str(e.get("message", "")).startswith("migrate: ")
            and "started" not in e["message"]]
    return (starts[0], ends[-1]) if starts and ends else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=["sqlite", "postgresql"], nargs="+", default=["sqlite"])
    ap.add_argument("--rows", type=int, nargs="+", default=[11, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--writer", action="store_true", help="measure the longest stall of an application writer")
    ap.add_argument("--pg-url", default=os.environ.get("RUNBOOK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--bytecode", action="store_true",
                    help="cache every module's bytecode, as an installed package has it (see BYTECODE)")
    args = ap.parse_args()
    env = os.environ | {"PYTHONPATH": str(REPO)}
    warm = not args.bytecode
    results: dict[tuple[str, int, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="rbbench-") as tmp:
        workdir = Path(tmp)
        floor = floor_command(workdir)
        if args.bytecode:
            env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
                "PYTHONPYCACHEPREFIX": str(workdir / "pycache")}
        for engine in args.engine:
            dbs = Databases(engine, workdir, args.pg_url)
            scripts = raw_script(engine, workdir)
            try:
                for rows in args.rows:
                    template = dbs.template(rows)
                    if not warm:  # one untimed run of each, which writes the bytecode
                        db = dbs.copy(template)
                        for cmd in (runbook_command(dbs._url(db), workdir, db), floor):
                            subprocess.run(cmd, env=env, cwd=REPO, check=True, capture_output=True)
                        dbs.drop(db)
                        warm = True
                    for _ in range(args.repeat):
                        for what in ("runbook", "raw", "floor"):
                            db = dbs.copy(template)
                            url = dbs._url(db)
                            cmd = {"runbook": lambda: runbook_command(url, workdir, db),
                                   "raw": lambda: raw_command(engine, db, url, workdir, scripts),
                                   "floor": lambda: floor}[what]()
                            server = (dbs.postmaster, db) if engine == "postgresql" and what != "floor" else None
                            if args.writer and what != "floor":
                                with Writer(url) as w:
                                    m = measure(cmd, env, server=server,
                                                exclude={w.backend_pid} if w.backend_pid else None)
                                m["stall_s"], m["writes"] = w.longest, w.writes
                                m["stall_during"] = stalled_during(what, w, workdir, db)
                                window = migrate_window(what, m["stderr"], workdir, db)
                                if window:
                                    m["migrate_stall_s"] = w.longest_within(*window)
                            else:
                                m = measure(cmd, env, server=server)
                            m.pop("stderr", None)
                            results.setdefault((engine, rows, what), []).append(m)
                            dbs.drop(db)
                            print(f"# {engine} {rows:>9,} {what:<8} cpu {m['cpu']:7.2f} s  wall {m['wall']:7.2f} s  "
                                  f"peak {m['peak_mib']:5.0f} MiB" + (f"  stall {m['stall_s']:.3f} s" if "stall_s" in m else "")
                                  + (f" (migrate {m['migrate_stall_s']:.3f} s)" if "migrate_stall_s" in m else "")
                                  + (f" [longest during: {m['stall_during']}]" if m.get("stall_during") else "")
                                  + (f"  (server {m['server_cpu']:.2f} s)" if "server_cpu" in m else ""),
                                  file=sys.stderr, flush=True)
                    dbs.drop(template) if engine == "postgresql" else None
            finally:
                dbs.close()
    report(results, args)


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs if key in r)


def report(results: dict[tuple[str, int, str], list[dict[str, float]]], args: argparse.Namespace) -> None:
    print("| engine | rows | runbook CPU s | raw CPU s | floor CPU s | runbook/raw | runbook/floor | runbook wall s | raw wall s "
          "| peak tree MiB | writer's longest stall: runbook / raw (s) | while migrating the target: runbook / raw (s) "
          "| of which server CPU: runbook / raw (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
    for engine in args.engine:
        for rows in args.rows:
            rb, raw, fl = (results[(engine, rows, w)] for w in ("runbook", "raw", "floor"))
            c_rb, c_raw, c_fl = (_median(x, "cpu") for x in (rb, raw, fl))
            stall = (f"{_median(rb, 'stall_s'):.3f} / {_median(raw, 'stall_s'):.3f}" if args.writer else "not measured")
            mstall = (f"{_median(rb, 'migrate_stall_s'):.3f} / {_median(raw, 'migrate_stall_s'):.3f}"
                      if args.writer and any("migrate_stall_s" in r for r in rb) and any("migrate_stall_s" in r for r in raw)
                      else "not measured")
            server = (f"{_median(rb, 'server_cpu'):.2f} / {_median(raw, 'server_cpu'):.2f}" if engine == "postgresql"
                      else "(in the client)")
            print(f"| {engine} | {rows:,} | {c_rb:.2f} | {c_raw:.2f} | {c_fl:.2f} | {c_rb / c_raw:.1f}× | {c_rb / c_fl:.2f}× "
                  f"| {_median(rb, 'wall'):.1f} | {_median(raw, 'wall'):.1f} | {_median(rb, 'peak_mib'):.0f} | {stall} | {mstall} | {server} |")
        sizes = sorted(r for r in args.rows if r > 11)
        if len(sizes) >= 2:
            lo, hi = sizes[0], sizes[-1]
            per_m = (hi - lo) / 1e6
            slope = {w: (_median(results[(engine, hi, w)], "cpu") - _median(results[(engine, lo, w)], "cpu")) / per_m
                     for w in ("runbook", "raw")}
            print(f"\n{engine}: CPU slope per million rows ({lo:,} → {hi:,}): runbook {slope['runbook']:.2f} s, "
                  f"raw {slope['raw']:.2f} s, ratio {slope['runbook'] / slope['raw']:.1f}×")


if __name__ == "__main__":
    main()
