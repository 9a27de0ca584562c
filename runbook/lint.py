"""Lint migrations: classify each one by the guide's three categories and report findings.

Every statement is read with sqlglot (``sqltext.split`` + ``Statement.parse``), never with
regexes over raw SQL, and classified against a static model of the schema at that point of the
sequence (tables → columns, foreign keys, named constraints, indexes), started from an empty
database or, with a target, from the target's schema (SQLAlchemy inspector). A file's category is
the highest of its statements'. Destructive statements (data is lost on apply) are flagged
separately from the category. See ``docs/lint.md`` for the rules table and the findings.

Categories (the guide's): 1 non-breaking (safe), 2 breaking (requires migration), 3 data
migration required. Declared Risk Levels map LOW → 1, MEDIUM → 2, HIGH → 3.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import sqlalchemy as sa
from sqlglot import exp
from sqlglot.dialects import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from . import migrations as mig
from .errors import BadInput, MigrationFailed, RunFailed
from .migrations import _NAME, _ROLLBACK, VARIANTS, Migration, Script
from .sqltext import Statement, split

if TYPE_CHECKING:
    from .engines.base import Engine
    from .target import Target

RISK_CATEGORY = {"LOW": 1, "MEDIUM": 2, "HIGH": 3}
CATEGORY_RISK = {v: k for k, v in RISK_CATEGORY.items()}
HIGHEST = 3
CATEGORY_NAMES = {1: "non-breaking", 2: "breaking", 3: "data migration"}
#: findings the migrate gate refuses unless overridden
GATE_CODES = ("rollback-missing", "risk-understated")


# -- report types ------------------------------------------------------------------------------
@dataclass
class Finding:
    level: str  # "error" | "warning"
    code: str
    file: str
    line: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "code": self.code, "file": self.file, "line": self.line, "message": self.message}

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class Verdict:
    """One statement's classification."""

    index: int
    line: int
    sql: str
    kind: str
    category: int | None  # None: ignored (transaction control)
    reason: str
    destructive: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "line": self.line, "sql": _short(self.sql), "kind": self.kind,
                "category": self.category, "reason": self.reason, "destructive": self.destructive}


@dataclass
class MigrationLint:
    """One migration as it would run on one engine."""

    migration: Migration
    engine: str
    file: Path
    dialect: str
    declared_risk: str | None
    statements: list[Verdict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    applied: bool | None = None  # with a target: already applied there
    rollback_check: dict[str, str] = field(default_factory=lambda: {"status": "not run", "detail": ""})

    @property
    def category(self) -> int:
        cats = [v.category for v in self.statements if v.category is not None]
        return max(cats, default=1)

    @property
    def destructive(self) -> bool:
        return any(v.destructive for v in self.statements)

    @property
    def declared_category(self) -> int | None:
        return RISK_CATEGORY.get(self.declared_risk or "")

    def as_dict(self) -> dict[str, Any]:
        m = self.migration
        return {
            "migration": m.label, "version": m.version, "engine": self.engine, "file": str(self.file),
            "dialect": self.dialect, "declared_risk": self.declared_risk,
            "declared_category": self.declared_category, "category": self.category,
            "category_name": CATEGORY_NAMES[self.category], "destructive": self.destructive,
            "rollback": str(m.rollback.path) if m.rollback else None, "has_rollback": m.rollback is not None,
            "rollback_check": self.rollback_check,
            "applied": self.applied,
            "statements": [v.as_dict() for v in self.statements],
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass
class LintReport:
    migrations_dir: str
    target: str | None
    migrations: list[MigrationLint] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # folder-level: names, numbering

    def all_findings(self) -> list[Finding]:
        return self.findings + [f for m in self.migrations for f in m.findings]

    @property
    def errors(self) -> int:
        return sum(f.level == "error" for f in self.all_findings())

    @property
    def warnings(self) -> int:
        return sum(f.level == "warning" for f in self.all_findings())

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "migrations_dir": self.migrations_dir, "target": self.target,
            "migrations": [m.as_dict() for m in self.migrations],
            "findings": [f.as_dict() for f in self.findings],
            "errors": self.errors, "warnings": self.warnings, "passed": self.errors == 0,
        }


def _short(sql: str, width: int = 160) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- the schema model --------------------------------------------------------------------------
@dataclass
class ColumnInfo:
    name: str
    type: exp.DataType | None = None
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


@dataclass
class TableInfo:
    name: str
    columns: dict[str, ColumnInfo] | None = None  # None: not known (e.g. from an unreadable statement)
    foreign_keys: list[ForeignKeyInfo] = field(default_factory=list)
    constraints: dict[str, str] = field(default_factory=dict)  # name → UNIQUE | CHECK | PRIMARY KEY | FOREIGN KEY


@dataclass
class SchemaModel:
    """Tables (by lower-case name) as they stand at one point of the migration sequence."""

    tables: dict[str, TableInfo] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)  # index → table
    views: set[str] = field(default_factory=set)
    closed: bool = True  # False: a table not in ``tables`` may still exist
    doubt: str | None = None  # why a "does not exist" may be a false alarm

    def copy(self) -> "SchemaModel":
        return copy.deepcopy(self)

    def exists(self, table: str) -> bool | None:
        """True/False when known; None when it cannot be told."""
        if table in self.tables:
            return True
        return False if self.closed else None

    def column_exists(self, table: str, column: str) -> bool | None:
        info = self.tables.get(table)
        if info is None:
            return None if not self.closed else False
        if info.columns is None:
            return None
        return column in info.columns


def schema_from_database(conn: sa.Connection) -> SchemaModel:
    """The model of a live database (SQLAlchemy inspector); leaves out ``schema_history``."""
    insp = sa.inspect(conn)
    model = SchemaModel()
    for name in insp.get_table_names():
        if name in mig.RUNBOOK_TABLES:
            continue
        t = TableInfo(name.lower(), {})
        for col in insp.get_columns(name):
            try:
                type_sql = col["type"].compile(dialect=conn.dialect)
                dtype = exp.DataType.build(type_sql, dialect=_sqlglot_dialect(conn))
            except Exception:  # a type sqlglot cannot spell: unknown, not wrong
                dtype = None
            t.columns[col["name"].lower()] = ColumnInfo(col["name"].lower(), dtype, bool(col.get("nullable", True)),
                                                        col.get("default") is not None)
        for fk in insp.get_foreign_keys(name):
            info = ForeignKeyInfo(tuple(c.lower() for c in fk["constrained_columns"]), fk["referred_table"].lower(),
                                  tuple(c.lower() for c in fk["referred_columns"]), (fk.get("name") or None))
            t.foreign_keys.append(info)
            if info.name:
                t.constraints[info.name.lower()] = "FOREIGN KEY"
        for kind, getter in (("UNIQUE", insp.get_unique_constraints), ("CHECK", insp.get_check_constraints)):
            try:
                for c in getter(name):
                    if c.get("name"):
                        t.constraints[c["name"].lower()] = kind
            except NotImplementedError:
                pass
        pk = insp.get_pk_constraint(name)
        if pk and pk.get("name"):
            t.constraints[pk["name"].lower()] = "PRIMARY KEY"
        for ix in insp.get_indexes(name):
            if ix.get("name"):
                model.indexes[ix["name"].lower()] = name.lower()
        model.tables[name.lower()] = t
    model.views = {v.lower() for v in insp.get_view_names()}
    return model


def _sqlglot_dialect(conn: sa.Connection) -> str:
    from .engines import ENGINES

    for engine in ENGINES.values():
        if engine.name == conn.dialect.name:
            return engine.sqlglot_dialect
    return conn.dialect.name


# -- reading syntax trees ----------------------------------------------------------------------
def _name(node: exp.Expression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Schema):
        node = node.this
    return (node.name or "").lower()


def _ident_list(nodes: list[exp.Expression] | None) -> tuple[str, ...]:
    return tuple(_name(n) for n in (nodes or []))


def _reference(ref: exp.Reference | None) -> tuple[str, tuple[str, ...]]:
    """(table, columns) a REFERENCES clause points at."""
    target = ref.this if ref is not None else None
    if isinstance(target, exp.Schema):
        return _name(target.this), _ident_list(target.expressions)
    return _name(target), ()


def _dropped(node: exp.Drop) -> list[exp.Expression]:
    """What a DROP (or an ALTER TABLE ... DROP action) names."""
    return list(node.args.get("tables") or node.expressions or [])


def _column_kinds(cd: exp.ColumnDef) -> list[exp.Expression]:
    return [c.args.get("kind") for c in cd.args.get("constraints") or [] if c.args.get("kind") is not None]


