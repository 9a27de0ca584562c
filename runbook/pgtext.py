"""PostgreSQL text, read by PostgreSQL's parser: pglast, which embeds libpg_query.

The PostgreSQL half of ``sqltext``, in a module of its own so that only a process that reads
PostgreSQL text loads pglast (``sqltext.reader`` imports it for the ``postgres``/``postgresql``
dialects): a SQLite run never does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pglast
from pglast import ast as pg_ast
from pglast import parser as pg_parser
from pglast.enums import ObjectType, RoleSpecType, VariableSetKind
from pglast.stream import RawStream
from pglast.visitors import Visitor

from .errors import BadInput, NotOnScratch
from .sqltext import Statement, line_of, split

_PG_COUNTING = {"count", "sum", "avg"}


@lru_cache(maxsize=4096)
def tree(sql: str) -> pg_ast.Node | None:
    """PostgreSQL's parse tree of one statement, or ``None`` when it does not parse."""
    try:
        raw = pg_parser.parse_sql(sql)
    except pg_parser.ParseError:
        return None
    return raw[0].stmt if len(raw) == 1 else None


def created_roles(sql: str) -> set[str]:
    """The roles ``sql`` creates by name: each ``CREATE ROLE``/``CREATE USER``/``CREATE GROUP``
    PostgreSQL's parser finds in it, and in the statements a PL/pgSQL ``DO`` block runs as written
    (``do_statements``). Names built at run time (``EXECUTE``, a function's body) are not seen."""
    try:
        raw = pg_parser.parse_sql(sql)
    except pg_parser.ParseError:
        return set()
    found: set[str] = set()
    for r in raw:
        if isinstance(r.stmt, pg_ast.CreateRoleStmt):
            found.add(r.stmt.role)
        elif isinstance(r.stmt, pg_ast.DoStmt):
            inner = do_statements(sql[r.stmt_location or 0:][:r.stmt_len or None])
            for query in inner[0] if inner else ():
                found |= created_roles(query)
    return found


def role_statement(sql: str) -> tuple[set[str], bool]:
    """The roles a statement that only creates, alters, drops or grants roles names (``CREATE`` /
    ``ALTER`` / ``DROP ROLE``, ``ALTER ROLE ... SET``, ``GRANT`` / ``REVOKE`` role membership),
    and whether it creates them; no names for any other statement."""
    node = tree(sql)
    if isinstance(node, pg_ast.CreateRoleStmt):
        return {node.role}, True
    if isinstance(node, pg_ast.DropRoleStmt):
        return {r.rolename for r in node.roles or () if r.rolename}, False
    if isinstance(node, (pg_ast.AlterRoleStmt, pg_ast.AlterRoleSetStmt)):
        return ({node.role.rolename} if node.role is not None and node.role.rolename else set()), False
    if isinstance(node, pg_ast.GrantRoleStmt):
        names = {g.priv_name for g in node.granted_roles or () if g.priv_name}
        return names | {r.rolename for r in node.grantee_roles or () if r.rolename}, False
    return set(), False


#: functions that act on the whole server at once (its sessions, its configuration, its WAL and
#: replication slots, its shared statistics), not undone by a rollback
SERVER_FUNCTIONS = frozenset({
    "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_switch_wal",
    "pg_create_restore_point", "pg_promote", "pg_create_physical_replication_slot",
    "pg_create_logical_replication_slot", "pg_drop_replication_slot", "pg_copy_physical_replication_slot",
    "pg_copy_logical_replication_slot", "pg_replication_origin_create", "pg_replication_origin_drop",
    "pg_stat_reset_shared", "pg_stat_reset_slru", "pg_stat_reset_replication_slot", "pg_log_backend_memory_contexts",
    "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync", "pg_logdir_ls", "pg_wal_replay_pause",
    "pg_wal_replay_resume", "pg_backup_start", "pg_backup_stop"})


