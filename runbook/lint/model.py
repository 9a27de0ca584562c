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
    """The model of a live database and its schema snapshot in ``inventory.schema_snapshot``'s
    shape (``{"tables": {name: {"columns", "indexes", "foreign_keys"}}, "views": {name: {}}}``), from
    SQLAlchemy's multi-table reflection (one catalogue query per kind, not one per table).

    ``since=(model, snapshot)`` with ``touched`` (lower-case names that may have changed since):
    only those tables, and tables that are new, are reflected again; the others are taken from
    ``since`` (the table and view lists are always read afresh). ``touched=None``: everything."""
    insp = sa.inspect(conn)
    model = SchemaModel()
    snap: dict = {"tables": {}, "views": {}}
    try:
        schemas = [s for s in insp.get_schema_names()
                   if s not in ("information_schema", "pg_catalog", "pg_toast") and not s.startswith("pg_temp")]
    except NotImplementedError:  # pragma: no cover
        schemas = [insp.default_schema_name]
    for schema in schemas:
        sch = None if schema == insp.default_schema_name else schema
        names = [n for n in insp.get_table_names(schema=sch) if n not in mig.RUNBOOK_TABLES]
        keep = []
        if since is not None and touched is not None:
            keep = [n for n in names if n.lower() not in touched and _key(sch, n) in since[1]["tables"]
                    and n.lower() in since[0].tables]
        fresh = [n for n in names if n not in keep]
        if fresh:
            _add_schema(insp, conn, sch, model, snap, fresh)
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
    snap["views"] = {v: {} for v in sorted(model.views)}  # schema.diff's shape: views by name
    return model, snap


def _key(schema: str | None, name: str) -> str:
    return name if schema is None else f"{schema}.{name}"


def _multi(getter, schema: str | None, names: list[str]) -> dict:
    try:
        return {key[1]: value for key, value in getter(schema=schema, filter_names=names).items()}
    except NotImplementedError:
        return {}


def _add_schema(insp: sa.Inspector, conn: sa.Connection, schema: str | None, model: SchemaModel, snap: dict,
                names: list[str]) -> None:
    columns = _multi(insp.get_multi_columns, schema, names)
    fks, pks = _multi(insp.get_multi_foreign_keys, schema, names), _multi(insp.get_multi_pk_constraint, schema, names)
    uniques = _multi(insp.get_multi_unique_constraints, schema, names)
    checks = _multi(insp.get_multi_check_constraints, schema, names)
    indexes = _multi(insp.get_multi_indexes, schema, names)
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
        snap["tables"][_key(schema, name)] = _snapshot_table(cols, (pks.get(name) or {}).get("constrained_columns") or [],
                                              indexes.get(name, []), uniques.get(name, []), fks.get(name, []))


def _snapshot_table(cols: list, pk: list, indexes: list, uniques: list, fks: list) -> dict:
    columns = [{"name": c["name"], "type": str(c["type"]), "nullable": bool(c["nullable"]),
                "default": None if c.get("default") is None else str(c["default"]), "primary_key": c["name"] in pk}
               for c in cols]
    ixs = [{"name": ix["name"], "columns": [str(c) for c in ix["column_names"]], "unique": bool(ix["unique"])}
           for ix in indexes]
    ixs += [{"name": uc.get("name") or "", "columns": list(uc["column_names"]), "unique": True} for uc in uniques
            if not any(ix["name"] == uc.get("name") for ix in ixs)]
    keys = [{"name": fk.get("name") or "", "columns": list(fk["constrained_columns"]),
             "referred_table": fk["referred_table"], "referred_columns": list(fk["referred_columns"])} for fk in fks]
    return {"columns": columns, "indexes": sorted(ixs, key=lambda i: (i["name"], i["columns"])),
            "foreign_keys": sorted(keys, key=lambda f: (f["name"], f["columns"]))}


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