def _column_info(cd: exp.ColumnDef) -> ColumnInfo:
    kinds = _column_kinds(cd)
    not_null = any(isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null") for k in kinds)
    pk = any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds)
    dtype = cd.args.get("kind")
    generated = any(isinstance(k, (exp.GeneratedAsIdentityColumnConstraint, exp.AutoIncrementColumnConstraint,
                                   exp.ComputedColumnConstraint)) for k in kinds)
    serial = dtype is not None and dtype.this in (exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL,
                                                  exp.DataType.Type.SMALLSERIAL)
    default = any(isinstance(k, exp.DefaultColumnConstraint) for k in kinds) or generated or serial
    return ColumnInfo(_name(cd.this), dtype, not (not_null or pk), default)


def _column_constraints(cd: exp.ColumnDef) -> list[str]:
    """Kinds of rule a column definition adds that existing rows may violate."""
    found = []
    for k in _column_kinds(cd):
        if isinstance(k, exp.UniqueColumnConstraint):
            found.append("UNIQUE")
        elif isinstance(k, exp.CheckColumnConstraint):
            found.append("CHECK")
        elif isinstance(k, exp.Reference):
            found.append("FOREIGN KEY")
        elif isinstance(k, exp.PrimaryKeyColumnConstraint):
            found.append("PRIMARY KEY")
    return found


def _type_sql(dtype: exp.DataType | None, dialect: str) -> str:
    return dtype.sql(dialect=dialect) if dtype is not None else "?"


_VARYING = {exp.DataType.Type.VARCHAR, exp.DataType.Type.NVARCHAR}
_UNBOUNDED_TEXT = {exp.DataType.Type.TEXT, exp.DataType.Type.MEDIUMTEXT, exp.DataType.Type.LONGTEXT}


def _length(dtype: exp.DataType) -> int | None:
    params = dtype.expressions
    if not params:
        return None
    try:
        return int(params[0].name)
    except (ValueError, AttributeError):
        return None


def _type_change(old: exp.DataType | None, new: exp.DataType, where: str, dialect: str) -> tuple[int, str]:
    new_sql = _type_sql(new, dialect)
    if old is None:
        return 2, f"changes the type of {where} to {new_sql} (its current type is not known here)"
    old_sql = _type_sql(old, dialect)
    if old_sql.upper() == new_sql.upper():
        return 1, f"keeps the type of {where} ({new_sql})"
    if old.this in _VARYING | _UNBOUNDED_TEXT and new.this in _VARYING | _UNBOUNDED_TEXT:
        old_len = None if old.this in _UNBOUNDED_TEXT else _length(old)
        new_len = None if new.this in _UNBOUNDED_TEXT else _length(new)
        if new_len is None or (old_len is not None and new_len >= old_len):
            return 1, f"widens {where} from {old_sql} to {new_sql}"
        return 2, f"narrows {where} from {old_sql} to {new_sql}: longer existing values make it fail"
    return 2, f"changes the type of {where} from {old_sql} to {new_sql}"


def _tokens(sql: str, dialect: str) -> list:
    try:
        return list(Dialect.get_or_raise(dialect).tokenize(sql))
    except (TokenError, ValueError):
        return []


def _words(tokens: list, n: int = 6) -> list[str]:
    return [t.text.upper() for t in tokens[:n]]


@contextlib.contextmanager
def _quiet_sqlglot() -> Iterator[None]:
    """sqlglot logs a warning for every statement it reads as a ``Command``: we report those ourselves."""
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# -- classifying one file ----------------------------------------------------------------------
@dataclass
class _Outcome:
    category: int
    kind: str
    reason: str
    destructive: bool = False
    lock_heavy: bool = False  # takes a lock that blocks reads or writes of an existing table