def server_calls(sql: str) -> list[str]:
    """The calls of ``SERVER_FUNCTIONS`` in ``sql`` as PostgreSQL's parser reads it, and in
    every expression and statement a PL/pgSQL ``DO`` block holds as written."""
    node = tree(sql)
    if node is None:
        return []
    found = []
    for n in [node, *_nodes(node)]:
        if isinstance(n, pg_ast.FuncCall) and n.funcname[-1].sval.lower() in SERVER_FUNCTIONS:
            found.append(n.funcname[-1].sval.lower())
    for inner in do_expressions(sql) if isinstance(node, pg_ast.DoStmt) else ():
        found += server_calls(inner)
    return sorted(set(found))


def _nodes(node: pg_ast.Node) -> list[pg_ast.Node]:
    kinds = _Kinds()
    kinds(node)
    return kinds.found


def _skipped(reason: str) -> tuple[None, str]:
    """A statement not run on a scratch database, and why (its note in the result)."""
    return None, f"not run on the scratch database: {reason}; it runs on the target"


def scratch_form(sql: str, roles: frozenset[str], tablespaces: frozenset[str], databases: frozenset[str],
                 database: str, scratch: str, *, create: bool) -> tuple[str | None, str | None]:
    """How one statement of a migration runs on the scratch database ``scratch`` of the server
    whose ``roles``, ``tablespaces`` and ``databases`` exist (before the scratch run), the target
    being ``database``: ``(sql, None)`` as written; ``(other sql, note)`` run on the scratch
    database instead of the target's (where that is exact: it changes the database the migration
    runs in); ``(None, note)`` skipped; ``NotOnScratch`` when skipping it would make the scratch
    run lie. ``create``: a statement creating a role, tablespace or database that exists runs
    (and fails, as it will on the target) instead of being skipped (a replay from empty skips it:
    the migrations made it there)."""
    node = tree(sql)
    if node is None:
        return sql, None
    kind = type(node).__name__
    calls = server_calls(sql)
    if calls:
        shown = ", ".join(f"{c}()" for c in calls)
        if isinstance(node, pg_ast.SelectStmt) and writes(node, sql) is None:
            return _skipped(f"it calls {shown}, which acts on the whole server (not undone by a rollback)")
        raise NotOnScratch(f"{' '.join(sql.split())[:80]!r} calls {shown}, which acts on the whole server (not undone "
                           "by a rollback), in a statement that also does other work: it cannot be rehearsed on a scratch "
                           "database of the same server, nor skipped. Call it in a SELECT of its own (the scratch "
                           "run skips it), or from an administrator's script outside the migrations")
    # roles
    if isinstance(node, (pg_ast.AlterRoleStmt, pg_ast.AlterRoleSetStmt)) and (
            node.role is None or node.role.roletype != RoleSpecType.ROLESPEC_CSTRING):
        who = "every role" if node.role is None else node.role.roletype.name.removeprefix("ROLESPEC_").lower()
        return _skipped(f"it changes {who} of the real server")
    names, creates = role_statement(sql)
    if names and names <= roles and (create or not creates):
        return None, (f"not replayed: role {', '.join(sorted(names))} is the server's (roles belong to the whole server, "
                      "where the migrations already made it)" if create else
                      _skipped(f"it changes role {', '.join(sorted(names))} of the real server")[1])
    named = _shared_object(node)
    if named is not None:
        what, name = named
        if what == "role":
            return _skipped(f"it changes role {name} of the real server") if name in roles else (sql, None)
        if what == "tablespace":
            return _tablespace(node, sql, name, tablespaces, create)
        return _database(node, sql, name, databases, database, scratch, create)
    if kind == "AlterSystemStmt":
        return _skipped("ALTER SYSTEM rewrites the real server's configuration (postgresql.auto.conf)")
    return sql, None


