"""Case 4 of issue 8: when the reports disk fills up after the migration committed, the CLI says
which version the database is at and exits 3 ("database changed, report incomplete"). The disk
is a real 2 MB tmpfs, filled at a barrier right after the migrate step."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from runbook.migrations import applied
from runbook.target import open_target

from conftest import MIGRATIONS


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "reports"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: cannot mount a tmpfs (run the tests as root): {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(folder: Path) -> None:
    with open(folder / f"filler-{uuid.uuid4().hex}", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


@pytest.mark.slow
def test_full_reports_disk_after_commit_exits_3_naming_the_version(db_url, tmp_path, small_disk):
    url = db_url
    barriers = tmp_path / "barrier"
    barriers.mkdir()
    (barriers / "after-migrate.wanted").touch()
    proc = subprocess.Popen(
        [sys.executable, "-m", "runbook.cli", "run", "--db", url, "--migrations", str(MIGRATIONS),
         "--reports", str(small_disk), "--backups", str(tmp_path / "backups"), "--no-rehearsal"],
        env={**os.environ, "RUNBOOK_BARRIER_DIR": str(barriers)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    deadline = time.monotonic() + 600
    while not (barriers / "after-migrate.reached").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    _fill(small_disk)
    (barriers / "after-migrate.go").touch()
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 3, (out, err)
    line = err.strip().splitlines()[-1]
    assert "database changed, report incomplete" in line and "now at version 004" in line, err
    assert "Traceback" not in err
    target = open_target(url)
    with target.engine().connect() as conn:
        assert [a.version for a in applied(conn)][-1] == "004"
    target.dispose()