class _FileLinter:
    """Classifies the statements of one migration, updating ``schema`` as they apply."""

    def __init__(self, lint: MigrationLint, schema: SchemaModel, statements: list[Statement], *,
                 engine: "Engine", runner_lock_timeout_ms: int | None):
        self.lint = lint
        self.dialect = lint.dialect
        self.before = schema.copy()  # as it stood when this migration starts
        self.schema = schema
        self.statements = statements
        self.engine = engine
        self.runner_lock_timeout_ms = runner_lock_timeout_ms
        self.created: set[str] = set()  # tables created by this migration
        self.added_columns: set[tuple[str, str]] = set()
        self.lock_timeout_ms: int | None = runner_lock_timeout_ms
        self.lock_timeout_line: int | None = None
        self.trees: list[exp.Expression | None] = []
        self.rebuilds: dict[int, str] = {}  # statement index → rebuilt table

    # findings
    def finding(self, level: str, code: str, line: int | None, message: str) -> None:
        self.lint.findings.append(Finding(level, code, str(self.lint.file), line, message))

    def unknown(self, st: Statement, what: str) -> None:
        if self.schema.doubt:
            self.finding("warning", "unknown-name", st.line, f"{what} ({self.schema.doubt}, so this may be a false alarm)")
        else:
            self.finding("error", "unknown-name", st.line, what)

    def check_table(self, st: Statement, table: str, role: str, *, view_ok: bool = False) -> bool:
        """False (and a finding) when ``table`` is known not to exist."""
        if view_ok and table in self.schema.views:
            return True
        if table and self.schema.exists(table) is False:
            self.unknown(st, f"{role} names table {table}, which does not exist at this point of the migrations")
            return False
        return True

    def check_columns(self, st: Statement, table: str, columns: list[str] | tuple[str, ...], role: str) -> None:
        missing = [c for c in columns if c and self.schema.column_exists(table, c) is False]
        if missing and self.schema.exists(table):
            self.unknown(st, f"{role} names column{'s' if len(missing) > 1 else ''} {', '.join(table + '.' + c for c in missing)}, "
                             "which does not exist at this point of the migrations")

    def existed(self, table: str) -> bool:
        """Did ``table`` exist before this migration (so it may hold rows)?"""
        known = self.before.exists(table)
        return known if known is not None else table not in self.created

    # the pass
    def run(self) -> None:
        with _quiet_sqlglot():
            self.trees = [None if st.is_transaction_control else st.parse(self.dialect) for st in self.statements]
        self.rebuilds = self._find_rebuilds()
        runnable = 0
        for st, tree in zip(self.statements, self.trees):
            if st.is_transaction_control:
                self.lint.statements.append(Verdict(st.index, st.line, st.sql, "transaction-control", None,
                                                    "ignored: the runner wraps the whole file in one transaction"))
                continue
            runnable += 1
            with _quiet_sqlglot():
                out = self.classify(st, tree)
            self.lint.statements.append(Verdict(st.index, st.line, st.sql, out.kind, out.category, out.reason, out.destructive))
            if out.lock_heavy and self.engine.lock_timeout_matters and self.lock_timeout_ms == 0:
                self.finding("error", "lock-timeout-disabled", st.line,
                             f"{out.kind} takes a heavy lock but line {self.lock_timeout_line} set lock_timeout to 0: "
                             "it can wait forever behind a long transaction while every query on the table queues "
                             f"behind it; remove that SET (the runner sets lock_timeout = {self.runner_lock_timeout_ms} ms)")
        if not runnable:
            self.finding("warning", "empty", None, "the migration has no statements to run")

    # rebuild detection (SQLite's 12-step pattern and the guide's backup-drop-recreate-copy)
    def _find_rebuilds(self) -> dict[int, str]:
        creates: dict[str, list[int]] = {}
        drops: dict[str, list[int]] = {}
        renames: list[tuple[int, str, str]] = []
        copies: list[tuple[int, str, set[str]]] = []  # (index, into, from)
        for st, tree in zip(self.statements, self.trees):
            if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE":
                name = _name(tree.this)
                creates.setdefault(name, []).append(st.index)
                if isinstance(tree.expression, exp.Query):
                    copies.append((st.index, name, {_name(t) for t in tree.expression.find_all(exp.Table)}))
            elif isinstance(tree, exp.Drop) and (tree.args.get("kind") or "").upper() == "TABLE":
                for t in _dropped(tree):
                    drops.setdefault(_name(t), []).append(st.index)
            elif isinstance(tree, exp.Alter) and (tree.args.get("kind") or "").upper() == "TABLE":
                for action in tree.args.get("actions") or []:
                    if isinstance(action, exp.AlterRename):
                        renames.append((st.index, _name(tree.this), _name(action.this)))
            elif isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Query):
                sources = {_name(t) for t in tree.expression.find_all(exp.Table)}
                if sources:
                    copies.append((st.index, _name(tree.this), sources))
        result: dict[int, str] = {}
        for table, drop_at in drops.items():
            if self.before.exists(table) is False or min(creates.get(table, [10**9])) < min(drop_at):
                continue  # not there before, or made and thrown away by this migration: not a rebuild
            recreated = [i for i in creates.get(table, []) if i > min(drop_at)]
            renamed_in = [(i, old) for i, old, new in renames if new == table and i > min(drop_at)]
            if not recreated and not renamed_in:
                continue
            related = {table} | {old for _, old in renamed_in}
            changed = True
            while changed:
                changed = False
                for _, into, sources in copies:
                    if into not in related and into in creates and sources & related and sources <= related | {into}:
                        related.add(into)
                        changed = True
            members = set(drop_at) | set(recreated) | {i for i, _ in renamed_in}
            members |= {i for name in related - {table} for i in creates.get(name, []) + drops.get(name, [])}
            members |= {i for i, into, sources in copies if into in related and sources <= related}
            for i in members:
                result[i] = table
        return result

    # classification
    def classify(self, st: Statement, tree: exp.Expression | None) -> _Outcome:
        if tree is None or isinstance(tree, (exp.Command, exp.Block)):
            return self.classify_by_tokens(st, tree)
        if st.index in self.rebuilds:
            return self.rebuild_step(st, tree, self.rebuilds[st.index])
        if isinstance(tree, exp.Alter):
            return self.alter(st, tree)
        if isinstance(tree, exp.Create):
            return self.create(st, tree)
        if isinstance(tree, exp.Drop):
            return self.drop(st, tree)
        if isinstance(tree, exp.Insert):
            return self.insert(st, tree)
        if isinstance(tree, exp.Update):
            return self.update(st, tree)
        if isinstance(tree, exp.Delete):
            table = _name(tree.this)
            return _Outcome(3, "delete", f"DELETE FROM {table}: removes existing rows", destructive=True)
        if isinstance(tree, exp.TruncateTable):
            names = ", ".join(_name(t) for t in tree.expressions)
            return _Outcome(3, "truncate", f"TRUNCATE {names}: removes every row", destructive=True, lock_heavy=True)
        if isinstance(tree, exp.Merge):
            return _Outcome(3, "merge", f"MERGE INTO {_name(tree.this)}: rewrites existing rows from another table",
                            destructive=True)
        if isinstance(tree, exp.Query):
            for call in tree.find_all(exp.Anonymous):  # SELECT set_config('lock_timeout', '0', ...)
                args = call.expressions
                if call.name.lower() == "set_config" and len(args) >= 2 and args[0].name.lower() == "lock_timeout":
                    self.lock_timeout_ms, self.lock_timeout_line = _duration_ms(args[1].name), st.line
                    return _Outcome(1, "setting", f"set_config lock_timeout: {args[1].name!r}")
            return _Outcome(1, "read-only", "read-only query")
        if isinstance(tree, exp.Pragma):
            return _Outcome(1, "pragma", "PRAGMA: reads or sets a connection setting; no schema or data change")
        if isinstance(tree, exp.Set):
            return self.set_statement(st, tree)
        if isinstance(tree, (exp.Comment, exp.Analyze, exp.Grant)):
            return _Outcome(1, tree.key, f"{st.first_word}: no schema or data change")
        return self.unreadable(st, "unclassified", f"{type(tree).__name__} statements are not classified by the linter")

    def unreadable(self, st: Statement, kind: str, why: str) -> _Outcome:
        level_word = "cannot be read" if kind == "unparsable" else "cannot be classified"
        self.finding("warning", kind, st.line, f"statement {st.index} {level_word} ({why}): counted as Category {HIGHEST}")
        self.schema.doubt = self.schema.doubt or f"statement {st.index} of {self.lint.migration.label} could not be read"
        return _Outcome(HIGHEST, kind, f"{level_word}: {why}; counted as the highest risk", lock_heavy=True)

    def classify_by_tokens(self, st: Statement, tree: exp.Expression | None) -> _Outcome:
        """Statements sqlglot reads only as a ``Command`` (or not at all), recognised by their keywords."""
        tokens = _tokens(st.sql, self.dialect)
        w = _words(tokens)
        if len(w) >= 2 and w[0] == "CREATE" and "TRIGGER" in w[1:4]:
            return self.sqlite_trigger(st, tokens)
        if w[:2] == ["CREATE", "FUNCTION"] or w[:2] == ["CREATE", "PROCEDURE"]:
            return _Outcome(1, "create-function", f"CREATE {w[1]}: a new routine; no data change")
        if w[:4] in (["CREATE", "OR", "REPLACE", "FUNCTION"], ["CREATE", "OR", "REPLACE", "PROCEDURE"]):
            return _Outcome(2, "replace-function", "CREATE OR REPLACE: may replace a routine that triggers or queries use")
        if w[:2] == ["CREATE", "EXTENSION"]:
            return _Outcome(1, "create-extension", "CREATE EXTENSION: new functions and types; no data change")
        if w[:1] == ["RESET"] and "LOCK_TIMEOUT" in w[1:2]:
            self.lock_timeout_ms, self.lock_timeout_line = self.runner_lock_timeout_ms, st.line
            return _Outcome(1, "setting", "RESET lock_timeout: back to the runner's setting")
        if w[:1] == ["RESET"]:
            return _Outcome(1, "setting", "RESET: a session setting; no schema or data change")
        if w[:1] == ["VACUUM"] or w[:1] == ["CLUSTER"] or w[:1] == ["REINDEX"]:
            heavy = w[0] == "CLUSTER" or "FULL" in w or (w[0] == "REINDEX" and "CONCURRENTLY" not in w)
            return _Outcome(1, w[0].lower(), f"{w[0]}: maintenance; no schema or data change", lock_heavy=heavy)
        if w[:1] == ["LOCK"]:
            return _Outcome(1, "lock", "LOCK TABLE: no schema or data change, but blocks others", lock_heavy=True)
        if w[:2] == ["ALTER", "TABLE"] and "VALIDATE" in [t.text.upper() for t in tokens]:
            return _Outcome(1, "validate-constraint", "VALIDATE CONSTRAINT: checks existing rows; no change")
        if w[:2] == ["ALTER", "TYPE"] and "ADD" in w and "VALUE" in [t.text.upper() for t in tokens]:
            return _Outcome(1, "alter-type", "ALTER TYPE ... ADD VALUE: a new enum value; existing rows unchanged")
        if w[:2] == ["REPLACE", "INTO"]:
            table = tokens[2].text.lower() if len(tokens) > 2 else "?"
            return _Outcome(3, "insert-replace", f"REPLACE INTO {table}: overwrites existing rows that collide",
                            destructive=True)
        if tree is None:
            return self.unreadable(st, "unparsable", "sqlglot cannot parse it")
        return self.unreadable(st, "unclassified", "sqlglot reads it only as an opaque command")

    def sqlite_trigger(self, st: Statement, tokens: list) -> _Outcome:
        """``CREATE TRIGGER ... ON t ... BEGIN ...; END``: the table, and every body statement parsed."""
        on = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.ON), None)
        begin = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.BEGIN), None)
        if on is None or begin is None or on + 1 >= len(tokens) or tokens[-1].text.upper() != "END":
            return self.unreadable(st, "unparsable", "a CREATE TRIGGER without ON table ... BEGIN ... END")
        name_tokens = tokens[on + 1: begin]
        table = (name_tokens[2] if len(name_tokens) > 2 and name_tokens[1].token_type == TokenType.DOT
                 else name_tokens[0]).text.lower()
        body = st.sql[tokens[begin].end + 1: tokens[-1].start]
        for inner in split(body, self.dialect, source=f"trigger at line {st.line}"):
            if inner.parse(self.dialect) is None:
                return self.unreadable(st, "unparsable", f"trigger body statement {_short(inner.sql, 60)!r}")
        return self.trigger(st, table)

    def trigger(self, st: Statement, table: str) -> _Outcome:
        if not self.check_table(st, table, "trigger", view_ok=True):
            return _Outcome(1, "create-trigger", f"trigger on {table}, which does not exist: it will fail")
        if self.existed(table):
            return _Outcome(2, "create-trigger", f"trigger on existing table {table}: every write to it now also runs "
                                                 "the trigger (writes may fail or change other rows)", lock_heavy=True)
        return _Outcome(1, "create-trigger", f"trigger on {table}, a table created in this migration")

    def set_statement(self, st: Statement, tree: exp.Set) -> _Outcome:
        for item in tree.expressions:
            eq = item.this
            if isinstance(eq, exp.EQ) and _name(eq.this) == "lock_timeout":
                value = eq.expression
                ms = _duration_ms(value.name if value is not None else "")
                if isinstance(value, exp.Var) and value.name.upper() == "DEFAULT":
                    ms = self.runner_lock_timeout_ms
                self.lock_timeout_ms, self.lock_timeout_line = ms, st.line
                shown = "the runner's setting" if ms == self.runner_lock_timeout_ms else (
                    "disabled (0)" if ms == 0 else f"{ms} ms" if ms is not None else value.sql())
                return _Outcome(1, "setting", f"SET lock_timeout: {shown}")
        return _Outcome(1, "setting", "SET: a session setting; no schema or data change")

    # CREATE ...
    def create(self, st: Statement, tree: exp.Create) -> _Outcome:
        kind = (tree.args.get("kind") or "").upper()
        if kind == "TABLE":
            return self.create_table(st, tree)
        if kind == "INDEX":
            return self.create_index(st, tree)
        if kind == "VIEW":
            self.schema.views.add(_name(tree.this))
            return _Outcome(1, "create-view", f"new view {_name(tree.this)}")
        if kind == "TRIGGER":
            props = tree.args.get("properties")
            trig = props.find(exp.TriggerProperties) if props is not None else None
            table = _name(trig.args.get("table")) if trig is not None else ""
            return self.trigger(st, table) if table else self.unreadable(st, "unclassified", "trigger without a table")
        if kind in ("FUNCTION", "PROCEDURE"):
            if tree.args.get("replace"):
                return _Outcome(2, "replace-function", f"CREATE OR REPLACE {kind}: may replace a routine that "
                                                        "triggers or queries use")
            return _Outcome(1, "create-function", f"CREATE {kind}: a new routine; no data change")
        if kind in ("SEQUENCE", "TYPE", "SCHEMA", "DOMAIN"):
            return _Outcome(1, f"create-{kind.lower()}", f"new {kind.lower()}; no data change")
        return self.unreadable(st, "unclassified", f"CREATE {kind or '?'} is not classified by the linter")

    def create_table(self, st: Statement, tree: exp.Create) -> _Outcome:
        name = _name(tree.this)
        query = tree.expression if isinstance(tree.expression, exp.Query) else None
        info = TableInfo(name, {})
        schema_node = tree.this if isinstance(tree.this, exp.Schema) else None
        if schema_node is not None:
            for item in schema_node.expressions:
                if isinstance(item, exp.ColumnDef):
                    col = _column_info(item)
                    info.columns[col.name] = col
            self._table_constraints(st, name, schema_node, info)
        if query is not None:
            info.columns = self._query_columns(query)
        existed = self.schema.exists(name)
        if existed and tree.args.get("exists"):
            return _Outcome(1, "create-table", f"CREATE TABLE IF NOT EXISTS {name}: it exists already, nothing changes")
        self.schema.tables[name] = info
        self.created.add(name)
        if query is not None:
            sources = sorted({_name(t) for t in query.find_all(exp.Table)} - {""})
            if sources:
                return _Outcome(3, "create-table-as", f"new table {name} filled from {', '.join(sources)}: copies existing data")
            return _Outcome(1, "create-table-as", f"new table {name} from a query that reads no table")
        return _Outcome(1, "create-table", f"new table {name}")

    def _query_columns(self, query: exp.Query) -> dict[str, ColumnInfo] | None:
        cols: dict[str, ColumnInfo] = {}
        for sel in query.selects:
            if isinstance(sel, exp.Star):
                sources = [_name(t) for t in query.find_all(exp.Table)]
                if len(sources) != 1 or self.schema.tables.get(sources[0]) is None:
                    return None
                known = self.schema.tables[sources[0]].columns
                if known is None:
                    return None
                cols.update({k: copy.copy(v) for k, v in known.items()})
            elif sel.alias_or_name:
                cols[sel.alias_or_name.lower()] = ColumnInfo(sel.alias_or_name.lower())
            else:
                return None
        return cols

    def _table_constraints(self, st: Statement, name: str, schema_node: exp.Schema, info: TableInfo) -> None:
        """Record a new table's foreign keys and named constraints, and check what they name."""
        own = set(info.columns or {})
        for item in schema_node.expressions:
            if isinstance(item, exp.ColumnDef):
                for k in _column_kinds(item):
                    if isinstance(k, exp.Reference):
                        ref_table, ref_cols = _reference(k)
                        self._check_reference(st, name, own, ref_table, ref_cols)
                        info.foreign_keys.append(ForeignKeyInfo((_name(item.this),), ref_table, ref_cols))
                continue
            cname = _name(item.this) if isinstance(item, exp.Constraint) else ""
            parts = item.expressions if isinstance(item, exp.Constraint) else [item]
            for part in parts:
                kind, columns = self._constraint_parts(part)
                if kind is None:
                    continue
                missing = [c for c in columns if c not in own]
                if missing:
                    self.unknown(st, f"{kind} constraint of new table {name} names column(s) "
                                     f"{', '.join(missing)}, which the table does not define")
                if cname:
                    info.constraints[cname] = kind
                if isinstance(part, exp.ForeignKey):
                    ref_table, ref_cols = _reference(part.args.get("reference"))
                    self._check_reference(st, name, own, ref_table, ref_cols)
                    info.foreign_keys.append(ForeignKeyInfo(tuple(columns), ref_table, ref_cols, cname or None))

    def _constraint_parts(self, part: exp.Expression) -> tuple[str | None, list[str]]:
        if isinstance(part, exp.ForeignKey):
            return "FOREIGN KEY", list(_ident_list(part.expressions))
        if isinstance(part, exp.PrimaryKey):
            return "PRIMARY KEY", [_name(e) for e in part.expressions]
        if isinstance(part, exp.UniqueColumnConstraint):
            target = part.this
            return "UNIQUE", list(_ident_list(target.expressions)) if isinstance(target, exp.Schema) else []
        if isinstance(part, exp.CheckColumnConstraint):
            return "CHECK", sorted({_name(c) for c in part.find_all(exp.Column)})
        return None, []

    def _check_reference(self, st: Statement, table: str, own: set[str], ref_table: str, ref_cols: tuple[str, ...]) -> None:
        if ref_table == table:
            missing = [c for c in ref_cols if c not in own]
            if missing:
                self.unknown(st, f"foreign key of {table} references {table}({', '.join(missing)}), which it does not define")
            return
        if self.check_table(st, ref_table, f"foreign key of {table}"):
            self.check_columns(st, ref_table, ref_cols, f"foreign key of {table}")

    def create_index(self, st: Statement, tree: exp.Create) -> _Outcome:
        index = tree.this
        name = _name(index.this) if isinstance(index, exp.Index) else ""
        table = _name(index.args.get("table")) if isinstance(index, exp.Index) else ""
        unique = bool(tree.args.get("unique"))
        concurrently = bool(tree.args.get("concurrently"))
        kind = "create-unique-index" if unique else "create-index"
        columns = sorted({_name(c) for c in index.find_all(exp.Column)}) if isinstance(index, exp.Index) else []
        if not self.check_table(st, table, f"index {name}"):
            return _Outcome(1, kind, f"index {name} on {table}, which does not exist: it will fail")
        self.check_columns(st, table, columns, f"index {name}")
        if name:
            self.schema.indexes[name] = table
        existing = self.existed(table)
        if existing and self.engine.supports_concurrent_index and not concurrently:
            self.finding("warning", "index-not-concurrent", st.line,
                         f"CREATE {'UNIQUE ' if unique else ''}INDEX {name} on existing table {table} blocks writes to it "
                         "while the index builds: use CREATE INDEX CONCURRENTLY, alone in its migration "
                         f"(a NNN_name.{self.engine.variant_suffix}.sql variant)")
        heavy = existing and not concurrently
        if unique and existing:
            return _Outcome(2, kind, f"unique index {name} on existing table {table}: existing rows may violate it",
                            lock_heavy=heavy)
        where = f"existing table {table}" if existing else f"{table} (created in this migration)"
        return _Outcome(1, kind, f"{'unique ' if unique else ''}index {name} on {where}", lock_heavy=heavy)

    # DROP ...
    def drop(self, st: Statement, tree: exp.Drop) -> _Outcome:
        kind = (tree.args.get("kind") or "").upper()
        names = [_name(t) for t in _dropped(tree)]
        if kind == "TABLE":
            outcomes = []
            for name in names:
                self.schema.indexes = {i: t for i, t in self.schema.indexes.items() if t != name}
                existed = self.schema.exists(name)
                self.schema.tables.pop(name, None)
                if name in self.created and not self.before.exists(name):
                    outcomes.append(_Outcome(1, "drop-table", f"drops {name}, a table created in this migration"))
                elif existed is False and tree.args.get("exists"):
                    outcomes.append(_Outcome(1, "drop-table", f"DROP TABLE IF EXISTS {name}: no such table, nothing dropped"))
                else:
                    outcomes.append(_Outcome(2, "drop-table", f"drops table {name} and every row in it",
                                             destructive=True, lock_heavy=True))
            return _merge(outcomes)
        if kind == "INDEX":
            for name in names:
                self.schema.indexes.pop(name, None)
            return _Outcome(1, "drop-index", f"drops index {', '.join(names)}: no data lost (queries may slow down)",
                            lock_heavy=not tree.args.get("concurrently"))
        if kind == "VIEW":
            self.schema.views -= set(names)
            return _Outcome(2, "drop-view", f"drops view {', '.join(names)}: its readers break")
        if kind in ("FUNCTION", "PROCEDURE", "TRIGGER", "SEQUENCE", "TYPE", "DOMAIN"):
            return _Outcome(2, f"drop-{kind.lower()}", f"drops {kind.lower()} {', '.join(names)}: what uses it breaks")
        return self.unreadable(st, "unclassified", f"DROP {kind or '?'} is not classified by the linter")

    # ALTER TABLE ...
    def alter(self, st: Statement, tree: exp.Alter) -> _Outcome:
        kind = (tree.args.get("kind") or "").upper()
        if kind == "INDEX":
            for action in tree.args.get("actions") or []:
                if isinstance(action, exp.AlterRename):
                    old, new = _name(tree.this), _name(action.this)
                    if old in self.schema.indexes:
                        self.schema.indexes[new] = self.schema.indexes.pop(old)
            return _Outcome(1, "alter-index", "ALTER INDEX: no data change")
        if kind != "TABLE":
            return self.unreadable(st, "unclassified", f"ALTER {kind or '?'} is not classified by the linter")
        table = _name(tree.this)
        if tree.args.get("exists") and self.schema.exists(table) is False:
            return _Outcome(1, "alter-table", f"ALTER TABLE IF EXISTS {table}: no such table, nothing changes")
        if not self.check_table(st, table, "ALTER TABLE"):
            return _Outcome(1, "alter-table", f"ALTER TABLE {table}, which does not exist: it will fail")
        outcomes = [self.alter_action(st, tree, table, action) for action in tree.args.get("actions") or []]
        return _merge(outcomes) if outcomes else self.unreadable(st, "unclassified", "ALTER TABLE without an action")

    def alter_action(self, st: Statement, tree: exp.Alter, table: str, action: exp.Expression) -> _Outcome:
        info = self.schema.tables.get(table)
        existing = self.existed(table)
        if isinstance(action, exp.ColumnDef):
            col = _column_info(action)
            rules = _column_constraints(action)
            for k in _column_kinds(action):
                if isinstance(k, exp.Reference):
                    ref_table, ref_cols = _reference(k)
                    self._check_reference(st, table, set(), ref_table, ref_cols)
                    if info is not None:
                        info.foreign_keys.append(ForeignKeyInfo((col.name,), ref_table, ref_cols))
            if info is not None and info.columns is not None:
                info.columns[col.name] = col
            self.added_columns.add((table, col.name))
            heavy = existing
            if not existing:
                return _Outcome(1, "add-column", f"ADD COLUMN {table}.{col.name} to a table created in this migration")
            if rules:
                return _Outcome(2, "add-column", f"ADD COLUMN {table}.{col.name} with a {'/'.join(rules)} constraint "
                                                 f"on existing table {table}: existing rows may violate it", lock_heavy=heavy)
            if not col.nullable and not col.has_default:
                return _Outcome(2, "add-column", f"ADD COLUMN {table}.{col.name} NOT NULL without a default: "
                                                 "fails on a non-empty table", lock_heavy=heavy)
            how = "NOT NULL with a default" if not col.nullable else "with a default" if col.has_default else "nullable"
            return _Outcome(1, "add-column", f"ADD COLUMN {table}.{col.name} {how}", lock_heavy=heavy)
        if isinstance(action, exp.Drop):
            dkind = (action.args.get("kind") or "").upper()
            if dkind == "COLUMN":
                cols = [_name(c) for c in _dropped(action)]
                if action.args.get("exists"):
                    absent = [c for c in cols if self.schema.column_exists(table, c) is False]
                    if absent and len(absent) == len(cols):
                        return _Outcome(1, "drop-column", f"DROP COLUMN IF EXISTS {', '.join(absent)}: "
                                                          f"no such column in {table}, nothing changes")
                else:
                    self.check_columns(st, table, cols, "DROP COLUMN")
                if info is not None and info.columns is not None:
                    for c in cols:
                        info.columns.pop(c, None)
                return _Outcome(2, "drop-column", f"drops column {', '.join(table + '.' + c for c in cols)} "
                                                  "and its data", destructive=existing, lock_heavy=existing)
            if dkind == "CONSTRAINT":
                outs = []
                for c in _dropped(action):
                    cname = _name(c)
                    ckind = info.constraints.pop(cname, None) if info is not None else None
                    if ckind == "FOREIGN KEY":
                        if info is not None:
                            info.foreign_keys = [fk for fk in info.foreign_keys if (fk.name or "").lower() != cname]
                        outs.append(_Outcome(3, "drop-constraint", f"drops foreign key {cname} of {table}: "
                                                                   "changes a foreign-key relationship", lock_heavy=existing))
                    elif ckind in ("UNIQUE", "CHECK"):
                        outs.append(_Outcome(1, "drop-constraint", f"drops {ckind} constraint {cname} of {table}: "
                                                                   "relaxes a rule, no data change", lock_heavy=existing))
                    else:
                        outs.append(_Outcome(2, "drop-constraint", f"drops constraint {cname} of {table} "
                                                                   f"({ckind or 'its kind is not known here'})",
                                             lock_heavy=existing))
                return _merge(outs)
            return self.unreadable(st, "unclassified", f"ALTER TABLE ... DROP {dkind or '?'}")
        if isinstance(action, exp.RenameColumn):
            old, new = _name(action.this), _name(action.args.get("to"))
            self.check_columns(st, table, [old], "RENAME COLUMN")
            if info is not None and info.columns is not None and old in info.columns:
                col = info.columns.pop(old)
                col.name = new
                info.columns[new] = col
            return _Outcome(2 if existing else 1, "rename-column",
                            f"renames {table}.{old} to {new}" + (": queries using the old name break" if existing else ""),
                            lock_heavy=existing)
        if isinstance(action, exp.AlterRename):
            new = _name(action.this)
            moved = self.schema.tables.pop(table, None)
            if moved is not None:
                moved.name = new
                self.schema.tables[new] = moved
            self.schema.indexes = {i: (new if t == table else t) for i, t in self.schema.indexes.items()}
            if table in self.created and not self.before.exists(table):
                self.created.add(new)
                return _Outcome(1, "rename-table", f"renames {table}, created in this migration, to {new}")
            return _Outcome(2, "rename-table", f"renames table {table} to {new}: queries using the old name break",
                            lock_heavy=existing)
        if isinstance(action, exp.AlterColumn):
            return self.alter_column(st, table, info, action, existing)
        if isinstance(action, exp.AddConstraint):
            return _merge([self.add_constraint(st, tree, table, info, c, existing) for c in action.expressions])
        return self.unreadable(st, "unclassified", f"ALTER TABLE action {type(action).__name__}")

    def alter_column(self, st: Statement, table: str, info: TableInfo | None, action: exp.AlterColumn,
                     existing: bool) -> _Outcome:
        col = _name(action.this)
        self.check_columns(st, table, [col], "ALTER COLUMN")
        known = info.columns.get(col) if info is not None and info.columns is not None else None
        where = f"{table}.{col}"
        if action.args.get("dtype") is not None:
            new = action.args["dtype"]
            cat, reason = _type_change(known.type if known else None, new, where, self.dialect)
            if known:
                known.type = new
            if not existing:
                cat = 1
            return _Outcome(cat, "alter-column-type", reason, lock_heavy=existing)
        if action.args.get("allow_null") is False and not action.args.get("drop"):
            if known:
                known.nullable = False
            return _Outcome(2 if existing else 1, "set-not-null",
                            f"SET NOT NULL on {where}" + (": fails if existing rows hold NULL" if existing else ""),
                            lock_heavy=existing)
        if action.args.get("drop") and action.args.get("allow_null"):
            if known:
                known.nullable = True
            return _Outcome(1, "drop-not-null", f"DROP NOT NULL on {where}: relaxes a rule", lock_heavy=existing)
        if action.args.get("default") is not None or action.args.get("drop"):
            if known:
                known.has_default = action.args.get("default") is not None
            return _Outcome(1, "column-default", f"changes the default of {where}: existing rows unchanged",
                            lock_heavy=existing)
        return self.unreadable(st, "unclassified", "an ALTER COLUMN action the linter does not know")

    def add_constraint(self, st: Statement, tree: exp.Alter, table: str, info: TableInfo | None,
                       node: exp.Expression, existing: bool) -> _Outcome:
        cname = _name(node.this) if isinstance(node, exp.Constraint) else ""
        parts = node.expressions if isinstance(node, exp.Constraint) else [node]
        outs = []
        for part in parts:
            kind, columns = self._constraint_parts(part)
            if kind is None:
                outs.append(self.unreadable(st, "unclassified", f"constraint {type(part).__name__}"))
                continue
            self.check_columns(st, table, columns, f"{kind} constraint {cname}".strip())
            if cname and info is not None:
                info.constraints[cname] = kind
            label = f"{kind} constraint {cname + ' ' if cname else ''}on {table}({', '.join(columns)})"
            if kind == "FOREIGN KEY":
                ref_table, ref_cols = _reference(part.args.get("reference"))
                self._check_reference(st, table, set(), ref_table, ref_cols)
                new_fk = ForeignKeyInfo(tuple(columns), ref_table, ref_cols, cname or None)
                before = [fk for fk in (info.foreign_keys if info is not None else []) if fk.columns == tuple(columns)]
                if info is not None:
                    info.foreign_keys.append(new_fk)
                if before:
                    outs.append(_Outcome(3, "add-constraint", f"{label} → {ref_table}: the columns already had foreign key "
                                                              f"{before[0].describe()}; changes a foreign-key relationship",
                                         lock_heavy=existing))
                    continue
            if not existing:
                outs.append(_Outcome(1, "add-constraint", f"{label}, a table created in this migration"))
            elif tree.args.get("not_valid"):
                outs.append(_Outcome(1, "add-constraint", f"{label} NOT VALID: existing rows are not checked",
                                     lock_heavy=True))
            else:
                outs.append(_Outcome(2, "add-constraint", f"{label} on an existing table: existing rows may violate it",
                                     lock_heavy=True))
        return _merge(outs)

    # data
    def insert(self, st: Statement, tree: exp.Insert) -> _Outcome:
        table = _name(tree.this)
        self.check_table(st, table, "INSERT", view_ok=True)
        overwrite = (tree.args.get("alternative") or "").upper() == "REPLACE" or (
            tree.args.get("conflict") is not None and "UPDATE" in tree.args["conflict"].sql().upper())
        source = tree.expression
        sources = sorted({_name(t) for t in source.find_all(exp.Table)} - {""}) if isinstance(source, exp.Query) else []
        if sources:
            return _Outcome(3, "insert-select", f"INSERT INTO {table} ... SELECT FROM {', '.join(sources)}: "
                                                "moves data between tables", destructive=overwrite)
        if overwrite:
            return _Outcome(3, "insert-replace", f"INSERT into {table} that overwrites colliding rows", destructive=True)
        return _Outcome(1, "insert-values", f"INSERT INTO {table} ... VALUES: adds rows, existing rows untouched")

    def update(self, st: Statement, tree: exp.Update) -> _Outcome:
        table = _name(tree.this)
        self.check_table(st, table, "UPDATE", view_ok=True)
        cols = [_name(eq.this) for eq in tree.expressions if isinstance(eq, exp.EQ)]
        self.check_columns(st, table, cols, "UPDATE")
        overwritten = [c for c in cols if (table, c) not in self.added_columns]
        reads = sorted({_name(t) for t in tree.find_all(exp.Table)} - {table, ""})
        reason = f"UPDATE {table} SET {', '.join(cols)}: transforms existing data"
        if reads:
            reason += f" (reads {', '.join(reads)})"
        if overwritten:
            reason += f"; overwrites the old values of {', '.join(overwritten)}"
        else:
            reason += " (fills columns added in this migration; no old value is lost)"
        return _Outcome(3, "update", reason, destructive=bool(overwritten))

    # the table rebuild (create new, copy, drop, rename)
    def rebuild_step(self, st: Statement, tree: exp.Expression, table: str) -> _Outcome:
        """A statement that is part of rebuilding ``table``; the model follows it, the category is 2
        (3 when the new definition changes the table's foreign keys), destructive when columns or
        rows of the old table do not survive."""
        old = self.before.tables.get(table)
        if isinstance(tree, exp.Create):
            self.create_table(st, tree)
            if _name(tree.this) == table:  # the old table's name made anew: the rebuilt table
                return self.rebuild_result(st, table, old, lock_heavy=False)
            return _Outcome(2, "table-rebuild", f"part of a rebuild of {table}: creates {_name(tree.this)}")
        if isinstance(tree, exp.Insert):
            return _Outcome(2, "table-rebuild", f"part of a rebuild of {table}: copies rows into {_name(tree.this)}")
        if isinstance(tree, exp.Alter):
            self.alter(st, tree)
            return self.rebuild_result(st, table, old, lock_heavy=True)
        if isinstance(tree, exp.Drop):
            name = _name(_dropped(tree)[0]) if _dropped(tree) else table
            self.drop(st, tree)
            if name != table:
                return _Outcome(2, "table-rebuild", f"part of a rebuild of {table}: drops the work table {name}")
            return _Outcome(2, "table-rebuild", f"part of a rebuild of {table}: drops the old table", lock_heavy=True)
        return _Outcome(2, "table-rebuild", f"part of a rebuild of {table}")

    def rebuild_result(self, st: Statement, table: str, old: TableInfo | None, *, lock_heavy: bool) -> _Outcome:
        new = self.schema.tables.get(table)
        reasons = [f"part of a rebuild of {table} (create new, copy, drop, rename)"]
        cat, destructive = 2, False
        if old is not None and new is not None and old.columns is not None and new.columns is not None:
            lost = [c for c in old.columns if c not in new.columns]
            if lost:
                destructive = True
                reasons.append(f"the rebuilt table drops column(s) {', '.join(lost)} and their data")
        if old is not None and new is not None and {(f.columns, f.table, f.ref_columns) for f in old.foreign_keys} != {
                (f.columns, f.table, f.ref_columns) for f in new.foreign_keys}:
            cat = 3
            was = ", ".join(f.describe() for f in old.foreign_keys) or "none"
            now = ", ".join(f.describe() for f in new.foreign_keys) or "none"
            reasons.append(f"changes its foreign keys (was {was}; now {now})")
        if not self._rows_copied(table):
            destructive = True
            reasons.append("no statement copies the old rows into the new table")
        return _Outcome(cat, "table-rebuild", "; ".join(reasons), destructive=destructive, lock_heavy=lock_heavy)

    def _rows_copied(self, table: str) -> bool:
        """Does a statement of the rebuild copy rows into the table that ends up named ``table``?"""
        members = [(st, tree) for st, tree in zip(self.statements, self.trees) if self.rebuilds.get(st.index) == table]
        final = {table}
        for _, tree in members:
            if isinstance(tree, exp.Alter):
                final |= {_name(tree.this) for a in tree.args.get("actions") or []
                          if isinstance(a, exp.AlterRename) and _name(a.this) == table}
        for _, tree in members:
            if isinstance(tree, (exp.Insert, exp.Create)) and isinstance(tree.expression, exp.Query):
                sources = {_name(t) for t in tree.expression.find_all(exp.Table)}
                if _name(tree.this) in final and sources - {""}:
                    return True
        return False