def _shared_object(node: pg_ast.Node) -> tuple[str, str] | None:
    """``("role" | "tablespace" | "database", name)`` of the shared object a statement changes
    (beyond the role statements of ``role_statement``), or None."""
    kinds = {ObjectType.OBJECT_ROLE: "role", ObjectType.OBJECT_TABLESPACE: "tablespace",
             ObjectType.OBJECT_DATABASE: "database"}
    if isinstance(node, (pg_ast.CreateTableSpaceStmt, pg_ast.DropTableSpaceStmt, pg_ast.AlterTableSpaceOptionsStmt)):
        return "tablespace", node.tablespacename
    if isinstance(node, (pg_ast.CreatedbStmt, pg_ast.DropdbStmt, pg_ast.AlterDatabaseStmt, pg_ast.AlterDatabaseSetStmt,
                         pg_ast.AlterDatabaseRefreshCollStmt)):
        return "database", node.dbname
    if isinstance(node, pg_ast.RenameStmt) and node.renameType in kinds:
        return kinds[node.renameType], node.subname
    if isinstance(node, pg_ast.AlterOwnerStmt) and node.objectType in kinds:
        return kinds[node.objectType], node.object.sval
    if isinstance(node, (pg_ast.CommentStmt, pg_ast.SecLabelStmt)) and node.objtype in kinds:
        return kinds[node.objtype], node.object.sval
    if isinstance(node, pg_ast.GrantStmt) and node.objtype in kinds and node.objects:
        return kinds[node.objtype], ",".join(o.sval for o in node.objects)
    return None


def _tablespace(node: pg_ast.Node, sql: str, name: str, tablespaces: frozenset[str],
                create: bool) -> tuple[str | None, str | None]:
    names = set(name.split(","))
    if isinstance(node, pg_ast.CreateTableSpaceStmt):
        if name not in tablespaces:
            raise NotOnScratch(f"CREATE TABLESPACE {name} would create a tablespace on the real server (tablespaces "
                               "belong to the whole server, and CREATE TABLESPACE is not undone by a rollback), and "
                               "what the statements after it put there could not be rehearsed without it: create the "
                               "tablespace by an administrator's script outside the migrations")
        return (None, f"not replayed: tablespace {name} is the server's, where the migrations already made it") \
            if create else (sql, None)
    if names & tablespaces:
        return _skipped(f"it changes tablespace {name} of the real server")
    return sql, None  # no such tablespace: it fails, as it will on the target


def _database(node: pg_ast.Node, sql: str, name: str, databases: frozenset[str], database: str, scratch: str,
              create: bool) -> tuple[str | None, str | None]:
    names = set(name.split(","))
    if isinstance(node, pg_ast.CreatedbStmt):
        if name in databases and not create:
            return sql, None  # fails ("already exists"), as it will on the target
        return _skipped(f"it would create database {name} on the real server")
    exact = (pg_ast.AlterDatabaseSetStmt, pg_ast.RenameStmt, pg_ast.CommentStmt, pg_ast.SecLabelStmt, pg_ast.GrantStmt,
             pg_ast.DropdbStmt)
    if names == {database} and isinstance(node, exact):
        node = pg_parser.parse_sql(sql)[0].stmt  # a copy of its own: ``tree``'s are shared
        _rename_database(node, scratch)
        return RawStream()(node), (f"run on the scratch database instead of {database}: it changes the database the "
                                   "migration runs in")
    if names & (databases | {database}):
        return _skipped(f"it changes the target's database {database}, for which the scratch database cannot stand "
                        "in exactly (its owner, connection rules, template flag, tablespace)" if database in names else
                        f"it changes database {name} of the real server")
    return sql, None  # no such database: it fails, as it will on the target


def _rename_database(node: pg_ast.Node, scratch: str) -> None:
    """Name the database ``scratch`` where ``node`` names the target's (``_database`` runs it there)."""
    if isinstance(node, (pg_ast.AlterDatabaseSetStmt, pg_ast.DropdbStmt)):
        node.dbname = scratch
    elif isinstance(node, pg_ast.RenameStmt):
        node.subname = scratch
    elif isinstance(node, pg_ast.GrantStmt):
        node.objects = tuple(pg_ast.String(sval=scratch) for _ in node.objects)
    else:
        node.object = pg_ast.String(sval=scratch)


def search_path_set(node: Any) -> str | None:
    """After ``SET [LOCAL] search_path`` or ``RESET search_path`` (``node``, its parse tree): the
    schema unqualified names are in (``""``: ``public``, or ``$user``'s default); None for any
    other statement."""
    if not isinstance(node, pg_ast.VariableSetStmt) or (node.name or "").lower() != "search_path":
        return None
    first = node.args[0] if node.kind == VariableSetKind.VAR_SET_VALUE and node.args else None
    value = (getattr(getattr(first, "val", None), "sval", None) or "public").lower()
    return "" if value in ("public", "$user") else value


