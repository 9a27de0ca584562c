"""Reading SQL files: split them into statements with the engine's own lexer, never with regexes.

Each dialect is read by its engine's own code:

- **PostgreSQL** (``postgres``/``postgresql``): PostgreSQL's parser, through pglast (which embeds
  libpg_query), in ``pgtext`` (imported by the first PostgreSQL text read: a SQLite run never
  loads pglast). It knows tagged dollar quotes (``$fn$ ... $fn$``), nested block comments,
  ``E'...'`` strings and routine bodies exactly as the server does; each statement is where the
  parser's ``RawStmt`` says (``stmt_location``/``stmt_len``). A script the parser refuses is
  ``BadInput`` naming the file, the line and the parser's message.
- **SQLite**: SQLite's own ``sqlite3_complete()`` (``sqlite3.complete_statement``): text is
  accumulated up to each ``;`` until SQLite says it is a complete statement, so a ``;`` inside a
  string, a comment or a trigger body (``CREATE TRIGGER ... BEGIN ...; ...; END``) does not end one.

``Statement.parse`` gives sqlglot's tree (lint, verify and the translation to PostgreSQL read it);
``Statement.pg_tree`` gives PostgreSQL's own parse tree for PostgreSQL-dialect text.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from .errors import BadInput

if TYPE_CHECKING:
    from pglast import ast as pg_ast

    from .pgtext import PostgresReader

_COUNTING = (exp.Count, exp.Sum, exp.Avg, exp.Literal)
_TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "END", "ROLLBACK", "START", "SAVEPOINT", "RELEASE"}


@dataclass(frozen=True)
class Statement:
    """One statement of a SQL file, as written (without its terminating ``;``)."""

    sql: str
    line: int  # 1-based line of its first token in the file
    index: int  # 1-based position in the file
    dialect: str = ""  # the dialect it was split as ("" when made by hand: read as SQLite's)

    @property
    def first_word(self) -> str:
        return self.sql.split(None, 1)[0].upper() if self.sql.strip() else ""

    @property
    def is_transaction_control(self) -> bool:
        """``BEGIN TRANSACTION``/``COMMIT``/...: the runner owns transactions, so these are skipped.
        PostgreSQL text is read from PostgreSQL's parse tree (a ``TransactionStmt``)."""
        return reader(self.dialect or "sqlite").is_transaction_control(self)

    @property
    def is_rollback(self) -> bool:
        """``ROLLBACK``/``ABORT`` (a migration may not end the runner's transaction that way)."""
        return self.is_transaction_control and self.first_word in ("ROLLBACK", "ABORT")

    def shows_row_data(self, dialect: str) -> bool:
        """Whether this statement's result would show table contents (personal data, perhaps).

        Reports show what a migration's verification queries return only when that is a count or
        a numeric summary (``COUNT``, ``SUM``, ``AVG``), a literal, or schema information
        (``PRAGMA table_info``); any other result, ``MIN``/``MAX``/``group_concat`` of a column
        included (they return a row's value), is reported as its columns and row count only.
        PostgreSQL text is judged from PostgreSQL's parse tree.
        """
        return reader(dialect).shows_row_data(self)

    def created_table(self, dialect: str) -> str | None:
        """The table a ``CREATE TABLE`` statement creates (PostgreSQL text: from PostgreSQL's parse
        tree), else ``None``."""
        return reader(dialect).created_table(self)

    def writes(self, dialect: str) -> str | None:
        """What this statement may write (the database's rows, schema or settings), in a few
        words; ``None`` when it only reads (a query, ``EXPLAIN``, a reading ``PRAGMA``, transaction
        control, a session ``SET`` on PostgreSQL; a PostgreSQL ``DO`` block whose statements only
        read). PostgreSQL text is judged from PostgreSQL's parse tree (and PL/pgSQL's); what the
        parser cannot read is not known to only read. Lint's ``verify-script-writes``."""
        return reader(dialect).writes(self)

    def parse(self, dialect: str) -> exp.Expression | None:
        """The statement's sqlglot syntax tree (shared: read it, ``.copy()`` it to change it), or
        ``None`` when sqlglot cannot read it."""
        return parse(self.sql, dialect)

    @property
    def pg_tree(self) -> pg_ast.Node | None:
        """PostgreSQL's parse tree of this statement (pglast), or ``None`` when it does not parse."""
        from .pgtext import tree  # as in ``reader``: pglast is loaded by the first PostgreSQL text only

        return tree(self.sql)


#: sqlglot warns of a statement it reads only as a command by logging the whole statement, which
#: may hold a secret (``CREATE ROLE ... PASSWORD '...'``): the runbook handles such a statement
#: itself (``parse`` returns a ``Command``), so these warnings are not logged; sqlglot's errors are
logging.getLogger("sqlglot").setLevel(logging.ERROR)

#: SQLite's table options (``CREATE TABLE ... ) WITHOUT ROWID, STRICT``), which sqlglot does not read
_TABLE_OPTIONS = re.compile(r"\)\s*((?:WITHOUT\s+ROWID|STRICT)(?:\s*,\s*(?:WITHOUT\s+ROWID|STRICT))*)\s*;?\s*$", re.I)


