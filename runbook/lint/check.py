"""Linting a sequence of migrations: classify each against the schema at its point of the
sequence, and replay them (with their rollbacks) on a scratch database of the target's engine.

Where the schema comes from:

* **the engine** (``schema_source = "engine"``): the migrations are replayed in order on a scratch
  database of the same engine (an SQLite temporary file always; a ``<db>_lint_<random>`` database
  on the ``--db`` PostgreSQL server), and before each migration is classified the scratch database
  is introspected. The same replay checks each rollback: snapshot, apply the migration, apply its
  rollback, compare, apply the migration again: one forward pass, never a replay from scratch.
* **the target** (the migrate gate, and ``--db``'s pending migrations): its real schema, so a
  table made outside the migrations counts as existing.
* **a static guess** (``"static"``: PostgreSQL without a server, or ``check_rollback=False``): the
  classifiers follow the migrations' own DDL in ``model.SchemaModel``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .. import migrations as mig
from ..engines.base import ServerObjects
from ..errors import BadInput, LeftOnServer, MigrationFailed, NotOnScratch, RunFailed
from ..migrations import Migration
from .classify import HIGHEST, Classifier
from .model import SchemaModel, fold, reflect
from .model import from_database as database_model
from .report import MigrationLint, Verdict
from .rules import risk, verify
from .rules.code import WROTE_THROUGH_CODE
from .rules.reading import UNPARSABLE
from .rules.replay import APPLY_FAILED, LEFT_ON_SERVER, NOT_RUNNABLE, ROLLBACK_FAILED, ROLLBACK_MISMATCH, ROLLBACK_UNCHECKED
from .sqlite import SqliteClassifier

if TYPE_CHECKING:
    from ..engines.base import Engine
    from ..target import Target

def classifier_for(dialect: str) -> type[Classifier]:
    """The classifier of a source dialect (the dialect a file is written in, not the engine it runs on)."""
    if dialect in ("postgres", "postgresql"):
        from .postgresql import PostgresClassifier  # here: pglast is loaded by the first PostgreSQL file only

        return PostgresClassifier
    return SqliteClassifier


def lint_migration(m: Migration, engine: "Engine", schema: SchemaModel, *,
                   runner_lock_timeout_ms: int | None = None, schema_source: str = "static") -> MigrationLint:
    """Classify the file of ``m`` that runs on ``engine``, against ``schema`` (updated in place to
    the schema after it), with the findings about that one migration."""
    try:
        path, dialect = m.script.source_for(engine)
    except BadInput as exc:  # a file in a dialect this engine cannot run, without a variant for it
        unit = MigrationLint(m, engine.name, m.path, m.script.dialect, m.risk_level, schema_source=schema_source)
        unit.findings.append(NOT_RUNNABLE.at(m.path, None, str(exc)))
        return unit
    unit = MigrationLint(m, engine.name, path, dialect, m.risk_level, schema_source=schema_source)
    try:
        statements, dialect = m.script.statements_for(engine)
        unit.dialect = dialect
    except BadInput as exc:
        at = re.match(rf"{re.escape(str(path))}:(\d+):", str(exc))  # the reader names the line when it can
        line = int(at.group(1)) if at else None
        unit.statements.append(Verdict(1, line or 1, "", "unparsable", HIGHEST, f"the file cannot be read: {exc}"))
        unit.findings.append(UNPARSABLE.at(path, line, f"the file cannot be read as SQL: {exc}"))
        schema.doubt = schema.doubt or f"{m.label} could not be read"
    else:
        classifier_for(dialect)(unit, schema, statements, engine=engine,
                                runner_lock_timeout_ms=runner_lock_timeout_ms).run()
    tables, line = m.writes(engine)
    if tables:  # what the statements' code writes (lint reads a function call as a read)
        unit.statements.insert(0, Verdict(0, line or 1, "", "declared-writes", 3,
                                       f"its header declares it writes {', '.join(tables)} through code no parser "
                                       "can read (a function, a trigger, EXECUTE, CALL): a data migration"))
    risk.check(unit)
    verify.check(unit, engine)
    return unit


def lock_timeout_ms(target: "Target | None") -> int:
    from ..target import DEFAULT_LOCK_TIMEOUT_S

    return int((target.lock_timeout_s if target is not None else DEFAULT_LOCK_TIMEOUT_S) * 1000)


def lint_sequence(migrations: list[Migration], engine: "Engine", *, start: SchemaModel | None = None,
                  from_database: tuple[set[str], SchemaModel] | None = None,
                  target: "Target | None" = None) -> list[MigrationLint]:
    """Lint every migration in order with the static model, started empty (or ``start``); with
    ``from_database=(applied versions, model of the database)``, the pending migrations are
    checked against the database's real schema instead."""
    schema = start.copy() if start is not None else SchemaModel()
    source = "database" if start is not None else "static"
    units = []
    switched = False
    for m in migrations:
        if from_database is not None and not switched and m.version not in from_database[0]:
            known = schema.routines
            schema = from_database[1].copy()  # the real schema: earlier doubts no longer matter
            schema.routines = known | schema.routines
            source, switched = "database", True
        unit = lint_migration(m, engine, schema, runner_lock_timeout_ms=lock_timeout_ms(target), schema_source=source)
        if from_database is not None:
            unit.applied = m.version in from_database[0]
        units.append(unit)
    return units


