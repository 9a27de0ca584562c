"""Apply pending migrations: each in one transaction together with its history row.

``migrate()`` is the procedure: check the folder against the database (drift, unknown versions,
baseline adoption, order), take the one-runbook lock, run the preflight, then apply each pending
migration in order. A migration with no statement to run (comment-only, or only statements that
mean nothing on this engine) is a recorded no-op: its history row says so. A migration that fails rolls back whole (DDL included) and stops the run;
migrations before it stay applied. Statements that cannot run in a transaction (PostgreSQL's
``CONCURRENTLY`` ones) commit one by one, so there is nothing to roll back: when one fails, the
runbook undoes those before it, and the error says so (``run_outside_transaction``).
``execute_script()`` is shared with rollback and seeds.

A migration's verify script (``verify/NNN_verify_*.sql``, Sqitch's verify) runs after its
statements and its data check, before its history row commits, in the same transaction but
inside a savepoint that is always rolled back: when it raises, the migration fails like a failing
statement (``VerifyScriptFailed``) and its transaction rolls back whole. ``verify_script_checks()``
runs the verify scripts of applied migrations as checks, in a transaction that is rolled back
(the verify and rollback steps). A dry run lists each pending migration's verify script (its
file and statements as they would run on this engine: ``MigrationResult.verify``, comments in
``planned_sql``) and does not run it: it checks the migrated database, which a dry run does not
make, so on the database as it is it would fail, or pass and prove nothing.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import sqlalchemy as sa
from sqlglot import exp

from . import effects
from . import faults
from . import migrations as mig
from .engines.base import WRITE_TRANSACTION
from . import progress
from .checks import Check, check
from .errors import (NO_TRANSACTION, BadInput, MigrationFailed, NotOnScratch, RunFailed, ServerChanged,
                     VerifyScriptFailed, db_error_line)
from .sqltext import Statement

if TYPE_CHECKING:
    from .engines.base import Engine, ServerObjects
    from .target import Target

MAX_RESULT_ROWS = 50


@dataclass
class PreparedStatement:
    """A statement of a script as it will run on one engine."""

    statement: Statement
    sql: list[str]  # what runs (translation may give 0 or more statements)
    note: str | None = None  # why it is skipped or changed
    outside_transaction: bool = False
    withhold_rows: bool = False  # its result may hold table contents: report columns and count only


@dataclass
class StatementResult:
    index: int
    line: int
    sql: str
    note: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    rowcount: int | None = None
    duration_ms: float | None = None  # how long the statement ran (None: not run)


@dataclass
class MigrationResult:
    version: str
    name: str
    status: str  # applied | adopted | failed | planned
    duration_ms: int = 0
    checksum: str = ""
    statements: list[StatementResult] = field(default_factory=list)
    error: str | None = None
    note: str | None = None  # as recorded in the history row (e.g. "no-op: no statements")
    data: dict[str, Any] | None = None  # effects.DataWatch report: rows and columns changed, per table
    verify: dict[str, Any] | None = None  # its verify script: {"file", "ran", "passed"}; planned: "note", "statements"

    @property
    def label(self) -> str:
        return f"{self.version}_{self.name}"


@dataclass
class MigrateResult:
    target: str
    run_id: str
    dry_run: bool
    before: str | None
    after: str | None
    migrations: list[MigrationResult] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"passed": self.passed}


# -- preparing scripts -----------------------------------------------------------------------
def prepare(script: mig.Script, engine: "Engine", *, verify: bool = False) -> list[PreparedStatement]:
    """Statements of ``script`` as they will run on ``engine``; ``BadInput`` for what cannot run.
    An empty result, or one where nothing has SQL to run (``is_no_op``), is a declared no-op.
    ``verify``: a verify script, which runs in a transaction the runner rolls back: its transaction
    control (Sqitch's ``BEGIN; ... ROLLBACK;``) is skipped, ``ROLLBACK`` included."""
    statements, dialect = script.statements_for(engine)
    prepared = []
    for st in statements:
        if st.is_transaction_control and verify:
            prepared.append(PreparedStatement(st, [], "transaction control: the runner runs a verify script in a "
                                                      "transaction it rolls back"))
            continue
        if st.is_transaction_control:
            if st.is_rollback:
                raise BadInput(f"{script.path}:{st.line}: a migration may not ROLLBACK; the runner owns transactions")
            prepared.append(PreparedStatement(st, [], "transaction control: the runner wraps the whole file in one transaction"))
            continue
        sql = engine.translate(st, dialect)
        note = None if sql else f"no meaning on {engine.name}: skipped"
        if sql and sql != [st.sql]:
            note = f"translated from {dialect} to {engine.name}"
        outside = not verify and any(engine.runs_outside_transaction(s) for s in sql)
        prepared.append(PreparedStatement(st, sql, note, outside, st.shows_row_data(dialect)))
    outside = [p for p in prepared if p.outside_transaction]
    runnable = [p for p in prepared if p.sql]
    other = next((p for p in runnable if not all(engine.undoable_outside_transaction(sql) for sql in p.sql)), None)
    if outside and len(runnable) > 1 and other is not None:
        p = outside[0]
        raise BadInput(
            f"{script.path}:{p.statement.line}: {p.statement.first_word} ... cannot run inside a transaction; "
            "such a statement must be alone in its migration, or beside only statements the runbook can undo if a "
            "later one fails (CREATE INDEX, DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY, CREATE TABLE, CREATE "
            "TYPE ... AS ENUM, ALTER TABLE adding columns or constraints), "
            f"so a failure leaves nothing half-applied; statement {other.statement.index} (line "
            f"{other.statement.line}: {other.statement.first_word} ...) cannot be undone if a later one fails; nothing was run"
        )
    return prepared


def on_scratch(m: mig.Migration, prepared: list[PreparedStatement], engine: "Engine", existing: "ServerObjects",
               scratch: str, *, create: bool = True) -> list[PreparedStatement]:
    """``engine.leave_server_objects``: ``m``'s prepared script as it runs on the scratch database
    ``scratch``; its ``NotOnScratch`` names the migration."""
    try:
        return engine.leave_server_objects(prepared, existing, scratch, create=create)
    except NotOnScratch as exc:
        raise NotOnScratch(f"{m.label}: {exc}") from None


def is_no_op(prepared: list[PreparedStatement]) -> bool:
    """Nothing to run: an empty or comment-only script, or only statements skipped here."""
    return not any(p.sql for p in prepared)


def execute_script(conn: sa.Connection, prepared: list[PreparedStatement], label: str,
                   version: str = "", engine: "Engine | None" = None,
                   observe: Callable[[PreparedStatement, str, StatementResult], None] | None = None
                   ) -> list[StatementResult]:
    """Run prepared statements on ``conn`` (inside the caller's transaction, unless the single
    statement must run outside one); ``MigrationFailed`` names the statement that failed.
    ``observe(prepared statement, the SQL that ran, its result)`` is called right after each
    statement runs (lint's replay reads the engine's write counters there)."""
    engine = engine or _engine_of(conn)
    results = []
    for p in prepared:
        st = p.statement
        if p.sql:
            progress.emit(f"{label}: statement {st.index} of {len(prepared)} (line {st.line}): "
                          f"{' '.join(st.sql.split())[:70]}", detail=True)
        if not p.sql:
            results.append(StatementResult(st.index, st.line, st.sql, p.note))
            continue
        for sql in p.sql:
            started = time.perf_counter()
            try:
                res = engine.run_sql(conn, sql)
            except sa.exc.DBAPIError as exc:
                raise MigrationFailed(version, label, st.index, st.line, st.sql, _cause(exc)) from exc
            out = StatementResult(st.index, st.line, sql, p.note)
            if res.returns_rows:
                out.columns = list(res.keys())
                if p.withhold_rows:  # count the rows in the driver, keep none of them
                    out.rowcount = sum(len(batch) for batch in iter(lambda: res.fetchmany(1000), []))
                    out.note = "rows withheld: reports show counts, not table contents"
                else:
                    out.rows = [list(_plain(v) for v in row) for row in res.fetchmany(MAX_RESULT_ROWS)]
                res.close()
            else:
                out.rowcount = res.rowcount if res.rowcount is not None and res.rowcount >= 0 else None
            out.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            results.append(out)
            if observe is not None:
                observe(p, sql, out)
    try:
        engine.after_script(conn)  # the runbook's own statements that follow resolve names as before it
    except ServerChanged as exc:  # a scratch database's: its statements changed the server beyond it
        last = next((p.statement for p in reversed(prepared) if p.sql), prepared[-1].statement if prepared else None)
        raise MigrationFailed(version, label, last.index if last else 0, last.line if last else 0,
                              last.sql if last else "", f"by the end of its statements: {exc}") from None
    return results


def _planned(p: PreparedStatement) -> list[StatementResult]:
    """What a dry run shows of a statement: the exact SQL that would run on this engine, or an SQL
    comment saying why it would not run."""
    st = p.statement
    if p.sql:
        return [StatementResult(st.index, st.line, sql, p.note) for sql in p.sql]
    return [StatementResult(st.index, st.line, f"-- not run ({p.note}): {' '.join(st.sql.split())[:100]}", p.note)]


def planned_sql(migrate_record: dict[str, Any]) -> str:
    """A dry run's plan (``migrate.json``) as one SQL script: each planned migration's statements,
    exactly as they would run on the target's engine, then its verify script's, as comments (a
    dry run does not run them: they check the migrated database, which it does not make)."""
    lines = []
    for m in migrate_record.get("migrations", []):
        if m["status"] != "planned":
            continue
        lines.append(f"-- {m['version']}_{m['name']}" + (f" ({m['note']})" if m.get("note") else ""))
        lines += [s["sql"] if s["sql"].startswith("--") else s["sql"].rstrip().rstrip(";") + ";" for s in m["statements"]]
        if m.get("verify"):
            lines.append(f"-- verify script {m['verify']['file']}: {VERIFY_PLANNED}")
            lines += [f"--   {line}" for sql in m["verify"]["statements"]
                      for line in (sql.rstrip().rstrip(";") + ";").splitlines()]
        lines.append("")
    return "\n".join(lines)


#: what a dry run says of a planned migration's verify script
VERIFY_PLANNED = ("runs after the statements, before the commit, in a savepoint rolled back; not run in a dry run "
                  "(it checks the migrated database, which a dry run does not make)")


def _engine_of(conn: sa.Connection) -> "Engine":
    from .engines import engine_for

    return engine_for(conn.engine.url)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (int, float, str, bool)) else str(value)


