"""The raw engines, without the runbook: apply a history's migrations and rollbacks with
``psql -1 -v ON_ERROR_STOP=1 -f`` or Python's ``sqlite3`` (``executescript`` inside one
transaction), and read back the schema and the rows the way the engine reports them.

The acceptance tests (``tests/test_histories.py``) compare what the runbook leaves with what
these functions leave; ``tests/test_histories_raw.py`` proves each history correct here first.

A history folder holds ``migrations/`` (``NNN_name.sql`` and ``rollbacks/NNN_rollback_name.sql``,
the folder given to ``runbook --migrations``) and ``seed.sql`` (rows loaded right after ``000``,
the baseline). ``shared_app`` is written in the
project's shared dialect (SQLite's): on PostgreSQL its scripts are translated statement by
statement with the runbook's own translation (``PostgresEngine.translate``), the contract the
shared dialect is defined by, and then run by psql like any other script.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
#: the runbook's own tables in the target (its history and its event log): not the project's schema
from runbook.migrations import EVENTS_TABLE, HISTORY_TABLE  # noqa: E402

RUNBOOK_TABLES = (HISTORY_TABLE, EVENTS_TABLE)


@dataclass(frozen=True)
class Step:
    version: str
    name: str
    path: Path
    rollback: Path | None


def history(folder: Path) -> list[Step]:
    """The migrations of a history folder (or of a migrations folder), in order, each with its
    rollback script."""
    if (folder / "migrations").is_dir():
        folder = folder / "migrations"
    steps = []
    for p in sorted(folder.glob("[0-9][0-9][0-9]_*.sql")):
        version, name = p.stem.split("_", 1)
        back = list((folder / "rollbacks").glob(f"{version}_rollback_*.sql"))
        steps.append(Step(version, name, p, back[0] if back else None))
    return steps


def runnable(text: str) -> bool:
    """Whether a script holds anything but comments (a comment-only script is a no-op)."""
    return bool(_strip_comments(text).strip(" \t\r\n;"))


def _strip_comments(text: str) -> str:
    out, i, depth = [], 0, 0
    while i < len(text):
        two = text[i:i + 2]
        if depth:
            if two == "/*":
                depth, i = depth + 1, i + 2
            elif two == "*/":
                depth, i = depth - 1, i + 2
            else:
                i += 1
        elif two == "/*":
            depth, i = 1, i + 2
        elif two == "--":
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


# -- PostgreSQL --------------------------------------------------------------------------------
def pg_libpq(url: str) -> str:
    """A libpq URL (psql, pg_dump) from an SQLAlchemy one."""
    parts = urlsplit(url)
    scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def pg_with_db(admin_url: str, name: str) -> str:
    parts = urlsplit(pg_libpq(admin_url))
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def pg_create(admin_url: str, prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    psql(pg_libpq(admin_url), sql=f'CREATE DATABASE "{name}"')
    return name, pg_with_db(admin_url, name)


def pg_drop(admin_url: str, name: str) -> None:
    psql(pg_libpq(admin_url), sql=f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def psql(url: str, *, file: Path | None = None, sql: str | None = None, single_transaction: bool = True) -> str:
    cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", pg_libpq(url)]
    if file is not None:
        cmd += (["-1"] if single_transaction else []) + ["-f", str(file)]
    else:
        cmd += ["-At", "-c", sql]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"psql {file or sql!r} failed: {done.stderr.strip()}")
    return done.stdout


def translate_for_postgresql(path: Path, dest: Path) -> Path:
    """A shared-dialect script as the runbook runs it on PostgreSQL, written to ``dest``."""
    from runbook.engines import ENGINES
    from runbook.migrations import Script

    engine = ENGINES["postgresql"]
    statements, dialect = Script(path).statements_for(engine)
    out = []
    for st in statements:
        if st.is_transaction_control:
            continue
        out.extend(s.rstrip().rstrip(";") + ";" for s in engine.translate(st, dialect))
    dest.write_text("\n".join(out) + "\n")
    return dest


def pg_apply(url: str, path: Path, *, translate: bool = False, workdir: Path | None = None) -> None:
    """Run one script in one transaction (a comment-only script runs nothing)."""
    if not runnable(path.read_text()):
        return
    if translate:
        assert workdir is not None
        path = translate_for_postgresql(path, workdir / f"pg_{path.name}")
    psql(url, file=path)


_DUMP_NOISE = re.compile(r"^(--.*|SET .*|\\(un)?restrict .*|SELECT pg_catalog\.set_config.*|\s*)$")


def pg_schema(url: str) -> str:
    """``pg_dump --schema-only`` without the runbook's own tables, comments and SET lines,
    with the column lines of each CREATE TABLE sorted: a column re-added by a rollback comes
    back at the end of the table, which is the engine's only way to bring it back."""
    done = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges",
         *(f"--exclude-table=public.{t}" for t in RUNBOOK_TABLES),
         *(f"--exclude-table=public.{t}_*" for t in RUNBOOK_TABLES),
         "-d", pg_libpq(url)],
        capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {done.stderr.strip()}")
    lines = [l for l in done.stdout.splitlines() if not _DUMP_NOISE.match(l)]
    return "\n".join(_sort_table_columns(lines))