def _merge(outcomes: list[_Outcome]) -> _Outcome:
    if len(outcomes) == 1:
        return outcomes[0]
    top = max(o.category for o in outcomes)
    kinds = []
    for o in outcomes:
        if o.kind not in kinds:
            kinds.append(o.kind)
    return _Outcome(top, "+".join(kinds), "; ".join(o.reason for o in outcomes),
                    destructive=any(o.destructive for o in outcomes), lock_heavy=any(o.lock_heavy for o in outcomes))


_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def _duration_ms(text: str) -> int | None:
    """A PostgreSQL duration setting (``0``, ``5s``, ``'1min'``, ``500``) in milliseconds."""
    raw = text.strip().strip("'").strip().lower()
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyz").strip()
    unit = raw[len(number):].strip() or "ms"
    try:
        value = float(number)
    except ValueError:
        return None
    return int(value * _UNITS_MS[unit]) if unit in _UNITS_MS else None


# -- the folder: names and numbers --------------------------------------------------------------
def _listed(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.iterdir())
            if not (p.name.startswith(".") or p.is_dir() or p.suffix.lower() in (".md", ".txt"))]


def scan_folder(folder: str | Path) -> tuple[list[Migration], list[Finding]]:
    """The migrations in ``folder`` and, as findings rather than errors, whatever breaks the
    ``{number}_{description}.sql`` convention: misnamed files, repeated numbers, gaps, rollbacks
    or engine variants without their migration. ``BadInput`` only when the folder is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"migrations folder not found: {folder}")
    findings: list[Finding] = []
    found = _scan_names(folder, _NAME, "migration", "NNN_description.sql", findings)
    rollbacks: dict[int, tuple[str, Script]] = {}
    if (folder / "rollbacks").is_dir():
        rollbacks = _scan_names(folder / "rollbacks", _ROLLBACK, "rollback", "NNN_rollback_description.sql", findings)
    for number, (_, script) in sorted(rollbacks.items()):
        if number not in found:
            findings.append(Finding("error", "orphan-rollback", str(script.path), None,
                                    f"rollback for migration {number:03d}, which does not exist"))
    numbers = sorted(found)
    for prev, nxt in zip(numbers, numbers[1:]):
        if nxt - prev > 1:
            missing = f"{prev + 1:03d}" if nxt - prev == 2 else f"{prev + 1:03d}..{nxt - 1:03d}"
            findings.append(Finding("error", "number-gap", str(found[nxt][1].path), None,
                                    f"migration numbers jump from {prev:03d} to {nxt:03d}: {missing} is missing"))
    migrations = [Migration(n, name, script, rollbacks[n][1] if n in rollbacks else None)
                  for n, (name, script) in sorted(found.items())]
    return migrations, findings


def _scan_names(folder: Path, pattern: Any, what: str, shape: str, findings: list[Finding]) -> dict[int, tuple[str, Script]]:
    base: dict[int, tuple[str, Path]] = {}
    variants: dict[int, dict[str, Path]] = {}
    for path in _listed(folder):
        m = pattern.match(path.name)
        if not m:
            findings.append(Finding("error", "bad-name", str(path), None, f"{what} file name does not look like {shape}"))
            continue
        number, variant = int(m["number"]), m["variant"]
        if variant is not None:
            if variant not in VARIANTS:
                findings.append(Finding("error", "bad-name", str(path), None,
                                        f"unknown engine variant {variant!r} (expected one of {', '.join(VARIANTS)})"))
            elif variant in variants.setdefault(number, {}):
                findings.append(Finding("error", "duplicate-number", str(path), None,
                                        f"two {variant} variants of {what} {number:03d}"))
            else:
                variants[number][variant] = path
            continue
        if number in base:
            findings.append(Finding("error", "duplicate-number", str(path), None,
                                    f"two {what}s numbered {number:03d}: {base[number][1].name} and {path.name} "
                                    f"(only {base[number][1].name} is linted)"))
            continue
        base[number] = (m["name"], path)
    for number, found in variants.items():
        if number not in base:
            for path in found.values():
                findings.append(Finding("error", "bad-name", str(path), None,
                                        f"engine variant without its {what} {number:03d}_*.sql"))
    return {n: (name, Script(p, variants.get(n, {}))) for n, (name, p) in base.items()}


# -- one migration -----------------------------------------------------------------------------
def _risk_line(path: Path) -> int | None:
    """Line of the header's ``-- Risk Level:`` (the header comment block, as ``sqltext.header`` reads it)."""
    for no, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("--"):
            return None
        key, sep, _ = line[2:].partition(":")
        if sep and key.strip().lower().replace(" ", "_") == "risk_level":
            return no
    return None


