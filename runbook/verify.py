"""The guide's "Post-Migration Verification" and "Health Checks", as a state check (Sqitch's
``verify``): it compares the database with what its applied migrations declare, and with the
pre-migration inventory when one is given. It can run at any time.

What it checks:

1. **schema**: replaying the applied migrations' statements (read with sqlglot: ``CREATE TABLE``,
   ``ALTER TABLE ... ADD/DROP/RENAME COLUMN``, ``RENAME TO``, ``CREATE/DROP INDEX``, ``DROP TABLE``)
   gives the tables, columns (type, default) and indexes that must exist; every table must have
   exactly those columns (the guide's "Schema Consistency", without its SQLite-only, arbitrary
   ``COUNT(*) >= 15``), with the declared type and default (compared through the engine's
   canonical forms), and every index must exist on its columns.
2. **rows** and 3. **content**: each table of the pre-migration inventory has as many rows and the
   same fingerprint over its pre-migration columns as it had, or differs as a migration applied
   since declares (``effects``; the exact check of that ran in the migration's own transaction).
   Any other difference is, on a live target (``writers=True``), the application's: reported as
   concurrent writes, never a failure; on a copy no one else writes to (the rehearsal), a failure.
4. **JSON round trip** (the guide's): write ``["plumbing", "electrical"]`` into
   ``contractors.services_offered`` of the first contractor and read it back, in a transaction
   that is rolled back; then check the row is as it was. The UPDATE locks that one row until the
   rollback (milliseconds); on PostgreSQL it waits at most ``VERIFY_LOCK_TIMEOUT_MS`` for it
   (SQLite: the connection's busy timeout, the target's ``lock_timeout``). When the application
   holds the row, the round trip is skipped and says so: verify never raises for it.
5. **orphans**: for every declared foreign key and the guide's implied relations
   (``IMPLIED_RELATIONS``), rows whose reference matches nothing, counted with a LEFT JOIN.
6. **query plan** of the guide's example query: the plan now, and the plan in a transaction in
   which the indexes the applied migrations created on its table are dropped, then rolled back.
   On PostgreSQL that ``DROP INDEX`` needs an ACCESS EXCLUSIVE lock on the table, held until
   the rollback (milliseconds); it waits at most ``VERIFY_LOCK_TIMEOUT_MS`` for it, so the
   application's queries never queue behind it for longer (SQLite: a write lock, other writers
   wait; reads go on). When the lock is not granted, the plans are not compared and the report
   says why.

The health table (the guide's PASS/FAIL rows) summarises the check groups. Nothing loads a
table: everything is counted or streamed in SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from . import effects, inventory
from . import migrations as mig
from .checks import Check, assert_checks, check
from .errors import BadInput
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


@dataclass(frozen=True)
class Relation:
    """A reference between tables that the data must respect, declared or not."""

    table: str
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.table}({', '.join(self.columns)}) → {self.referred_table}({', '.join(self.referred_columns)})"


#: relations the guide implies without a FOREIGN KEY (SQLite cannot add one with ALTER TABLE)
IMPLIED_RELATIONS: list[Relation] = [
    Relation("contractors", ("assigned_partner_id",), "strategic_partners", ("id",)),
]


# -- what the applied migrations declare -----------------------------------------------------
@dataclass
class ExpectedColumn:
    name: str
    type: str | None  # canonical type, None when undeclared
    default: str | None  # canonical default
    origin: str  # the migration that declared it


@dataclass
class ExpectedIndex:
    name: str
    table: str
    columns: list[str]
    unique: bool
    origin: str


@dataclass
class Expected:
    """The schema the applied migrations declare, each object with the migration it came from."""

    tables: dict[str, dict[str, ExpectedColumn]] = field(default_factory=dict)
    table_origin: dict[str, str] = field(default_factory=dict)
    indexes: dict[str, ExpectedIndex] = field(default_factory=dict)
    dropped_columns: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, column) → migration
    dropped_tables: dict[str, str] = field(default_factory=dict)
    migrations: list[str] = field(default_factory=list)


def _type_key(engine: "Engine", type_name: str) -> str:
    """A type comparable between a migration's declaration and the inspector's report."""
    try:
        return engine.canonical_type(exp.DataType.build(type_name, dialect=engine.sqlglot_dialect).this.value)
    except (ParseError, TokenError, ValueError):  # sqlglot cannot read it: compare the names
        return engine.canonical_type(type_name)


def _column(cd: exp.ColumnDef, engine: "Engine", origin: str) -> ExpectedColumn:
    declared = None
    if isinstance(cd.kind, exp.DataType):
        declared = engine.canonical_type(cd.kind.this.value)
    default = None
    for constraint in cd.constraints:
        if isinstance(constraint.kind, exp.DefaultColumnConstraint):
            default = engine.canonical_default(constraint.kind.this.sql(dialect=engine.sqlglot_dialect))
    return ExpectedColumn(cd.name, declared, default, origin)


def _replay(tree: exp.Expression | None, engine: "Engine", origin: str, out: Expected) -> None:
    if isinstance(tree, exp.Create):
        kind = (tree.args.get("kind") or "").upper()
        if kind == "TABLE":
            schema = tree.this
            table = schema.this.name if isinstance(schema, exp.Schema) else tree.find(exp.Table).name
            cols = [e for e in schema.expressions if isinstance(e, exp.ColumnDef)] if isinstance(schema, exp.Schema) else []
            out.tables[table] = {cd.name: _column(cd, engine, origin) for cd in cols}
            out.table_origin[table] = origin
            out.dropped_tables.pop(table, None)
        elif kind == "INDEX" and isinstance(tree.this, exp.Index):
            index = tree.this
            params = index.args.get("params")
            cols = [o.this.name if isinstance(o, exp.Ordered) and isinstance(o.this, exp.Column) else o.sql()
                    for o in (params.args.get("columns") or [] if params else [])]
            out.indexes[index.name] = ExpectedIndex(index.name, index.args["table"].name, cols,
                                                    bool(tree.args.get("unique")), origin)
    elif isinstance(tree, exp.Drop):
        kind = (tree.args.get("kind") or "").upper()
        for t in tree.args.get("tables") or []:
            if kind == "TABLE":
                out.tables.pop(t.name, None)
                out.dropped_tables[t.name] = origin
                out.indexes = {n: i for n, i in out.indexes.items() if i.table != t.name}
            elif kind == "INDEX":
                out.indexes.pop(t.name, None)
    elif isinstance(tree, exp.Alter) and (tree.args.get("kind") or "").upper() == "TABLE":
        table = tree.this.name
        for action in tree.args.get("actions") or []:
            columns = out.tables.setdefault(table, {})
            if isinstance(action, exp.ColumnDef):
                columns[action.name] = _column(action, engine, origin)
                out.dropped_columns.pop((table, action.name), None)
            elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
                for col in action.args.get("tables") or []:
                    columns.pop(col.name, None)
                    out.dropped_columns[(table, col.name)] = origin
                    out.indexes = {n: i for n, i in out.indexes.items()
                                   if not (i.table == table and col.name in i.columns)}
            elif isinstance(action, exp.RenameColumn):
                old, new = action.this.name, action.args["to"].name
                if old in columns:
                    columns[new] = columns.pop(old)
                    columns[new].name = new
                for ix in out.indexes.values():
                    if ix.table == table:
                        ix.columns = [new if c == old else c for c in ix.columns]
            elif isinstance(action, exp.AlterRename):
                new_table = action.this.name
                out.tables[new_table] = out.tables.pop(table, {})
                out.table_origin[new_table] = out.table_origin.pop(table, origin)
                for ix in out.indexes.values():
                    if ix.table == table:
                        ix.table = new_table


def expected_schema(applied: list[mig.Migration], engine: "Engine") -> Expected:
    """Replay the applied migrations' statements (as they run on ``engine``) into the schema
    they declare. Statements sqlglot cannot read, and those that declare nothing, are passed by."""
    out = Expected()
    for m in applied:
        statements, dialect = m.script.statements_for(engine)
        out.migrations.append(m.label)
        for st in statements:
            if not st.is_transaction_control:
                _replay(st.parse(dialect), engine, m.label, out)
    return out


def applied_migrations(conn: sa.Connection, migrations: list[mig.Migration], engine: "Engine") -> tuple[list[mig.Migration], mig.Status]:
    """The migrations the database says it has (its baseline too, when it would be adopted)."""
    status = mig.status(conn, migrations, engine)
    done = {a.version for a in status.applied}
    chosen = [m for m in migrations if m.version in done or (status.adoptable and m.number == 0)]
    return chosen, status


# -- 1. schema -------------------------------------------------------------------------------
def schema_checks(conn: sa.Connection, engine: "Engine", expected: Expected) -> list[Check]:
    insp = sa.inspect(conn)
    present = set(insp.get_table_names())
    out = []
    for table, columns in expected.tables.items():
        name = f"schema: {table}"
        if table not in present:
            out.append(check(name, False, f"table {table} (from {expected.table_origin.get(table, '?')}) does not exist"))
            continue
        actual = {c["name"]: c for c in insp.get_columns(table)}
        problems = []
        for col in columns.values():
            if col.name not in actual:
                problems.append(f"column {col.name} (from {col.origin}) is missing")
                continue
            a = actual[col.name]
            if col.type is not None and _type_key(engine, str(a["type"])) != col.type:
                problems.append(f"column {col.name} is {a['type']}, {col.origin} declares {col.type}")
            now = engine.canonical_default(a.get("default"))
            if now != col.default:
                problems.append(f"column {col.name} default is {now or 'none'}, {col.origin} declares {col.default or 'none'}")
        extra = [c for c in actual if c not in columns]
        if extra and table in expected.table_origin:  # only tables the migrations created are exact
            problems.append(f"column(s) {', '.join(extra)} declared by no applied migration")
        indexes = {ix["name"]: ix for ix in insp.get_indexes(table)}
        wanted = [ix for ix in expected.indexes.values() if ix.table == table]
        for ix in wanted:
            if ix.name not in indexes:
                problems.append(f"index {ix.name} (from {ix.origin}) is missing")
            elif [c for c in indexes[ix.name]["column_names"]] != ix.columns and None not in indexes[ix.name]["column_names"]:
                problems.append(f"index {ix.name} is on ({', '.join(indexes[ix.name]['column_names'])}), "
                                f"{ix.origin} declares ({', '.join(ix.columns)})")
        detail = "; ".join(problems) if problems else (
            f"{len(columns)} columns and {len(wanted)} indexes as the applied migrations declare")
        out.append(check(name, not problems, detail))
    return out


# -- 2./3. rows and content -----------------------------------------------------------------
def declared_since(before: dict[str, Any], chosen: list[mig.Migration], engine: "Engine") -> dict[str, Any]:
    """What the migrations applied since the inventory ``before`` declare (``effects``), keyed by
    the tables' names in the inventory: ``{"rows": {table: why}, "renamed": {table: now},
    "dropped_tables": {table: why}, "dropped_columns": {table: {column: why}}}``."""
    since = (before.get("migrations") or {}).get("current")
    later = [m for m in chosen if since is None or int(m.version) > int(since)]
    out: dict[str, Any] = {"rows": {}, "renamed": {}, "dropped_tables": {}, "dropped_columns": {}}
    original: dict[str, str] = {}  # name now → name in the inventory
    for m in later:
        statements, dialect = m.script.statements_for(engine)
        declared = effects.declare_statements(statements, dialect)
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
            if e.changes_rows:
                previous = out["rows"].get(first)
                out["rows"][first] = (previous + "; " if previous else "") + f"{m.label}: {'; '.join(e.why)}"
    return out


def data_checks(conn: sa.Connection, engine: "Engine", before: dict[str, Any], chosen: list[mig.Migration], *,
                writers: bool) -> list[Check]:
    """Rows and content of every table of the inventory ``before``, against what the migrations
    applied since declare. The exact check of each migration's effect ran in its own transaction
    (``effects.DataWatch``); here, on a live target (``writers``), what no migration declares is
    the application's doing: reported as concurrent writes, one summary check, never a failure."""
    d = declared_since(before, chosen, engine)
    common = {"tables_dropped_on_purpose": d["dropped_tables"], "declared": d["rows"], "renamed": d["renamed"],
              "writers": writers}
    out = inventory.count_checks(conn, before, **common)
    out += inventory.content_checks(conn, engine, before, dropped_on_purpose=d["dropped_columns"], **common)
    concurrent = sorted({c["check"].split(": ", 1)[1] for c in out if "concurrent_writes" in c})
    if writers:
        rows = {c["check"].split(": ", 1)[1]: c["concurrent_writes"] for c in out
                if c["check"].startswith("rows: ") and "concurrent_writes" in c}
        shown = ", ".join(f"{t} ({rows[t]:+d} rows)" if rows.get(t) else f"{t} (rows changed)" for t in concurrent)
        out.append(check("concurrent writes since the inventory", True,
                         f"the application wrote to {shown}: reported, not a failure" if concurrent else
                         "none: every difference from the inventory is declared by a migration")
                   | {"tables": concurrent})
    return out


