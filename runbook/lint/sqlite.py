"""The SQLite classifier: statements of the SQLite dialect (the shared ``NNN_name.sql`` files).

SQLite has no parser library, so trees come from sqlglot's SQLite grammar; whether a statement
sqlglot cannot read is really unparsable is asked of SQLite itself (``EXPLAIN`` on an empty
in-memory database: a syntax error is the engine's own verdict; "no such table" is not). A
``CREATE TABLE`` SQLite reads and sqlglot does not is made by SQLite in an empty in-memory
database and read back from its catalog (``engine_table``).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterator

from sqlglot import exp
from sqlglot.dialects import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from ..sqltext import Statement, split
from .classify import Classifier, Constraint, NewColumn, Outcome, Shape, Unreadable, merge
from .model import ColumnInfo, TypeInfo
from .report import short
from .rules.locks import duration_ms


@contextlib.contextmanager
def quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning for every statement it reads as a ``Command``: we report those ourselves."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


_MEMORY = sqlite3.connect(":memory:", check_same_thread=False)


def sqlite_syntax_error(sql: str) -> str | None:
    """SQLite's own verdict: its syntax error, or None when it can parse ``sql`` (``EXPLAIN``
    compiles without running; "no such table" is not a syntax error)."""
    try:
        _MEMORY.execute("EXPLAIN " + sql).fetchall()
    except sqlite3.Warning:  # more than one statement: not ours to judge here
        return None
    except sqlite3.Error as exc:
        text = str(exc)
        return text if ("syntax error" in text or "incomplete input" in text or "unrecognized token" in text) else None
    return None


@dataclass(frozen=True)
class EngineTable:
    """A ``CREATE TABLE`` SQLite reads and sqlglot's grammar does not, as SQLite made it
    (``engine_table``): drizzle-kit wrote table constraints with no comma between them, which
    SQLite's grammar allows."""

    name: str
    columns: dict[str, ColumnInfo]
    constraints: list[Constraint]
    if_not_exists: bool


