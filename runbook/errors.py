"""The errors the runbook raises, and the exit status each one maps to.

``BadInput`` (exit 2): something given to the runbook is wrong; nothing was touched.
``RunFailed`` (exit 1): a step ran and failed; the database was left as it was, or rolled back.
"""

from __future__ import annotations


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


class MigrationFailed(RunFailed):
    """A migration's SQL failed; its transaction was rolled back."""

    def __init__(self, version: str, name: str, statement_no: int, line: int, sql: str, cause: str):
        self.version, self.name = version, name
        self.statement_no, self.line, self.sql, self.cause = statement_no, line, sql, cause
        first = " ".join(sql.split())[:120]
        super().__init__(
            f"migration {version}_{name} failed at statement {statement_no} (line {line}): "
            f"{first!r}: {cause}; its transaction was rolled back"
        )


class CheckFailed(RunFailed):
    """A verification check failed."""


class LockBusy(RunFailed):
    """Another runbook holds this database's lock."""
