"""The PostgreSQL classifier: statements of the PostgreSQL dialect (``.postgresql.sql`` files, and
every file of a PostgreSQL project), read with PostgreSQL's own parser (pglast, libpg_query).

A statement the parser rejects is an ``unparsable`` error: PostgreSQL would reject it too.
Comments, string literals, dollar-quoted routine bodies and trigger bodies are the parser's
business: nothing inside them is a statement of the migration.
"""

from __future__ import annotations

from typing import Any

import pglast
from pglast import ast
from pglast.enums import (AlterTableType as AT, ConstrType, ObjectType as OT, OnConflictAction,
                          VariableSetKind)
from pglast.visitors import Visitor

from ..pgtext import do_block, search_path_set
from ..sqltext import Statement
from .classify import Classifier, Constraint, NewColumn, Outcome, Shape, Unreadable, merge
from .model import ColumnInfo, TypeInfo, key, schema_of
from .rules.code import MAY_WRITE_THROUGH_CODE
from .rules.locks import duration_ms
from .rules.server import CLUSTER_WIDE

_SERIAL = {"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"}
#: the parser's internal type names as the engine reports them (``format_type``); ``serial`` is no
#: type: PostgreSQL stores the integer type, with a sequence default and NOT NULL
_ENGINE_TYPE = {"int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real",
                "float8": "double precision", "bool": "boolean", "varchar": "character varying",
                "bpchar": "character", "timestamp": "timestamp without time zone",
                "timestamptz": "timestamp with time zone", "time": "time without time zone",
                "timetz": "time with time zone", "serial": "integer", "serial4": "integer",
                "bigserial": "bigint", "serial8": "bigint", "smallserial": "smallint", "serial2": "smallint"}
#: ALTER TABLE actions that change no row and no rule existing rows must meet
_HARMLESS_AT = {AT.AT_SetStatistics, AT.AT_SetOptions, AT.AT_ResetOptions, AT.AT_SetStorage, AT.AT_SetCompression,
                AT.AT_ClusterOn, AT.AT_DropCluster, AT.AT_SetRelOptions, AT.AT_ResetRelOptions,
                AT.AT_ReplaceRelOptions, AT.AT_EnableTrig, AT.AT_DisableTrig, AT.AT_EnableAlwaysTrig,
                AT.AT_EnableReplicaTrig, AT.AT_EnableTrigAll, AT.AT_DisableTrigAll, AT.AT_EnableTrigUser,
                AT.AT_DisableTrigUser, AT.AT_ChangeOwner, AT.AT_ValidateConstraint, AT.AT_EnableRowSecurity,
                AT.AT_DisableRowSecurity, AT.AT_ForceRowSecurity, AT.AT_NoForceRowSecurity, AT.AT_ReplicaIdentity,
                AT.AT_DropIdentity, AT.AT_SetIdentity, AT.AT_AddIdentity, AT.AT_DropExpression, AT.AT_EnableRule,
                AT.AT_DisableRule, AT.AT_SetTableSpace, AT.AT_GenericOptions}
#: objects whose new name breaks whoever uses the old one
_RENAME_BREAKS = {OT.OBJECT_FUNCTION: "function", OT.OBJECT_PROCEDURE: "procedure", OT.OBJECT_ROUTINE: "routine",
                  OT.OBJECT_SCHEMA: "schema", OT.OBJECT_TYPE: "type", OT.OBJECT_DOMAIN: "domain",
                  OT.OBJECT_AGGREGATE: "aggregate"}
_NEW_OBJECTS = {"CreateSeqStmt": "sequence", "CreateEnumStmt": "type", "CompositeTypeStmt": "type",
                "CreateRangeStmt": "type", "CreateSchemaStmt": "schema", "CreateDomainStmt": "domain",
                "CreateExtensionStmt": "extension", "DefineStmt": "object", "CreatePolicyStmt": "policy",
                "CreateCastStmt": "cast", "CreateConversionStmt": "conversion", "CreateStatsStmt": "statistics",
                "CreateOpClassStmt": "operator class", "CreateRoleStmt": "role", "CreatePublicationStmt": "publication",
                "RuleStmt": "rule", "CreateEventTrigStmt": "event trigger"}