# -- 5. orphans ------------------------------------------------------------------------------
def relations(conn: sa.Connection) -> list[tuple[Relation, str]]:
    """Declared foreign keys of every table, then the implied relations not declared as such."""
    insp = sa.inspect(conn)
    found: list[tuple[Relation, str]] = []
    for table in inventory.table_names(conn):
        for fk in insp.get_foreign_keys(table):
            found.append((Relation(table, tuple(fk["constrained_columns"]), fk["referred_table"],
                                   tuple(fk["referred_columns"])), "foreign key"))
    declared = {r for r, _ in found}
    found += [(r, "implied by the guide") for r in IMPLIED_RELATIONS if r not in declared]
    return found


def count_orphans(conn: sa.Connection, rel: Relation) -> int:
    """Rows of ``rel.table`` whose (non-NULL) reference matches no row of ``rel.referred_table``."""
    child = sa.table(rel.table, *[sa.column(c) for c in rel.columns]).alias("c")
    parent = sa.table(rel.referred_table, *[sa.column(c) for c in dict.fromkeys(rel.referred_columns)]).alias("p")
    on = sa.and_(*[child.c[a] == parent.c[b] for a, b in zip(rel.columns, rel.referred_columns)])
    query = (sa.select(sa.func.count()).select_from(child.outerjoin(parent, on))
             .where(*[child.c[a].is_not(None) for a in rel.columns], parent.c[rel.referred_columns[0]].is_(None)))
    return int(conn.execute(query).scalar_one())