def lint_migration(m: Migration, engine: "Engine", schema: SchemaModel, *,
                   runner_lock_timeout_ms: int | None = None) -> MigrationLint:
    """Classify the file of ``m`` that runs on ``engine``, against ``schema`` (updated in place to
    the schema after it), with the findings about that one migration."""
    path, dialect = m.script.source_for(engine)
    unit = MigrationLint(m, engine.name, path, dialect, m.risk_level)
    try:
        statements, dialect = m.script.statements_for(engine)
    except BadInput as exc:
        unit.statements.append(Verdict(1, 1, "", "unparsable", HIGHEST, f"the file cannot be read: {exc}"))
        unit.findings.append(Finding("error", "unparsable", str(path), None, f"the file cannot be read as SQL: {exc}"))
        schema.doubt = schema.doubt or f"{m.label} could not be read"
    else:
        _FileLinter(unit, schema, statements, engine=engine, runner_lock_timeout_ms=runner_lock_timeout_ms).run()
    _risk_findings(unit)
    return unit


def _risk_findings(unit: MigrationLint) -> None:
    m, file = unit.migration, str(unit.file)
    header_file = m.path  # the header that declares the risk is the shared file's
    line = _risk_line(header_file)
    cat = unit.category
    top = next((v for v in unit.statements if v.category == cat), None)
    why = f"statement {top.index} (line {top.line}): {top.reason}" if top else "no statement"
    declared = unit.declared_category
    if unit.declared_risk is None:
        unit.findings.append(Finding("warning", "risk-missing", str(header_file), None,
                                     "the header declares no Risk Level (-- Risk Level: LOW|MEDIUM|HIGH)"))
    elif declared is None:
        unit.findings.append(Finding("warning", "risk-missing", str(header_file), line,
                                     f"Risk Level {unit.declared_risk!r} is not one of LOW, MEDIUM, HIGH"))
    if cat > (declared or 1) or (declared is None and cat > 1):
        said = f"declares {unit.declared_risk} (Category {declared})" if declared else "declares no usable Risk Level"
        unit.findings.append(Finding("error", "risk-understated", str(header_file), line,
                                     f"{said} but is Category {cat} ({CATEGORY_NAMES[cat]}), so at least "
                                     f"{CATEGORY_RISK[cat]}: {why}"))
    if cat >= 2 and m.rollback is None:
        unit.findings.append(Finding("error", "rollback-missing", file, None,
                                     f"a Category {cat} migration needs a rollback script: "
                                     f"rollbacks/{m.version}_rollback_{m.name}.sql ({why})"))


