"""Declared data changes: what each statement of a migration may change, per table, and a check
of what really changed against that, where nothing else writes.

**Declaring** (``declare``): every statement is read by a parser of its dialect (pglast, i.e.
PostgreSQL's own parser, for PostgreSQL text; sqlglot for SQLite's) into one of a few actions,
replayed in order per table (so renames and rebuilds are followed):

- ``ADD COLUMN`` fills only that column (with its default, or NULL); existing columns and rows
  stay as they were;
- ``UPDATE t SET a, b`` changes columns ``a`` and ``b`` of ``t``; its row count stays;
- ``DELETE`` / ``TRUNCATE`` may remove rows; ``INSERT`` may add rows, existing rows unchanged
  (``INSERT OR REPLACE`` / ``ON CONFLICT DO UPDATE`` may also change them), unless an earlier
  statement may have removed rows of that table: a row deleted and inserted again under its key
  is a replaced row, any of its columns may differ;
- a table rebuild (a new table that holds the old one's rows, copied by ``INSERT ... SELECT`` or
  ``CREATE TABLE ... AS SELECT``, directly or through a copy kept aside, takes the old one's name
  after it is dropped: create new / copy / drop / rename, or rename old / create / copy / drop
  old) keeps every row and the content of every kept column;
- ``DROP TABLE`` / ``DROP COLUMN`` remove; ``CREATE TABLE`` makes a new table (not compared). A
  table dropped and created anew under its name, none of its rows copied into the new one, is
  dropped (every row removed, as ``DROP TABLE`` alone declares) and the new table is created;
- a column dropped and a new one added under its name holds new values (Lemmy's 215); what a
  statement declared of a column follows it through a rename (Lemmy's 244: ``UPDATE`` of
  ``shared_inbox_url``, then renamed ``inbox_url``);
- an enum's value renamed (``ALTER TYPE ... RENAME VALUE``) changes, in the rows holding it, every
  column of that type, of an array of it or of a domain over it, as the engine's catalog lists
  them in the migration's transaction (``DataWatch._declare_relabelled``);
- routines, triggers, views, indexes, comments, settings and queries change no row;
- what the triggers a statement fires do is the statement's doing: the check reads them from the
  engine's catalog, in its transaction, and declares the statements in their bodies like the
  migration's own (an audit row inserted; SQLite's ``updated_at`` trigger, an ``UPDATE`` of its
  own table), those of the project's PL/pgSQL and SQL functions they call (``PERFORM
  audit_row(...)``, ``n := f(x)``, ``SELECT f(...)``: read from ``pg_proc``, the functions those
  call in turn, each name once; every overload of a name, as the server may run any), and the
  columns PostgreSQL's ``BEFORE UPDATE`` row triggers set in ``NEW`` (``DataWatch._declare_triggers``);
- so is what foreign keys' actions do, as the engine's catalog lists them (``engine.referential_actions``,
  in the migration's transaction, read only for the tables whose rows may be removed or updated,
  one read per round): ``ON DELETE CASCADE`` removes rows of the referring table, and its own
  referring tables' in turn, ``SET NULL`` / ``SET DEFAULT`` and the ``ON UPDATE`` actions (when a
  referenced column may change) set the foreign key's columns, PostgreSQL's ``TRUNCATE ...
  CASCADE`` empties every referring table whatever its actions (``NO ACTION`` included), and
  their triggers fire too (``DataWatch._declare_referential``). SQLite enforces them only where
  the session turned ``PRAGMA foreign_keys`` on (the runbook's own sessions do not: there nothing
  cascades). ``NO ACTION`` / ``RESTRICT`` declare nothing (the statement fails instead), nor
  does ``DROP TABLE ... CASCADE`` (the referring tables lose the foreign key, not rows);
- undeclared still (each write caught by the check, or, on a table nothing watched, listed in
  ``unwatched_writes`` and caught by the rehearsal's verify): a trigger whose code, or the code of
  a project function it calls, no parser reads (another language, ``EXECUTE``, ``CALL``, a SQL
  function's ``BEGIN ATOMIC`` body) declares nothing at all (noted); the engine's and extensions'
  own functions are not read (taken to write no table of the project); triggers and foreign keys
  the migration itself creates or changes (the catalog is read before its statements run); a
  function a statement of the migration itself calls (not a trigger) is the ``-- Writes:``
  header's to declare;
- a statement the parser cannot read, or of a kind not listed, may change anything on the tables
  it names (and says so); one that names no table declares nothing, so what it changes is
  undeclared. A PL/pgSQL ``DO`` block's statements run as written (in every branch and loop)
  are read by PostgreSQL's PL/pgSQL parser and declared like any other; what it runs through
  ``EXECUTE`` or ``CALL`` is undeclared (noted). A table the migration's header names in
  ``-- Writes:`` (written through code: a function, a trigger) may change anything when one of its
  statements names it too (``declare_prepared``).

**Checking** (``DataWatch``), inside the transaction that runs the statements: before them, the
session keeps other writers off the tables they touch (``engine.hold_writers``), counts rows and
copies each table into a temporary table (``engine.create_before_copy``); after them, it compares
by primary key in SQL (rows added, removed, changed, and per column how many rows changed; tables
without a key as multisets of rows) and holds the result against the declaration. Anything
undeclared fails the check, and the caller rolls the transaction back. Only tables whose rows a
statement may change are copied; a table its statements only add columns to, drop columns from
or index is not counted (the engine keeps every row: a count before and after, inside the write
lock, could not differ and cost two scans; its new columns' values are still counted for the event
log); a table dropped is counted. The rehearsal runs with ``full=True``: a table its statements
drop columns from is copied and compared too (its verify cannot compare such a table with the
backup: a column it would compare is gone); one they only add columns to or index is compared,
after the last migration, with the backup by the rehearsal's verify (``runbook.rehearsal``).

What a statement the parser cannot read did is measured where a rollback needs it: before and
after the statements the check reads the engine's catalog (``engine.column_names``) and its write
counters (``engine.write_counters``, PostgreSQL's for the transaction); a column the catalog shows
new has its values counted at commit (scanned where the counters say the transaction wrote, or,
without counters, whenever such a statement ran), a table it shows new is counted as created,
and the tables written that nothing watched are listed (``unwatched_writes``, not compared).
A compared table's columns are followed by the engine's own identity for each
(``engine.column_numbers``, PostgreSQL's table oid and ``attnum``): a column renamed, by a
statement or by code no parser reads, is compared with itself under its old name; one added
again under an old name is new. A table made anew (a rebuild) is compared by its columns' names. A key column whose type the catalog shows changed is joined by its text.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

import sqlalchemy as sa

from .errors import MigrationFailed

if TYPE_CHECKING:
    from .engines.base import Engine
    from .sqltext import Statement

ALL = "*"  # "every column" in changed_columns
_NO_ROWS = ("CREATE TRIGGER", "CREATE TEMP TRIGGER", "CREATE TEMPORARY TRIGGER", "CREATE VIEW",
            "CREATE TEMP VIEW", "CREATE TEMPORARY VIEW", "CREATE INDEX", "CREATE UNIQUE INDEX",
            "DROP INDEX", "DROP VIEW", "DROP TRIGGER", "CREATE FUNCTION", "CREATE OR REPLACE",
            "CREATE PROCEDURE", "DROP FUNCTION", "DROP PROCEDURE", "PRAGMA", "ANALYZE", "VACUUM",
            "REINDEX", "SELECT", "EXPLAIN", "SET", "RESET", "COMMENT", "GRANT", "REVOKE", "WITH RECURSIVE")


# -- declaring -------------------------------------------------------------------------------
@dataclass
class Action:
    """One thing a statement does to a table (``kind`` in the module doc's vocabulary)."""

    kind: str  # create|drop|rename|add_column|drop_column|rename_column|change_column|update|delete|insert|relabel|unknown
    table: str
    column: str | None = None
    new: str | None = None  # new name (rename, rename_column)
    columns: tuple[str, ...] = ()  # update: SET columns; insert: columns an upsert updates; relabel: the type's name;
    #                                delete: ("CASCADE",) for PostgreSQL's TRUNCATE ... CASCADE
    sources: tuple[str, ...] = ()  # insert ... select: the tables it reads


@dataclass
class TableEffect:
    """What the migration may do to one table, named as it was before the migration."""

    table: str
    existed: bool = True  # False: created by the migration
    now: str | None = None  # its name after the migration (None: dropped)
    added_columns: list[str] = field(default_factory=list)
    dropped_columns: list[str] = field(default_factory=list)
    renamed_columns: dict[str, str] = field(default_factory=dict)  # now → before
    changed_columns: set[str] = field(default_factory=set)
    may_add_rows: bool = False
    may_remove_rows: bool = False
    rebuilt: bool = False
    anything: bool = False
    updates: bool = False  # an UPDATE (or an upsert's DO UPDATE) of its rows: fires its update triggers
    truncates_cascade: bool = False  # TRUNCATE ... CASCADE (PostgreSQL): every table referring to it is emptied too
    by_triggers: bool = False  # declared only by the triggers the statements fire (``Declared.absorb``)
    copied_from: set[str] = field(default_factory=set)  # created: tables (names before) whose rows it holds
    why: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.now is None and self.existed:
            self.now = self.table

    @property
    def appended_by_triggers(self) -> bool:
        """Only rows added, by triggers (an audit table): its rows are counted, not copied (its
        existing rows no statement can change; such a table is often the largest)."""
        return self.by_triggers and self.may_add_rows and not (
            self.may_remove_rows or self.changed_columns or self.rebuilt or self.anything or self.renamed_columns)

    @property
    def changes_rows(self) -> bool:
        """Whether a statement may change rows or values of existing columns (not only add or
        drop columns)."""
        return bool(self.may_add_rows or self.may_remove_rows or self.changed_columns or self.rebuilt
                    or self.anything or self.renamed_columns)

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "now": self.now, "existed": self.existed,
                "added_columns": self.added_columns, "dropped_columns": self.dropped_columns,
                "renamed_columns": self.renamed_columns, "changed_columns": sorted(self.changed_columns),
                "may_add_rows": self.may_add_rows, "may_remove_rows": self.may_remove_rows,
                "rebuilt": self.rebuilt, "may_change_anything": self.anything, "why": self.why}


