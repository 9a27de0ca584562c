"""PostgreSQL: the guide's production engine.

What differs from the default:
- Connections carry ``lock_timeout`` and ``statement_timeout`` so a migration that waits behind
  the application's locks gives up instead of stalling the application. An engine keeps one
  session between uses, reset when given back (``DISCARD ALL``, write counters flushed).
- Migrations are written once in SQLite's dialect (the guide's) and translated here with sqlglot;
  ``PRAGMA table_info(t)`` becomes the equivalent information_schema query, other PRAGMAs are
  skipped with a note. A ``NNN_name.postgresql.sql`` file beside a migration wins over translation.
- ``CREATE INDEX CONCURRENTLY`` (and the like) cannot run inside a transaction block. The rule:
  such a statement must be alone in its migration, or beside only others this module can undo
  (``undoable_outside_transaction``: creating, dropping or rebuilding indexes concurrently;
  ``migrate.prepare`` refuses anything else); they run in autocommit and the history row is
  written right after the last succeeded. When one fails, PostgreSQL may leave an INVALID index
  behind; ``after_failed_outside_transaction`` drops it, and the ones before it are undone,
  newest first (``undo_outside_transaction``: an index made is dropped, one dropped is made again
  from its ``pg_get_indexdef`` read just before, made ``CONCURRENTLY`` by pglast), so a failed
  migration still leaves nothing changed; a clean-up or undo that fails is named in the error
  with the SQL to finish it by hand. (``REINDEX CONCURRENTLY`` leftovers named ``*_ccnew`` are not
  cleaned up: write that by hand if you ever need it in a migration.)
- One runbook at a time per database: ``pg_try_advisory_lock`` on a dedicated session, keyed by
  ``schema-runbook`` + the database name; a second run fails at once naming the pid holding it.
- The preflight lists other sessions in the database that hold locks on the tables the pending
  migrations touch in a transaction open longer than the lock timeout (the application's short
  transactions are not blockers), and transactions open longer than ``LONG_TRANSACTION_S``;
  never their SQL.
- Backups are ``pg_dump -Fc`` taken from the snapshot the row counts were read in
  (``pg_export_snapshot()`` + ``pg_dump --snapshot``), checked with ``pg_restore --list``.
  pg_dump, pg_restore and psql get the connection from the target URL (which never holds a
  password) and the password only through the inherited environment (``PGPASSWORD`` or
  ``~/.pgpass``), never on a command line.
- Restore replaces every table, view and sequence of the target with the backup's in one
  transaction: it first drops all of them (so none created after the backup survives), under
  ``lock_timeout``, then ``pg_restore --clean --if-exists`` is streamed into
  ``psql --single-transaction``; if anything fails, or the archive turns out truncated half-way,
  nothing is committed. Owners come back as they were backed up (no ``--no-owner``: a role that
  may drop the tables may give them back). Objects of other kinds created after the backup
  (functions, types) are left in place.
- Scratch databases (rehearsals, lint, verify's replay, the rollback check) are
  ``<db>_<purpose>_<random>`` on the same server, always dropped ``WITH (FORCE)``; the runbook's
  role needs ``CREATEDB`` for them. What belongs to the whole server (roles, memberships, role
  and database settings, other databases, tablespaces, the configuration file, other sessions)
  comes out of a scratch run as it went in; on the target the same statements run as written
  (lint's ``cluster-wide`` warns of them). Three layers:

  1. Read by PostgreSQL's parser, top level (``leave_server_objects``, ``pgtext.scratch_form``),
     each statement is, per kind: *skipped with a note* where nothing after it can depend on it
     on the scratch database: ``ALTER SYSTEM``; ``ALTER``/``DROP ROLE``, ``GRANT``/``REVOKE``
     role membership, ``ALTER ROLE ... SET`` (also ``ALL``, ``CURRENT_USER``), ``COMMENT ON`` /
     ``SECURITY LABEL ON ROLE`` of a role the server has (a replay from empty also skips creating
     one: the migrations made it there; the rehearsal runs that, and fails as the target will);
     any statement on a tablespace the server has (``DROP``, ``ALTER``, ``COMMENT``, ``GRANT``);
     ``CREATE DATABASE`` and any change of another database; of the target's own database,
     ``OWNER TO``, ``WITH`` options, ``REFRESH COLLATION VERSION`` (a scratch database cannot
     stand in for those exactly: it must stay the runbook's to be dropped); a ``SELECT`` that only
     calls a whole-server function (``pgtext.SERVER_FUNCTIONS``: ``pg_terminate_backend``,
     ``pg_reload_conf``, ...: no rollback undoes them). *Run on the scratch database instead*,
     where that is exact (the statement changes the database the migration runs in):
     ``ALTER DATABASE <target> SET``/``RESET``/``RENAME`` (PostgreSQL then refuses to rename the
     current database there as on the target), ``DROP DATABASE <target>`` (likewise refused),
     ``COMMENT ON``/``SECURITY LABEL ON``/``GRANT ... ON DATABASE <target>``. *Refused before
     anything runs* (``NotOnScratch``) where skipping would make the scratch run lie:
     ``CREATE TABLESPACE`` of a tablespace the server lacks (what follows would be put there;
     and it is not undone by a rollback), and a whole-server function called by a statement that
     does other work (or in a ``DO`` block). A skipped statement is not run, so it is not checked
     to run either.
  2. What no parser reads (``EXECUTE``, a function's body, a procedure) or a statement does
     beyond its text (``GRANT a TO b, c`` with ``c`` new): every writable transaction on a
     scratch database reads the shared catalogs (``_SERVER_ROWS``: ``pg_authid`` or ``pg_roles``,
     ``pg_auth_members``, ``pg_db_role_setting``, ``pg_database`` rows but the scratch's own,
     ``pg_tablespace``, ``pg_shdescription``, ``pg_shseclabel``) when it begins and again after
     each script, before its commit (``after_script``, ``_ServerWatch``). They are transactional:
     a change this transaction made (its row versions' ``xmin``; a row it removed is one other
     sessions still see; another session's change committed meanwhile is its own) that no role
     the scratch run created accounts for raises
     ``ServerChanged`` (the migration fails naming each change) and the transaction rolls back:
     the server is exactly as before. The static statements of a ``DO`` block are left to this
     check too (a branch may not run). What no rollback undoes (a whole-server function called
     through ``EXECUTE`` or a function's body) is not seen; nor a password change when the role
     cannot read ``pg_authid``.
  3. Roles: each role the statements create (by name, read by PostgreSQL's parser, also in a
     ``DO`` block's statements; or through code, seen by layer 2) that did not exist when the
     scratch database was made is dropped after it, with its memberships, settings and comments;
     one that cannot be (a privilege on a database granted by SQL the runbook did not run)
     fails the scratch run (``LeftOnServer``) naming it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterator

import sqlalchemy as sa
import sqlglot
from sqlglot import exp
from sqlglot.dialects import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from ..errors import (BadInput, LeftOnServer, LockBusy, LockLost, NotOnScratch, RunFailed, ServerChanged, db_error_line,
                      redact)
from ..owner import is_dead_owner, owner_tag
from ..sqltext import parse, split
from ..target import mask
from .base import Engine, ReferentialAction, ServerObjects, stored_default

if TYPE_CHECKING:
    from ..sqltext import Statement
    from ..target import Target

#: a transaction open longer than this (seconds) makes the preflight stop the migration
LONG_TRANSACTION_S = 60.0
#: a session holding locks on the migration's tables blocks it only when its transaction has been
#: open at least this long, and at least the run's lock timeout (a shorter one is traffic)
MIN_BLOCKER_AGE_S = 1.0
#: the pid and start time of the session holding this run's advisory lock, for ``check_lock``
LOCK_SESSION_ENV = "RUNBOOK_LOCK_SESSION"
#: the advisory lock's namespace: the key is derived from this and the database name
LOCK_NAMESPACE = "schema-runbook"
#: Debian's (and Ubuntu's) postgresql-common layout: each installed major version's client tools
#: in ``<major>/bin``; the names on PATH are ``pg_wrapper``, which picks one of them (see ``_tool``)
DEBIAN_CLIENTS = Path("/usr/lib/postgresql")


TABLE_INFO_SQL = (
    "SELECT ordinal_position - 1 AS cid, column_name AS name, data_type AS type, "
    "CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS notnull, column_default AS dflt_value "
    "FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' "
    "ORDER BY ordinal_position"
)


class PostgresEngine(Engine):
    name = "postgresql"
    sqlglot_dialect = "postgres"
    variant_suffix = "postgresql"
    translates_from = ("sqlite",)  # the guide's dialect, translated by sqlglot (``translate``)
    supports_concurrent_index = True
    lock_timeout_matters = True
    digest_counts_rows = True  # one query: count(*) and the sum of the rows' hashes
    row_digest = "hashtextextended"  # until 2026-11-27: md5's first 64 bits (recorded as no digest)
    read_only_options = {"postgresql_readonly": True}  # ``rolled_back``: verify scripts run READ ONLY

    # -- target & connection -------------------------------------------------------------
    def normalize_url(self, url: sa.URL) -> sa.URL:
        """The psycopg URL; ``BadInput`` when it names no database: psycopg would then connect to
        the database named after the user (or ``PGDATABASE``) while the client tools and the
        advisory lock key need the name spelled out, so a restore could hit another database."""
        shown = url.render_as_string(hide_password=True)
        if not url.database:
            raise BadInput(f"no database in {shown}: name the database: postgresql://user@host:port/DBNAME")
        if any(c in url.database for c in '"/\0'):
            raise BadInput(f"database name {url.database!r} in {shown} holds a character the runbook refuses "
                           "(\", / or NUL): rename the database or connect through a name without them")
        return url.set(drivername="postgresql+psycopg")

    def target_name(self, url: sa.URL) -> str:
        return url.database or url.username or "postgres"

    def check_exists(self, target: "Target") -> None:
        try:
            with target.engine().connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.OperationalError as exc:
            raise connect_error(target, exc) from None

    def create_engine(self, target: "Target") -> sa.Engine:
        options = (
            f"-c lock_timeout={int(target.lock_timeout_s * 1000)} "
            f"-c statement_timeout={int(target.statement_timeout_s * 1000)}"
        )
        # One idle session kept per engine (more at once are closed when given back): a run's
        # steps connect dozens of times, each new session costing the client and the server a
        # few ms of CPU. Pinged before reuse (a session ended meanwhile is replaced), reset
        # when given back (``_fresh_session``), which also drops prepared statements: psycopg's own
        # (a query run 5 times) are turned off, as psycopg would not know they are gone.
        engine = sa.create_engine(
            target.url,
            connect_args={"options": options, "application_name": "schema-runbook", "connect_timeout": 10,
                          "prepare_threshold": None},
            pool_size=1, max_overflow=-1, pool_pre_ping=True,
        )
        sa.event.listen(engine, "checkin", _fresh_session)
        return engine

    # -- SQL ---------------------------------------------------------------------------------
    def translate(self, statement: "Statement", source_dialect: str) -> list[str]:
        if source_dialect == self.sqlglot_dialect:
            return [statement.sql]
        return list(_translated(statement.sql, source_dialect))

    def run_sql(self, conn: sa.Connection, sql: str) -> sa.CursorResult:
        # psycopg reads % as a placeholder even with no parameters; %% is a literal %
        return conn.exec_driver_sql(sql.replace("%", "%%"))

    def runs_outside_transaction(self, sql: str) -> bool:
        """CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY,
        VACUUM, CLUSTER (all tables), CREATE/DROP DATABASE or TABLESPACE, ALTER SYSTEM."""
        words = [w for w in _keywords(sql) if w != ";"]
        head = words[:2]
        if not words:
            return False
        if head in (["CREATE", "INDEX"], ["CREATE", "UNIQUE"], ["DROP", "INDEX"]):
            return "CONCURRENTLY" in words[:4]
        if words[0] == "REINDEX":
            return "CONCURRENTLY" in words or words[1:2] in (["DATABASE"], ["SYSTEM"])
        if head == ["ALTER", "TABLE"]:
            return "DETACH" in words and words[-1] == "CONCURRENTLY"
        if words[0] == "CLUSTER":
            return words[1:] in ([], ["VERBOSE"])
        return (words[0] == "VACUUM"
                or head in (["CREATE", "DATABASE"], ["DROP", "DATABASE"], ["CREATE", "TABLESPACE"],
                            ["DROP", "TABLESPACE"], ["ALTER", "SYSTEM"]))

    def server_objects(self, target: "Target") -> ServerObjects:
        """The server's roles, tablespaces and databases (they belong to the server, not to a
        database) and the target's database, in one query."""
        with target.engine().connect() as conn:
            roles, tablespaces, databases, database = conn.exec_driver_sql(
                "SELECT ARRAY(SELECT rolname FROM pg_roles), ARRAY(SELECT spcname FROM pg_tablespace), "
                "ARRAY(SELECT datname FROM pg_database), current_database()").one()
        return ServerObjects(frozenset(roles), frozenset(tablespaces), frozenset(databases), database)

    def leave_server_objects(self, prepared: list, existing: ServerObjects, scratch: str, *,
                             create: bool = True) -> list:
        """Each statement as it runs on the scratch database (``pgtext.scratch_form``): one that
        only creates (with ``create``), alters, drops or grants roles the server has, or changes
        its tablespaces, other databases or configuration, is skipped with a note; one naming the
        target's database is run on the scratch database instead where that is exact; a creating
        ``CREATE TABLESPACE`` or a whole-server function called beside other work is
        ``NotOnScratch``. A change no parser sees is caught by the shared-catalog check
        (``after_script``)."""
        from dataclasses import replace

        from ..pgtext import scratch_form

        out = []
        for p in prepared:
            forms = []
            for sql in p.sql:
                try:
                    forms.append(scratch_form(sql, existing.roles, existing.tablespaces, existing.databases,
                                              existing.database, scratch, create=create))
                except NotOnScratch as exc:
                    raise NotOnScratch(f"statement {p.statement.index} (line {p.statement.line}): {exc}; nothing "
                                       "was run") from None
            if any(note for _, note in forms):
                notes = [note for _, note in forms if note]
                p = replace(p, sql=[sql for sql, _ in forms if sql is not None], note="; ".join(notes))
            out.append(p)
        return out

    def after_script(self, conn: sa.Connection) -> None:
        """``RESET search_path``: a migration may ``SET search_path`` (or ``SET LOCAL``, or call
        ``set_config``) for its own unqualified names; the runbook's statements after it (its
        history table, the data check's ``public`` tables) mean what they meant before it. The
        migration's objects are already made: their schema was decided as each statement ran.

        On a scratch database, then, the server's shared catalogs are read again in the same
        transaction (``_ServerWatch``): ``ServerChanged`` when the script changed them beyond the
        roles the scratch run created (the caller's transaction rolls back)."""
        conn.exec_driver_sql("RESET search_path")
        watch = conn.info.get(_ServerWatch.KEY)
        if watch is not None:
            watch.check(conn)

    def after_failed_outside_transaction(self, conn: sa.Connection, prepared: list) -> list[str]:
        """Drop the INVALID index a failed ``CREATE INDEX CONCURRENTLY`` left behind; says so.

        ``conn`` is the autocommit connection the statement failed on. Only an index named by
        the failed statement is dropped, and only when it is invalid (never a working index)."""
        dropped = []
        for p in prepared:
            for sql in p.sql:
                tree = _parse_postgres(sql)
                if not (isinstance(tree, exp.Create) and tree.args.get("kind") == "INDEX"
                        and tree.args.get("concurrently") and isinstance(tree.this, exp.Index)):
                    continue
                name = tree.this.args.get("this")
                table = tree.this.args.get("table")
                if not isinstance(name, exp.Identifier):
                    continue  # an unnamed index: PostgreSQL picked the name; we cannot know it
                schema = table.db if isinstance(table, exp.Table) and table.db else None
                row = conn.execute(sa.text(
                    "SELECT n.nspname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE NOT i.indisvalid AND c.relname = :name "
                    "AND n.nspname = COALESCE(CAST(:schema AS text), current_schema())"),
                    {"name": name.name, "schema": schema}).first()
                if row is not None:
                    index = f"{_ident(row[0])}.{_ident(name.name)}"
                    conn.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {index}")
                    dropped.append(f"the INVALID index {index} it left was dropped")
        return dropped

    def undoable_outside_transaction(self, sql: str) -> bool:
        """What can share a migration with a statement that runs outside a transaction, each in
        autocommit (goose's ``NO TRANSACTION`` files), because it can be undone exactly once it
        succeeded: ``CREATE [UNIQUE] INDEX [CONCURRENTLY]``, ``CREATE TABLE``, ``CREATE TYPE ... AS
        ENUM`` and ``ALTER TABLE`` adding only columns and constraints (undone by dropping what the
        catalog shows they made), ``DROP INDEX CONCURRENTLY`` (by making the index again from its
        definition, read before: its comment and statistics target are not kept) and ``REINDEX ...
        CONCURRENTLY`` (nothing to undo)."""
        from pglast import ast
        from pglast.enums import AlterTableType, ObjectType

        from ..pgtext import tree

        node = tree(sql)
        if isinstance(node, (ast.IndexStmt, ast.CreateStmt, ast.CreateEnumStmt)):
            return True
        if isinstance(node, ast.AlterTableStmt):
            return node.objtype == ObjectType.OBJECT_TABLE and all(
                c.subtype in (AlterTableType.AT_AddConstraint, AlterTableType.AT_AddColumn) for c in node.cmds)
        if isinstance(node, ast.DropStmt):
            return node.removeType == ObjectType.OBJECT_INDEX and bool(node.concurrent) and len(node.objects) == 1
        if isinstance(node, ast.ReindexStmt):
            return any(getattr(o, "defname", "") == "concurrently" for o in node.params or ())
        return False

    def undo_outside_transaction(self, conn: sa.Connection, sql: str) -> Callable[[], list[str]]:
        """What a statement made is what the catalog holds after it and did not before (the undo
        statement of each object of its kinds, read before and after: an index PostgreSQL named
        is found too); a dropped index is made again from the definition read before."""
        from pglast import ast

        from ..pgtext import tree

        node = tree(sql)
        if isinstance(node, ast.DropStmt):
            (parts,) = node.objects
            definition = conn.execute(sa.text("SELECT pg_get_indexdef(to_regclass(:name))"),
                                      {"name": ".".join(_ident(p.sval) for p in parts)}).scalar()
            again = [] if definition is None else [_concurrently(definition)]
            return lambda: again
        if isinstance(node, (ast.IndexStmt, ast.CreateStmt, ast.AlterTableStmt)):
            rv = node.relation
            name, kinds = ".".join(_ident(n) for n in filter(None, (rv.schemaname, rv.relname))), (
                ("index",) if isinstance(node, ast.IndexStmt) else ("table",) if isinstance(node, ast.CreateStmt)
                else ("constraint", "column"))
        elif isinstance(node, ast.CreateEnumStmt):
            name, kinds = ".".join(_ident(n.sval) for n in node.typeName), ("type",)
        else:
            return lambda: []

        def undos() -> list[str]:
            return [u for kind in kinds for u in conn.execute(sa.text(_UNDO_OF[kind]), {"name": name}).scalars()]

        before = set(undos())
        return lambda: [u for u in undos() if u not in before]

    def set_local_lock_timeout(self, conn: sa.Connection, ms: int) -> None:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {max(1, int(ms))}")

    def lock_timed_out(self, exc: sa.exc.DBAPIError) -> bool:
        import psycopg  # imported where PostgreSQL is used: a SQLite run never loads the driver

        return isinstance(exc.orig, psycopg.errors.LockNotAvailable)

    def failed_for_sharing_a_transaction(self, exc: BaseException | None) -> bool:
        """An enum value added by ``ALTER TYPE ... ADD VALUE`` cannot be used before its
        transaction commits (``unsafe use of new value``, SQLSTATE 55P04)."""
        import psycopg

        return isinstance(getattr(exc, "orig", None), psycopg.errors.UnsafeNewEnumValueUsage)

    def explain(self, conn: sa.Connection, sql: str) -> list[str]:
        return self._plan(conn, sql)

    def index_usable(self, conn: sa.Connection, sql: str) -> list[str]:
        return self._plan(conn, sql, "enable_seqscan")

    @staticmethod
    def _plan(conn: sa.Connection, sql: str, *off: str) -> list[str]:
        """``EXPLAIN sql`` with JIT and ``off`` (planner settings) turned off in a savepoint
        that is rolled back, which restores them as they were. JIT: a plan whose cost passes
        ``jit_above_cost`` (any plan with ``enable_seqscan`` off and no usable index, a large
        table's scan) loads LLVM into the backend even for a plain EXPLAIN, which prints no
        more than the plan's shape: 0.04–0.08 s of the server's CPU each time, measured."""
        savepoint = conn.begin_nested()
        try:
            settings = ", ".join(f"set_config('{name}', 'off', true)" for name in ("jit", *off))
            conn.exec_driver_sql(f"SELECT {settings}")
            return [row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql)]
        finally:
            savepoint.rollback()

    # -- inventory ---------------------------------------------------------------------------
    def database_size(self, conn: sa.Connection) -> int:
        return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())

    def split_table(self, name: str) -> tuple[str | None, str]:
        schema, dot, rest = name.partition(".")
        return (schema, rest) if dot else (None, name)

    def table_names(self, conn: sa.Connection) -> list[str]:
        """The tables whose rows this database holds (a foreign table's are another server's:
        ``pg_dump`` does not copy them, nothing here counts them), as ``introspect`` names them."""
        return sorted(self.run_sql(
            conn, f"SELECT {_qualified('n.nspname', 'c.relname')} FROM pg_class c "
            f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND {_USER_NAMESPACE} "
            f"AND {_not_extension('pg_class', 'c.oid')}").scalars())

    def column_names(self, conn: sa.Connection) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for table, column in self.run_sql(
                conn, f"SELECT {_qualified('n.nspname', 'c.relname')}, a.attname FROM pg_class c "
                f"JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attribute a ON a.attrelid = c.oid "
                "AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
                f"WHERE c.relkind IN ('r', 'p') AND {_USER_NAMESPACE} AND {_not_extension('pg_class', 'c.oid')} "
                "ORDER BY 1, a.attnum"):
            columns = out.setdefault(table, [])
            if column is not None:  # a table without columns (CREATE TABLE t ()) is listed all the same
                columns.append(column)
        return out

    def referential_actions(self, conn: sa.Connection, parents: Collection[str]) -> list[ReferentialAction]:
        actions = {"c": "cascade", "n": "set null", "d": "set default"}
        sets_column = "k.confdelsetcols" if conn.dialect.server_version_info >= (15,) else "NULL::int2[]"  # SET NULL (cols)
        out = []
        for parent, child, columns, referenced, on_delete, on_update, sets in conn.execute(sa.text(
                f"SELECT {_qualified('pn.nspname', 'p.relname')}, {_qualified('cn.nspname', 'c.relname')}, "
                "ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a "
                "ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i), "
                "ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a "
                "ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i), k.confdeltype, k.confupdtype, "
                f"ARRAY(SELECT a.attname::text FROM unnest({sets_column}) u(n) JOIN pg_attribute a "
                "ON a.attrelid = k.conrelid AND a.attnum = u.n) "
                "FROM pg_constraint k JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace "
                "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace "
                "WHERE k.contype = 'f' AND k.confrelid = ANY(CAST(:parents AS text[])::regclass[])"
        ).bindparams(parents=[self.quote_table(t) for t in parents])):
            out.append(ReferentialAction(parent, child, tuple(columns), tuple(referenced), actions.get(on_delete, "none"),
                                         actions.get(on_update, "none"), tuple(sets) or tuple(columns)))
        return out

    def column_numbers(self, conn: sa.Connection, table: str) -> dict[str, tuple[int, int]] | None:
        return {name: (int(relid), int(number)) for name, relid, number in self.run_sql(
            conn, "SELECT attname, attrelid::bigint, attnum FROM pg_attribute "
                  f"WHERE attrelid = {_literal(self.quote_table(table))}::regclass AND attnum > 0 AND NOT attisdropped")}

    def columns_of_type(self, conn: sa.Connection, name: tuple[str, ...]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        rows = conn.execute(sa.text(
            f"WITH RECURSIVE t(oid) AS (SELECT to_regtype(:name)::oid UNION "
            f"SELECT d.oid FROM pg_type d JOIN t ON d.typbasetype = t.oid WHERE d.typtype = 'd') "
            f"SELECT {_qualified('n.nspname', 'c.relname')}, a.attname FROM pg_attribute a "
            f"JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid IN "
            f"(SELECT oid FROM t UNION SELECT typarray FROM pg_type WHERE oid IN (SELECT oid FROM t)) "
            f"ORDER BY 1, a.attnum"), {"name": ".".join(_ident(p) for p in name)})
        for table, column in rows:
            out.setdefault(table, []).append(column)
        return out

    def write_counters(self, conn: sa.Connection) -> dict[str, int] | None:
        """``pg_stat_xact_user_tables``: the session's counts not yet flushed (they hold earlier
        transactions' too until the session flushes, which never happens inside a transaction,
        so two readings in one transaction differ by its own writes only)."""
        return {t: int(n) for t, n in self.run_sql(
            conn, f"SELECT {_qualified('schemaname', 'relname')}, n_tup_ins + n_tup_upd + n_tup_del "
                  "FROM pg_stat_xact_user_tables WHERE schemaname NOT LIKE 'pg\\_temp%'")}

    def rows_written(self, conn: sa.Connection) -> int | None:
        """The sum of ``write_counters``, read without the view's other columns (half its cost)."""
        return int(self.run_sql(
            conn, "SELECT coalesce(sum(pg_stat_get_xact_tuples_inserted(c.oid) + pg_stat_get_xact_tuples_updated(c.oid) "
                  "+ pg_stat_get_xact_tuples_deleted(c.oid)), 0) FROM pg_class c WHERE c.relkind IN ('r', 'p') "
                  "AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)").scalar())

    def same_definition(self, target: "Target", kind: str, where: str, a: str, b: str) -> bool:
        """PostgreSQL prints what it restored from ``pg_dump`` other than what the statements made
        (``status IN ('a', 'b')`` on a varchar: ``ARRAY['a'::character varying, ...]::text[]``,
        after a restore ``ARRAY['a'::character varying::text, ...]``), in a check, an index's
        predicate or a view; and what it prints once read again is what a restore gives. So both
        texts are made again, on a temporary copy of the table's columns (a temporary view), in a
        transaction rolled back, and compared as the server prints them then. A text the server
        refuses is not the same."""
        if a == b:
            return True
        try:
            with target.engine().connect() as conn:
                with conn.begin() as tx:
                    if kind != "view":
                        self.run_sql(conn, f"CREATE TEMP TABLE runbook_probe (LIKE {self.quote_table(where)}) ON COMMIT DROP")
                    printed = [self._printed_again(conn, kind, text, f"runbook_probe_{n}") for n, text in enumerate((a, b))]
                    tx.rollback()
        except (sa.exc.DBAPIError, ValueError):
            return False
        return printed[0] == printed[1]

    def _printed_again(self, conn: sa.Connection, kind: str, text: str, name: str) -> str:
        """``text`` made again as ``name`` (on ``runbook_probe``) and printed by the server, its
        own name left out."""
        if kind == "check":
            valid = "" if text.rstrip().upper().endswith("NOT VALID") else " NOT VALID"
            self.run_sql(conn, f"ALTER TABLE runbook_probe ADD CONSTRAINT {name} {text}{valid}")
            return self.run_sql(conn, "SELECT pg_get_constraintdef(oid, true) FROM pg_constraint WHERE conrelid = "
                                      f"'runbook_probe'::regclass AND conname = '{name}'").scalar_one()
        if kind == "index":
            from pglast import ast
            from pglast.stream import RawStream

            from ..pgtext import tree

            node = tree(text)
            if not isinstance(node, ast.IndexStmt):
                raise ValueError("not an index definition")
            node = ast.IndexStmt({**node(), "idxname": name,  # a copy: ``tree``'s nodes are shared
                                  "relation": {"@": "RangeVar", "relname": "runbook_probe", "inh": True, "relpersistence": "t"}})
            self.run_sql(conn, RawStream()(node))
            printed = self.run_sql(conn, f"SELECT pg_get_indexdef('pg_temp.{name}'::regclass)").scalar_one()
            unique, rest = printed.startswith("CREATE UNIQUE"), printed.split(" ON ", 1)[-1]
            return ("UNIQUE " if unique else "") + rest.split(" ", 1)[-1]  # "USING btree (...) WHERE ..."
        self.run_sql(conn, f"CREATE TEMP VIEW {name} AS {text.rstrip().rstrip(';')}")
        return self.run_sql(conn, f"SELECT pg_get_viewdef('pg_temp.{name}'::regclass, true)").scalar_one()

    def trigger_statements(self, conn: sa.Connection, table: str, events: Collection[str]) -> list[str] | None:
        """Read from the catalog (``pg_trigger``, the functions' ``prosrc``) and PostgreSQL's
        PL/pgSQL parser (``pgtext.plpgsql_block``): the statements each trigger function runs as
        written, and those of the project's functions it calls (``_called_statements``). The
        engine's own triggers (foreign keys) are not read."""
        bits = sum(_TRIGGER_EVENTS[e] for e in events)
        return self._called_statements(conn, self.run_sql(
            conn, "SELECT l.lanname, p.prosrc, '', 'trigger' FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "JOIN pg_language l ON l.oid = p.prolang "
            f"WHERE t.tgrelid = {_literal(self.quote_table(table))}::regclass AND NOT t.tgisinternal "
            f"AND t.tgenabled IN ('O', 'A') AND t.tgtype & {bits} <> 0").all())

    def _called_statements(self, conn: sa.Connection, functions: list[Any]) -> list[str] | None:
        """The statements ``functions`` ((language, source, arguments, result) rows of ``pg_proc``)
        run as written, and, in turn, those of the project's functions their statements and
        expressions call (``PERFORM audit_row(...)``, ``n := f(x)``): each name looked up in
        ``pg_proc`` outside the engine's schemas and extensions, every overload of it (which one a
        call resolves to is the server's choice: each may run), each name once. ``None`` when one
        of them runs code no parser reads: a language other than PL/pgSQL and SQL, ``EXECUTE``,
        ``CALL``, a body that does not parse. The engine's own functions and extensions' are not
        read (they write no table of the project). A SQL function's body is its ``prosrc``, or its
        SQL-standard body (``BEGIN ATOMIC``, ``RETURN``) as the server prints it."""
        from ..pgtext import called_functions, plpgsql_block, sql_function_statements

        body = "coalesce(pg_get_function_sqlbody(p.oid), p.prosrc)" if conn.dialect.server_version_info >= (14,) else "p.prosrc"
        out: list[str] = []
        seen: set[tuple[str, ...]] = set()
        while functions:
            calls: set[tuple[str, ...]] = set()
            for language, source, arguments, result in functions:
                if language == "plpgsql":
                    block = plpgsql_block(source, result, arguments)
                    if block is None or block.opaque:
                        return None
                    statements, queries = block.statements, block.statements + block.expressions
                elif language == "sql" and (found := sql_function_statements(source)) is not None:
                    statements = queries = found
                else:  # C, PL/Python, ..., or a body that does not parse
                    return None
                out += statements
                calls |= {c for q in queries for c in called_functions(q)} - seen
            seen |= calls
            bare = sorted(c[-1] for c in calls if len(c) == 1)
            qualified = sorted(".".join(c[-2:]) for c in calls if len(c) > 1)
            functions = conn.execute(sa.text(
                f"SELECT l.lanname, {body}, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid) "
                "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang "
                f"WHERE p.prokind = 'f' AND {_USER_NAMESPACE} AND {_not_extension('pg_proc', 'p.oid')} "
                "AND (p.proname = ANY(:bare) OR n.nspname || '.' || p.proname = ANY(:qualified))"
            ).bindparams(bare=bare, qualified=qualified)).all() if calls else []
        return out

    def update_trigger_columns(self, conn: sa.Connection, tables: Collection[str]) -> dict[str, set[str] | None]:
        """The enabled ``BEFORE UPDATE ... FOR EACH ROW`` triggers of ``tables``: the columns of
        ``NEW`` their PL/pgSQL functions assign (``pgtext.new_fields_set``: an ``updated_at``
        trigger sets ``updated_at``), any column for a function in another language or one that
        may hand back another row. Their ``WHEN`` and ``OF column`` conditions are not read: the
        columns are those the trigger may set."""
        from ..pgtext import new_fields_set

        wanted = set(tables)
        out: dict[str, set[str] | None] = {}
        if not wanted:
            return out
        for table, language, source in self.run_sql(
                conn, f"SELECT {_qualified('n.nspname', 'c.relname')}, l.lanname, p.prosrc FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang "
                "WHERE NOT t.tgisinternal AND t.tgenabled IN ('O', 'A') AND t.tgtype & 19 = 19"):  # ROW|BEFORE|UPDATE
            if table not in wanted:
                continue
            fields = new_fields_set(source) if language == "plpgsql" else None
            known = out.get(table, set())
            out[table] = None if fields is None or known is None else known | fields
        return out

    def inheritors(self, conn: sa.Connection, tables: set[str]) -> set[str]:
        """Model names as the catalog spells them: ``"User"``'s partitions are not ``user``'s."""
        children: dict[str, set[str]] = {}
        for child, parent in self.run_sql(
                conn, f"SELECT {_qualified('cn.nspname', 'c.relname')}, {_qualified('pn.nspname', 'p.relname')} "
                "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace "
                "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace"):
            children.setdefault(parent, set()).add(child)
        out: set[str] = set()
        todo = list(tables)
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return out

    def routines(self, conn: sa.Connection) -> dict[str, str]:
        out: dict[str, str] = {}
        kinds = {"p": "procedure", "v": "volatile", "s": "stable", "i": "immutable"}
        for name, kind, volatility in self.run_sql(
                conn, f"SELECT {_qualified('n.nspname', 'p.proname')}, p.prokind, p.provolatile FROM pg_proc p "
                f"JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {_USER_NAMESPACE} "
                f"AND {_not_extension('pg_proc', 'p.oid')} AND p.prokind IN ('f', 'p')"):
            what = kinds["p"] if kind == "p" else kinds.get(volatility, "volatile")
            if out.get(name.lower()) != "volatile":  # overloads: the one that may write decides
                out[name.lower()] = what
        return out

    def index_names(self, conn: sa.Connection, name: str) -> set[str]:
        return set(conn.execute(sa.text(
            "SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
            "WHERE i.indrelid = to_regclass(:t)"), {"t": self.quote_table(name)}).scalars())

    def table_size(self, conn: sa.Connection, table: str) -> int | None:
        return conn.execute(
            sa.text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": self.quote_table(table)}
        ).scalar()

    def introspect(self, conn: sa.Connection, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The schema from the catalogs, in every schema but the system ones (``pg_catalog``,
        ``information_schema``, ``pg_toast*``, ``pg_temp*``), objects of extensions left out.
        Names are ``schema.name``, the ``public`` schema's unqualified. Types are ``format_type``
        (``timestamp with time zone`` stays that), defaults ``pg_get_expr``, indexes
        ``pg_get_indexdef``, constraints ``pg_get_constraintdef``, views ``pg_get_viewdef``;
        functions and triggers are a SHA-256 of ``pg_get_functiondef``/``pg_get_triggerdef``.
        ``known`` is not needed: one query per kind reads every table at once."""
        q = lambda sql: conn.exec_driver_sql(sql.replace("%", "%%")).fetchall()  # noqa: E731
        rels = {r[0]: r[1:] for r in q(_INTROSPECT_RELATIONS)}  # oid -> (name, relkind, definition)
        tables: dict[str, Any] = {}
        attnames: dict[int, dict[int, str]] = {}
        for oid, (name, kind, _) in rels.items():
            if kind in ("r", "p", "f"):
                tables[name] = {"columns": [], "primary_key": None, "indexes": [], "foreign_keys": [], "checks": []}
        for relid, num, col, typ, notnull, default, identity, generated in q(_INTROSPECT_COLUMNS):
            attnames.setdefault(relid, {})[num] = col
            if relid in rels and rels[relid][0] in tables:
                tables[rels[relid][0]]["columns"].append({
                    "name": col, "type": typ, "nullable": not notnull,
                    "default": None if generated else stored_default(default), "primary_key": False,
                    "identity": {"a": "always", "d": "by default"}.get(identity),
                    "generated": default if generated else None})
        for relid, name, kind, definition, keys, ref, ref_keys, on_update, on_delete in q(_INTROSPECT_CONSTRAINTS):
            if relid not in rels or rels[relid][0] not in tables:
                continue
            table = tables[rels[relid][0]]
            cols = [attnames[relid].get(k, str(k)) for k in keys or []]
            if kind == "p":
                table["primary_key"] = {"name": name, "columns": cols}
                for c in table["columns"]:
                    c["primary_key"] = c["name"] in cols
            elif kind == "f":
                table["foreign_keys"].append({
                    "name": name, "columns": cols, "referred_table": ref,
                    "referred_columns": [attnames.get(_oid_of(rels, ref), {}).get(k, str(k)) for k in ref_keys or []],
                    "on_update": _FK_ACTIONS.get(on_update), "on_delete": _FK_ACTIONS.get(on_delete)})
            elif kind in ("c", "t"):
                table["checks"].append({"name": name, "definition": definition})
        for relid, name, unique, definition, cols, constraint in q(_INTROSPECT_INDEXES):
            if relid in rels and rels[relid][0] in tables:
                tables[rels[relid][0]]["indexes"].append({
                    "name": name, "columns": list(cols), "unique": unique,
                    "constraint": {"p": "primary key", "u": "unique", "x": "exclusion"}.get(constraint),
                    "definition": definition})
        for table in tables.values():
            table["indexes"].sort(key=lambda i: i["name"])
            table["foreign_keys"].sort(key=lambda f: (f["name"] or "", f["columns"]))
            table["checks"].sort(key=lambda c: (c["name"] or "", c["definition"]))
        return {"tables": tables, **_objects(q, rels.values())}

    def version_key(self, conn: sa.Connection) -> str:
        return "postgresql " + str(conn.exec_driver_sql("SHOW server_version_num").scalar_one())

    def schema_script(self, target: "Target") -> str:
        """``pg_dump --schema-only --no-owner --no-privileges``, the runbook's own tables
        excluded, without what sets up psql's session (``\\`` commands, ``SET`` lines, the
        empty ``search_path``: pg_dump names every object with its schema), but for
        ``check_function_bodies = false``, kept as ``SET LOCAL`` (a function's body may name
        a table made after it; the setting ends with the baseline's transaction)."""
        from ..migrations import RUNBOOK_TABLES

        _, server_major = self._server_version(target)
        conninfo, env = libpq(target)
        proc = subprocess.run(
            [_tool("pg_dump", server_major), "--schema-only", "--no-owner", "--no-privileges",
             *[f"--exclude-table={t}" for t in RUNBOOK_TABLES], f"--dbname={conninfo}"],
            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RunFailed(f"pg_dump --schema-only of {target.display} failed: {_error_line(proc.stderr)}")
        kept = [ln for ln in proc.stdout.splitlines() if not ln.startswith("\\")]
        out = []
        for st in split("\n".join(kept), "postgresql", source="pg_dump --schema-only"):
            if re.match(r"(?is)\s*SET\s+check_function_bodies\s*=\s*false\s*$", st.sql):
                out.append("SET LOCAL check_function_bodies = false")
            elif not re.match(r"(?is)\s*(SET\s|SELECT\s+pg_catalog\.set_config\s*\()", st.sql):
                out.append(st.sql)
        return "".join(f"{sql.strip()};\n\n" for sql in out)

    @contextlib.contextmanager
    def read_snapshot(self, target: "Target") -> Iterator[sa.Connection]:
        """One REPEATABLE READ, READ ONLY transaction: every query sees the same snapshot."""
        with target.engine().connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn

    def canonical_default(self, default: Any) -> str | None:
        """PostgreSQL spells defaults with casts (``'-1'::integer``, ``'[]'::text``); a
        ``nextval(...)`` default is auto-numbering, like SQLite's rowid alias and like an
        identity column (which has no default at all), so it compares as no default."""
        if default is None:
            return None
        tree = _parse_postgres(str(default))
        if isinstance(tree, exp.Anonymous) and tree.name.lower() == "nextval":
            return None
        if (isinstance(tree, exp.Cast) and isinstance(tree.this, exp.Literal) and tree.this.is_string
                and tree.to.is_type(*exp.DataType.NUMERIC_TYPES)):
            return tree.this.name  # '-1'::integer is the number -1
        return super().canonical_default(default)

    # -- data checks -----------------------------------------------------------------------------
    def row_text_sql(self, columns: list[str], alias: str = "") -> str:
        """``ROW(c1, c2, ...)::text``: PostgreSQL's own record text (NULL, '' and quoting told apart)."""
        prefix = f"{_ident(alias)}." if alias else ""
        if not columns:
            return "''"
        return f"ROW({', '.join(prefix + _ident(c) for c in columns)})::text"

    def digest_parts(self, conn: sa.Connection, table: str, columns: list[str],
                     key: list[str]) -> Iterator[tuple[int, str]]:
        """One query, no row to the client: the sum of a 64-bit hash of every row's record text
        (``hashtextextended``, PostgreSQL's own, over the text's bytes: "C" is deterministic), and
        the count. Order-independent, so it needs neither a key nor a sort (a table without a
        primary key is digested the same way). A sum of 64-bit row digests tells a changed row
        with the same odds whatever the digest (md5's first 64 bits cost twice the CPU: 2.0 s per
        million rows of the demo's table, this 0.85 s; md5's collision resistance does not
        survive being truncated and summed)."""
        text = self.row_text_sql(columns)
        n, total = self.run_sql(conn, f'SELECT count(*), sum(hashtextextended({text} COLLATE "C", 0)) '
                                      f"FROM {self.quote_table(table)}").one()
        yield int(n), str(total or 0)

    def comparable_sql(self, expr: str) -> str:
        return f"({expr})::text"  # json, point, ... have no equality operator; their text does

    def create_before_copy(self, conn: sa.Connection, name: str, table: str, columns: list[str],
                           key: list[str]) -> set[str]:
        """Columns of a type not PostgreSQL's own (an enum, a domain, a composite, an extension's
        type, arrays of them) are copied as their text: a copy holding the type itself would
        depend on it, and a migration that drops the column and then the type (Prisma's enum
        changes) would fail on the check's copy ("other objects depend on it"). Values are
        compared as text anyway (``comparable_sql``)."""
        own_types = {n for n, in self.run_sql(
            conn, "SELECT a.attname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                  f"WHERE a.attrelid = {_literal(self.quote_table(table))}::regclass AND a.attnum > 0 "
                  "AND NOT a.attisdropped AND t.typnamespace <> 'pg_catalog'::regnamespace")}
        as_text = {c for c in columns if c in own_types}
        cols = ", ".join(f"{_ident(c)}::text AS {_ident(c)}" if c in as_text else _ident(c) for c in columns) or "1 AS _none"
        self.run_sql(conn, f"CREATE TEMP TABLE {_ident(name)} ON COMMIT DROP AS SELECT {cols} FROM {self.quote_table(table)}")
        if key:
            self.run_sql(conn, f"CREATE INDEX ON pg_temp.{_ident(name)} ({', '.join(_ident(k) for k in key)})")
            self.run_sql(conn, f"ANALYZE pg_temp.{_ident(name)}")
        return as_text

    def hold_writers(self, conn: sa.Connection, tables: list[str]) -> None:
        """``LOCK TABLE ... IN SHARE MODE`` (under the connection's lock_timeout): reads go on,
        the application's writes to these tables wait until the migration's transaction ends."""
        if tables:
            self.run_sql(conn, f"LOCK TABLE {', '.join(self.quote_table(t) for t in tables)} IN SHARE MODE")

    # -- safety ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def exclusive_lock(self, target: "Target") -> Iterator[None]:
        """``pg_try_advisory_lock`` on a session held open while the block runs; ``LockBusy`` at
        once (naming the pid that holds it) when another runbook has it."""
        key = lock_key(target.url.database or "")
        try:
            conn = target.engine().connect()
        except sa.exc.OperationalError as exc:
            raise connect_error(target, exc) from None
        with conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.detach()  # the lock's own session, never pooled: it ends when the lock is given up
            if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one():
                holder = conn.execute(sa.text(
                    "SELECT l.pid, a.application_name, a.usename, "
                    "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
                    "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND CAST(l.classid AS bigint) = :hi AND CAST(l.objid AS bigint) = :lo"),
                    {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF}).first()
                who = (f"pid {holder[0]} ({holder[1] or 'no application name'}, user {holder[2]}, "
                       f"connected since {holder[3]} UTC)" if holder else "another session")
                raise LockBusy(f"another runbook is already working on {target.display}: its lock "
                               f"(pg_advisory_lock {key}) is held by {who}; wait for it to finish, "
                               "or end that session if it is stale")
            pid, started = conn.exec_driver_sql(
                "SELECT pg_backend_pid(), CAST(extract(epoch FROM backend_start) AS text) "
                "FROM pg_stat_activity WHERE pid = pg_backend_pid()").one()
            previous = os.environ.get(LOCK_SESSION_ENV)
            os.environ[LOCK_SESSION_ENV] = f"{pid}@{started}"  # the kernels of this run inherit it
            try:
                yield
            finally:
                if previous is None:
                    os.environ.pop(LOCK_SESSION_ENV, None)
                else:
                    os.environ[LOCK_SESSION_ENV] = previous
                try:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                except sa.exc.DBAPIError:
                    pass  # the session is gone, and with it the lock

    def preflight(self, target: "Target", tables: Collection[str] = ()) -> list[dict[str, Any]]:
        """Other sessions in this database that would block a migration: those holding (or
        waiting for) a lock on one of ``tables`` (on any table, view or sequence when ``tables``
        is empty), and those whose transaction has been open longer than ``LONG_TRANSACTION_S``.

        Each is ``{"pid", "user", "application_name", "state", "xact_age_s", "relations",
        "reason"}``; never the query text (it may hold personal data). Without
        ``pg_read_all_stats`` a role sees the state and transaction age of its own sessions only;
        lock holders are visible to everyone."""
        wanted = sorted({t.lower() for t in tables} | {t for t in tables})
        blocker_age_s = max(target.lock_timeout_s, MIN_BLOCKER_AGE_S)
        with target.engine().connect() as conn:
            rows = conn.execute(sa.text(_PREFLIGHT_SQL)).mappings().all()
        found = []
        for row in rows:
            relations = sorted(row["relations"] or [])
            hits = [r for r in relations if r in wanted] if wanted else relations
            age = float(row["xact_age_s"]) if row["xact_age_s"] is not None else None
            reasons = []
            # a lock held by a transaction younger than our lock_timeout is ordinary traffic: it ends
            # before the migration would give up waiting for it
            if hits and age is not None and age >= blocker_age_s:
                reasons.append(f"holds or waits for locks on {', '.join(hits)} in a transaction open for {age:.1f} s")
            if age is not None and age >= LONG_TRANSACTION_S:
                reasons.append(f"transaction open for {age:.0f} s")
            if reasons:
                found.append({
                    "pid": row["pid"], "user": row["usename"], "application_name": row["application_name"],
                    "state": row["state"], "xact_age_s": round(age, 1) if age is not None else None,
                    "relations": relations, "reason": "; ".join(reasons),
                })
        return found

    # -- backup, restore, scratch copies ----------------------------------------------------
    def backup_file_name(self, target: "Target", stamp: str) -> str:
        return f"{_file_safe(target.url.database or 'postgres')}_backup_{stamp}.dump"

    def identity(self, target: "Target") -> dict[str, Any] | None:
        """The cluster's system identifier and the database's oid and name (stable across a
        restore in place; a database re-created, or on another cluster, is another database)."""
        try:
            with target.engine().connect() as conn:
                oid, name = conn.exec_driver_sql(
                    "SELECT oid, datname FROM pg_database WHERE datname = current_database()").one()
                try:
                    system = conn.exec_driver_sql("SELECT system_identifier FROM pg_control_system()").scalar()
                except sa.exc.DBAPIError:  # not granted to this role: the oid still tells databases apart
                    system = None
        except sa.exc.OperationalError as exc:
            raise connect_error(target, exc) from None
        return {"system_identifier": None if system is None else str(system), "database_oid": int(oid),
                "database": name}

    def backup_facts(self, path: Path) -> dict[str, Any]:
        """What an archive itself says: readable by pg_restore, its tables, the database it is of."""
        proc = subprocess.run([_tool("pg_restore"), "--list", str(path)], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            return {"readable": False, "tables": 0, "identity": None}
        entries = [ln for ln in proc.stdout.splitlines() if ln.strip() and not ln.startswith(";")]
        m = re.search(r"^;\s+dbname: (.*)$", proc.stdout, re.MULTILINE | re.IGNORECASE)
        tables = sum(1 for ln in entries if re.search(r"\d+ TABLE ", ln))
        return {"readable": True, "tables": tables, "identity": {"database": m.group(1).strip()} if m else None}

    def backup(self, target: "Target", dest: Path) -> dict[str, Any]:
        """``pg_dump -Fc`` into ``dest``, from the snapshot the row counts are read in; the
        write counters of every table (``pg_stat_user_tables``) are recorded just before, so a
        restore can tell how many rows changed since. ``BadInput`` when pg_dump is missing or
        older than the server; ``RunFailed`` when the dump fails."""
        from ..inventory import row_counts  # here: an engine imports no higher module at import time

        server_version, server_major = self._server_version(target)
        pg_dump = _tool("pg_dump", server_major)
        tool, tool_major = _tool_version(pg_dump)
        if tool_major < server_major:
            raise BadInput(f"{tool} is older than the server (PostgreSQL {server_version}); pg_dump must be "
                           f"version {server_major} or newer: install postgresql-client-{server_major} and put "
                           "it first on PATH")
        dest = Path(dest)
        conninfo, env = libpq(target)
        try:
            counters = self._write_counters(target)  # before the snapshot: later writes count as newer
            with target.engine().connect() as conn:
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                with conn.begin():
                    snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                    counts = row_counts(conn, with_history=True)  # the history table is dumped too
                    partitioned = sorted(conn.exec_driver_sql(
                        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relkind = 'p' AND n.nspname = current_schema()").scalars())
                    proc = subprocess.run(
                        [pg_dump, "--format=custom", f"--snapshot={snapshot}",
                         f"--lock-wait-timeout={_ms(target.lock_timeout_s)}", f"--file={dest}",
                         f"--dbname={conninfo}"],
                        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
                    if proc.returncode != 0:
                        raise RunFailed(f"pg_dump of {target.display} failed: {_error_line(proc.stderr)}; "
                                        "no backup file was written")
        except sa.exc.DBAPIError as exc:
            raise RunFailed(f"backup of {target.display} failed: {_first_line(exc)}; no backup file was written") from None
        return {
            "path": str(dest.resolve()),
            "format": "pg_dump custom (-Fc)",
            "size_bytes": dest.stat().st_size,
            "tool": f"{tool} ({pg_dump})",
            "server_version": server_version,
            "source_row_counts": counts,
            "partitioned_tables": partitioned,
            "write_counters": counters,
        }

    def _write_counters(self, target: "Target") -> dict[str, dict[str, int]]:
        """``{"schema.table": {"relid", "changes"}}``: inserted + updated + deleted rows so far."""
        with target.engine().connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT schemaname, relname, relid, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables").all()
        return {f"{r[0]}.{r[1]}": {"relid": int(r[2]), "changes": int(r[3])} for r in rows}

    def verify_backup_contents(self, path: Path, info: dict[str, Any]) -> list[dict[str, Any]]:
        """``pg_restore --list`` reads the archive and it holds the data (TABLE DATA) of every
        table counted in the source; a partitioned table's rows are in its partitions' data."""
        checks: list[dict[str, Any]] = []
        ok, listing = archive_list(path)
        checks.append({"check": "pg_restore --list reads the archive", "passed": ok,
                       "detail": f"{len(listing)} entries" if ok else listing[0] if listing else "no output"})
        if not ok:
            return checks
        have = {model_name(schema, table) for schema, table in _table_data(listing)}
        parents = set(info.get("partitioned_tables", []))
        expected = sorted(t for t in info.get("source_row_counts", {}) if t not in parents)
        missing = [t for t in expected if t not in have]
        checks.append({"check": "archive holds the data of every source table", "passed": not missing,
                       "detail": f"missing: {', '.join(missing)}" if missing else
                       f"{len(expected)} tables, {sum(info.get('source_row_counts', {}).values())} rows at backup time"
                       + (f" ({len(parents)} partitioned, held by their partitions)" if parents else "")})
        return checks

    def rows_not_in_backup(self, target: "Target", backup_path: Path, record: dict[str, Any] | None,
                           skip_tables: Collection[str] = ()) -> dict[str, Any]:
        """Rows changed in the target since the backup, table by table: the growth of each
        table's write counters (``pg_stat_user_tables``: inserted + updated + deleted) since the
        backup recorded them, at least its row-count difference; every row of a table created
        since. Counters include the migrations' own changes (the runbook's sessions flush theirs
        when given back, see ``_fresh_session``); another backend flushes them within seconds.
        Without a record (or counters reset since), row-count differences only."""
        from ..inventory import row_counts

        then = (record or {}).get("write_counters") or {}
        counts_then = (record or {}).get("source_row_counts") or {}
        now = self._write_counters(target)
        with target.engine().connect() as conn:
            counts_now = row_counts(conn, with_history=True)
        lost: dict[str, int] = {}
        for key, cur in now.items():
            table = model_name(*key.split(".", 1))
            if table in skip_tables:
                continue
            before = then.get(key)
            diff = abs(counts_now.get(table, 0) - counts_then.get(table, 0))
            if table not in counts_then:
                n = counts_now.get(table, 0)
            elif before and before["relid"] == cur["relid"] and cur["changes"] >= before["changes"]:
                n = max(cur["changes"] - before["changes"], diff)
            else:
                n = diff
            if n:
                lost[table] = n
        method = ("write counters since the backup (pg_stat_user_tables), at least the row-count difference"
                  if then else "row-count differences (the backup record has no write counters)")
        return {"rows": sum(lost.values()), "tables": lost, "method": method}

    def restore(self, target: "Target", backup_path: Path) -> None:
        """Make the target exactly what the backup holds, in one transaction: it all happens or
        nothing does (``RunFailed``, database as it was). Waits at most ``lock_timeout`` for the
        application's locks on the tables it replaces."""
        backup_path = Path(backup_path)
        major = self._server_major(target)
        pg_restore, psql = _tool("pg_restore", major), _tool("psql", major)
        if not backup_path.is_file():
            raise BadInput(f"backup file not found: {backup_path}")
        ok, listing = archive_list(backup_path)
        if not ok:
            raise BadInput(f"not a readable pg_dump archive: {backup_path}: {listing[0] if listing else ''}")
        target.dispose()
        conninfo, env = libpq(target)
        # error output may quote rows: it stays beside the backup (never in /tmp), private, and goes
        with tempfile.TemporaryDirectory(prefix=f".runbook-restore-{owner_tag()}-", dir=backup_path.parent) as tmp:
            prelude = Path(tmp) / "prelude.sql"
            prelude.write_text(f"SET lock_timeout = {_ms(target.lock_timeout_s)};\n{_DROP_RELATIONS_SQL}\n")
            with open(Path(tmp) / "pg_restore.err", "w+") as err1, open(Path(tmp) / "psql.err", "w+") as err2:
                script = subprocess.Popen(
                    [pg_restore, "--clean", "--if-exists", "--file=-", str(backup_path)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err1, env=env)
                loader = subprocess.Popen(
                    [psql, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
                     f"--dbname={conninfo}", f"--file={prelude}", "--file=-"],
                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err2, env=env)
                loaded = _pipe(script, loader)
                if not loaded:
                    raise RunFailed(f"restore of {target.display} from {backup_path.name} failed and was rolled "
                                    f"back (the database is as it was): {_error_line(_read(err2) or _read(err1))}")

    @contextlib.contextmanager
    def scratch_database(self, target: "Target | None", purpose: str = "scratch") -> Iterator["Target"]:
        """An empty database ``<db>_<purpose>_<random>`` on the target's server, with the
        target's encoding and collation; always dropped (``WITH (FORCE)``) on exit.

        Roles belong to the whole server, not to a database: after the drop, each role that the
        statements run there create by name (``_note_created_roles``) and that did not exist when
        the database was made is dropped too (``_drop_created_roles``), so that a rehearsal or a
        replay leaves the server as it found it; one that cannot be dropped is ``LeftOnServer``.
        Every writable transaction there is watched (``_ServerWatch``): the roles it creates
        through code no parser reads are dropped too, any other change of the shared catalogs
        fails it before its commit (see the module doc)."""
        if target is None:
            raise BadInput("a PostgreSQL scratch database lives on a server: give the target database (--db)")
        base = _file_safe(target.url.database or "postgres")[:30]
        name = f"{base}_{_file_safe(purpose)[:10]}_{owner_tag()}_{secrets.token_hex(2)}"  # the next run drops it if we die
        try:
            with target.engine().connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                encoding, collate, ctype = conn.exec_driver_sql(
                    "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
                    "WHERE datname = current_database()").one()
                conn.exec_driver_sql(f"CREATE DATABASE {_ident(name)} TEMPLATE template0 ENCODING {_literal(encoding)} "
                                     f"LC_COLLATE {_literal(collate)} LC_CTYPE {_literal(ctype)}")
                roles_before = _roles(conn)
                oid, authid = conn.exec_driver_sql(
                    f"SELECT oid, has_table_privilege('pg_catalog.pg_authid', 'SELECT') FROM pg_database "
                    f"WHERE datname = {_literal(name)}").one()
        except sa.exc.OperationalError as exc:
            raise connect_error(target, exc) from None
        except sa.exc.DBAPIError as exc:
            raise RunFailed(f"cannot create a scratch database on the server of {target.display}: "
                            f"{_first_line(exc)} (the role needs CREATEDB)") from None
        scratch = target.with_database(name)
        named: set[str] = set()
        sa.event.listen(scratch.engine(), "before_cursor_execute", functools.partial(_note_created_roles, named))
        _ServerWatch.attach(scratch.engine(), _server_rows_sql(oid, authid), roles_before, named)
        failure: BaseException | None = None
        try:
            yield scratch
        except BaseException as exc:
            failure = exc
            raise
        finally:
            scratch.dispose()
            self._drop_database(target, name)
            self._drop_created_roles(target, named - roles_before, failure)

    @contextlib.contextmanager
    def scratch_copy(self, target: "Target", backup_path: Path) -> Iterator["Target"]:
        """A scratch database ``<db>_rehearsal_<random>`` restored from ``backup_path`` (objects
        owned by the runbook's role), dropped on exit whatever happens."""
        pg_restore = _tool("pg_restore", self._server_major(target))
        backup_path = Path(backup_path)
        if not backup_path.is_file():
            raise BadInput(f"backup file not found: {backup_path}")
        with self.scratch_database(target, "rehearsal") as scratch:
            conninfo, env = libpq(scratch)
            proc = subprocess.run(
                [pg_restore, "--no-owner", "--exit-on-error", "--single-transaction",
                 f"--dbname={conninfo}", str(backup_path)],
                env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RunFailed(f"restoring {backup_path.name} into the scratch database failed: "
                                f"{_error_line(proc.stderr)}")
            yield scratch

    def remove_leftovers(self, target: "Target") -> list[str]:
        """Drop the scratch databases of dead runs of this host made from ``target``
        (``<db>_<purpose>_rb<host>p<pid>_<hex>`` with that pid gone and nobody connected)."""
        base = _file_safe(target.url.database or "postgres")[:30]
        try:
            with target.engine().connect() as conn:
                names = conn.execute(sa.text(
                    "SELECT datname FROM pg_database d WHERE starts_with(datname, :prefix) "
                    "AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid)"),
                    {"prefix": base + "_"}).scalars().all()
        except sa.exc.OperationalError as exc:
            raise connect_error(target, exc) from None
        dropped = []
        for name in names:
            if re.fullmatch(re.escape(base) + r"_[A-Za-z0-9_-]{1,10}_rb[0-9a-f]{6}p\d+_[0-9a-f]{4}", name) \
                    and is_dead_owner(name):
                self._drop_database(target, name)
                dropped.append(f"database {name}")
        return dropped

    def check_lock(self, target: "Target", conn: sa.Connection | None = None) -> None:
        """``LockLost`` unless the run's advisory lock is still held by the very session that took
        it (its pid and start time, handed down in ``RUNBOOK_LOCK_SESSION``). Called before every
        state change: a lock whose session was ended (idle timeout, a DBA) no longer keeps a
        second run out, so this one must stop. On ``conn`` when given (the change's own
        transaction: no session of its own to check out, ping and reset for one query)."""
        held = os.environ.get(LOCK_SESSION_ENV)
        if not held:
            return  # not inside a lock taken by a runbook process (a library caller's own choice)
        pid, started = held.split("@", 1)
        key = lock_key(target.url.database or "")
        with contextlib.nullcontext(conn) if conn is not None else target.engine().connect() as conn:
            alive = conn.execute(sa.text(
                "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid = :pid "
                "AND CAST(extract(epoch FROM a.backend_start) AS text) = :started "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND CAST(l.classid AS bigint) = :hi AND CAST(l.objid AS bigint) = :lo"),
                {"pid": int(pid), "started": started, "hi": (key >> 32) & 0xFFFFFFFF,
                 "lo": key & 0xFFFFFFFF}).first()
        if alive is None:
            raise LockLost(f"the runbook lock on {target.display} is gone (its session, pid {pid}, was ended): "
                           "another run may have started; this run stops before changing anything more")

    # -- helpers -----------------------------------------------------------------------------
    def _server_version(self, target: "Target") -> tuple[str, int]:
        try:
            with target.engine().connect() as conn:
                version = str(conn.exec_driver_sql("SHOW server_version").scalar_one()).split()[0]
                number = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
        except sa.exc.OperationalError as exc:
            raise connect_error(target, exc) from None
        return version, number // 10000

    def _server_major(self, target: "Target") -> int:
        """The server's major version, as the target's engine read it on its first connection."""
        dialect = target.engine().dialect
        if dialect.server_version_info is None:
            try:
                target.engine().connect().close()
            except sa.exc.OperationalError as exc:
                raise connect_error(target, exc) from None
        return dialect.server_version_info[0]

    def _drop_created_roles(self, target: "Target", roles: set[str], failure: BaseException | None) -> None:
        """Drop those of ``roles`` (created by a scratch run, absent before it) that exist now;
        ``LeftOnServer`` naming each one that cannot be (it owns objects, or holds privileges, in
        another database or on a shared object such as a database). ``failure``: what stopped the
        scratch run, kept in the message."""
        if not roles:
            return
        left = []
        try:
            with target.engine().connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")  # each drop on its own
                there = conn.execute(sa.text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"),
                                     {"names": sorted(roles)}).scalars().all()
                for role in sorted(there):
                    try:
                        conn.exec_driver_sql(f"DROP ROLE {_ident(role)}")
                    except sa.exc.DBAPIError as exc:
                        left.append(f"{role} ({_first_line(exc)})")
        except sa.exc.OperationalError as exc:
            left.append(f"{', '.join(sorted(roles))} (not checked: {_first_line(exc)})")
        if left:
            before = f"; the scratch run had failed before: {str(failure).splitlines()[0]}" if str(failure or "") else ""
            raise LeftOnServer(
                f"the scratch database's statements created roles on the server of {target.display} that could "
                f"not be dropped after it: {'; '.join(left)}; drop them by hand (roles belong to the whole "
                f"server: the real migration would find them there){before}",
                [r.split(" (", 1)[0] for r in left]) from failure

    def _drop_database(self, target: "Target", name: str) -> None:
        try:
            with target.engine().connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
        except sa.exc.DBAPIError as exc:
            raise RunFailed(f"could not drop the scratch database {name}: {_first_line(exc)}; "
                            "drop it by hand") from None


def _fresh_session(dbapi_conn: Any, record: Any) -> None:
    """A session given back to the pool is made as a new one would be (``DISCARD ALL``): a
    migration's ``SET`` (back to the connection's own lock and statement timeouts), its temporary
    tables, prepared statements and advisory locks never reach the next user. And its write
    counters are flushed to ``pg_stat_user_tables`` now (an idle session may hold them back ~10 s,
    one that ends flushes them as it exits): the checks of rows written since a backup read them.
    Before PostgreSQL 15 (no ``pg_stat_force_next_flush``), or when the reset fails, the session
    is closed instead."""
    if dbapi_conn is None:
        return
    import psycopg

    try:
        if dbapi_conn.info.server_version < 150000:
            raise psycopg.NotSupportedError("no pg_stat_force_next_flush before PostgreSQL 15")
        dbapi_conn.autocommit = True  # DISCARD ALL cannot run inside a transaction block
        dbapi_conn.execute("DISCARD ALL")
        dbapi_conn.execute("SELECT pg_stat_force_next_flush()")  # done before the server answers
        dbapi_conn.autocommit = False
    except psycopg.Error:
        record.invalidate()


@functools.lru_cache(maxsize=4096)
def _translated(sql: str, source_dialect: str) -> tuple[str, ...]:
    """``sql`` (one statement) in PostgreSQL's dialect. Cached: a run prepares each migration
    several times (input checks, lint, rehearsal, migrate)."""
    tree = parse(sql, source_dialect)
    if isinstance(tree, exp.Pragma):
        return tuple(_translate_pragma(tree))
    if tree is None or isinstance(tree, exp.Command):
        return (sql,)  # not understood by the transpiler: run as written
    tree = tree.copy()  # the parsed tree is shared (``sqltext.parse``): change a copy
    for column in tree.find_all(exp.ColumnDef):  # SQLite's INTEGER PRIMARY KEY is a rowid alias
        kinds = [c.args.get("kind") for c in column.constraints]
        if (column.kind and column.kind.this == exp.DataType.Type.INT
                and any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds)):
            column.append("constraints", exp.ColumnConstraint(
                kind=exp.GeneratedAsIdentityColumnConstraint(this=False)))
    for ordered in tree.find_all(exp.Ordered):  # sqlglot spells SQLite's NULL order out
        if isinstance(ordered.parent, (exp.Schema, exp.IndexParameters)) or ordered.find_ancestor(exp.Index):
            ordered.set("nulls_first", None)
    return (tree.sql(dialect=PostgresEngine.sqlglot_dialect),)


def _translate_pragma(tree: exp.Pragma) -> list[str]:
    """``PRAGMA table_info(t)`` → information_schema; any other PRAGMA means nothing here."""
    inner = tree.this
    if isinstance(inner, exp.Anonymous):  # table_info(t) parsed as a call
        key, args = inner.name, inner.expressions
    else:  # sqlglot reads PRAGMA table_info(t) as table_info = t
        key, args = inner.this.name if inner.this is not None else inner.name, [inner.args.get("expression")]
    table = args[0].name if args and args[0] is not None else ""
    if key.lower() == "table_info" and table:
        return [TABLE_INFO_SQL.format(table=table.replace("'", "''"))]
    return []


#: a statement that may create a role: only those are given to the parser
_MAY_CREATE_ROLE = re.compile(r"\bcreate\b.*\b(?:role|user|group)\b", re.IGNORECASE | re.DOTALL)


def _note_created_roles(named: set[str], conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    """Add to ``named`` the roles ``statement`` creates by name (``pgtext.created_roles``): a
    ``before_cursor_execute`` listener on a scratch database's engine, so it sees every
    statement that runs there, whoever runs it (``run_sql`` doubles a ``%``: undone here)."""
    if _MAY_CREATE_ROLE.search(statement):
        from ..pgtext import created_roles

        named |= created_roles(statement.replace("%%", "%"))


def _roles(conn: sa.Connection) -> frozenset[str]:
    """The server's roles."""
    return frozenset(conn.exec_driver_sql("SELECT rolname FROM pg_roles").scalars())


#: the server's shared catalogs as rows (key, name, keys of the rows it concerns, digest, written
#: by this transaction): roles with their attributes, memberships, role and database settings,
#: databases (name, owner, ACL, connection rules) other than the scratch one, tablespaces,
#: comments and security labels on shared objects; names are resolved in Python (``_shown``):
#: a plain query plans in half the time. ``ours``: the row version was written by this very
#: transaction or one of its subtransactions (``txid_status`` of its ``xmin``); NULL where the
#: role cannot read ``pg_authid`` (its roles' ``xmin`` unknown)
_SERVER_ROWS = """
WITH me AS (SELECT txid_current_if_assigned() AS top),
x(key, name, needs, digest, xmin) AS (
  SELECT 'role ' || oid, rolname::text, ARRAY[]::text[],
         md5(ROW(rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls,
                 rolconnlimit, rolvaliduntil, rolpassword)::text), {role_xmin}
  FROM {roles}
  UNION ALL
  SELECT 'member ' || roleid || ' ' || member, NULL, ARRAY['role ' || member, 'role ' || roleid],
         md5(ROW(grantor, admin_option)::text), xmin FROM pg_auth_members
  UNION ALL
  SELECT 'setting ' || setdatabase || ' ' || setrole, NULL,
         ARRAY[CASE WHEN setrole <> 0 THEN 'role ' || setrole END, CASE WHEN setdatabase <> 0 THEN 'database ' || setdatabase END],
         md5(setconfig::text), xmin FROM pg_db_role_setting WHERE setdatabase <> {scratch}
  UNION ALL
  SELECT 'database ' || oid, datname::text, ARRAY['database ' || oid],
         md5(ROW(datname, datdba, datacl, datconnlimit, datallowconn, datistemplate, dattablespace)::text), xmin
  FROM pg_database WHERE oid <> {scratch}
  UNION ALL
  SELECT 'tablespace ' || oid, spcname::text, ARRAY['tablespace ' || oid],
         md5(ROW(spcname, spcowner, spcacl, spcoptions)::text), xmin FROM pg_tablespace
  UNION ALL
  SELECT kind || ' ' || classoid || ' ' || objoid || ' ' || provider, kind,
         ARRAY[CASE classoid WHEN 'pg_authid'::regclass THEN 'role ' WHEN 'pg_database'::regclass THEN 'database '
                             ELSE 'tablespace ' END || objoid], md5(label), xmin
  FROM (SELECT 'comment' AS kind, objoid, classoid, '' AS provider, description AS label, xmin FROM pg_shdescription
        UNION ALL SELECT 'security label', objoid, classoid, provider, label, xmin FROM pg_shseclabel) c
  WHERE NOT (classoid = 'pg_database'::regclass AND objoid = {scratch}))
SELECT x.key, x.name, x.needs, x.digest,
       CASE WHEN me.top IS NULL THEN false  -- the transaction wrote nothing yet
            ELSE txid_status((me.top >> 32 << 32) + x.xmin::text::bigint
                             - CASE WHEN x.xmin::text::bigint - (me.top & 4294967295) > 2147483648
                                    THEN 4294967296 ELSE 0 END) = 'in progress' END AS ours
FROM x, me
"""


def _server_rows_sql(scratch_oid: int, authid: bool) -> str:
    """``_SERVER_ROWS`` for the scratch database ``scratch_oid``; ``authid``: the role may read
    ``pg_authid`` (passwords compared by digest, and who wrote a role's row known), else
    ``pg_roles`` (a password change unseen; who wrote a role's row unknown: a role created
    meanwhile that no statement of the scratch run names fails the check, whoever made it)."""
    return _SERVER_ROWS.format(scratch=int(scratch_oid), roles="pg_authid" if authid else "pg_roles",
                               role_xmin="xmin" if authid else "NULL::xid")


#: one row of ``_SERVER_ROWS``: name, keys of the rows it concerns, digest, written by this transaction
_Row = tuple[str | None, list[str | None], str, bool | None]


class _ServerWatch:
    """The server's shared catalogs (``_SERVER_ROWS``) as a scratch database's transaction
    began, kept in its connection's ``info`` until it ends, to tell before its commit what its
    statements changed there (``check``). PostgreSQL's shared catalogs are transactional, so
    whatever a statement changed through code no parser reads (``EXECUTE``, a function's body)
    is seen there and undone by the rollback. It runs for every writable transaction (one read
    when it begins, one after each script: about 0.5 ms each on an idle server, see
    docs/reliability.md), not only where a script runs code: a statement the parser reads can
    change more than its text says (``GRANT a TO b, c`` where ``c`` is new, an event trigger)."""

    KEY = "runbook_server_watch"

    def __init__(self, sql: str, roles_before: frozenset[str], named: set[str], rows: dict[str, _Row]) -> None:
        self.sql, self.roles_before, self.named, self.rows = sql, roles_before, named, rows

    @classmethod
    def attach(cls, engine: sa.Engine, sql: str, roles_before: frozenset[str], named: set[str]) -> None:
        """Watch every writable transaction of the scratch database's ``engine``: ``roles_before``
        the server's roles when it was made, ``named`` the roles its statements created (the
        ones it drops after; roles created through code no parser reads are added)."""
        def begun(conn: sa.Connection) -> None:
            options = conn.get_execution_options()
            if options.get("isolation_level") == "AUTOCOMMIT" or options.get("postgresql_readonly"):
                conn.info.pop(cls.KEY, None)
                return
            conn.info[cls.KEY] = cls(sql, roles_before, named, _read_server(conn.connection.dbapi_connection, sql))

        def ended(conn: sa.Connection) -> None:
            conn.info.pop(cls.KEY, None)

        sa.event.listen(engine, "begin", begun)
        sa.event.listen(engine, "commit", ended)
        sa.event.listen(engine, "rollback", ended)

    def check(self, conn: sa.Connection) -> None:
        """``ServerChanged`` naming each change of the shared catalogs since the transaction
        began that this transaction made (a row another session committed meanwhile is its own)
        and that no role the scratch run created accounts for (those go with the role). A row gone
        is this transaction's removal only while other sessions still see it (``_read_elsewhere``,
        read only then)."""
        now = _read_server(conn.connection.dbapi_connection, self.sql)
        names = {key: row[0] for key, row in (self.rows | now).items()}
        created = {row[0] for key, row in now.items() if key.startswith("role ") and key not in self.rows and row[3]}
        ours = created | (self.named - self.roles_before)

        def concerns_ours(key: str, row: _Row) -> bool:
            return any(names.get(k) in ours for k in [key, *row[1]] if k and k.startswith("role "))

        changed = []
        for key, row in now.items():
            was = self.rows.get(key)
            if (was is not None and was[2] == row[2]) or row[3] is False or concerns_ours(key, row):
                continue
            changed.append(f"{_shown(key, row, names)} {'added' if was is None else 'changed'}")
        removed = [key for key, was in self.rows.items()
                   if key not in now and all(k in now for k in was[1] if k) and not concerns_ours(key, was)]
        if removed:  # this transaction's removals are not yet seen by other sessions
            others = _read_elsewhere(conn.engine, self.sql)
            changed += [f"{_shown(key, self.rows[key], names)} removed" for key in removed if key in others]
        if changed:
            raise ServerChanged(f"it changed the server beyond the scratch database, through code no parser reads "
                                f"(EXECUTE, a function's body, a procedure): {'; '.join(sorted(changed))} (undone "
                                "with its transaction: the server is as it was). Keep such changes out of migrations "
                                "(an administrator's script), or write them as plain statements, which the scratch "
                                "runs leave to the target")
        self.named |= created


def _shown(key: str, row: _Row, names: dict[str, str | None]) -> str:
    """A row of ``_SERVER_ROWS`` in words: ``role app``, ``membership of role app in role
    reader``, ``settings of every role in database shop``, ``comment on database shop``."""
    kind = key.split(" ", 1)[0]

    def name(k: str | None, every: str) -> str:
        return f"{k.split(' ', 1)[0]} {names.get(k) or k.split(' ', 1)[1]}" if k else every

    if kind == "member":
        return f"membership of {name(row[1][0], '')} in {name(row[1][1], '')}"
    if kind == "setting":
        return f"settings of {name(row[1][0], 'every role')} in {name(row[1][1], 'every database')}"
    if kind in ("role", "database", "tablespace"):
        return name(key, "")
    return f"{row[0]} on {name(row[1][0], '')}"


def _read_server(dbapi_conn: Any, sql: str) -> dict[str, _Row]:
    """``_SERVER_ROWS`` read in the driver connection's transaction (no listener sees it)."""
    with dbapi_conn.cursor() as cursor:
        cursor.execute(sql)
        return {key: (name, needs, digest, ours) for key, name, needs, digest, ours in cursor.fetchall()}


def _read_elsewhere(engine: sa.Engine, sql: str) -> dict[str, _Row]:
    """``_SERVER_ROWS`` as another session sees them (a connection of its own from ``engine``'s
    pool, its transaction rolled back)."""
    raw = engine.raw_connection()
    try:
        rows = _read_server(raw, sql)
        raw.rollback()
    finally:
        raw.close()
    return rows


def _first_line(exc: BaseException) -> str:
    return mask(db_error_line(exc))



# -- connection errors, libpq for the client tools --------------------------------------------
def connect_error(target: "Target", exc: BaseException) -> BadInput:
    """A one-line ``BadInput`` for a connection that failed, never with a password in it."""
    text = mask(_first_line(exc))
    fatal = text.split("FATAL:", 1)[-1].strip()
    where = "(the password comes from PGPASSWORD, ~/.pgpass or the URL given to --db)"
    if "no password supplied" in text:
        return BadInput(f"cannot connect to {target.display}: the server wants a password for user "
                        f"\"{target.url.username or ''}\" and none was given {where}")
    if "password authentication failed" in text:
        return BadInput(f"cannot connect to {target.display}: {fatal} {where}")
    return BadInput(f"cannot connect to {target.display}: {fatal}")


def libpq(target: "Target") -> tuple[str, dict[str, str]]:
    """Connection string (never with a password) and environment for pg_dump/pg_restore/psql.

    The password reaches them only through the environment: the inherited ``PGPASSWORD`` (where
    ``open_target`` puts a password given in a URL) or ``~/.pgpass``."""
    url = target.url
    params: dict[str, Any] = {k: ",".join(v) if isinstance(v, tuple) else v for k, v in url.query.items()}
    params.pop("password", None)
    if url.host:
        params["host"] = url.host
    if url.port:
        params["port"] = str(url.port)
    if url.username:
        params["user"] = url.username
    params["dbname"] = url.database or "postgres"
    env = dict(os.environ)
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    env["PGAPPNAME"] = "schema-runbook"
    if url.password:  # a Target never holds one; if it does, it still stays off the command line
        env["PGPASSWORD"] = str(url.password)
    from psycopg.conninfo import make_conninfo

    return make_conninfo(**params), env


def lock_key(database: str) -> int:
    """The advisory lock key of a database: 64 bits of SHA-256 of ``schema-runbook:<name>``."""
    digest = hashlib.sha256(f"{LOCK_NAMESPACE}:{database}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def archive_list(path: Path) -> tuple[bool, list[str]]:
    """``pg_restore --list`` of an archive: (readable, its TOC lines or the error lines)."""
    proc = subprocess.run([_tool("pg_restore"), "--list", str(path)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return False, [_error_line(proc.stderr)]
    return True, [line for line in proc.stdout.splitlines() if line.strip() and not line.startswith(";")]


def _table_data(listing: list[str]) -> list[tuple[str, str]]:
    """(schema, table) of the TABLE DATA entries of a ``pg_restore --list``.

    An entry reads ``<id>; <oid> <oid> TABLE DATA <schema> <table> <owner>``."""
    found = []
    for line in listing:
        _, sep, rest = line.partition(" TABLE DATA ")
        if sep:
            schema, _, tail = rest.partition(" ")
            found.append((schema, tail.rsplit(" ", 1)[0] if " " in tail else tail))
    return found


def _tool(name: str, server_major: int | None = None) -> str:
    """The client tool ``name`` as PATH finds it. Where that is Debian's ``pg_wrapper`` (a perl
    script, about 25 ms of CPU a call, that picks a version by its own rules), the version's own
    binary instead: the server's major version if installed, else the newest (a pg_dump older
    than the server is then refused by ``backup``); the newest without a server (reading an
    archive). A tool first on PATH that is not the wrapper is used as it is."""
    path = shutil.which(name)
    if path is None:
        raise BadInput(f"{name} not found on PATH: install the PostgreSQL client tools "
                       "(postgresql-client, the server's major version or newer)")
    if Path(path).resolve().name == "pg_wrapper":
        try:
            installed = [int(d.name) for d in DEBIAN_CLIENTS.iterdir() if d.name.isdigit() and (d / "bin" / name).is_file()]
        except OSError:
            installed = []
        if installed:
            major = server_major if server_major in installed else max(installed)
            return str(DEBIAN_CLIENTS / str(major) / "bin" / name)
    return path


def _tool_version(path: str) -> tuple[str, int]:
    """A client tool's version (``pg_dump (PostgreSQL) 15.20 ...``) and major version. In
    Debian's layout (``/usr/lib/postgresql/<major>/bin``) the folder says the major version and no
    process is started; elsewhere ``--version`` is asked once per process."""
    folder = Path(path).parent.parent
    if folder.parent == DEBIAN_CLIENTS and folder.name.isdigit():
        return f"{Path(path).name} (PostgreSQL) {folder.name}", int(folder.name)
    return _asked_version(path)


@functools.lru_cache(maxsize=None)
def _asked_version(path: str) -> tuple[str, int]:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise BadInput(f"cannot run {path} --version: {exc}") from None
    line = (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else ""
    m = re.search(r"\)\s*(\d+)", line)
    if out.returncode != 0 or m is None:
        raise BadInput(f"cannot read the version of {path}: {line or 'no output'}")
    return line, int(m.group(1))


def _pipe(producer: subprocess.Popen, consumer: subprocess.Popen) -> bool:
    """Stream ``producer``'s output into ``consumer``. The consumer's input is closed (letting it
    commit) only when the producer finished cleanly; otherwise the consumer is killed, so a
    half-read script never commits. True when both succeeded."""
    assert producer.stdout is not None and consumer.stdin is not None
    broken = False
    try:
        for chunk in iter(lambda: producer.stdout.read(1 << 16), b""):
            consumer.stdin.write(chunk)
    except BrokenPipeError:
        broken = True  # the consumer stopped (it failed); the producer's status no longer matters
    finally:
        producer.stdout.close()  # a producer still writing gets EPIPE instead of blocking forever
    produced = producer.wait() == 0
    if not produced and not broken:
        consumer.kill()  # before its input ends: it never sees EOF, so it never commits
    try:
        consumer.stdin.close()
    except BrokenPipeError:
        pass
    return consumer.wait() == 0 and produced


def _read(f: IO[str]) -> str:
    f.flush()
    f.seek(0)
    return f.read()


def _error_line(stderr: str) -> str:
    """The line of a client tool's stderr that says what went wrong, passwords masked."""
    lines = [ln.strip() for ln in (stderr or "").splitlines() if ln.strip()]
    for marker in ("FATAL:", "ERROR:", "error:"):
        for ln in lines:
            if marker in ln:
                return mask(redact(ln.split(marker, 1)[1].strip() if marker != "error:" else ln))
    return mask(redact(lines[-1])) if lines else "no error message"


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name) or "db"


#: per kind of object, the statement that drops each one there is of a table (or the type) ``:name``:
#: read before and after a statement, the new ones undo it (``undo_outside_transaction``)
_UNDO_OF = {
    "index": "SELECT 'DROP INDEX CONCURRENTLY IF EXISTS ' || i.indexrelid::regclass::text FROM pg_index i "
             "WHERE i.indrelid = to_regclass(:name) ORDER BY 1",
    "table": "SELECT 'DROP TABLE IF EXISTS ' || to_regclass(:name)::text WHERE to_regclass(:name) IS NOT NULL",
    "constraint": "SELECT 'ALTER TABLE ' || k.conrelid::regclass::text || ' DROP CONSTRAINT IF EXISTS ' "
                  "|| quote_ident(k.conname) FROM pg_constraint k WHERE k.conrelid = to_regclass(:name) ORDER BY 1",
    "column": "SELECT 'ALTER TABLE ' || a.attrelid::regclass::text || ' DROP COLUMN IF EXISTS ' || quote_ident(a.attname) "
              "FROM pg_attribute a WHERE a.attrelid = to_regclass(:name) AND a.attnum > 0 AND NOT a.attisdropped "
              "ORDER BY 1",
    "type": "SELECT 'DROP TYPE IF EXISTS ' || to_regtype(:name)::text WHERE to_regtype(:name) IS NOT NULL",
}


def _concurrently(definition: str) -> str:
    """``pg_get_indexdef``'s ``CREATE INDEX`` made ``CREATE INDEX CONCURRENTLY`` (by pglast)."""
    from pglast.stream import RawStream

    from ..pgtext import tree

    node = tree(definition)
    node.concurrent = True
    return RawStream()(node)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _parse_postgres(sql: str) -> exp.Expression | None:
    try:
        return sqlglot.parse_one(sql, read="postgres")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return None


@functools.lru_cache(maxsize=4096)
def _keywords(sql: str) -> tuple[str, ...]:
    """The upper-cased words of a statement, read with sqlglot's tokenizer (comments dropped).
    Statements the tokenizer keeps whole (``VACUUM ...``, ``REINDEX ...``) are read on. Cached:
    each migration is prepared several times in a run."""
    dialect = Dialect.get_or_raise("postgres")
    try:
        tokens = dialect.tokenize(sql)
    except (TokenError, ValueError):
        return ()
    words: list[str] = []
    for i, tok in enumerate(tokens):
        if tok.token_type == TokenType.COMMAND and i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.STRING:
            words.append(tok.text.upper())
            return tuple(words) + _keywords(tokens[i + 1].text)
        if tok.token_type == TokenType.SEMICOLON:
            words.append(";")
        elif tok.token_type != TokenType.STRING:
            words.append(tok.text.upper())
    return tuple(words)


_PREFLIGHT_SQL = """
WITH locks AS (
    SELECT l.pid, c.relname
    FROM pg_locks l
    JOIN pg_class c ON c.oid = l.relation
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE l.locktype = 'relation'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
)
SELECT a.pid, a.usename, a.application_name, a.state,
       EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start) AS xact_age_s,
       array_remove(array_agg(DISTINCT k.relname), NULL) AS relations
FROM pg_stat_activity a
LEFT JOIN locks k ON k.pid = a.pid
WHERE a.datname = current_database()
  AND a.pid <> pg_backend_pid()
  AND a.backend_type = 'client backend'
GROUP BY a.pid, a.usename, a.application_name, a.state, a.xact_start
ORDER BY a.pid
"""

# Drops every table, view, materialized view, sequence and foreign table outside the system
# schemas (extension members excepted), so the restore that follows in the same transaction
# leaves exactly the backup's relations. Runs first, under lock_timeout.
_DROP_RELATIONS_SQL = """
DO $runbook$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT n.nspname, c.relname,
           CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                          WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND NOT c.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY c.relkind DESC, c.oid DESC
  LOOP
    EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE', r.kind, r.nspname, r.relname);
  END LOOP;
END
$runbook$;
"""


# -- introspection (the schema model, see runbook.schema) ------------------------------------
_FK_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_USER_NAMESPACE = """n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"""


def model_name(schema: str | None, table: str) -> str:
    """A table as the schema model names it: ``schema.table`` outside ``public`` (``_qualified``
    in SQL)."""
    return f"{schema}.{table}" if schema and schema != "public" else table


#: ``pg_trigger.tgtype``'s bit for each event
_TRIGGER_EVENTS = {"insert": 4, "delete": 8, "update": 16}


def _qualified(namespace: str, name: str) -> str:
    return f"CASE WHEN {namespace} = 'public' THEN {name} ELSE {namespace} || '.' || {name} END"


def _objects(q: Callable[[str], list[Any]], rels: Iterable[tuple[str, str, Any]]) -> dict[str, Any]:
    """``introspect``'s sections besides tables; ``rels``: (name, relkind, definition) rows."""
    return {
        "views": {name: {"materialized": kind == "m", "definition": definition}
                  for name, kind, definition in rels if kind in ("v", "m")},
        "sequences": {name: dict(zip(("type", "start", "increment", "min", "max", "cache", "cycle", "owned_by"), rest))
                      for name, *rest in q(_INTROSPECT_SEQUENCES)},
        "types": {name: {"kind": kind, "definition": definition} for name, kind, definition in q(_INTROSPECT_TYPES)},
        "functions": {f"{name}({args})": {"kind": kind, "sha256": hashlib.sha256((body or "").encode()).hexdigest()}
                      for name, args, kind, body in q(_INTROSPECT_FUNCTIONS)},
        "triggers": {f"{name} on {table}": {"table": table, "sha256": hashlib.sha256(body.encode()).hexdigest()}
                     for name, table, body in q(_INTROSPECT_TRIGGERS)},
        "extensions": {name: {"version": version, "schema": schema} for name, version, schema in q(_INTROSPECT_EXTENSIONS)},
    }


def _not_extension(catalog: str, oid: str) -> str:
    return (f"NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{catalog}'::regclass "
            f"AND d.objid = {oid} AND d.deptype = 'e')")


def _oid_of(rels: dict[int, tuple[str, str, Any]], name: str) -> int | None:
    return next((oid for oid, (n, _, _) in rels.items() if n == name), None)


_INTROSPECT_RELATIONS = f"""
SELECT c.oid, {_qualified('n.nspname', 'c.relname')}, c.relkind,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {_USER_NAMESPACE} AND {_not_extension('pg_class', 'c.oid')}
ORDER BY 2"""


_INTROSPECT_COLUMNS = f"""
SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), NULLIF(a.attidentity, ''), NULLIF(a.attgenerated, '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND {_USER_NAMESPACE}
ORDER BY a.attrelid, a.attnum"""

_INTROSPECT_CONSTRAINTS = f"""
SELECT k.conrelid, k.conname, k.contype, pg_get_constraintdef(k.oid, true), k.conkey,
       {_qualified('rn.nspname', 'r.relname')}, k.confkey, k.confupdtype, k.confdeltype
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class r ON r.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE k.conrelid <> 0 AND {_USER_NAMESPACE}
ORDER BY k.conrelid, k.conname"""

_INTROSPECT_INDEXES = f"""
SELECT i.indrelid, ic.relname, i.indisunique, pg_get_indexdef(i.indexrelid),
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
       (SELECT k.contype FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
        AND k.contype IN ('p', 'u', 'x') LIMIT 1)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE {_USER_NAMESPACE}
ORDER BY i.indrelid, ic.relname"""

_INTROSPECT_SEQUENCES = f"""
SELECT {_qualified('n.nspname', 'c.relname')}, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
       (SELECT {_qualified('tn.nspname', 't.relname')} FROM pg_depend d
        JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
          AND d.deptype IN ('a', 'i') LIMIT 1)
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {_USER_NAMESPACE} AND {_not_extension('pg_class', 'c.oid')}
ORDER BY 1"""

_INTROSPECT_TYPES = f"""
SELECT {_qualified('n.nspname', 't.typname')},
       CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'c' THEN 'composite' ELSE 'range' END,
       CASE t.typtype
         WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                        FROM pg_enum e WHERE e.enumtypid = t.oid)
         WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod)
                       || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
                       || COALESCE(' DEFAULT ' || t.typdefault, '')
                       || COALESCE((SELECT ' ' || string_agg(pg_get_constraintdef(k.oid, true), ' ' ORDER BY k.conname)
                                    FROM pg_constraint k WHERE k.contypid = t.oid), '')
         WHEN 'c' THEN (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod),
                                          ', ' ORDER BY a.attnum)
                        FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
         ELSE (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid)
       END
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd', 'r')
       OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
  AND {_USER_NAMESPACE} AND {_not_extension('pg_type', 't.oid')}
ORDER BY 1"""

_INTROSPECT_FUNCTIONS = f"""
SELECT {_qualified('n.nspname', 'p.proname')}, pg_get_function_identity_arguments(p.oid), p.prokind,
       CASE WHEN p.prokind = 'a' THEN p.prosrc || ':' || format_type(p.prorettype, NULL)
            ELSE pg_get_functiondef(p.oid) END
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE {_USER_NAMESPACE} AND {_not_extension('pg_proc', 'p.oid')}
ORDER BY 1, 2"""

_INTROSPECT_TRIGGERS = f"""
SELECT t.tgname, {_qualified('n.nspname', 'c.relname')}, pg_get_triggerdef(t.oid, true)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND {_USER_NAMESPACE}
ORDER BY 2, 1"""

_INTROSPECT_EXTENSIONS = """
SELECT e.extname, e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
ORDER BY 1"""
