"""Verify scripts (``verify/NNN_verify_*.sql``, Sqitch's verify): they must only read, and belong
to a migration."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...errors import BadInput
from ..registry import rule
from .reading import UNPARSABLE

if TYPE_CHECKING:
    from ...engines.base import Engine
    from ..report import MigrationLint

VERIFY_SCRIPT_WRITES = rule("verify-script-writes", "error",
                            "a statement of a verify script writes: rows (DML), the schema (DDL), a setting of "
                            "the database, as the engine's parser reads it (PostgreSQL: a `DO` block's statements "
                            "too)",
                            "a verify script only reads and raises when the change is missing: "
                            "`SELECT col FROM t WHERE false;`, `SELECT 1/count(*) FROM ...;`, "
                            "PostgreSQL `DO $$ BEGIN ASSERT ...; END $$;`", family=__name__)
ORPHAN_VERIFY = rule("orphan-verify", "error", "a verify script for a migration that does not exist",
                     "delete it, or rename it after its migration's number", family=__name__)


def check(unit: "MigrationLint", engine: "Engine") -> None:
    """The verify script of ``unit``'s migration that runs on ``engine``, statement by statement:
    each must only read (``Statement.writes``, from the engine's parser)."""
    script = unit.migration.verify
    if script is None:
        return
    try:
        path = script.source_for(engine)[0]
        statements, dialect = script.statements_for(engine)
    except BadInput as exc:
        at = re.search(r"\.sql:(\d+):", str(exc))  # the reader names the line when it can
        unit.findings.append(UNPARSABLE.at(script.path, int(at.group(1)) if at else None,
                                           f"the verify script cannot be read as SQL: {exc}"))
        return
    for st in statements:
        what = st.writes(dialect)
        if what:
            unit.findings.append(VERIFY_SCRIPT_WRITES.at(
                path, st.line, f"statement {st.index} {what}: a verify script only reads (it runs in a transaction "
                               "that is rolled back, READ ONLY on PostgreSQL, where a write fails)"))