@dataclass
class Declared:
    """Per table (its name before the migration), what the statements declare; ``notes`` says
    what could not be declared."""

    tables: dict[str, TableEffect] = field(default_factory=dict)
    created: dict[str, TableEffect] = field(default_factory=dict)  # by final name
    notes: list[str] = field(default_factory=list)
    relabelled: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (label, enum type's name parts)

    def existing(self) -> list[TableEffect]:
        return [e for e in self.tables.values() if e.existed]

    def spell_as(self, names: Iterable[str]) -> None:
        """Name the tables that existed before as ``names`` (the engine's catalog) spells them, where
        the engine's names ignore case (SQLite: Komga's ``alter table library`` on ``LIBRARY``): the
        statements' own spelling would match no table of the catalog, and the table would go
        unwatched. A table's name after a rename is the one the statement wrote, as SQLite keeps it."""
        catalog = {n.lower(): n for n in names}
        tables: dict[str, TableEffect] = {}
        for key, e in self.tables.items():
            spelled = catalog.get(key.lower(), key) if e.existed else key
            if e.now is not None and e.now.lower() == key.lower() and not e.rebuilt:
                e.now = spelled
            e.table = spelled
            tables[spelled] = e
        self.tables = tables
        for e in list(self.tables.values()) + list(self.created.values()):
            e.copied_from = {catalog.get(n.lower(), n) for n in e.copied_from}

    def absorb(self, other: "Declared", why: str) -> list[str]:
        """Add what ``other`` declares of tables that existed before (the statements of triggers
        the migration's statements fire) to this declaration; returns the tables whose declaration
        grew."""
        grew = []
        for name, o in other.tables.items():
            if not o.existed:
                continue
            e = self.tables.setdefault(name, TableEffect(name, by_triggers=True))
            before = (set(e.changed_columns), e.may_add_rows, e.may_remove_rows, e.anything, e.updates)
            e.changed_columns |= o.changed_columns
            e.may_add_rows, e.may_remove_rows = e.may_add_rows or o.may_add_rows, e.may_remove_rows or o.may_remove_rows
            e.anything, e.updates = e.anything or o.anything, e.updates or o.updates
            if (set(e.changed_columns), e.may_add_rows, e.may_remove_rows, e.anything, e.updates) != before:
                e.why += [f"{why}: {w}" for w in o.why]
                grew.append(name)
        self.notes += [f"{why} {n}" for n in other.notes]
        return grew

    def as_dict(self) -> dict[str, Any]:
        return {"tables": {t: e.as_dict() for t, e in self.tables.items()},
                "created": sorted(self.created), "notes": self.notes}


def _name(parts: Iterable[str], search: str | None = None) -> str:
    """A qualified name (``[schema, table]``) as the schema model names the table; an unqualified
    one is in ``search`` (the schema a ``SET search_path`` before it put first; None: ``public``)."""
    from .engines.postgresql import model_name

    *schema, table = list(parts)
    return model_name(schema[-1] if schema else search, table)


def _rv(rv: Any, search: str | None = None) -> str:
    """A table named in a PostgreSQL statement (pglast's ``RangeVar``), as the schema model names it."""
    return _name([rv.schemaname, rv.relname] if rv.schemaname else [rv.relname], search)


def _renamed(old: str, new: str) -> str:
    """The model's name of table ``old`` renamed to ``new`` (a rename stays in its schema)."""
    schema, dot, _ = old.rpartition(".")
    return f"{schema}.{new}" if dot else new


def _pg_actions(sql: str, search: str | None = None) -> list[Action] | None:
    """Actions of one PostgreSQL statement, read by PostgreSQL's own parser (``None``: unreadable);
    unqualified names are in schema ``search`` (None: ``public``). A ``SET search_path`` is an
    action of kind ``search_path`` (its table: the schema now first, ``""`` for ``public``)."""
    import pglast
    from pglast import ast, enums

    from .pgtext import search_path_set

    try:
        stmts = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return None
    out: list[Action] = []
    for raw in stmts:
        st = raw.stmt
        now = search_path_set(st)
        if now is not None:
            search = now or None
            out.append(Action("search_path", now))
            continue
        if isinstance(st, ast.CreateStmt):
            out.append(Action("create", _rv(st.relation, search)))
        elif isinstance(st, ast.CreateTableAsStmt) and st.objtype == enums.ObjectType.OBJECT_TABLE:
            out.append(Action("create", _rv(st.into.rel, search), sources=tuple(sorted(_pg_tables(st.query, search)))))
        elif isinstance(st, ast.DropStmt):
            if st.removeType == enums.ObjectType.OBJECT_TABLE:
                out += [Action("drop", _name((s.sval for s in obj), search)) for obj in st.objects]
        elif isinstance(st, ast.AlterTableStmt) and st.objtype == enums.ObjectType.OBJECT_TABLE:
            table = _rv(st.relation, search)
            for cmd in st.cmds or ():
                sub = cmd.subtype
                if sub == enums.AlterTableType.AT_AddColumn:
                    out.append(Action("add_column", table, cmd.def_.colname))
                elif sub == enums.AlterTableType.AT_DropColumn:
                    out.append(Action("drop_column", table, cmd.name))
                elif sub == enums.AlterTableType.AT_AlterColumnType:
                    out.append(Action("change_column", table, cmd.name))
        elif isinstance(st, ast.RenameStmt):
            if st.renameType == enums.ObjectType.OBJECT_TABLE:
                out.append(Action("rename", _rv(st.relation, search), new=_renamed(_rv(st.relation, search), st.newname)))
            elif st.renameType == enums.ObjectType.OBJECT_COLUMN and st.relation is not None:
                out.append(Action("rename_column", _rv(st.relation, search), st.subname, st.newname))
        elif isinstance(st, ast.AlterObjectSchemaStmt) and st.objectType == enums.ObjectType.OBJECT_TABLE:
            old = _rv(st.relation, search)  # SET SCHEMA: the same table under another name
            out.append(Action("rename", old, new=_name([st.newschema, old.rpartition(".")[2]])))
        elif isinstance(st, ast.UpdateStmt):
            out.append(Action("update", _rv(st.relation, search), columns=tuple(t.name for t in st.targetList)))
        elif isinstance(st, ast.DeleteStmt):
            out.append(Action("delete", _rv(st.relation, search)))
        elif isinstance(st, ast.TruncateStmt):
            cascade = ("CASCADE",) if st.behavior == enums.DropBehavior.DROP_CASCADE else ()
            out += [Action("delete", _rv(r, search), columns=cascade) for r in st.relations]
        elif isinstance(st, ast.InsertStmt):
            sources = _pg_tables(st.selectStmt, search) if st.selectStmt is not None else set()
            upsert: tuple[str, ...] = ()
            occ = st.onConflictClause
            if occ is not None and occ.action == enums.OnConflictAction.ONCONFLICT_UPDATE:
                upsert = tuple(t.name for t in occ.targetList or ())
            out.append(Action("insert", _rv(st.relation, search), columns=upsert, sources=tuple(sorted(sources))))
        elif isinstance(st, ast.AlterEnumStmt) and st.oldVal is not None:  # RENAME VALUE: rows read the new label
            out.append(Action("relabel", "", columns=tuple(n.sval for n in st.typeName)))
        elif isinstance(st, (ast.CreateFunctionStmt, ast.CreateTrigStmt, ast.ViewStmt, ast.IndexStmt,
                             ast.CommentStmt, ast.VariableSetStmt, ast.SelectStmt, ast.CreateEnumStmt,
                             ast.AlterEnumStmt, ast.CreateDomainStmt, ast.CreateSchemaStmt, ast.GrantStmt,
                             ast.CreateExtensionStmt, ast.CreateSeqStmt, ast.AlterSeqStmt, ast.ExplainStmt,
                             ast.TransactionStmt, ast.VariableShowStmt, ast.CompositeTypeStmt,
                             ast.AlterFunctionStmt, ast.CreatePolicyStmt, ast.AlterOwnerStmt)):
            continue
        elif isinstance(st, ast.CreateTableAsStmt):  # a materialized view: no row of a table
            continue
        else:
            out.append(Action("unknown", ",".join(sorted(_pg_tables(st, search)))))
    return out


def _pg_tables(node: Any, search: str | None = None) -> set[str]:
    from pglast import ast
    from pglast.visitors import Visitor

    found: set[str] = set()

    class _Tables(Visitor):
        def visit_RangeVar(self, _ancestors: Any, rv: ast.RangeVar) -> None:
            found.add(_rv(rv, search))

    _Tables()(node)
    return found


def _sqlglot_actions(sql: str, dialect: str) -> list[Action] | None:
    """Actions of one statement read with sqlglot (``None``: unreadable)."""
    from sqlglot import exp

    from .sqltext import parse

    tree = parse(sql, dialect)
    if tree is None:
        return None
    if isinstance(tree, exp.Create):
        kind = (tree.args.get("kind") or "").upper()
        if kind == "TABLE":
            query = tree.expression
            sources = tuple(sorted({t.name for t in query.find_all(exp.Table)})) if query is not None else ()
            return [Action("create", tree.find(exp.Table).name, sources=sources)]
        return []
    if isinstance(tree, exp.Drop):
        if (tree.args.get("kind") or "").upper() == "TABLE":
            return [Action("drop", t.name) for t in tree.args.get("tables") or [tree.this] if t is not None]
        return []
    if isinstance(tree, exp.Alter) and (tree.args.get("kind") or "").upper() == "TABLE":
        table, out = tree.this.name, []
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.ColumnDef):
                out.append(Action("add_column", table, action.name))
            elif isinstance(action, exp.Drop) and (action.args.get("kind") or "").upper() == "COLUMN":
                out += [Action("drop_column", table, c.name) for c in action.args.get("tables") or [action.this]]
            elif isinstance(action, exp.RenameColumn):
                out.append(Action("rename_column", table, action.this.name, action.args["to"].name))
            elif isinstance(action, exp.AlterRename):
                out.append(Action("rename", table, new=action.this.name))
            elif isinstance(action, exp.AlterColumn) and action.args.get("dtype") is not None:
                out.append(Action("change_column", table, action.this.name))
        return out
    if isinstance(tree, exp.Update):
        cols = tuple(e.this.name for e in tree.expressions if isinstance(e, exp.EQ))
        return [Action("update", tree.this.name, columns=cols)]
    if isinstance(tree, exp.Delete):
        return [Action("delete", tree.this.name)]
    if isinstance(tree, exp.TruncateTable):
        return [Action("delete", t.name) for t in tree.expressions]
    if isinstance(tree, exp.Insert):
        table = tree.this.this.name if isinstance(tree.this, exp.Schema) else tree.this.name
        source = tree.expression
        sources = tuple(sorted({t.name for t in source.find_all(exp.Table)})) if source is not None else ()
        upsert: tuple[str, ...] = ()
        conflict = tree.args.get("conflict")
        if (tree.args.get("alternative") or "").upper() == "REPLACE":
            upsert = (ALL,)
        elif conflict is not None and conflict.args.get("expressions"):
            upsert = tuple(e.this.name for e in conflict.args["expressions"] if isinstance(e, exp.EQ))
        return [Action("insert", table, columns=upsert, sources=sources)]
    if isinstance(tree, (exp.Select, exp.Pragma, exp.Analyze, exp.Transaction, exp.Commit, exp.Rollback, exp.Set)):
        return []
    return [Action("unknown", ",".join(sorted({t.name for t in tree.find_all(exp.Table)})))]