# -- the sequence ------------------------------------------------------------------------------
def _lock_timeout_ms(target: "Target | None") -> int:
    from .target import DEFAULT_LOCK_TIMEOUT_S

    return int((target.lock_timeout_s if target is not None else DEFAULT_LOCK_TIMEOUT_S) * 1000)


def lint_sequence(migrations: list[Migration], engine: "Engine", *, start: SchemaModel | None = None,
                  from_database: tuple[set[str], SchemaModel] | None = None,
                  target: "Target | None" = None) -> list[MigrationLint]:
    """Lint every migration in order as it runs on ``engine``. The schema model starts empty (or
    ``start``); with ``from_database=(applied versions, model of the database)``, the pending
    migrations are checked against the database's real schema instead of the replayed one."""
    schema = start.copy() if start is not None else SchemaModel()
    units = []
    switched = False
    for m in migrations:
        if from_database is not None and not switched and m.version not in from_database[0]:
            schema = from_database[1].copy()  # the real schema: earlier doubts no longer matter
            switched = True
        unit = lint_migration(m, engine, schema, runner_lock_timeout_ms=_lock_timeout_ms(target))
        if from_database is not None:
            unit.applied = m.version in from_database[0]
        units.append(unit)
    return units


def _database_state(target: "Target", migrations: list[Migration]) -> tuple[set[str], SchemaModel]:
    with target.engine().connect() as conn:
        status = mig.status(conn, migrations, target.kind)
        applied = {a.version for a in status.applied}
        if status.adoptable:
            applied.add(migrations[0].version)
        return applied, schema_from_database(conn)


