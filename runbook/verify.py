"""The guide's "Post-Migration Verification" and "Health Checks", as a state check (Sqitch's
``verify``): it compares the database with what its applied migrations declare, and with the
pre-migration inventory when one is given. It can run at any time.

What it checks:

1. **schema**: the target's schema, introspected from the engine (``runbook.schema``), equals
   the schema the same engine holds after applying the applied migrations (``runbook.expected``:
   the rehearsal's migrated copy of this run, else a cached replay on an empty scratch database),
   exactly: one check per table and per other kind of object, each naming every difference.
   Objects nobody declared are failures, unless the pre-migration inventory had them or (without
   one) the baseline was adopted: then they are notes (``Expected.undeclared_fails``).
2. **rows** and 3. **content**: each table of the pre-migration inventory has as many rows and the
   same fingerprint over its pre-migration columns as it had, or differs as a migration applied
   since declares (``effects``; the exact check of that ran in the migration's own transaction).
   Any other difference is, on a live target (``writers=True``), the application's: reported as
   concurrent writes, never a failure; on a copy no one else writes to (the rehearsal), a failure.
The guide's checks (4., 6., and 5.'s implied relations) run on a database that has the guide's
table (``inventory.GUIDE_TABLE``), skipped with the reason where a column is missing; on any other
database they are not reported at all.

4. **JSON round trip** (the guide's): write ``["plumbing", "electrical"]`` into
   ``contractors.services_offered`` of the first contractor and read it back, in a transaction
   that is rolled back; then check the row is as it was. The UPDATE locks that one row until the
   rollback (milliseconds); on PostgreSQL it waits at most ``VERIFY_LOCK_TIMEOUT_MS`` for it
   (SQLite: the connection's busy timeout, the target's ``lock_timeout``). When the application
   holds the row, the round trip is skipped and says so: verify never raises for it.
5. **orphans**: for every declared foreign key and the guide's implied relations
   (``inventory.IMPLIED_RELATIONS``), rows whose reference matches nothing, counted with a LEFT
   JOIN; where the pre-migration inventory counted some already, only more fail.
6. **query plan** of the guide's example query: the plan now, and the plan in a transaction in
   which the indexes the applied migrations created on its table (the expected schema's indexes
   on it that no constraint owns) are dropped, then rolled back.
   On PostgreSQL that ``DROP INDEX`` needs an ACCESS EXCLUSIVE lock on the table, held until
   the rollback (milliseconds); it waits at most ``VERIFY_LOCK_TIMEOUT_MS`` for it, so the
   application's queries never queue behind it for longer (SQLite: a write lock, other writers
   wait; reads go on). When the lock is not granted, the plans are not compared and the report
   says why.
7. **verify scripts** (Sqitch's ``verify``), on any database: every applied migration's
   ``verify/NNN_verify_*.sql`` runs, all in one transaction that is rolled back (READ ONLY on
   PostgreSQL), each a check ``verify script NNN_name``: PASS, or FAIL with the statement and the
   engine's error (redacted). A verify script raises when its migration is not really in the
   database (a column dropped by hand, say); it must only read (``runbook lint``:
   ``verify-script-writes``).

The health table (the guide's PASS/FAIL rows) summarises the check groups. Nothing loads a
table: everything is counted or streamed in SQL.
"""

from __future__ import annotations

import contextlib
import functools
import json
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlglot import exp

from . import backup, effects, inventory, schema
from . import expected as exp_
from . import migrations as mig
from .checks import Check, assert_checks, check
from .errors import BadInput
from .migrate import verify_script_checks
from .sqltext import Statement

if TYPE_CHECKING:
    from .engines.base import Engine
    from .target import Target

#: the guide's index-strategy example query (Performance section)
GUIDE_QUERY = ("SELECT * FROM contractors WHERE current_stage = 'matching' "
               "AND primary_focus_area = 'greenfield_growth'")