def statement_actions(sql: str, dialect: str, search: str | None = None) -> tuple[list[Action], str | None]:
    """The actions of one statement, and a note when it could not be declared exactly; PostgreSQL:
    its unqualified names are in schema ``search`` (``_pg_actions``)."""
    head = " ".join(sql.split()[:3]).upper()
    if dialect == "postgres" and head.startswith(("SET", "RESET")) and "SEARCH_PATH" in head.replace(" LOCAL", ""):
        return _pg_actions(sql, search) or [], None  # where the unqualified names after it are
    if any(head.startswith(p) for p in _NO_ROWS) and not head.startswith("CREATE OR REPLACE TABLE"):
        return [], None
    if head.startswith(("REPLACE INTO", "INSERT OR REPLACE")):
        import re

        m = re.search(r"INTO\s+\"?([\w$]+)\"?", sql, re.IGNORECASE)
        return ([Action("insert", m.group(1), columns=(ALL,))] if m else []), None
    if dialect == "postgres" and head.startswith("DO"):
        from .pgtext import do_statements  # PostgreSQL text: pglast is loaded already

        inner = do_statements(sql)
        if inner is not None:
            queries, opaque = inner
            actions, notes = [], []
            for query in queries:
                found, note = statement_actions(query, dialect, search)
                search = next((a.table or None for a in reversed(found) if a.kind == "search_path"), search)
                actions += found
                notes += [note] if note else []
            if opaque:
                notes.append("is a DO block that also runs SQL the parser cannot read (EXECUTE, CALL): "
                             "what that changes is undeclared")
            return actions, "; ".join(notes) or None
    actions = _pg_actions(sql, search) if dialect == "postgres" else _sqlglot_actions(sql, dialect)
    if actions is None:
        return [], "cannot be parsed, so it declares nothing: what it changes is undeclared"
    note = None
    for a in actions:
        if a.kind == "unknown" and not a.table:
            note = "is of a kind whose effect is not known and names no table: what it changes is undeclared"
    return [a for a in actions if not (a.kind == "unknown" and not a.table)], note