_NO_CHANGE = {"CommentStmt": "COMMENT", "GrantStmt": "GRANT/REVOKE", "GrantRoleStmt": "GRANT/REVOKE role",
              "AlterDefaultPrivilegesStmt": "ALTER DEFAULT PRIVILEGES", "AlterOwnerStmt": "ALTER ... OWNER",
              "AlterSeqStmt": "ALTER SEQUENCE", "AlterFunctionStmt": "ALTER FUNCTION", "ExplainStmt": "EXPLAIN",
              "NotifyStmt": "NOTIFY", "AlterRoleStmt": "ALTER ROLE", "AlterExtensionStmt": "ALTER EXTENSION",
              "AlterPolicyStmt": "ALTER POLICY", "AlterDomainStmt": "ALTER DOMAIN", "SecLabelStmt": "SECURITY LABEL",
              "AlterStatsStmt": "ALTER STATISTICS", "AlterTSConfigurationStmt": "ALTER TEXT SEARCH CONFIGURATION",
              "CheckPointStmt": "CHECKPOINT", "DiscardStmt": "DISCARD", "ListenStmt": "LISTEN"}
#: statements whose change belongs to the whole server (roles, databases, tablespaces, settings)
_CLUSTER_WIDE = {"CreateRoleStmt": "CREATE ROLE", "AlterRoleStmt": "ALTER ROLE", "AlterRoleSetStmt": "ALTER ROLE ... SET",
                 "DropRoleStmt": "DROP ROLE", "GrantRoleStmt": "GRANT/REVOKE role membership",
                 "CreatedbStmt": "CREATE DATABASE", "AlterDatabaseStmt": "ALTER DATABASE",
                 "AlterDatabaseSetStmt": "ALTER DATABASE ... SET", "DropdbStmt": "DROP DATABASE",
                 "CreateTableSpaceStmt": "CREATE TABLESPACE", "DropTableSpaceStmt": "DROP TABLESPACE",
                 "AlterTableSpaceOptionsStmt": "ALTER TABLESPACE", "AlterSystemStmt": "ALTER SYSTEM"}
_CLUSTER_WIDE_RENAMES = {OT.OBJECT_ROLE: "ALTER ROLE ... RENAME", OT.OBJECT_DATABASE: "ALTER DATABASE ... RENAME",
                         OT.OBJECT_TABLESPACE: "ALTER TABLESPACE ... RENAME"}


#: statements that run their expressions now (a view's, a trigger's, an index's, a default's of a
#: new table run later or only call what PostgreSQL requires IMMUTABLE)
_RUNS_QUERIES = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt,
                 ast.CreateTableAsStmt, ast.AlterTableStmt, ast.ExplainStmt, ast.CopyStmt)


def _calls(node: Any) -> list[ast.FuncCall]:
    """Every function call under ``node``."""
    found: list[ast.FuncCall] = []

    class V(Visitor):
        def visit_FuncCall(self, ancestors: Any, n: ast.FuncCall) -> None:
            found.append(n)

    V()(node)
    return found


class _Relations(Visitor):
    """Every table a (sub)tree reads, leaving out the names of its own CTEs."""

    def __init__(self, default: str | None) -> None:
        super().__init__()
        self.default = default
        self.names: set[str] = set()
        self.ctes: set[str] = set()

    def visit_RangeVar(self, ancestors: Any, node: ast.RangeVar) -> None:
        self.names.add(rel(node, self.default))

    def visit_CommonTableExpr(self, ancestors: Any, node: ast.CommonTableExpr) -> None:
        self.ctes.add(node.ctename)


def tables_read(node: Any, default: str | None = None) -> list[str]:
    """The tables ``node`` reads, as lint's model keys them (``rel``)."""
    if node is None:
        return []
    v = _Relations(default)
    v(node)
    return sorted(v.names - v.ctes)


#: schemas PostgreSQL keeps its catalogs in (an unqualified ``pg_*`` name is one of them:
#: ``pg_catalog`` is searched first)
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


def rel(node: ast.RangeVar | None, default: str | None = None) -> str:
    """A table's name as lint's model keys it (``model.key``): as PostgreSQL's parser gives it
    (unquoted names folded to lower case, quoted ones verbatim: ``"User"`` and ``user`` are two
    tables), qualified unless it is in
    ``public``; an unqualified name is in ``default`` (the first schema of a ``SET search_path`` the
    migration ran; None: ``public``); a system catalog's is qualified (``pg_catalog.pg_index``), so
    it is never taken for a table of the migrations."""
    if node is None:
        return ""
    name = node.relname
    schema = node.schemaname or ""
    if schema in SYSTEM_SCHEMAS or (not schema and name.startswith("pg_")):
        return f"{schema or 'pg_catalog'}.{name}"
    return key(schema or default, name)


def dotted(name: str, default: str | None = None) -> str:
    """``object_name``'s dotted name (``app.users``, ``users``) as lint's model keys it."""
    schema, _, bare = name.rpartition(".")
    return key(schema or default, bare)


