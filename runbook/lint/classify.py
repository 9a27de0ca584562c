"""The classifier's core: one migration's statements, in order, against the schema model.

A classifier per source dialect (``sqlite.py``: sqlglot's SQLite grammar; ``postgresql.py``:
PostgreSQL's own parser through pglast) reads each statement's syntax tree and calls the
operations here (``create_table``, ``add_column``, ``drop_tables`` ...), which hold the rules of
the guide's three categories, update the model, and emit findings. Nothing here reads SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..sqltext import Statement
from .model import ColumnInfo, ForeignKeyInfo, SchemaModel, TableInfo, TypeInfo, type_change
from .registry import Finding
from .report import MigrationLint, Verdict, short
from .rules.locks import INDEX_NOT_CONCURRENT, LOCK_TIMEOUT_DISABLED
from .rules.names import UNKNOWN_NAME
from .rules.reading import EMPTY, UNCLASSIFIED, UNPARSABLE

if TYPE_CHECKING:
    from ..engines.base import Engine

HIGHEST = 3


@dataclass
class Outcome:
    category: int
    kind: str
    reason: str
    destructive: bool = False
    lock_heavy: bool = False  # takes a lock that blocks reads or writes of an existing table


@dataclass
class Shape:
    """What a statement does to whole tables, for finding table rebuilds."""

    creates: str | None = None  # CREATE TABLE name
    copy_into: str | None = None  # INSERT INTO / CREATE TABLE AS ... with rows from
    sources: frozenset[str] = frozenset()  # ... these tables
    drops: tuple[str, ...] = ()  # DROP TABLE names
    rename: tuple[str, str] | None = None  # ALTER TABLE old RENAME TO new


@dataclass
class Constraint:
    """A table constraint as a classifier reads it."""

    kind: str  # UNIQUE | CHECK | PRIMARY KEY | FOREIGN KEY
    columns: list[str]
    name: str = ""
    ref_table: str = ""
    ref_columns: tuple[str, ...] = ()
    not_valid: bool = False


@dataclass
class NewColumn:
    column: ColumnInfo
    rules: list[Constraint] = field(default_factory=list)  # column constraints existing rows may violate


class Unreadable(Exception):
    """Raised by a classifier's ``parse`` when the engine's parser rejects the statement."""


def merge(outcomes: list[Outcome]) -> Outcome:
    if len(outcomes) == 1:
        return outcomes[0]
    top = max(o.category for o in outcomes)
    kinds: list[str] = []
    for o in outcomes:
        if o.kind not in kinds:
            kinds.append(o.kind)
    return Outcome(top, "+".join(kinds), "; ".join(o.reason for o in outcomes),
                   destructive=any(o.destructive for o in outcomes), lock_heavy=any(o.lock_heavy for o in outcomes))


class Classifier:
    """Classifies the statements of one migration, updating ``schema`` as they apply. Subclasses
    (one per source dialect) implement ``parse``, ``shape`` and ``classify``."""

    dialect = ""

    def __init__(self, lint: MigrationLint, schema: SchemaModel, statements: list[Statement], *,
                 engine: "Engine", runner_lock_timeout_ms: int | None):
        self.lint = lint
        self.before = schema.copy()  # as it stood when this migration starts
        self.schema = schema
        self.statements = statements
        self.engine = engine
        self.runner_lock_timeout_ms = runner_lock_timeout_ms
        self.created: set[str] = set()  # tables created by this migration
        self.added_columns: set[tuple[str, str]] = set()
        self.lock_timeout_ms: int | None = runner_lock_timeout_ms
        self.lock_timeout_line: int | None = None
        self.trees: list[Any] = []
        self.shapes: list[Shape] = []
        self.rebuilds: dict[int, str] = {}  # statement index → rebuilt table
        #: foreign keys naming a table not there yet, looked for at the end (``late_foreign_keys``)
        self.late_references: list[tuple[Statement, str, str, tuple[str, ...]]] = []

    # -- to implement per dialect
    def parse(self, st: Statement) -> Any:
        raise NotImplementedError

    def shape(self, tree: Any) -> Shape:
        return Shape()

    def classify(self, st: Statement, tree: Any) -> Outcome:
        raise NotImplementedError

    def is_transaction_control(self, st: Statement, tree: Any) -> bool:
        return st.is_transaction_control

    def restart(self) -> None:
        """Before the statements are walked again (classified after their shapes were read):
        forget what the walk so far set (PostgreSQL: the ``search_path``)."""

    # -- findings
    def add(self, finding: Finding) -> None:
        self.lint.findings.append(finding)

    def unknown(self, st: Statement, what: str) -> None:
        if self.schema.doubt:
            self.add(UNKNOWN_NAME.at(self.lint.file, st.line, f"{what} ({self.schema.doubt}, so this may be a false alarm)",
                                     level="warning"))
        else:
            self.add(UNKNOWN_NAME.at(self.lint.file, st.line, what))

    def is_system(self, table: str) -> bool:
        """Is ``table`` one of the engine's own catalogs (never in the migrations' schema)?"""
        return False

    def check_table(self, st: Statement, table: str, role: str, when: str = "at this point of the migrations") -> bool:
        """False (and a finding) when ``table`` is known not to exist."""
        if table and not self.is_system(table) and self.schema.exists(table) is False:
            self.unknown(st, f"{role} names table {table}, which does not exist {when}")
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

    def unclassified(self, st: Statement, why: str) -> Outcome:
        self.add(UNCLASSIFIED.at(self.lint.file, st.line,
                                 f"statement {st.index} cannot be classified ({why}): counted as Category {HIGHEST}"))
        self.schema.doubt = self.schema.doubt or f"statement {st.index} of {self.lint.migration.label} could not be classified"
        return Outcome(HIGHEST, "unclassified", f"cannot be classified: {why}; counted as the highest risk", lock_heavy=True)

    def unparsable(self, st: Statement, why: str) -> Outcome:
        self.add(UNPARSABLE.at(self.lint.file, st.line, f"statement {st.index} cannot be parsed by "
                                                       f"{self.parser_name}: {why}"))
        self.schema.doubt = self.schema.doubt or f"statement {st.index} of {self.lint.migration.label} could not be read"
        return Outcome(HIGHEST, "unparsable", f"cannot be parsed ({why}); counted as the highest risk", lock_heavy=True)

    parser_name = "the parser"

    # -- the pass
    def run(self) -> None:
        self.trees = []
        for st in self.statements:
            try:
                self.trees.append(self.parse(st))
            except Unreadable as exc:
                self.trees.append(exc)
        self.shapes = [Shape() if isinstance(t, Unreadable) else self.shape(t) for t in self.trees]
        self.rebuilds = self.find_rebuilds()
        self.restart()
        runnable = 0
        for st, tree, shape in zip(self.statements, self.trees, self.shapes):
            if not isinstance(tree, Unreadable) and self.is_transaction_control(st, tree):
                self.lint.statements.append(Verdict(st.index, st.line, st.sql, "transaction-control", None,
                                                    "ignored: the runner wraps the whole file in one transaction"))
                continue
            runnable += 1
            if isinstance(tree, Unreadable):
                out = self.unparsable(st, str(tree))
            else:
                out = self.classify(st, tree)
                if st.index in self.rebuilds:
                    out = self.rebuild_step(shape, self.rebuilds[st.index], out)
            self.lint.statements.append(Verdict(st.index, st.line, st.sql, out.kind, out.category, out.reason, out.destructive))
            if out.lock_heavy and self.engine.lock_timeout_matters and self.lock_timeout_ms == 0:
                self.add(LOCK_TIMEOUT_DISABLED.at(
                    self.lint.file, st.line,
                    f"{out.kind} takes a heavy lock but line {self.lock_timeout_line} set lock_timeout to 0: "
                    "it can wait forever behind a long transaction while every query on the table queues "
                    f"behind it; remove that SET (the runner sets lock_timeout = {self.runner_lock_timeout_ms} ms)"))
        self.check_late_references()
        if not runnable:
            self.add(EMPTY.at(self.lint.file, None, "the migration has no statements to run"))

    # -- settings
    def set_lock_timeout(self, st: Statement, ms: int | None, shown: str) -> Outcome:
        self.lock_timeout_ms, self.lock_timeout_line = ms, st.line
        if ms == self.runner_lock_timeout_ms:
            shown = "the runner's setting"
        elif ms == 0:
            shown = "disabled (0)"
        elif ms is not None:
            shown = f"{ms} ms"
        return Outcome(1, "setting", f"lock_timeout: {shown}")

    # -- CREATE
    def create_table(self, st: Statement, name: str, columns: dict[str, ColumnInfo] | None,
                     constraints: list[Constraint], *, if_not_exists: bool = False,
                     sources: list[str] | None = None, as_query: bool = False) -> Outcome:
        info = TableInfo(name, columns)
        own = set(columns or {})
        for c in constraints:
            missing = [col for col in c.columns if col not in own] if columns is not None else []
            if missing:
                self.unknown(st, f"{c.kind} constraint of new table {name} names column(s) "
                                 f"{', '.join(missing)}, which the table does not define")
            if c.name:
                info.constraints[c.name] = c.kind
            if c.kind == "FOREIGN KEY":
                self.check_reference(st, name, own, c.ref_table, c.ref_columns)
                info.foreign_keys.append(ForeignKeyInfo(tuple(c.columns), c.ref_table, c.ref_columns, c.name or None))
        existed = self.schema.exists(name)
        if existed and if_not_exists:
            return Outcome(1, "create-table", f"CREATE TABLE IF NOT EXISTS {name}: it exists already, nothing changes")
        self.schema.tables[name] = info
        self.created.add(name)
        if as_query:
            if sources:
                return Outcome(3, "create-table-as", f"new table {name} filled from {', '.join(sources)}: copies existing data")
            return Outcome(1, "create-table-as", f"new table {name} from a query that reads no table")
        return Outcome(1, "create-table", f"new table {name}")

    def check_reference(self, st: Statement, table: str, own: set[str], ref_table: str, ref_cols: tuple[str, ...]) -> None:
        if ref_table == table:
            missing = [c for c in ref_cols if c not in own]
            if missing and own:
                self.unknown(st, f"foreign key of {table} references {table}({', '.join(missing)}), which it does not define")
            return
        if self.engine.late_foreign_keys and not self.is_system(ref_table) and (
                self.schema.exists(ref_table) is False
                or any(c and self.schema.column_exists(ref_table, c) is False for c in ref_cols)):
            self.late_references.append((st, table, ref_table, ref_cols))
            return
        if self.check_table(st, ref_table, f"foreign key of {table}"):
            self.check_columns(st, ref_table, ref_cols, f"foreign key of {table}")

    def check_late_references(self) -> None:
        """After the last statement: a foreign key naming a table (or a column of one) that did not
        exist when its table was created is fine where the engine resolves it later (SQLite) and
        the migration made it meanwhile (Prisma's first migration creates tables in name order;
        Hydra's 102 adds ``hydra_client.nid`` after the tables referring to it); one still missing
        is reported, at its statement."""
        for st, table, ref_table, ref_cols in self.late_references:
            if self.check_table(st, ref_table, f"foreign key of {table}", "at the end of its migration"):
                self.check_columns(st, ref_table, ref_cols, f"foreign key of {table}")

    def create_view(self, name: str, materialized: bool = False) -> Outcome:
        self.schema.views.add(name)
        what = "materialized view" if materialized else "view"
        return Outcome(1, "create-view", f"new {what} {name}")

    def create_index(self, st: Statement, name: str, table: str, columns: list[str], *, unique: bool,
                     concurrently: bool) -> Outcome:
        kind = "create-unique-index" if unique else "create-index"
        if not self.check_table(st, table, f"index {name}"):
            return Outcome(1, kind, f"index {name} on {table}, which does not exist: it will fail")
        self.check_columns(st, table, columns, f"index {name}")
        if name:
            self.schema.indexes[name] = table
        existing = self.existed(table)
        if existing and self.engine.supports_concurrent_index and not concurrently:
            self.add(INDEX_NOT_CONCURRENT.at(
                self.lint.file, st.line,
                f"CREATE {'UNIQUE ' if unique else ''}INDEX {name} on existing table {table} blocks writes to it "
                "while the index builds: use CREATE INDEX CONCURRENTLY, alone in its migration "
                f"(a NNN_name.{self.engine.variant_suffix}.sql variant)"))
        heavy = existing and not concurrently
        if unique and existing:
            return Outcome(2, kind, f"unique index {name} on existing table {table}: existing rows may violate it",
                           lock_heavy=heavy)
        where = f"existing table {table}" if existing else f"{table} (created in this migration)"
        return Outcome(1, kind, f"{'unique ' if unique else ''}index {name} on {where}", lock_heavy=heavy)

    def create_routine(self, kind: str, name: str, replace: bool) -> Outcome:
        verb = "CREATE OR REPLACE" if replace else "CREATE"
        return Outcome(1, "create-function", f"{verb} {kind} {name}: a routine changes no existing row "
                                              "(what it does when called is the caller's category)")

    def trigger(self, st: Statement, table: str) -> Outcome:
        if not self.check_table(st, table, "trigger"):
            return Outcome(1, "create-trigger", f"trigger on {table}, which does not exist: it will fail")
        existing = self.existed(table)
        where = f"existing table {table}" if existing else f"{table}, a table created in this migration"
        return Outcome(1, "create-trigger", f"trigger on {where}: changes no existing row (later writes also run it)",
                       lock_heavy=existing)

    # -- DROP
    def drop_tables(self, names: list[str], if_exists: bool) -> Outcome:
        outcomes = []
        for name in names:
            self.schema.indexes = {i: t for i, t in self.schema.indexes.items() if t != name}
            existed = self.schema.exists(name)
            self.schema.tables.pop(name, None)
            if name in self.created and not self.before.exists(name):
                outcomes.append(Outcome(1, "drop-table", f"drops {name}, a table created in this migration"))
            elif existed is False and if_exists:
                outcomes.append(Outcome(1, "drop-table", f"DROP TABLE IF EXISTS {name}: no such table, nothing dropped"))
            else:
                outcomes.append(Outcome(2, "drop-table", f"drops table {name} and every row in it",
                                        destructive=True, lock_heavy=True))
        return merge(outcomes)

    def drop_schemas(self, names: list[str]) -> None:
        """What ``DROP SCHEMA`` takes with it (everything in it, with CASCADE; it must be empty otherwise)."""
        prefixes = tuple(f"{n}." for n in names)
        for name in [t for t in self.schema.tables if t.startswith(prefixes)]:
            self.schema.tables.pop(name)
        self.schema.views = {v for v in self.schema.views if not v.startswith(prefixes)}
        self.schema.indexes = {i: t for i, t in self.schema.indexes.items() if not t.startswith(prefixes)}

    def drop_indexes(self, names: list[str], concurrently: bool) -> Outcome:
        for name in names:
            self.schema.indexes.pop(name, None)
        return Outcome(1, "drop-index", f"drops index {', '.join(names)}: no data lost (queries may slow down)",
                       lock_heavy=not concurrently)

    def drop_views(self, names: list[str], if_exists: bool) -> Outcome:
        gone = [n for n in names if n in self.schema.views or not if_exists or not self.schema.closed]
        self.schema.views -= set(names)
        if not gone:
            return Outcome(1, "drop-view", f"DROP VIEW IF EXISTS {', '.join(names)}: no such view, nothing dropped")
        return Outcome(2, "drop-view", f"drops view {', '.join(names)}: its readers break")

    def drop_triggers(self, names: list[str]) -> Outcome:
        return Outcome(1, "drop-trigger", f"drops trigger {', '.join(names)}: later writes no longer run it; "
                                          "no data change", lock_heavy=True)

    def drop_other(self, kind: str, names: list[str]) -> Outcome:
        return Outcome(2, f"drop-{kind.lower().replace(' ', '-')}",
                       f"drops {kind.lower()} {', '.join(names)}: what uses it breaks")

    # -- ALTER TABLE
    def alter_table(self, st: Statement, table: str, if_exists: bool) -> bool:
        """Whether to go on with the actions (False: the table is missing)."""
        if if_exists and self.schema.exists(table) is False:
            return False
        return self.check_table(st, table, "ALTER TABLE")

    def add_column(self, st: Statement, table: str, new: NewColumn) -> Outcome:
        info = self.schema.tables.get(table)
        col = new.column
        for c in new.rules:
            if c.kind == "FOREIGN KEY":
                self.check_reference(st, table, set(), c.ref_table, c.ref_columns)
                if info is not None:
                    info.foreign_keys.append(ForeignKeyInfo((col.name,), c.ref_table, c.ref_columns, c.name or None))
            if c.name and info is not None:
                info.constraints[c.name] = c.kind
        if info is not None and info.columns is not None:
            info.columns[col.name] = col
        self.added_columns.add((table, col.name))
        existing = self.existed(table)
        if not existing:
            return Outcome(1, "add-column", f"ADD COLUMN {table}.{col.name} to a table created in this migration")
        # every existing row gets the default, or NULL: a rule can only fail on a value. A CHECK is
        # tested by the engine against every existing row as the column is added, so a default
        # that violates it fails the migration whole (in the rehearsal): nothing breaks
        rules = [c.kind for c in new.rules
                 if c.kind != "CHECK" and (c.kind == "PRIMARY KEY" or col.has_default or not col.nullable)]
        if rules:
            return Outcome(2, "add-column", f"ADD COLUMN {table}.{col.name} with a {'/'.join(rules)} constraint "
                                            f"on existing table {table}: existing rows may violate it", lock_heavy=True)
        if not col.nullable and not col.has_default:
            return Outcome(2, "add-column", f"ADD COLUMN {table}.{col.name} NOT NULL without a default: "
                                            "fails on a non-empty table", lock_heavy=True)
        how = "NOT NULL with a default" if not col.nullable else "with a default" if col.has_default else "nullable"
        if new.rules:
            how += (f" with a {'/'.join(c.kind for c in new.rules)} rule "
                    + ("the engine tests on every existing row as it adds the column (a violation fails "
                       "the migration whole)" if col.has_default or not col.nullable
                       else "every existing row (NULL) satisfies"))
        return Outcome(1, "add-column", f"ADD COLUMN {table}.{col.name} {how}", lock_heavy=True)

    def drop_columns(self, st: Statement, table: str, cols: list[str], if_exists: bool) -> Outcome:
        info = self.schema.tables.get(table)
        existing = self.existed(table)
        if if_exists:
            absent = [c for c in cols if self.schema.column_exists(table, c) is False]
            if absent and len(absent) == len(cols):
                return Outcome(1, "drop-column", f"DROP COLUMN IF EXISTS {', '.join(absent)}: "
                                                 f"no such column in {table}, nothing changes")
        else:
            self.check_columns(st, table, cols, "DROP COLUMN")
        if info is not None and info.columns is not None:
            for c in cols:
                info.columns.pop(c, None)
        return Outcome(2, "drop-column", f"drops column {', '.join(table + '.' + c for c in cols)} "
                                         "and its data", destructive=existing, lock_heavy=existing)

    def drop_constraint(self, table: str, cname: str) -> Outcome:
        info = self.schema.tables.get(table)
        existing = self.existed(table)
        ckind = info.constraints.pop(cname, None) if info is not None else None
        if ckind == "FOREIGN KEY":
            if info is not None:
                info.foreign_keys = [fk for fk in info.foreign_keys if fk.name != cname]
            return Outcome(3, "drop-constraint", f"drops foreign key {cname} of {table}: "
                                                 "changes a foreign-key relationship", lock_heavy=existing)
        if ckind in ("UNIQUE", "CHECK"):
            return Outcome(1, "drop-constraint", f"drops {ckind} constraint {cname} of {table}: "
                                                 "relaxes a rule, no data change", lock_heavy=existing)
        return Outcome(2, "drop-constraint", f"drops constraint {cname} of {table} "
                                             f"({ckind or 'its kind is not known here'})", lock_heavy=existing)

    def rename_column(self, st: Statement, table: str, old: str, new: str) -> Outcome:
        info = self.schema.tables.get(table)
        existing = self.existed(table)
        self.check_columns(st, table, [old], "RENAME COLUMN")
        if info is not None and info.columns is not None and old in info.columns:
            col = info.columns.pop(old)
            col.name = new
            info.columns[new] = col
        return Outcome(2 if existing else 1, "rename-column",
                       f"renames {table}.{old} to {new}" + (": queries using the old name break" if existing else ""),
                       lock_heavy=existing)

    def rename_table(self, table: str, new: str) -> Outcome:
        existing = self.existed(table)
        moved = self.schema.tables.pop(table, None)
        if moved is not None:
            moved.name = new
            self.schema.tables[new] = moved
        if table in self.schema.views:
            self.schema.views = (self.schema.views - {table}) | {new}
        self.schema.indexes = {i: (new if t == table else t) for i, t in self.schema.indexes.items()}
        if table in self.created and not self.before.exists(table):
            self.created.add(new)
            return Outcome(1, "rename-table", f"renames {table}, created in this migration, to {new}")
        return Outcome(2, "rename-table", f"renames table {table} to {new}: queries using the old name break",
                       lock_heavy=existing)

    def rename_constraint(self, table: str, old: str, new: str) -> Outcome:
        info = self.schema.tables.get(table)
        if info is not None and old in info.constraints:
            info.constraints[new] = info.constraints.pop(old)
        return Outcome(1, "rename-constraint", f"renames constraint {old} of {table} to {new}: no data change")

    def rename_index(self, old: str, new: str) -> Outcome:
        if old in self.schema.indexes:
            self.schema.indexes[new] = self.schema.indexes.pop(old)
        return Outcome(1, "alter-index", f"renames index {old} to {new}: no data change")

    def column(self, st: Statement, table: str, col: str) -> ColumnInfo | None:
        self.check_columns(st, table, [col], "ALTER COLUMN")
        info = self.schema.tables.get(table)
        return info.columns.get(col) if info is not None and info.columns is not None else None

    def alter_column_type(self, st: Statement, table: str, col: str, new: TypeInfo) -> Outcome:
        known = self.column(st, table, col)
        existing = self.existed(table)
        cat, reason = type_change(known.type if known else None, new, f"{table}.{col}")
        if known:
            known.type = new
        return Outcome(cat if existing else 1, "alter-column-type", reason, lock_heavy=existing)

    def set_not_null(self, st: Statement, table: str, col: str) -> Outcome:
        known = self.column(st, table, col)
        existing = self.existed(table)
        if known and not known.nullable:  # the engine checks nothing and keeps its rule as it was
            return Outcome(1, "set-not-null", f"SET NOT NULL on {table}.{col}: already NOT NULL, changes nothing")
        if known:
            known.nullable = False
        return Outcome(2 if existing else 1, "set-not-null",
                       f"SET NOT NULL on {table}.{col}" + (": fails if existing rows hold NULL" if existing else ""),
                       lock_heavy=existing)

    def drop_not_null(self, st: Statement, table: str, col: str) -> Outcome:
        known = self.column(st, table, col)
        if known:
            known.nullable = True
        return Outcome(1, "drop-not-null", f"DROP NOT NULL on {table}.{col}: relaxes a rule",
                       lock_heavy=self.existed(table))

    def column_default(self, st: Statement, table: str, col: str, has_default: bool) -> Outcome:
        known = self.column(st, table, col)
        if known:
            known.has_default = has_default
        return Outcome(1, "column-default", f"changes the default of {table}.{col}: existing rows unchanged",
                       lock_heavy=self.existed(table))

    def add_constraint(self, st: Statement, table: str, c: Constraint) -> Outcome:
        info = self.schema.tables.get(table)
        existing = self.existed(table)
        self.check_columns(st, table, c.columns, f"{c.kind} constraint {c.name}".strip())
        if c.name and info is not None:
            info.constraints[c.name] = c.kind
        label = f"{c.kind} constraint {c.name + ' ' if c.name else ''}on {table}({', '.join(c.columns)})"
        if c.kind == "FOREIGN KEY":
            self.check_reference(st, table, set(), c.ref_table, c.ref_columns)
            new_fk = ForeignKeyInfo(tuple(c.columns), c.ref_table, c.ref_columns, c.name or None)
            before = [fk for fk in (info.foreign_keys if info is not None else []) if fk.columns == tuple(c.columns)]
            if info is not None:
                info.foreign_keys.append(new_fk)
            if before:
                return Outcome(3, "add-constraint", f"{label} → {c.ref_table}: the columns already had foreign key "
                                                    f"{before[0].describe()}; changes a foreign-key relationship",
                               lock_heavy=existing)
        if not existing:
            return Outcome(1, "add-constraint", f"{label}, a table created in this migration")
        if c.not_valid:
            return Outcome(1, "add-constraint", f"{label} NOT VALID: existing rows are not checked", lock_heavy=True)
        return Outcome(2, "add-constraint", f"{label} on an existing table: existing rows may violate it", lock_heavy=True)

    # -- data
    def insert(self, st: Statement, table: str, sources: list[str], overwrite: bool) -> Outcome:
        self.check_table(st, table, "INSERT")
        if sources:
            return Outcome(3, "insert-select", f"INSERT INTO {table} ... SELECT FROM {', '.join(sources)}: "
                                               "moves data between tables", destructive=overwrite)
        if overwrite:
            return Outcome(3, "insert-replace", f"INSERT into {table} that overwrites colliding rows", destructive=True)
        return Outcome(1, "insert-values", f"INSERT INTO {table} ... VALUES: adds rows, existing rows untouched")

    def update(self, st: Statement, table: str, cols: list[str], reads: list[str]) -> Outcome:
        self.check_table(st, table, "UPDATE")
        self.check_columns(st, table, cols, "UPDATE")
        overwritten = [c for c in cols if (table, c) not in self.added_columns]
        reason = f"UPDATE {table} SET {', '.join(cols)}: transforms existing data"
        if reads:
            reason += f" (reads {', '.join(reads)})"
        if overwritten:
            reason += f"; overwrites the old values of {', '.join(overwritten)}"
        else:
            reason += " (fills columns added in this migration; no old value is lost)"
        return Outcome(3, "update", reason, destructive=bool(overwritten))

    def delete(self, st: Statement, table: str) -> Outcome:
        self.check_table(st, table, "DELETE")
        return Outcome(3, "delete", f"DELETE FROM {table}: removes existing rows", destructive=True)

    def truncate(self, names: list[str]) -> Outcome:
        return Outcome(3, "truncate", f"TRUNCATE {', '.join(names)}: removes every row", destructive=True, lock_heavy=True)

    def merge_into(self, table: str) -> Outcome:
        return Outcome(3, "merge", f"MERGE INTO {table}: rewrites existing rows from another table", destructive=True)

    # -- table rebuilds (SQLite's create new, copy, drop, rename; the guide's backup, drop, re-create, copy back)
    def find_rebuilds(self) -> dict[int, str]:
        creates: dict[str, list[int]] = {}
        drops: dict[str, list[int]] = {}
        renames: list[tuple[int, str, str]] = []
        copies: list[tuple[int, str, frozenset[str]]] = []
        for st, sh in zip(self.statements, self.shapes):
            if sh.creates:
                creates.setdefault(sh.creates, []).append(st.index)
            if sh.copy_into and sh.sources:
                copies.append((st.index, sh.copy_into, sh.sources))
            for t in sh.drops:
                drops.setdefault(t, []).append(st.index)
            if sh.rename:
                renames.append((st.index, *sh.rename))
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
            while changed:  # work tables: made, filled from the table, and dropped by this migration
                changed = False  # (a new table filled from it and kept is a data migration of its own)
                for _, into, sources in copies:
                    if into not in related and into in creates and into in drops and sources & related \
                            and sources <= related | {into}:
                        related.add(into)
                        changed = True
            members = set(drop_at) | set(recreated) | {i for i, _ in renamed_in}
            members |= {i for name in related - {table} for i in creates.get(name, []) + drops.get(name, [])}
            members |= {i for i, into, sources in copies if into in related and sources <= related}
            for i in members:
                result[i] = table
        return result

    def rebuild_step(self, shape: Shape, table: str, out: Outcome) -> Outcome:
        """A statement that is part of rebuilding ``table`` (the model already followed it): Category 2
        (3 when the new definition changes the table's foreign keys), destructive when columns or rows
        of the old table do not survive."""
        old = self.before.tables.get(table)
        if shape.creates:
            if shape.creates == table:  # the old table's name made anew: the rebuilt table
                return self.rebuild_result(table, old, lock_heavy=False)
            return Outcome(2, "table-rebuild", f"part of a rebuild of {table}: creates {shape.creates}")
        if shape.copy_into:
            return Outcome(2, "table-rebuild", f"part of a rebuild of {table}: copies rows into {shape.copy_into}")
        if shape.rename:
            return self.rebuild_result(table, old, lock_heavy=True)
        if shape.drops:
            if shape.drops[0] != table:
                return Outcome(2, "table-rebuild", f"part of a rebuild of {table}: drops the work table {shape.drops[0]}")
            return Outcome(2, "table-rebuild", f"part of a rebuild of {table}: drops the old table", lock_heavy=True)
        return Outcome(2, "table-rebuild", f"part of a rebuild of {table}")

    def rebuild_result(self, table: str, old: TableInfo | None, *, lock_heavy: bool) -> Outcome:
        new = self.schema.tables.get(table)
        reasons = [f"part of a rebuild of {table} (create new, copy, drop, rename)"]
        cat, destructive = 2, False
        if old is not None and new is not None and old.columns is not None and new.columns is not None:
            lost = [c for c in old.columns if c not in new.columns]
            if lost:
                destructive = True
                reasons.append(f"the rebuilt table drops column(s) {', '.join(lost)} and their data")
        if old is not None and new is not None and {f.shape() for f in old.foreign_keys} != {f.shape() for f in new.foreign_keys}:
            cat = 3
            was = ", ".join(f.describe() for f in old.foreign_keys) or "none"
            now = ", ".join(f.describe() for f in new.foreign_keys) or "none"
            reasons.append(f"changes its foreign keys (was {was}; now {now})")
        if not self.rows_copied(table):
            destructive = True
            reasons.append("no statement copies the old rows into the new table")
        return Outcome(cat, "table-rebuild", "; ".join(reasons), destructive=destructive, lock_heavy=lock_heavy)

    def rows_copied(self, table: str) -> bool:
        """Does a statement copy rows into the table that ends up named ``table``: one of the
        rebuild's, or one that reads the old table beside others (its new columns filled from a
        lookup: a data migration of its own, still the copy of the old rows)?"""
        members = {st.index for st in self.statements if self.rebuilds.get(st.index) == table}
        final = {table} | {sh.rename[0] for st, sh in zip(self.statements, self.shapes)
                           if st.index in members and sh.rename and sh.rename[1] == table}
        return any(sh.copy_into in final and sh.sources and (st.index in members or table in sh.sources)
                   for st, sh in zip(self.statements, self.shapes))


__all__ = ["Classifier", "Outcome", "Shape", "Constraint", "NewColumn", "Unreadable", "merge", "short", "HIGHEST"]
