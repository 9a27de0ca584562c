"""The guide's "Test migration on copy": rehearse the migration on a scratch database restored
from this run's backup, before touching the target.

``rehearse()`` restores the backup into a throwaway database (the engine's ``scratch_copy``:
a temporary SQLite file, a ``createdb`` + ``pg_restore`` on PostgreSQL), takes its inventory,
migrates it exactly as the target will be migrated, and verifies it against that inventory. The
time the migrate part took is the expected production timing. The scratch copy is always
dropped, and with it (PostgreSQL) the roles its migrations created, which belong to the server;
nothing else of the server changes (a statement that would is skipped with a note, run on the
copy's own database where exact, or refused before anything runs; a change made through code no
parser reads fails the migration, rolled back: ``engines/postgresql.py``, "Scratch databases");
the target is only read (its backup file is what gets restored). A role that cannot be dropped
fails the rehearsal, named in its error. A failed rehearsal
stops the run before the target is touched (``assert_rehearsal_passed``).

The scratch copy is restored from a backup of the target, so it has the target's history table
(or none, for a database whose baseline is still to be adopted); ``migrate`` handles both.

After migrating, the copy's schema is introspected and kept in the result (``schema``): it is
what the same engine holds after applying these migrations to this database, so verify on the
target compares with it (``runbook.expected``) instead of replaying the migrations.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import backup, expected, inventory, schema, verify
from . import migrations as mig
from . import migrate as migrating
from .checks import failed
from .errors import BadInput, LeftOnServer, RunFailed

if TYPE_CHECKING:
    from .target import Target


def rehearse(target: "Target", backup_record: dict[str, Any], migrations_dir: str | Path, *,
             to: str | int | None = None, run_id: str | None = None,
             dialect: str | None = "sqlite", out_of_order: bool = False,
             backup_checked: bool = False) -> dict[str, Any]:
    """Migrate and verify a scratch copy restored from ``backup_record``; the target is not touched.
    The backup file is first checked against its record (there, with its SHA-256), unless the
    caller has just done so (``backup_checked``: the migrate step's guard, ``backup.require_verified``).

    Returns ``{"passed", "target", "backup", "scratch", "duration_s", "migrate_duration_s",
    "migrations": [labels applied], "adopted": [labels adopted], "migration_durations_ms":
    {label: ms}, "data": {label: effects.DataWatch report}, "verify": {"passed", "checks", "failed":
    [check]} | None, "schema": the copy's schema model after migrating (``runbook.schema``) | None,
    "schema_applied": [[version, checksum]] it was taken at, "error": str | None}``. Verify on the
    target compares with ``schema``. Each migration's data check runs in full on the copy: every
    table whose rows or columns its statements change is compared by content before and after
    them, against what they declare (``effects``); verify then compares every table with the
    backup and treats any other difference as a failure (no one else writes to the copy). On
    SQLite a table whose stored pages are those of the backup is unchanged without hashing its
    rows (``engine.content_pages``); another is hashed on the copy and on the backup.
    A failed migration or verification is ``passed: False`` with ``error`` (never raised);
    ``BadInput`` (before anything ran) when there is no usable backup or the folder is bad.
    """
    if not backup_record or backup_record.get("skipped") or "path" not in backup_record:
        raise BadInput("no backup to rehearse on: the rehearsal restores this run's backup into a scratch database")
    try:
        path = Path(backup_record["path"]) if backup_checked else backup.check_file(backup_record, "not rehearsing")
    except RunFailed as exc:
        raise BadInput(str(exc)) from None
    run_id = run_id or "rehearsal-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    result: dict[str, Any] = {
        "passed": False, "target": target.display, "backup": str(path), "scratch": None,
        "duration_s": None, "migrate_duration_s": None, "migrations": [], "adopted": [],
        "migration_durations_ms": {}, "data": {}, "verify": None, "schema": None, "schema_applied": None,
        "error": None,
    }
    started = time.perf_counter()
    try:
        shared = target.kind.server_objects(target)  # the server's own (roles): never changed by the copy's run
        with target.kind.scratch_copy(target, path) as scratch:
            result["scratch"] = scratch.display
            baseline = target.kind.backup_database(target, path)  # the copy's data before it is migrated
            try:
                _rehearse_on(scratch, migrations_dir, to, run_id, result, dialect=dialect, out_of_order=out_of_order,
                             baseline=baseline, shared=shared)
            finally:
                scratch.dispose()
                if baseline is not None:
                    baseline.dispose()
    except LeftOnServer as exc:  # roles it created and could not drop: after the copy's own error, if any
        result["error"] = "; ".join(filter(None, [result["error"], f"rehearsal: {exc}".splitlines()[0]]))
    except (RunFailed, sa.exc.SQLAlchemyError) as exc:
        result["error"] = f"rehearsal: {type(exc).__name__}: {exc}".splitlines()[0]
    result["duration_s"] = round(time.perf_counter() - started, 3)
    result["passed"] = result["error"] is None
    return result


def _rehearse_on(scratch: "Target", migrations_dir: str | Path, to: str | int | None, run_id: str,
                 result: dict[str, Any], *, dialect: str | None, out_of_order: bool,
                 baseline: "Target | None", shared: frozenset[str]) -> None:
    # verify reads neither quality nor sizes; no one else uses the copy; where the engine tells
    # unchanged tables by their stored pages, rows are hashed only for a table whose pages
    # changed, on the copy and on the backup it was restored from (``baseline``)
    before = inventory.take(scratch, migrations_dir, dialect, quality=False, live=False,
                            row_hashes=baseline is None)
    t0 = time.perf_counter()
    migrated = migrating.migrate(scratch, migrations_dir, to=to, run_id=run_id, dialect=dialect,
                                 out_of_order=out_of_order, data_checks="full", server_objects=shared)
    result["migrate_duration_s"] = round(time.perf_counter() - t0, 3)
    result["data"] = {m.label: m.data for m in migrated.migrations if m.data is not None}
    for m in migrated.migrations:
        if m.status == "applied":
            result["migrations"].append(m.label)
            result["migration_durations_ms"][m.label] = m.duration_ms
        elif m.status == "adopted":
            result["adopted"].append(m.label)
    if migrated.error:
        result["error"] = f"rehearsal: {migrated.error}"
        return
    with scratch.kind.read_snapshot(scratch) as conn:  # what verify on the target compares with
        result["schema"] = schema.introspect(conn, scratch.kind)
        result["schema_applied"] = expected.applied_key(mig.applied(conn))
    checked = verify.verify(scratch, migrations_dir, before=before, dialect=dialect,
                            writers=False, baseline=baseline)  # no one else writes there
    bad = failed(checked["checks"])
    result["verify"] = {"passed": checked["passed"], "checks": len(checked["checks"]), "failed": bad}
    if not checked["passed"]:
        names = "; ".join(f"{c['check']} ({c.get('detail', '')})" for c in bad[:5])
        more = f"; … {len(bad) - 5} more" if len(bad) > 5 else ""
        result["error"] = f"rehearsal: verification of the migrated scratch copy failed: {names}{more}"


def assert_rehearsal_passed(result: dict[str, Any]) -> None:
    """Stop the run (``RunFailed``) when the rehearsal failed; the target was not touched."""
    if not result.get("passed"):
        raise RunFailed(f"{result.get('error') or 'rehearsal failed'}; the target was not touched")
