"""One schema model for the whole package: what the engine reports, compared the engine's way.

``introspect(conn, engine)`` asks the engine (``Engine.introspect``: SQLite's ``sqlite_master``
and pragmas, PostgreSQL's catalogs) and returns a JSON-able, deterministic dict::

    {"engine": "sqlite" | "postgresql",
     "tables": {name: {"columns": [{"name", "type", "nullable", "default", "primary_key",
                                    "identity", "generated"}],
                       "primary_key": {"name", "columns"} | None,
                       "indexes": [{"name", "columns", "unique", "constraint", "definition"}],
                       "foreign_keys": [{"name", "columns", "referred_table", "referred_columns",
                                         "on_update", "on_delete"}],
                       "checks": [{"name", "definition"}]}},
     "views": {name: {"materialized", "definition"}},
     "types": {name: {"kind", "definition"}},          # enums, domains, composite, range types
     "sequences": {name: {"type", "start", "increment", "min", "max", "cache", "cycle", "owned_by"}},
     "functions": {"name(args)": {"kind", "sha256"}},
     "triggers": {"name on table": {"table", "sha256"}},
     "extensions": {name: {"version", "schema"}}}

Names: PostgreSQL objects outside ``public`` are ``schema.name`` (``billing.invoices``); every
schema but the system ones is read. Types, defaults, index and view definitions are spelled
as the engine stores them (PostgreSQL ``format_type``/``pg_get_expr``/``pg_get_indexdef``/
``pg_get_viewdef``; SQLite the declared type, the stored default and ``sqlite_master.sql``);
``DEFAULT NULL`` is no default. ``indexes`` lists every index, those behind a unique or primary
key constraint too (``constraint`` says which), expression (``<expression>`` on SQLite, the
expression on PostgreSQL) and partial ones (in ``definition``). The runbook's own tables
(``migrations.RUNBOOK_TABLES``), and the sequences and triggers that belong to them, are left out.

``diff(a, b)`` lists what differs from ``a`` to ``b``, one line per object: ``table x added``,
``t: column c missing``, ``t: column c default changed from none to 'a'``,
``view v definition changed``. It takes models or inventory snapshots (whose tables carry rows,
sizes and fingerprints besides the model's fields; those are not compared). Checks on one
database compare the engine's own spelling exactly.

``canonical(model)`` is the view used only to compare the same schema across engines (the
demo's SQLite-vs-PostgreSQL equivalence): tables only, types by ``Engine.canonical_type``,
defaults by ``Engine.canonical_default``, a primary-key column NOT NULL, auto-numbering not
compared (rowid alias, identity, serial), indexes and foreign keys by what they do, not by name,
primary-key indexes left out, column order not compared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlalchemy as sa

    from .engines.base import Engine

#: the kinds of objects besides tables, in the order ``diff`` reports them
SECTIONS = ("views", "types", "sequences", "functions", "triggers", "extensions")
_SINGULAR = {"tables": "table", "views": "view", "types": "type", "sequences": "sequence",
             "functions": "function", "triggers": "trigger", "extensions": "extension"}
COLUMN_FIELDS = ("type", "nullable", "default", "primary_key", "identity", "generated")
INDEX_FIELDS = ("columns", "unique", "constraint", "definition")
FK_FIELDS = ("name", "on_update", "on_delete")
#: fields whose values are too long or meaningless to show: "changed" says so, without values
_UNSHOWN = {"sha256"}


def introspect(conn: "sa.Connection", engine: "Engine", known: dict[str, Any] | None = None) -> dict[str, Any]:
    """The schema ``conn`` sees, as ``engine`` reports it (the module doc's model). Read-only.
    ``known``: tables read before and unchanged since, which need not be read again
    (``Engine.introspect``)."""
    from .migrations import RUNBOOK_TABLES  # here: comparing models (html) loads no SQLAlchemy

    model = engine.introspect(conn, known)
    for table in RUNBOOK_TABLES:  # the runbook's own tables, and what belongs to them
        model["tables"].pop(table, None)
    return {"engine": engine.name, "tables": dict(sorted(model["tables"].items())), **sections(model)}


def sections(model: dict[str, Any]) -> dict[str, Any]:
    """``model``'s sections besides tables, sorted, without the sequences and triggers of the
    runbook's own tables (``migrations.RUNBOOK_TABLES``). Also lint's replay snapshot's."""
    from .migrations import RUNBOOK_TABLES

    out = {s: dict(sorted((model.get(s) or {}).items())) for s in SECTIONS}
    out["sequences"] = {n: s for n, s in out["sequences"].items() if s.get("owned_by") not in RUNBOOK_TABLES}
    out["triggers"] = {n: t for n, t in out["triggers"].items() if t.get("table") not in RUNBOOK_TABLES}
    return out


def empty(engine_name: str) -> dict[str, Any]:
    """The model of a database with nothing in it."""
    return {"engine": engine_name, "tables": {}, **{s: {} for s in SECTIONS}}


# -- flattening: every object with its key, its owner and its comparable fields -------------
@dataclass(frozen=True)
class Difference:
    """One line of a diff: ``kind`` is added, missing or changed; ``owner`` the top-level object
    (``table contractors``, ``view v``); ``obj`` the object itself (``contractors: column c``)."""

    kind: str
    owner: str
    obj: str
    text: str
    field: str | None = None  # changed: what changed, and its value in a and in b (shown)
    a: str | None = None
    b: str | None = None

    @property
    def table(self) -> str | None:
        return self.owner[len("table "):] if self.owner.startswith("table ") else None

    @property
    def within(self) -> str:
        """``obj`` without its table's name in front (``column c`` for ``t: column c``)."""
        prefix = f"{self.table}: "
        return self.obj[len(prefix):] if self.table and self.obj.startswith(prefix) else self.obj


def _index_summary(ix: dict[str, Any]) -> str:
    return f"{'unique ' if ix.get('unique') else ''}index on ({', '.join(map(str, ix.get('columns') or []))})"


def _fk_summary(fk: dict[str, Any]) -> str:
    return (f"foreign key ({', '.join(fk['columns'])}) → "
            f"{fk['referred_table']}({', '.join(map(str, fk['referred_columns']))})")


def _unique_keys(items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    seen: Counter[str] = Counter()
    out = []
    for key, value in items:
        seen[key] += 1
        out.append((key if seen[key] == 1 else f"{key} #{seen[key]}", value))
    return out


def _table_children(name: str, t: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """``{key: (summary for added/missing, fields)}`` of a table's columns, indexes, keys, checks."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for c in t.get("columns") or []:
        out[f"{name}: column {c['name']}"] = ("", {f: c[f] for f in COLUMN_FIELDS if f in c})
    for ix in t.get("indexes") or []:
        key = f"{name}: index {ix['name']}" if ix.get("name") else f"{name}: {_index_summary(ix)}"
        out[key] = (f" ({_index_summary(ix)})" if ix.get("name") else "",
                    {f: ix[f] for f in INDEX_FIELDS if f in ix})
    for key, fk in _unique_keys([(f"{name}: {_fk_summary(fk)}", fk) for fk in t.get("foreign_keys") or []]):
        out[key] = ("", {f: fk[f] for f in FK_FIELDS if f in fk})
    for key, ck in _unique_keys([(f"{name}: check {ck['name']}" if ck.get("name") else f"{name}: {ck['definition']}", ck)
                                 for ck in t.get("checks") or []]):
        out[key] = ("", {"definition": ck.get("definition")} if ck.get("name") else {})
    return out


def _show(value: Any, start: int = 0) -> str:
    """A value as a diff line shows it: at most 120 characters of its text (whitespace runs as
    one space), from ``start``."""
    if value is None:
        return "none"
    if isinstance(value, list):
        return "(" + ", ".join(map(str, value)) + ")"
    text = " ".join(str(value).split())
    if len(text) <= 120:
        return text
    shown = ("…" if start else "") + text[start:start + 117 - (1 if start else 0)]
    return shown + ("…" if start + 117 < len(text) else "")


def _show_pair(a: Any, b: Any) -> tuple[str, str]:
    """Two values that differ, shown where they differ: long texts (a view's or an index's
    definition) from a little before their first difference, both from the same place."""
    if not (isinstance(a, str) and isinstance(b, str)):
        return _show(a), _show(b)
    ta, tb = " ".join(a.split()), " ".join(b.split())
    if max(len(ta), len(tb)) <= 120:
        return ta, tb
    first = next((i for i, (x, y) in enumerate(zip(ta, tb)) if x != y), min(len(ta), len(tb)))
    start = max(0, min(first - 40, max(len(ta), len(tb)) - 116))
    return _show(ta, start), _show(tb, start)


def _changes(owner: str, key: str, a: dict[str, Any], b: dict[str, Any]) -> list[Difference]:
    """A difference per field that differs; only fields both sides record are compared (a
    snapshot written by an older runbook lacks some, a canonical view leaves some out)."""
    out = []
    for field in [f for f in a if f in b]:
        if a[field] != b[field]:
            if field in _UNSHOWN:
                out.append(Difference("changed", owner, key, f"{key} definition changed", "definition"))
            else:
                what, (was, now) = field.replace("_", " "), _show_pair(a[field], b[field])
                out.append(Difference("changed", owner, key, f"{key} {what} changed from {was} to {now}", what, was, now))
    return out


def differences(a: dict[str, Any], b: dict[str, Any], *, order: bool = False,
                same: Callable[[str, str, str, str], bool] | None = None) -> list[Difference]:
    """What differs from schema ``a`` to schema ``b`` (models or inventory snapshots). A table's
    column order is a difference only with ``order`` (for a reader's diff): PostgreSQL cannot put
    a column back in place, so a rollback that re-adds a dropped column leaves it last, and
    checks do not fail on that. ``same(kind, where, definition_a, definition_b)``: whether two
    texts of a check, an index or a view are one definition once the engine has read them again
    (``Engine.same_definition``: PostgreSQL prints what ``pg_restore`` made other than what the
    migrations made)."""
    out: list[Difference] = []
    ta, tb = a.get("tables") or {}, b.get("tables") or {}
    out += [Difference("added", f"table {t}", f"table {t}", f"table {t} added") for t in sorted(tb.keys() - ta.keys())]
    out += [Difference("missing", f"table {t}", f"table {t}", f"table {t} missing") for t in sorted(ta.keys() - tb.keys())]
    for t in sorted(ta.keys() & tb.keys()):
        owner = f"table {t}"
        ca, cb = _table_children(t, ta[t]), _table_children(t, tb[t])
        out += [Difference("added", owner, k, f"{k} added{cb[k][0]}") for k in sorted(cb.keys() - ca.keys(), key=_order(cb))]
        out += [Difference("missing", owner, k, f"{k} missing{ca[k][0]}") for k in sorted(ca.keys() - cb.keys(), key=_order(ca))]
        for k in sorted(ca.keys() & cb.keys(), key=_order(ca)):
            kind = "check" if ": check " in k else "index" if ": index " in k else None
            out += _changes(owner, k, *_settled(kind, t, ca[k][1], cb[k][1], same))
        order_a = [c["name"] for c in ta[t].get("columns") or []]
        order_b = [c["name"] for c in tb[t].get("columns") or []]
        if order and set(order_a) == set(order_b) and order_a != order_b and not a.get("canonical"):
            out.append(Difference("changed", owner, f"{t}: column order",
                                  f"{t}: column order changed from {', '.join(order_a)} to {', '.join(order_b)}",
                                  "", ", ".join(order_a), ", ".join(order_b)))
        pa, pb = ta[t].get("primary_key"), tb[t].get("primary_key")
        if "primary_key" in ta[t] and "primary_key" in tb[t] and pa != pb:
            out.append(Difference("changed", owner, f"{t}: primary key",
                                  f"{t}: primary key changed from {_pk(pa)} to {_pk(pb)}", "", _pk(pa), _pk(pb)))
    for section in SECTIONS:
        sa_, sb = a.get(section) or {}, b.get(section) or {}
        word = _SINGULAR[section]
        out += [Difference("added", f"{word} {n}", f"{word} {n}", f"{word} {n} added") for n in sorted(sb.keys() - sa_.keys())]
        out += [Difference("missing", f"{word} {n}", f"{word} {n}", f"{word} {n} missing") for n in sorted(sa_.keys() - sb.keys())]
        for n in sorted(sa_.keys() & sb.keys()):
            out += _changes(f"{word} {n}", f"{word} {n}", *_settled(word if word == "view" else None, n, sa_[n], sb[n], same))
    return out


def _settled(kind: str | None, where: str, a: dict[str, Any], b: dict[str, Any],
             same: Callable[[str, str, str, str], bool] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``a`` and ``b``, without their ``definition`` when ``same`` says the engine reads the two
    texts as one definition (``kind``: check, index or view, of the table or view ``where``)."""
    da, db = a.get("definition"), b.get("definition")
    if kind and same is not None and da and db and da != db and same(kind, where, da, db):
        return {f: v for f, v in a.items() if f != "definition"}, {f: v for f, v in b.items() if f != "definition"}
    return a, b


def _pk(pk: dict[str, Any] | None) -> str:
    return "none" if not pk else f"{pk.get('name') or ''}({', '.join(pk['columns'])})".lstrip()


def _order(children: dict[str, Any]) -> Any:
    keys = list(children)
    return lambda k: keys.index(k)


def object_keys(model: dict[str, Any]) -> set[str]:
    """The key of every object of ``model`` (``table t``, ``t: column c``, ``view v`` ...), as
    ``Difference.obj`` names them."""
    keys = set()
    for t, table in (model.get("tables") or {}).items():
        keys |= {f"table {t}", *_table_children(t, table)}
    for section in SECTIONS:
        keys |= {f"{_SINGULAR[section]} {n}" for n in model.get(section) or {}}
    return keys


def diff(a: dict[str, Any], b: dict[str, Any], *, order: bool = False,
         same: Callable[[str, str, str, str], bool] | None = None) -> list[str]:
    """Human-readable differences from ``a`` to ``b``, one line each (empty: the same schema)."""
    return [d.text for d in differences(a, b, order=order, same=same)]


# -- the cross-engine view -------------------------------------------------------------------
def canonical(model: dict[str, Any]) -> dict[str, Any]:
    """The view of ``model`` that two engines holding the same schema agree on (module doc).
    Only for comparing across engines; checks on one database compare ``model`` itself."""
    from .engines import ENGINES

    engine = ENGINES[model["engine"]]
    tables = {}
    for name, t in (model.get("tables") or {}).items():
        columns = [{"name": c["name"], "type": engine.canonical_type(str(c["type"])),
                    "nullable": bool(c["nullable"]) and not c["primary_key"],
                    "default": engine.canonical_default(c.get("default")), "primary_key": c["primary_key"]}
                   for c in t.get("columns") or []]
        indexes = [{"name": None, "columns": ix["columns"], "unique": ix["unique"]}
                   for ix in t.get("indexes") or [] if ix.get("constraint") != "primary key"]
        fks = [{k: fk[k] for k in ("columns", "referred_table", "referred_columns")} for fk in t.get("foreign_keys") or []]
        tables[name] = {"columns": columns, "indexes": sorted(indexes, key=_index_summary),
                        "foreign_keys": sorted(fks, key=_fk_summary)}
    return {"engine": model["engine"], "canonical": True, "tables": tables}


# -- lookups the steps need ------------------------------------------------------------------
def column_names(model: dict[str, Any], table: str) -> list[str]:
    return [c["name"] for c in ((model.get("tables") or {}).get(table) or {}).get("columns") or []]


def plain_indexes(model: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """The indexes of ``table`` that no constraint owns (those a ``DROP INDEX`` can drop)."""
    return [ix for ix in ((model.get("tables") or {}).get(table) or {}).get("indexes") or []
            if not ix.get("constraint")]