#: the guide's JSON-field test
JSON_TABLE, JSON_COLUMN, JSON_KEY = "contractors", "services_offered", "id"
JSON_VALUE = '["plumbing", "electrical"]'
#: the guide's "Data Integrity" health check counts this table against the pre-migration count
INTEGRITY_TABLE = "contractors"
#: how long (ms) the JSON round trip's UPDATE and the plan comparison's DROP INDEX wait for a lock
#: on the live table (PostgreSQL ``SET LOCAL lock_timeout``): the application's queries queue
#: behind a waiting ACCESS EXCLUSIVE request, so the wait stays short
VERIFY_LOCK_TIMEOUT_MS = 100


# -- what the applied migrations declare -----------------------------------------------------
def applied_migrations(conn: sa.Connection, migrations: list[mig.Migration], engine: "Engine") -> tuple[list[mig.Migration], mig.Status]:
    """The migrations the database says it has (its baseline too, when it would be adopted)."""
    status = mig.status(conn, migrations, engine)
    done = {a.version for a in status.applied}
    chosen = [m for m in migrations if m.version in done or (status.adoptable and m.number == 0)]
    return chosen, status


# -- 1. schema -------------------------------------------------------------------------------
def _owner_label(owner: str) -> str:
    """The check a top-level object is reported under: ``schema: <table>``, ``schema: views`` ..."""
    if owner.startswith("table "):
        return f"schema: {owner[len('table '):]}"
    word = owner.split(" ", 1)[0]
    return f"schema: {word}s"


def _table_summary(model: dict[str, Any], table: str) -> str:
    if table not in model["tables"]:
        return "not declared by any applied migration"
    return (f"{len(schema.column_names(model, table))} columns and {len(schema.plain_indexes(model, table))} "
            "indexes as the applied migrations declare")


def schema_checks(actual: dict[str, Any], expected: "exp_.Expected", before: dict[str, Any] | None = None,
                  same: Callable[[str, str, str, str], bool] | None = None) -> list[Check]:
    """One check per table, and per kind of other object, of the target or the expected schema:
    the diff between the target's introspected schema and the expected one, exact. ``before``
    (the pre-migration inventory) tells objects no migration declares that were already there
    from those that appeared during the run (on an adopted baseline). ``same``: the target's
    engine's ``same_definition`` (a constraint printed otherwise after a restore is the same one)."""
    before_keys = schema.object_keys(before) if before is not None else None
    if expected.schema is None:  # the replay failed (see runbook.expected)
        if expected.from_empty:
            return [check("schema: the applied migrations' schema", False, expected.error or "not available")]
        return [check("schema: the applied migrations' schema", True,
                      f"skipped: {expected.error}; the migrations rely on objects no migration declares",
                      skipped=True)]
    source = {"rehearsal": "the rehearsal's migrated copy", "replay": "a replay of the applied migrations",
              "cache": "a replay of the applied migrations (cached)"}[expected.source]
    problems: dict[str, list[str]] = {}
    notes: dict[str, list[str]] = {}
    for d in schema.differences(expected.schema, actual, same=same):
        name = _owner_label(d.owner)
        if d.kind == "added":
            line = f"{d.within} is not declared by any applied migration"
            if before_keys is None and not expected.adopted and expected.baseline is not None:
                line += (" (nothing tells it was there before the migrations: no pre-migration inventory (--snapshot), "
                         "no adopted baseline (runbook baseline))")
            (problems if expected.undeclared_fails(d, before_keys) else notes).setdefault(name, []).append(line)
        elif d.kind == "missing":
            problems.setdefault(name, []).append(f"{d.within} is missing")
        elif d.a is None:
            problems.setdefault(name, []).append(f"{d.within} {d.field} differs from what the applied migrations give")
        else:
            problems.setdefault(name, []).append(
                f"{d.within} {d.field} is {d.b}, the applied migrations give {d.a}".replace("  ", " "))
    out = []
    tables = sorted(set(expected.schema["tables"]) | set(actual["tables"]))
    passing = {f"schema: {t}": _table_summary(expected.schema, t) for t in tables}
    passing |= {f"schema: {s}": f"{len(expected.schema.get(s) or {})} {s} as the applied migrations declare"
                for s in schema.SECTIONS if expected.schema.get(s) or actual.get(s)}
    for name in list(passing) + sorted((set(problems) | set(notes)) - set(passing)):
        bad, noted = problems.get(name, []), notes.get(name, [])
        detail = "; ".join(bad + noted) if bad else passing.get(name, "as the applied migrations declare")
        if noted and not bad:
            detail += " (there before the migrations; " + "; ".join(noted) + ")"
        out.append(check(name, not bad, detail) | {"expected_from": source})
    return out


