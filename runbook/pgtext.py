"""PostgreSQL text, read by PostgreSQL's parser: pglast, which embeds libpg_query.

The PostgreSQL half of ``sqltext``, in a module of its own so that only a process that reads
PostgreSQL text loads pglast (``sqltext.reader`` imports it for the ``postgres``/``postgresql``
dialects): a SQLite run never does.
"""

from __future__ import annotations

from functools import lru_cache

from pglast import ast as pg_ast
from pglast import parser as pg_parser

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


READER = PostgresReader()
