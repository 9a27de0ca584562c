"""The guide's "Pre-Migration Assessment": what the database holds before anything changes.

``take()`` records, in one read transaction, the database size, and per table its row count,
size, columns, indexes, foreign keys and a content fingerprint; the data-quality checks; and the
migration status. ``compare_to_snapshot()`` tells whether a database is back to such a snapshot
(after a rollback). Everything is counted or streamed in SQL; no table is loaded into memory.

The schema part is ``runbook.schema``'s model, read from the engine (``schema.introspect``): a
snapshot's ``tables`` are the model's tables with ``rows``, ``size_bytes`` and ``fingerprint``
added, and its ``views``, ``types``, ``sequences``, ``functions``, ``triggers`` and
``extensions`` are the model's. ``compare_schemas`` is ``schema.diff`` (exact, the engine's
spelling), or with ``canonical=True`` the diff of ``schema.canonical`` views (the same schema
on another engine).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import sqlalchemy as sa

from . import migrations as mig
from . import progress, schema
from .checks import Check, check
from .engines import engine_of

if TYPE_CHECKING:
    from .engines.base import Engine
    from .target import Target



# -- counts ----------------------------------------------------------------------------------
def table_names(conn: sa.Connection) -> list[str]:
    """The database's tables, named as in the schema model, without the runbook's own tables."""
    return [t for t in engine_of(conn).table_names(conn) if t not in mig.RUNBOOK_TABLES]


def count_rows(conn: sa.Connection, table: str, where: sa.ColumnElement[bool] | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(engine_of(conn).table(table))
    if where is not None:
        query = query.where(where)
    return int(conn.execute(query).scalar_one())


def row_counts(conn: sa.Connection, *, with_history: bool = False) -> dict[str, int]:
    """``COUNT(*)`` of every table (the guide's data inventory), ``schema_history`` left out
    unless ``with_history`` (a backup's record counts every table it copied)."""
    names = engine_of(conn).table_names(conn) if with_history else table_names(conn)
    return {t: count_rows(conn, t) for t in names}


# -- schema ----------------------------------------------------------------------------------
def schema_snapshot(conn: sa.Connection, engine: "Engine") -> dict[str, Any]:
    """The schema model of the database (``runbook.schema``), as the engine reports it."""
    return schema.introspect(conn, engine)


def compare_schemas(before: dict[str, Any], after: dict[str, Any], *, canonical: bool = False,
                    order: bool = False, same: Callable[[str, str, str, str], bool] | None = None) -> list[str]:
    """Human-readable differences from ``before`` to ``after`` (empty: the same schema), one
    line each. Takes schema models or full ``take()`` snapshots (only the schema is compared).
    ``canonical`` compares across engines (``schema.canonical``); ``order`` also reports a
    table's column order (``schema.differences``); ``same``: ``Engine.same_definition``."""
    if canonical:
        return schema.diff(schema.canonical(before), schema.canonical(after))
    return schema.diff(before, after, order=order, same=same)


# -- content fingerprints --------------------------------------------------------------------
def plain_value(value: Any) -> Any:
    """A JSON value that tells values of different kinds apart (1, 1.0, '1' and True differ)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return {"f": repr(value)}
    if isinstance(value, decimal.Decimal):
        return {"d": str(value.normalize()) if value.is_finite() else str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"b": bytes(value).hex()}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return {"t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"td": value.total_seconds()}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {"j": {str(k): plain_value(v) for k, v in sorted(value.items())}}
    return {"o": str(value)}


def primary_key(conn: sa.Connection, table: str) -> list[str]:
    """The columns of ``table``'s primary key (empty: it has none)."""
    return engine_of(conn).primary_key(sa.inspect(conn), table)


def model_key(table: dict[str, Any]) -> list[str]:
    """The primary-key columns of a table of the schema model (``runbook.schema``)."""
    return list((table.get("primary_key") or {}).get("columns") or [])


#: a fingerprint of a table with at least this many rows reports its progress (``progress.scan``)
SCAN_SHOWN_FROM = 100_000


def fingerprint(conn: sa.Connection, table: str, columns: list[str], engine: "Engine",
                total: int | None = None, key: list[str] | None = None) -> dict[str, Any]:
    """SHA-256 of ``columns`` over every row of ``table``: ``{"columns", "rows", "sha256"}``.

    Computed by the engine (``engine.digest_parts``): each row's text is built in SQL (SQLite's
    ``quote()`` of each value, PostgreSQL's record text), then PostgreSQL sums the rows' 64-bit
    hashes in one query (no row leaves the server), SQLite joins chunks of rows in key order into one
    string each, hashed here. The same stored data gives the same hash on the same engine;
    adding or dropping another column does not change it; values of different kinds (1, 1.0,
    '1', NULL, '') are told apart. ``key``: the table's primary-key columns where the caller has
    the schema model at hand (else read from the database).
    """
    h = hashlib.sha256()
    h.update(json.dumps(list(columns)).encode() + b"\n")
    rows = 0
    shown = total is not None and total >= SCAN_SHOWN_FROM  # SQLite: one step per chunk of rows
    with (progress.scan(f"fingerprint {table}", total) if shown else contextlib.nullcontext(lambda n: None)) as advance:
        for n, part in engine.digest_parts(conn, table, list(columns), primary_key(conn, table) if key is None else key):
            h.update(part.encode())
            h.update(b"\n")
            rows += n
            advance(n)
    return {"columns": list(columns), "rows": rows, "sha256": h.hexdigest(),
            **({"digest": engine.row_digest} if engine.row_digest else {})}


def fingerprints_of(source: "Target") -> Callable[[str, list[str], dict[str, Any]], dict[str, Any] | None]:
    """``fingerprint`` over ``columns`` of a table of ``source`` (a database no one writes to: a
    backup file), each in its own read transaction, when ``source`` holds the table as the
    snapshot's fingerprint ``fp`` saw it: in the same stored pages (``engine.same_pages``), or,
    when ``fp`` recorded none, with the same hash over ``fp``'s columns; ``None`` when it does not."""
    def of(table: str, columns: list[str], fp: dict[str, Any]) -> dict[str, Any] | None:
        engine = source.kind
        with engine.read_snapshot(source) as conn:
            if fp.get("pages") or fp.get("sha256") is None:
                if not engine.same_pages(fp.get("pages"), (engine.content_pages(conn, [table]) or {}).get(table)):
                    return None  # not there, or not as the snapshot saw it
            elif table not in table_names(conn) or fingerprint(conn, table, fp["columns"], engine)["sha256"] != fp["sha256"]:
                return None
            return fingerprint(conn, table, columns, engine, total=count_rows(conn, table))
    return of


# -- data quality ----------------------------------------------------------------------------
@dataclass(frozen=True)
class QualityCheck:
    """A data-quality check: rows of ``table`` matching ``condition`` (or, with ``duplicates``,
    rows sharing the value of that expression with another row) are problems. ``requires``
    names the columns it reads, per table; when one is missing the check is skipped."""

    name: str
    table: str
    description: str
    requires: dict[str, tuple[str, ...]]
    condition: str | None = None
    duplicates: str | None = None
    where: str | None = None


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


def relations(model: dict[str, Any]) -> list[tuple[Relation, str]]:
    """Declared foreign keys of every table of the schema model, then the guide's implied
    relations not declared as such (on a database with the guide's table)."""
    found = [(Relation(table, tuple(fk["columns"]), fk["referred_table"], tuple(fk["referred_columns"])), "foreign key")
             for table, info in model["tables"].items() for fk in info["foreign_keys"]]
    declared = {r for r, _ in found}
    if has_guide_table(model["tables"]):
        found += [(r, "implied by the guide") for r in IMPLIED_RELATIONS if r not in declared]
    return found


def relation_missing(model: dict[str, Any], rel: Relation) -> str | None:
    """Why ``rel`` cannot be counted in ``model`` (a table or column it names is not there)."""
    tables = model["tables"]
    for table, cols in ((rel.table, rel.columns), (rel.referred_table, rel.referred_columns)):
        if table not in tables:
            return f"table {table} does not exist"
        have = {c["name"] for c in tables[table]["columns"]}
        gone = [c for c in cols if c not in have]
        if gone:
            return f"column {table}.{gone[0]} does not exist"
    return None


def count_orphans(conn: sa.Connection, rel: Relation) -> int:
    """Rows of ``rel.table`` whose (non-NULL) reference matches no row of ``rel.referred_table``."""
    engine = engine_of(conn)
    child = engine.table(rel.table, *rel.columns).alias("c")
    parent = engine.table(rel.referred_table, *dict.fromkeys(rel.referred_columns)).alias("p")
    on = sa.and_(*[child.c[a] == parent.c[b] for a, b in zip(rel.columns, rel.referred_columns)])
    query = (sa.select(sa.func.count()).select_from(child.outerjoin(parent, on))
             .where(*[child.c[a].is_not(None) for a in rel.columns], parent.c[rel.referred_columns[0]].is_(None)))
    return int(conn.execute(query).scalar_one())


def orphan_counts(conn: sa.Connection, model: dict[str, Any]) -> dict[str, int]:
    """Per relation (``relations``) of ``model``, the rows whose reference matches no row: what
    verify compares with (rows that referenced nothing before the migrations are not theirs)."""
    return {rel.label: count_orphans(conn, rel) for rel, _ in relations(model) if relation_missing(model, rel) is None}


#: the guide's data-quality checks, the implied relation verify counts orphans of, its JSON round
#: trip and its example query plan are written for the guide's Power100 schema: a database opts in
#: by having this table (the demo's does). A database without it gets none of them: they are not
#: reported at all, rather than skipped in every other project's reports.
GUIDE_TABLE = "contractors"


def has_guide_table(tables: set[str] | dict[str, Any]) -> bool:
    """Do the guide's checks apply to a database with these tables (``GUIDE_TABLE``)?"""
    return GUIDE_TABLE in tables


QUALITY_CHECKS: list[QualityCheck] = [
    QualityCheck("contractors_missing_email", "contractors", "contractors without an email (the guide's check)",
                 {"contractors": ("email",)}, condition="email IS NULL OR email = ''"),
    QualityCheck("contractors_missing_name", "contractors", "contractors without a name",
                 {"contractors": ("name",)}, condition="name IS NULL OR TRIM(name) = ''"),
    QualityCheck("contractors_duplicate_email", "contractors",
                 "contractors whose email another contractor also has (case-insensitive)",
                 {"contractors": ("email",)}, duplicates="LOWER(email)", where="email IS NOT NULL AND email <> ''"),
    QualityCheck("contractors_unknown_partner", "contractors",
                 "contractors whose assigned_partner_id matches no strategic partner",
                 {"contractors": ("assigned_partner_id",), "strategic_partners": ("id",)},
                 condition="assigned_partner_id IS NOT NULL AND NOT EXISTS "
                           "(SELECT 1 FROM strategic_partners p WHERE p.id = contractors.assigned_partner_id)"),
    QualityCheck("strategic_partners_missing_company_name", "strategic_partners", "partners without a company name",
                 {"strategic_partners": ("company_name",)}, condition="company_name IS NULL OR TRIM(company_name) = ''"),
    QualityCheck("admin_users_missing_email", "admin_users", "admin users without an email",
                 {"admin_users": ("email",)}, condition="email IS NULL OR email = ''"),
    QualityCheck("admin_users_duplicate_email", "admin_users",
                 "admin users whose email another admin user also has (case-insensitive)",
                 {"admin_users": ("email",)}, duplicates="LOWER(email)", where="email IS NOT NULL AND email <> ''"),
    QualityCheck("admin_users_missing_password_hash", "admin_users", "admin users without a password hash",
                 {"admin_users": ("password_hash",)}, condition="password_hash IS NULL OR password_hash = ''"),
]


def _missing_requirement(insp: sa.Inspector, tables: set[str], requires: dict[str, tuple[str, ...]]) -> str | None:
    for table, cols in requires.items():
        if table not in tables:
            return f"table {table} does not exist"
        present = {c["name"] for c in insp.get_columns(table)}
        for col in cols:
            if col not in present:
                return f"column {table}.{col} does not exist"
    return None


def _count_problems(conn: sa.Connection, qc: QualityCheck) -> int:
    if qc.duplicates is not None:
        groups = sa.select(sa.func.count().label("n")).select_from(sa.table(qc.table))
        if qc.where:
            groups = groups.where(sa.text(qc.where))
        groups = groups.group_by(sa.text(qc.duplicates)).having(sa.func.count() > 1).subquery("g")
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(groups.c.n), 0))).scalar_one())
    return count_rows(conn, qc.table, sa.text(qc.condition or "1 = 0"))