def database_state(target: "Target", migrations: list[Migration]) -> tuple[set[str], SchemaModel]:
    with target.engine().connect() as conn:
        status = mig.status(conn, migrations, target.kind)
        applied = {a.version for a in status.applied}
        if status.adoptable:
            applied.add(migrations[0].version)
        return applied, database_model(conn)


def _with_extra_tables(model: SchemaModel, real: SchemaModel) -> SchemaModel:
    """``model`` plus what the real database holds beyond it (tables made outside the migrations)."""
    out = model.copy()
    if not real.tables.keys() - out.tables.keys() and real.views <= out.views:
        return out
    for name, info in real.tables.items():
        out.tables.setdefault(name, info)
    out.views |= real.views
    for name, table in real.indexes.items():
        out.indexes.setdefault(name, table)
    return out


# -- the replay on a scratch database -----------------------------------------------------------
def lint_replayed(migrations: list[Migration], engine: "Engine", target: "Target | None", *,
                  real: tuple[set[str], SchemaModel] | None = None) -> list[MigrationLint]:
    """Replay ``migrations`` in order on a scratch database of ``engine``; before each one, ask the
    engine for the schema and classify the migration against it; after it, check its rollback
    (snapshot, migration, rollback, compare, migration again). ``real``: the target's applied
    versions and schema (the pending migrations also see what it holds beyond the migrations).
    Raises ``NotImplementedError``/``BadInput``/``RunFailed``/``SQLAlchemyError`` when no
    scratch database can be made (nothing is linted then). A role the replay created and could
    not drop after it (PostgreSQL: roles belong to the server) is a ``left-on-server`` error."""
    from ..migrate import prepare

    units: list[MigrationLint] = []
    try:
        _replay_all(migrations, engine, target, real, units, prepare)
    except LeftOnServer as exc:  # the replay ran; a role it created could not be dropped (PostgreSQL)
        if not units:
            raise
        first = re.compile(rf"\b{re.escape(exc.roles[0])}\b", re.IGNORECASE) if exc.roles else None
        named = [u for u in units if first and first.search(Path(u.file).read_text(encoding="utf-8-sig"))]
        where = (named or units)[0]  # the first migration that names it
        where.findings.append(LEFT_ON_SERVER.at(where.file, None, str(exc)))
    return units


