"""Reading SQL files: split them into statements with sqlglot's tokenizer, never with regexes.

The tokenizer knows string literals, comments, quoted identifiers and PostgreSQL's dollar-quoted
bodies, so a ``;`` inside any of them does not end a statement. SQLite trigger bodies
(``CREATE TRIGGER ... BEGIN ...; ...; END``) are the one place where ``;`` sits inside a
statement at token level; we track their ``BEGIN``/``CASE`` ... ``END`` nesting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from .errors import BadInput

_COUNTING = (exp.Count, exp.Sum, exp.Avg, exp.Literal)
_TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "END", "ROLLBACK", "START", "SAVEPOINT", "RELEASE"}


@dataclass(frozen=True)
class Statement:
    """One statement of a SQL file, as written."""

    sql: str
    line: int  # 1-based line of its first token in the file
    index: int  # 1-based position in the file

    @property
    def first_word(self) -> str:
        return self.sql.split(None, 1)[0].upper() if self.sql.strip() else ""

    @property
    def is_transaction_control(self) -> bool:
        """``BEGIN TRANSACTION``/``COMMIT``/...: the runner owns transactions, so these are skipped."""
        words = self.sql.upper().split()
        if not words or words[0] not in _TRANSACTION_CONTROL:
            return False
        return not (words[0] == "START" and (len(words) < 2 or words[1] != "TRANSACTION"))

    def shows_row_data(self, dialect: str) -> bool:
        """Whether this statement's result would show table contents (personal data, perhaps).

        Reports show what a migration's verification queries return only when that is a count or
        a numeric summary (``COUNT``, ``SUM``, ``AVG``), a literal, or schema information
        (``PRAGMA table_info``); any other result, ``MIN``/``MAX``/``group_concat`` of a column
        included (they return a row's value), is reported as its columns and row count only.
        """
        tree = self.parse(dialect)
        if isinstance(tree, exp.Pragma):
            return False
        if not isinstance(tree, exp.Select) or tree.args.get("group") is not None:
            return True
        return not all(isinstance(e.unalias(), _COUNTING) for e in tree.expressions)

    def parse(self, dialect: str) -> exp.Expression | None:
        """The statement's syntax tree (a fresh copy), or ``None`` when sqlglot cannot read it."""
        tree = _parse(self.sql, dialect)
        return tree.copy() if tree is not None else None


@lru_cache(maxsize=4096)
def _parse(sql: str, dialect: str) -> exp.Expression | None:
    try:
        return sqlglot.parse_one(sql, read=dialect)
    except (ParseError, TokenError, ValueError):
        return None


def split(sql: str, dialect: str, *, source: str = "<sql>") -> list[Statement]:
    """Split a SQL script into statements; ``BadInput`` when it cannot even be tokenized."""
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
    except (TokenError, ValueError) as exc:
        raise BadInput(f"{source}: cannot read SQL: {exc}") from None
    statements: list[Statement] = []
    current: list = []
    depth = 0
    in_trigger = False

    def flush() -> None:
        if current:
            text = sql[current[0].start : current[-1].end + 1].strip()
            statements.append(Statement(text, current[0].line, len(statements) + 1))
            current.clear()

    for tok in tokens:
        if tok.token_type == TokenType.SEMICOLON and depth == 0:
            flush()
            in_trigger = False
            continue
        if not current:
            in_trigger = False
        current.append(tok)
        upper = tok.text.upper()
        if len(current) <= 4 and upper == "TRIGGER" and current[0].text.upper() == "CREATE":
            in_trigger = True
        elif in_trigger and upper in ("BEGIN", "CASE"):
            depth += 1
        elif in_trigger and upper == "END" and depth > 0:
            depth -= 1
    if depth:
        raise BadInput(f"{source}: unterminated BEGIN ... END block at end of file")
    flush()
    return statements


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