def quality_checks(conn: sa.Connection, checks: list[QualityCheck] | None = None) -> list[Check]:
    """Run the data-quality checks (counts only, never the rows). Each result is a check with
    ``table`` and ``count``; a check on a table or column that does not exist is skipped and
    says why. The guide's checks (the default) only on a database that has ``GUIDE_TABLE``."""
    insp = sa.inspect(conn)
    tables = set(insp.get_table_names())
    if checks is None and not has_guide_table(tables):
        return []
    out = []
    for qc in QUALITY_CHECKS if checks is None else checks:
        reason = _missing_requirement(insp, tables, qc.requires)
        if reason is not None:
            out.append(check(qc.name, True, f"skipped: {reason}", skipped=True) | {"table": qc.table, "count": None})
            continue
        n = _count_problems(conn, qc)
        out.append(check(qc.name, n == 0, f"{n} row(s): {qc.description}") | {"table": qc.table, "count": n})
    return out


# -- the snapshot ----------------------------------------------------------------------------
#: the checks of a foreign table (PostgreSQL): its rows are another server's, never read
FOREIGN = "skipped: a foreign table (its rows are another server's; the runbook neither counts nor reads them)"


def take(target: "Target", migrations_dir: str | Path, dialect: str | None = mig.DEFAULT_DIALECT, *,
         quality: bool = True, live: bool = True, row_hashes: bool = True) -> dict[str, Any]:
    """The full pre-migration inventory (shape in docs/architecture.md), read in one
    read-only transaction (REPEATABLE READ on PostgreSQL), so counts, fingerprints and schema
    describe one moment of the database. ``quality=False`` (the rehearsal's inventory of its
    scratch copy, which only verify reads): no data-quality checks (``quality`` is empty) and
    no per-table sizes (``size_bytes`` None): nothing compares them. ``live`` (the default: the
    application may be writing): read through ``engine.live_snapshot``, which keeps the read
    from stopping the application's writers; ``False`` for a scratch copy no one else uses. Each
    fingerprint also holds the engine's digest of the table's stored pages where it gives one
    (``pages``: SQLite, see ``engine.content_pages``), which lets a later comparison skip hashing
    a table whose pages did not change; ``row_hashes=False`` leaves such a table's rows unhashed
    (``sha256`` None), for a snapshot whose rows a backup will hold (the pipeline's inventory,
    the rehearsal's scratch copy): compare it with ``content_checks(..., baseline=)``."""
    engine = target.kind
    migrations = mig.discover(migrations_dir, dialect)
    with (engine.live_snapshot(target) if live else engine.read_snapshot(target)) as conn:
        model = schema_snapshot(conn, engine)
        held = set(engine.table_names(conn))  # not a foreign table, whose rows are another server's
        pages = engine.content_pages(conn, [t for t in model["tables"] if t in held]) or {}
        tables: dict[str, Any] = {}
        for i, (name, info) in enumerate(model["tables"].items(), 1):
            if name not in held:  # neither counted nor hashed: a scan of another server's table
                tables[name] = {"rows": None, "size_bytes": None, **info, "fingerprint": None, "foreign": True}
                continue
            columns = [c["name"] for c in info["columns"]]
            hashed = row_hashes or name not in pages
            progress.emit(f"inventory {target.name}: {name} ({i}/{len(model['tables'])}): rows"
                          + (" and fingerprint" if hashed else " and stored pages"), detail=True)
            key = model_key(info)
            if hashed and engine.digest_counts_rows:  # its digest counts the rows, in this snapshot
                fp = fingerprint(conn, name, columns, engine, key=key)
                rows = fp["rows"]
            else:
                rows = count_rows(conn, name)
                fp = (fingerprint(conn, name, columns, engine, total=rows, key=key) if hashed
                      else {"columns": columns, "rows": rows, "sha256": None})
            tables[name] = {
                "rows": rows,
                "size_bytes": engine.table_size(conn, name) if quality else None,
                **info,
                "fingerprint": fp | ({"pages": pages[name]} if name in pages else {}),
            }
        snapshot = {
            "taken_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "target": target.display,
            "engine": engine.name,
            "size_bytes": engine.database_size(conn),
            "tables": tables,
            **{section: model[section] for section in schema.SECTIONS},
            "quality": quality_checks(conn) if quality else [],
            "orphans": orphan_counts(conn, model),
            "migrations": {**mig.status(conn, migrations, engine).as_dict(),
                           "history_table": mig.has_history(conn)},
        }
    return snapshot