def _replay_all(migrations: list[Migration], engine: "Engine", target: "Target | None",
                real: tuple[set[str], SchemaModel] | None, units: list[MigrationLint], prepare: Any) -> None:
    ms = lock_timeout_ms(target)
    existing = engine.server_objects(target) if target is not None else ServerObjects()
    with engine.scratch_database(target, "lint") as scratch:
        replayable = lambda script, engine: engine.leave_server_objects(  # noqa: E731
            prepare(script, engine), existing, scratch.url.database)
        sa_engine = scratch.engine()
        stopped: str | None = None
        static: SchemaModel | None = None  # after a failure: the static model goes on from there
        with sa_engine.connect() as conn:
            state = reflect(conn)
        routines: dict[str, str] = {}  # the migrations' own, carried along (the catalog is not re-read)
        for m in migrations:
            pending = real is not None and m.version not in real[0]
            if stopped:
                unit = lint_migration(m, engine, static, runner_lock_timeout_ms=ms)
                unit.rollback_check = {"status": "not checked", "detail": stopped}
            else:
                static = _with_extra_tables(state[0], real[1]) if pending else state[0].copy()
                static.routines = routines | (real[1].routines if pending else {})
                unit = lint_migration(m, engine, static, runner_lock_timeout_ms=ms, schema_source="engine")
                routines = static.routines
                stopped, state = _replay_one(unit, sa_engine, scratch, state, replayable)
            if real is not None:
                unit.applied = not pending
            units.append(unit)


def touched_names(u: MigrationLint, state: tuple[SchemaModel, dict], engine: "Engine") -> set[str] | None:
    """Names (as the model keys them) of the tables the migration or its rollback may change: every known table
    its text names, and the tables whose foreign keys point at one of those. ``None`` (reflect
    everything) when it cannot be told from the text: a statement lint could not read, CASCADE,
    DO, CALL, EXECUTE."""
    if any(v.kind in ("unparsable", "unclassified") for v in u.statements):
        return None
    text = Path(u.file).read_text(encoding="utf-8-sig")
    if u.migration.rollback is not None:  # the rollback file that runs on this engine (a variant wins)
        rollback_file = u.migration.rollback.variants.get(engine.variant_suffix, u.migration.rollback.path)
        text += "\n" + Path(rollback_file).read_text(encoding="utf-8-sig")
    words = set(re.findall(r"[a-z_][a-z0-9_$]*", text.lower()))
    if words & {"cascade", "do", "call", "execute", "perform"}:
        return None
    model = state[0]
    named = {t for t in model.tables if t.rpartition(".")[2].lower() in words}
    named |= {v for v in model.views if v.rpartition(".")[2].lower() in words}
    named |= {t for t, info in model.tables.items() if any(fk.table in named for fk in info.foreign_keys)}
    return named


def _replay_one(u: MigrationLint, sa_engine: sa.Engine, scratch: "Target", state: tuple[SchemaModel, dict],
                prepare: Any) -> tuple[str | None, tuple[SchemaModel, dict]]:
    """Apply ``u``'s migration on the scratch database and check its rollback; returns (why the
    replay stops, or None; the model and snapshot after the migration). ``state`` is the model and
    snapshot after the previous migration: nothing is replayed twice, and only the tables the
    migration may change are introspected again."""
    m, engine = u.migration, scratch.kind
    touched = touched_names(u, state, engine)
    if all(v.category is None for v in u.statements):  # already reported as "empty"
        u.rollback_check = {"status": "skipped", "detail": "the migration has no statements to run"}
        return None, state
    try:
        forward = prepare(m.script, engine)
        backward = prepare(m.rollback, engine) if m.rollback else None
    except BadInput as exc:
        u.findings.append(NOT_RUNNABLE.at(u.file, None, str(exc)))
        u.rollback_check = {"status": "failed", "detail": str(exc)}
        return f"{m.label} cannot run", state
    except NotOnScratch as exc:  # PostgreSQL: it would change the server, and skipping it would lie
        u.findings.append(ROLLBACK_UNCHECKED.at(u.file, None, f"not replayed: {exc}"))
        u.rollback_check = {"status": "skipped", "detail": str(exc)}
        return f"{m.label} cannot run on a scratch database", state
    if any(p.outside_transaction for p in forward + (backward or [])):
        return _replay_outside_transaction(u, sa_engine, scratch, state, touched, forward, backward)
    return _replay_in_transaction(u, sa_engine, scratch, state, touched, forward, backward)