# -- 2./3. rows and content -----------------------------------------------------------------
def declared_since(before: dict[str, Any], chosen: list[mig.Migration], engine: "Engine",
                   measured: dict[str, dict] | None = None, *, writers: bool = True) -> dict[str, Any]:
    """What the migrations applied since the inventory ``before`` declare (``effects``), keyed by
    the tables' names in the inventory: ``{"rows": {table: why}, "renamed": {table: now},
    "dropped_tables": {table: why}, "dropped_columns": {table: {column: why}}, "unwatched":
    {table: why}}``. A table a migration's header names (``-- Writes: a, b``: what code no parser
    can read writes, a function, a trigger, ``EXECUTE``, ``CALL``) is declared, and one its data
    check compared in its transaction and found changed (the statements of triggers its statements
    fire are declared there: ``effects.DataWatch``). ``measured``: what
    each deploy left at commit (``mig.deployed_data``), whose ``unwatched_writes`` (the tables
    the engine's write counters say its transaction wrote, which no statement declares) are in
    ``unwatched``; on a live target (``writers``) they are that migration's change, not the
    application's writes; on a copy no one else writes to they stay undeclared."""
    since = (before.get("migrations") or {}).get("current")
    later = [m for m in chosen if since is None or int(m.version) > int(since)]
    out: dict[str, Any] = {"rows": {}, "renamed": {}, "dropped_tables": {}, "dropped_columns": {}, "unwatched": {}}
    original: dict[str, str] = {}  # name now → name in the inventory
    for m in later:
        statements, dialect = m.script.statements_for(engine)
        declared = effects.declare_statements(statements, dialect, names_ignore_case=engine.names_ignore_case)
        if engine.names_ignore_case:  # named as the inventory (the catalog) spells them
            declared.spell_as(set(before.get("tables") or {}) | set(original))
        for e in declared.existing():
            first = original.pop(e.table, e.table)
            if e.now is None:
                out["dropped_tables"][first] = f"by {m.label}"
                continue
            original[e.now] = first
            if e.now != first:
                out["renamed"][first] = e.now
            for col in e.dropped_columns:
                out["dropped_columns"].setdefault(first, {})[col] = f"by {m.label}"
            for now, col in e.renamed_columns.items():  # gone under the name the inventory knew
                if now != col:
                    out["dropped_columns"].setdefault(first, {})[col] = f"renamed to {now} by {m.label}"
            if e.changes_rows:
                _add_why(out["rows"], first, f"{m.label}: {'; '.join(e.why)}")
        for table in m.writes(engine)[0]:
            _add_why(out["rows"], original.get(table, table), f"{m.label}: its header declares it writes {table} "
                     "(Writes:) through code no parser can read")
        for t in ((measured or {}).get(m.version) or {}).get("tables") or ():  # watched in its transaction:
            first = original.get(t["now"], t["now"])  # declared there (its triggers' statements included)
            if first not in out["rows"] and (t.get("added") or t.get("removed") or t.get("changed_columns")):
                _add_why(out["rows"], first, f"{m.label}: its data check declared and compared this change in its "
                         "transaction (what the triggers its statements fire run)")
        for now in ((measured or {}).get(m.version) or {}).get("unwatched_writes") or ():
            first = original.get(now, now)
            out["unwatched"][first] = (f"{m.label}'s transaction wrote {now} (the engine's write counters) through "
                                       "code none of its statements declares: a trigger, a function, EXECUTE or CALL")
            if writers and first not in out["rows"]:
                _add_why(out["rows"], first, out["unwatched"][first])
    return out