# -- the rollback check on a scratch database ------------------------------------------------------
def check_rollbacks(units: list[MigrationLint], engine: "Engine", target: "Target | None") -> None:
    """Replay the migrations from empty on a scratch database; for each one with a rollback script,
    apply it, apply its rollback, compare schema snapshots with the one before, and apply it again
    to go on. Results go into each unit's ``rollback_check`` and findings."""
    from .migrate import prepare

    try:
        with engine.scratch_database(target, "lint") as scratch:
            stopped: str | None = None
            for u in units:
                if stopped:
                    u.rollback_check = {"status": "not checked", "detail": stopped}
                    continue
                m = u.migration
                if all(v.category is None for v in u.statements):  # already reported as "empty"
                    u.rollback_check = {"status": "skipped", "detail": "the migration has no statements to run"}
                    continue
                try:
                    forward = prepare(m.script, engine)
                    backward = prepare(m.rollback, engine) if m.rollback else None
                except BadInput as exc:
                    u.findings.append(Finding("error", "not-runnable", str(u.file), None, str(exc)))
                    stopped = f"{m.label} cannot run"
                    u.rollback_check = {"status": "failed", "detail": str(exc)}
                    continue
                if backward is not None:
                    with _connect(scratch) as conn:
                        before = _snapshot(conn, engine)
                failure = _apply(scratch, forward, m, "migration")
                if failure:
                    u.findings.append(Finding("error", "apply-failed", str(u.file), None,
                                              f"fails on a scratch database built from the migrations before it: {failure}"))
                    u.rollback_check = {"status": "failed", "detail": failure}
                    stopped = f"{m.label} failed on the scratch database"
                    continue
                if backward is None:
                    u.rollback_check = {"status": "no rollback", "detail": ""}
                    continue
                failure = _apply(scratch, backward, m, "rollback")
                if failure:
                    u.findings.append(Finding("error", "rollback-failed", str(m.rollback.path), None,
                                              f"the rollback fails right after its migration: {failure}"))
                    u.rollback_check = {"status": "failed", "detail": failure}
                    stopped = f"the rollback of {m.label} failed on the scratch database"
                    continue
                with _connect(scratch) as conn:
                    after = _snapshot(conn, engine)
                diffs = _compare(before, after)
                if diffs:
                    shown = "; ".join(diffs[:5]) + (f"; and {len(diffs) - 5} more" if len(diffs) > 5 else "")
                    u.findings.append(Finding("error", "rollback-mismatch", str(m.rollback.path), None,
                                              f"applying {m.label} and then its rollback does not bring back the "
                                              f"schema before it: {shown}"))
                    u.rollback_check = {"status": "failed", "detail": shown}
                else:
                    u.rollback_check = {"status": "passed", "detail": "schema after migration + rollback equals the schema before"}
                failure = _apply(scratch, forward, m, "migration")
                if failure:
                    if not diffs:
                        u.findings.append(Finding("error", "rollback-mismatch", str(m.rollback.path), None,
                                                  f"after its rollback, {m.label} cannot be applied again: {failure}"))
                    stopped = f"{m.label} could not be re-applied after its rollback"
    except (NotImplementedError, BadInput) as exc:  # an engine with servers, and no server given
        for u in units:
            if u.rollback_check.get("status") == "not run":
                u.rollback_check = {"status": "skipped", "detail": f"no scratch database: {exc}"}
    except (RunFailed, sa.exc.SQLAlchemyError, OSError) as exc:  # e.g. the role may not CREATE DATABASE
        detail = f"cannot make a scratch database: {str(getattr(exc, 'orig', None) or exc).strip().splitlines()[0]}"
        for u in units:
            if u.rollback_check.get("status") == "not run":
                u.rollback_check = {"status": "skipped", "detail": detail}
                if u.migration.rollback is not None:
                    u.findings.append(Finding("warning", "rollback-unchecked", str(u.migration.rollback.path), None, detail))