def statement_tables(statements: Iterable[str], dialect: str,
                     fold: Callable[[str], str] = str.lower) -> list[set[str]]:
    """Per statement, in order, the tables (as the schema model names them: ``fold``, the engine's
    ``lint.model.fold``; PostgreSQL's parser gives names already folded, ``"User"`` kept apart from
    ``user``) whose rows or definition it says it changes, read by the parser
    (``statement_actions``; a ``SET search_path`` followed): what a write the engine measured
    against it may be. A query that calls a function names none."""
    out: list[set[str]] = []
    search: str | None = None
    for sql in statements:
        actions, _ = statement_actions(sql, dialect, search)
        names: set[str] = set()
        for a in actions:
            if a.kind == "search_path":
                search = a.table or None
                continue
            if a.kind == "relabel":  # names a type, not a table
                continue
            names |= set(a.table.split(",")) | ({a.new} if a.new else set())
        out.append({fold(n) for n in names if n})
    return out


def declare(statements: Iterable[tuple[str, str]], dialect: str, *, names_ignore_case: bool = False) -> Declared:
    """What ``statements`` (``(label, sql)`` pairs, in order) may change, per table (see the
    module doc). ``names_ignore_case``: the engine's (``Engine.names_ignore_case``, SQLite): one
    table however a statement spells it."""
    out = Declared()
    current: dict[str, TableEffect] = {}  # by the name the table has at this point
    folds = names_ignore_case
    spelling: dict[str, str] = {}  # SQLite: lower-case name → the spelling the table has here

    def spell(name: str, new: bool = False) -> str:
        if not folds or not name:
            return name
        if new:  # CREATE TABLE / RENAME TO: the engine keeps the name as this statement writes it
            spelling[name.lower()] = name
        return spelling.setdefault(name.lower(), name)

    def effect(name: str) -> TableEffect:
        if name not in current:
            e = TableEffect(name)
            out.tables[name] = e
            current[name] = e
        return current[name]

    search: str | None = None  # PostgreSQL: where unqualified names are (``SET search_path``)
    for label, sql in statements:
        actions, note = statement_actions(sql, dialect, search)
        if note:
            out.notes.append(f"{label} {note}")
        for a in actions:
            if a.kind == "search_path":
                search = a.table or None
                continue
            if a.kind == "relabel":  # the columns of that type: read from the engine (``DataWatch``)
                out.relabelled.append((label, a.columns if len(a.columns) > 1 or search is None else (search, *a.columns)))
                continue
            if folds:
                a = Action(a.kind, spell(a.table, a.kind == "create") if a.kind != "unknown" else a.table, a.column,
                           spell(a.new, True) if a.kind == "rename" and a.new else a.new, a.columns,
                           tuple(spell(t) for t in a.sources))
            for name in (a.table.split(",") if a.kind == "unknown" else [a.table]):
                _apply(a, spell(name), label, out, current, effect)
    for e in list(out.created.values()):  # a new table took the name of a dropped one
        old = next((t for t in out.tables.values() if (t.table.lower() == (e.now or "").lower() if folds
                                                          else t.table == e.now)), None)
        if old is None or not old.existed or old.now is not None:
            continue
        if old.table not in e.copied_from:  # re-created, none of its rows copied: as DROP TABLE alone
            old.why.append(f"re-created under its name as a new table, none of its rows copied into it: "
                           f"every row removed ({'; '.join(e.why)})")
            continue
        old.now, old.rebuilt = e.now, True  # a rebuild: its rows copied into the new table
        old.changed_columns |= e.changed_columns
        old.may_add_rows |= e.may_add_rows
        old.may_remove_rows |= e.may_remove_rows
        old.anything |= e.anything
        old.why += [f"rebuilt: {w}" for w in e.why] + ["a rebuild keeps every row and every kept column"]
        del out.created[e.now]
    return out


def _origins(sources: Iterable[str], current: dict[str, TableEffect]) -> set[str]:
    """The tables, named as before the migration, whose rows ``sources`` (names at this point)
    hold: an existing table under its first name (renames followed), a table the migration created
    through the tables copied into it."""
    out: set[str] = set()
    for source in sources:
        e = current.get(source)
        out |= {source} if e is None else {e.table} if e.existed else e.copied_from
    return out