def _add_why(rows: dict[str, str], table: str, why: str) -> None:
    rows[table] = f"{rows[table]}; {why}" if table in rows else why


def tables_to_hash(target: "Target", before: dict[str, Any], chosen: list[mig.Migration]) -> list[str]:
    """The tables (their names now) whose rows ``data_checks`` would hash if it ran now: of the
    inventory's tables that a migration neither drops nor declares it changes the rows of (those
    pass unread), those with the inventory's row count but not its stored pages
    (``content_checks``: a different count decides a table, the same pages prove it unchanged).
    Read in a short read transaction of its own (counts, and the pages' digests of the tables with
    the same count): it only tells ``live_snapshot`` how much of a large live file the checks will
    read, so whether reading it in place holds its lock for less time than copying it whole would."""
    engine = target.kind
    with engine.read_snapshot(target) as conn:
        d = declared_since(before, chosen, engine, mig.deployed_data(conn))
        present = set(inventory.table_names(conn))
        same_count = {now: fp for t, info in before.get("tables", {}).items()
                      if t not in d["rows"] and t not in d["dropped_tables"]
                      and (now := d["renamed"].get(t, t)) in present
                      and (fp := info.get("fingerprint")) and inventory.count_rows(conn, now) == fp.get("rows")}
        pages = (engine.content_pages(conn, list(same_count)) if same_count else None) or {}
    return sorted(t for t, fp in same_count.items() if not engine.same_pages(fp.get("pages"), pages.get(t)))


def data_checks(conn: sa.Connection, engine: "Engine", before: dict[str, Any], chosen: list[mig.Migration], *,
                writers: bool, dropped: dict[str, dict[str, str]] | None = None,
                gone_tables: dict[str, str] | None = None, baseline: "Target | None" = None,
                model: dict[str, Any] | None = None) -> list[Check]:
    """Rows and content of every table of the inventory ``before``, against what the migrations
    applied since declare. The exact check of each migration's effect ran in its own transaction
    (``effects.DataWatch``); here, on a live target (``writers``), what no migration declares is
    the application's doing: reported as concurrent writes, one summary check, never a failure.
    ``baseline``: a database holding the inventory's rows (a backup), hashed where ``before`` has
    no row hash of a table and it holds that table as ``before`` saw it (``inventory.fingerprints_of``).
    ``model``: the schema ``conn`` sees, read in the same transaction (``inventory.content_checks``)."""
    d = declared_since(before, chosen, engine, mig.deployed_data(conn), writers=writers)
    gone = d["dropped_tables"] | (gone_tables or {})  # the engine's schema (``dropped``) wins over the parse
    cols = {t: d["dropped_columns"].get(t, {}) | (dropped or {}).get(t, {})
            for t in set(d["dropped_columns"]) | set(dropped or {})}
    common = {"tables_dropped_on_purpose": gone, "declared": d["rows"], "renamed": d["renamed"], "writers": writers}
    counted: dict[str, int] = {}  # one count per table: both read the same transaction
    out = inventory.count_checks(conn, before, counted=counted, model=model, **common)
    out += inventory.content_checks(conn, engine, before, dropped_on_purpose=cols, baseline=baseline,
                                    counted=counted, model=model, **common)
    for c in out:  # an undeclared change the migration's own transaction made: say how to declare it
        table = c["check"].split(": ", 1)[1]
        if not c["passed"] and table in d["unwatched"]:
            c["detail"] += f" ({d['unwatched'][table]}; if that is meant, name it in the migration's header: -- Writes: {table})"
    if writers:
        out.append(inventory.concurrent_writes(out, reported="reported, not a failure",
                                               none="none: every difference from the inventory is declared by a migration"))
    return out


