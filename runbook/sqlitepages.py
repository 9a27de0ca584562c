"""SQLite's stored pages, hashed: in this process for a file the runbook reads alone, in a child
process for a live database (``engines.sqlite``'s ``content_pages``).

Closing a file descriptor drops every POSIX lock its process holds on that file, SQLite's
included (sqlite.org/howtocorrupt.html 2.2.1): this process may not open and close a live
database file beside SQLite, or a writer could come in under a reader. A child process's
descriptors and locks are its own, so the child reads the pages while this process's read
transaction holds SQLite's lock (no writer can change the file meanwhile, in rollback-journal
mode). The child imports nothing of the runbook but this module (no SQLAlchemy): it starts in a
few tens of milliseconds, against seconds of copying a large file to read it alone.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

#: ``(first page, how many)``: a run of consecutive pages of a b-tree, in the order dbstat lists them
Runs = list[tuple[int, int]]


def hash_pages(f: BinaryIO, page_size: int, runs: Runs) -> str:
    """The SHA-256 of the pages ``runs`` of the open database file ``f``, with their numbers."""
    h = hashlib.sha256(page_size.to_bytes(4, "big"))
    for start, count in runs:
        f.seek((start - 1) * page_size)
        h.update(start.to_bytes(4, "big") + count.to_bytes(4, "big"))  # which pages: a run of them
        h.update(f.read(count * page_size))
    return h.hexdigest()


def hash_in_child(path: Path, page_size: int, tables: dict[str, Runs]) -> dict[str, str]:
    """``hash_pages`` of each table's runs, read by a child process (see the module's docstring)."""
    root = str(Path(__file__).resolve().parent.parent)
    code = f"import sys; sys.path.insert(0, {root!r}); from runbook.sqlitepages import main; main()"
    job = json.dumps({"path": str(path), "page_size": page_size, "tables": tables})
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code], input=job, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise OSError(f"reading the pages of {path} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(done.stdout)


def main() -> None:
    """The child: a job on stdin (``hash_in_child``), the digests as JSON on stdout."""
    job = json.load(sys.stdin)
    with open(job["path"], "rb", buffering=0) as f:
        out = {table: hash_pages(f, job["page_size"], runs) for table, runs in job["tables"].items()}
    json.dump(out, sys.stdout)
