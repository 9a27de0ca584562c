"""The guide's "Database Backup": take a backup of the target through its engine and verify it.

The engine makes the copy (SQLite's online backup API, ``pg_dump -Fc``) and checks it (the file
is there, its SHA-256, the copy reads back, its row counts equal the source's counted in the same
snapshot). This module names the file, records what was taken and guards the migrate step:
it never runs without a verified backup of this very database taken in the same run.

The record (``<run dir>/backup.json``, and a copy beside the backup file as
``<backup file>.json`` so a restore can check the file later) holds ``path``, ``format``,
``size_bytes``, ``sha256``, ``tool``, ``checks``, ``verified``, ``target``, ``taken_at`` and
whatever else the engine reported (e.g. ``source_row_counts``). Counts and hashes only: no data.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from . import faults, reports
from .checks import failed
from .engines.base import sha256_file
from .errors import BadInput, RunFailed
from .owner import is_dead_owner, owner_tag

if TYPE_CHECKING:
    from .target import Target

RECORD_FILE = "backup.json"
SIDECAR_SUFFIX = ".json"
PARTIAL_SUFFIX = ".partial"


class BackupFailed(RunFailed):
    """The backup was taken but did not verify; ``record`` says which checks failed."""

    def __init__(self, message: str, record: dict[str, Any]):
        super().__init__(message)
        self.record = record


def stamp_now() -> str:
    """The guide's ``$(date +%Y%m%d_%H%M%S)``, in UTC."""
    return datetime.now(timezone.utc).strftime("%Y%m%d_%H%M%S")


def sidecar_path(backup_path: str | Path) -> Path:
    """Where the record of a backup file lives beside it."""
    p = Path(backup_path)
    return p.with_name(p.name + SIDECAR_SUFFIX)