# -- comparing with a snapshot ---------------------------------------------------------------
def _differs(name: str, detail: str, table: str, declared: dict[str, str] | None, writers: bool,
             delta: int | None) -> Check:
    """A table that differs from the snapshot: declared by a migration (passes, says which),
    written by the application meanwhile (``writers``: passes, reported as concurrent writes),
    or neither (fails)."""
    if declared is None:  # compared with a snapshot only (after a rollback): any difference fails
        return check(name, False, detail)
    if table in declared:
        return check(name, True, f"{detail}: changed as declared ({declared[table]})") | {"declared": True}
    if writers:
        moved = f"{delta:+d} rows" if delta else "rows changed"
        return check(name, True, f"{detail}: concurrent writes since the inventory ({moved}; no migration "
                     "declares it, so the application wrote): not a failure") | {"concurrent_writes": delta or 0}
    return check(name, False, f"{detail}: an undeclared change")


def dropped_on_purpose_check(name: str, why: str, present: bool) -> Check:
    """The skipped check of a table a migration drops (``why``); ``present``: a table of that
    name exists now, which the migration created anew (its rows are not the snapshot's)."""
    anew = "; the table of that name now is a new one, created in its place" if present else ""
    return check(name, True, f"skipped: table dropped on purpose ({why}){anew}", skipped=True)