def _strings(items: Any) -> list[str]:
    return [i.sval for i in items or () if isinstance(i, ast.String)]


def object_name(obj: Any) -> str:
    if isinstance(obj, ast.ObjectWithArgs):
        return ".".join(_strings(obj.objname))
    if isinstance(obj, ast.TypeName):
        return ".".join(n for n in _strings(obj.names) if n != "pg_catalog")
    if isinstance(obj, ast.String):
        return obj.sval
    if isinstance(obj, (tuple, list)):
        return ".".join(_strings(obj))
    return "?"


def type_info(tn: ast.TypeName | None) -> TypeInfo | None:
    if tn is None:
        return None
    name = [n for n in _strings(tn.names) if n != "pg_catalog"][-1]
    name = _ENGINE_TYPE.get(name, name)
    mods = [m.val.ival for m in tn.typmods or () if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer)]
    text = name + (f"({', '.join(map(str, mods))})" if mods else "") + ("[]" if tn.arrayBounds else "")
    return TypeInfo.of(text) if not tn.arrayBounds else TypeInfo(text, text)


def _const(node: Any) -> str:
    if isinstance(node, ast.A_Const) and node.val is not None:
        v = node.val
        return str(getattr(v, "sval", None) or getattr(v, "ival", None) or getattr(v, "fval", None) or 0)
    return "?"


def _constraint(c: ast.Constraint, column: str | None = None, default: str | None = None) -> Constraint | None:
    kinds = {ConstrType.CONSTR_PRIMARY: "PRIMARY KEY", ConstrType.CONSTR_UNIQUE: "UNIQUE",
             ConstrType.CONSTR_CHECK: "CHECK", ConstrType.CONSTR_FOREIGN: "FOREIGN KEY",
             ConstrType.CONSTR_EXCLUSION: "EXCLUDE"}
    kind = kinds.get(c.contype)
    if kind is None:
        return None
    name = c.conname or ""
    if column is not None:
        cols = [column]
    elif kind == "FOREIGN KEY":
        cols = _strings(c.fk_attrs)
    elif kind == "CHECK":
        cols = sorted({f.sval for ref in _column_refs(c.raw_expr) for f in ref.fields[-1:]
                       if isinstance(f, ast.String)})
    elif kind == "EXCLUDE":
        cols = []
    else:
        cols = _strings(c.keys)
    return Constraint(kind, cols, name, rel(c.pktable, default), tuple(_strings(c.pk_attrs)), not_valid=bool(c.skip_validation))


def _column_refs(node: Any) -> list[ast.ColumnRef]:
    found: list[ast.ColumnRef] = []

    class V(Visitor):
        def visit_ColumnRef(self, ancestors: Any, n: ast.ColumnRef) -> None:
            found.append(n)

    if node is not None:
        V()(node)
    return found


def new_column(cd: ast.ColumnDef, default_schema: str | None = None) -> NewColumn:
    """A column as PostgreSQL makes it: ``serial`` and identity columns are NOT NULL (the engine
    adds it: its catalog says so, as ``from_database`` reads it) and have a default."""
    name = cd.colname
    t = type_info(cd.typeName)
    serial = cd.typeName is not None and cd.typeName.names[-1].sval in _SERIAL  # its type is an integer's
    identity = bool(cd.identity and cd.identity != "\x00")
    not_null = bool(cd.is_not_null) or serial or identity
    default = bool(cd.raw_default) or identity or serial
    rules = []
    for c in cd.constraints or ():
        if c.contype == ConstrType.CONSTR_NOTNULL:
            not_null = True
        elif c.contype == ConstrType.CONSTR_IDENTITY:  # PostgreSQL makes an identity column NOT NULL
            not_null = default = True
        elif c.contype in (ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_GENERATED):
            default = True
        else:
            rule = _constraint(c, name, default_schema)
            if rule is not None:
                rules.append(rule)
                not_null = not_null or rule.kind == "PRIMARY KEY"
    return NewColumn(ColumnInfo(name, t, not not_null, default), rules)