class PostgresReader:
    """PostgreSQL text, read by PostgreSQL's parser (pglast embeds libpg_query)."""

    def split(self, sql: str, source: str) -> list[tuple[int, str]]:
        """(offset, text) of each statement, as PostgreSQL's parser delimits them (``RawStmt``)."""
        try:
            raw = pg_parser.parse_sql(sql)
        except pg_parser.ParseError as exc:
            message, offset = (tuple(exc.args) + (None, None))[:2]
            where = f"{source}:{line_of(sql, offset)}" if isinstance(offset, int) else source
            raise BadInput(f"{where}: PostgreSQL cannot parse it: {message or exc}") from None
        out = []
        for r in raw:
            start = r.stmt_location or 0
            text = sql[start: start + r.stmt_len] if r.stmt_len else sql[start:]
            out.append((start, text.strip()))
        return out

    def is_transaction_control(self, st: Statement) -> bool:
        return isinstance(tree(st.sql), pg_ast.TransactionStmt)

    def shows_row_data(self, st: Statement) -> bool:
        node = tree(st.sql)
        if not isinstance(node, pg_ast.SelectStmt):
            return True
        if any(getattr(node, k, None) for k in ("groupClause", "valuesClause", "larg")):
            return True
        for target in getattr(node, "targetList", None) or ():
            value = target.val
            if isinstance(value, pg_ast.A_Const):
                continue
            if isinstance(value, pg_ast.FuncCall) and value.funcname[-1].sval.lower() in _PG_COUNTING:
                continue
            return True
        return False

    def created_table(self, st: Statement) -> str | None:
        node = tree(st.sql)
        relation = (node.relation if isinstance(node, pg_ast.CreateStmt)
                    else node.into.rel if isinstance(node, pg_ast.CreateTableAsStmt) else None)
        return relation.relname if relation is not None else None

    def writes(self, st: Statement) -> str | None:
        return writes(tree(st.sql), st.sql)


READER = PostgresReader()


@dataclass
class DoBlock:
    """What a PL/pgSQL ``DO`` block runs, read by PostgreSQL's own PL/pgSQL parser."""

    statements: list[str]  # the SQL statements it runs as written (in every branch and loop: each may run)
    expressions: list[str]  # the other SQL it evaluates (PERFORM, assignments, conditions, loops' queries), as SELECTs
    opaque: bool  # it also runs SQL no parser can read before it runs (EXECUTE, CALL)


#: ``n := f(x)`` / ``r.f = g()``: a PL/pgSQL assignment's target, before the expression it evaluates
_ASSIGNED = re.compile(r"^\s*[\w.\"\[\]]+\s*:?=\s*")


def do_block(sql: str) -> DoBlock | None:
    """``sql``'s ``DoBlock``; ``None``: not a PL/pgSQL ``DO`` block that parses."""
    node = tree(sql)
    if not isinstance(node, pg_ast.DoStmt):
        return None
    args = {d.defname: d.arg.sval for d in node.args}
    body = args.get("as")
    if body is None or args.get("language", "plpgsql").lower() != "plpgsql":
        return None
    return plpgsql_block(body, "void")