def _replay_in_transaction(u: MigrationLint, sa_engine: sa.Engine, scratch: "Target", state: tuple[SchemaModel, dict],
                           touched: set[str] | None, forward: list,
                           backward: list | None) -> tuple[str | None, tuple[SchemaModel, dict]]:
    """One transaction: the migration; a savepoint; its rollback; the schema compared with the one
    before; back to the savepoint; the schema after the migration; commit. The migration runs once.
    A rollback that fails only because it shares the migration's transaction (on PostgreSQL, using
    an enum value the migration added) is checked as ``_replay_outside_transaction`` does: each
    committed, as they run for real."""
    from ..migrate import execute_script

    m, before = u.migration, state[1]
    with sa_engine.connect() as conn:
        tx = conn.begin()
        watch = WriteWatch(scratch.kind, conn, state[0], forward)
        try:
            execute_script(conn, forward, f"{m.label} (migration)", m.version, observe=watch)
        except MigrationFailed as exc:
            tx.rollback()
            return _apply_failed(u, f"statement {exc.statement_no} (line {exc.line}): {exc.cause}"), state
        watch.judge(u)
        if backward is None:
            _no_rollback(u)
        else:
            savepoint = conn.begin_nested()
            try:
                execute_script(conn, backward, f"{m.label} (rollback)", m.version)
            except MigrationFailed as exc:
                if scratch.kind.failed_for_sharing_a_transaction(exc.__cause__):
                    tx.rollback()
                    return _replay_outside_transaction(u, sa_engine, scratch, state, touched, forward, backward)
                failure = f"statement {exc.statement_no} (line {exc.line}): {exc.cause}"
                u.findings.append(ROLLBACK_FAILED.at(m.rollback.path, None,
                                                     f"the rollback fails right after its migration: {failure}"))
                u.rollback_check = {"status": "failed", "detail": failure}
            else:
                _judge_rollback(u, before, reflect(conn, state, touched)[1])
            savepoint.rollback()
        after: tuple[SchemaModel, dict] | None = reflect(conn, state, touched)
        try:
            tx.commit()
        except sa.exc.OperationalError:
            # SQLite refuses the COMMIT ("SQL logic error", the transaction rolled back) after a
            # virtual table the migration dropped was re-created by its rollback inside the savepoint
            # rolled back: check them as they run for real, each committed (this connection closed)
            conn.rollback()
            after = None
    if after is None:
        return _replay_outside_transaction(u, sa_engine, scratch, state, touched, forward, backward)
    return None, after


