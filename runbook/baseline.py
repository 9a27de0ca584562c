"""A brownfield database's schema as its history's baseline: ``000_baseline.sql``.

A team that brings an existing database has a schema no migration in its folder builds, so
nothing can replay the history from empty: lint's replay fails at the first migration that
alters a table of the old schema, and verify cannot tell what the migrations should give.
``write()`` asks the engine for the statements that build the database's schema
(``Engine.schema_script``: the ``CREATE`` statements SQLite keeps, ``pg_dump --schema-only`` on
PostgreSQL), runs them on a scratch database of the same engine and keeps the file only if the
engine then holds the very same schema (``schema.diff``, nothing written otherwise). The file
is written as the folder's ``000`` and the database is adopted at it (``migrations.baseline``:
recorded as applied, never run there).
"""

from __future__ import annotations

import functools
import tempfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import migrations as mig
from . import schema
from .config import DEFAULT_DIALECT
from .errors import BadInput, MigrationFailed

if TYPE_CHECKING:
    from .target import Target

FILE_NAME = "000_baseline.sql"


def header(target: "Target") -> str:
    return ("-- Migration: baseline\n"
            f"-- Date: {date.today().isoformat()}\n"
            f"-- Description: the schema of {target.kind.target_name(target.url)} as it stood before the runbook, "
            f"written by `runbook baseline --write` from the engine ({target.kind.name})\n"
            "-- Risk Level: LOW (it creates what the database already holds; never run on it)\n\n")


def write(target: "Target", folder: str | Path, dialect: str | None = DEFAULT_DIALECT) -> dict[str, Any]:
    """Write ``folder/000_baseline.sql`` from ``target``'s schema, checked on a scratch database,
    and adopt ``target`` at ``000``. ``BadInput`` (nothing written, nothing recorded) when the
    folder already has a ``000``, the database already has a history, the project's dialect is
    not the engine's, or the statements do not build the same schema. Returns ``{"path",
    "statements", "tables", "recorded": [the migration recorded as applied]}``."""
    from .migrate import prepare, run_in_transaction

    folder = Path(folder)
    engine = target.kind
    if mig.source_dialect(dialect) != engine.sqlglot_dialect:
        raise BadInput(f"the migrations are written in {mig.dialect_name(mig.source_dialect(dialect))} and the database is {engine.name}: "
                       f"a baseline written by {engine.name} would not be in the project's dialect; nothing was written")
    existing = mig.discover(folder, dialect)
    if any(m.number == 0 for m in existing):
        raise BadInput(f"{folder} already has a baseline ({next(m for m in existing if m.number == 0).path.name}); "
                       "nothing was written")
    with target.engine().connect() as conn:
        if mig.applied(conn):
            raise BadInput("the database already has a migration history: a baseline is for a database that has "
                           "none; nothing was written")
        wanted = schema.introspect(conn, engine)
    text = header(target) + engine.schema_script(target)
    with tempfile.TemporaryDirectory(prefix="runbook-baseline-") as tmp:
        (Path(tmp) / FILE_NAME).write_text(text, encoding="utf-8")
        [m] = mig.discover(tmp, dialect)
        prepared = prepare(m.script, engine)
        with engine.scratch_database(target, "baseline") as scratch:
            try:
                run_in_transaction(scratch, prepared, m.label, m.version, lambda conn: None)
            except MigrationFailed as exc:
                raise BadInput(f"the statements {engine.name} gave for the schema do not run on an empty database "
                               f"(statement {exc.statement_no}, line {exc.line}: {exc.cause}); nothing was written") from None
            with scratch.engine().connect() as conn:
                built = schema.introspect(conn, engine)
            differences = schema.diff(wanted, built, same=functools.partial(engine.same_definition, scratch))
    if differences:
        shown = "; ".join(differences[:5]) + (f"; and {len(differences) - 5} more" if len(differences) > 5 else "")
        raise BadInput(f"the statements {engine.name} gave do not build the same schema on an empty database "
                       f"({shown}); nothing was written")
    path = folder / FILE_NAME
    partial = folder / f".{FILE_NAME}.partial"
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
    try:
        recorded = mig.baseline(target, folder, "000", dialect)
    except BaseException:
        path.unlink(missing_ok=True)  # adopted or nothing: never a baseline file the database does not know
        raise
    return {"path": str(path), "statements": len(prepared), "tables": len(wanted["tables"]), "recorded": recorded}