def plpgsql_block(body: str, returns: str, arguments: str = "") -> DoBlock | None:
    """What a PL/pgSQL body (a ``DO`` block's, or a function's returning ``returns``: ``trigger``
    for a trigger function; ``arguments``: its parameters, as ``pg_get_function_arguments`` prints
    them) runs, as a ``DoBlock``; ``None`` when PL/pgSQL's parser rejects it."""
    tag = "$runbook_do$"
    while tag in body:
        tag = tag[:-1] + "_$"
    try:
        function = pglast.parse_plpgsql(f"CREATE FUNCTION runbook_do({arguments}) RETURNS {returns} LANGUAGE plpgsql "
                                        f"AS {tag}{body}{tag}")
    except pg_parser.ParseError:
        return None
    block = DoBlock([], [], False)

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in ("PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors", "PLpgSQL_stmt_call"):
                    block.opaque = True
                elif key == "PLpgSQL_stmt_execsql":
                    block.statements.append(value["sqlstmt"]["PLpgSQL_expr"]["query"])
                    continue
                elif key == "PLpgSQL_expr":  # parseMode 0: a query; 1: a type name; 2: an expression; 3-5: assignments
                    mode, query = value.get("parseMode", 0), value["query"]
                    if mode != 1:
                        block.expressions.append(query if mode == 0 else
                                                 "SELECT " + (_ASSIGNED.sub("", query, count=1) if mode >= 3 else query))
                walk(value)

    walk(function)
    return block


def new_fields_set(source: str) -> set[str] | None:
    """The columns of ``NEW`` a PL/pgSQL trigger function's body (``source``: ``pg_proc.prosrc``)
    assigns (``NEW.updated_at = now()``, ``SELECT ... INTO NEW.c``), read by PostgreSQL's own
    PL/pgSQL parser: what a ``BEFORE UPDATE`` row trigger may change in the rows it fires for.
    ``None``: any column may change (it assigns ``NEW`` whole, has a record variable of its own
    that it may return instead, returns an expression, runs ``EXECUTE ... INTO`` into it, or does
    not parse)."""
    tag = "$runbook_trigger$"
    while tag in source:
        tag = tag[:-1] + "_$"
    try:
        (function,) = pglast.parse_plpgsql(f"CREATE FUNCTION runbook_trigger() RETURNS trigger LANGUAGE plpgsql "
                                           f"AS {tag}{source}{tag}")
    except (pg_parser.ParseError, ValueError):
        return None
    body = function["PLpgSQL_function"]
    new = body.get("new_varno", 0)
    datums = body.get("datums", [])
    if sum("PLpgSQL_rec" in d for d in datums) > 2:  # a record of its own, which ``RETURN r`` may hand back
        return None  # (the parser's tree does not say which variable a RETURN names)
    fields: set[str] = set()

    def target(varno: int) -> bool:
        """Note the ``NEW`` field datum ``varno`` names; False when it is ``NEW`` itself."""
        datum = datums[varno] if 0 <= varno < len(datums) else {}
        if varno == new:
            return False
        if "PLpgSQL_recfield" in datum and datum["PLpgSQL_recfield"].get("recparentno", 0) == new:
            fields.add(datum["PLpgSQL_recfield"]["fieldname"])
        elif "PLpgSQL_row" in datum:
            return all(target(f.get("varno", 0)) for f in datum["PLpgSQL_row"].get("fields", []))
        return True

    def walk(node: Any) -> bool:
        if isinstance(node, list):
            return all(walk(item) for item in node)
        if not isinstance(node, dict):
            return True
        for key, value in node.items():
            if key == "PLpgSQL_stmt_assign" and not target(value.get("varno", 0)):
                return False
            if key in ("PLpgSQL_stmt_execsql", "PLpgSQL_stmt_dynexecute") and value.get("into"):
                into = value.get("target", {})
                row = into.get("PLpgSQL_row") or into.get("PLpgSQL_rec") or {}
                if "PLpgSQL_rec" in into and into["PLpgSQL_rec"].get("dno", 0) == new:
                    return False
                if not all(target(f.get("varno", 0)) for f in row.get("fields", [])):
                    return False
            if key == "PLpgSQL_stmt_return" and "expr" in value:  # RETURN NULL: the row is skipped
                if value["expr"]["PLpgSQL_expr"]["query"].strip().upper() not in ("NULL", "SELECT NULL"):
                    return False
            if not walk(value):
                return False
        return True

    return fields if walk(body.get("action")) else None


def called_functions(sql: str) -> set[tuple[str, ...]]:
    """The functions ``sql`` (one statement, or an expression as a ``SELECT``) calls, each as the
    parts of its name as written (``("audit_row",)``, ``("app", "log")``); the engine's own
    (qualified ``pg_catalog.``) left out. Empty when PostgreSQL's parser cannot read it."""
    node = tree(sql)
    if node is None:
        return set()
    return {names for n in [node, *_nodes(node)] if isinstance(n, pg_ast.FuncCall)
            if (names := tuple(p.sval for p in n.funcname))[0] not in ("pg_catalog", "information_schema")}


