"""SQLite: the guide's development database and the demo's engine.

What differs from the default:
- Python's sqlite3 driver does not wrap DDL in a transaction; we switch its own transaction
  handling off and emit ``BEGIN`` ourselves, so a migration's DDL and its history row commit or
  roll back together (SQLite's DDL is fully transactional).
- Backups use the sqlite3 online backup API (consistent while the application writes); never a
  file copy of a live database.
- "One runbook at a time" is an exclusive ``flock`` on ``<database>.runbook.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy import event

from ..errors import BadInput, LockBusy, RunFailed
from .. import faults, sqlitepages
from ..owner import is_dead_owner, owner_tag
from .base import WRITE_TRANSACTION, Engine, ReferentialAction, sha256_file, stored_default

if TYPE_CHECKING:
    from ..target import Target


#: pages read (and hashed) at once by ``content_pages``, where a table's pages follow each other
PAGES_READ_AT_ONCE = 256
#: rows per fingerprint chunk (one string of their text each)
FINGERPRINT_CHUNK = 10_000
#: a live database in rollback-journal mode at least this large is read from a copy (``live_snapshot``)
SNAPSHOT_COPY_FROM = 32 * 2**20
_SNAPSHOT_TAG = "_snapshot_"  # ".<db stem>_snapshot_<owner tag>_<hex>.db": a live_snapshot copy
#: database files the runbook made and reads alone (``live_snapshot`` and ``scratch_copy`` copies,
#: backups): the only ones ``content_pages`` opens in this process beside SQLite (see ``sqlitepages``).
_READ_ALONE: set[Path] = set()


def db_path(target: "Target") -> Path:
    return Path(target.url.database or "")


def read_only(path: str | Path, **kwargs: Any) -> sqlite3.Connection:
    """Open an existing database file read-only. The path goes in as a ``file:`` URI, escaped, so a
    ``#`` or ``?`` in it cannot cut it short (and silently create another, empty file)."""
    return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, **kwargs)


def _online_copy(src: sqlite3.Connection, dest: Path) -> None:
    """Copy the database open on ``src`` into ``dest`` with the online backup API, in one step (one
    read snapshot of the source); ``dest`` is created private (0600) when it does not exist."""
    os.close(os.open(dest, os.O_WRONLY | os.O_CREAT, 0o600))
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        dst.close()


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: a trigger's body, its event (the first in the text after its name), and its end
_BEGIN = re.compile(r"\bBEGIN\b", re.I)
_EVENT = re.compile(r"\b(DELETE|INSERT|UPDATE)\b", re.I)
_END = re.compile(r"\bEND\s*;?\s*$", re.I)


