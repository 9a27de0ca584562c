"""The errors the runbook raises, and the exit status each one maps to.

``BadInput`` (exit 2): something given to the runbook is wrong; nothing was touched.
``RunFailed`` (exit 1): a step ran and failed; the database was left as it was, or rolled back.
``ReportIncomplete`` (exit 3): the database changed but the report of it could not be written.

``redact()`` is the one function through which a database error becomes text (reports, run.json,
the console): row values in it become placeholders, the statement and the error kind stay.
"""

from __future__ import annotations

import re


class RunbookError(Exception):
    """Base class: every error the runbook raises on purpose carries one clear line."""

    exit_code = 1

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of a traceback: an operator stepping through a notebook
        reads the one line that says what to do."""
        return [f"{type(self).__name__}: {self}"]


class BadInput(RunbookError):
    """Bad usage or bad input, detected before anything was changed (exit status 2)."""

    exit_code = 2


class RunFailed(RunbookError):
    """A step ran and failed (exit status 1)."""

    exit_code = 1


#: what became of a failed migration's work when it ran in one transaction (the usual case)
ROLLED_BACK = "its transaction was rolled back"
#: what the outcome of one that ran outside a transaction says first (``migrate._outside_outcome``)
NO_TRANSACTION = "there was no transaction to roll back"


class MigrationFailed(RunFailed):
    """A migration's SQL failed. ``cause`` is why (the engine's error); ``outcome`` what became of
    the migration's work: its transaction was rolled back (``ROLLED_BACK``), unless its statements
    ran outside a transaction (PostgreSQL's ``CREATE INDEX CONCURRENTLY`` and the like, each
    committed as it ran: ``migrate.run_outside_transaction``), where nothing rolls back and the
    outcome says which were undone and what an undo that failed left; ``left`` names those."""

    def __init__(self, version: str, name: str, statement_no: int, line: int, sql: str, cause: str, *,
                 outcome: str = ROLLED_BACK, left: tuple[str, ...] = ()):
        self.version, self.name = version, name
        self.statement_no, self.line, self.sql, self.cause = statement_no, line, sql, cause
        self.outcome, self.left = outcome, left
        first = " ".join(sql.split())[:120]
        super().__init__(
            f"migration {version}_{name} failed at statement {statement_no} (line {line}): "
            f"{first!r}: {cause}; {outcome}"
        )


class VerifyScriptFailed(MigrationFailed):
    """A migration's verify script raised an error (the migration is not really there).
    ``committed``: the migration's statement ran outside a transaction and is committed and
    recorded (the message says how to proceed); otherwise its transaction was rolled back."""

    def __init__(self, version: str, name: str, script: str, statement_no: int, line: int, sql: str, cause: str,
                 *, committed: bool = False):
        self.version, self.name, self.script, self.committed = version, name, script, committed
        self.statement_no, self.line, self.sql, self.cause = statement_no, line, sql, cause
        self.outcome = (f"the migration's statement ran outside a transaction and is committed: {version} is "
                        f"applied and recorded. Roll it back (runbook rollback --to the version before {version}), "
                        "or fix what the verify script found" if committed else ROLLED_BACK)
        self.left = ()
        first = " ".join(sql.split())[:120]
        RunFailed.__init__(self, f"migration {version}_{name} failed its verify script {script} at statement "
                                 f"{statement_no} (line {line}): {first!r}: {cause}; {self.outcome}")


class CheckFailed(RunFailed):
    """A verification check failed."""


class LockBusy(RunFailed):
    """Another runbook holds this database's lock."""


class LeftOnServer(RunFailed):
    """A scratch run changed its server beyond the scratch database and that could not be undone
    (``roles``: the roles it created that could not be dropped); the message names them."""

    def __init__(self, message: str, roles: list[str]):
        self.roles = roles
        super().__init__(message)


class NotOnScratch(RunFailed):
    """A migration's statement that cannot run on a scratch database of the target's server (it
    would change the server beyond it, non-transactionally) and whose skipping would make the
    scratch run lie; raised before anything runs. The message names it and what to do."""


class ServerChanged(RunFailed):
    """A scratch database's transaction changed the server's shared catalogs (a role, a
    membership, a setting, another database, a tablespace, a comment) through code no parser
    reads; raised inside that transaction, which the caller then rolls back."""


class LockLost(RunFailed):
    """The one-runbook lock this run held is gone (its session was ended): the run stops."""


class ReportIncomplete(RunbookError):
    """The database changed but its report could not be written (exit status 3)."""

    exit_code = 3


# -- redaction of database error texts ---------------------------------------------------------
#: words after which a double-quoted name is an identifier (kept), not a value (redacted)
_IDENTIFIER_WORDS = (
    "relation", "column", "table", "constraint", "index", "type", "function", "procedure", "schema",
    "database", "role", "user", "sequence", "view", "trigger", "extension", "operator", "collation",
    "domain", "tablespace", "policy", "rule", "aggregate", "server", "cursor", "statement",
    "savepoint", "parameter", "attribute", "publication", "subscription", "enum", "of", "on",
    "for", "key", "field", "routine", "statement", "portal", "channel", "view", "near", "name",
)
_SINGLE = re.compile(r"'(?:[^']|'')*'")
_DOUBLE = re.compile(r'"(?:[^"]|"")*"')
_KEY = re.compile(r"(Key \((?:[^()]|\([^()]*\))*\)=)\(.*?\)(?=( already exists| is not present in table"
                  r"| is still referenced| conflicts with)|[.\s]*$)", re.MULTILINE)
_FAILING_ROW = re.compile(r"(Failing row contains )\(.*\)(?=\.?\s*$)", re.MULTILINE)
_PARAMETERS = re.compile(r"\n?\[parameters: .*?\](?=\n|$)", re.DOTALL)


def _redact_double(m: re.Match) -> str:
    before = re.sub(r"[\s:]+$", "", m.string[max(0, m.start() - 40):m.start()]).lower()
    last = re.split(r"[\s(]", before)[-1] if before else ""
    if last in _IDENTIFIER_WORDS:
        return m.group(0)
    return '"?"'


def redact(text: str) -> str:
    """A database error text with the row values taken out: single-quoted literals, double-quoted
    values that are not identifiers (``invalid input syntax for type integer: "555-0100"``),
    ``Key (cols)=(values)`` and ``Failing row contains (...)``. The statement SQLAlchemy appends
    (``[SQL: ...]``) is kept as written; its ``[parameters: ...]`` are dropped."""
    if not text:
        return text
    head, sep, sql = text.partition("\n[SQL: ")
    head = _KEY.sub(r"\1(?)", head)
    head = _FAILING_ROW.sub(r"\1(?)", head)
    head = _SINGLE.sub("'?'", head)
    head = _DOUBLE.sub(_redact_double, head)
    return head + (sep + _PARAMETERS.sub("", sql) if sep else "")


def db_error_line(exc: BaseException) -> str:
    """The first line of a database error (the driver's exception when wrapped), redacted."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return redact(text.splitlines()[0]) if text else type(orig).__name__