def orphan_checks(conn: sa.Connection) -> list[Check]:
    insp = sa.inspect(conn)
    present = set(insp.get_table_names())
    out = []
    for rel, why in relations(conn):
        name = f"orphans: {rel.label}"
        missing = None
        for table, cols in ((rel.table, rel.columns), (rel.referred_table, rel.referred_columns)):
            if table not in present:
                missing = f"table {table} does not exist"
                break
            have = {c["name"] for c in insp.get_columns(table)}
            gone = [c for c in cols if c not in have]
            if gone:
                missing = f"column {table}.{gone[0]} does not exist"
                break
        if missing:
            out.append(check(name, True, f"skipped ({why}): {missing}", skipped=True))
            continue
        n = count_orphans(conn, rel)
        out.append(check(name, n == 0, f"{n} row(s) reference nothing ({why})"))
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


def query_plans(target: "Target", expected: Expected, sql: str = GUIDE_QUERY) -> tuple[dict[str, Any] | None, list[Check]]:
    """The plan of ``sql`` now and without the indexes the applied migrations created on its
    table (dropped in a transaction that is rolled back). ``None`` when its columns do not exist."""
    engine = target.kind
    table, columns = _query_shape(sql)
    with target.engine().connect() as conn:
        reason = _missing(conn, table, columns)
        if reason is not None:
            conn.rollback()
            return None, [check("query plan: indexes used", True, f"skipped: {reason}", skipped=True)]
        existing = {ix["name"] for ix in sa.inspect(conn).get_indexes(table)}
        ours = [ix.name for ix in expected.indexes.values() if ix.table == table and ix.name in existing]
        relevant = [ix.name for ix in expected.indexes.values()
                    if ix.table == table and ix.name in existing and ix.columns and ix.columns[0] in columns]
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
        still = {ix["name"] for ix in sa.inspect(conn).get_indexes(table)}
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