def count_checks(conn: sa.Connection, snapshot: dict[str, Any], *, what: str = "rows",
                 tables_dropped_on_purpose: dict[str, str] | None = None,
                 declared: dict[str, str] | None = None, renamed: dict[str, str] | None = None,
                 writers: bool = False, counted: dict[str, int] | None = None,
                 model: dict[str, Any] | None = None) -> list[Check]:
    """One check per table of ``snapshot``: does it still have the same number of rows?
    ``tables_dropped_on_purpose`` (table → why) turns a table that is gone into a skipped check;
    a different count passes when ``declared`` (table → which migration may change its rows)
    names the table, or, with ``writers`` (the live target: the application may write), as
    concurrent writes. ``renamed`` (old → new name) follows tables a migration renamed.
    ``counted`` (when given) receives each count, by the table's name now, for ``content_checks``
    in the same read transaction. ``model``: the schema ``conn`` sees, read in the same
    transaction (its tables are then not listed again)."""
    gone_ok = tables_dropped_on_purpose or {}
    renamed = renamed or {}
    present = set(table_names(conn) if model is None else model["tables"])
    out = []
    for table, info in sorted(snapshot.get("tables", {}).items()):
        name = f"{what}: {table}"
        now_name = renamed.get(table, table)
        if info.get("foreign"):
            out.append(check(name, True, FOREIGN, skipped=True))
            continue
        if table in gone_ok:
            out.append(dropped_on_purpose_check(name, gone_ok[table], now_name in present))
            continue
        if now_name not in present:
            out.append(check(name, False, f"table {now_name} no longer exists (had {info['rows']} rows)"))
            continue
        n = count_rows(conn, now_name)
        if counted is not None:
            counted[now_name] = n
        detail = f"{n} rows now, {info['rows']} in the snapshot"
        out.append(check(name, True, detail) if n == info["rows"] else
                   _differs(name, detail, table, declared, writers, n - info["rows"]))
    return out