def _apply(a: Action, name: str, label: str, out: Declared, current: dict[str, TableEffect], effect: Any) -> None:
    if a.kind == "create":
        e = TableEffect(name, existed=False, now=name, why=[f"{label}: created"])
        if a.sources:
            e.copied_from = _origins(a.sources, current)
            e.why[0] += f" with rows copied from {', '.join(a.sources)}"
        current[name] = e
        out.created[name] = e
        return
    e = effect(name)
    if a.kind == "drop":
        e.now = None
        e.why.append(f"{label}: dropped")
        current.pop(name, None)
        if not e.existed:
            out.created.pop(name, None)
    elif a.kind == "rename":
        current.pop(name, None)
        e.now = a.new
        current[a.new] = e
        if not e.existed:
            out.created.pop(name, None)
            out.created[a.new] = e
        e.why.append(f"{label}: renamed to {a.new}")
    elif a.kind == "add_column":
        e.added_columns.append(a.column)
        e.why.append(f"{label}: column {a.column} added (fills only that column)")
        if a.column in e.dropped_columns:  # a new column under a dropped one's name: its values are new
            e.changed_columns.add(a.column)
            e.why.append(f"{label}: column {a.column} was dropped before: the one added holds new values")
    elif a.kind == "drop_column":
        e.dropped_columns.append(a.column)
        e.why.append(f"{label}: column {a.column} dropped")
    elif a.kind == "rename_column":
        e.renamed_columns[a.new] = e.renamed_columns.pop(a.column, a.column)
        if a.column in e.changed_columns:  # declared under the name it has now
            e.changed_columns = (e.changed_columns - {a.column}) | {a.new}
        e.why.append(f"{label}: column {a.column} renamed to {a.new}")
    elif a.kind == "change_column":
        e.changed_columns.add(a.column)
        e.why.append(f"{label}: column {a.column} changes type (its values may change)")
    elif a.kind == "update":
        e.changed_columns |= set(a.columns)
        e.updates = True
        e.why.append(f"{label}: UPDATE sets {', '.join(a.columns)} (row count unchanged)")
    elif a.kind == "delete":
        e.may_remove_rows = True
        e.truncates_cascade |= a.columns == ("CASCADE",)
        e.why.append(f"{label}: may remove rows" + (", and every row of the tables referring to it"
                                                     if e.truncates_cascade else ""))
    elif a.kind == "insert":
        copies = not e.existed and bool(a.sources)  # into a table the migration created
        if copies:
            e.copied_from |= _origins(a.sources, current)
            e.why.append(f"{label}: rows copied from {', '.join(a.sources)}")
        if not copies or a.columns:
            e.may_add_rows = True
            e.changed_columns |= set(a.columns)
            e.updates = e.updates or bool(a.columns)
            e.why.append(f"{label}: may add rows" + (f" and change {', '.join(a.columns)}" if a.columns else
                                                      ", existing rows unchanged"))
        if e.existed and e.may_remove_rows and ALL not in e.changed_columns:  # delete, then insert again
            e.changed_columns.add(ALL)
            e.why.append(f"{label}: a row an earlier statement removed may come back under its key with "
                         "other values (replaced)")
    else:
        e.anything = True
        e.why.append(f"{label}: may change anything on {name} (a statement whose effect is not known names it)")


def declare_statements(statements: Iterable["Statement"], dialect: str, *, names_ignore_case: bool = False) -> Declared:
    """``declare`` for a script's statements (labelled ``statement N (line L)``)."""
    return declare(((f"statement {s.index} (line {s.line})", s.sql) for s in statements
                    if not s.is_transaction_control), dialect, names_ignore_case=names_ignore_case)


def declare_prepared(prepared: Iterable[Any], engine: "Engine", writes: Iterable[str] = ()) -> Declared:
    """``declare`` for ``migrate.prepare()``'s statements, as they run on ``engine``. ``writes``:
    the tables the migration's header says code writes (``Migration.writes``, ``-- Writes:``); one
    its statements also name may change anything there (a trigger its ``UPDATE`` fires, a function
    its ``SELECT`` calls: what they change is not the statement's own)."""
    out = declare(((f"statement {p.statement.index} (line {p.statement.line})", sql)
                   for p in prepared for sql in p.sql), engine.sqlglot_dialect, names_ignore_case=engine.names_ignore_case)
    for table in writes:
        e = out.tables.get(table)
        if e is not None and e.existed:
            e.anything = True
            e.why.append(f"the header declares it written through code (-- Writes: {table})")
    return out


# -- checking --------------------------------------------------------------------------------
class DataCheckFailed(MigrationFailed):
    """The statements changed data they do not declare; the transaction was rolled back."""

    def __init__(self, version: str, name: str, problems: list[str], *,
                 what: str = "changed data it does not declare"):
        super().__init__(version, name, 0, 0, "", "; ".join(problems))
        self.problems = problems
        self.args = (f"migration {version}_{name} {what}: {'; '.join(problems)}; its transaction was rolled back",)

    def __str__(self) -> str:
        return self.args[0]


@dataclass
class _Watched:
    effect: TableEffect
    columns: list[str]
    key: list[str]
    rows: int | None  # None: not counted (its statements cannot change its rows)
    copy: str | None  # temporary copy's name (None: compared by count only)
    as_text: set[str] = field(default_factory=set)  # columns the copy holds as their text
    key_types: dict[str, str] = field(default_factory=dict)  # the key's column types, as the catalog read them before
    numbers: dict[str, tuple[int, int]] | None = None  # each column's identity before (``engine.column_numbers``)