def _cause(exc: sa.exc.DBAPIError) -> str:
    return db_error_line(exc)  # row values redacted: they may be personal data


# -- verify scripts ----------------------------------------------------------------------------
@dataclass
class VerifyScript:
    """A migration's verify script as it will run on one engine."""

    version: str
    name: str  # the migration's name
    file: str  # ``verify/NNN_verify_<name>[.<engine>].sql``, the file that runs on this engine
    prepared: list[PreparedStatement]

    @property
    def check_name(self) -> str:
        return f"verify script {self.version}_{self.name}"


def prepare_verify(m: mig.Migration, engine: "Engine") -> VerifyScript | None:
    """``m``'s verify script as it runs on ``engine``; ``None`` when it has none, or one with no
    statement to run (a fresh ``runbook new`` template). ``BadInput`` for one that cannot run."""
    if m.verify is None:
        return None
    prepared = prepare(m.verify, engine, verify=True)
    if is_no_op(prepared):
        return None
    path = m.verify.source_for(engine)[0]
    return VerifyScript(m.version, m.name, f"{path.parent.name}/{path.name}", prepared)


def run_verify(conn: sa.Connection, script: VerifyScript, engine: "Engine | None" = None, *,
               committed: bool = False) -> list[StatementResult]:
    """Run a verify script inside the caller's transaction, in a savepoint that is always rolled
    back (whatever it does is discarded); ``VerifyScriptFailed`` names the statement that raised.
    ``committed``: the migration it checks is already committed (said in the error)."""
    savepoint = conn.begin_nested()
    try:
        return execute_script(conn, script.prepared, f"{script.version}_{script.name} (verify script)",
                              script.version, engine)
    except MigrationFailed as exc:
        raise VerifyScriptFailed(script.version, script.name, script.file, exc.statement_no, exc.line, exc.sql,
                                 exc.cause, committed=committed) from exc.__cause__
    finally:
        savepoint.rollback()