class WriteWatch:
    """What each statement of a migration wrote on the scratch database, by the engine's own count:
    ``Engine.rows_written`` around each statement (one cheap reading), and where it changed, which
    tables (``write_counters``, PostgreSQL's per table and transaction; else ``tables_written_by``,
    the tables SQLite's program for it writes, when it counted rows beyond the statement's own);
    held against the tables the statement names (``effects.statement_tables``, the reading
    migrate's data check declares by) and the header's ``-- Writes:``. Every name is compared as
    the model compares them (``model.fold``): on PostgreSQL ``"User"`` and ``user`` are two
    tables, and a write to one is not the other's. Pass it as ``execute_script``'s ``observe``,
    then ``judge``."""

    def __init__(self, engine: "Engine", conn: sa.Connection, before: SchemaModel, prepared: list) -> None:
        self.engine, self.conn = engine, conn
        self.fold = fold(engine.name)
        self.existing = {self.fold(t) for t in before.tables}
        self.sql = [sql for p in prepared for sql in p.sql]
        self.rows = engine.rows_written(conn)
        # per table, as it stands (all 0 while nothing is counted: counters only grow)
        self.counters = engine.write_counters(conn) if self.rows else {}
        self.runs = 0  # statements run so far (an index into ``sql``)
        self.wrote: list[tuple[Any, int, set[str], int]] = []  # (statement, sql index, tables, rows)

    def __call__(self, p: Any, sql: str, result: Any) -> None:
        at = self.runs
        self.runs += 1
        if self.rows is None:
            return
        now = self.engine.rows_written(self.conn) or 0
        delta, self.rows = now - self.rows, now
        if not delta:
            return
        counters = self.engine.write_counters(self.conn)
        if counters is not None:  # per table: exactly the tables it wrote
            before = self.counters or {}
            written = {self.fold(t) for t, n in counters.items() if n != before.get(t, 0)} & self.existing
            self.counters = counters
            if written:
                self.wrote.append((p.statement, at, written, 0))
            return
        own = result.rowcount if result.rowcount is not None and result.rowcount > 0 and not result.columns else 0
        if delta > own:  # rows beyond the statement's own: a trigger, a foreign-key action, a virtual table
            tables = {self.fold(t) for t in self.engine.tables_written_by(self.conn, sql) or ()}
            self.wrote.append((p.statement, at, tables & self.existing, delta - own))

    def judge(self, u: MigrationLint) -> None:
        """Findings (``wrote-through-code``) for the writes no statement names and the header does
        not declare; their statements become Category 3 and the declaration is checked again."""
        if not self.wrote:
            return
        m, engine = u.migration, self.engine
        from .. import effects

        named = effects.statement_tables(self.sql, engine.sqlglot_dialect, self.fold)
        declared = {self.fold(t) for t in m.writes(engine)[0]}
        header = ("its header says -- Writes: none" if m.writes_nothing(engine)
                  else "its header does not declare it (-- Writes:)")
        raised = False
        for st, at, tables, rows in self.wrote:
            undeclared = sorted(tables - named[at] - declared)
            if undeclared and named[at]:  # a partition of a table it names holds that table's rows
                undeclared = sorted(set(undeclared) - engine.inheritors(self.conn, named[at] | declared))
            if not undeclared and (tables or named[at] or declared or st.writes(st.dialect or u.dialect)):
                continue  # what it wrote is what it names or the header declares, or it is no query
            if undeclared:
                what = ", ".join(undeclared if engine.names_ignore_case else map(_header_name, undeclared))
                how = ("the engine's write counters" if not rows else
                       f"SQLite counted {rows} row(s) beyond its own, and its program opens these tables for writing")
                message = (f"statement {st.index} (line {st.line}) wrote rows of {what}, which it does not name "
                           f"({how}): through a function, a procedure, EXECUTE, a trigger or foreign-key action it "
                           f"fired, or a view it writes through; {header}: a data migration, so name them: "
                           f"-- Writes: {what}, and declare HIGH")
            else:
                message = (f"statement {st.index} (line {st.line}) reads as a query but wrote {rows} row(s) (SQLite's "
                           f"total_changes()), through code whose tables the engine does not name (a virtual table?); "
                           f"{header}: a data migration: declare what it writes (-- Writes:) and HIGH")
            u.findings.append(WROTE_THROUGH_CODE.at(u.file, st.line, message))
            for v in u.statements:
                if v.index == st.index and (v.category or 0) < 3:
                    v.category, raised = 3, True
                    v.reason += "; replayed, it wrote rows through code no parser reads (wrote-through-code)"
        if raised:  # the declaration against the category as it now is
            u.findings = [f for f in u.findings if f.code not in risk.CODES]
            risk.check(u)


def _header_name(table: str) -> str:
    """A PostgreSQL model name as ``-- Writes:`` reads it back (``Migration.writes``): a part
    that is not lower case double-quoted (``"User"``), as in SQL."""
    return ".".join(part if part == part.lower() else '"' + part.replace('"', '""') + '"'
                    for part in table.split("."))


def _apply_failed(u: MigrationLint, failure: str) -> str:
    u.findings.append(APPLY_FAILED.at(u.file, None, f"fails on a scratch database built from the migrations "
                                                    f"before it: {failure}"))
    u.rollback_check = {"status": "failed", "detail": failure}
    return f"{u.migration.label} failed on the scratch database"


def _no_rollback(u: MigrationLint) -> None:
    if u.rollback_check["status"] == "not run":
        u.rollback_check = {"status": "no rollback", "detail": ""}


def _judge_rollback(u: MigrationLint, before: dict, rolled_back: dict) -> list[str]:
    m = u.migration
    diffs = compare(before, rolled_back)
    if diffs:
        shown = "; ".join(diffs[:5]) + (f"; and {len(diffs) - 5} more" if len(diffs) > 5 else "")
        u.findings.append(ROLLBACK_MISMATCH.at(m.rollback.path, None, f"applying {m.label} and then its rollback does "
                                                                      f"not bring back the schema before it: {shown}"))
        u.rollback_check = {"status": "failed", "detail": shown}
    elif u.rollback_check["status"] == "not run":
        u.rollback_check = {"status": "passed", "detail": "schema after migration + rollback equals the schema before"}
    return diffs


