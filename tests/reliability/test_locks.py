"""Case 5 and 9 of issue 8: a run lock that cannot silently vanish, and a preflight that sees
real blockers only."""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from runbook.errors import LockBusy, LockLost
from runbook.migrate import migrate
from runbook.target import open_target

from conftest import MIGRATIONS, db_state, new_sqlite_db


def test_sqlite_hard_link_shares_the_lock(tmp_path):
    url = new_sqlite_db(tmp_path / "power100.db")
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "elsewhere" / "same-file.db"
    os.link(tmp_path / "power100.db", link)
    first, second = open_target(url), open_target(f"sqlite:///{link}")
    with first.kind.exclusive_lock(first):
        with pytest.raises(LockBusy, match="another runbook is already working on .*same-file.db"):
            with second.kind.exclusive_lock(second):
                pass
    with second.kind.exclusive_lock(second):  # free again once the first is done
        pass


@pytest.mark.postgres
def test_postgres_run_stops_when_its_lock_session_is_terminated(pg_url, pg_server):
    target = open_target(pg_url)
    before = db_state(pg_url)
    admin = sa.create_engine(pg_server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with target.kind.lock(target):
        pid = int(os.environ["RUNBOOK_LOCK_SESSION"].split("@")[0])
        with admin.connect() as conn:  # a DBA's cleanup, an idle-session timeout
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
            for _ in range(100):
                if not conn.execute(sa.text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).first():
                    break
                time.sleep(0.05)
        # the lock is free now: a second run would be admitted ...
        other = open_target(pg_url)
        os.environ.pop("RUNBOOK_LOCK_HELD")  # as another process would see it
        try:
            with other.kind.exclusive_lock(other):
                pass
        finally:
            os.environ["RUNBOOK_LOCK_HELD"] = target.display
        # ... so this run must stop before its first change
        with pytest.raises(LockLost, match="lock on .* is gone"):
            migrate(target, MIGRATIONS, preflight=False)
    assert db_state(pg_url) == before


@pytest.mark.postgres
def test_preflight_ignores_short_transactions_and_names_long_lock_holders(pg_url):
    patient, target = open_target(pg_url, lock_timeout_s=5.0), open_target(pg_url, lock_timeout_s=0.5)
    eng = sa.create_engine(sa.make_url(pg_url).set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool)
    with eng.connect() as conn:  # the application: a write in a transaction still open
        conn.execute(sa.text("UPDATE contractors SET name = name WHERE id = 1"))
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        for _ in range(5):  # a transaction younger than the lock timeout is never a blocker
            assert patient.kind.preflight(patient, ["contractors"]) == []
        time.sleep(1.1)
        blockers = target.kind.preflight(target, ["contractors"])
        assert [b["pid"] for b in blockers] == [pid]
        assert "holds or waits for locks on contractors in a transaction open for" in blockers[0]["reason"]
        conn.rollback()