def sql_function_statements(body: str) -> list[str] | None:
    """The statements a ``LANGUAGE sql`` function runs: its ``prosrc``, or its SQL-standard body
    as ``pg_get_function_sqlbody`` prints it (``BEGIN ATOMIC ... END``; ``RETURN expr`` as a
    ``SELECT``), split by PostgreSQL's parser; ``None`` when it does not parse."""
    atomic = re.fullmatch(r"\s*BEGIN\s+ATOMIC\b(.*)\bEND\s*;?\s*", body, re.IGNORECASE | re.DOTALL)
    text = atomic.group(1) if atomic else re.sub(r"^\s*RETURN\b", "SELECT", body, count=1, flags=re.IGNORECASE)
    try:
        return [st.sql for st in split(text, "postgres")]
    except BadInput:
        return None


def do_statements(sql: str) -> tuple[list[str], bool] | None:
    """The SQL statements a PL/pgSQL ``DO`` block runs as written, and whether it also runs SQL no
    parser can read (``do_block``); ``None``: not a PL/pgSQL block that parses."""
    block = do_block(sql)
    return None if block is None else (block.statements, block.opaque)


def do_expressions(sql: str) -> list[str]:
    """Every statement and expression a PL/pgSQL ``DO`` block holds as written (``do_block``:
    ``PERFORM``, an assignment, a condition, a query), each as a SQL statement PostgreSQL's parser
    reads; empty for anything else."""
    block = do_block(sql)
    return [] if block is None else block.statements + block.expressions


#: statements that read, or set the session (never the database)
_READING = (pg_ast.SelectStmt, pg_ast.VariableShowStmt, pg_ast.VariableSetStmt, pg_ast.TransactionStmt)
_DML = (pg_ast.InsertStmt, pg_ast.UpdateStmt, pg_ast.DeleteStmt, pg_ast.MergeStmt, pg_ast.TruncateStmt,
        pg_ast.CopyStmt)


class _Kinds(Visitor):
    """The kinds of every node under a statement (a data-modifying ``WITH`` hides a DML)."""

    def __init__(self) -> None:
        self.found: list[pg_ast.Node] = []

    def visit(self, ancestors: Any, node: pg_ast.Node) -> None:
        self.found.append(node)


def writes(node: pg_ast.Node | None, sql: str) -> str | None:
    """What one statement (its tree ``node``, its text ``sql``) may write, said in a few words;
    ``None`` when it only reads (or sets the session)."""
    if node is None:
        return "PostgreSQL's parser cannot read it, so nothing tells it only reads"
    if isinstance(node, pg_ast.ExplainStmt):  # EXPLAIN ANALYZE runs its statement
        analyze = any(o.defname == "analyze" for o in node.options or ())
        return writes(node.query, sql) if analyze else None
    if isinstance(node, pg_ast.DoStmt):
        inner = do_statements(sql)
        if inner is None:
            return "a DO block PL/pgSQL cannot read, so nothing tells it only reads"
        queries, opaque = inner
        if opaque:
            return "a DO block that runs SQL no parser can read (EXECUTE, CALL)"
        for query in queries:
            what = writes(tree(query), query)
            if what:
                return f"a DO block whose statement {' '.join(query.split())[:60]!r} {what}"
        return None
    if not isinstance(node, _READING):
        return "writes rows (DML)" if isinstance(node, _DML) else "changes the schema or the server (DDL)"
    kinds = _Kinds()
    kinds(node)
    for n in [node, *kinds.found]:
        if isinstance(n, _DML):
            return "writes rows (DML, in a WITH)"
        if isinstance(n, pg_ast.SelectStmt) and n.intoClause is not None:
            return "creates a table (SELECT INTO)"
        if isinstance(n, pg_ast.SelectStmt) and n.lockingClause:
            return "locks rows for writing (FOR UPDATE/SHARE)"
    return None
