"""The decisions the migrate and rollback notebooks take between their calls, as functions.

A notebook cell calls one of these and shows what it returns; a Python caller gets the same
guarded procedure as the notebook (backup guard before migrating, rehearsal when wanted, the
right way back) without copying cells.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import backup, rehearsal, rollback
from .migrations import Migration

if TYPE_CHECKING:
    from .target import Target


def backup_guard(run_dir: str | Path, target: "Target", *, dry_run: bool, skip_backup: bool) -> dict[str, Any]:
    """The verified backup of this run a migration needs (``RunFailed`` without one), or
    ``{"skipped": True, "reason": ...}`` for a dry run or an explicit ``skip_backup``."""
    if dry_run:
        return {"skipped": True, "reason": "dry run: nothing will change"}
    return backup.require_verified(run_dir, target, skip=skip_backup)


def rehearse_if_wanted(target: "Target", guard: dict[str, Any], migrations_dir: str | Path,
                       pending: list[Migration], *, wanted: bool, dry_run: bool, to: str | None,
                       run_id: str, run_dir: str | Path | None = None, dialect: str | None = "sqlite",
                       out_of_order: bool = False) -> dict[str, Any]:
    """Rehearse on a scratch copy restored from the backup (``guard``, checked by ``backup_guard``
    just before), unless there is no reason or no way to:
    ``{"ran": False, "reason": ...}``. A failed rehearsal raises ``RunFailed`` (target untouched),
    after saving its record as ``rehearsal.json`` in ``run_dir`` (when given), so the report
    says what failed there."""
    from . import reports

    reason = ("nothing pending" if not pending else "dry run" if dry_run
              else "no backup to rehearse on" if guard.get("skipped") else None if wanted else "rehearse = False")
    if reason:
        out = {"ran": False, "reason": reason}
    else:
        out = {"ran": True, **rehearsal.rehearse(target, guard, migrations_dir, to=to, run_id=run_id,
                                                 dialect=dialect, out_of_order=out_of_order,
                                                 backup_checked=True)}  # by backup_guard, just before
    if run_dir is not None:
        reports.save_artifact(run_dir, "rehearsal", out)
    if out["ran"]:
        rehearsal.assert_rehearsal_passed(out)
    return out


def snapshot_from(run_dir: str | Path, snapshot_path: str | Path | None) -> dict[str, Any] | None:
    """The pre-migration inventory: ``snapshot_path`` when given, else the run's, if any."""
    path = Path(snapshot_path) if snapshot_path else Path(run_dir) / "inventory.json"
    return json.loads(path.read_text()) if path.is_file() else None


def written_in_run(run_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Version → data report (``effects.DataWatch``) of each migration this run applied, from
    its ``migrate.json`` (empty when there is none)."""
    path = Path(run_dir) / "migrate.json"
    record = json.loads(path.read_text()) if path.is_file() else {}
    return {m["version"]: m["data"] for m in record.get("migrations", []) if m.get("data")}


def roll_back(target: "Target", migrations_dir: str | Path, *, run_id: str, to: str | None,
              restore_backup: str | Path | None, confirm_restore: bool,
              before: dict[str, Any] | None, dialect: str | None = "sqlite", discard_new_data: bool = False,
              run_dir: str | Path | None = None, trust_unverified_backup: bool = False,
              discard_newer_writes: bool = False, discard_old_rows: bool = False) -> dict[str, Any]:
    """Restore ``restore_backup`` (needs ``confirm_restore``), or run rollback scripts down to
    ``to`` (default: the version the pre-migration inventory recorded); either way, the verify
    scripts of the migrations applied afterwards run as checks (``checks``). Scripts refuse to drop
    values written after their migration unless ``discard_new_data``, nor tables their migration
    did not create unless ``discard_old_rows`` (see
    ``rollback.guard_new_data``; ``run_dir``'s migrate record says what the migrations wrote)."""
    if restore_backup:
        return rollback.restore_backup(target, Path(restore_backup), confirm=confirm_restore,
                                       trust_unverified=trust_unverified_backup,
                                       discard_newer_writes=discard_newer_writes, run_id=run_id,
                                       migrations_dir=migrations_dir, dialect=dialect)
    return rollback.rollback_to(target, migrations_dir, rollback.resolve_version(to, before), run_id=run_id,
                                dialect=dialect, discard_new_data=discard_new_data, discard_old_rows=discard_old_rows,
                                written=written_in_run(run_dir) if run_dir else None, run_dir=run_dir)