def verify_script_checks(target: "Target", migrations: Iterable[mig.Migration]) -> list[Check]:
    """The verify scripts of ``migrations`` (the applied ones), each a check (``verify script
    NNN_name``: PASS, or FAIL with the statement and the engine's error, redacted), all in one
    transaction that is rolled back (on PostgreSQL a READ ONLY one: ``Engine.rolled_back``).
    A migration without a verify script (or with an empty one) has no check."""
    engine = target.kind
    out: list[Check] = []
    scripts: list[VerifyScript] = []
    for m in migrations:
        try:
            if (script := prepare_verify(m, engine)) is not None:
                scripts.append(script)
        except BadInput as exc:  # a state check reports it, it does not stop the other checks
            out.append(check(f"verify script {m.label}", False, str(exc)))
    if not scripts:
        return out
    with engine.rolled_back(target) as conn:
        for script in scripts:
            try:
                run_verify(conn, script, engine)
            except VerifyScriptFailed as exc:
                out.append(check(script.check_name, False,
                                 f"{script.file} statement {exc.statement_no} (line {exc.line}): {exc.cause}"))
                continue
            ran = sum(len(p.sql) for p in script.prepared)
            out.append(check(script.check_name, True, f"{script.file}: {ran} statement(s) ran without error"))
    return out