def verify(target: "Target", migrations_dir: str | Path, before: dict[str, Any] | None = None, *,
           writers: bool = True) -> dict[str, Any]:
    """Check the database against its applied migrations and, when given, the pre-migration
    inventory ``before`` (see the module doc). ``writers`` (the default, a live target): a change
    since the inventory that no migration declares is reported as concurrent writes, never a
    failure; ``False`` (a scratch copy no one else writes to): it fails. Returns ``{"passed", "checks", "health", "size_bytes",
    "plans", "json_round_trip", "expected"}``; never raises for a failed check (see ``assert_passed``)."""
    engine = target.kind
    migrations = mig.discover(migrations_dir)
    with engine.read_snapshot(target) as conn:
        chosen, status = applied_migrations(conn, migrations, engine)
        expected = expected_schema(chosen, engine)
        checks = [_history_check(status)]
        checks += schema_checks(conn, engine, expected)
        if before is None:
            reason = "skipped: no pre-migration inventory given"
            checks += [check("rows: compared with the pre-migration inventory", True, reason, skipped=True),
                       check("content: compared with the pre-migration inventory", True, reason, skipped=True)]
        else:
            checks += data_checks(conn, engine, before, chosen, writers=writers)
        checks += orphan_checks(conn)
        size_bytes = engine.database_size(conn)
    round_trip, rt_checks = json_round_trip(target)
    plans, plan_checks = query_plans(target, expected)
    checks += rt_checks + plan_checks
    return {
        "passed": all(c["passed"] for c in checks),
        "checks": checks,
        "health": health(checks),
        "size_bytes": size_bytes,
        "plans": plans,
        "json_round_trip": round_trip,
        "expected": {"migrations": expected.migrations,
                     "tables": {t: list(cols) for t, cols in expected.tables.items()},
                     "indexes": {n: {"table": i.table, "columns": i.columns, "unique": i.unique}
                                 for n, i in expected.indexes.items()}},
    }


def assert_passed(result: dict[str, Any]) -> None:
    """Raise ``CheckFailed`` naming every failed check (so the verify notebook fails)."""
    assert_checks(result["checks"], "verify")
