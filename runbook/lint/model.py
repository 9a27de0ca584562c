"""What lint knows about the schema at one point of the migration sequence.

With a database (``--db``, or the scratch database lint replays the migrations on), this model is
filled from the engine (``from_database``): the engine is the source of truth. Without one (static
lint, e.g. PostgreSQL files and no server), the classifiers follow the migrations' own DDL in this
model: a guess, labelled as such in the report (``LintReport.schema_source``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import migrations as mig

_TEXT = {"text", "clob", "mediumtext", "longtext", "citext", "string"}
_VARYING = {"varchar", "character varying", "nvarchar", "varchar2"}


@dataclass(frozen=True)
class TypeInfo:
    """A column type as written (``text``) with the two facts lint compares: the family and length."""

    text: str
    family: str  # "varchar" | "text" | the type's own lower-case name
    length: int | None = None

    @classmethod
    def of(cls, text: str) -> "TypeInfo":
        """From a type's SQL (``VARCHAR(100)``, ``character varying(20)``, ``text``)."""
        m = re.match(r"\s*([A-Za-z_ ]+?)\s*(?:\(\s*(\d+)[^)]*\))?\s*$", text)
        name = (m.group(1) if m else text).strip().lower()
        length = int(m.group(2)) if m and m.group(2) else None
        family = "varchar" if name in _VARYING else "text" if name in _TEXT else name
        return cls(text, family, length)


def type_change(old: TypeInfo | None, new: TypeInfo, where: str) -> tuple[int, str]:
    """The category of changing ``where``'s type from ``old`` to ``new``, and why."""
    if old is None:
        return 2, f"changes the type of {where} to {new.text} (its current type is not known here)"
    if (old.family, old.length) == (new.family, new.length):
        return 1, f"keeps the type of {where} ({new.text})"
    if old.family in ("varchar", "text") and new.family in ("varchar", "text"):
        old_len = None if old.family == "text" else old.length
        new_len = None if new.family == "text" else new.length
        if new_len is None or (old_len is not None and new_len >= old_len):
            return 1, f"widens {where} from {old.text} to {new.text}"
        return 2, f"narrows {where} from {old.text} to {new.text}: longer existing values make it fail"
    return 2, f"changes the type of {where} from {old.text} to {new.text}"


@dataclass
class ColumnInfo:
    name: str
    type: TypeInfo | None = None
    nullable: bool = True
    has_default: bool = False


@dataclass(frozen=True)
class ForeignKeyInfo:
    columns: tuple[str, ...]
    table: str
    ref_columns: tuple[str, ...]
    name: str | None = None

    def describe(self) -> str:
        ref = f"{self.table}({', '.join(self.ref_columns)})" if self.ref_columns else self.table
        return f"({', '.join(self.columns)}) → {ref}"

    def shape(self) -> tuple:
        return self.columns, self.table, self.ref_columns


@dataclass
class TableInfo:
    name: str
    columns: dict[str, ColumnInfo] | None = None  # None: not known (e.g. from an unreadable statement)
    foreign_keys: list[ForeignKeyInfo] = field(default_factory=list)
    constraints: dict[str, str] = field(default_factory=dict)  # name → UNIQUE | CHECK | PRIMARY KEY | FOREIGN KEY

    def copy(self) -> "TableInfo":
        columns = None if self.columns is None else {
            k: ColumnInfo(c.name, c.type, c.nullable, c.has_default) for k, c in self.columns.items()}
        return TableInfo(self.name, columns, list(self.foreign_keys), dict(self.constraints))


@dataclass
class SchemaModel:
    """Tables (by lower-case, unqualified name) as they stand at one point of the migration sequence."""

    tables: dict[str, TableInfo] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)  # index → table
    views: set[str] = field(default_factory=set)  # views and materialized views
    closed: bool = True  # False: a table not in ``tables`` may still exist
    doubt: str | None = None  # why a "does not exist" may be a false alarm

    def copy(self) -> "SchemaModel":
        return SchemaModel({k: t.copy() for k, t in self.tables.items()}, dict(self.indexes), set(self.views),
                           self.closed, self.doubt)

    def exists(self, table: str) -> bool | None:
        """True/False when known; None when it cannot be told."""
        if table in self.tables or table in self.views:
            return True
        return False if self.closed else None

    def column_exists(self, table: str, column: str) -> bool | None:
        info = self.tables.get(table)
        if info is None:
            return None if (not self.closed or table in self.views) else False
        if info.columns is None:
            return None
        return column in info.columns