def _watched(watch: "effects.DataWatch", conn: sa.Connection, version: str, label: str) -> dict[str, Any]:
    """``watch.after``; a query of the check itself that the engine refuses fails the migration
    (its transaction rolls back) naming the check, never as a bare driver error."""
    try:
        return watch.after(conn)
    except sa.exc.DBAPIError as exc:
        raise effects.DataCheckFailed(version, label, [_cause(exc)], what="could not be checked: the engine refused "
                                      "the data check's own query") from exc


def run_in_transaction(target: "Target", prepared: list[PreparedStatement], label: str, version: str,
                       after: Callable[[sa.Connection], None],
                       watch: "effects.DataWatch | None" = None,
                       verify: VerifyScript | None = None,
                       check_lock: bool = False) -> tuple[list[StatementResult], int]:
    """Run a script and ``after(conn)`` (the history change) atomically; returns results and ms.

    With ``watch``, the tables the script touches are counted and compared before and after its
    statements in the same transaction (``effects.DataWatch``); a change the statements do not
    declare raises ``effects.DataCheckFailed`` and the transaction rolls back whole. With
    ``verify``, that verify script runs next, before ``after``, in a savepoint that is rolled back
    (``run_verify``); when it raises (``VerifyScriptFailed``), the transaction rolls back whole.
    Statements that cannot run in a transaction run in autocommit (unwatched: such statements
    build indexes, they change no row; ``run_outside_transaction``), then ``after`` runs in its
    own transaction: they succeeded, so recording them cannot leave a half state. Its verify script runs
    after that, in a transaction of its own that is rolled back; when it raises, the migration
    stays committed and recorded and the error says so (``committed``). With ``check_lock``, the
    run's lock is checked first on the same session (``Engine.check_lock``: ``LockLost``, nothing
    run).
    """
    started = time.perf_counter()
    eng = target.engine()
    if any(p.outside_transaction for p in prepared):
        with eng.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            if check_lock:
                target.kind.check_lock(target, conn)
            results = run_outside_transaction(conn, target.kind, prepared, label, version)
        with eng.connect() as conn, conn.execution_options(**{WRITE_TRANSACTION: True}).begin():
            after(conn)
        if verify is not None:
            with target.kind.rolled_back(target) as conn:
                run_verify(conn, verify, target.kind, committed=True)
    else:
        with eng.connect() as conn, conn.execution_options(**{WRITE_TRANSACTION: True}).begin():
            if check_lock:
                target.kind.check_lock(target, conn)
            results = run_watched(conn, target, prepared, label, version, after, watch, verify)
            faults.barrier(f"uncommitted-{version}")  # everything done but the commit (kill tests)
    return results, int((time.perf_counter() - started) * 1000)


