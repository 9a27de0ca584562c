"""Bad input found before anything runs: one clear line (``BadInput``, exit 2), nothing changed.

- a folder the run must write to (reports, backups) that is a file, cannot be created, cannot
  take a write, or has less than ``MIN_FREE_BYTES`` free;
- a command-line path or value holding bytes that are not UTF-8 (the shell passed them through);
- migration files that are not UTF-8 text (a NUL byte, a binary or latin-1 file) or larger than
  ``RUNBOOK_MAX_MIGRATION_BYTES`` (default 10 MB: beyond that the lint gate and the report
  would take minutes for what is almost certainly a data dump, not a migration).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterable

from .errors import BadInput

MIN_FREE_BYTES = 1 << 20
DEFAULT_MAX_MIGRATION_BYTES = 10 * 1000 * 1000
MAX_MIGRATION_ENV = "RUNBOOK_MAX_MIGRATION_BYTES"


def max_migration_bytes() -> int:
    raw = os.environ.get(MAX_MIGRATION_ENV)
    if not raw:
        return DEFAULT_MAX_MIGRATION_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise BadInput(f"{MAX_MIGRATION_ENV} must be a number of bytes, got {raw!r}") from None
    if value <= 0:
        raise BadInput(f"{MAX_MIGRATION_ENV} must be above 0, got {raw!r}")
    return value


def check_utf8(values: Iterable[Any], what: str = "argument") -> None:
    """``BadInput`` for a value holding bytes that are not UTF-8 (Python keeps them as lone
    surrogates: they would fail later, when written into a report or passed to a notebook)."""
    for value in values:
        text = str(value) if isinstance(value, (str, os.PathLike)) else None
        if text is None:
            continue
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            shown = text.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            from .target import mask  # sqlalchemy: only on this error path (the CLI stays quick)

            raise BadInput(f"{what} {mask(shown)!r} holds bytes that are not UTF-8; rename it") from None


def check_writable_dir(path: str | Path, what: str) -> Path:
    """A folder the run will write into, probed with a real write (fsynced and removed) in it, or
    in the nearest existing folder above it when it is still to be created (nothing is created
    here). ``BadInput`` when it or a parent is a file, it cannot be written, or the disk under it
    has less than ``MIN_FREE_BYTES`` free."""
    folder = Path(path)
    check_utf8([folder], what)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise BadInput(f"{what} {folder} is a file, not a folder" if existing == folder
                       else f"{what} {folder} cannot be created: {existing} is a file")
    try:
        probe = existing / f".runbook-write-probe-{os.getpid()}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"x" * 4096)
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
    except OSError as exc:
        raise BadInput(f"{what} {folder} cannot take a write ({exc.strerror or exc}); nothing was run") from None
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        raise BadInput(f"{what} {folder} has only {free} bytes free; nothing was run")
    return folder


def check_migration_files(folder: str | Path) -> None:
    """Every ``.sql`` file of a migrations folder (and its ``rollbacks/`` and ``verify/``) is UTF-8
    text without NUL bytes and at most ``max_migration_bytes()`` long; ``BadInput`` naming the
    first that is not."""
    root = Path(folder)
    if not root.is_dir():
        return  # discover() says what is wrong with the folder itself
    limit = max_migration_bytes()
    for path in sorted([*root.glob("*.sql"), *root.glob("rollbacks/*.sql"), *root.glob("verify/*.sql")]):
        read_migration_text(path, limit)


def read_migration_text(path: Path, limit: int | None = None, *, done: str = "nothing was run",
                        encoding: str = "UTF-8") -> str:
    """The text of one migration file (``encoding``, UTF-8 unless a tool's project says otherwise:
    Flyway's ``encoding``; a BOM dropped, line endings normalized); ``BadInput`` when it is above
    ``limit`` bytes (default ``max_migration_bytes()``), holds NUL bytes or is not in ``encoding``.
    ``done``: what the message says was (not) done."""
    limit = max_migration_bytes() if limit is None else limit
    size = path.stat().st_size
    if size > limit:
        raise BadInput(f"migration file {path} is {size} bytes, above the limit of {limit} "
                       f"({MAX_MIGRATION_ENV} raises it); {done}")
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if b"\0" in data:
            raise BadInput(f"migration file {path} is not text (it holds NUL bytes); {done}") from None
        raise BadInput(f"migration file {path} is not {encoding} text (byte {exc.start}: "
                       f"{data[exc.start:exc.start + 1]!r}); save it as {encoding}. {done[0].upper()}{done[1:]}") from None
    if "\0" in text:
        raise BadInput(f"migration file {path} is not text (it holds NUL bytes); {done}")
    return text.removeprefix("\ufeff").replace("\r\n", "\n")