def engine_table(sql: str, *, if_not_exists: bool) -> EngineTable | None:
    """Run ``sql``, a ``CREATE [TEMP] TABLE [IF NOT EXISTS] ...``, in a new empty in-memory
    database and read the table back as SQLite holds it: its columns (``PRAGMA table_xinfo``) and
    foreign keys (``PRAGMA foreign_key_list``; SQLite checks their targets only when a row is
    written). ``None`` when SQLite does not make exactly one table of it there (``AS SELECT`` from
    a table that database lacks, say)."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute(sql)
        made = [row for row in db.execute(_MEMORY_TABLES) if not row[1].startswith("sqlite_")]
        if len(made) != 1:
            return None
        schema, name = made[0]
        columns = {}
        for _cid, column, ctype, notnull, default, pk, hidden in db.execute(
                f"PRAGMA {schema}.table_xinfo({_quoted(name)})"):
            columns[column.lower()] = ColumnInfo(column.lower(), TypeInfo.of(ctype) if ctype else None,
                                                 not (notnull or pk), default is not None or hidden in (2, 3))
        keys: dict[int, Constraint] = {}
        for key, _seq, table, column, referenced, *_ in db.execute(
                f"PRAGMA {schema}.foreign_key_list({_quoted(name)})"):
            fk = keys.setdefault(key, Constraint("FOREIGN KEY", [], ref_table=table.lower()))
            fk.columns.append(column.lower())
            if referenced is not None:
                fk.ref_columns += (referenced.lower(),)
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return EngineTable(name.lower(), columns, list(keys.values()), if_not_exists)


_MEMORY_TABLES = ("SELECT 'main', name FROM sqlite_master WHERE type = 'table' "
                  "UNION ALL SELECT 'temp', name FROM sqlite_temp_master WHERE type = 'table'")


def _quoted(name: str) -> str:
    """``engines.sqlite.quote``'s quoting, without loading that engine: lint reads SQLite-dialect
    migrations on a PostgreSQL run too, which never loads the SQLite engine (tests/test_package.py)."""
    return '"' + name.replace('"', '""') + '"'


def _tokens(sql: str, dialect: str = "sqlite") -> list:
    try:
        return list(Dialect.get_or_raise(dialect).tokenize(sql))
    except (TokenError, ValueError):
        return []


# -- reading sqlglot trees
def name_of(node: exp.Expression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Schema):
        node = node.this
    return (node.name or "").lower()


def _ident_list(nodes: list[exp.Expression] | None) -> tuple[str, ...]:
    return tuple(name_of(n) for n in (nodes or []))


def _reference(ref: exp.Reference | None) -> tuple[str, tuple[str, ...]]:
    """(table, columns) a REFERENCES clause points at."""
    target = ref.this if ref is not None else None
    if isinstance(target, exp.Schema):
        return name_of(target.this), _ident_list(target.expressions)
    return name_of(target), ()


def _dropped(node: exp.Drop) -> list[exp.Expression]:
    return list(node.args.get("tables") or node.expressions or [])


def _column_kinds(cd: exp.ColumnDef) -> list[exp.Expression]:
    return [c.args.get("kind") for c in cd.args.get("constraints") or [] if c.args.get("kind") is not None]


def _type(dtype: exp.DataType | None, dialect: str) -> TypeInfo | None:
    return TypeInfo.of(dtype.sql(dialect=dialect)) if dtype is not None else None


def _new_column(cd: exp.ColumnDef, dialect: str) -> NewColumn:
    kinds = _column_kinds(cd)
    not_null = any(isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null") for k in kinds)
    pk = any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds)
    dtype = cd.args.get("kind")
    generated = any(isinstance(k, (exp.GeneratedAsIdentityColumnConstraint, exp.AutoIncrementColumnConstraint,
                                   exp.ComputedColumnConstraint)) for k in kinds)
    serial = dtype is not None and dtype.this in (exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL,
                                                  exp.DataType.Type.SMALLSERIAL)
    default = any(isinstance(k, exp.DefaultColumnConstraint) for k in kinds) or generated or serial
    name = name_of(cd.this)
    rules = []
    for k in kinds:
        if isinstance(k, exp.UniqueColumnConstraint):
            rules.append(Constraint("UNIQUE", [name]))
        elif isinstance(k, exp.CheckColumnConstraint):
            rules.append(Constraint("CHECK", [name]))
        elif isinstance(k, exp.Reference):
            ref_table, ref_cols = _reference(k)
            rules.append(Constraint("FOREIGN KEY", [name], ref_table=ref_table, ref_columns=ref_cols))
        elif isinstance(k, exp.PrimaryKeyColumnConstraint):
            rules.append(Constraint("PRIMARY KEY", [name]))
    return NewColumn(ColumnInfo(name, _type(dtype, dialect), not (not_null or pk), default), rules)


def _constraint(part: exp.Expression, cname: str) -> Constraint | None:
    if isinstance(part, exp.ForeignKey):
        ref_table, ref_cols = _reference(part.args.get("reference"))
        return Constraint("FOREIGN KEY", list(_ident_list(part.expressions)), cname, ref_table, ref_cols)
    if isinstance(part, exp.PrimaryKey):
        return Constraint("PRIMARY KEY", [name_of(e) for e in part.expressions], cname)
    if isinstance(part, exp.UniqueColumnConstraint):
        target = part.this
        return Constraint("UNIQUE", list(_ident_list(target.expressions)) if isinstance(target, exp.Schema) else [], cname)
    if isinstance(part, exp.CheckColumnConstraint):
        return Constraint("CHECK", sorted({name_of(c) for c in part.find_all(exp.Column)}), cname)
    return None


def _tables_read(query: exp.Expression) -> list[str]:
    return sorted({name_of(t) for t in query.find_all(exp.Table)} - {""})


def _postgresql_hint(sql: str) -> str:
    """What to say of a statement SQLite's parser refuses that PostgreSQL's reads: most likely a
    history written for PostgreSQL read in the default dialect."""
    from ..pgtext import tree

    if tree(sql) is None:
        return ""
    return ("; PostgreSQL's parser reads it: if the files are written for PostgreSQL, say so "
            "(--dialect postgresql, or dialect = \"postgresql\" in runbook.toml)")


class SqliteClassifier(Classifier):
    dialect = "sqlite"
    parser_name = "SQLite"

    def is_system(self, table: str) -> bool:
        """SQLite's own tables (``sqlite_sequence``, ``sqlite_master``, ``sqlite_stat1``...)."""
        return table.rsplit(".", 1)[-1].startswith("sqlite_")

    def parse(self, st: Statement) -> Any:
        with quiet_sqlglot():
            tree = st.parse(self.lint.dialect)
        error = sqlite_syntax_error(st.sql) if self.lint.dialect == "sqlite" else None
        if error:
            raise Unreadable(error + _postgresql_hint(st.sql))
        words = [t.text.upper() for t in _tokens(st.sql)[:6]] if tree is None and self.lint.dialect == "sqlite" else []
        if words[:2] == ["CREATE", "TABLE"] or words[:3] in (["CREATE", "TEMP", "TABLE"], ["CREATE", "TEMPORARY", "TABLE"]):
            made = engine_table(st.sql, if_not_exists="IF NOT EXISTS" in " ".join(words))
            if made is not None:
                return made
        return tree if tree is not None else st  # SQLite parses it, sqlglot does not: read by its tokens

    def shape(self, tree: Any) -> Shape:
        if isinstance(tree, EngineTable):
            return Shape(creates=tree.name)
        if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE":
            name = name_of(tree.this)
            if isinstance(tree.expression, exp.Query):
                return Shape(creates=name, copy_into=name, sources=frozenset(_tables_read(tree.expression)))
            return Shape(creates=name)
        if isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "TABLE":
            return Shape(drops=tuple(name_of(t) for t in _dropped(tree)))
        if isinstance(tree, exp.Alter) and (tree.args.get("kind") or "").upper() == "TABLE":
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.AlterRename):
                    return Shape(rename=(name_of(tree.this), name_of(action.this)))
        if isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Query):
            return Shape(copy_into=name_of(tree.this), sources=frozenset(_tables_read(tree.expression)))
        return Shape()

    def classify(self, st: Statement, tree: Any) -> Outcome:
        with quiet_sqlglot():
            return self._classify(st, tree)

    def _classify(self, st: Statement, tree: Any) -> Outcome:
        if isinstance(tree, EngineTable):
            return self.create_table(st, tree.name, tree.columns, tree.constraints, if_not_exists=tree.if_not_exists)
        if isinstance(tree, Statement) or isinstance(tree, (exp.Command, exp.Block)):
            return self.by_tokens(st, tree)
        if isinstance(tree, exp.Alter):
            return self.alter(st, tree)
        if isinstance(tree, exp.Create):
            return self.create(st, tree)
        if isinstance(tree, exp.Drop):
            return self.drop(st, tree)
        if isinstance(tree, exp.Insert):
            overwrite = (tree.args.get("alternative") or "").upper() == "REPLACE" or (
                tree.args.get("conflict") is not None and "UPDATE" in tree.args["conflict"].sql().upper())
            sources = _tables_read(tree.expression) if isinstance(tree.expression, exp.Query) else []
            return self.insert(st, name_of(tree.this), sources, overwrite)
        if isinstance(tree, exp.Update):
            table = name_of(tree.this)
            cols = [name_of(eq.this) for eq in tree.expressions if isinstance(eq, exp.EQ)]
            return self.update(st, table, cols, [t for t in _tables_read(tree) if t != table])
        if isinstance(tree, exp.Delete):
            return self.delete(st, name_of(tree.this))
        if isinstance(tree, exp.TruncateTable):
            return self.truncate([name_of(t) for t in tree.expressions])
        if isinstance(tree, exp.Merge):
            return self.merge_into(name_of(tree.this))
        if isinstance(tree, exp.Query):
            for call in tree.find_all(exp.Anonymous):  # SELECT set_config('lock_timeout', '0', ...)
                args = call.expressions
                if call.name.lower() == "set_config" and len(args) >= 2 and args[0].name.lower() == "lock_timeout":
                    return self.set_lock_timeout(st, duration_ms(args[1].name), repr(args[1].name))
            return Outcome(1, "read-only", "read-only query")
        if isinstance(tree, exp.Pragma):
            return Outcome(1, "pragma", "PRAGMA: reads or sets a connection setting; no schema or data change")
        if isinstance(tree, exp.Set):
            for item in tree.expressions:
                eq = item.this
                if isinstance(eq, exp.EQ) and name_of(eq.this) == "lock_timeout":
                    value = eq.expression
                    default = isinstance(value, exp.Var) and value.name.upper() == "DEFAULT"
                    ms = self.runner_lock_timeout_ms if default else duration_ms(value.name if value is not None else "")
                    return self.set_lock_timeout(st, ms, value.sql() if value is not None else "?")
            return Outcome(1, "setting", "SET: a session setting; no schema or data change")
        if isinstance(tree, (exp.Comment, exp.Analyze, exp.Grant)):
            return Outcome(1, tree.key, f"{st.first_word}: no schema or data change")
        return self.unclassified(st, f"{type(tree).__name__} statements are not classified by the linter")

    # statements sqlglot reads only as an opaque command
    def by_tokens(self, st: Statement, tree: Any) -> Outcome:
        tokens = _tokens(st.sql, self.lint.dialect)
        w = [t.text.upper() for t in tokens[:6]]
        if len(w) >= 2 and w[0] == "CREATE" and "TRIGGER" in w[1:4]:
            return self.sqlite_trigger(st, tokens)
        if w[:3] == ["CREATE", "VIRTUAL", "TABLE"]:
            return self.virtual_table(st, tokens)
        if w[:1] in (["VACUUM"], ["REINDEX"]):
            return Outcome(1, w[0].lower(), f"{w[0]}: maintenance; no schema or data change")
        if w[:1] == ["ANALYZE"]:
            return Outcome(1, "analyze", "ANALYZE: no schema or data change")
        if w[:2] == ["REPLACE", "INTO"]:
            table = tokens[2].text.lower() if len(tokens) > 2 else "?"
            return Outcome(3, "insert-replace", f"REPLACE INTO {table}: overwrites existing rows that collide",
                           destructive=True)
        if isinstance(tree, Statement):
            return self.unclassified(st, "SQLite parses it, sqlglot's SQLite grammar does not")
        return self.unclassified(st, "read only as an opaque command")

    def virtual_table(self, st: Statement, tokens: list) -> Outcome:
        """``CREATE VIRTUAL TABLE [IF NOT EXISTS] name USING module(...)`` (FTS5 with ``UNINDEXED``
        or options, which sqlglot's grammar does not read): a new table whose columns the module
        defines (not known here); SQLite has parsed it."""
        using = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.USING), None)
        if using is None or using < 4:
            return self.unclassified(st, "a CREATE VIRTUAL TABLE without USING module")
        exists = [t.text.upper() for t in tokens[3:6]] == ["IF", "NOT", "EXISTS"]
        return self.create_table(st, tokens[using - 1].text.strip('"`[]').lower(), None, [], if_not_exists=exists)

    def sqlite_trigger(self, st: Statement, tokens: list) -> Outcome:
        """``CREATE TRIGGER ... ON t ... BEGIN ...; END``: the table; the body is not the migration's
        statements (it runs on later writes), but must parse."""
        on = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.ON), None)
        begin = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.BEGIN), None)
        if on is None or begin is None or on + 1 >= len(tokens) or tokens[-1].text.upper() != "END":
            return self.unclassified(st, "a CREATE TRIGGER without ON table ... BEGIN ... END")
        name_tokens = tokens[on + 1: begin]
        table = (name_tokens[2] if len(name_tokens) > 2 and name_tokens[1].token_type == TokenType.DOT
                 else name_tokens[0]).text.lower()
        body = st.sql[tokens[begin].end + 1: tokens[-1].start]
        for inner in split(body, self.lint.dialect, source=f"trigger at line {st.line}"):
            if inner.parse(self.lint.dialect) is None and sqlite_syntax_error(inner.sql):
                return self.unparsable(st, f"trigger body statement {short(inner.sql, 60)!r}")
        return self.trigger(st, table)

    # CREATE
    def create(self, st: Statement, tree: exp.Create) -> Outcome:
        kind = (tree.args.get("kind") or "").upper()
        if kind == "TABLE":
            return self.create_table_tree(st, tree)
        if kind == "INDEX":
            index = tree.this
            name = name_of(index.this) if isinstance(index, exp.Index) else ""
            table = name_of(index.args.get("table")) if isinstance(index, exp.Index) else ""
            columns = sorted({name_of(c) for c in index.find_all(exp.Column)}) if isinstance(index, exp.Index) else []
            return self.create_index(st, name, table, columns, unique=bool(tree.args.get("unique")),
                                     concurrently=bool(tree.args.get("concurrently")))
        if kind == "VIEW":
            return self.create_view(name_of(tree.this))
        if kind == "TRIGGER":
            props = tree.args.get("properties")
            trig = props.find(exp.TriggerProperties) if props is not None else None
            table = name_of(trig.args.get("table")) if trig is not None else ""
            return self.trigger(st, table) if table else self.unclassified(st, "trigger without a table")
        if kind in ("FUNCTION", "PROCEDURE"):
            return self.create_routine(kind.lower(), name_of(tree.this), bool(tree.args.get("replace")))
        if kind in ("SEQUENCE", "TYPE", "SCHEMA", "DOMAIN"):
            return Outcome(1, f"create-{kind.lower()}", f"new {kind.lower()}; no data change")
        return self.unclassified(st, f"CREATE {kind or '?'} is not classified by the linter")

    def create_table_tree(self, st: Statement, tree: exp.Create) -> Outcome:
        name = name_of(tree.this)
        query = tree.expression if isinstance(tree.expression, exp.Query) else None
        columns: dict[str, ColumnInfo] | None = {}
        constraints: list[Constraint] = []
        schema_node = tree.this if isinstance(tree.this, exp.Schema) else None
        if schema_node is not None:
            for item in schema_node.expressions:
                if isinstance(item, exp.ColumnDef):
                    new = _new_column(item, self.lint.dialect)
                    columns[new.column.name] = new.column
                    constraints += [c for c in new.rules if c.kind == "FOREIGN KEY"]
                    continue
                cname = name_of(item.this) if isinstance(item, exp.Constraint) else ""
                for part in item.expressions if isinstance(item, exp.Constraint) else [item]:
                    c = _constraint(part, cname)
                    if c is not None:
                        constraints.append(c)
        if query is not None:
            columns = self.query_columns(query)
        if tree.find(exp.VirtualProperty) is not None:
            columns = None  # CREATE VIRTUAL TABLE ... USING module(...): the module defines them
        return self.create_table(st, name, columns, constraints, if_not_exists=bool(tree.args.get("exists")),
                                 sources=_tables_read(query) if query is not None else None, as_query=query is not None)

    def query_columns(self, query: exp.Query) -> dict[str, ColumnInfo] | None:
        cols: dict[str, ColumnInfo] = {}
        for sel in query.selects:
            if isinstance(sel, exp.Star):
                sources = _tables_read(query)
                known = self.schema.tables[sources[0]].columns if len(sources) == 1 and sources[0] in self.schema.tables else None
                if known is None:
                    return None
                cols.update({k: ColumnInfo(v.name, v.type, v.nullable, v.has_default) for k, v in known.items()})
            elif sel.alias_or_name:
                cols[sel.alias_or_name.lower()] = ColumnInfo(sel.alias_or_name.lower())
            else:
                return None
        return cols

    # DROP
    def drop(self, st: Statement, tree: exp.Drop) -> Outcome:
        kind = (tree.args.get("kind") or "").upper()
        names = [name_of(t) for t in _dropped(tree)]
        if kind == "TABLE":
            return self.drop_tables(names, bool(tree.args.get("exists")))
        if kind == "INDEX":
            return self.drop_indexes(names, bool(tree.args.get("concurrently")))
        if kind == "VIEW":
            return self.drop_views(names, bool(tree.args.get("exists")))
        if kind == "TRIGGER":
            return self.drop_triggers(names)
        if kind in ("FUNCTION", "PROCEDURE", "SEQUENCE", "TYPE", "DOMAIN"):
            return self.drop_other(kind, names)
        return self.unclassified(st, f"DROP {kind or '?'} is not classified by the linter")

    # ALTER
    def alter(self, st: Statement, tree: exp.Alter) -> Outcome:
        kind = (tree.args.get("kind") or "").upper()
        if kind == "INDEX":
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.AlterRename):
                    return self.rename_index(name_of(tree.this), name_of(action.this))
            return Outcome(1, "alter-index", "ALTER INDEX: no data change")
        if kind != "TABLE":
            return self.unclassified(st, f"ALTER {kind or '?'} is not classified by the linter")
        table = name_of(tree.this)
        if not self.alter_table(st, table, bool(tree.args.get("exists"))):
            return Outcome(1, "alter-table", f"ALTER TABLE {table}: no such table, nothing changes")
        outcomes = [self.alter_action(st, tree, table, action) for action in tree.args.get("actions") or []]
        return merge(outcomes) if outcomes else self.unclassified(st, "ALTER TABLE without an action")

    def alter_action(self, st: Statement, tree: exp.Alter, table: str, action: exp.Expression) -> Outcome:
        if isinstance(action, exp.ColumnDef):
            return self.add_column(st, table, _new_column(action, self.lint.dialect))
        if isinstance(action, exp.Drop):
            dkind = (action.args.get("kind") or "").upper()
            if dkind == "COLUMN":
                return self.drop_columns(st, table, [name_of(c) for c in _dropped(action)], bool(action.args.get("exists")))
            if dkind == "CONSTRAINT":
                return merge([self.drop_constraint(table, name_of(c)) for c in _dropped(action)])
            return self.unclassified(st, f"ALTER TABLE ... DROP {dkind or '?'}")
        if isinstance(action, exp.RenameColumn):
            return self.rename_column(st, table, name_of(action.this), name_of(action.args.get("to")))
        if isinstance(action, exp.AlterRename):
            return self.rename_table(table, name_of(action.this))
        if isinstance(action, exp.AlterColumn):
            col = name_of(action.this)
            if action.args.get("dtype") is not None:
                return self.alter_column_type(st, table, col, _type(action.args["dtype"], self.lint.dialect))
            if action.args.get("allow_null") is False and not action.args.get("drop"):
                return self.set_not_null(st, table, col)
            if action.args.get("drop") and action.args.get("allow_null"):
                return self.drop_not_null(st, table, col)
            if action.args.get("default") is not None or action.args.get("drop"):
                return self.column_default(st, table, col, action.args.get("default") is not None)
            return self.unclassified(st, "an ALTER COLUMN action the linter does not know")
        if isinstance(action, exp.AddConstraint):
            outs = []
            for node in action.expressions:
                cname = name_of(node.this) if isinstance(node, exp.Constraint) else ""
                for part in node.expressions if isinstance(node, exp.Constraint) else [node]:
                    c = _constraint(part, cname)
                    if c is None:
                        outs.append(self.unclassified(st, f"constraint {type(part).__name__}"))
                        continue
                    c.not_valid = bool(tree.args.get("not_valid"))
                    outs.append(self.add_constraint(st, table, c))
            return merge(outs)
        return self.unclassified(st, f"ALTER TABLE action {type(action).__name__}")