# -- 5. orphans ------------------------------------------------------------------------------
def orphan_checks(conn: sa.Connection, model: dict[str, Any], before: dict[str, int] | None = None) -> list[Check]:
    """Rows whose reference matches no row, for every relation (``inventory.relations``) of
    ``model``, the schema ``conn`` sees. ``before``: the pre-migration inventory's counts
    (``orphans``): rows that referenced nothing already (SQLite enforces no foreign key unless
    the session asks) are not the migrations' doing, and fail only when there are more now."""
    out = []
    for rel, why in inventory.relations(model):
        name = f"orphans: {rel.label}"
        missing = inventory.relation_missing(model, rel)
        if missing:
            out.append(check(name, True, f"skipped ({why}): {missing}", skipped=True))
            continue
        n = inventory.count_orphans(conn, rel)
        was = (before or {}).get(rel.label)
        if was is None:
            out.append(check(name, n == 0, f"{n} row(s) reference nothing ({why})"))
        elif n > was:
            out.append(check(name, False, f"{n} row(s) reference nothing ({why}); {was} did before the migrations"))
        else:
            out.append(check(name, True, f"{n} row(s) reference nothing ({why})" + (
                f", as {was} did before the migrations: not their doing" if n else "")))
    return out


# -- 4. the JSON round trip ------------------------------------------------------------------
def _row(conn: sa.Connection, table: str, key: str, key_value: Any) -> list[Any]:
    insp_cols = [c["name"] for c in sa.inspect(conn).get_columns(table)]
    tbl = sa.table(table, *[sa.column(c) for c in insp_cols])
    row = conn.execute(sa.select(*tbl.c).where(tbl.c[key] == key_value)).one()
    return [inventory.plain_value(v) for v in row]


def _missing(conn: sa.Connection, table: str, columns: list[str]) -> str | None:
    """Why a check on ``table(columns)`` cannot run here (``None``: it can)."""
    insp = sa.inspect(conn)
    if not insp.has_table(table):
        return f"table {table} does not exist"
    have = {c["name"] for c in insp.get_columns(table)}
    gone = [c for c in columns if c not in have]
    if gone:
        return f"column(s) {', '.join(f'{table}.{c}' for c in gone)} do not exist (migration not applied)"
    return None


def json_round_trip(target: "Target") -> tuple[dict[str, Any], list[Check]]:
    """The guide's JSON-field test, in a transaction that is rolled back; then a check that the
    row is exactly as it was."""
    name = f"JSON round trip: {JSON_TABLE}.{JSON_COLUMN}"
    info: dict[str, Any] = {"table": JSON_TABLE, "column": JSON_COLUMN, "written": JSON_VALUE}
    with target.engine().connect() as conn:
        reason = _missing(conn, JSON_TABLE, [JSON_COLUMN, JSON_KEY])
        tbl = sa.table(JSON_TABLE, sa.column(JSON_KEY), sa.column(JSON_COLUMN))
        first = None
        if reason is None:
            first = conn.execute(sa.select(sa.func.min(tbl.c[JSON_KEY]))).scalar()
            if first is None:
                reason = f"{JSON_TABLE} has no rows"
        if reason is not None:
            conn.rollback()
            info["skipped"] = reason
            return info, [check(name, True, f"skipped: {reason}", skipped=True),
                          check("JSON round trip left the data as it was", True, f"skipped: {reason}", skipped=True)]
        info[JSON_KEY] = first
        row_before = _row(conn, JSON_TABLE, JSON_KEY, first)
        conn.rollback()

        engine = target.kind
        tx = conn.begin()
        try:
            engine.set_local_lock_timeout(conn, VERIFY_LOCK_TIMEOUT_MS)
            conn.execute(sa.update(tbl).where(tbl.c[JSON_KEY] == first).values({JSON_COLUMN: JSON_VALUE}))
            read_back = conn.execute(sa.select(tbl.c[JSON_COLUMN]).where(tbl.c[JSON_KEY] == first)).scalar_one()
        except sa.exc.DBAPIError as exc:  # the application holds the row (or the table)
            reason = _lock_reason(engine, exc, f"{JSON_TABLE} {JSON_KEY} {first}")
        finally:
            tx.rollback()
        if reason is None:
            parsed = read_back if not isinstance(read_back, str) else _json_or_none(read_back)
            equal = read_back == JSON_VALUE or parsed == json.loads(JSON_VALUE)
            info |= {"read_back": read_back if isinstance(read_back, str) else json.dumps(read_back), "equal": equal}
        else:
            info["skipped"] = reason

        row_after = _row(conn, JSON_TABLE, JSON_KEY, first)
        conn.rollback()
    restored = row_after == row_before
    info["restored"] = restored
    if reason is not None:
        round_trip = check(name, True, f"skipped: {reason}", skipped=True)
    else:
        round_trip = check(name, equal, f"wrote {JSON_VALUE} to {JSON_KEY} {first}, read back {info['read_back']}")
    return info, [
        round_trip,
        check("JSON round trip left the data as it was", restored,
              f"{JSON_TABLE} {JSON_KEY} {first} " + ("is as it was (transaction rolled back)" if restored
                                                     else "differs from before the round trip")),
    ]


