"""PostgreSQL: the guide's production engine.

What differs from the default:
- Connections carry ``lock_timeout`` and ``statement_timeout`` so a migration that waits behind
  the application's locks gives up instead of stalling the application.
- Migrations are written once in SQLite's dialect (the guide's) and translated here with sqlglot;
  ``PRAGMA table_info(t)`` becomes the equivalent information_schema query, other PRAGMAs are
  skipped with a note. A ``NNN_name.postgresql.sql`` file beside a migration wins over translation.
- ``CREATE INDEX CONCURRENTLY`` (and the like) cannot run inside a transaction block.
- Backups are ``pg_dump -Fc``; one runbook at a time is ``pg_advisory_lock``.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any, Iterator

import sqlalchemy as sa
import sqlglot
from sqlglot import exp

from ..errors import BadInput
from .base import Engine

if TYPE_CHECKING:
    from ..sqltext import Statement
    from ..target import Target

_OUTSIDE_TRANSACTION = re.compile(
    r"^\s*(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY|REINDEX\s+.*CONCURRENTLY"
    r"|VACUUM|ALTER\s+TYPE\s+\S+\s+ADD\s+VALUE|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM)",
    re.IGNORECASE | re.DOTALL,
)

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

    # -- target & connection -------------------------------------------------------------
    def normalize_url(self, url: sa.URL) -> sa.URL:
        return url.set(drivername="postgresql+psycopg")

    def target_name(self, url: sa.URL) -> str:
        return url.database or url.username or "postgres"

    def check_exists(self, target: "Target") -> None:
        try:
            with target.engine().connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.OperationalError as exc:
            raise BadInput(f"cannot connect to {target.display}: {_first_line(exc)}") from None

    def create_engine(self, target: "Target") -> sa.Engine:
        options = (
            f"-c lock_timeout={int(target.lock_timeout_s * 1000)} "
            f"-c statement_timeout={int(target.statement_timeout_s * 1000)}"
        )
        return sa.create_engine(
            target.url,
            connect_args={"options": options, "application_name": "schema-runbook", "connect_timeout": 10},
            poolclass=sa.pool.NullPool,
        )

    # -- SQL ---------------------------------------------------------------------------------
    def translate(self, statement: "Statement", source_dialect: str) -> list[str]:
        if source_dialect == self.sqlglot_dialect:
            return [statement.sql]
        tree = statement.parse(source_dialect)
        if isinstance(tree, exp.Pragma):
            return _translate_pragma(tree)
        if tree is None or isinstance(tree, exp.Command):
            return [statement.sql]  # not understood by the transpiler: run as written
        for column in tree.find_all(exp.ColumnDef):  # SQLite's INTEGER PRIMARY KEY is a rowid alias
            kinds = [c.args.get("kind") for c in column.constraints]
            if (column.kind and column.kind.this == exp.DataType.Type.INT
                    and any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds)):
                column.append("constraints", exp.ColumnConstraint(
                    kind=exp.GeneratedAsIdentityColumnConstraint(this=False)))
        for ordered in tree.find_all(exp.Ordered):  # sqlglot spells SQLite's NULL order out
            if isinstance(ordered.parent, (exp.Schema, exp.IndexParameters)) or ordered.find_ancestor(exp.Index):
                ordered.set("nulls_first", None)
        return [tree.sql(dialect=self.sqlglot_dialect)]

    def runs_outside_transaction(self, sql: str) -> bool:
        return bool(_OUTSIDE_TRANSACTION.match(sql))

    def explain(self, conn: sa.Connection, sql: str) -> list[str]:
        return [row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql)]

    def index_usable(self, conn: sa.Connection, sql: str) -> list[str]:
        with conn.begin_nested():
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = self.explain(conn, sql)
            conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
        return plan

    # -- inventory ---------------------------------------------------------------------------
    def database_size(self, conn: sa.Connection) -> int:
        return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())

    def table_size(self, conn: sa.Connection, table: str) -> int | None:
        return conn.execute(
            sa.text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": _qualified(table)}
        ).scalar()

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
        tree = _parse_default(str(default))
        if isinstance(tree, exp.Anonymous) and tree.name.lower() == "nextval":
            return None
        if (isinstance(tree, exp.Cast) and isinstance(tree.this, exp.Literal) and tree.this.is_string
                and tree.to.is_type(*exp.DataType.NUMERIC_TYPES)):
            return tree.this.name  # '-1'::integer is the number -1
        return super().canonical_default(default)

    @contextlib.contextmanager
    def scratch_database(self, target: "Target | None") -> Iterator["Target"]:
        """An empty database on ``target``'s server, dropped (WITH (FORCE)) on exit."""
        if target is None:
            raise NotImplementedError("a PostgreSQL scratch database needs a server")
        import uuid

        name = f"runbook_scratch_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(target.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            scratch = target.with_database(name)
            try:
                yield scratch
            finally:
                scratch.dispose()
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.dispose()


def _parse_default(default: str) -> exp.Expression | None:
    try:
        return sqlglot.parse_one(default, read="postgres")
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return None


def _qualified(table: str) -> str:
    return '"' + table.replace('"', '""') + '"'


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


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__