class DataWatch:
    """Counts and compares the tables a migration touches, before and after its statements, in
    its own transaction (see the module doc). ``report`` is JSON-able."""

    def __init__(self, engine: "Engine", declared: Declared, *, full: bool):
        self.engine, self.declared, self.full = engine, declared, full
        self.watched: list[_Watched] = []
        self.report: dict[str, Any] | None = None
        self._spent = 0.0  # seconds spent checking (before + after), not running the statements
        self._tables: set[str] = set()  # every table before the statements
        self._catalog: dict[str, list[str]] = {}  # and its columns
        self._counters: dict[str, int] | None = None  # the engine's write counters before them
        self._written: set[str] | None = None  # tables the statements wrote to (None: not known)
        self._foreign_keys: dict[str, list[Any]] = {}  # per table, the foreign keys referring to it (read when needed)

    def before(self, conn: sa.Connection) -> None:
        """Hold writers off, count and copy the tables the statements touch (call first)."""
        started = time.perf_counter()
        insp = sa.inspect(conn)
        self._catalog = self.engine.column_names(conn)  # every table, with its columns: one read
        self._tables = set(self._catalog)
        if self.engine.names_ignore_case:
            self.declared.spell_as(self._tables)
        self._counters = self.engine.write_counters(conn)
        present = self._tables
        self._declare_relabelled(conn, present)
        self._declare_triggers(conn, present)
        effects = [e for e in self.declared.existing() if e.table in present]
        self.engine.hold_writers(conn, [e.table for e in effects])
        for i, e in enumerate(effects):
            described = self.engine.columns(insp, e.table)
            columns = [c["name"] for c in described]
            key = self.engine.primary_key(insp, e.table)
            key_types = {c["name"]: str(c["type"]) for c in described if c["name"] in key}
            # A table whose statements only add or drop columns (or index it) keeps every row by
            # the engine's own rules: counting it twice inside the write lock could not fail and
            # cost two scans of the table. The rehearsal compares one that loses columns by content.
            compared = e.changes_rows or (self.full and bool(e.dropped_columns))
            rows = _count(conn, self.engine, e.table) if compared or e.now is None else None
            copy, as_text = None, set()
            if compared and not e.appended_by_triggers:
                copy = f"runbook_before_{i}"
                as_text = self.engine.create_before_copy(conn, copy, e.table, columns, key)
            numbers = self.engine.column_numbers(conn, e.table) if copy else None
            self.watched.append(_Watched(e, columns, key, rows, copy, as_text, key_types, numbers))
        self._spent = time.perf_counter() - started

    def _declare_relabelled(self, conn: sa.Connection, present: set[str]) -> None:
        """A value of an enum renamed (PostgreSQL's ``ALTER TYPE ... RENAME VALUE``): every row
        holding it reads the new label, in each column of that type (or of an array or a domain
        of it) the engine's catalog shows (``engine.columns_of_type``)."""
        for label, name in self.declared.relabelled:
            for table, columns in self.engine.columns_of_type(conn, name).items():
                if table not in present:
                    continue
                e = self.declared.tables.setdefault(table, TableEffect(table))
                e.changed_columns |= set(columns)
                e.why.append(f"{label}: renames a value of type {'.'.join(name)}, which "
                             f"{', '.join(columns)} hold{'s' if len(columns) == 1 else ''}")

    def _declare_triggers(self, conn: sa.Connection, present: set[str]) -> None:
        """What the tables' triggers do when the statements write them is the statements' doing,
        as the engine runs it: the statements in their bodies (``engine.trigger_statements``: an
        audit row inserted, an ``updated_at`` set by an ``UPDATE`` of the same table, and what the
        project's functions they call run) are declared too; so is what foreign keys' actions do
        to the tables referring to the ones whose rows may be removed or updated
        (``_declare_referential``); and the triggers and actions those fire in turn, round by
        round until nothing new is declared; and what PostgreSQL's ``BEFORE UPDATE`` row triggers
        set in ``NEW`` (``engine.update_trigger_columns``). A trigger running code no parser reads
        declares nothing (noted): what it writes stays undeclared, as without this."""
        fired: set[tuple[str, str]] = set()
        todo = [e.table for e in self.declared.existing() if e.table in present]
        while todo:
            grew: list[str] = []
            for table in dict.fromkeys(todo):
                e = self.declared.tables[table]
                events = {ev for ev, on in (("update", e.updates), ("insert", e.may_add_rows),
                                            ("delete", e.may_remove_rows)) if on and (table, ev) not in fired}
                if not events:
                    continue
                fired |= {(table, ev) for ev in events}
                statements = self.engine.trigger_statements(conn, table, events)
                if statements is None:
                    self.declared.notes.append(f"{table}'s triggers run code no parser reads: what they write is undeclared")
                elif statements:
                    body = declare([(f"a trigger on {table}", sql) for sql in statements], self.engine.sqlglot_dialect,
                                   names_ignore_case=self.engine.names_ignore_case)
                    if self.engine.names_ignore_case:
                        body.spell_as(present)
                    grew += [t for t in self.declared.absorb(body, f"{table}'s triggers") if t in present]
            grew += self._declare_referential(conn, [self.declared.tables[t] for t in dict.fromkeys(todo)], present)
            todo = grew
        updated = [e for e in self.declared.existing() if e.table in present and e.updates and ALL not in e.changed_columns]
        set_by = self.engine.update_trigger_columns(conn, [e.table for e in updated]) if updated else {}
        for e in updated:
            if e.table in set_by:
                columns = set_by[e.table]
                e.changed_columns |= {ALL} if columns is None else columns
                e.why.append("its update triggers may set " + ("any column" if columns is None else ", ".join(sorted(columns)))
                             + " of the rows updated")

    def _declare_referential(self, conn: sa.Connection, parents: list[TableEffect], present: set[str]) -> list[str]:
        """What the engine does to the rows of tables whose foreign keys refer to ``parents``
        whose rows may be removed or updated (``engine.referential_actions``: one read per round
        of ``_declare_triggers``, each table read once): ``ON DELETE CASCADE`` removes rows, ``SET
        NULL`` / ``SET DEFAULT`` and ``ON UPDATE`` actions (when a referenced column may change)
        set the foreign key's columns; a ``TRUNCATE ... CASCADE`` empties every referring table.
        Returns the tables whose declaration grew (their triggers and actions fire in turn)."""
        parents = [e for e in parents if e.may_remove_rows or e.updates or e.anything]
        unread = [e.table for e in parents if e.table not in self._foreign_keys]
        self._foreign_keys.update((t, []) for t in unread)
        for fk in self.engine.referential_actions(conn, unread) if unread else []:
            self._foreign_keys[fk.parent].append(fk)
        grew = []
        for e in parents:
            for fk in self._foreign_keys[e.table]:
                if fk.child not in present:
                    continue
                deleted = "cascade" if e.truncates_cascade else fk.on_delete if e.may_remove_rows or e.anything else "none"
                key_changes = e.anything or bool({ALL, *fk.referenced} & e.changed_columns)
                updated = fk.on_update if (e.updates or e.anything) and key_changes else "none"
                child = self.declared.tables.get(fk.child) or TableEffect(fk.child, by_triggers=True)
                before = (child.may_remove_rows, child.truncates_cascade, set(child.changed_columns), child.updates)
                for event, action in (("DELETE", deleted), ("UPDATE", updated)):
                    if action == "none":
                        continue
                    if action == "cascade" and event == "DELETE":
                        child.may_remove_rows = True
                        child.truncates_cascade |= e.truncates_cascade
                    else:
                        child.changed_columns |= set(fk.on_delete_sets if event == "DELETE" else fk.columns)
                        child.updates = True
                    what = "TRUNCATE ... CASCADE" if e.truncates_cascade and event == "DELETE" else f"ON {event} {action.upper()}"
                    why = (f"{what} of its foreign key ({', '.join(fk.columns)}) to {fk.parent}, "
                           f"whose rows the statements may {event.lower()}")
                    if why not in child.why:
                        child.why.append(why)
                if (child.may_remove_rows, child.truncates_cascade, set(child.changed_columns), child.updates) != before:
                    self.declared.tables[fk.child] = child
                    grew.append(fk.child)
        return grew

    def after(self, conn: sa.Connection) -> dict[str, Any]:
        """Compare and judge; returns the report (``passed`` False: something undeclared)."""
        started = time.perf_counter()
        insp = sa.inspect(conn)
        catalog = self.engine.column_names(conn)
        present = set(catalog)
        counters = self.engine.write_counters(conn) if self._counters is not None else None
        self._written = None if counters is None else {
            t for t, n in counters.items() if n != (self._counters or {}).get(t, 0)}
        tables = [self._compare(conn, insp, present, w) for w in self.watched]
        tables += self._found(conn, insp, catalog, {t["now"] for t in tables} | {t["table"] for t in tables})
        problems = [f"{t['table']}: {p}" for t in tables for p in t["undeclared"]]
        created = sorted(set(self.declared.created) | (present - self._tables))  # named by a statement, or found
        created_rows = {t: _count(conn, self.engine, t) for t in created if t in present}
        unwatched = sorted((self._written or set()) - {t["now"] for t in tables} - set(created))
        self.report = {"passed": not problems, "mode": "full" if self.full else "rows it may change",
                       "tables": tables, "problems": problems, "notes": self.declared.notes,
                       "created": created, "created_rows": created_rows, "unwatched_writes": unwatched,
                       "catalog": True,  # tables and columns the engine's catalog shows new are in it
                       "check_ms": int((self._spent + time.perf_counter() - started) * 1000)}
        return self.report

    def _may_write(self, table: str) -> bool:
        """Whether a statement whose effect is not known (a ``DO`` block, a function, ``CALL``)
        may have written to ``table``: the engine's write counters say so exactly; without them,
        whenever such a statement ran."""
        return table in self._written if self._written is not None else bool(self.declared.notes)

    def _found(self, conn: sa.Connection, insp: Any, catalog: dict[str, list[str]], seen: set[str]
               ) -> list[dict[str, Any]]:
        """Tables no statement names whose columns the engine's catalog shows new (added by a
        statement the parser cannot read): their new columns' values at commit, so a rollback can
        tell them from the application's."""
        out = []
        for table, columns in sorted(catalog.items()):
            new = [c for c in columns if c not in self._catalog.get(table, columns)]
            if table in seen or not new:
                continue
            defaults = {c["name"]: c.get("default") for c in self.engine.columns(insp, table)}
            written = [c for c in new if self._may_write(table) or not _constant(defaults.get(c))]
            out.append({"table": table, "now": table, "rows_before": None, "rows_after": None,
                        "compared": "columns added by a statement the parser cannot read (the engine's catalog): "
                                    "rows not compared",
                        "added": None, "removed": None, "changed": None, "changed_columns": {},
                        "new_columns": {c: 0 for c in new} | written_values(conn, self.engine, table, written, defaults),
                        "declared": [], "undeclared": []})
        return out

    def _compare(self, conn: sa.Connection, insp: Any, present: set[str], w: _Watched) -> dict[str, Any]:
        e = w.effect
        out: dict[str, Any] = {"table": e.table, "now": e.now, "rows_before": w.rows, "rows_after": None,
                               "compared": "content" if w.copy else "count", "added": None, "removed": None,
                               "changed": None, "changed_columns": {}, "new_columns": {},
                               "declared": e.why, "undeclared": []}
        if e.now is None:
            out["compared"], out["removed"] = "dropped as declared", w.rows
            return out
        if e.now not in present:
            out["undeclared"].append(f"table {e.now} does not exist after the statements")
            return out
        now_columns = self.engine.columns(insp, e.now)
        now_cols = [c["name"] for c in now_columns]
        out["rows_after"] = None if w.rows is None else _count(conn, self.engine, e.now)
        before_of = {c: e.renamed_columns.get(c, c) for c in now_cols}
        now_ids = self.engine.column_numbers(conn, e.now) if w.numbers is not None else None
        if now_ids and {t for t, _ in now_ids.values()} == {t for t, _ in (w.numbers or {}).values()}:
            was = {ident: name for name, ident in (w.numbers or {}).items()}  # the same table: renamed by
            before_of = {c: was.get(now_ids.get(c), "") for c in now_cols}  # whatever means, or made anew
        common = [(c, before_of[c]) for c in now_cols if before_of[c] in w.columns]
        new_cols = [c for c in now_cols if before_of[c] not in w.columns]
        defaults = {c["name"]: c.get("default") for c in now_columns}
        written = [c for c in new_cols if c in e.changed_columns or ALL in e.changed_columns or e.may_add_rows
                   or e.anything or not _constant(defaults.get(c)) or self._may_write(e.now)]
        out["new_columns"] = {c: 0 for c in new_cols} | written_values(conn, self.engine, e.now, written, defaults)
        if w.rows is None:
            out["compared"] = "columns added or dropped only: rows kept by the engine (not counted)"
            out["added"] = out["removed"] = 0
        elif w.copy is None:
            delta = out["rows_after"] - w.rows
            out["added"], out["removed"] = max(delta, 0), max(-delta, 0)
        elif w.key and all(k in [b for _, b in common] for k in w.key):
            self._compare_by_key(conn, w, e.now, common, out, {c["name"]: str(c["type"]) for c in now_columns})
        else:
            self._compare_as_multiset(conn, w, e.now, common, out)
        if out["removed"] and not e.may_remove_rows:
            why = ("a rebuild must keep every row: " if e.rebuilt else "") + \
                  f"{out['removed']} of {w.rows} rows removed, and no statement may remove rows"
            out["undeclared"].append(why)
        if out["added"] and not e.may_add_rows:
            out["undeclared"].append(f"{out['added']} rows added, and no statement may add rows")
        if not e.anything and ALL not in e.changed_columns:
            for col, n in out["changed_columns"].items():
                if n and col not in e.changed_columns:
                    out["undeclared"].append(f"column {col} changed in {n} rows, and no statement sets it")
        if e.anything:
            out["undeclared"] = []  # a statement that may change anything on it names it
        return out

    def _compare_by_key(self, conn: sa.Connection, w: _Watched, table: str, common: list[tuple[str, str]],
                        out: dict[str, Any], now_types: dict[str, str]) -> None:
        """One pass over the table, joined by key to its copy: rows without a partner were added;
        per column, rows whose value differs; the copy's rows without a partner were removed. The
        key is the copy's (the names before the statements): a key column renamed since is joined
        under its name now. A key column whose type is not what it was (``now_types``, the
        catalog's) is joined as text: a statement changed it (int → text), or code no parser reads
        renamed it away and made another column of its name (supabase/auth's 044: ``id`` text
        became ``provider_id``, a new ``id`` uuid took its place)."""
        q, eng = self.engine.quote_name, self.engine
        now_of = {before: now for now, before in common}
        # a key whose type a statement changed (int → text), or that the copy holds as its text
        retyped = {k for k in w.key if {k, now_of[k]} & set(w.effect.changed_columns) or k in w.as_text
                   or w.key_types.get(k) != now_types.get(now_of[k])}
        on = " AND ".join(f"{eng.comparable_sql(f'a.{q(now_of[k])}')} = {eng.comparable_sql(f'b.{q(k)}')}"
                          if k in retyped else f"a.{q(now_of[k])} = b.{q(k)}" for k in w.key)
        missing = f"b.{q(w.key[0])} IS NULL"
        diffs = [eng.differs_sql(f"a.{q(now)}", f"b.{q(before)}") for now, before in common]
        joined = f"FROM {eng.quote_table(table)} a LEFT JOIN {q(w.copy)} b ON {on}"
        any_ = f", SUM(CASE WHEN {missing} THEN 0 WHEN {' OR '.join(diffs)} THEN 1 ELSE 0 END)" if diffs else ", 0"
        row = eng.run_sql(conn, f"SELECT SUM(CASE WHEN {missing} THEN 1 ELSE 0 END){any_} {joined}").one()
        out["added"] = int(row[0] or 0)
        out["removed"] = w.rows - ((out["rows_after"] or 0) - out["added"])
        out["changed"] = int(row[1] or 0)
        out["changed_columns"] = {}
        if out["changed"]:  # which columns: a second pass, only when some row changed (half the work when none did)
            sums = ", ".join(f"SUM(CASE WHEN {missing} THEN 0 WHEN {d} THEN 1 ELSE 0 END)" for d in diffs)
            per_column = eng.run_sql(conn, f"SELECT {sums} {joined}").one()
            out["changed_columns"] = {now: int(n) for (now, _), n in zip(common, per_column) if n}

    def _compare_as_multiset(self, conn: sa.Connection, w: _Watched, table: str, common: list[tuple[str, str]],
                             out: dict[str, Any]) -> None:
        """No key: rows whose values (over the kept columns no statement sets) appear on one side
        only; changed rows show as removed and added."""
        q, eng = self.engine.quote_name, self.engine
        kept = [(n, b) for n, b in common if n not in w.effect.changed_columns] or common
        after = ", ".join(eng.comparable_sql(q(n)) for n, _ in kept)
        before = ", ".join(eng.comparable_sql(q(b)) for _, b in kept)
        out["removed"] = _scalar(conn, eng, f"SELECT count(*) FROM (SELECT {before} FROM {q(w.copy)} "
                                       f"EXCEPT SELECT {after} FROM {eng.quote_table(table)}) x")
        out["added"] = _scalar(conn, eng, f"SELECT count(*) FROM (SELECT {after} FROM {eng.quote_table(table)} "
                                     f"EXCEPT SELECT {before} FROM {q(w.copy)}) x")
        delta = (out["rows_after"] or 0) - w.rows
        out["added"] = max(out["added"], delta)
        out["removed"] = max(out["removed"], -delta)