class SQLiteEngine(Engine):
    name = "sqlite"
    sqlglot_dialect = "sqlite"
    variant_suffix = "sqlite"
    serverless = True
    late_foreign_keys = True  # a REFERENCES target is looked up when a row is written
    names_ignore_case = True  # ``book`` and "BOOK" are one table

    def normalize_url(self, url: sa.URL) -> sa.URL:
        """Absolute file path: notebooks run in another working directory than the CLI."""
        database = url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            database = str(Path(database).expanduser().resolve())
        return url.set(drivername="sqlite", database=database)

    def target_name(self, url: sa.URL) -> str:
        return Path(url.database or "sqlite").stem

    def check_exists(self, target: "Target") -> None:
        path = target.url.database
        if not path or path == ":memory:":
            raise BadInput("an SQLite target must be a database file (sqlite:///path/to/file.db)")
        p = Path(path)
        if not p.is_file():
            raise BadInput(
                f"SQLite database file not found: {p} (the runbook never creates an empty database; "
                "`runbook demo` builds the demo one)"
            )
        with open(p, "rb") as f:
            head = f.read(16)
        if head and head != b"SQLite format 3\x00":
            raise BadInput(f"not an SQLite database file: {p}")
        try:  # a write lock held by someone (BEGIN EXCLUSIVE) is said now, not as a traceback later
            conn = read_only(p, timeout=min(target.lock_timeout_s, 30.0))
            try:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            finally:
                conn.close()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                busy = LockBusy(f"{p} is locked by another connection (an exclusive transaction held for more "
                                f"than --lock-timeout {target.lock_timeout_s:g} s); nothing was run")
                busy.exit_code = 2
                raise busy from None
            raise BadInput(f"cannot read the SQLite database {p}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise BadInput(f"cannot read the SQLite database {p}: {exc}") from None

    def create_engine(self, target: "Target") -> sa.Engine:
        engine = sa.create_engine(
            target.url,
            connect_args={"timeout": target.lock_timeout_s},
            poolclass=sa.pool.NullPool,
        )

        @event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we say BEGIN ourselves, DDL included

        @event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            # a transaction that will write (WRITE_TRANSACTION) takes the write lock first, waiting
            # for the application's writers: one that read first could not wait for it (SQLite
            # answers "database is locked" at once rather than risk a deadlock)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_TRANSACTION) else "BEGIN")

        return engine

    # -- SQL ---------------------------------------------------------------------------------
    def explain(self, conn: sa.Connection, sql: str) -> list[str]:
        # An EXPLAIN is never re-prepared after a schema change, and Python's sqlite3 caches
        # prepared statements by their text: naming the schema version in the text makes a plan
        # explained before a DROP/CREATE INDEX (even in the same transaction) be explained again.
        version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql} /* schema version {int(version)} */").fetchall()
        return [row[-1] for row in rows]

    @contextlib.contextmanager
    def live_snapshot(self, target: "Target", reading: Collection[str] | Callable[[], Collection[str]] | None = None
                      ) -> Iterator[sa.Connection]:
        """In rollback-journal mode a reader holds a SHARED lock for its whole transaction, and
        no writer can commit until it ends: seconds of hashing a large table would stop the
        application's writes for as long. So a database of ``SNAPSHOT_COPY_FROM`` bytes or more
        is first copied with the online backup API (one consistent snapshot; the lock is held
        only while its pages are copied) and read there. The copy is a copy of production data:
        it lives beside the database (never in the system's temporary folder), private (0600),
        named with the owner tag, deleted after; a dead run's copy is removed by the next run
        (``remove_leftovers``). WAL mode (readers never block writers) and small files are read
        in place, and so is a large file when the tables the caller will hash row by row
        (``reading``, or what it returns, asked only for such a file) are small together:
        copying the whole file would hold the lock longer than its reads (counting rows and
        digesting stored pages read less than a copy reads and writes)."""
        path = db_path(target)
        in_place = _wal_mode(path) or path.stat().st_size < SNAPSHOT_COPY_FROM  # before any connection
        if not in_place and reading is not None:
            in_place = self._stored_bytes(target, reading() if callable(reading) else reading) < SNAPSHOT_COPY_FROM
        if in_place:
            with self.read_snapshot(target) as conn:
                yield conn
            return
        copy = path.with_name(f".{path.stem}{_SNAPSHOT_TAG}{owner_tag()}_{secrets.token_hex(3)}.db")
        try:
            src = read_only(path, timeout=target.lock_timeout_s)
            try:
                _online_copy(src, copy)  # in one step: one read snapshot of the source
            finally:
                src.close()
            faults.barrier("live-snapshot-copied")
            snapshot = target.with_database(str(copy))
            _READ_ALONE.add(copy.resolve())
            try:
                with self.read_snapshot(snapshot) as conn:
                    yield conn
            finally:
                snapshot.dispose()
        finally:
            _READ_ALONE.discard(copy.resolve())
            for leftover in (copy, copy.with_name(copy.name + "-journal")):
                leftover.unlink(missing_ok=True)

    def _stored_bytes(self, target: "Target", tables: Collection[str]) -> int:
        """The bytes ``tables`` take in the file (``dbstat``: their b-trees' pages, not their
        indexes'); a table that is not there takes none. Without ``dbstat``, the whole file's."""
        if not tables:
            return 0
        with self.read_snapshot(target) as conn:
            stored = _dbstat_bytes(conn, tables)
        return db_path(target).stat().st_size if stored is None else stored

    # -- inventory ---------------------------------------------------------------------------
    def database_size(self, conn: sa.Connection) -> int:
        page_count = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        page_size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        return int(page_count) * int(page_size)

    def index_names(self, conn: sa.Connection, name: str) -> set[str]:
        return {row[1] for row in _pragma(conn, "index_list", name)}

    def table_size(self, conn: sa.Connection, table: str) -> int | None:
        return _dbstat_bytes(conn, [table])

    # -- data checks -----------------------------------------------------------------------------
    def row_text_sql(self, columns: list[str], alias: str = "") -> str:
        """``quote(c1)||','||quote(c2)...``: SQLite's own literal of each value (NULL, 1, 1.0, 'x',
        X'00' differ), so a row's text is unambiguous."""
        prefix = f"{quote(alias)}." if alias else ""
        return "||','||".join(f"quote({prefix}{quote(c)})" for c in columns) or "''"

    def digest_parts(self, conn: sa.Connection, table: str, columns: list[str],
                     key: list[str]) -> Iterator[tuple[int, str]]:
        """SQLite has no hash function: each chunk of ``FINGERPRINT_CHUNK`` rows (keyset pages in
        key order) comes back as one string, its rows' text joined by ``group_concat`` in SQL, for
        the caller to hash (one string per chunk, not one Python object per value). A table
        without a key is streamed in order of its row text."""
        text = self.row_text_sql(columns)
        if not key:
            result = conn.execute(sa.text(f"SELECT r FROM (SELECT {text} AS r FROM {quote(table)}) ORDER BY r"),
                                  execution_options={"yield_per": 1000})
            try:
                for part in result.partitions():
                    yield len(part), "\n".join(r[0] for r in part)
            finally:
                result.close()
            return
        keys = ", ".join(quote(k) for k in key)
        after = f"({keys}) > (" + ", ".join(f":a{i}" for i in range(len(key))) + ")"
        upto = f"({keys}) <= (" + ", ".join(f":b{i}" for i in range(len(key))) + ")"
        last: tuple | None = None
        while True:
            params = {f"a{i}": v for i, v in enumerate(last or ())}
            where = f"WHERE {after}" if last is not None else ""
            boundary = conn.execute(sa.text(f"SELECT {keys} FROM {quote(table)} {where} ORDER BY {keys} "
                                            f"LIMIT 1 OFFSET {FINGERPRINT_CHUNK - 1}"), params).first()
            conds = ([after] if last is not None else []) + ([upto] if boundary is not None else [])
            params |= {f"b{i}": v for i, v in enumerate(boundary or ())}
            where = ("WHERE " + " AND ".join(conds)) if conds else ""
            n, joined = conn.execute(sa.text(
                f"SELECT count(*), group_concat(r, char(10)) FROM (SELECT {text} AS r FROM {quote(table)} "
                f"{where} ORDER BY {keys})"), params).one()
            if n:
                yield int(n), joined
            if boundary is None:
                return
            last = tuple(boundary)

    def content_pages(self, conn: sa.Connection, tables: list[str]) -> dict[str, dict[str, Any]] | None:
        """Each table's b-tree pages as stored (``dbstat`` lists them, overflow pages included),
        hashed with their page numbers, read from the database file under the read transaction's
        lock: in rollback-journal mode no writer can change the file while a reader holds it. With
        the table's column layout (``PRAGMA table_xinfo``: position, name, default), which decides
        how those records read. About 0.2 s per million rows against 1.9 s for a fingerprint.
        A live database's file is read by a child process (``sqlitepages``: this one may not open
        it beside SQLite), and only when the tables take ``SNAPSHOT_COPY_FROM`` bytes or more
        together (``None`` below that: hashing their rows costs less than starting the child).
        ``None`` also when this SQLite has no ``dbstat``, or in WAL mode with frames in the log
        (the file alone is not the database then). A table with generated columns gets no digest
        (their values are computed, not stored). Call it in a read transaction only: a
        transaction's own uncommitted writes are not in the file."""
        path = next((Path(r[2]) for r in conn.exec_driver_sql("PRAGMA database_list") if r[1] == "main"), None)
        if path is None or not str(path):
            return None
        wal = path.with_name(path.name + "-wal")  # its mode asked of SQLite: this process may not open the file
        if conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal" and wal.exists() and wal.stat().st_size > 0:
            return None
        page_size = int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
        runs: dict[str, sqlitepages.Runs] = {}
        layouts: dict[str, list[list[Any]]] = {}
        cursor = conn.connection.driver_connection.cursor()  # in the same transaction, rows streamed
        try:
            for t in tables:
                info = cursor.execute(f"PRAGMA table_xinfo({quote(t)})").fetchall()
                if not info or any(r[6] in (2, 3) for r in info):
                    continue
                # dbstat walks the b-tree from its root: the same pages come in the same order
                runs[t] = list(_runs(cursor.execute("SELECT pageno FROM dbstat WHERE name = ?", (t,)),
                                     PAGES_READ_AT_ONCE))
                layouts[t] = [[r[1], r[4]] for r in sorted(info)]
        except sqlite3.OperationalError:  # dbstat is compiled into most builds, not all
            return None
        finally:
            cursor.close()
        if path.resolve() in _READ_ALONE:
            with open(path, "rb", buffering=0) as f:
                digests = {t: sqlitepages.hash_pages(f, page_size, r) for t, r in runs.items()}
        elif sum(count for r in runs.values() for _, count in r) * page_size >= SNAPSHOT_COPY_FROM:
            digests = sqlitepages.hash_in_child(path, page_size, runs)
        else:
            return None
        return {t: {"layout": layouts[t], "sha256": digests[t]} for t in runs}

    def same_pages(self, then: dict[str, Any] | None, now: dict[str, Any] | None) -> bool:
        return bool(then and now and then["sha256"] == now["sha256"]
                    and now["layout"][:len(then["layout"])] == then["layout"])

    def differs_sql(self, a: str, b: str) -> str:
        return f"{a} IS NOT {b}"  # SQLite's null-safe comparison (IS DISTINCT FROM only since 3.39)

    def create_before_copy(self, conn: sa.Connection, name: str, table: str, columns: list[str],
                           key: list[str]) -> set[str]:
        """Columns declared as in the table (same affinity, so values copy unchanged and the key
        index serves joins with the table), keyed like it (an ``INTEGER`` key is the rowid) and
        filled in key order (an ordered append: no separate index build)."""
        declared = {r[1]: r[2] for r in conn.exec_driver_sql(f"PRAGMA main.table_info({quote(table)})")}
        cols = [f"{quote(c)} {declared.get(c) or ''}".rstrip() for c in columns] or ["_none"]
        if key:
            cols.append(f"PRIMARY KEY ({', '.join(quote(k) for k in key)})")
        conn.exec_driver_sql(f"CREATE TEMP TABLE {quote(name)} ({', '.join(cols)})")
        select = ", ".join(quote(c) for c in columns) or "NULL"
        order = f" ORDER BY {', '.join(quote(k) for k in key)}" if key else ""
        conn.exec_driver_sql(f"INSERT INTO temp.{quote(name)} SELECT {select} FROM main.{quote(table)}{order}")
        return set()  # SQLite's values copy as they are

    def column_names(self, conn: sa.Connection) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for table, column in conn.exec_driver_sql(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY m.name, p.cid"):
            out.setdefault(table, []).append(column)
        return out

    def rows_written(self, conn: sa.Connection) -> int | None:
        return int(conn.exec_driver_sql("SELECT total_changes()").scalar_one())  # triggers' rows counted

    def trigger_statements(self, conn: sa.Connection, table: str, events: Collection[str]) -> list[str] | None:
        """The statements of each trigger's body (``sqlite_master``, split by the engine's own
        splitter; SQLite's triggers run nothing else): an ``updated_at`` trigger is an ``UPDATE``
        of its own table there, as triggers cannot change ``NEW`` (it fires no trigger again:
        ``recursive_triggers`` is off)."""
        from ..sqltext import split

        out: list[str] = []
        for name, sql in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? COLLATE NOCASE",
                (table,)).fetchall():
            begin = _BEGIN.search(sql or "")
            head = sql[:begin.start()] if begin else ""
            event = _EVENT.search(head, head.lower().find(str(name).lower()) + len(name))
            if begin is None or event is None:
                return None
            if event.group(1).lower() in events:
                try:
                    out += [st.sql for st in split(_END.sub("", sql[begin.end():]), "sqlite")]
                except BadInput:
                    return None
        return out

    def referential_actions(self, conn: sa.Connection, parents: Collection[str]) -> list[ReferentialAction]:
        """Enforced only where ``PRAGMA foreign_keys`` is on for the session (off by default, and
        a migration cannot turn it on inside its transaction); a foreign key naming no parent
        column refers to the parent's primary key (its n-th column, the key's n-th). A parent is
        named as ``parents`` spells it (SQLite's names ignore case)."""
        spelled = {t.lower(): t for t in parents}
        if not spelled or not conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
            return []
        keys: dict[tuple[str, int], list[Any]] = {}
        for child, fk, parent, column, to, on_update, on_delete in conn.exec_driver_sql(
                "SELECT m.name, f.id, f.\"table\", f.\"from\", coalesce(f.\"to\", k.name), f.on_update, f.on_delete "
                "FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
                "LEFT JOIN pragma_table_info(f.\"table\") k ON f.\"to\" IS NULL AND k.pk = f.seq + 1 "
                f"WHERE m.type = 'table' AND lower(f.\"table\") IN ({', '.join('?' * len(spelled))}) ORDER BY 1, 2, f.seq",
                tuple(spelled)):
            keys.setdefault((child, fk), [spelled[parent.lower()], [], [], on_delete.lower(), on_update.lower()])
            keys[(child, fk)][1].append(column)
            keys[(child, fk)][2].append(to)
        return [ReferentialAction(parent, child, tuple(columns), tuple(referenced),
                                  *[a if a in ("cascade", "set null", "set default") else "none" for a in (on_delete, on_update)],
                                  tuple(columns))
                for (child, _), (parent, columns, referenced, on_delete, on_update) in keys.items()]

    def tables_written_by(self, conn: sa.Connection, sql: str) -> set[str] | None:
        """SQLite's own bytecode for ``sql`` (``EXPLAIN``, never run): the b-trees its ``OpenWrite``
        opcodes open, its triggers' and foreign-key actions' sub-programs included, named by the
        table they belong to (an index's b-tree by its table)."""
        try:
            program = conn.exec_driver_sql(f"EXPLAIN {sql}").fetchall()
        except sa.exc.DBAPIError:  # e.g. a CREATE TABLE explained after it ran
            return None
        pages = {row[3] for row in program if row[1] == "OpenWrite" and row[4] == 0}  # p2: root page; p3 0: main
        if not pages:
            return set()
        owners = dict(conn.exec_driver_sql("SELECT rootpage, tbl_name FROM sqlite_master WHERE rootpage > 0"
                                           ).fetchall())
        return {owners[p] for p in pages if p in owners and not str(owners[p]).startswith("sqlite_")}

    def hold_writers(self, conn: sa.Connection, tables: list[str]) -> None:
        """A write that changes nothing takes the database's RESERVED lock now: no other
        connection can write until this transaction ends (readers go on)."""
        if tables:
            conn.exec_driver_sql(f"DELETE FROM main.{quote(tables[0])} WHERE 0")

    def introspect(self, conn: sa.Connection, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The schema from ``sqlite_master`` and the pragmas (``table_xinfo``, ``index_list``,
        ``index_xinfo``, ``foreign_key_list``): types as declared, defaults as stored, every
        index (expression and partial ones included) with the statement SQLite keeps for it.
        CHECK constraints are read from the stored ``CREATE TABLE`` with sqlglot (SQLite has no
        pragma for them). SQLite's own tables (``sqlite_sequence``, ``sqlite_stat*``) are left out.
        A table in ``known`` (see ``Engine.introspect``) is taken from there, not read again."""
        master = conn.exec_driver_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "ORDER BY type, name").fetchall()
        sql_of = {name: sql for _, name, _, sql in master}
        tables: dict[str, Any] = {}
        for kind, name, _, sql in master:
            if kind == "table" and not (sql or "").upper().startswith("CREATE VIRTUAL"):
                tables[name] = (known or {}).get(name) or _table(conn, name, sql or "", sql_of)
        return {"tables": tables, **_objects_of_master(master)}

    def version_key(self, conn: sa.Connection) -> str:
        return f"sqlite {sqlite3.sqlite_version}"

    def schema_script(self, target: "Target") -> str:
        """The ``CREATE`` statements SQLite keeps (``sqlite_master``): tables first, a table after
        the tables its foreign keys name (SQLite accepts them in any order, PostgreSQL and lint do
        not), then indexes, views and triggers in the order they were made. SQLite's own tables,
        the shadow tables of virtual tables (made by their ``CREATE VIRTUAL TABLE``), indexes
        SQLite made for constraints and the runbook's own tables are left out."""
        from ..migrations import RUNBOOK_TABLES

        conn = sqlite3.connect(f"file:{db_path(target)}?mode=ro", uri=True)
        try:
            shadow = {r[1] for r in conn.execute("PRAGMA table_list") if r[2] == "shadow"}
            rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid").fetchall()
            kept = [r for r in rows if r[1] not in shadow and r[2] not in RUNBOOK_TABLES]
            refers = {name: {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({quote(name)})")} - {name}
                      for kind, name, _, _ in kept if kind == "table"}
        finally:
            conn.close()
        tables, done = [], set()
        while len(tables) < len(refers):  # the first table (in the order made) whose references are made
            ready = [n for n in refers if n not in done and refers[n] & refers.keys() <= done]
            name = ready[0] if ready else next(n for n in refers if n not in done)  # a cycle: as made
            tables.append(name)
            done.add(name)
        sql_of = {name: sql for kind, name, _, sql in kept if kind == "table"}
        out = [sql_of[n] for n in tables]
        out += [sql for kind in ("index", "view", "trigger") for k, _, _, sql in kept if k == kind]
        return "".join(f"{sql.strip()};\n\n" for sql in out)

    # -- safety ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def exclusive_lock(self, target: "Target") -> Iterator[None]:
        """Two ``flock``s, both non-blocking: ``<database>.runbook.lock`` beside the file, and
        ``sqlite-<device>-<inode>.lock`` in ``lock_dir()``, which every path to the same file
        (a hard link, a symlink, another spelling) shares."""
        path = db_path(target)
        st = path.stat()
        with contextlib.ExitStack() as stack:
            for lock_path in (path.with_name(path.name + ".runbook.lock"),
                              lock_dir() / f"sqlite-{st.st_dev}-{st.st_ino}.lock"):
                lock_file = stack.enter_context(open(lock_path, "a"))
                with contextlib.suppress(OSError):
                    os.chmod(lock_path, 0o666)  # another user's runbook must be able to take it too
                try:
                    fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise LockBusy(
                        f"another runbook is already working on {path} (lock {lock_path})"
                    ) from None
                stack.callback(fcntl.flock, lock_file, fcntl.LOCK_UN)
            yield

    # -- backup, restore, scratch copies ----------------------------------------------------
    def remove_leftovers(self, target: "Target") -> list[str]:
        """Remove the ``live_snapshot`` copies dead runs of this host left beside the database."""
        path = db_path(target)
        removed = []
        for copy in sorted(path.parent.glob(f".{path.stem}{_SNAPSHOT_TAG}*")):
            if is_dead_owner(copy.name):
                copy.unlink(missing_ok=True)
                removed.append(str(copy))
        return removed

    def backup_file_name(self, target: "Target", stamp: str) -> str:
        return f"{db_path(target).stem}_backup_{stamp}.db"

    def identity(self, target: "Target") -> dict[str, Any] | None:
        """The database's ``application_id`` (``None``: unset, or the file cannot be read)."""
        try:
            with open(db_path(target), "rb") as f:
                return _identity_of_header(f.read(100))
        except OSError:
            return None

    def ensure_identity(self, target: "Target") -> dict[str, Any] | None:
        """Give the database a random ``application_id`` when it has none (0), so its backups can
        be told from any other database's; an application's own non-zero id is kept. When the
        application keeps the write lock for longer than the lock timeout, the backup goes ahead
        without an identity (its record then names the target by URL, as before identities)."""
        found = self.identity(target)
        if found is not None:
            return found
        deadline = time.monotonic() + target.lock_timeout_s
        while True:
            conn = sqlite3.connect(db_path(target), timeout=0.05, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                if conn.execute("PRAGMA application_id").fetchone()[0] == 0:
                    conn.execute(f"PRAGMA application_id = {secrets.randbelow(2**31 - 2) + 1}")
                conn.execute("COMMIT")
                return self.identity(target)
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    return None
            finally:
                conn.close()
            time.sleep(0.01)

    def backup_facts(self, path: Path) -> dict[str, Any]:
        """What a backup file itself says: its identity and how many tables it holds."""
        with open(path, "rb") as f:
            header = f.read(100)
        if not header.startswith(b"SQLite format 3\x00") or len(header) < 100:
            return {"readable": False, "tables": 0, "identity": None}
        try:
            conn = read_only(path)
            try:
                tables = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%'").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            return {"readable": False, "tables": 0, "identity": _identity_of_header(header)}
        return {"readable": True, "tables": tables, "identity": _identity_of_header(header)}

    def backup(self, target: "Target", dest: Path) -> dict[str, Any]:
        """Copy the database with the online backup API into ``dest``, counting rows in the same
        snapshot."""
        src_path = db_path(target)
        src = read_only(src_path, timeout=target.lock_timeout_s, isolation_level=None)
        try:
            src.execute("BEGIN")  # one read snapshot for the counts and the copy
            counts = _row_counts(src)
            _online_copy(src, dest)
            src.execute("COMMIT")
        finally:
            src.close()
        return {
            "path": str(dest.resolve()),
            "format": "sqlite3 online backup",
            "size_bytes": dest.stat().st_size,
            "tool": f"sqlite {sqlite3.sqlite_version}",
            "source_row_counts": counts,
        }

    def verify_backup_contents(self, path: Path, info: dict[str, Any]) -> list[dict[str, Any]]:
        """``integrity_check`` of the copy, and its row counts equal to the source's (counted in
        the snapshot the backup copied)."""
        checks: list[dict[str, Any]] = []
        copy = read_only(path)
        try:
            integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
            problems = integrity.strip().splitlines()
            checks.append({"check": "integrity_check of the copy", "passed": integrity == "ok",
                           "detail": problems[-1][:200] if problems else ""})
            counts = _row_counts(copy)
        except sqlite3.DatabaseError as exc:  # a damaged file may not even open as a database
            checks.append({"check": "the copy reads as an SQLite database", "passed": False,
                           "detail": str(exc)})
            return checks
        finally:
            copy.close()
        expected = info["source_row_counts"]
        checks.append({"check": "row counts equal the source's", "passed": counts == expected,
                       "detail": f"{sum(counts.values())} rows in {len(counts)} tables"})
        return checks

    def rows_not_in_backup(self, target: "Target", backup_path: Path, record: dict[str, Any] | None,
                           skip_tables: Collection[str] = ()) -> dict[str, Any]:
        """Rows of the target a restore of ``backup_path`` would discard, table by table: rows
        whose values (in the columns both have) are not in the backup's table, and every row of
        a table the backup does not have. Exact: SQLite compares the two files itself
        (``EXCEPT``), the backup attached read-only."""
        lost: dict[str, int] = {}
        conn = read_only(db_path(target), timeout=target.lock_timeout_s)
        try:
            conn.execute("ATTACH DATABASE ? AS runbook_backup", (Path(backup_path).resolve().as_uri() + "?mode=ro",))
            mine = _tables(conn, "main")
            theirs = set(_tables(conn, "runbook_backup"))
            for t in mine:
                if t in skip_tables:
                    continue
                if t not in theirs:
                    n = conn.execute(f"SELECT COUNT(*) FROM main.{quote(t)}").fetchone()[0]
                else:
                    a = _columns(conn, "main", t)
                    b = set(_columns(conn, "runbook_backup", t))
                    common = ", ".join(quote(c) for c in a if c in b)
                    if not common:
                        n = conn.execute(f"SELECT COUNT(*) FROM main.{quote(t)}").fetchone()[0]
                    else:
                        n = conn.execute(
                            f"SELECT COUNT(*) FROM (SELECT {common} FROM main.{quote(t)} "
                            f"EXCEPT SELECT {common} FROM runbook_backup.{quote(t)})").fetchone()[0]
                if n:
                    lost[t] = n
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                raise LockBusy(f"cannot read {db_path(target)} to compare it with the backup: {exc}") from None
            raise
        except sqlite3.DatabaseError:
            return {"rows": None, "tables": {}, "method": "unreadable target (nothing to lose)"}
        finally:
            conn.close()
        return {"rows": sum(lost.values()), "tables": lost,
                "method": "rows of the target not in the backup (EXCEPT on common columns)"}

    def restore(self, target: "Target", backup_path: Path) -> None:
        """Overwrite the target with the backup, through the backup API (atomic for readers).

        ``BadInput`` (target untouched) when the file is not a sound SQLite database;
        ``RunFailed`` when the copy fails (the destination's write transaction rolls back)."""
        if not Path(backup_path).is_file():
            raise BadInput(f"backup file not found: {backup_path}")
        src = read_only(backup_path)
        try:
            try:
                result = src.execute("PRAGMA quick_check").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise BadInput(f"not a readable SQLite database: {backup_path}: {exc}") from None
            if result != "ok":
                raise BadInput(f"{backup_path} fails SQLite's quick_check ({result.splitlines()[0][:200]}); not restoring")
            target.dispose()
            dst = sqlite3.connect(db_path(target), timeout=target.lock_timeout_s)
            try:
                src.backup(dst)
            except sqlite3.Error as exc:
                raise RunFailed(f"restore of {db_path(target)} from {Path(backup_path).name} failed: {exc}") from None
            finally:
                dst.close()
        finally:
            src.close()

    def backup_database(self, target: "Target", backup_path: Path) -> "Target":
        path = Path(backup_path).resolve()
        _READ_ALONE.add(path)  # a backup is never written to
        return target.with_database(str(path))

    @contextlib.contextmanager
    def scratch_copy(self, target: "Target", backup_path: Path) -> Iterator["Target"]:
        """A copy of the backup file beside it (in the backups folder, mode 0600, named with the
        owner tag so the next run removes it if this process dies), deleted on exit."""
        backup_path = Path(backup_path)
        copy = backup_path.with_name(f".{db_path(target).stem}_rehearsal_{owner_tag()}_{secrets.token_hex(3)}.db")
        try:
            fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(backup_path, "rb") as src, os.fdopen(fd, "wb") as dst:
                shutil.copyfileobj(src, dst)  # a closed backup file, not a live database
            scratch = target.with_database(str(copy))
            _READ_ALONE.add(copy.resolve())
            try:
                yield scratch
            finally:
                scratch.dispose()
        finally:
            _READ_ALONE.discard(copy.resolve())
            for leftover in (copy, *(copy.with_name(copy.name + s) for s in ("-journal", "-wal", "-shm", ".runbook.lock"))):
                leftover.unlink(missing_ok=True)

    @contextlib.contextmanager
    def scratch_database(self, target: "Target | None", purpose: str = "scratch") -> Iterator["Target"]:
        """An empty SQLite file in a temporary folder (``target`` only lends its timeouts)."""
        from ..target import open_target

        with tempfile.TemporaryDirectory(prefix=f"runbook-{purpose}-") as tmp:
            path = Path(tmp) / f"{purpose}.db"
            sqlite3.connect(path).close()
            scratch = (target.with_database(str(path)) if target is not None
                       else open_target(sa.URL.create("sqlite", database=str(path))))
            try:
                yield scratch
            finally:
                scratch.dispose()


def lock_dir() -> Path:
    """Where the device+inode lock files live: ``$RUNBOOK_LOCK_DIR``, else a sticky, world-writable
    ``schema-runbook-locks`` folder in the system's temporary folder (lock files hold no data)."""
    folder = Path(os.environ.get("RUNBOOK_LOCK_DIR") or Path(tempfile.gettempdir()) / "schema-runbook-locks")
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o1777)
    return folder


def _dbstat_bytes(conn: sa.Connection, tables: Collection[str]) -> int | None:
    """The bytes the b-trees of ``tables`` take together (``dbstat``: a table that is not there
    takes none); ``None`` when this SQLite has no ``dbstat`` (compiled into most builds, not all)."""
    try:
        return conn.exec_driver_sql(f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN "
                                    f"({', '.join('?' * len(tables))})", tuple(tables)).scalar_one()
    except sa.exc.OperationalError:
        return None


def _runs(rows: Iterable[tuple[int]], most: int) -> Iterator[tuple[int, int]]:
    """``(first page, how many)`` for each run of consecutive page numbers in ``rows`` (in their
    order), at most ``most`` pages long."""
    start = count = 0
    for (page,) in rows:
        if count and page == start + count and count < most:
            count += 1
            continue
        if count:
            yield start, count
        start, count = page, 1
    if count:
        yield start, count


def _wal_mode(path: Path) -> bool:
    """Is the database file in WAL mode (its header's read and write versions are 2)? Reads the
    file itself: only where this process has no SQLite connection to it open (closing the file
    would drop that connection's locks, sqlite.org/howtocorrupt.html 2.2.1); inside a transaction,
    ask ``PRAGMA journal_mode``."""
    with open(path, "rb") as f:
        header = f.read(20)
    return len(header) == 20 and header[18] == 2 and header[19] == 2


def _identity_of_header(header: bytes) -> dict[str, Any] | None:
    """``{"application_id": N}`` from a database file's 100-byte header (``None`` when 0)."""
    if len(header) < 72 or not header.startswith(b"SQLite format 3\x00"):
        return None
    app_id = int.from_bytes(header[68:72], "big", signed=True)
    return {"application_id": app_id} if app_id else None


def _tables(conn: sqlite3.Connection, schema: str) -> list[str]:
    return [r[0] for r in conn.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA {schema}.table_info({quote(table)})")]


_FK_ACTIONS = {"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"}


def _sha256(text: str | None) -> str:
    return hashlib.sha256((text or "").encode()).hexdigest()


def _pragma(conn: sa.Connection, pragma: str, name: str) -> list[Any]:
    return conn.exec_driver_sql(f"PRAGMA {pragma}({quote(name)})").fetchall()


def _table(conn: sa.Connection, table: str, sql: str, sql_of: dict[str, str | None]) -> dict[str, Any]:
    """One table of the schema model (see ``runbook.schema``)."""
    xinfo = _pragma(conn, "table_xinfo", table)  # cid, name, type, notnull, dflt_value, pk, hidden
    pk = [r[1] for r in sorted((r for r in xinfo if r[5]), key=lambda r: r[5])]
    columns = [{"name": r[1], "type": r[2], "nullable": not r[3], "default": stored_default(r[4]), "primary_key": bool(r[5]),
                "identity": None, "generated": {2: "virtual", 3: "stored"}.get(r[6])}
               for r in xinfo if r[6] != 1]
    indexes = []
    for _, name, unique, origin, partial in _pragma(conn, "index_list", table):
        keys = [r for r in _pragma(conn, "index_xinfo", name) if r[5]]  # seqno, cid, name, desc, coll, key
        cols = [r[2] if r[1] >= 0 else ("rowid" if r[1] == -1 else "<expression>") for r in keys]
        indexes.append({"name": name, "columns": cols, "unique": bool(unique),
                        "constraint": {"u": "unique", "pk": "primary key"}.get(origin),
                        "definition": sql_of.get(name)})
    fks: dict[int, dict[str, Any]] = {}
    for fid, _, ref, col, to, on_update, on_delete, _match in _pragma(conn, "foreign_key_list", table):
        fk = fks.setdefault(fid, {"name": None, "columns": [], "referred_table": ref, "referred_columns": [],
                                  "on_update": on_update, "on_delete": on_delete})
        fk["columns"].append(col)
        fk["referred_columns"].append(to)
    for fk in fks.values():  # REFERENCES t without columns: t's primary key
        if None in fk["referred_columns"]:
            ref_pk = [r[1] for r in sorted((r for r in _pragma(conn, "table_info", fk["referred_table"]) if r[5]),
                                           key=lambda r: r[5])]
            fk["referred_columns"] = ref_pk or fk["referred_columns"]
    return {
        "columns": columns,
        "primary_key": {"name": None, "columns": pk} if pk else None,
        "indexes": sorted(indexes, key=lambda i: i["name"]),
        "foreign_keys": sorted(fks.values(), key=lambda f: (f["columns"], f["referred_table"])),
        "checks": _checks(sql),
    }


def _objects_of_master(master: Iterable[Any]) -> dict[str, Any]:
    """The schema model's sections besides tables (views, triggers; SQLite has no types,
    sequences, functions or extensions), from ``sqlite_master`` rows (type, name, tbl_name, sql)."""
    master = list(master)
    return {
        "views": {name: {"materialized": False, "definition": sql}
                  for kind, name, _, sql in master if kind == "view"},
        "types": {}, "sequences": {}, "functions": {}, "extensions": {},
        "triggers": {f"{name} on {table}": {"table": table, "sha256": _sha256(sql)}
                     for kind, name, table, sql in master if kind == "trigger"},
    }


def _checks(sql: str) -> list[dict[str, Any]]:
    """CHECK constraints of a stored ``CREATE TABLE`` (read with sqlglot: SQLite has no pragma)."""
    return [dict(c) for c in _parsed_checks(sql)]  # fresh dicts: the caller's to change


@functools.lru_cache(maxsize=256)
def _parsed_checks(sql: str) -> tuple[dict[str, Any], ...]:
    """``_checks`` of one statement, parsed once per process (a run introspects the same tables
    on the target, its backup and the rehearsal copy, before and after)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return ({"name": None, "definition": f"unread (sha256 {_sha256(sql)[:16]} of the table's statement)"},)
    out = []
    for node in tree.find_all(exp.CheckColumnConstraint, exp.Check):
        parent = node.parent
        name = parent.name if isinstance(parent, exp.Constraint) else None
        if isinstance(parent, exp.ColumnConstraint) and isinstance(parent.args.get("this"), exp.Identifier):
            name = parent.args["this"].name
        out.append({"name": name or None, "definition": f"CHECK ({node.this.sql(dialect='sqlite')})"})
    return tuple(sorted(out, key=lambda c: (c["name"] or "", c["definition"])))


def _row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {t: conn.execute(f"SELECT COUNT(*) FROM {quote(t)}").fetchone()[0] for t in tables}


__all__ = ["SQLiteEngine", "sha256_file", "quote", "db_path"]