def from_database(conn: sa.Connection) -> SchemaModel:
    """The model of a live database, as its engine reports it; leaves out ``schema_history``."""
    return reflect(conn)[0]


def reflect(conn: sa.Connection, since: tuple[SchemaModel, dict] | None = None,
            touched: set[str] | None = None) -> tuple[SchemaModel, dict]:
    """The model of a live database and its schema snapshot in ``schema.introspect``'s shape, as
    far as ``schema.diff`` compares it: ``{"tables": {name: {"columns", "primary_key", "indexes",
    "foreign_keys", "checks"}}, "views", "types", "sequences", "functions", "triggers",
    "extensions"}``. Tables come from SQLAlchemy's multi-table reflection (one catalogue query per
    kind, not one per table) completed from the engine where SQLAlchemy falls short (SQLite's
    foreign-key actions, CHECK constraints, index statements and expression indexes, from
    ``sqlite_master`` and ``pragma_foreign_key_list``); the other sections are the engine's own
    (``engines.sqlite.objects_of_master``, ``engines.postgresql.introspect_objects``). Each field
    is spelled one way in every snapshot this function takes (the replay compares two of them),
    not always as ``schema.introspect`` spells it.

    ``since=(model, snapshot)`` with ``touched`` (lower-case names that may have changed since):
    only those tables, and tables that are new, are reflected again; the others are taken from
    ``since`` (the table lists and the other sections are always read afresh). ``touched=None``:
    everything."""
    from .. import schema

    insp = sa.inspect(conn)
    model = SchemaModel()
    snap: dict = {"tables": {}}
    sqlite = conn.dialect.name == "sqlite"
    master = conn.exec_driver_sql(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY type, name").fetchall() if sqlite else None
    try:
        schemas = [s for s in insp.get_schema_names()
                   if s not in ("information_schema", "pg_catalog", "pg_toast") and not s.startswith("pg_temp")]
    except NotImplementedError:  # pragma: no cover
        schemas = [insp.default_schema_name]
    for schema_name in schemas:
        sch = None if schema_name == insp.default_schema_name else schema_name
        names = [n for n in insp.get_table_names(schema=sch) if n not in mig.RUNBOOK_TABLES]
        keep = []
        if since is not None and touched is not None:
            keep = [n for n in names if n.lower() not in touched and _key(sch, n) in since[1]["tables"]
                    and n.lower() in since[0].tables]
        fresh = [n for n in names if n not in keep]
        if fresh:
            _add_schema(insp, conn, sch, model, snap, fresh, master if sch is None else None)
        for n in keep:
            model.tables[n.lower()] = since[0].tables[n.lower()].copy()
            snap["tables"][_key(sch, n)] = since[1]["tables"][_key(sch, n)]
        if keep:
            kept = {n.lower() for n in keep}
            model.indexes.update({i: t for i, t in since[0].indexes.items() if t in kept})
        model.views |= {v.lower() for v in insp.get_view_names(schema=sch)}
        try:
            model.views |= {v.lower() for v in insp.get_materialized_view_names(schema=sch)}
        except NotImplementedError:
            pass
    if sqlite:
        from ..engines.sqlite import objects_of_master

        snap.update(schema.sections(objects_of_master(master)))
    elif conn.dialect.name == "postgresql":
        from ..engines.postgresql import introspect_objects

        snap.update(schema.sections(introspect_objects(conn)))
    else:  # pragma: no cover - the package's engines are SQLite and PostgreSQL
        snap["views"] = {v: {} for v in sorted(model.views)}
    return model, snap


def _key(schema: str | None, name: str) -> str:
    return name if schema is None else f"{schema}.{name}"


def _multi(getter, schema: str | None, names: list[str]) -> dict:
    try:
        return {key[1]: value for key, value in getter(schema=schema, filter_names=names).items()}
    except NotImplementedError:
        return {}


def _add_schema(insp: sa.Inspector, conn: sa.Connection, schema: str | None, model: SchemaModel, snap: dict,
                names: list[str], master: list | None = None) -> None:
    columns = _multi(insp.get_multi_columns, schema, names)
    fks, pks = _multi(insp.get_multi_foreign_keys, schema, names), _multi(insp.get_multi_pk_constraint, schema, names)
    uniques = _multi(insp.get_multi_unique_constraints, schema, names)
    checks = _multi(insp.get_multi_check_constraints, schema, names)
    indexes = _multi(insp.get_multi_indexes, schema, names)
    sqlite = conn.dialect.name == "sqlite"
    actions = _sqlite_fk_actions(conn, names) if sqlite else {}
    sql_of: dict[str, str | None] = {}
    ix_of: dict[str, list[tuple[str, str]]] = {}
    for kind, n, tbl, sql in master or []:
        sql_of[n] = sql
        if kind == "index" and sql:
            ix_of.setdefault(tbl, []).append((n, sql))
    for name, cols in columns.items():
        if name in mig.RUNBOOK_TABLES:
            continue
        t = TableInfo(name.lower(), {})
        for col in cols:
            try:
                dtype = TypeInfo.of(col["type"].compile(dialect=conn.dialect))
            except Exception:  # a type SQLAlchemy cannot spell: unknown, not wrong
                dtype = None
            t.columns[col["name"].lower()] = ColumnInfo(col["name"].lower(), dtype, bool(col.get("nullable", True)),
                                                        col.get("default") is not None or bool(col.get("identity")))
        for fk in fks.get(name, []):
            info = ForeignKeyInfo(tuple(c.lower() for c in fk["constrained_columns"]), fk["referred_table"].lower(),
                                  tuple(c.lower() for c in fk["referred_columns"]), (fk.get("name") or None))
            t.foreign_keys.append(info)
            if info.name:
                t.constraints[info.name.lower()] = "FOREIGN KEY"
        for kind, found in (("UNIQUE", uniques), ("CHECK", checks)):
            for c in found.get(name, []):
                if c.get("name"):
                    t.constraints[c["name"].lower()] = kind
        pk = pks.get(name)
        if pk and pk.get("name"):
            t.constraints[pk["name"].lower()] = "PRIMARY KEY"
        for ix in indexes.get(name, []):
            if ix.get("name"):
                model.indexes[ix["name"].lower()] = name.lower()
        model.tables[name.lower()] = t
        if sqlite:
            from ..engines.sqlite import table_checks

            ck = table_checks(sql_of.get(name) or "")
        else:
            ck = [{"name": c.get("name") or None,
                   "definition": f"CHECK ({c['sqltext']})" + (" NOT VALID" if (c.get("dialect_options") or {})
                                                             .get("not_valid") else "")}
                  for c in checks.get(name, [])]
        snap["tables"][_key(schema, name)] = _snapshot_table(
            cols, pks.get(name) or {}, indexes.get(name, []), uniques.get(name, []), fks.get(name, []),
            ck, actions.get(name, {}), sql_of, ix_of.get(name, []), sqlite)


def _sqlite_fk_actions(conn: sa.Connection, names: list[str]) -> dict[str, dict[tuple, list[tuple[str, str]]]]:
    """``{table: {(columns, referred table): [(on update, on delete), ...]}}`` as SQLite's
    ``foreign_key_list`` pragma reports them (SQLAlchemy's SQLite reflection leaves them out),
    in one query for ``names``."""
    out: dict[str, dict[tuple, list[tuple[str, str]]]] = {}
    keys: dict[tuple[str, int], dict] = {}
    for i in range(0, len(names), 500):
        chunk = names[i:i + 500]
        rows = conn.exec_driver_sql(
            'SELECT m.name, f.id, f."table", f."from", f.on_update, f.on_delete '
            "FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f "
            f"WHERE m.type = 'table' AND m.name IN ({', '.join('?' * len(chunk))}) ORDER BY m.name, f.id, f.seq",
            tuple(chunk)).fetchall()
        for table, fid, ref, col, on_update, on_delete in rows:
            fk = keys.setdefault((table, fid), {"table": table, "columns": [], "ref": ref,
                                                "actions": (on_update, on_delete)})
            fk["columns"].append(col)
    for fk in keys.values():
        out.setdefault(fk["table"], {}).setdefault((tuple(fk["columns"]), fk["ref"]), []).append(fk["actions"])
    return out


def _fk_action(value: str | None) -> str:
    """A foreign-key action as the schema model spells it: ``NO ACTION`` when none is given
    (SQLAlchemy's PostgreSQL reflection leaves the default out; SQLite's pragma says it)."""
    return " ".join((value or "NO ACTION").upper().split())


def _index_definition(ix: dict) -> str | None:
    """What a reflected index is beyond its columns and uniqueness (expressions, sort order,
    partial WHERE, INCLUDE, method ...), one deterministic text."""
    parts = {k: ix[k] for k in ("expressions", "column_sorting") if ix.get(k)}
    parts.update({k: v for k, v in (ix.get("dialect_options") or {}).items() if v not in (None, [], {}, ())})
    return "; ".join(f"{k}={v}" for k, v in sorted(parts.items(), key=lambda kv: kv[0])) or None


def _snapshot_table(cols: list, pk: dict, indexes: list, uniques: list, fks: list, checks: list, actions: dict,
                    sql_of: dict, more_indexes: list, sqlite: bool) -> dict:
    pk_cols = list(pk.get("constrained_columns") or [])
    columns = [{"name": c["name"], "type": str(c["type"]), "nullable": bool(c["nullable"]),
                "default": None if c.get("default") is None else str(c["default"]), "primary_key": c["name"] in pk_cols,
                "identity": None if not c.get("identity") else "always" if c["identity"].get("always") else "by default",
                "generated": None if not c.get("computed") else (
                    ("stored" if c["computed"].get("persisted") else "virtual") if sqlite else str(c["computed"]["sqltext"]))}
               for c in cols]
    ixs = [{"name": ix["name"], "columns": [str(c) for c in ix["column_names"]], "unique": bool(ix["unique"]),
            "constraint": "unique" if ix.get("duplicates_constraint") else None,
            "definition": sql_of.get(ix["name"]) if sqlite else _index_definition(ix)}
           for ix in indexes]
    ixs += [{"name": uc.get("name") or "", "columns": list(uc["column_names"]), "unique": True, "constraint": "unique",
             "definition": None} for uc in uniques if not any(ix["name"] == uc.get("name") for ix in ixs)]
    # indexes SQLAlchemy skips (SQLite expression indexes), from the statement SQLite keeps
    ixs += [{"name": n, "columns": [], "unique": sql.lstrip().upper().startswith("CREATE UNIQUE"), "constraint": None,
             "definition": sql} for n, sql in more_indexes if not any(ix["name"] == n for ix in ixs)]
    pending = {k: list(v) for k, v in actions.items()}
    keys = []
    for fk in fks:
        key = {"name": fk.get("name") or "", "columns": list(fk["constrained_columns"]),
               "referred_table": fk["referred_table"], "referred_columns": list(fk["referred_columns"])}
        if sqlite:
            found = pending.get((tuple(fk["constrained_columns"]), fk["referred_table"])) or [(None, None)]
            on_update, on_delete = found.pop(0) if len(found) > 1 else found[0]
        else:
            on_update, on_delete = (fk.get("options") or {}).get("onupdate"), (fk.get("options") or {}).get("ondelete")
        key["on_update"], key["on_delete"] = _fk_action(on_update), _fk_action(on_delete)
        keys.append(key)
    return {"columns": columns,
            "primary_key": {"name": pk.get("name"), "columns": pk_cols} if pk_cols else None,
            "indexes": sorted(ixs, key=lambda i: (i["name"], i["columns"])),
            "foreign_keys": sorted(keys, key=lambda f: (f["name"], f["columns"])),
            "checks": sorted(checks, key=lambda c: (c["name"] or "", c["definition"]))}


def from_schema(model: dict) -> SchemaModel:
    """Lint's view of ``schema.introspect``'s model (the package's one schema model): tables by
    lower-case unqualified name, their columns, foreign keys and named constraints, index names,
    views and materialized views."""
    out = SchemaModel()
    for qualified, t in model.get("tables", {}).items():
        name = qualified.rsplit(".", 1)[-1].lower()
        info = TableInfo(name, {})
        for c in t.get("columns", []):
            dtype = TypeInfo.of(c["type"]) if c.get("type") else None
            info.columns[c["name"].lower()] = ColumnInfo(
                c["name"].lower(), dtype, bool(c.get("nullable", True)) and not c.get("primary_key"),
                c.get("default") is not None or bool(c.get("identity")) or bool(c.get("generated")))
        for fk in t.get("foreign_keys", []):
            ref = ForeignKeyInfo(tuple(x.lower() for x in fk["columns"]), fk["referred_table"].rsplit(".", 1)[-1].lower(),
                                 tuple(x.lower() for x in fk.get("referred_columns") or []), fk.get("name") or None)
            info.foreign_keys.append(ref)
            if ref.name:
                info.constraints[ref.name.lower()] = "FOREIGN KEY"
        pk = t.get("primary_key") or {}
        if pk.get("name"):
            info.constraints[pk["name"].lower()] = "PRIMARY KEY"
        for ix in t.get("indexes", []):
            if ix.get("name"):
                out.indexes[ix["name"].lower()] = name
                if (ix.get("constraint") or "").lower() == "unique":
                    info.constraints[ix["name"].lower()] = "UNIQUE"
        for ck in t.get("checks", []):
            if ck.get("name"):
                info.constraints[ck["name"].lower()] = "CHECK"
        out.tables[name] = info
    out.views = {v.rsplit(".", 1)[-1].lower() for v in model.get("views", {})}
    return out