def _scalar(conn: sa.Connection, engine: "Engine", sql: str) -> int:
    return int(engine.run_sql(conn, sql).scalar() or 0)  # run_sql: a % in a literal or name stays one


def _count(conn: sa.Connection, engine: "Engine", table: str) -> int:
    return _scalar(conn, engine, f"SELECT count(*) FROM {engine.quote_table(table)}")


_CONSTANT = re.compile(r"^\(*('(?:[^']|'')*'|[-+]?\d+(?:\.\d+)?|TRUE|FALSE|NULL)\)*(?:::[\w ]+(?:\[\])?)?$",
                       re.IGNORECASE)


def _constant(default: Any) -> bool:
    text = None if default is None else str(default).strip()
    return text is None or bool(_CONSTANT.match(text))


def is_constant(default: str) -> bool:
    """A column default written as a constant (a literal, maybe cast): its text is its value, the
    same for every row (``nextval(...)``, ``CURRENT_TIMESTAMP`` are not)."""
    return bool(_CONSTANT.match(default.strip()))


def at_commit(report: dict[str, Any]) -> dict[str, Any]:
    """What a ``DataWatch`` report says the migration left at its commit, counts only: the values
    in the columns it added, the rows it added and removed, the rows it changed (per column), the
    rows of the tables it created, and the tables it wrote through statements whose effect is not
    known (``unwatched_writes``). Kept in the event log, so a rollback in a later run can tell the
    application's values from the migrations' own, and verify the application's writes from theirs."""
    return {"tables": [{"now": t["now"], "new_columns": t["new_columns"], "changed_columns": t["changed_columns"],
                        "added": t.get("added"), "removed": t.get("removed")}
                       for t in report.get("tables", [])
                       if t.get("new_columns") or t.get("changed_columns") or t.get("added") or t.get("removed")],
            "created_rows": report.get("created_rows", {}), "catalog": bool(report.get("catalog")),
            "unwatched_writes": report.get("unwatched_writes", [])}