def _sort_table_columns(lines: list[str]) -> list[str]:
    out, block = [], None
    for line in lines:
        if block is None:
            out.append(line)
            if re.match(r"^CREATE (UNLOGGED )?TABLE .*\($", line):
                block = []
        elif line.startswith(")"):
            out.extend(sorted(l.rstrip(",") for l in block))
            out.append(line)
            block = None
        else:
            block.append(line)
    return out


_TABLES_SQL = (
    "SELECT CASE WHEN n.nspname = 'public' THEN c.relname ELSE n.nspname || '.' || c.relname END "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'm', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg_toast%%' "
    + "".join(f"AND c.relname NOT LIKE '{t}%%' " for t in RUNBOOK_TABLES) + "ORDER BY 1")


def _pg_connect(url: str):
    import psycopg

    return psycopg.connect(pg_libpq(url), autocommit=True)


def pg_tables(url: str) -> list[str]:
    """Tables and materialized views outside the system schemas (schema-qualified when not public)."""
    with _pg_connect(url) as conn:
        return [r[0] for r in conn.execute(_TABLES_SQL)]


def pg_rows(url: str) -> dict[str, list[str]]:
    """Every row of every table, as sorted jsonb texts (key order, not column order)."""
    with _pg_connect(url) as conn:
        result = {}
        for (t,) in conn.execute(_TABLES_SQL).fetchall():
            q = ".".join(f'"{p}"' for p in t.split("."))
            result[t] = sorted(r[0] for r in conn.execute(f"SELECT to_jsonb(r)::text FROM {q} r"))
        return result


# -- SQLite ------------------------------------------------------------------------------------
def sqlite_apply(path_db: Path, script: Path) -> None:
    """Run one script in one transaction with Python's sqlite3 (the engine's own splitter)."""
    text = script.read_text()
    if not runnable(text):
        return
    conn = sqlite3.connect(path_db, isolation_level=None)
    try:
        conn.execute("BEGIN")
        try:
            for statement in sqlite_statements(text):
                conn.execute(statement)
        except Exception:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


def sqlite_statements(text: str) -> list[str]:
    """Split with ``sqlite3.complete_statement``: a statement ends at the first ``;`` that
    completes it (so trigger bodies stay whole); comment-only tails are dropped."""
    out, buf = [], ""
    for line in text.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if runnable(buf):
                out.append(buf.strip())
            buf = ""
    if runnable(buf):
        raise ValueError(f"incomplete statement at the end of the script: {buf.strip()[:80]!r}")
    return out


_NOT_RUNBOOK = " AND ".join("name NOT LIKE ?" for _ in RUNBOOK_TABLES)
_RUNBOOK_LIKE = tuple(f"{t}%" for t in RUNBOOK_TABLES)


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        f"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND {_NOT_RUNBOOK}",
        _RUNBOOK_LIKE)]


def sqlite_schema(path_db: Path) -> list[tuple[str, str, str]]:
    """``sqlite_master`` as SQLite stores it (the CREATE text of every object), without the
    runbook's own tables; whitespace runs collapsed."""
    conn = sqlite3.connect(path_db)
    try:
        rows = conn.execute(
            f"SELECT type, name, sql FROM sqlite_master WHERE {_NOT_RUNBOOK} AND name NOT LIKE 'sqlite_%' "
            "ORDER BY type, name", _RUNBOOK_LIKE).fetchall()
    finally:
        conn.close()
    return [(t, n, re.sub(r"\s+", " ", s or "")) for t, n, s in rows]


def sqlite_columns(path_db: Path) -> dict[str, list[tuple]]:
    """Each table's columns as ``PRAGMA table_xinfo`` reports them, sorted by name (a column
    re-added by a rollback comes back at the end)."""
    conn = sqlite3.connect(path_db)
    try:
        names = _sqlite_tables(conn)
        return {n: sorted(tuple(r[1:]) for r in conn.execute(f'PRAGMA table_xinfo("{n}")'))
                + sorted(tuple(r[2:]) for r in conn.execute(f'PRAGMA foreign_key_list("{n}")'))
                for n in names}
    finally:
        conn.close()


def sqlite_rows(path_db: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(path_db)
    try:
        names = _sqlite_tables(conn)
        result = {}
        for n in names:
            cur = conn.execute(f'SELECT * FROM "{n}"')
            cols = [d[0] for d in cur.description]
            result[n] = sorted(json.dumps(dict(zip(cols, r)), sort_keys=True) for r in cur)
        return result
    finally:
        conn.close()


def sqlite_state(path_db: Path) -> dict:
    """What two SQLite databases must share to be "the same" here: every object but tables
    (as stored), each table's columns (name-sorted) and every row (key-sorted)."""
    objects = [o for o in sqlite_schema(path_db) if o[0] != "table"]
    return {"objects": objects, "columns": sqlite_columns(path_db), "rows": sqlite_rows(path_db)}
