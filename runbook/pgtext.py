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
from pglast.enums import VariableSetKind
from pglast.visitors import Visitor

from .errors import BadInput
from .sqltext import Statement, line_of

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


def plpgsql_block(body: str, returns: str) -> DoBlock | None:
    """What a PL/pgSQL body (a ``DO`` block's, or a function's returning ``returns``: ``trigger``
    for a trigger function) runs, as a ``DoBlock``; ``None`` when PL/pgSQL's parser rejects it."""
    tag = "$runbook_do$"
    while tag in body:
        tag = tag[:-1] + "_$"
    try:
        function = pglast.parse_plpgsql(f"CREATE FUNCTION runbook_do() RETURNS {returns} LANGUAGE plpgsql AS {tag}{body}{tag}")
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


def do_statements(sql: str) -> tuple[list[str], bool] | None:
    """The SQL statements a PL/pgSQL ``DO`` block runs as written, and whether it also runs SQL no
    parser can read (``do_block``); ``None``: not a PL/pgSQL block that parses."""
    block = do_block(sql)
    return None if block is None else (block.statements, block.opaque)


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