def run_outside_transaction(conn: sa.Connection, engine: "Engine", prepared: list[PreparedStatement], label: str,
                            version: str) -> list[StatementResult]:
    """Statements that cannot run in a transaction, each in autocommit on ``conn``, in order: each
    is committed as it runs, so there is no transaction to roll back. When one fails, what it left
    (an INVALID index: ``engine.after_failed_outside_transaction``) is cleaned up, then the
    statements before it are undone, newest first (``engine.undo_outside_transaction``, read
    before each ran), so the database is as it was. The error's ``outcome`` says that, not "rolled
    back": the statements undone, and an undo that failed with what it left (also ``left``)."""
    several = sum(bool(p.sql) for p in prepared) > 1
    undo: list[tuple[PreparedStatement, list[str]]] = []
    results: list[StatementResult] = []
    for p in prepared:
        pending = [engine.undo_outside_transaction(conn, sql) for sql in p.sql] if several else []
        try:
            results += execute_script(conn, [p], label, version, engine)
        except MigrationFailed as exc:
            try:
                cleaned, left = engine.after_failed_outside_transaction(conn, [p]), []
            except sa.exc.DBAPIError as failed:
                cleaned, left = [], [(p.statement.index, f"what statement {p.statement.index} left, an INVALID index "
                                                         f"(drop it by hand; dropping it failed: {_cause(failed)})")]
            left += _undo_outside_transaction(conn, engine, undo)
            raise MigrationFailed(exc.version, exc.name, exc.statement_no, exc.line, exc.sql, exc.cause,
                                  outcome=_outside_outcome(several, undo, cleaned, left),
                                  left=tuple(what for _, what in left)) from exc
        undo += [(p, then()) for then in pending]
    return results


def _outside_outcome(several: bool, undo: list[tuple[PreparedStatement, list[str]]], cleaned: list[str],
                     left: list[tuple[int, str]]) -> str:
    """``MigrationFailed.outcome`` of a statement that failed outside a transaction: the statements
    before it were committed one by one, then undone by the runbook (``undo``, oldest first), or
    not (``left``: statement number, what is left); ``cleaned``: what the failed one left, dropped."""
    out = [("its statements ran outside a transaction, in autocommit, each committed as it ran" if several else
            "it ran outside a transaction, in autocommit") + f": {NO_TRANSACTION}"]
    out += cleaned
    ran = list(dict.fromkeys(p.statement.index for p, _ in reversed(undo)))  # newest first
    kept = {n for n, _ in left}
    undone = [n for n in ran if n not in kept]
    if not ran:
        out.append("no statement of it ran before this one, so none was undone" if several else
                   "it is the migration's only statement, so nothing else was to undo")
    elif not left:
        out.append(f"the {len(ran)} statement(s) before it were undone by the runbook, newest first (statements "
                   f"{', '.join(map(str, undone))})")
    elif undone:
        out.append(f"of the {len(ran)} statement(s) before it, statement(s) {', '.join(map(str, undone))} were undone")
    if left:
        out.append(f"cleaning up failed, left in the database: {'; '.join(what for _, what in left)}")
    return "; ".join(out)


def _undo_outside_transaction(conn: sa.Connection, engine: "Engine",
                              undo: list[tuple[PreparedStatement, list[str]]]) -> list[tuple[int, str]]:
    """Run each undo, newest first; what could not be undone: (statement number, that statement's
    change with its undo and why it failed)."""
    left = []
    for p, statements in reversed(undo):
        for one in statements:
            try:
                engine.run_sql(conn, one)
            except sa.exc.DBAPIError as exc:
                left.append((p.statement.index, f"statement {p.statement.index}'s change (undo by hand: {one}; "
                                                 f"it failed: {_cause(exc)})"))
    return left