def content_checks(conn: sa.Connection, engine: "Engine", snapshot: dict[str, Any], *,
                   dropped_on_purpose: dict[str, dict[str, str]] | None = None,
                   tables_dropped_on_purpose: dict[str, str] | None = None,
                   what: str = "content", declared: dict[str, str] | None = None,
                   renamed: dict[str, str] | None = None, writers: bool = False,
                   baseline: "Target | None" = None, counted: dict[str, int] | None = None,
                   model: dict[str, Any] | None = None) -> list[Check]:
    """One check per table of ``snapshot``: is the fingerprint over the snapshot's columns the
    same now? ``dropped_on_purpose`` (table → column → why) and ``tables_dropped_on_purpose``
    (table → why) turn a column or table that is gone into a skipped check instead of a failure;
    ``declared``, ``renamed``, ``writers`` and ``model`` as for ``count_checks`` (with ``model``,
    the tables' columns and keys are not read again either).

    Cheapest first: a different row count decides it; the same stored pages as in the snapshot
    (``engine.same_pages``) prove the same content; a table whose rows a migration declares it
    changes passes without a hash (the exact check of that ran in the migration's own
    transaction, ``effects``). Only then are its rows hashed; a snapshot taken without row hashes
    (``take(row_hashes=False)``) gets its side from ``baseline``, a backup, when it holds the
    table as the snapshot saw it (``fingerprints_of``). When nothing does, the check is skipped on a
    live target (``writers``: the application wrote to it before the backup) and fails elsewhere.
    ``counted``: row counts ``count_checks`` just read in the same read transaction (not counted again)."""
    dropped_on_purpose = dropped_on_purpose or {}
    gone_ok = tables_dropped_on_purpose or {}
    renamed = renamed or {}
    declared_ = declared or {}
    insp = sa.inspect(conn) if model is None else None
    present = set(table_names(conn) if model is None else model["tables"])
    # the stored pages of the tables they can decide: a table whose rows a migration declares it
    # changes passes unread (below), so its pages are not read either
    with_pages = [renamed.get(t, t) for t, info in snapshot.get("tables", {}).items()
                  if (info.get("fingerprint") or {}).get("pages") and renamed.get(t, t) in present
                  and t not in declared_]
    pages_now = (engine.content_pages(conn, with_pages) if with_pages else None) or {}
    kept = fingerprints_of(baseline) if baseline is not None else None
    out = []
    for table, info in sorted(snapshot.get("tables", {}).items()):
        name = f"{what}: {table}"
        fp = info.get("fingerprint")
        now_name = renamed.get(table, table)
        if not fp:
            out.append(check(name, True, FOREIGN if info.get("foreign") else "skipped: no fingerprint in the snapshot",
                             skipped=True))
            continue
        if table in gone_ok:
            out.append(dropped_on_purpose_check(name, gone_ok[table], now_name in present))
            continue
        if now_name not in present:
            out.append(check(name, False, f"table {now_name} no longer exists"))
            continue
        now_cols = {c["name"] for c in (engine.columns(insp, now_name) if insp is not None
                                         else model["tables"][now_name]["columns"])}
        gone = [c for c in fp["columns"] if c not in now_cols]
        if gone:
            why = dropped_on_purpose.get(table, {})
            if not all(c in why for c in gone):
                out.append(check(name, False, f"column(s) {', '.join(gone)} no longer exist"))
                continue
            reasons = "; ".join(f"{c}: {why[c]}" for c in gone)
            # the columns kept, hashed in a backup that holds the table as the snapshot saw it
            kept_columns = [c for c in fp["columns"] if c not in gone]
            then = kept(table, kept_columns, fp) if kept is not None and kept_columns else None
            if then is None:
                out.append(check(name, True, f"skipped: column(s) dropped on purpose ({reasons}), so the table "
                                 "cannot be compared with its fingerprint, and no backup holds it as the snapshot "
                                 "saw it", skipped=True))
                continue
            now = fingerprint(conn, now_name, kept_columns, engine, key=None if model is None else model_key(
                model["tables"][now_name]))
            detail = (f"the {len(kept_columns)} columns kept × {now['rows']} rows, compared with the backup "
                      f"({then['rows']} rows then); column(s) dropped on purpose ({reasons})")
            out.append(check(name, True, f"{detail}: unchanged") if now["sha256"] == then["sha256"] else
                       _differs(name, f"content differs: {detail}", table, declared, writers, now["rows"] - then["rows"]))
            continue
        rows_now = counted[now_name] if counted and now_name in counted else count_rows(conn, now_name)
        if rows_now != fp["rows"]:  # the count decides it: no need to hash the table
            detail = f"content differs from the snapshot ({rows_now} rows now, {fp['rows']} then; not hashed)"
            out.append(_differs(name, detail, table, declared, writers, rows_now - fp["rows"]))
            continue
        if engine.same_pages(fp.get("pages"), pages_now.get(now_name)):
            out.append(check(name, True, f"{len(fp['columns'])} columns × {rows_now} rows unchanged "
                             "(its stored pages are those of the snapshot)"))
            continue
        if table in declared_:
            out.append(check(name, True, f"{rows_now} rows, as in the snapshot; changed as declared "
                             f"({declared_[table]}): checked in the migration's own transaction, not hashed here")
                       | {"declared": True})
            continue
        if fp.get("sha256") is not None and fp.get("digest") != engine.row_digest:
            out.append(_uncompared(name, writers, f"the snapshot's row hash was summed with another row digest "
                                   f"({fp.get('digest') or 'the first'}, an earlier schema-runbook's) than today's "
                                   f"({engine.row_digest or 'the first'})"))
            continue
        if fp.get("sha256") is None:  # not hashed then: hash a database that holds the snapshot's rows
            then = kept(table, fp["columns"], fp) if kept is not None else None
            if then is None:
                out.append(_uncompared(name, writers, "its stored pages differ from the snapshot's, which hashed no "
                                       "rows, and no backup holds the table as the snapshot saw it (the application "
                                       "wrote to it before the backup, or there is none)"))
                continue
            fp = fp | {"sha256": then["sha256"]}
        now = fingerprint(conn, now_name, fp["columns"], engine, total=rows_now,
                          key=None if model is None else model_key(model["tables"][now_name]))
        if now["sha256"] == fp["sha256"]:
            out.append(check(name, True, f"{len(fp['columns'])} columns × {now['rows']} rows unchanged"))
            continue
        detail = f"content differs from the snapshot ({now['rows']} rows now, {fp['rows']} then)"
        out.append(_differs(name, detail, table, declared, writers, now["rows"] - fp["rows"]))
    return out