@lru_cache(maxsize=4096)
def parse(sql: str, dialect: str) -> exp.Expression | None:
    """One statement's sqlglot syntax tree, or ``None`` when sqlglot cannot read it. SQLite table
    options are set aside first (they change no column, key or row). The tree is shared by every
    caller (the lint, the data checks and the plan read each statement): read it, and ``.copy()``
    it to change it (a copy of every tree cost a run more than its parse)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (ParseError, TokenError, ValueError):
        tree = None
    options = _TABLE_OPTIONS.search(sql) if dialect == "sqlite" else None
    if options and (tree is None or isinstance(tree, exp.Command)):
        stripped = parse(sql[: options.start(1)], dialect)
        tree = stripped if isinstance(stripped, exp.Create) else tree
    return tree


def line_of(sql: str, offset: int) -> int:
    return sql.count("\n", 0, offset) + 1


# -- the readers: one per dialect, each with its engine's own lexer/parser (PostgreSQL's: ``pgtext``)
class SQLiteReader:
    """SQLite text: statements delimited by SQLite's own ``sqlite3_complete()``; what a statement
    is, read from its words and sqlglot's tree (SQLite exposes no parse tree)."""

    def split(self, sql: str, source: str) -> list[tuple[int, str]]:
        """(offset, text) of each statement: text is accumulated up to each ``;`` until SQLite
        says it is a complete statement."""
        out = []
        start = 0
        semi = sql.find(";")
        while semi >= 0:
            if sqlite3.complete_statement(sql[start: semi + 1]):
                first = _skip_trivia(sql, start, semi)
                if first < semi:  # not only comments and an empty ";"
                    out.append((first, sql[first:semi].strip()))
                start = semi + 1
            semi = sql.find(";", semi + 1)
        first = _skip_trivia(sql, start, len(sql))
        if first < len(sql):
            rest = sql[first:]
            if not sqlite3.complete_statement(rest + "\n;"):
                raise BadInput(f"{source}:{line_of(sql, first)}: SQLite reads an unterminated statement "
                               "(a string, a comment or a trigger's BEGIN ... END not closed) at the end of the file")
            out.append((first, rest.strip()))
        return out

    def is_transaction_control(self, st: Statement) -> bool:
        words = st.sql.upper().split()
        if not words or words[0] not in _TRANSACTION_CONTROL:
            return False
        return not (words[0] == "START" and (len(words) < 2 or words[1] != "TRANSACTION"))

    def shows_row_data(self, st: Statement) -> bool:
        tree = st.parse("sqlite")
        if isinstance(tree, exp.Pragma):
            return False
        if not isinstance(tree, exp.Select) or tree.args.get("group") is not None:
            return True
        return not all(isinstance(e.unalias(), _COUNTING) for e in tree.expressions)

    def created_table(self, st: Statement) -> str | None:
        tree = st.parse("sqlite")
        if isinstance(tree, exp.Create) and (tree.args.get("kind") or "").upper() == "TABLE":
            table = tree.find(exp.Table)
            return table.name if table is not None else None
        return None

    def writes(self, st: Statement) -> str | None:
        if self.is_transaction_control(st) or st.first_word == "EXPLAIN":  # EXPLAIN never runs its statement
            return None
        tree = st.parse("sqlite")
        if isinstance(tree, exp.Query):  # SELECT, a compound SELECT, WITH ... SELECT: SQLite's CTEs only read
            return None
        if isinstance(tree, exp.Pragma):
            setting = tree.this
            if not isinstance(setting, exp.EQ) or setting.this.name.lower() in _READING_PRAGMAS:
                return None
            return f"sets PRAGMA {setting.this.name}"
        if st.first_word in ("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"):
            return "writes rows (DML)"
        if st.first_word in ("CREATE", "ALTER", "DROP", "REINDEX", "VACUUM", "ANALYZE", "ATTACH", "DETACH"):
            return "changes the schema or the database file (DDL)"
        return f"{st.first_word}: nothing tells it only reads"


#: PRAGMAs that take an argument and only read (``PRAGMA table_info(t)``)
_READING_PRAGMAS = {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
                    "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check"}


def _skip_trivia(sql: str, pos: int, end: int) -> int:
    """The offset of the first token at or after ``pos`` (SQLite's whitespace and comments:
    ``--`` to the end of the line, ``/* ... */`` not nested, unterminated runs to the end)."""
    while pos < end:
        if sql[pos].isspace():
            pos += 1
        elif sql.startswith("--", pos):
            nl = sql.find("\n", pos, end)
            pos = end if nl < 0 else nl + 1
        elif sql.startswith("/*", pos):
            close = sql.find("*/", pos + 2, end)
            pos = end if close < 0 else close + 2
        else:
            return pos
    return end


#: the dialects read here (sqlglot's names, or the project's)
DIALECTS = ("postgres", "postgresql", "sqlite")
_SQLITE = SQLiteReader()


def reader(dialect: str, source: str = "<sql>") -> PostgresReader | SQLiteReader:
    """The reader of ``dialect``; ``BadInput`` for a dialect no engine here reads."""
    name = (dialect or "").lower()
    if name == "sqlite":
        return _SQLITE
    if name in DIALECTS:
        from .pgtext import READER  # here: pglast is loaded by the first PostgreSQL text only

        return READER
    raise BadInput(f"{source}: no reader for SQL dialect {dialect!r} (expected one of {', '.join(DIALECTS)})")


def split(sql: str, dialect: str, *, source: str = "<sql>") -> list[Statement]:
    """Split a SQL script into statements with its engine's own reader (see the module doc);
    ``BadInput`` naming ``source`` and the line when the engine cannot read it."""
    return [Statement(text, line_of(sql, offset), i, dialect)
            for i, (offset, text) in enumerate(reader(dialect, source).split(sql, source), start=1)]


def header(sql: str) -> dict[str, str]:
    """The guide's header comment: ``-- Migration: ...``, ``-- Risk Level: ...`` and so on."""
    fields: dict[str, str] = {}
    for raw in sql.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("--"):
            break
        key, sep, value = line[2:].partition(":")
        if sep and key.strip() and len(key.strip()) <= 30:
            fields[key.strip().lower().replace(" ", "_")] = value.strip()
    return fields


__all__ = ["Statement", "split", "header", "reader", "line_of", "DIALECTS"]