def run_watched(conn: sa.Connection, target: "Target", prepared: list[PreparedStatement], label: str, version: str,
                after: Callable[[sa.Connection], None], watch: "effects.DataWatch | None" = None,
                verify: VerifyScript | None = None) -> list[StatementResult]:
    """``run_in_transaction``'s work inside the caller's open transaction on ``conn``, which
    commits or rolls back: the data check's counts before, the statements, the counts after (a
    change they do not declare raises ``effects.DataCheckFailed``), the verify script in a
    savepoint rolled back, then ``after(conn)``. Several scripts can share one transaction this
    way (``rollback.rollback_to``): each one's check reads before and after its own statements,
    in that transaction, so it sees that script's changes only. ``prepared`` must hold no
    statement that runs outside a transaction."""
    if watch is not None:
        watch.before(conn)
    results = execute_script(conn, prepared, label, version)
    if watch is not None and not _watched(watch, conn, version, label)["passed"]:
        raise effects.DataCheckFailed(version, label, watch.report["problems"])
    if verify is not None:
        run_verify(conn, verify, target.kind)
    after(conn)
    return results


# -- the procedure ---------------------------------------------------------------------------
def check_folder(conn: sa.Connection, migrations: list[mig.Migration], engine: "Engine") -> mig.Status:
    """The database's status against the folder; ``BadInput`` on drift or unknown versions."""
    status = mig.status(conn, migrations, engine)
    if status.drifted:
        names = ", ".join(m.label for m, _ in status.drifted)
        raise BadInput(f"checksum drift: applied migration(s) {names} changed on disk since they were applied; "
                       "restore the file (a change belongs in a new migration)")
    if status.unknown:
        raise BadInput(f"the database has applied migration(s) {', '.join(a.version for a in status.unknown)} "
                       "that are not in the migrations folder")
    return status


def select_pending(status: mig.Status, migrations: list[mig.Migration], to: str | int | None, *,
                   out_of_order: bool = False) -> list[mig.Migration]:
    """The pending migrations to apply (up to ``to``); ``BadInput`` for a bad ``to``, or a pending
    migration numbered below the current version unless ``out_of_order``."""
    pending = [m for m in status.pending if not (status.adoptable and m.number == 0)]
    if to is not None:
        pending = _up_to(status, migrations, to, pending)
    late = [m for m in pending if status.current is not None and m.number < int(status.current)]
    if late and not out_of_order:
        names = ", ".join(m.label for m in late)
        raise BadInput(f"{names}: numbered below the current version {status.current}, so "
                       f"{'it' if len(late) == 1 else 'they'} would be applied out of order; nothing was run "
                       "(renumber it above the current version, or pass --out-of-order to apply it anyway)")
    return pending


def _up_to(status: mig.Status, migrations: list[mig.Migration], to: str | int,
           pending: list[mig.Migration]) -> list[mig.Migration]:
    try:
        number = int(str(to))
    except ValueError:
        raise BadInput(f"--to must be a migration number, got {to!r}") from None
    if number not in {m.number for m in migrations}:
        raise BadInput(f"--to {to}: no migration numbered {number:03d}")
    if status.current is not None and number < int(status.current):
        raise BadInput(f"--to {number:03d} is below the current version {status.current}: use rollback to go down")
    return [m for m in pending if m.number <= number]


def plan(target: "Target", migrations_dir: str | Path, *, to: str | int | None = None,
         dialect: str | None = mig.DEFAULT_DIALECT, out_of_order: bool = False
         ) -> tuple[mig.Status, list[mig.Migration]]:
    """Where the database stands and what ``migrate()`` would apply (changes nothing)."""
    migrations = mig.discover(migrations_dir, dialect)
    with target.engine().connect() as conn:
        status = check_folder(conn, migrations, target.kind)
    return status, select_pending(status, migrations, to, out_of_order=out_of_order)