def _uncompared(name: str, writers: bool, why: str) -> Check:
    """A table whose content cannot be compared with the snapshot: skipped on a live target
    (``writers``), a failure on a copy no one else writes to."""
    return (check(name, True, f"skipped: {why}", skipped=True) if writers
            else check(name, False, f"cannot be compared: {why}"))


def concurrent_writes(checks: list[Check], *, reported: str, none: str) -> Check:
    """The one summary check of the differences ``count_checks`` and ``content_checks`` (with
    ``writers``) took for the application's writes since the inventory: which tables, by how
    many rows. Always passes; ``reported`` ends its detail, ``none`` is its detail without any."""
    concurrent = sorted({c["check"].split(": ", 1)[1] for c in checks if "concurrent_writes" in c})
    rows = {c["check"].split(": ", 1)[1]: c["concurrent_writes"] for c in checks
            if c["check"].startswith("rows: ") and "concurrent_writes" in c}
    shown = ", ".join(f"{t} ({rows[t]:+d} rows)" if rows.get(t) else f"{t} (rows changed)" for t in concurrent)
    return check("concurrent writes since the inventory", True,
                 f"the application wrote to {shown}: {reported}" if concurrent else none) | {"tables": concurrent}


def history_check(conn: sa.Connection, snapshot: dict[str, Any]) -> Check:
    """Does the migration history equal the snapshot's: the same applied versions, and the
    history table present exactly when it was (a snapshot without ``history_table``, written
    before it was recorded, expects the table when it lists applied versions)?"""
    recorded = snapshot.get("migrations") or {}
    want = sorted((a["version"] for a in recorded.get("applied") or []), key=int)
    want_table = recorded.get("history_table", bool(want))
    has_table = mig.has_history(conn)
    now = [a.version for a in mig.applied(conn)]
    problems = []
    if has_table != want_table:
        problems.append(f"the {mig.HISTORY_TABLE} table " + ("exists now and did not" if has_table
                                                             else "is gone and existed") + " in the snapshot")
    if now != want:
        extra = [v for v in now if v not in want]
        missing = [v for v in want if v not in now]
        problems += ([f"applied now, not in the snapshot: {', '.join(extra)}"] if extra else []) + (
            [f"applied in the snapshot, not now: {', '.join(missing)}"] if missing else [])
    where = f"at version {want[-1]}" if want else (
        f"no applied version ({mig.HISTORY_TABLE} " + ("present" if want_table else "absent") + ")")
    return check("migration history equals the snapshot's", not problems,
                 "; ".join(problems) if problems else f"{where}, as in the snapshot")


def compare_to_snapshot(target: "Target", snapshot: dict[str, Any], *, data: bool = True) -> list[Check]:
    """Is the database back to ``snapshot``? The schema (exactly), the row count and the
    content fingerprint of every table (unless ``data`` is False), and the migration history
    (``history_check``). Used after a rollback."""
    engine = target.kind
    with engine.read_snapshot(target) as conn:
        diffs = compare_schemas(snapshot, schema_snapshot(conn, engine), same=functools.partial(engine.same_definition, target))
        shown = "; ".join(diffs[:10]) + (f"; … {len(diffs) - 10} more" if len(diffs) > 10 else "")
        out = [check("schema equals the snapshot", not diffs,
                     shown if diffs else f"{len(snapshot.get('tables', {}))} tables as in the snapshot")]
        out.append(history_check(conn, snapshot))
        if data:
            counted: dict[str, int] = {}
            out += count_checks(conn, snapshot, counted=counted)
            out += content_checks(conn, engine, snapshot, counted=counted)
    return out