def _lock_reason(engine: "Engine", exc: sa.exc.DBAPIError, what: str) -> str:
    """Why a statement of verify's rolled-back transactions failed, in one line."""
    if engine.lock_timed_out(exc):
        return f"the application holds a lock on {what} (not granted within {VERIFY_LOCK_TIMEOUT_MS} ms)"
    orig = exc.orig
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


# -- 6. query plans --------------------------------------------------------------------------
def _query_shape(sql: str) -> tuple[str, list[str]]:
    tree = Statement(sql, 1, 1).parse(mig.SOURCE_DIALECT)
    if tree is None or tree.find(exp.Table) is None:
        raise BadInput(f"cannot read the query to explain: {sql[:80]!r}")
    where = tree.find(exp.Where)
    return tree.find(exp.Table).name, list(dict.fromkeys(c.name for c in where.find_all(exp.Column))) if where else []


def query_plans(target: "Target", expected: dict[str, Any] | None, model: dict[str, Any],
                sql: str = GUIDE_QUERY) -> tuple[dict[str, Any] | None, list[Check]]:
    """The plan of ``sql`` now and without the indexes the applied migrations created on its
    table (dropped in a transaction that is rolled back). ``None`` when its columns do not exist.
    ``model``: the target's schema model as it is now (``verify`` has just taken it)."""
    engine = target.kind
    table, columns = _query_shape(sql)
    with target.engine().connect() as conn:
        reason = _missing(conn, table, columns)
        if reason is not None:
            conn.rollback()
            return None, [check("query plan: indexes used", True, f"skipped: {reason}", skipped=True)]
        existing = {ix["name"] for ix in (model["tables"].get(table) or {}).get("indexes") or []}
        declared = schema.plain_indexes(expected or {}, table)  # the indexes the migrations created on it
        ours = [ix["name"] for ix in declared if ix["name"] in existing]
        relevant = [ix["name"] for ix in declared
                    if ix["name"] in existing and ix["columns"] and ix["columns"][0] in columns]
        after = engine.explain(conn, sql)
        conn.rollback()
        index_plan = engine.index_usable(conn, sql)
        conn.rollback()
        before: list[str] = []
        not_compared = None
        tx = conn.begin()
        try:
            engine.set_local_lock_timeout(conn, VERIFY_LOCK_TIMEOUT_MS)
            preparer = conn.dialect.identifier_preparer
            for ix in ours:
                conn.exec_driver_sql(f"DROP INDEX {preparer.quote(ix)}")
            before = engine.index_usable(conn, sql)
        except sa.exc.DBAPIError as exc:  # e.g. the lock timeout behind the application's transactions
            not_compared = _lock_reason(engine, exc, table)
        finally:
            tx.rollback()
        still = engine.index_names(conn, table)
        conn.rollback()
    plan_text = "\n".join(index_plan)
    used = [n for n in sorted(existing) if n in plan_text]
    lost = [n for n in ours if n not in still]
    plans = {"query": sql, "before_indexes": before, "after_indexes": after, "index_plan": index_plan,
             "index_used": bool(used), "indexes_used": used, "dropped_for_before": ours}
    if relevant:
        usable = [n for n in relevant if n in plan_text]
        plan_check = check("query plan: indexes used", bool(usable),
                           f"the plan uses {', '.join(usable)}" if usable else
                           f"the plan uses none of {', '.join(relevant)}: {' / '.join(index_plan)}")
    else:
        plan_check = check("query plan: indexes used", True,
                           f"no applied migration indexes {', '.join(columns)} on {table}; plan: {' / '.join(index_plan)}")
    if not_compared is not None:
        plans["not_compared"] = not_compared
        intact = check("query plan: indexes intact after the comparison", not lost,
                       f"{', '.join(lost)} missing" if lost else
                       f"plans not compared: {not_compared}; the migrations' indexes are all in place")
    else:
        intact = check("query plan: indexes intact after the comparison", not lost,
                       f"{', '.join(lost)} missing after the rollback" if lost else
                       f"{len(ours)} index(es) dropped for the comparison and restored by the rollback")
    return plans, [plan_check, intact]


