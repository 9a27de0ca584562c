"""Default behaviour shared by every engine; engine modules override what differs."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple

import sqlalchemy as sa

if TYPE_CHECKING:
    from ..sqltext import Statement
    from ..target import Target


LOCK_ENV = "RUNBOOK_LOCK_HELD"
#: execution option of a connection whose transaction will write (a migration, a rollback script):
#: engines that lock lazily take the write lock when it begins (SQLite: BEGIN IMMEDIATE)
WRITE_TRANSACTION = "runbook_write_transaction"


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, read in chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


_NULL_DEFAULT = re.compile(r"^\(*\s*NULL\s*(::[\w .\[\]\"()]+)?\)*$", re.IGNORECASE)


def stored_default(default: str | None) -> str | None:
    """A column default as the engine stores it, ``DEFAULT NULL`` (``NULL::text``) being none."""
    if default is None or _NULL_DEFAULT.match(str(default).strip()):
        return None
    return str(default)


class ServerObjects(NamedTuple):
    """What a scratch database shares with the target on their server (PostgreSQL: the server's
    roles, tablespaces and databases, and the target's own database name), read before the
    scratch database is made. Empty where a scratch database shares nothing (SQLite)."""

    roles: frozenset[str] = frozenset()
    tablespaces: frozenset[str] = frozenset()
    databases: frozenset[str] = frozenset()
    database: str = ""  # the target's database (the one the migrations are meant for)


class ReferentialAction(NamedTuple):
    """A foreign key of ``child`` (its ``columns``) referring to ``parent`` (its ``referenced``
    columns), and what the engine does to the child's rows when the parent's rows are deleted or
    their referenced columns updated: ``"cascade"``, ``"set null"``, ``"set default"`` (the
    columns ``on_delete_sets`` set; all of ``columns`` unless PostgreSQL's ``SET NULL (cols)``)
    or ``"none"`` (``NO ACTION``, ``RESTRICT``: nothing, or the statement fails)."""

    parent: str
    child: str
    columns: tuple[str, ...]
    referenced: tuple[str, ...]
    on_delete: str
    on_update: str
    on_delete_sets: tuple[str, ...]


class Engine:
    """What the runbook needs from a database engine."""

    name: str = ""
    #: sqlglot dialect name of SQL written for this engine
    sqlglot_dialect: str = ""
    #: file-name marker of engine-specific migration variants: NNN_name.<variant_suffix>.sql
    variant_suffix: str = ""
    #: other sqlglot dialects whose scripts ``translate`` turns into this engine's SQL
    translates_from: tuple[str, ...] = ()
    #: True when a scratch database needs no server (a temporary file will do)
    serverless: bool = False
    #: True when a plain CREATE INDEX blocks writes while it builds and CREATE INDEX CONCURRENTLY
    #: exists (lint then suggests it for an index on an existing table)
    supports_concurrent_index: bool = False
    #: True when migrations run under a lock timeout that a migration may switch off
    #: (lint then flags a heavy lock taken after ``SET lock_timeout = 0``)
    lock_timeout_matters: bool = False
    #: True when a foreign key may name a table that does not exist yet (SQLite resolves it when a
    #: row is written; PostgreSQL refuses the statement): lint then looks for that table at the end
    #: of the migration, where a table created later in the same file counts
    late_foreign_keys: bool = False
    #: True when table names ignore case, quoted or not (SQLite): the data checks name a table as
    #: the catalog spells it, whatever spelling a statement used
    names_ignore_case: bool = False
    #: True when ``digest_parts`` reads a table in one query that also counts its rows (one
    #: piece: no progress to show), so a hashed table needs no ``COUNT(*)`` of its own
    digest_counts_rows: bool = False
    #: the row digest ``digest_parts`` sums, when it is not the one this engine's fingerprints
    #: were first made with (recorded in each fingerprint: one made with another is not compared)
    row_digest: str | None = None

    # -- target & connection -------------------------------------------------------------
    def normalize_url(self, url: sa.URL) -> sa.URL:
        return url

    def target_name(self, url: sa.URL) -> str:
        return url.database or self.name

    def check_exists(self, target: "Target") -> None:
        """Raise ``BadInput`` when the database does not exist or cannot be reached."""
        raise NotImplementedError

    def create_engine(self, target: "Target") -> sa.Engine:
        raise NotImplementedError

    # -- SQL ---------------------------------------------------------------------------------
    def can_run(self, source_dialect: str) -> bool:
        """Whether scripts written in ``source_dialect`` run here (as written, or translated)."""
        return source_dialect in (self.sqlglot_dialect, *self.translates_from)

    def translate(self, statement: "Statement", source_dialect: str) -> list[str]:
        """The SQL to run on this engine for a statement written in ``source_dialect``.

        An empty list means the statement has no meaning here (it is skipped and the report says so).
        """
        return [statement.sql]

    def run_sql(self, conn: sa.Connection, sql: str) -> sa.CursorResult:
        """Execute one statement of a script exactly as written (no parameters)."""
        return conn.exec_driver_sql(sql)

    def runs_outside_transaction(self, sql: str) -> bool:
        """True for statements the engine refuses inside a transaction block."""
        return False

    def server_objects(self, target: "Target") -> ServerObjects:
        """What a scratch database of ``target``'s server shares with every other database there
        (PostgreSQL: its roles, tablespaces, databases), as it stands now. Nothing by default."""
        return ServerObjects()

    def leave_server_objects(self, prepared: list, existing: ServerObjects, scratch: str, *,
                             create: bool = True) -> list:
        """``prepared`` (a script's ``PreparedStatement``s) as it runs on the scratch database
        named ``scratch``: without the statements that would change the server beyond it (each
        skipped with a note, or one naming the target's own database run on the scratch database
        instead where that is exact); ``NotOnScratch`` (before anything runs) for one whose
        skipping would make the scratch run lie. ``existing``: ``server_objects`` before the
        scratch database was made; ``create`` False (the rehearsal): a statement that creates one
        of them runs, and fails as it will on the target. Unchanged by default."""
        return prepared

    def after_script(self, conn: sa.Connection) -> None:
        """After a script's statements, on the same connection: undo the session settings a script
        may change that decide what the runbook's own statements that follow mean (its history
        rows, its data checks). Nothing by default."""

    def after_failed_outside_transaction(self, conn: sa.Connection, prepared: list) -> list[str]:
        """Clean up after a statement that ran outside a transaction failed; what was cleaned up,
        for the error to say (nothing by default)."""
        return []

    def undoable_outside_transaction(self, sql: str) -> bool:
        """Whether ``sql``, a statement that runs outside a transaction, can be undone exactly once
        it succeeded (``undo_outside_transaction``): several such statements may then share a
        migration (``migrate.prepare``). None by default."""
        return False

    def undo_outside_transaction(self, conn: sa.Connection, sql: str) -> Callable[[], list[str]]:
        """Called on ``conn`` (autocommit) right before ``sql`` runs; returns what gives, once it
        succeeded, the statements that undo it, in order (none: it changed nothing to undo)."""
        raise NotImplementedError

    def set_local_lock_timeout(self, conn: sa.Connection, ms: int) -> None:
        """Make the current transaction wait at most ``ms`` for a lock. Nothing by default
        (SQLite's busy timeout belongs to the connection: the target's ``lock_timeout``)."""

    def lock_timed_out(self, exc: sa.exc.DBAPIError) -> bool:
        """True when ``exc`` says a lock was not granted in time (False by default: not told apart)."""
        return False

    def failed_for_sharing_a_transaction(self, exc: BaseException | None) -> bool:
        """Did ``exc`` happen only because the statement shared a transaction with the ones
        before it, and would not in a transaction of its own? (Lint's replay then commits the
        migration before it runs the rollback, as a real rollback would.) No, by default."""
        return False

    def explain(self, conn: sa.Connection, sql: str) -> list[str]:
        raise NotImplementedError

    def index_usable(self, conn: sa.Connection, sql: str) -> list[str]:
        """The plan when the planner is asked to prefer indexes (tiny demo tables would
        otherwise always be scanned); defaults to the ordinary plan."""
        return self.explain(conn, sql)

    # -- inventory ---------------------------------------------------------------------------
    def database_size(self, conn: sa.Connection) -> int:
        raise NotImplementedError

    # tables are named as in the schema model (``runbook.schema``): PostgreSQL's outside ``public``
    # as ``schema.name``
    def split_table(self, name: str) -> tuple[str | None, str]:
        """A table's name in the schema model as (its schema, or None for the default; its name)."""
        return None, name

    def quote_table(self, name: str) -> str:
        """A table of the schema model as SQL."""
        schema, table = self.split_table(name)
        return f"{self.quote_name(schema)}.{self.quote_name(table)}" if schema else self.quote_name(table)

    def table(self, name: str, *columns: str) -> sa.TableClause:
        """A table of the schema model, for SQLAlchemy's queries."""
        schema, table = self.split_table(name)
        return sa.table(table, *[sa.column(c) for c in columns], schema=schema)

    def columns(self, insp: sa.Inspector, name: str) -> list[dict[str, Any]]:
        """SQLAlchemy's reflection of a table of the schema model's columns."""
        schema, table = self.split_table(name)
        return insp.get_columns(table, schema=schema)

    def primary_key(self, insp: sa.Inspector, name: str) -> list[str]:
        """The primary-key columns of a table of the schema model (empty: it has none)."""
        schema, table = self.split_table(name)
        return list((insp.get_pk_constraint(table, schema=schema) or {}).get("constrained_columns") or [])

    def table_names(self, conn: sa.Connection) -> list[str]:
        """Every table ``conn`` sees, named as in the schema model, the runbook's own included."""
        return sorted(sa.inspect(conn).get_table_names())

    def column_names(self, conn: sa.Connection) -> dict[str, list[str]]:
        """Every table ``table_names`` lists (a table without columns too), with its columns
        (generated ones left out: they hold nothing of their own), in one catalog read."""
        raise NotImplementedError

    def write_counters(self, conn: sa.Connection) -> dict[str, int] | None:
        """Per table, how many rows this session has inserted, updated or deleted, by the
        engine's own counters, not yet flushed: two readings inside one transaction differ exactly
        for the tables that transaction wrote to, whatever statement wrote (a ``DO`` block, a
        function, a trigger). ``None``: the engine cannot tell."""
        return None

    def rows_written(self, conn: sa.Connection) -> int | None:
        """How many rows this session has inserted, updated or deleted so far, the rows its
        statements' triggers and foreign-key actions wrote included, by the engine's own count, in
        one cheap reading: two readings around one statement differ when it wrote a row, whatever
        wrote it (then ``write_counters``, or ``tables_written_by``, say where). ``None``: the
        engine cannot tell."""
        return None

    def tables_written_by(self, conn: sa.Connection, sql: str) -> set[str] | None:
        """The tables the engine's program for ``sql`` opens for writing, the programs of the
        triggers and foreign-key actions it fires included (model names); ``None``: not told."""
        return None

    def same_definition(self, target: "Target", kind: str, where: str, a: str, b: str) -> bool:
        """Whether two texts of a ``kind`` (``check``, ``index``: of the table ``where``; ``view``:
        ``where``), as the engine prints them, are one definition; ``schema.differences``'s
        ``same``. Their texts, here."""
        return a == b

    def trigger_statements(self, conn: sa.Connection, table: str, events: Collection[str]) -> list[str] | None:
        """The SQL statements ``table``'s enabled triggers on ``events`` (``insert``, ``update``,
        ``delete``) run, as written in their bodies and in the project's functions they call
        ([]: none); ``None`` when one of them runs code no parser reads (another language,
        ``EXECUTE``)."""
        return []

    def update_trigger_columns(self, conn: sa.Connection, tables: Collection[str]) -> dict[str, set[str] | None]:
        """Per table of ``tables`` (model names) whose ``UPDATE`` fires triggers that change that
        table's own rows, the columns they may set there (``None``: any): what the engine adds to
        an ``UPDATE``'s own ``SET`` list. Tables without such triggers are absent."""
        return {}

    def referential_actions(self, conn: sa.Connection, parents: Collection[str]) -> list[ReferentialAction]:
        """The foreign keys referring to ``parents`` (tables, model names), as enforced in
        ``conn``'s session now, with what the engine does to the child's rows when the parent's
        rows are deleted or their referenced columns updated (``"none"`` included: a ``TRUNCATE
        ... CASCADE`` empties the child whatever its actions). In one read."""
        return []

    def column_numbers(self, conn: sa.Connection, table: str) -> dict[str, tuple[int, int]] | None:
        """The engine's own identity of each column of ``table``, which a rename keeps and a
        column dropped and added again, or a table made anew under the name, does not
        (PostgreSQL's table oid and ``attnum``): the data check follows columns by it, whatever
        renamed them (code no parser reads included). ``None`` where the engine keeps no such
        identity (SQLite's column ids are positions)."""
        return None

    def columns_of_type(self, conn: sa.Connection, name: tuple[str, ...]) -> dict[str, list[str]]:
        """Per table (model names), its columns of the user-defined type ``name`` (its parts, as
        a statement names it), of an array of it or of a domain over it: where that type's values
        are stored. None on an engine without such types."""
        return {}

    def inheritors(self, conn: sa.Connection, tables: set[str]) -> set[str]:
        """The tables whose rows are also rows of one of ``tables`` (model names): PostgreSQL's
        partitions and inheritance children, at any depth; a write to the parent lands there."""
        return set()

    def routines(self, conn: sa.Connection) -> dict[str, str]:
        """The routines the database defines (not the engine's own, not an extension's), keyed by
        model name (``schema.name`` outside ``public``), with what they may do: ``procedure``,
        or a function's volatility (``volatile``, ``stable``, ``immutable``: the last two cannot
        write). Empty where the engine has no routines defined in SQL (SQLite)."""
        return {}

    def index_names(self, conn: sa.Connection, name: str) -> set[str]:
        """The names of a table's indexes, as the schema model names them (one catalog query,
        where the model takes a dozen)."""
        raise NotImplementedError

    def table_size(self, conn: sa.Connection, table: str) -> int | None:
        return None

    def canonical_type(self, type_name: str) -> str:
        """A type name comparable across engines (``DATETIME`` and ``TIMESTAMP`` alike)."""
        t = type_name.upper().split("(")[0].strip()
        return {
            "INT": "INTEGER", "INT4": "INTEGER", "BIGINT": "INTEGER", "INT8": "INTEGER", "SMALLINT": "INTEGER",
            "DATETIME": "TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE": "TIMESTAMP",
            "VARCHAR": "TEXT", "CHARACTER VARYING": "TEXT", "BOOL": "BOOLEAN",
            "REAL": "FLOAT", "DOUBLE PRECISION": "FLOAT", "FLOAT8": "FLOAT", "DOUBLE": "FLOAT",
            "NUMERIC": "DECIMAL", "SERIAL": "INTEGER", "BIGSERIAL": "INTEGER", "SMALLSERIAL": "INTEGER",
        }.get(t, t)

    # -- data checks: row text, fingerprints, before-copies (engine SQL; see inventory, effects) --
    def quote_name(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def row_text_sql(self, columns: list[str], alias: str = "") -> str:
        """An SQL expression giving one row's ``columns`` as text that tells values and kinds apart."""
        raise NotImplementedError

    def digest_parts(self, conn: sa.Connection, table: str, columns: list[str],
                     key: list[str]) -> Iterator[tuple[int, str]]:
        """``(rows, digest or text)`` pieces covering every row of ``table`` over ``columns``, the
        same for the same stored data (``inventory.fingerprint`` hashes them); ``key`` is the
        primary key (empty: none)."""
        raise NotImplementedError

    def content_pages(self, conn: sa.Connection, tables: list[str]) -> dict[str, dict[str, Any]] | None:
        """A digest of the stored form of each of ``tables`` (``{table: {"sha256", "layout"}}``),
        read in ``conn``'s read transaction: a change detector far cheaper than a fingerprint.
        Equal digests (``same_pages``) mean the same stored rows, so the same content; different
        ones say nothing (a rebuilt table has new pages). ``None`` where the engine cannot tell
        (the default; SQLite says how it can)."""
        return None

    def same_pages(self, then: dict[str, Any] | None, now: dict[str, Any] | None) -> bool:
        """Do two ``content_pages`` digests of a table prove it holds the same rows over the
        columns it had ``then``? (The stored pages are identical and each of those columns is
        read from them as before: same position, same default.)"""
        return False

    def comparable_sql(self, expr: str) -> str:
        """``expr`` in a form every column type can be compared (and grouped) in."""
        return expr

    def differs_sql(self, a: str, b: str) -> str:
        """True when two values differ, NULLs included (``IS DISTINCT FROM``)."""
        return f"{self.comparable_sql(a)} IS DISTINCT FROM {self.comparable_sql(b)}"

    def create_before_copy(self, conn: sa.Connection, name: str, table: str, columns: list[str],
                           key: list[str]) -> set[str]:
        """A temporary copy of ``table``'s ``columns`` named ``name`` (indexed on ``key``), dropped
        with the connection (or at commit), for comparing the table after statements ran; returns
        the columns copied as their text (``comparable_sql``) rather than as they are."""
        raise NotImplementedError

    def hold_writers(self, conn: sa.Connection, tables: list[str]) -> None:
        """Keep other sessions from writing to ``tables`` until this transaction ends, so what it
        reads before and after its own statements differs only by them (nothing by default)."""

    def introspect(self, conn: sa.Connection, known: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The schema as this engine holds it (see ``runbook.schema`` for the model): ``tables``,
        ``views``, ``types``, ``sequences``, ``functions``, ``triggers``, ``extensions``, each a
        dict by name, in the engine's own spelling. Read-only. ``known``: tables the caller read
        before and knows unchanged since (lint's replay: those no statement since named), by
        name; an engine may take them as they are instead of reading them again, for a table
        that is still there (the table list and the other sections are always read)."""
        raise NotImplementedError

    def schema_script(self, target: "Target") -> str:
        """The statements that build ``target``'s schema, no rows, in the engine's own words
        (the runbook's own tables left out): a brownfield database's baseline
        (``runbook baseline --write``)."""
        raise NotImplementedError(f"{self.name} cannot write its schema as statements")

    def version_key(self, conn: sa.Connection) -> str:
        """The engine's version, as far as it decides how a schema is spelled (cache keys)."""
        return str(conn.dialect.server_version_info or "")

    @contextlib.contextmanager
    def read_snapshot(self, target: "Target") -> Iterator[sa.Connection]:
        """A connection inside one read transaction, so every query sees the same state
        (SQLite: a deferred transaction's read snapshot, taken at its first read)."""
        with target.engine().connect() as conn:
            with conn.begin():
                yield conn

    #: execution options that make a transaction READ ONLY (none: SQLite's is only rolled back)
    read_only_options: dict[str, Any] = {}

    @contextlib.contextmanager
    def rolled_back(self, target: "Target") -> Iterator[sa.Connection]:
        """A connection inside one transaction that is rolled back at the end, whatever ran in it
        (verify scripts: ``migrate.verify_script_checks``), READ ONLY where the engine has that
        (``read_only_options``: PostgreSQL's, so a verify script that writes fails there)."""
        with target.engine().connect() as conn:
            conn.execution_options(**self.read_only_options)
            tx = conn.begin()
            try:
                yield conn
            finally:
                tx.rollback()

    @contextlib.contextmanager
    def live_snapshot(self, target: "Target", reading: Collection[str] | Callable[[], Collection[str]] | None = None
                      ) -> Iterator[sa.Connection]:
        """``read_snapshot`` of a live target the application writes to, for long reads (the
        inventory's and verify's hashing): here the same; SQLite in rollback-journal mode reads
        a copy, so its read lock does not stop the application's writers. ``reading``: the only
        tables the caller will hash row by row, when it knows (its other reads: counts, schema,
        joins, stored pages), or a function telling them, called only where it decides something."""
        with self.read_snapshot(target) as conn:
            yield conn

    def canonical_default(self, default: Any) -> str | None:
        """A column default comparable across engines."""
        if default is None:
            return None
        d = str(default).strip()
        while d.startswith("(") and d.endswith(")"):
            d = d[1:-1].strip()
        d = d.split("::")[0].strip()  # PostgreSQL's '[]'::text
        return d if d.startswith("'") else d.upper()

    # -- safety ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, target: "Target") -> Iterator[None]:
        """The one-runbook-at-a-time lock, re-entrant across the processes of one run.

        A pipeline takes it once for the whole run; the notebook kernels it starts inherit
        ``RUNBOOK_LOCK_HELD`` and do not try to take it again. Anyone else gets ``LockBusy``.
        """
        if os.environ.get(LOCK_ENV) == target.display:
            yield
            return
        with self.exclusive_lock(target):
            previous = os.environ.get(LOCK_ENV)
            os.environ[LOCK_ENV] = target.display
            try:
                yield
            finally:
                if previous is None:
                    os.environ.pop(LOCK_ENV, None)
                else:
                    os.environ[LOCK_ENV] = previous

    @contextlib.contextmanager
    def exclusive_lock(self, target: "Target") -> Iterator[None]:
        """Hold the one-runbook-at-a-time lock for this database; ``LockBusy`` when taken."""
        yield

    def preflight(self, target: "Target", tables: Collection[str] = ()) -> list[dict[str, Any]]:
        """Sessions or transactions that would block a migration touching ``tables`` (any table
        when empty); each a dict with at least ``pid`` and ``reason``. Empty: none."""
        return []

    def check_lock(self, target: "Target", conn: sa.Connection | None = None) -> None:
        """``LockLost`` when the run's lock can no longer keep another run out; called before
        every state change (each migration, rollback step, restore), on ``conn`` when given (the
        change's own transaction). Nothing by default: a lock that only ends with its process
        cannot vanish while the run goes on."""

    def remove_leftovers(self, target: "Target") -> list[str]:
        """Drop what dead runs left on the target's server (scratch databases); what was removed."""
        return []

    # -- backup, restore, scratch copies ----------------------------------------------------
    def backup_file_name(self, target: "Target", stamp: str) -> str:
        """The name of a backup of ``target`` taken at ``stamp``."""
        raise NotImplementedError

    def backup(self, target: "Target", dest: Path) -> dict[str, Any]:
        """Write a backup of ``target`` into the file ``dest`` (a temporary name; ``backup.take``
        renames it once verified); returns what was taken (``path``, ``format``, ``source_row_counts``,
        ...; ``backup.take`` adds the file's ``sha256`` once it is on disk)."""
        raise NotImplementedError

    def identity(self, target: "Target") -> dict[str, Any] | None:
        """What tells this database from any other, recorded with each backup (``None``: unknown)."""
        return None

    def ensure_identity(self, target: "Target") -> dict[str, Any] | None:
        """The identity, giving the database one first where the engine needs that."""
        return self.identity(target)

    def backup_facts(self, path: Path) -> dict[str, Any]:
        """What a backup file itself says: ``{"readable", "tables", "identity"}`` (identity as far as
        the file tells it, else ``None``)."""
        raise NotImplementedError

    def rows_not_in_backup(self, target: "Target", backup_path: Path, record: dict[str, Any] | None,
                           skip_tables: Collection[str] = ()) -> dict[str, Any]:
        """What a restore of ``backup_path`` would discard: ``{"rows", "tables": {name: n},
        "method"}`` (``rows`` None when it cannot be told)."""
        raise NotImplementedError

    def verify_backup(self, target: "Target", info: dict[str, Any]) -> list[dict[str, Any]]:
        """Checks of a backup: the file is there with its recorded SHA-256, then what the engine
        can tell of its contents (``verify_backup_contents``)."""
        from ..checks import check

        path = Path(info["path"])
        checks = [check("backup file exists", path.is_file(), str(path))]
        if not path.is_file():
            return checks
        checks.append(check("SHA-256 matches", sha256_file(path) == info["sha256"], info["sha256"][:16] + "…"))
        return checks + self.verify_backup_contents(path, info)

    def verify_backup_contents(self, path: Path, info: dict[str, Any]) -> list[dict[str, Any]]:
        """Open or list the backup and compare it with what was recorded of the source."""
        raise NotImplementedError

    def restore(self, target: "Target", backup_path: Path) -> None:
        raise NotImplementedError

    def backup_database(self, target: "Target", backup_path: Path) -> "Target | None":
        """The backup file itself as a database to read, where it is one (SQLite); ``None`` where
        a backup must be restored first (PostgreSQL's dump)."""
        return None

    @contextlib.contextmanager
    def scratch_copy(self, target: "Target", backup_path: Path) -> Iterator["Target"]:
        """A throwaway database restored from ``backup_path``, dropped on exit."""
        raise NotImplementedError
        yield  # pragma: no cover

    def scratch_database(self, target: "Target | None", purpose: str = "scratch") -> contextlib.AbstractContextManager["Target"]:
        """An empty throwaway database of this engine (on ``target``'s server where the engine
        has servers), dropped on exit. Used by lint to replay migrations and rollbacks."""
        raise NotImplementedError