@contextlib.contextmanager
def _connect(target: "Target") -> Iterator[sa.Connection]:
    with target.engine().connect() as conn:
        yield conn


def _apply(target: "Target", prepared: list, m: Migration, what: str) -> str | None:
    """Run a prepared script on the scratch database in one transaction; the failure, or None."""
    from .migrate import run_in_transaction

    try:
        run_in_transaction(target, prepared, f"{m.label} ({what})", m.version, lambda conn: None)
    except MigrationFailed as exc:
        return f"statement {exc.statement_no} (line {exc.line}): {exc.cause}"
    return None


def _snapshot(conn: sa.Connection, engine: "Engine") -> Any:
    from . import inventory

    return inventory.schema_snapshot(conn, engine)


def _compare(before: Any, after: Any) -> list[str]:
    from . import inventory

    return inventory.compare_schemas(before, after)


# -- the whole folder --------------------------------------------------------------------------
def lint(folder: str | Path, *, target: "Target | None" = None, engine: "Engine | None" = None,
         files: list[str | Path] | None = None, check_rollback: bool = True) -> LintReport:
    """Lint a migrations folder.

    With ``target``: the files that run on its engine, the pending ones checked against its real
    schema. Without: the shared files as SQLite and any ``.postgresql.sql`` variants as
    PostgreSQL (or only ``engine``'s files when given). ``files`` limits the report to those
    files (the others are still read, in order, for the schema model). ``check_rollback`` replays
    the migrations on a scratch database (an SQLite temporary file; a scratch database on the
    target's PostgreSQL server) to check that each rollback restores the schema.
    """
    from .engines import ENGINES

    folder = Path(folder)
    migrations, findings = scan_folder(folder)
    report = LintReport(str(folder), target.display if target is not None else None, [], findings)
    wanted = _wanted_files(folder, files)
    if target is not None:
        engine = target.kind
        state = _database_state(target, migrations)
        plans = [(engine, lint_sequence(migrations, engine, from_database=state, target=target), target)]
    elif engine is not None:
        plans = [(engine, lint_sequence(migrations, engine), None)]
    else:
        sqlite, pg = ENGINES["sqlite"], ENGINES["postgresql"]
        plans = [(sqlite, lint_sequence(migrations, sqlite), None)]
        if any(pg.variant_suffix in m.script.variants for m in migrations):
            units = lint_sequence(migrations, pg)
            plans.append((pg, [u for u in units if pg.variant_suffix in u.migration.script.variants], None))
    for kind, units, tgt in plans:
        if check_rollback and units:
            if kind.serverless or tgt is not None:  # a server engine needs one given (--db)
                check_rollbacks(units, kind, tgt)
            else:
                for u in units:
                    u.rollback_check = {"status": "skipped", "detail": f"no {kind.name} server given (--db)"}
        report.migrations.extend(u for u in units if wanted is None or _unit_files(u) & wanted)
    if wanted is not None:
        report.findings = [f for f in report.findings if Path(f.file).resolve() in wanted]
    return report


def _wanted_files(folder: Path, files: list[str | Path] | None) -> set[Path] | None:
    if not files:
        return None
    wanted = set()
    for f in files:
        p = Path(f)
        if not p.is_file():
            raise BadInput(f"no such migration file: {p}")
        if p.resolve().parent != folder.resolve():
            raise BadInput(f"{p} is not in the migrations folder {folder} (pass --migrations)")
        wanted.add(p.resolve())
    return wanted


def _unit_files(u: MigrationLint) -> set[Path]:
    return {u.migration.path.resolve(), Path(u.file).resolve()}


# -- the migrate gate --------------------------------------------------------------------------
def gate(pending: list[Migration], engine: "Engine", *, allow_risk: bool = False,
         target: "Target | None" = None) -> dict[str, Any]:
    """The lint report of the pending migrations (JSON-able), for the migrate step.

    Raises ``BadInput`` naming each migration and reason when a Category 2/3 migration has no
    rollback script or declares a lower risk than detected, unless ``allow_risk``: then the
    report carries ``"override": true`` and the reasons it overrode. The earlier migrations of
    the same folder are read for the schema model; with ``target``, the pending ones are checked
    against the target's real schema. Nothing is run. The refusal carries the report as
    ``exc.report``.
    """
    report: dict[str, Any] = {"engine": engine.name, "migrations": [], "refused": [], "override": False,
                              "overridden": [], "errors": 0, "warnings": 0}
    if not pending:
        return report
    everything, _ = scan_folder(pending[0].path.parent)
    wanted = {m.version for m in pending}
    earlier = [m for m in everything if m.number < min(m.number for m in pending) and m.version not in wanted]
    with _quiet_sqlglot():
        if target is not None:
            with target.engine().connect() as conn:
                db = schema_from_database(conn)
            units = lint_sequence(pending, engine, start=db, target=target)
        else:
            units = lint_sequence(earlier + pending, engine, target=target)
    units = [u for u in units if u.migration.version in wanted]
    reasons = [f"{u.migration.label}: {f.message}" for u in units for f in u.findings if f.code in GATE_CODES]
    report["migrations"] = [u.as_dict() for u in units]
    report["errors"] = sum(f.level == "error" for u in units for f in u.findings)
    report["warnings"] = sum(f.level == "warning" for u in units for f in u.findings)
    if reasons and not allow_risk:
        report["refused"] = reasons
        refusal = BadInput("refusing to migrate: " + " | ".join(reasons)
                           + " (fix the migration, or override explicitly with allow_risk)")
        refusal.report = report  # type: ignore[attr-defined]  # for the notebook to show
        raise refusal
    if reasons:
        report["override"] = True
        report["overridden"] = reasons
    return report


# -- text output -------------------------------------------------------------------------------
def render(report: LintReport) -> str:
    """The report as a readable table."""
    lines = [f"migrations: {report.migrations_dir}" + (f"   target: {report.target}" if report.target else "")]
    if report.migrations:
        head = ("migration", "engine", "declared", "detected", "destructive", "rollback", "rollback check")
        rows = []
        for u in report.migrations:
            declared = f"{u.declared_risk} ({u.declared_category})" if u.declared_category else (u.declared_risk or "-")
            rows.append((u.migration.label + (" (applied)" if u.applied else ""), u.engine, declared,
                         f"{u.category} {CATEGORY_NAMES[u.category]}", "YES" if u.destructive else "no",
                         "yes" if u.migration.rollback else "no", u.rollback_check.get("status", "")))
        lines += _table(head, rows)
        for u in report.migrations:
            lines.append("")
            lines.append(f"{u.file} ({u.engine}, Category {u.category}{', DESTRUCTIVE' if u.destructive else ''})")
            rows = [(str(v.line), str(v.category), "YES" if v.destructive else "", v.kind, v.reason)
                    for v in u.statements if v.category is not None]
            lines += ["  " + r for r in _table(("line", "cat", "data loss", "kind", "reason"), rows)]
    found = report.all_findings()
    lines.append("")
    if found:
        lines.append("findings:")
        lines += ["  " + r for r in _table(("level", "where", "code", "message"),
                                           [(f.level, f.where(), f.code, f.message) for f in found])]
    lines.append(f"{report.errors} error(s), {report.warnings} warning(s) in {len(report.migrations)} migration file(s)")
    return "\n".join(lines)


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head) - 1)]
    fmt = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)) + "  " + str(r[-1])  # noqa: E731
    return [fmt(head).rstrip()] + [fmt(r).rstrip() for r in rows]


__all__ = ["Finding", "Verdict", "MigrationLint", "LintReport", "SchemaModel", "scan_folder", "lint_migration",
           "lint_sequence", "lint", "gate", "check_rollbacks", "render", "schema_from_database",
           "RISK_CATEGORY", "GATE_CODES"]