class PostgresClassifier(Classifier):
    dialect = "postgresql"
    parser_name = "PostgreSQL's parser (pglast)"
    #: where unqualified names are: the first schema of the last ``SET search_path`` so far in this
    #: migration (None: ``public``; the runner gives each migration a fresh session)
    search: str | None = None

    def restart(self) -> None:
        self.search = None

    def rel(self, node: ast.RangeVar | None) -> str:
        return rel(node, self.search)

    def tables_read(self, node: Any) -> list[str]:
        return tables_read(node, self.search)

    def follow_search_path(self, s: Any) -> None:
        now = search_path_set(s)
        if now is not None:
            self.search = now or None

    def parse(self, st: Statement) -> Any:
        try:
            stmts = [raw.stmt for raw in pglast.parse_sql(st.sql)]
        except pglast.parser.ParseError as exc:
            raise Unreadable(str(exc)) from None
        if not stmts:
            raise Unreadable("no statement")
        return stmts

    def is_transaction_control(self, st: Statement, tree: Any) -> bool:
        return all(isinstance(s, ast.TransactionStmt) for s in tree)

    def is_system(self, table: str) -> bool:
        return table.split(".", 1)[0] in SYSTEM_SCHEMAS

    def shape(self, tree: Any) -> Shape:
        s = tree[0]
        self.follow_search_path(s)
        if isinstance(s, ast.CreateStmt):
            return Shape(creates=self.rel(s.relation))
        if isinstance(s, ast.CreateTableAsStmt) and s.objtype == OT.OBJECT_TABLE:
            name = self.rel(s.into.rel)
            return Shape(creates=name, copy_into=name, sources=frozenset(self.tables_read(s.query)))
        if isinstance(s, ast.DropStmt) and s.removeType == OT.OBJECT_TABLE:
            return Shape(drops=tuple(dotted(object_name(o), self.search) for o in s.objects))
        if isinstance(s, ast.RenameStmt) and s.renameType == OT.OBJECT_TABLE:
            return Shape(rename=(self.rel(s.relation), schema_of(self.rel(s.relation)) + s.newname))
        if isinstance(s, ast.InsertStmt) and s.selectStmt is not None:
            return Shape(copy_into=self.rel(s.relation), sources=frozenset(self.tables_read(s.selectStmt)))
        return Shape()

    def classify(self, st: Statement, tree: Any) -> Outcome:
        return merge([self.one(st, s) for s in tree] + [o for s in tree if (o := self.calls_code(st, s))])

    # code no parser reads: the project's functions that may write, procedures, EXECUTE
    def code_declared(self) -> bool:
        """Whether the header says what the code its statements call writes (``-- Writes: t`` or
        ``-- Writes: none``)."""
        m = self.lint.migration
        return bool(m.writes(self.engine)[0]) or m.writes_nothing(self.engine)

    def may_write(self, st: Statement, what: str) -> None:
        self.add(MAY_WRITE_THROUGH_CODE.at(
            self.lint.file, st.line, f"statement {st.index} {what}: it may write rows through code no parser can "
                                     "read; counted as Category 3 until the header says what it writes "
                                     "(-- Writes: t1, t2, or -- Writes: none)"))

    def calls_code(self, st: Statement, s: Any) -> Outcome | None:
        """A statement that runs queries and calls a function the project defines that may write
        (not ``STABLE``/``IMMUTABLE``): Category 3 unless the header says what it writes."""
        if not isinstance(s, _RUNS_QUERIES) or not self.schema.routines:
            return None
        names = sorted({name for call in _calls(s) if self.schema.routines.get(name := self.routine(call)) == "volatile"})
        if not names or self.code_declared():
            return None
        what = f"calls {', '.join(n + '()' for n in names)}, which the project defines without STABLE/IMMUTABLE"
        self.may_write(st, what)
        return Outcome(3, "calls-code", f"{what}: may write rows through code no parser reads; counted as a data "
                                        "migration (the header does not say what it writes)")

    def routine(self, call: ast.FuncCall) -> str:
        """The model name of a called function (``public`` bare, like tables); the engine's own
        (``pg_catalog``, ``information_schema``) come back qualified, never a project's."""
        parts = _strings(call.funcname)
        schema = parts[-2] if len(parts) > 1 else None
        return ".".join(parts) if schema in SYSTEM_SCHEMAS else key(schema or self.search, parts[-1])

    def one(self, st: Statement, s: Any) -> Outcome:
        kind = type(s).__name__
        what = _CLUSTER_WIDE.get(kind) or (_CLUSTER_WIDE_RENAMES.get(s.renameType) if kind == "RenameStmt" else None)
        if what:
            self.add(CLUSTER_WIDE.at(self.lint.file, st.line, f"statement {st.index} ({what}) changes the whole server, "
                                     "not only this database: on the target it runs as written; the rehearsal and "
                                     "lint's replay "
                                     + ("create the role on the real server too, and drop it after them"
                                        if kind == "CreateRoleStmt" else "do not run it on the real server (skipped, "
                                        "or run on the scratch database when it names this one)")))
        handler = getattr(self, f"on_{kind}", None)
        if handler is not None:
            return handler(st, s)
        if kind in _NEW_OBJECTS:
            return Outcome(1, f"create-{_NEW_OBJECTS[kind].replace(' ', '-')}", f"new {_NEW_OBJECTS[kind]}; no data change")
        if kind in _NO_CHANGE:
            return Outcome(1, kind.removesuffix("Stmt").lower(), f"{_NO_CHANGE[kind]}: no schema or data change")
        return self.unclassified(st, f"{kind} statements are not classified by the linter")

    # settings and reads
    def on_TransactionStmt(self, st: Statement, s: ast.TransactionStmt) -> Outcome:
        return Outcome(1, "transaction-control", "transaction control inside a statement list")

    def on_VariableSetStmt(self, st: Statement, s: ast.VariableSetStmt) -> Outcome:
        self.follow_search_path(s)
        if (s.name or "").lower() != "lock_timeout":
            return Outcome(1, "setting", "SET/RESET: a session setting; no schema or data change")
        if s.kind in (VariableSetKind.VAR_RESET, VariableSetKind.VAR_SET_DEFAULT):
            return self.set_lock_timeout(st, self.runner_lock_timeout_ms, "the runner's setting")
        value = _const(s.args[0]) if s.args else "?"
        return self.set_lock_timeout(st, duration_ms(value), value)

    def on_SelectStmt(self, st: Statement, s: ast.SelectStmt) -> Outcome:
        if s.intoClause is not None:
            name = self.rel(s.intoClause.rel)
            return self.create_table(st, name, None, [], sources=self.tables_read(s.fromClause), as_query=True)
        for target in s.targetList or ():
            call = target.val if isinstance(target, ast.ResTarget) else None
            if isinstance(call, ast.FuncCall) and _strings(call.funcname)[-1:] == ["set_config"] and call.args \
                    and len(call.args) >= 2 and _const(call.args[0]).lower() == "lock_timeout":
                value = _const(call.args[1])
                return self.set_lock_timeout(st, duration_ms(value), repr(value))
        return Outcome(1, "read-only", "read-only query")

    def on_VacuumStmt(self, st: Statement, s: ast.VacuumStmt) -> Outcome:
        full = any(o.defname == "full" for o in s.options or ())
        word = "VACUUM" if s.is_vacuumcmd else "ANALYZE"
        return Outcome(1, word.lower(), f"{word}: maintenance; no schema or data change", lock_heavy=full)

    def on_ClusterStmt(self, st: Statement, s: Any) -> Outcome:
        return Outcome(1, "cluster", "CLUSTER: maintenance; no schema or data change", lock_heavy=True)

    def on_ReindexStmt(self, st: Statement, s: ast.ReindexStmt) -> Outcome:
        concurrently = any(p.defname == "concurrently" for p in s.params or ())
        return Outcome(1, "reindex", "REINDEX: maintenance; no schema or data change", lock_heavy=not concurrently)

    def on_LockStmt(self, st: Statement, s: Any) -> Outcome:
        return Outcome(1, "lock", "LOCK TABLE: no schema or data change, but blocks others", lock_heavy=True)

    def on_RefreshMatViewStmt(self, st: Statement, s: ast.RefreshMatViewStmt) -> Outcome:
        return Outcome(1, "refresh-view", f"REFRESH MATERIALIZED VIEW {self.rel(s.relation)}: recomputes a view; "
                                          "no table data change", lock_heavy=not s.concurrent)

    def on_AlterEnumStmt(self, st: Statement, s: ast.AlterEnumStmt) -> Outcome:
        if s.oldVal:
            return Outcome(2, "alter-type", f"renames enum value {s.oldVal!r} to {s.newVal!r}: code using the old "
                                            "value breaks")
        return Outcome(1, "alter-type", "ALTER TYPE ... ADD VALUE: a new enum value; existing rows unchanged")

    def on_DoStmt(self, st: Statement, s: Any) -> Outcome:
        """A PL/pgSQL block is classified by what PostgreSQL's PL/pgSQL parser finds in it: each
        statement it runs as written (in every branch: each may run) as if it stood alone, and its
        other SQL (PERFORM, assignments, conditions) for calls of the project's code. Drizzle's
        ``DO $$ BEGIN CREATE TYPE ...; EXCEPTION WHEN duplicate_object THEN null; END $$`` is a new
        type, Harbor's loops of ``UPDATE`` a data migration. Which statements run depends on the
        block's conditions: names it creates or drops are doubtful afterwards."""
        block = do_block(st.sql)
        if block is None:
            return self.unclassified(st, "a DO block PostgreSQL's PL/pgSQL parser cannot read")
        if block.opaque:
            self.schema.doubt = self.schema.doubt or f"statement {st.index} of {self.lint.migration.label} runs EXECUTE"
            if not self.code_declared():
                self.may_write(st, "is a DO block that runs SQL no parser can read (EXECUTE, CALL)")
            return Outcome(3, "do-execute", "a DO block that runs SQL no parser can read (EXECUTE, CALL): what it "
                                            "changes cannot be classified; counted as the highest risk", lock_heavy=True)
        outcomes: list[Outcome] = []
        for sql, runs in [(q, True) for q in block.statements] + [(q, False) for q in block.expressions]:
            try:
                inner = [raw.stmt for raw in pglast.parse_sql(sql)]
            except pglast.parser.ParseError as exc:
                return self.unclassified(st, f"PostgreSQL's parser cannot read the DO block's {sql[:60]!r} ({exc})")
            for node in inner:
                outcomes += [self.one(st, node)] if runs else []
                outcomes += [o] if (o := self.calls_code(st, node)) else []
        if block.statements:
            self.schema.doubt = self.schema.doubt or (f"statement {st.index} of {self.lint.migration.label} is a DO "
                                                      "block whose statements run as its conditions say")
        top = merge(outcomes) if outcomes else Outcome(1, "read-only", "reads and computes only")
        reasons = list(dict.fromkeys(o.reason for o in outcomes if o.category == top.category))
        shown = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
        return Outcome(top.category, "do-block", f"a DO block: {shown or top.reason}", destructive=top.destructive,
                       lock_heavy=top.lock_heavy)

    def on_CallStmt(self, st: Statement, s: ast.CallStmt) -> Outcome:
        name = self.routine(s.funccall)
        if self.code_declared():
            return Outcome(1, "call", f"CALL {name}: the header says what it writes (-- Writes:)")
        self.may_write(st, f"CALLs procedure {name}")
        return Outcome(3, "call", f"CALL {name} runs a procedure no parser reads: it may write rows; counted as a "
                                  "data migration (the header does not say what it writes)")

    # CREATE
    def on_CreateStmt(self, st: Statement, s: ast.CreateStmt) -> Outcome:
        name = self.rel(s.relation)
        columns: dict[str, ColumnInfo] = {}
        constraints: list[Constraint] = []
        for item in s.tableElts or ():
            if isinstance(item, ast.ColumnDef):
                new = new_column(item, self.search)
                columns[new.column.name] = new.column
                constraints += [c for c in new.rules if c.kind == "FOREIGN KEY"]
            elif isinstance(item, ast.Constraint):
                c = _constraint(item, None, self.search)
                if c is not None:
                    constraints.append(c)
        if s.inhRelations or s.partbound is not None or s.ofTypename is not None or any(
                isinstance(item, ast.TableLikeClause) for item in s.tableElts or ()):
            columns = None  # columns come from elsewhere
        return self.create_table(st, name, columns, constraints, if_not_exists=bool(s.if_not_exists))

    def on_CreateTableAsStmt(self, st: Statement, s: ast.CreateTableAsStmt) -> Outcome:
        name = self.rel(s.into.rel)
        if s.objtype == OT.OBJECT_MATVIEW:
            return self.create_view(name, materialized=True)
        sources = self.tables_read(s.query)
        return self.create_table(st, name, None, [], if_not_exists=bool(s.if_not_exists), sources=sources, as_query=True)

    def on_ViewStmt(self, st: Statement, s: ast.ViewStmt) -> Outcome:
        return self.create_view(self.rel(s.view))

    def on_IndexStmt(self, st: Statement, s: ast.IndexStmt) -> Outcome:
        columns = [p.name for p in s.indexParams or () if isinstance(p, ast.IndexElem) and p.name]
        columns += sorted({f.sval for p in s.indexParams or () if isinstance(p, ast.IndexElem) and p.expr
                           for ref in _column_refs(p.expr) for f in ref.fields[-1:] if isinstance(f, ast.String)})
        table = self.rel(s.relation)
        name = schema_of(table) + s.idxname if s.idxname else ""
        return self.create_index(st, name, table, columns, unique=bool(s.unique),
                                 concurrently=bool(s.concurrent))

    def on_CreateFunctionStmt(self, st: Statement, s: ast.CreateFunctionStmt) -> Outcome:
        volatility = next((d.arg.sval.lower() for d in s.options or () if d.defname == "volatility"), "volatile")
        self.schema.routines[self.routine(ast.FuncCall(funcname=s.funcname))] = \
            "procedure" if s.is_procedure else volatility
        return self.create_routine("procedure" if s.is_procedure else "function", ".".join(_strings(s.funcname)),
                                   bool(s.replace))

    def on_CreateTrigStmt(self, st: Statement, s: ast.CreateTrigStmt) -> Outcome:
        return self.trigger(st, self.rel(s.relation))

    # DROP
    def on_DropStmt(self, st: Statement, s: ast.DropStmt) -> Outcome:
        names = [object_name(o) for o in s.objects or ()]
        plain = [dotted(n, self.search) for n in names]
        t = s.removeType
        if t == OT.OBJECT_TABLE:
            return self.drop_tables(plain, bool(s.missing_ok))
        if t == OT.OBJECT_INDEX:
            return self.drop_indexes(plain, bool(s.concurrent))
        if t in (OT.OBJECT_VIEW, OT.OBJECT_MATVIEW):
            return self.drop_views(plain, bool(s.missing_ok))
        if t == OT.OBJECT_SCHEMA:
            cascade = s.behavior == pglast.enums.DropBehavior.DROP_CASCADE
            self.drop_schemas(names)
            return Outcome(2, "drop-schema", f"drops schema {', '.join(names)}"
                           + (" and everything in it (CASCADE): its tables' rows" if cascade else
                              ": what uses it breaks (it must be empty)"), destructive=cascade, lock_heavy=cascade)
        if t == OT.OBJECT_TRIGGER:
            return self.drop_triggers(names)
        if t in (OT.OBJECT_FUNCTION, OT.OBJECT_PROCEDURE, OT.OBJECT_ROUTINE):
            for name in plain:
                self.schema.routines.pop(name, None)
        kind = OT(t).name.removeprefix("OBJECT_").lower().replace("_", " ")
        return self.drop_other(kind, names)

    # renames
    def on_RenameStmt(self, st: Statement, s: ast.RenameStmt) -> Outcome:
        t, table, new = s.renameType, self.rel(s.relation), s.newname or ""
        if t in (OT.OBJECT_TABLE, OT.OBJECT_INDEX, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW):
            new = schema_of(table) + new  # a renamed relation stays in its schema
        if t == OT.OBJECT_TABLE:
            if s.missing_ok and self.schema.exists(table) is False:
                return Outcome(1, "rename-table", f"ALTER TABLE IF EXISTS {table}: no such table, nothing changes")
            if not self.check_table(st, table, "ALTER TABLE"):
                return Outcome(1, "rename-table", f"renames {table}, which does not exist: it will fail")
            return self.rename_table(table, new)
        if t == OT.OBJECT_COLUMN:
            if s.relationType in (OT.OBJECT_VIEW, OT.OBJECT_MATVIEW) or table in self.schema.views:
                return Outcome(2, "rename-column", f"renames view column {table}.{s.subname} to {new}: readers break")
            if not self.alter_table(st, table, bool(s.missing_ok)):
                return Outcome(1, "rename-column", f"ALTER TABLE {table}: no such table, nothing changes")
            return self.rename_column(st, table, s.subname, new)
        if t == OT.OBJECT_TABCONSTRAINT:
            return self.rename_constraint(table, s.subname, new)
        if t == OT.OBJECT_INDEX:
            return self.rename_index(table, new)
        if t in (OT.OBJECT_VIEW, OT.OBJECT_MATVIEW):
            self.schema.views = (self.schema.views - {table}) | {new}
            return Outcome(2, "rename-view", f"renames view {table} to {new}: readers using the old name break")
        if t in _RENAME_BREAKS:
            return Outcome(2, f"rename-{_RENAME_BREAKS[t]}", f"renames {_RENAME_BREAKS[t]} "
                           f"{object_name(s.object) if s.object is not None else (s.subname or '')} to {new}: "
                           "what uses the old name breaks")
        what = OT(t).name.removeprefix("OBJECT_").lower().replace("_", " ")
        return Outcome(1, "rename", f"renames {what} to {new}: nothing refers to it by name in a way a rename breaks")

    def on_AlterObjectSchemaStmt(self, st: Statement, s: Any) -> Outcome:
        if s.objectType in (OT.OBJECT_TABLE, OT.OBJECT_VIEW, OT.OBJECT_MATVIEW) and s.relation is not None:
            old = self.rel(s.relation)
            self.rename_table(old, key(s.newschema, old.rpartition(".")[2]))
        return Outcome(2, "set-schema", "moves an object to another schema: queries using its old qualified name break")

    # ALTER TABLE
    def on_AlterTableStmt(self, st: Statement, s: ast.AlterTableStmt) -> Outcome:
        table = self.rel(s.relation)
        if s.objtype != OT.OBJECT_TABLE:
            what = OT(s.objtype).name.removeprefix("OBJECT_").lower()
            return Outcome(1, f"alter-{what}", f"ALTER {what.upper()} {table}: no data change")
        if not self.alter_table(st, table, bool(s.missing_ok)):
            return Outcome(1, "alter-table", f"ALTER TABLE {table}: no such table, nothing changes")
        return merge([self.alter_cmd(st, table, c) for c in s.cmds or ()])

    def alter_cmd(self, st: Statement, table: str, c: ast.AlterTableCmd) -> Outcome:
        t, col = c.subtype, c.name or ""
        if t == AT.AT_AddColumn:
            return self.add_column(st, table, new_column(c.def_, self.search))
        if t == AT.AT_DropColumn:
            return self.drop_columns(st, table, [col], bool(c.missing_ok))
        if t == AT.AT_AlterColumnType:
            return self.alter_column_type(st, table, col, type_info(c.def_.typeName))
        if t == AT.AT_SetNotNull:
            return self.set_not_null(st, table, col)
        if t == AT.AT_DropNotNull:
            return self.drop_not_null(st, table, col)
        if t == AT.AT_ColumnDefault:
            return self.column_default(st, table, col, c.def_ is not None)
        if t == AT.AT_AddConstraint:
            rule = _constraint(c.def_, None, self.search)
            if rule is None:
                return self.unclassified(st, f"constraint {ConstrType(c.def_.contype).name}")
            return self.add_constraint(st, table, rule)
        if t == AT.AT_DropConstraint:
            if c.missing_ok:
                info = self.schema.tables.get(table)
                if info is not None and info.columns is not None and col not in info.constraints and self.schema.closed:
                    return Outcome(1, "drop-constraint", f"DROP CONSTRAINT IF EXISTS {col}: not known on {table}")
            return self.drop_constraint(table, col)
        if t == AT.AT_ValidateConstraint:
            return Outcome(1, "validate-constraint", "VALIDATE CONSTRAINT: checks existing rows; no change")
        if t == AT.AT_AttachPartition:
            part = self.rel(c.def_.name)
            return Outcome(1, "attach-partition", f"attaches {part} to {table} as a partition: its rows become rows "
                                                  f"of {table}, none changed (they are scanned against the partition's "
                                                  "bounds unless a CHECK constraint proves them)",
                           lock_heavy=self.existed(part))
        if t in (AT.AT_DetachPartition, AT.AT_DetachPartitionFinalize):
            part = self.rel(c.def_.name)
            return Outcome(2, "detach-partition", f"detaches {part} from {table}: its rows are no longer rows of "
                                                  f"{table}, so queries on {table} lose them",
                           lock_heavy=not c.def_.concurrent)
        if t == AT.AT_AlterConstraint:
            return Outcome(1, "alter-constraint", f"ALTER CONSTRAINT {c.def_.conname} of {table}: when the foreign key "
                                                  "is checked (DEFERRABLE, INITIALLY ...); no row read or changed")
        if t in _HARMLESS_AT:
            return Outcome(1, "alter-table", f"ALTER TABLE {table} {AT(t).name.removeprefix('AT_')}: no data change")
        return self.unclassified(st, f"ALTER TABLE action {AT(t).name}")

    # data
    def on_InsertStmt(self, st: Statement, s: ast.InsertStmt) -> Outcome:
        conflict = s.onConflictClause
        overwrite = conflict is not None and conflict.action == OnConflictAction.ONCONFLICT_UPDATE
        sources = self.tables_read(s.selectStmt)
        if s.withClause is not None:
            sources = sorted(set(sources) | set(self.tables_read(s.withClause)))
        return self.insert(st, self.rel(s.relation), sources, overwrite)

    def on_UpdateStmt(self, st: Statement, s: ast.UpdateStmt) -> Outcome:
        table = self.rel(s.relation)
        cols = [t.name for t in s.targetList or () if isinstance(t, ast.ResTarget) and t.name]
        reads = sorted(set(self.tables_read(s.fromClause)) | set(self.tables_read(s.whereClause)) - {table})
        return self.update(st, table, cols, reads)

    def on_DeleteStmt(self, st: Statement, s: ast.DeleteStmt) -> Outcome:
        return self.delete(st, self.rel(s.relation))

    def on_TruncateStmt(self, st: Statement, s: ast.TruncateStmt) -> Outcome:
        return self.truncate([self.rel(r) for r in s.relations or ()])

    def on_MergeStmt(self, st: Statement, s: ast.MergeStmt) -> Outcome:
        return self.merge_into(self.rel(s.relation))