def written_values(conn: sa.Connection, engine: "Engine", table: str, columns: list[str],
                   defaults: dict[str, Any]) -> dict[str, int]:
    """Per column, the values that are neither NULL nor the column's constant default: what was
    written there (by a backfill, or by the application), counted in one scan. A default that is
    not a constant (``CURRENT_TIMESTAMP``, ``nextval(...)``) is not told apart: every non-NULL
    value counts."""
    if not columns:
        return {}
    conds = []
    for column in columns:
        col = engine.quote_name(column)
        cond = f"{col} IS NOT NULL"
        text = None if defaults.get(column) is None else str(defaults[column]).strip()
        if text and _CONSTANT.match(text) and text.upper() != "NULL":
            cond += f" AND {engine.differs_sql(col, '(' + text + ')')}"
        conds.append(f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)")
    row = engine.run_sql(conn, f"SELECT {', '.join(conds)} FROM {engine.quote_table(table)}").one()
    return {c: int(n or 0) for c, n in zip(columns, row)}


def summary(report: dict[str, Any] | None) -> str:
    """One line per table of a ``DataWatch`` report, for notebooks and the CLI."""
    if not report:
        return "no data check"
    lines = []
    for t in report["tables"]:
        if t["compared"] == "dropped as declared":
            anew = (f"; a new table took its name ({report['created_rows'].get(t['table'])} rows)"
                    if t["table"] in report.get("created_rows", {}) else "")
            lines.append(f"{t['table']}: dropped as declared, every row removed ({t['rows_before']} rows){anew}")
            continue
        cols = ", ".join(f"{c} in {n} rows" for c, n in t["changed_columns"].items())
        new = ", ".join(f"{c}: {n} values" for c, n in t["new_columns"].items() if n)
        lines.append(f"{t['table']}" + (f" (now {t['now']})" if t["now"] != t["table"] else "")
                     + (f": {t['rows_before']} → {t['rows_after']} rows; +{t['added']} −{t['removed']}"
                        if t["rows_before"] is not None else f": {t['compared']}")
                     + (f" ~{t['changed']}" if t["changed"] is not None else "")
                     + (f"; changed: {cols}" if cols else "") + (f"; new columns: {new}" if new else "")
                     + (f"; UNDECLARED: {'; '.join(t['undeclared'])}" if t["undeclared"] else ""))
    if report.get("unwatched_writes"):
        lines.append(f"written by a statement whose effect is not known, not compared (the engine's write counters): "
                     f"{', '.join(report['unwatched_writes'])}")
    return "\n".join(lines) or "no existing table touched"