def take(target: "Target", dest_dir: str | Path, *, stamp: str | None = None,
         run_dir: str | Path | None = None) -> dict[str, Any]:
    """Back up ``target`` into ``dest_dir`` and verify the copy; returns the backup record.

    The engine writes the copy under a temporary name (``.<name>.<owner tag>.partial``, mode
    0600); it is fsynced and verified there, its record (checksum, the database's identity, the
    schema version, row counts) is written and fsynced beside it, and only then are both renamed
    into place (the record first): a file under a backup's real name is always a complete,
    verified backup with its record. A backup that does not verify is deleted; its record goes
    to ``run_dir``/backup.json so the report shows why. Raises ``BackupFailed`` (a
    ``RunFailed``, with ``.record``) when any check fails.
    """
    from .migrations import applied

    stamp = stamp or stamp_now()
    kind = target.kind
    folder = Path(dest_dir)
    folder.mkdir(parents=True, exist_ok=True)
    final = (folder / kind.backup_file_name(target, stamp)).resolve()
    if final.exists() or sidecar_path(final).exists():
        raise BadInput(f"backup file already exists: {final}")
    partial = final.with_name(f".{final.name}.{owner_tag()}{PARTIAL_SUFFIX}")
    side_partial = final.with_name(f".{final.name}{SIDECAR_SUFFIX}.{owner_tag()}{PARTIAL_SUFFIX}")
    identity = kind.ensure_identity(target)
    with target.engine().connect() as conn:
        done = applied(conn)
    target.dispose()
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # private before data goes in
        info = kind.backup(target, partial)
        faults.barrier("backup-written")
        _fsync(partial)
        # hashed once, as it is on disk: re-reading it now to compare would read the same bytes
        # (checks of the hash come later, before it is used: ``check_file``, ``verify_backup``)
        info["sha256"] = sha256_file(partial)
        checks = [{**c, "detail": str(c.get("detail", "")).replace(str(partial), str(final))}
                  for c in kind.verify_backup_contents(partial, info)]
        record = {
            **info,
            "path": str(final),
            "checks": checks,
            "verified": bool(checks) and not failed(checks),
            "target": target.display,
            "engine": kind.name,
            "identity": identity,
            "schema_version": done[-1].version if done else None,
            "taken_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        if run_dir is not None:
            reports.save_artifact(run_dir, Path(RECORD_FILE).stem, record)
        if not record["verified"]:
            names = ", ".join(c["check"] for c in failed(checks)) or "no checks ran"
            raise BackupFailed(f"backup {final} did not verify ({names}); the unverified copy was deleted; "
                               "the migration will not run without a verified backup", record)
        write_private(side_partial, json.dumps(record, indent=2, default=str) + "\n")
        os.replace(side_partial, sidecar_path(final))
        os.replace(partial, final)
        _fsync(final.parent)
    finally:
        for leftover in (partial, side_partial, partial.with_name(partial.name + "-journal")):
            leftover.unlink(missing_ok=True)
    return record


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, readable by its owner only (0600), and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


#: ``.<backup>.<owner>.events.json``: a target's event log kept beside the backup while a restore
#: replaces the database (``rollback.restore_backup``); never removed as a leftover
PENDING_EVENTS = ".events.json"


def remove_leftovers(folder: str | Path) -> list[str]:
    """Delete what dead runs of this host left in a backups folder: partial backups and records,
    rehearsal copies and restore scratch folders (each named with its owner's tag). Returns
    what was removed. Files of live runs and of other hosts are left alone."""
    removed: list[str] = []
    root = Path(folder)
    if not root.is_dir():
        return removed
    for path in sorted(root.iterdir()):
        if not path.name.startswith(".") or not is_dead_owner(path.name):
            continue
        if path.name.endswith(PENDING_EVENTS):
            continue  # an interrupted restore's event log: carried over by the next run of its database
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(str(path))
    return removed


def load(run_dir: str | Path) -> dict[str, Any]:
    """The backup record of a run; ``RunFailed`` when the run has none."""
    path = Path(run_dir) / RECORD_FILE
    if not path.is_file():
        raise RunFailed(f"no backup was taken in this run ({path} does not exist): run 02_backup.ipynb first")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise RunFailed(f"the backup record {path} is unreadable: {exc}") from None


@contextlib.contextmanager
def database_of(target: "Target", run_dir: str | Path | None) -> "Iterator[Target | None]":
    """This run's backup of ``target`` as a database to read (``engine.backup_database``: SQLite's
    file is one), for a comparison that needs a table's rows as the inventory saw them
    (``inventory.fingerprints_of``, which first checks the backup holds that table in the same
    stored pages); ``None`` when the run has no backup of it, its file is gone, or the engine
    cannot read one in place. Its connections are closed on exit."""
    try:
        record = json.loads((Path(run_dir) / RECORD_FILE).read_text()) if run_dir is not None else None
    except (OSError, ValueError):
        record = None
    path = Path(record["path"]) if isinstance(record, dict) and record.get("path") else None
    kept = (target.kind.backup_database(target, path)
            if path is not None and record.get("target") == target.display and path.is_file() else None)
    try:
        yield kept
    finally:
        if kept is not None:
            kept.dispose()


def require_verified(run_dir: str | Path, target: "Target", *, skip: bool = False) -> dict[str, Any]:
    """The migrate step's guard: a verified backup of this database, taken in this run, whose
    file is still there unchanged. Returns the record; ``RunFailed`` with the reason otherwise.

    With ``skip`` (an explicit option) returns ``{"skipped": True, "reason": ...}`` so the
    report says the run went ahead without one.
    """
    if skip:
        return {"skipped": True, "reason": "backup skipped by explicit option"}
    record = load(run_dir)
    if not record.get("verified"):
        names = ", ".join(c["check"] for c in failed(record.get("checks", []))) or "no checks recorded"
        raise RunFailed(f"the backup taken in this run did not verify ({names}); not migrating")
    if record.get("target") != target.display:
        raise RunFailed(f"the backup in this run is of {record.get('target')}, not of {target.display}; not migrating")
    check_file(record, "not migrating")
    return record


def check_file(record: dict[str, Any], consequence: str) -> Path:
    """The record's backup file, after checking it is still there with the recorded SHA-256;
    ``RunFailed`` ending with ``consequence`` otherwise."""
    path = Path(record["path"])
    if not path.is_file():
        raise RunFailed(f"the backup file {path} is gone; {consequence}")
    if sha256_file(path) != record.get("sha256"):
        raise RunFailed(f"the backup file {path} changed since it was verified (SHA-256 differs); {consequence}")
    return path


def read_sidecar(backup_path: str | Path) -> dict[str, Any] | None:
    """The record written beside a backup file, if any."""
    side = sidecar_path(backup_path)
    if not side.is_file():
        return None
    try:
        return json.loads(side.read_text())
    except json.JSONDecodeError as exc:
        raise BadInput(f"the backup record {side} is unreadable: {exc}") from None

