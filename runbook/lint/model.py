"""What lint knows about the schema at one point of the migration sequence.

With a database (``--db``, or the scratch database lint replays the migrations on), this model is
filled from the engine (``from_database``): the engine is the source of truth. Without one (static
lint, e.g. PostgreSQL files and no server), the classifiers follow the migrations' own DDL in this
model: a guess, labelled as such in the report (``LintReport.schema_source``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa


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


def key(schema: str | None, name: str) -> str:
    """How lint's model keys a table, view or index, as ``schema.introspect`` does: the name as
    the dialect's reader gives it (PostgreSQL's: quoted names keep their case; SQLite's: lower-case,
    its engine ignoring case), qualified by its schema unless that is ``public`` (PostgreSQL's
    default; SQLite has none)."""
    return name if schema in (None, "", "public") else f"{schema}.{name}"


def schema_of(name: str) -> str:
    """The schema part of a model key with its dot (``app.``), or ``""`` for a ``public`` name."""
    return name.rpartition(".")[0] + "." if "." in name else ""


@dataclass
class SchemaModel:
    """Tables (keyed by ``key``: qualified unless in ``public``) as they stand at one
    point of the migration sequence."""

    tables: dict[str, TableInfo] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)  # index → table
    views: set[str] = field(default_factory=set)  # views and materialized views
    closed: bool = True  # False: a table not in ``tables`` may still exist
    doubt: str | None = None  # why a "does not exist" may be a false alarm
    #: routines the project defines (``Engine.routines``' vocabulary: ``procedure``, ``volatile``,
    #: ``stable``, ``immutable``), from the migrations' ``CREATE FUNCTION``s and the database's catalog
    routines: dict[str, str] = field(default_factory=dict)

    def copy(self) -> "SchemaModel":
        return SchemaModel({k: t.copy() for k, t in self.tables.items()}, dict(self.indexes), set(self.views),
                           self.closed, self.doubt, dict(self.routines))

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
    """The model of a live database, as its engine reports it (its routines too); leaves out
    ``schema_history``."""
    from ..engines import engine_of

    out = reflect(conn)[0]
    out.routines = engine_of(conn).routines(conn)
    return out


def reflect(conn: sa.Connection, since: tuple[SchemaModel, dict] | None = None,
            touched: set[str] | None = None) -> tuple[SchemaModel, dict]:
    """The model of a live database and its schema (``schema.introspect``: the package's one
    schema model, as the engine reports it, which is also what ``runbook rollback`` compares).

    ``since=(model, snapshot)`` with ``touched`` (names, as ``key`` gives them, that may have changed since):
    the tables not touched are taken from ``since`` where the engine would read them one by one
    (``Engine.introspect``'s ``known``); the table list and the other sections are always read
    afresh. ``touched=None``: everything."""
    from .. import schema
    from ..engines import engine_of

    engine, known = engine_of(conn), None
    if since is not None and touched is not None:
        known = {k: t for k, t in since[1]["tables"].items() if fold(engine.name)(k) not in touched}
    snap = schema.introspect(conn, engine, known)
    return from_schema(snap), snap


def fold(engine_name: str) -> Callable[[str], str]:
    """How ``engine_name`` compares names: lower-case where it ignores case (SQLite), else as is
    (PostgreSQL: what it reports is already folded or quoted)."""
    from ..engines import ENGINES

    return str.lower if ENGINES[engine_name].names_ignore_case else str


def from_schema(model: dict) -> SchemaModel:
    """Lint's view of ``schema.introspect``'s model (the package's one schema model, whose keys
    are already qualified as ``key`` qualifies them): tables, their columns, foreign keys and
    named constraints, indexes (in their table's schema), views and materialized views. Names are
    compared as the engine compares them (``fold``)."""
    out, low = SchemaModel(), fold(model["engine"])
    for qualified, t in model.get("tables", {}).items():
        name = low(qualified)
        info = TableInfo(name, {})
        for c in t.get("columns", []):
            dtype = TypeInfo.of(c["type"]) if c.get("type") else None
            info.columns[low(c["name"])] = ColumnInfo(
                low(c["name"]), dtype, bool(c.get("nullable", True)) and not c.get("primary_key"),
                c.get("default") is not None or bool(c.get("identity")) or bool(c.get("generated")))
        for fk in t.get("foreign_keys", []):
            ref = ForeignKeyInfo(tuple(map(low, fk["columns"])), low(fk["referred_table"]),
                                 tuple(map(low, fk.get("referred_columns") or [])), low(fk.get("name") or "") or None)
            info.foreign_keys.append(ref)
            if ref.name:
                info.constraints[ref.name] = "FOREIGN KEY"
        pk = t.get("primary_key") or {}
        if pk.get("name"):
            info.constraints[low(pk["name"])] = "PRIMARY KEY"
        for ix in t.get("indexes", []):
            if ix.get("name"):
                out.indexes[schema_of(name) + low(ix["name"])] = name
                if (ix.get("constraint") or "").lower() == "unique":
                    info.constraints[low(ix["name"])] = "UNIQUE"
        for ck in t.get("checks", []):
            if ck.get("name"):
                info.constraints[low(ck["name"])] = "CHECK"
        out.tables[name] = info
    out.views = set(map(low, model.get("views", {})))
    return out