def assert_passed(result: MigrateResult) -> None:
    """Raise ``RunFailed`` when a migration failed (so a notebook run is marked failed)."""
    if result.error:
        raise RunFailed(result.error)


def record_failure(target: "Target", m: mig.Migration, checksum: str, run_id: str, error: str) -> None:
    """A ``fail`` event, in its own transaction after the failed one, in a database that already
    keeps an event log (a database the runbook never managed gets no new table from a failure)."""
    with target.engine().begin() as conn:
        if mig.has_events(conn):
            mig.record_event(conn, "fail", m.version, m.name, checksum, run_id, note=error)


def touched_tables(prepared: Iterable[list[PreparedStatement]], engine: "Engine") -> set[str]:
    """Names of the tables the prepared statements refer to (read with sqlglot), plus the
    history table every migration writes to."""
    names = {mig.HISTORY_TABLE}
    for statements in prepared:
        for p in statements:
            for sql in p.sql:
                tree = Statement(sql, p.statement.line, p.statement.index).parse(engine.sqlglot_dialect)
                if tree is not None:
                    names.update(t.name for t in tree.find_all(exp.Table)
                                 if t.name and t.db.lower() not in ("information_schema", "pg_catalog"))
    return names


def migrate(
    target: "Target",
    migrations_dir: str | Path,
    *,
    to: str | int | None = None,
    dry_run: bool = False,
    run_id: str | None = None,
    gate: Callable[[list[mig.Migration]], None] | None = None,
    preflight: bool = True,
    dialect: str | None = mig.DEFAULT_DIALECT,
    out_of_order: bool = False,
    data_checks: str = "target",
    server_objects: "ServerObjects | None" = None,
) -> MigrateResult:
    """Apply the pending migrations (up to ``to``) in order; see the module doc.

    ``data_checks``: inside each migration's transaction, compare the tables it touches before
    and after its statements against what they declare (``effects``): ``"target"`` by content
    those whose rows a statement may change, by count those it drops, ``"full"`` (the rehearsal's
    scratch copy) also by content those it drops columns from; ``"off"`` not at all.
    ``server_objects``: on a scratch copy (the rehearsal), what its server shared with the target
    before the copy was made (``Engine.server_objects``, PostgreSQL's roles, tablespaces and
    databases): a statement that would change those is not run there, or runs on the copy
    instead where that is exact (``Engine.leave_server_objects``; ``NotOnScratch`` before anything
    runs where skipping it would lie); one that creates one runs, and fails as it will on the target.

    Returns the result even when a migration fails (``result.error`` set, the failed migration
    rolled back); raises ``BadInput`` for problems found before anything ran.
    """
    migrations = mig.discover(migrations_dir, dialect)
    run_id = run_id or "manual-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    kind = target.kind
    with kind.lock(target):
        with target.engine().connect() as conn:
            status = check_folder(conn, migrations, kind)
        pending = select_pending(status, migrations, to, out_of_order=out_of_order)
        prepared = {m.version: prepare(m.script, kind) for m in pending}  # all checked before any runs
        if server_objects is not None:
            prepared = {m.version: on_scratch(m, prepared[m.version], kind, server_objects, target.url.database,
                                              create=False) for m in pending}
        verifies = {m.version: prepare_verify(m, kind) for m in pending}
        if gate is not None:
            gate(pending)
        result = MigrateResult(target.display, run_id, dry_run, status.current, status.current)
        baseline = migrations[0] if status.adoptable else None
        if dry_run:
            if baseline is not None:
                result.migrations.append(MigrationResult(baseline.version, baseline.name, "planned",
                                                         error=None, statements=[StatementResult(0, 0, "-- would adopt: baseline tables exist, no history table")]))
            for m in pending:
                v = verifies[m.version]
                result.migrations.append(MigrationResult(m.version, m.name, "planned", checksum=m.script.checksum_for(kind),
                                                         note=mig.NO_OP_NOTE if is_no_op(prepared[m.version]) else None,
                                                         statements=[r for p in prepared[m.version] for r in _planned(p)],
                                                         verify=None if v is None else {
                                                             "file": v.file, "ran": False, "note": VERIFY_PLANNED,
                                                             "statements": [sql for p in v.prepared for sql in p.sql]}))
            return result
        blockers = kind.preflight(target, touched_tables(prepared.values(), kind)) if preflight else []
        if blockers:
            raise RunFailed(f"preflight: {len(blockers)} session(s) would block the migration: "
                            + "; ".join(f"pid {b.get('pid')} ({b.get('reason', 'busy')})" for b in blockers)
                            + "; nothing was changed")
        adoption: Callable[[sa.Connection], None] | None = None
        if baseline is not None:  # recorded with the first migration, so a failure leaves no trace
            adopted = MigrationResult(baseline.version, baseline.name, "adopted",
                                      checksum=baseline.script.checksum_for(kind))

            def adoption(conn: sa.Connection) -> None:
                mig.ensure_history(conn)
                mig.record(conn, baseline, adopted.checksum, 0, run_id, note="adopted: baseline tables existed")
                mig.record_event(conn, "adopt", baseline.version, baseline.name, adopted.checksum, run_id,
                                 note="baseline tables existed")

            if not pending:
                with target.engine().begin() as conn:
                    adoption(conn)
                result.migrations.append(adopted)
                result.after = baseline.version
        for i, m in enumerate(pending, 1):
            progress.emit(f"migrate {target.name}: {m.label} ({i}/{len(pending)})")
            checksum = m.script.checksum_for(kind)
            note = mig.NO_OP_NOTE if is_no_op(prepared[m.version]) else None
            out = MigrationResult(m.version, m.name, "applied", checksum=checksum, note=note)
            try:
                def record(conn: sa.Connection, m: mig.Migration = m, adopt=adoption, note=note, first=i == 1) -> None:
                    if adopt is not None:
                        adopt(conn)
                    if first:  # a later migration runs after this one committed the tables
                        mig.ensure_history(conn)
                    mig.record(conn, m, checksum, int((time.perf_counter() - t0) * 1000), run_id, note=note)
                    mig.record_event(conn, "deploy", m.version, m.name, checksum, run_id, ensured=True,
                                     data=effects.at_commit(watch.report) if watch is not None and watch.report else None)

                faults.barrier(f"before-migration-{m.version}")
                watch = None if data_checks == "off" else effects.DataWatch(
                    kind, effects.declare_prepared(prepared[m.version], kind, m.writes(kind)[0]),
                    full=data_checks == "full")
                t0 = time.perf_counter()
                # a lost lock admits a second run: stop before changing more (check_lock)
                out.statements, out.duration_ms = run_in_transaction(target, prepared[m.version], m.name, m.version,
                                                                     record, watch, verifies[m.version],
                                                                     check_lock=True)
                out.data = watch.report if watch is not None else None
                if verifies[m.version] is not None:
                    out.verify = {"file": verifies[m.version].file, "ran": True, "passed": True}
            except MigrationFailed as exc:
                out.data = watch.report if watch is not None else None
                if isinstance(exc, VerifyScriptFailed):
                    out.verify = {"file": exc.script, "ran": True, "passed": False}
                out.status, out.error = "failed", str(exc)
                cause = f"{exc.script}: {exc.cause}" if isinstance(exc, VerifyScriptFailed) else exc.cause
                out.statements = [StatementResult(exc.statement_no, exc.line, exc.sql, "FAILED: " + cause)]
                out.duration_ms = int((time.perf_counter() - t0) * 1000)
                record_failure(target, m, checksum, run_id, str(exc))
                result.migrations.append(out)
                result.error = str(exc)
                if isinstance(exc, VerifyScriptFailed) and exc.committed:  # its statement ran outside a transaction
                    result.after = m.version
                return result
            if adoption is not None:
                result.migrations.append(adopted)
                adoption = None
            result.migrations.append(out)
            result.after = m.version
        return result