# -- the whole verification ------------------------------------------------------------------
HEALTH_GROUPS = [  # (the health row, the checks it summarises)
    ("Data Integrity", lambda c: c == f"rows: {INTEGRITY_TABLE}"),
    ("Schema Consistency", lambda c: c.startswith("schema: ")),
    ("Row Counts", lambda c: c.startswith("rows: ")),
    ("Content Unchanged", lambda c: c.startswith("content: ")),
    ("Concurrent Writes", lambda c: c == "concurrent writes since the inventory"),
    ("JSON Round Trip", lambda c: c.startswith("JSON round trip")),
    ("Referential Integrity", lambda c: c.startswith("orphans: ")),
    ("Query Plan", lambda c: c.startswith("query plan: ")),
    ("Migration History", lambda c: c == "migration history matches the folder"),
    ("Verify Scripts", lambda c: c.startswith("verify script ")),
]


def health(checks: list[Check]) -> list[dict[str, str]]:
    """The guide's PASS/FAIL health table, one row per check group (SKIP when nothing applied)."""
    rows = []
    for label, member in HEALTH_GROUPS:
        group = [c for c in checks if member(c["check"])]
        if not group:
            continue
        bad = [c for c in group if not c["passed"]]
        if bad:
            status, detail = "FAIL", "; ".join(f"{c['check']}: {c['detail']}" for c in bad)
        elif all(c.get("skipped") for c in group):
            status, detail = "SKIP", group[0]["detail"]
        else:
            ran = [c for c in group if not c.get("skipped")]
            status = "PASS"
            detail = ran[0]["detail"] if len(ran) == 1 else f"{len(ran)} checks passed" + (
                f", {len(group) - len(ran)} skipped" if len(group) > len(ran) else "")
        rows.append({"check_type": label, "status": status, "detail": detail})
    return rows


def _history_check(status: mig.Status) -> Check:
    problems = [f"{m.label} changed on disk since it was applied" for m, _ in status.drifted]
    problems += [f"version {a.version} applied but not in the folder" for a in status.unknown]
    return check("migration history matches the folder", not problems,
                 "; ".join(problems) if problems else
                 f"at version {status.current or 'none'}, {len(status.applied)} applied, {len(status.pending)} pending")