def _replay_outside_transaction(u: MigrationLint, sa_engine: sa.Engine, scratch: "Target",
                                state: tuple[SchemaModel, dict], touched: set[str] | None, forward: list,
                                backward: list | None) -> tuple[str | None, tuple[SchemaModel, dict]]:
    """A migration (or rollback) with a statement that cannot run in a transaction (``CREATE INDEX
    CONCURRENTLY``), or a rollback that cannot share its migration's: apply, roll back, compare,
    apply again, each committed."""
    m, before = u.migration, state[1]
    failure = _apply(scratch, forward, m, "migration")
    if failure:
        return _apply_failed(u, failure), state
    if backward is None:
        _no_rollback(u)
        with sa_engine.connect() as conn:
            return None, reflect(conn, state, touched)
    failure = _apply(scratch, backward, m, "rollback")
    if failure:
        u.findings.append(ROLLBACK_FAILED.at(m.rollback.path, None, f"the rollback fails right after its migration: {failure}"))
        u.rollback_check = {"status": "failed", "detail": failure}
        return f"the rollback of {m.label} failed on the scratch database", state
    with sa_engine.connect() as conn:
        diffs = _judge_rollback(u, before, reflect(conn, state, touched)[1])
    failure = _apply(scratch, forward, m, "migration")
    if failure:
        if not diffs:
            u.findings.append(ROLLBACK_MISMATCH.at(m.rollback.path, None,
                                                   f"after its rollback, {m.label} cannot be applied again: {failure}"))
        return f"{m.label} could not be re-applied after its rollback", state
    with sa_engine.connect() as conn:
        return None, reflect(conn, state, touched)


def compare(before: dict, after: dict) -> list[str]:
    from .. import inventory

    return inventory.compare_schemas(before, after)  # schema.diff: tables, then views by name


def _apply(target: "Target", prepared: list, m: Migration, what: str) -> str | None:
    """Run a prepared script on the scratch database in one transaction; the failure, or None."""
    from ..migrate import run_in_transaction

    try:
        run_in_transaction(target, prepared, f"{m.label} ({what})", m.version, lambda conn: None)
    except MigrationFailed as exc:
        return f"statement {exc.statement_no} (line {exc.line}): {exc.cause}"
    return None


def skip_rollback_checks(units: list[MigrationLint], detail: str, *, warn: bool) -> None:
    for u in units:
        if u.rollback_check.get("status") == "not run":
            u.rollback_check = {"status": "skipped", "detail": detail}
            if warn and u.migration.rollback is not None:
                u.findings.append(ROLLBACK_UNCHECKED.at(u.migration.rollback.path, None, detail))


def lint_engine(migrations: list[Migration], engine: "Engine", target: "Target | None", *,
                check_rollback: bool) -> list[MigrationLint]:
    """Every migration as it runs on ``engine``: replayed on a scratch database when one can be
    made (and ``check_rollback``), else with the static model (rollback checks skipped, said why)."""
    real = database_state(target, migrations) if target is not None else None
    if check_rollback and (engine.serverless or target is not None):
        try:
            return lint_replayed(migrations, engine, target, real=real)
        except (NotImplementedError, BadInput) as exc:
            units = lint_sequence(migrations, engine, from_database=real, target=target)
            skip_rollback_checks(units, f"no scratch database: {exc}", warn=False)
            return units
        except (RunFailed, sa.exc.SQLAlchemyError, OSError) as exc:  # e.g. the role may not CREATE DATABASE
            units = lint_sequence(migrations, engine, from_database=real, target=target)
            detail = f"cannot make a scratch database: {str(getattr(exc, 'orig', None) or exc).strip().splitlines()[0]}"
            skip_rollback_checks(units, detail, warn=True)
            return units
    units = lint_sequence(migrations, engine, from_database=real, target=target)
    if check_rollback:
        skip_rollback_checks(units, f"no {engine.name} server given (--db)", warn=False)
    return units