def dropped_on_purpose(before: dict[str, Any], expected: "exp_.Expected", chosen: list[mig.Migration]
                       ) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Columns (table → column → why) and tables (table → why) the migrations applied since the
    pre-migration inventory ``before`` dropped: in the schema at that version (the inventory
    itself when the expected schema is the rehearsal's copy of the target) and not in the
    expected one."""
    since = expected.before_point
    later = [m.label for m in chosen if since == exp_.NOTHING or int(m.version) > int(since)]

    def why(table: str, column: str | None = None) -> str:
        for label in later:  # the first migration after which it is gone (replay only)
            model = expected.after.get(label)
            if model is not None and (table not in model["tables"] if column is None
                                      else column not in schema.column_names(model, table)):
                return f"by {label}"
        return (f"by {later[0]}" if len(later) == 1 else
                f"by one of {', '.join(later[:5])}{', …' if len(later) > 5 else ''}")

    then = before if expected.source == "rehearsal" else expected.at_before
    now = expected.schema
    if then is None or now is None:
        return {}, {}
    gone_tables = {t: why(t) for t in then.get("tables", {}) if t not in now["tables"]}
    dropped: dict[str, dict[str, str]] = {}
    for t in then.get("tables", {}):
        if t in now["tables"]:
            kept = set(schema.column_names(now, t))
            for col in schema.column_names(then, t):
                if col not in kept:
                    dropped.setdefault(t, {})[col] = why(t, col)
    return dropped, gone_tables


def verify(target: "Target", migrations_dir: str | Path, before: dict[str, Any] | None = None, *,
           run_dir: str | Path | None = None, dialect: str | None = mig.DEFAULT_DIALECT,
           writers: bool = True, baseline: "Target | None" = None) -> dict[str, Any]:
    """Check the database against its applied migrations and, when given, the pre-migration
    inventory ``before`` (see the module doc). ``run_dir``: the run's directory, where the
    rehearsal left the schema of its migrated copy (``rehearsal.json``) and beside which the
    replayed schemas are cached (``runbook.expected``). ``writers`` (the default, a live target):
    a change since the inventory that no migration declares is reported as concurrent writes,
    never a failure; ``False`` (a scratch copy no one else writes to): it fails. ``baseline``: a
    database holding ``before``'s rows (the rehearsal's backup file; by default this run's backup,
    ``backup.database_of``), hashed for a table ``before`` has no row hash of
    (``inventory.take(row_hashes=False)``) when it holds that table as ``before`` saw it. Returns ``{"passed", "checks", "health",
    "size_bytes", "plans", "json_round_trip", "expected"}``; never raises for a failed check
    (see ``assert_passed``)."""
    engine = target.kind
    migrations = mig.discover(migrations_dir, dialect)
    with target.engine().connect() as conn:
        chosen, status = applied_migrations(conn, migrations, engine)
    since = (before.get("migrations") or {}).get("current") if before is not None else None
    expected = exp_.expected_schema(target, chosen, status, since=since, want_before=before is not None,
                                    run_dir=run_dir)
    reading = (lambda: tables_to_hash(target, before, chosen)) if before is not None else ()
    with (engine.live_snapshot(target, reading=reading) if writers else engine.read_snapshot(target)) as conn:
        chosen, status = applied_migrations(conn, migrations, engine)
        checks = [_history_check(status)]
        model = schema.introspect(conn, engine)
        checks += schema_checks(model, expected, before, same=functools.partial(engine.same_definition, target))
        if before is None:
            reason = "skipped: no pre-migration inventory given"
            checks += [check("rows: compared with the pre-migration inventory", True, reason, skipped=True),
                       check("content: compared with the pre-migration inventory", True, reason, skipped=True)]
        else:
            dropped, gone_tables = dropped_on_purpose(before, expected, chosen)
            with (contextlib.nullcontext(baseline) if baseline is not None
                  else backup.database_of(target, run_dir)) as source:
                checks += data_checks(conn, engine, before, chosen, writers=writers, dropped=dropped,
                                      gone_tables=gone_tables, baseline=source, model=model)
        checks += orphan_checks(conn, model, (before or {}).get("orphans"))
        size_bytes = engine.database_size(conn)
    checks += verify_script_checks(target, chosen)
    round_trip, plans = None, None
    if inventory.has_guide_table(model["tables"]):  # the guide's checks, on the guide's schema only
        round_trip, rt_checks = json_round_trip(target)
        plans, plan_checks = query_plans(target, expected.schema, model)
        checks += rt_checks + plan_checks
    return {
        "passed": all(c["passed"] for c in checks),
        "checks": checks,
        "health": health(checks),
        "size_bytes": size_bytes,
        "plans": plans,
        "json_round_trip": round_trip,
        "expected": expected.as_dict(),
    }


def assert_passed(result: dict[str, Any]) -> None:
    """Raise ``CheckFailed`` naming every failed check (so the verify notebook fails)."""
    assert_checks(result["checks"], "verify")
