"""The PostgreSQL engine against a real server: backup/verify/restore, scratch copies, the
one-runbook lock, the preflight, lock_timeout, CREATE INDEX CONCURRENTLY, passwords.

Every "nothing changed" promise is checked by comparing the database's schema and a digest of
every table's rows (computed in SQL) before and after.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from runbook import backup, inventory
from runbook import migrations as mig
from runbook.engines import postgresql as pg
from runbook.errors import BadInput, LockBusy, RunFailed
from runbook.migrate import migrate
from runbook.target import Target, open_target

pytestmark = pytest.mark.postgres


# -- helpers ----------------------------------------------------------------------------------
def state(url: str | Target) -> dict[str, Any]:
    """Schema (tables, columns, indexes incl. validity, FKs, owners) and a digest of every table's
    rows, all read from the catalog and in SQL."""
    target = url if isinstance(url, Target) else open_target(url)
    out: dict[str, Any] = {}
    with target.engine().connect() as conn:
        insp = sa.inspect(conn)
        for t in sorted(insp.get_table_names()):
            if t == mig.EVENTS_TABLE:  # the event log records failures too (an audit trail, tests/test_events.py)
                continue
            q = insp.dialect.identifier_preparer.quote(t)
            count, digest = conn.exec_driver_sql(
                f"SELECT count(*), md5(string_agg(x::text, '|' ORDER BY x::text)) FROM {q} AS x").one()
            out[t] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], str(c["default"])) for c in insp.get_columns(t)],
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)),
                "fks": sorted((f["name"], f["referred_table"]) for f in insp.get_foreign_keys(t)),
                "rows": count, "digest": digest,
            }
        out["_views"] = sorted(insp.get_view_names())
        out["_owners"] = conn.exec_driver_sql(
            "SELECT string_agg(c.relname || ':' || pg_get_userbyid(c.relowner), ',' ORDER BY c.relname) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'").scalar()
        out["_invalid_indexes"] = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_index WHERE NOT indisvalid").scalar()
    return out


def history(url: str) -> list[str]:
    with open_target(url).engine().connect() as conn:
        return [a.version for a in mig.applied(conn)]


@contextlib.contextmanager
def other_session(url: str, *statements: str) -> Iterator[int]:
    """Another client session (the application, say) that ran ``statements`` in a transaction
    it keeps open while the block runs; yields its pid."""
    eng = sa.create_engine(sa.make_url(url).set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool,
                           connect_args={"application_name": "power100-app"})
    with eng.connect() as conn:
        for s in statements:
            conn.exec_driver_sql(s)
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        try:
            yield pid
        finally:
            conn.rollback()


def databases(server: sa.URL, like: str) -> list[str]:
    eng = sa.create_engine(server, poolclass=sa.pool.NullPool)
    with eng.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                                           {"p": like})]


def folder_with(tmp_path: Path, migrations_dir: Path, files: dict[str, str]) -> Path:
    """The guide's migrations 000-002 plus ``files`` (name -> SQL) as 003..."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir, folder)
    for p in [*folder.glob("00[3-9]_*.sql"), *(folder / "rollbacks").glob("00[3-9]_*.sql"),
              *(folder / "verify").glob("00[3-9]_*.sql")]:
        p.unlink()
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


@pytest.fixture
def adopted(pg_url: str, migrations_dir: Path) -> str:
    """The production-like database with the baseline adopted (history table present), so a
    failing migration afterwards must leave everything, history included, as it was."""
    assert migrate(open_target(pg_url), migrations_dir, to="000").passed
    return pg_url


# -- backup, verify, restore -------------------------------------------------------------------
def test_backup_verify_restore_round_trip(pg_url, migrations_dir, tmp_path):
    target = open_target(pg_url)
    before = state(pg_url)
    info = backup.take(target, tmp_path / "backups", stamp="20250101_000000")

    path = Path(info["path"])
    assert path.name == f"{target.url.database}_backup_20250101_000000.dump" and path.is_file()
    assert info["format"] == "pg_dump custom (-Fc)"
    assert info["size_bytes"] == path.stat().st_size > 0
    assert info["tool"].startswith("pg_dump (PostgreSQL) ")
    assert info["source_row_counts"] == {t: before[t]["rows"] for t in before if not t.startswith("_")}
    assert info["source_row_counts"]["contractors"] == 11
    assert sorted(path.parent.iterdir()) == [path, backup.sidecar_path(path)]  # no partial file left beside it
    checks = target.kind.verify_backup(target, info)
    assert [c["check"] for c in checks] == ["backup file exists", "SHA-256 matches",
                                           "pg_restore --list reads the archive",
                                           "archive holds the data of every source table"]
    assert all(c["passed"] for c in checks), checks

    # change everything a run could change: schema, history, data
    assert migrate(target, migrations_dir).passed
    with target.engine().begin() as conn:
        conn.exec_driver_sql("DELETE FROM admin_users")
        conn.exec_driver_sql("UPDATE contractors SET name = 'changed'")
        conn.exec_driver_sql("CREATE VIEW active_partners AS SELECT * FROM strategic_partners WHERE is_active")
    assert state(pg_url) != before

    target.kind.restore(target, path)
    after = state(pg_url)
    assert after == before
    assert "schema_history" not in after and after["_views"] == []
    with target.engine().begin() as conn:  # identity columns keep numbering after the restore
        new_id = conn.exec_driver_sql(
            "INSERT INTO admin_users (email, password_hash) VALUES ('new@x.example', 'h') RETURNING id").scalar()
    assert new_id == before["admin_users"]["rows"] + 1


def test_restore_keeps_owners(pg_password_db, pg_password_server, tmp_path):
    """Run as a superuser, a restore gives the tables back to the role that owned them."""
    admin = open_target(pg_password_server.set(database=sa.make_url(pg_password_db["url"]).database))
    before = state(admin)
    assert f"contractors:{pg_password_db['role']}" in before["_owners"]
    info = backup.take(admin, tmp_path, stamp="owners")
    with admin.engine().begin() as conn:
        conn.exec_driver_sql("DROP TABLE admin_users")
    admin.kind.restore(admin, Path(info["path"]))
    assert state(admin) == before


def test_verify_backup_catches_a_damaged_file(pg_url, tmp_path):
    target = open_target(pg_url)
    info = backup.take(target, tmp_path, stamp="damaged")
    path = Path(info["path"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    failed = [c["check"] for c in target.kind.verify_backup(target, info) if not c["passed"]]
    assert failed[0] == "SHA-256 matches"  # where the flipped byte lands decides whether more fail
    path.write_bytes(b"not an archive")
    failed = [c["check"] for c in target.kind.verify_backup(target, info) if not c["passed"]]
    assert failed == ["SHA-256 matches", "pg_restore --list reads the archive"]
    path.unlink()
    failed = [c["check"] for c in target.kind.verify_backup(target, info) if not c["passed"]]
    assert failed == ["backup file exists"]


def test_verify_backup_names_a_table_missing_from_the_archive(pg_url, tmp_path):
    target = open_target(pg_url)
    info = backup.take(target, tmp_path, stamp="missing")
    info["source_row_counts"]["created_after_backup"] = 3
    check = target.kind.verify_backup(target, info)[-1]
    assert not check["passed"] and "created_after_backup" in check["detail"]


def test_restore_blocked_by_a_lock_times_out_and_changes_nothing(adopted, migrations_dir, tmp_path):
    target = open_target(adopted, lock_timeout_s=0.5)
    with target.engine().begin() as conn:  # more script than a pipe holds: psql stops reading early
        conn.exec_driver_sql("CREATE TABLE bulk AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g")
    info = backup.take(target, tmp_path, stamp="locked")
    assert migrate(target, migrations_dir).passed
    before = state(adopted)
    with other_session(adopted, "SELECT count(*) FROM contractors"):
        started = time.monotonic()
        with pytest.raises(RunFailed, match="lock timeout.*|.*rolled back") as exc:
            target.kind.restore(target, Path(info["path"]))
        assert time.monotonic() - started < 30
    assert "rolled back" in str(exc.value) and "lock timeout" in str(exc.value)
    assert state(adopted) == before


def test_restore_from_a_truncated_archive_rolls_back(adopted, tmp_path):
    """The TOC at the head of the archive reads fine, the data at its end does not: the restore
    fails half-way through the stream, and the half that ran is rolled back."""
    target = open_target(adopted)
    with target.engine().begin() as conn:
        conn.exec_driver_sql("CREATE TABLE bulk AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g")
    info = backup.take(target, tmp_path, stamp="truncated")
    path = Path(info["path"])
    path.write_bytes(path.read_bytes()[: info["size_bytes"] // 2])
    ok, _ = pg.archive_list(path)
    assert ok  # pg_restore --list still reads it
    with target.engine().begin() as conn:
        conn.exec_driver_sql("DELETE FROM contractors WHERE id > 5")
        conn.exec_driver_sql("DROP TABLE bulk")
    before = state(adopted)
    with pytest.raises(RunFailed, match="rolled back"):
        target.kind.restore(target, path)
    assert state(adopted) == before


def test_restore_refuses_what_is_not_an_archive(pg_url, tmp_path):
    target = open_target(pg_url)
    before = state(pg_url)
    with pytest.raises(BadInput, match="backup file not found"):
        target.kind.restore(target, tmp_path / "nope.dump")
    junk = tmp_path / "junk.dump"
    junk.write_text("SELECT 1;")
    with pytest.raises(BadInput, match="not a readable pg_dump archive"):
        target.kind.restore(target, junk)
    assert state(pg_url) == before


def test_backup_fails_cleanly_when_pg_dump_is_missing(pg_url, tmp_path, monkeypatch):
    """No pg_dump on PATH: the real "client tools not installed" condition."""
    target = open_target(pg_url)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(BadInput, match="pg_dump not found on PATH"):
        backup.take(target, tmp_path / "backups", stamp="x")
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir())


def test_backup_refuses_a_pg_dump_older_than_the_server(pg_url, tmp_path, monkeypatch):
    """An old client first on PATH (a stand-in executable that answers --version like
    pg_dump 12 does: no older PostgreSQL client is installed on this machine)."""
    target = open_target(pg_url)
    old = tmp_path / "old-client"
    old.mkdir()
    (old / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 12.22'\n")
    (old / "pg_dump").chmod(0o755)
    monkeypatch.setenv("PATH", f"{old}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(BadInput, match=r"pg_dump \(PostgreSQL\) 12.22 is older than the server .*postgresql-client-1\d"):
        backup.take(target, tmp_path / "backups", stamp="x")
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir())


def _server_major(url: str) -> int:
    with open_target(url).engine().connect() as conn:
        return int(conn.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000


WRAPPED = shutil.which("pg_dump") is not None and Path(shutil.which("pg_dump")).resolve().name == "pg_wrapper"


@pytest.mark.skipif(not WRAPPED, reason="pg_dump on PATH is not Debian's pg_wrapper here")
def test_client_tools_bypass_debians_wrapper(pg_url, tmp_path):
    """On Debian the names on PATH are pg_wrapper (perl); the run calls the server's own major
    version's binaries instead, and the backup record names the one that made the archive."""
    target = open_target(pg_url)
    major = _server_major(pg_url)
    real = pg.DEBIAN_CLIENTS / str(major) / "bin"
    if not (real / "pg_dump").is_file():
        pytest.skip(f"no PostgreSQL {major} client tools in {real}")
    assert [pg._tool(t, major) for t in ("pg_dump", "pg_restore", "psql")] == \
        [str(real / t) for t in ("pg_dump", "pg_restore", "psql")]
    info = backup.take(target, tmp_path, stamp="debian")
    assert info["tool"] == f"pg_dump (PostgreSQL) {major} ({real / 'pg_dump'})"
    assert all(c["passed"] for c in target.kind.verify_backup(target, info))
    with target.kind.scratch_copy(target, Path(info["path"])) as copy:  # pg_restore of that version
        assert state(copy) == state(target)


@pytest.mark.skipif(not WRAPPED, reason="pg_dump on PATH is not Debian's pg_wrapper here")
def test_without_debians_version_folders_the_wrapper_itself_runs(pg_url, tmp_path, monkeypatch):
    """No ``/usr/lib/postgresql/<major>/bin`` (another layout): the tool PATH finds is run as it
    is, and its version is asked with --version."""
    empty = tmp_path / "no-versions"
    empty.mkdir()
    monkeypatch.setattr(pg, "DEBIAN_CLIENTS", empty)
    target = open_target(pg_url)
    info = backup.take(target, tmp_path / "backups", stamp="wrapper")
    assert info["tool"].startswith(f"pg_dump (PostgreSQL) {_server_major(pg_url)}.")
    assert info["tool"].endswith(f"({shutil.which('pg_dump')})")
    assert all(c["passed"] for c in target.kind.verify_backup(target, info))


def test_a_client_tool_first_on_path_is_used_as_it_is(pg_url, tmp_path, monkeypatch):
    """A pg_dump that is not the wrapper, first on PATH (here a link to the installed binary
    from another folder), is the one that runs: PATH stays the way to choose the client tools."""
    target = open_target(pg_url)
    real = Path(pg._tool("pg_dump", _server_major(pg_url))).resolve()
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    (chosen / "pg_dump").symlink_to(real)
    monkeypatch.setenv("PATH", f"{chosen}{os.pathsep}{os.environ['PATH']}")
    info = backup.take(target, tmp_path / "backups", stamp="chosen")
    assert info["tool"].startswith("pg_dump (PostgreSQL) ") and info["tool"].endswith(f"({chosen / 'pg_dump'})")
    assert all(c["passed"] for c in target.kind.verify_backup(target, info))


def test_failed_backup_leaves_no_file(pg_url, tmp_path):
    target = open_target(pg_url, lock_timeout_s=0.5)
    with other_session(pg_url, "LOCK TABLE contractors IN ACCESS EXCLUSIVE MODE"):
        with pytest.raises(RunFailed, match="no backup file was written"):
            backup.take(target, tmp_path, stamp="x")
    assert list(tmp_path.iterdir()) == []


# -- scratch copies ----------------------------------------------------------------------------
def test_scratch_copy_holds_the_backup_and_is_always_dropped(pg_url, pg_server, tmp_path):
    target = open_target(pg_url)
    info = backup.take(target, tmp_path, stamp="scratch")
    prefix = f"{target.url.database}_rehearsal_%"
    with target.kind.scratch_copy(target, Path(info["path"])) as scratch:
        assert scratch.url.database.startswith(f"{target.url.database}_rehearsal_")
        assert databases(pg_server, prefix) == [scratch.url.database]
        with scratch.engine().connect() as conn:
            assert inventory.row_counts(conn, with_history=True) == info["source_row_counts"]
        leaked = scratch.engine().connect()  # a session still open at exit does not stop the drop
        leaked.exec_driver_sql("SELECT 1")
    assert databases(pg_server, prefix) == []

    with pytest.raises(ZeroDivisionError):
        with target.kind.scratch_copy(target, Path(info["path"])) as scratch:
            with scratch.engine().begin() as conn:
                conn.exec_driver_sql("DROP TABLE admin_users")
            1 / 0
    assert databases(pg_server, prefix) == []
    assert state(pg_url)["admin_users"]["rows"] == 1  # the source never changed


def test_scratch_database_is_empty_and_dropped(pg_url, pg_server):
    target = open_target(pg_url)
    with target.kind.scratch_database(target, "lint") as scratch:
        with scratch.engine().connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
        name = scratch.url.database
        assert databases(pg_server, name) == [name]
    assert databases(pg_server, name) == []


# -- the four "exits non-zero, clear message, database unchanged" cases ------------------------
def test_sql_error_mid_migration_changes_nothing(adopted, migrations_dir, tmp_path):
    folder = folder_with(tmp_path, migrations_dir, {"003_broken.sql": (
        "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, what TEXT);\n"
        "INSERT INTO contractors (name, email) VALUES ('x', 'x@x.example');\n"
        "ALTER TABLE no_such_table ADD COLUMN x TEXT;\n"
        "ALTER TABLE contractors ADD COLUMN never_added TEXT;\n")})
    assert migrate(open_target(adopted), folder, to="002").passed
    before = state(adopted)
    result = migrate(open_target(adopted), folder)
    assert not result.passed
    assert "003_broken failed at statement 3 (line 3)" in result.error
    assert 'relation "no_such_table" does not exist' in result.error and "rolled back" in result.error
    assert state(adopted) == before
    assert history(adopted) == ["000", "001", "002"]


def test_second_concurrent_run_fails_fast(adopted, migrations_dir):
    target = open_target(adopted)
    before = state(adopted)
    with target.kind.exclusive_lock(target):
        started = time.monotonic()
        with pytest.raises(LockBusy, match=r"another runbook is already working on .* held by pid \d+ "
                                           r"\(schema-runbook, user \w+"):
            migrate(open_target(adopted), migrations_dir)
        assert time.monotonic() - started < 5
    assert state(adopted) == before
    with target.kind.exclusive_lock(target):  # released on exit: it can be taken again
        pass
    assert migrate(target, migrations_dir).passed


def test_lock_is_per_database(adopted):
    a = open_target(adopted)
    with a.kind.scratch_database(a, "other") as b:
        with a.kind.exclusive_lock(a), b.kind.exclusive_lock(b):
            with pytest.raises(LockBusy):
                with a.kind.exclusive_lock(open_target(adopted)):
                    pass


def test_a_session_given_back_is_reused_as_new(pg_url):
    """A target's connections share one pooled session, reset when given back: what a migration
    set on its session (a timeout, a temporary table, an advisory lock) never reaches the next
    use, which runs under the target's own lock and statement timeouts."""
    target = open_target(pg_url, lock_timeout_s=2.5, statement_timeout_s=40)
    with target.engine().connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        conn.exec_driver_sql("SET lock_timeout = '1h'")
        conn.exec_driver_sql("SET statement_timeout = '1h'")
        conn.exec_driver_sql("CREATE TEMP TABLE leftover (x int)")
        conn.exec_driver_sql("SELECT pg_advisory_lock(42)")
        conn.exec_driver_sql("UPDATE contractors SET name = name")
        conn.commit()
    with open_target(pg_url).engine().connect() as other:  # the rows it wrote are counted at once
        assert other.exec_driver_sql("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'contractors'").scalar_one() == 11
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() == pid  # no new session
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar_one() == "2500ms"
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == "40s"
        assert conn.exec_driver_sql("SELECT to_regclass('pg_temp.leftover')").scalar_one() is None
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                    "AND pid = pg_backend_pid()").scalar_one() == 0
        for _ in range(6):  # more than psycopg's prepare threshold: nothing prepared to lose on reset
            conn.exec_driver_sql("SELECT count(*) FROM contractors").scalar_one()
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM contractors").scalar_one() == 11


def test_a_plan_is_explained_without_jit_and_leaves_the_settings_as_they_were(pg_url):
    """Verify's query plans: asking for the index plan (``enable_seqscan`` off) makes any plan
    without a usable index cost past ``jit_above_cost``, and even a plain EXPLAIN of such a plan
    loads LLVM into the backend. The runbook's plans never plan JIT, and the settings it changed
    for them are as they were afterwards (here the session's own, both off and on)."""
    target = open_target(pg_url)
    sql = "SELECT * FROM contractors WHERE email = 'a@example.com'"
    with target.engine().connect() as conn:
        conn.exec_driver_sql("SET jit_above_cost = 0")  # every plan would use JIT
        conn.exec_driver_sql("SET enable_seqscan = off")
        assert "JIT:" in "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))  # the server has JIT
        for plan in (target.kind.explain(conn, sql), target.kind.index_usable(conn, sql)):
            assert plan and not any("JIT" in line for line in plan)
        assert conn.exec_driver_sql("SHOW enable_seqscan").scalar_one() == "off"
        assert conn.exec_driver_sql("SHOW jit").scalar_one() == "on"
        conn.exec_driver_sql("SET enable_seqscan = on")
        target.kind.index_usable(conn, sql)
        assert conn.exec_driver_sql("SHOW enable_seqscan").scalar_one() == "on"


def test_the_catalog_read_of_columns_names_every_table(pg_url):
    """``column_names`` is the data check's one read of the tables and their columns: a table
    without columns (``CREATE TABLE t ()``) is a table all the same, and a generated column holds
    nothing of its own."""
    target = open_target(pg_url)
    with target.engine().begin() as conn:
        conn.exec_driver_sql("CREATE TABLE marker ()")
        conn.exec_driver_sql("CREATE TABLE priced (net int, gross int GENERATED ALWAYS AS (net * 2) STORED)")
    with target.engine().connect() as conn:
        columns = target.kind.column_names(conn)
        assert set(columns) == set(target.kind.table_names(conn))
    assert columns["marker"] == [] and columns["priced"] == ["net"]


def test_a_pooled_session_ended_by_the_server_is_replaced(pg_url):
    """A session ended while idle in the pool (a DBA, idle_session_timeout) is replaced on the
    next use instead of failing it."""
    target = open_target(pg_url)
    with target.engine().connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    with open_target(pg_url).engine().connect() as admin:
        assert admin.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() != pid


def test_the_lock_session_is_not_pooled(adopted):
    """The advisory lock's session ends when the lock is given up (it is nobody's pooled session)."""
    target = open_target(adopted)
    with target.kind.exclusive_lock(target):
        pid = int(os.environ[pg.LOCK_SESSION_ENV].split("@")[0])
    with open_target(adopted).engine().connect() as conn:
        deadline = time.monotonic() + 10
        while conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).scalar_one():
            assert time.monotonic() < deadline, "the lock's session is still open"
            time.sleep(0.05)
            conn.rollback()


def test_a_lost_lock_stops_the_run_before_its_next_migration(adopted, migrations_dir, tmp_path, monkeypatch):
    """The run's lock session ended between two migrations (a DBA, idle_session_timeout): another
    run could now start, so the next migration does not run (``LockLost``, checked in that
    migration's own transaction); the one before it stays applied and recorded."""
    import threading

    from runbook import faults
    from runbook.errors import LockLost

    monkeypatch.setenv(faults.BARRIER_ENV, str(tmp_path))
    (tmp_path / "before-migration-002.wanted").touch()
    target = open_target(adopted)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = migrate(target, migrations_dir, preflight=False)
        except Exception as exc:  # noqa: BLE001 - the test looks at what it was
            outcome["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "before-migration-002.reached").exists():
        assert worker.is_alive() and time.monotonic() < deadline, outcome
        time.sleep(0.02)
    after_001 = state(adopted)
    pid = int(os.environ[pg.LOCK_SESSION_ENV].split("@")[0])
    with open_target(adopted).engine().connect() as admin:
        assert admin.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    (tmp_path / "before-migration-002.go").touch()
    worker.join(60)
    assert isinstance(outcome.get("error"), LockLost), outcome
    assert f"pid {pid}" in str(outcome["error"]) and "before changing anything more" in str(outcome["error"])
    assert history(adopted) == ["000", "001"]
    assert state(adopted) == after_001


def test_migration_blocked_past_lock_timeout_gives_up_and_changes_nothing(adopted, migrations_dir):
    target = open_target(adopted, lock_timeout_s=0.5)
    before = state(adopted)
    with other_session(adopted, "SELECT count(*) FROM contractors"):
        started = time.monotonic()
        result = migrate(target, migrations_dir, preflight=False)
        assert time.monotonic() - started < 15
        assert not result.passed
        assert "001_add_contractor_fields failed" in result.error
        assert "canceling statement due to lock timeout" in result.error
        assert state(adopted) == before
    assert history(adopted) == ["000"]


def test_preflight_stops_before_a_session_holding_locks(adopted, migrations_dir):
    target = open_target(adopted, lock_timeout_s=0.5)
    before = state(adopted)
    with other_session(adopted, "SELECT count(*) FROM contractors WHERE email = 'someone@personal.example'") as pid:
        assert target.kind.preflight(target, ["contractors"]) == []  # younger than the lock timeout: traffic
        time.sleep(1.1)  # now older than the lock timeout (0.5 s) and MIN_BLOCKER_AGE_S (1 s)
        blockers = target.kind.preflight(target, ["contractors"])
        assert [b["pid"] for b in blockers] == [pid]
        b = blockers[0]
        assert b["application_name"] == "power100-app" and b["state"] == "idle in transaction"
        assert b["relations"] == ["contractors"] and b["xact_age_s"] >= 0
        assert "someone@personal.example" not in repr(blockers)  # never the query text
        assert target.kind.preflight(target, ["admin_users"]) == []  # other tables are free
        with pytest.raises(RunFailed, match=rf"preflight: 1 session\(s\) would block the migration: pid {pid} "
                                            r"\(holds or waits for locks on contractors in a transaction open for [\d.]+ s\); nothing was changed"):
            migrate(target, migrations_dir)
        assert state(adopted) == before


def test_preflight_lists_long_transactions(adopted, monkeypatch):
    target = open_target(adopted)
    monkeypatch.setattr(pg, "LONG_TRANSACTION_S", 0.2)
    with other_session(adopted, "SELECT 1") as pid:  # a transaction that touches nothing
        time.sleep(0.3)
        blockers = target.kind.preflight(target, ["contractors"])
    assert [b["pid"] for b in blockers] == [pid]
    assert blockers[0]["reason"].startswith("transaction open for") and blockers[0]["relations"] == []
    monkeypatch.setattr(pg, "LONG_TRANSACTION_S", 60.0)
    with other_session(adopted, "SELECT 1"):
        assert target.kind.preflight(target, ["contractors"]) == []


def test_wrong_password_is_bad_input_without_the_password(pg_password_db, monkeypatch):
    url = sa.make_url(pg_password_db["url"])
    role, right = pg_password_db["role"], pg_password_db["password"]
    wrong = "Wr0ng-" + right[:8]
    before = None
    monkeypatch.setenv("PGPASSWORD", right)
    before = state(open_target(url))
    for how in ("url", "PGPASSWORD"):
        if how == "url":
            raw = url.set(password=wrong).render_as_string(hide_password=False)
        else:
            monkeypatch.setenv("PGPASSWORD", wrong)
            raw = str(url.render_as_string(hide_password=False))
        with pytest.raises(BadInput) as exc:
            open_target(raw)
        message = str(exc.value)
        assert f'password authentication failed for user "{role}"' in message
        assert "PGPASSWORD, ~/.pgpass" in message
        assert wrong not in message and right not in message and "\n" not in message
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")
    with pytest.raises(BadInput, match=f'wants a password for user "{role}" and none was given'):
        open_target(url.render_as_string(hide_password=False))
    monkeypatch.setenv("PGPASSWORD", right)
    assert state(open_target(url)) == before


@pytest.mark.parametrize("suffix", ["", "/"])
def test_url_without_a_database_is_refused_before_anything_runs(pg_url, suffix, monkeypatch):
    """psycopg would connect to the database named after the user while pg_dump/pg_restore
    would get another one: a URL naming no database is refused at once, its password is not
    moved into PGPASSWORD, and the server's databases are as they were."""
    server = sa.make_url(pg_url)
    before = state(pg_url)

    def server_databases() -> list[str]:  # other tests' own databases come and go meanwhile (xdist)
        return [d for d in databases(server.set(drivername="postgresql+psycopg"), "%")
                if not d.startswith("rbtest_") or d == server.database]

    dbs = server_databases()
    monkeypatch.setenv("PGPASSWORD", "as-it-was")
    raw = server._replace(database=None, password="S3cret-pw").render_as_string(hide_password=False) + suffix
    with pytest.raises(BadInput) as exc:
        open_target(raw)
    message = str(exc.value)
    assert "name the database: postgresql://user@host:port/DBNAME" in message
    assert "S3cret-pw" not in message and "\n" not in message
    assert os.environ["PGPASSWORD"] == "as-it-was"
    assert server_databases() == dbs
    assert state(pg_url) == before


def test_password_from_the_environment_reaches_pg_dump(pg_password_db, tmp_path, monkeypatch):
    """A scram-protected role: pg_dump, pg_restore and psql get the password only from the
    environment (open_target moved it there), and it is nowhere in what backup returns."""
    password = pg_password_db["password"]
    raw = sa.make_url(pg_password_db["url"]).set(password=password).render_as_string(hide_password=False)
    target = open_target(raw)
    assert target.url.password is None and os.environ["PGPASSWORD"] == password
    conninfo, _ = pg.libpq(target)
    assert password not in conninfo
    info = backup.take(target, tmp_path, stamp="pw")
    assert password not in repr(info)
    assert all(c["passed"] for c in target.kind.verify_backup(target, info))
    before = state(target)
    with target.engine().begin() as conn:
        conn.exec_driver_sql("DELETE FROM contractors")
    target.kind.restore(target, Path(info["path"]))
    assert state(target) == before


# -- statements that cannot run inside a transaction -------------------------------------------
CIC_SQLITE = "CREATE INDEX {name} ON {table}({column});\n"
CIC_PG = "-- Risk Level: LOW\nCREATE {unique}INDEX CONCURRENTLY {name} ON {table} ({column});\n"


def cic_folder(tmp_path: Path, migrations_dir: Path, *, name: str, table: str, column: str,
               unique: bool = False) -> Path:
    files = {
        "003_concurrent_index.sql": CIC_SQLITE.format(name=name, table=table, column=column),
        "003_concurrent_index.postgresql.sql": CIC_PG.format(
            name=name, table=table, column=column, unique="UNIQUE " if unique else ""),
    }
    return folder_with(tmp_path, migrations_dir, files)


def test_create_index_concurrently_runs_outside_a_transaction(adopted, migrations_dir, tmp_path):
    folder = cic_folder(tmp_path, migrations_dir, name="idx_contractors_phone", table="contractors", column="phone")
    result = migrate(open_target(adopted), folder)
    assert result.passed, result.error
    assert history(adopted) == ["000", "001", "002", "003"]
    after = state(adopted)
    assert ("idx_contractors_phone", ("phone",), False) in after["contractors"]["indexes"]
    assert after["_invalid_indexes"] == 0


def test_failed_create_index_concurrently_leaves_nothing(adopted, migrations_dir, tmp_path):
    folder = cic_folder(tmp_path, migrations_dir, name="idx_partners_active_u", table="strategic_partners",
                        column="is_active", unique=True)  # duplicates: the unique index cannot be built
    assert migrate(open_target(adopted), folder, to="002").passed
    before = state(adopted)
    result = migrate(open_target(adopted), folder)
    assert not result.passed
    assert "003_concurrent_index failed" in result.error and "could not create unique index" in result.error
    # autocommit: no transaction was rolled back; the INVALID index the statement left was dropped
    assert result.error.endswith("; it ran outside a transaction, in autocommit: there was no transaction to roll "
                                 'back; the INVALID index "public"."idx_partners_active_u" it left was dropped; it is '
                                 "the migration's only statement, so nothing else was to undo"), result.error
    assert "transaction was rolled back" not in result.error
    after = state(adopted)
    assert after == before and after["_invalid_indexes"] == 0
    with open_target(adopted).engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT to_regclass('idx_partners_active_u')").scalar() is None
    assert history(adopted) == ["000", "001", "002"]


def test_concurrent_index_must_be_alone_in_its_migration(adopted, migrations_dir, tmp_path):
    folder = folder_with(tmp_path, migrations_dir, {
        "003_mixed.sql": "CREATE INDEX a ON contractors(phone);\n",
        "003_mixed.postgresql.sql": "CREATE INDEX CONCURRENTLY a ON contractors (phone);\n"
                                    "UPDATE contractors SET phone = phone;\n"})  # no undo: an UPDATE
    before = state(adopted)
    with pytest.raises(BadInput, match=r"cannot run inside a transaction; such a statement must be alone.*"
                                       r"statement 2 \(line 2: UPDATE \.\.\.\) cannot be undone"):
        migrate(open_target(adopted), folder)
    assert state(adopted) == before


SEVERAL_PG = ("CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON contractors (phone);\n"
              "CREATE INDEX CONCURRENTLY ON contractors (email, phone);\n"
              "DROP INDEX CONCURRENTLY IF EXISTS idx_partners_name;\n"
              "REINDEX INDEX CONCURRENTLY idx_a;\n")


def indexes(url: str) -> list[tuple[str, str]]:
    with open_target(url).engine().connect() as conn:
        return conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                                    "ORDER BY 1").all()


#: a unique index the demo's rows refuse (duplicates): the statement that fails, last in a migration
FAILING_UNIQUE = "CREATE UNIQUE INDEX CONCURRENTLY idx_u ON strategic_partners (is_active);\n"


def assert_a_failure_undoes(adopted: str, migrations_dir: Path, tmp_path: Path, body: str, undone: int) -> Path:
    """Migration 003, ``body`` then ``FAILING_UNIQUE``, on the database at 002: it fails at that
    statement, the ``undone`` statements before it are undone, and schema, index definitions and
    history are as they were. The error says what happened: no transaction rolled back (the
    statements ran outside one, each committed), the statements before it undone by the runbook,
    newest first, and the INVALID index the failed one left dropped. Returns the folder, its 003
    rewritten to ``body`` alone."""
    folder = folder_with(tmp_path, migrations_dir, {"003_outside.sql": "SELECT 1;\n",
                                                    "003_outside.postgresql.sql": body + FAILING_UNIQUE})
    assert migrate(open_target(adopted), folder, to="002").passed
    before, defs = state(adopted), indexes(adopted)
    failed = migrate(open_target(adopted), folder)
    assert not failed.passed and f"statement {undone + 1}" in failed.error, failed.error
    assert "could not create unique index" in failed.error, failed.error
    newest_first = ", ".join(str(n) for n in range(undone, 0, -1))
    assert failed.error.endswith(
        "; its statements ran outside a transaction, in autocommit, each committed as it ran: there was no "
        'transaction to roll back; the INVALID index "public"."idx_u" it left was dropped; the '
        f"{undone} statement(s) before it were undone by the runbook, newest first (statements {newest_first})"
    ), failed.error
    assert "transaction was rolled back" not in failed.error, failed.error
    assert state(adopted) == before and indexes(adopted) == defs and history(adopted) == ["000", "001", "002"]
    (folder / "003_outside.postgresql.sql").write_text(body)
    return folder


def test_several_statements_outside_a_transaction_share_a_migration_and_a_failure_undoes_them(
        adopted, migrations_dir, tmp_path):
    """hatchet's and Permify's goose ``NO TRANSACTION`` files build several indexes concurrently in
    one migration. Each runs in autocommit; the migration is recorded once, after the last. When
    one fails, the ones before it are undone, newest first: an index made is dropped (an unnamed
    one too), an index dropped is made again from its definition; the database is as it was."""
    with open_target(adopted).engine().begin() as conn:
        conn.exec_driver_sql("CREATE INDEX idx_partners_name ON strategic_partners (company_name)")
    folder = assert_a_failure_undoes(adopted, migrations_dir, tmp_path, SEVERAL_PG, undone=4)
    done = migrate(open_target(adopted), folder)
    assert done.passed, done.error
    assert history(adopted) == ["000", "001", "002", "003"]
    names = [n for n, _ in indexes(adopted)]
    assert "idx_a" in names and "contractors_email_phone_idx" in names and "idx_partners_name" not in names
    assert state(adopted)["_invalid_indexes"] == 0


def test_statements_the_runbook_can_undo_may_share_a_migration_with_concurrent_ones(adopted, migrations_dir, tmp_path):
    """hatchet's v0_42_1: a CHECK constraint added, an index dropped and another built
    concurrently, in one goose ``NO TRANSACTION`` file; with a table, an enum type and a column
    made too. When the last statement fails, every one before it is undone: the schema is as it was."""
    with open_target(adopted).engine().begin() as conn:
        conn.exec_driver_sql("CREATE INDEX idx_partners_name ON strategic_partners (company_name)")
    body = ("ALTER TABLE contractors ADD CONSTRAINT contractors_name_check CHECK (length(name) > 0), "
            "ADD COLUMN priority int;\n"
            "DROP INDEX CONCURRENTLY IF EXISTS idx_partners_name;\n"
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_partners_name_2 ON strategic_partners (company_name, id);\n"
            "CREATE TYPE queue_state AS ENUM ('queued', 'done');\n"
            "CREATE TABLE queue_items (id int PRIMARY KEY, state queue_state);\n"
            "CREATE INDEX ON queue_items (state);\n")
    folder = assert_a_failure_undoes(adopted, migrations_dir, tmp_path, body, undone=6)
    with open_target(adopted).engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT to_regtype('queue_state')").scalar() is None
    assert migrate(open_target(adopted), folder).passed and history(adopted)[-1] == "003"


def test_an_index_dropped_concurrently_is_made_again_whole_when_a_later_statement_fails(
        adopted, migrations_dir, tmp_path):
    """The dropped index is made again from ``pg_get_indexdef`` as one statement, even when its
    predicate holds ``; `` in a string (it was cut there, and the index lost)."""
    with open_target(adopted).engine().begin() as conn:
        conn.exec_driver_sql("CREATE UNIQUE INDEX idx_partial ON contractors (email, phone) INCLUDE (name) "
                             "WHERE phone <> 'a; b' AND email IS NOT NULL")
    assert_a_failure_undoes(adopted, migrations_dir, tmp_path, "DROP INDEX CONCURRENTLY idx_partial;\n", undone=1)


def test_an_undo_that_fails_is_named_with_what_it_left(adopted, migrations_dir, tmp_path):
    """An undo can fail too: the application reads contractors in an open transaction, which lets
    a new table referencing contractors be made but not dropped again (dropping its foreign key
    waits for an ACCESS EXCLUSIVE lock on contractors) in the lock timeout. The error says the
    statements ran outside a transaction, which was undone, and what is left with its SQL: never
    that a transaction was rolled back."""
    target = open_target(adopted, lock_timeout_s=0.5)
    folder = folder_with(tmp_path, migrations_dir, {
        "003_outside.sql": "SELECT 1;\n",
        "003_outside.postgresql.sql": "CREATE TABLE queue_items (id int PRIMARY KEY, contractor_id int "
                                      "REFERENCES contractors (id));\n"
                                      "CREATE INDEX CONCURRENTLY idx_a ON strategic_partners (company_name);\n"
                                      + FAILING_UNIQUE})
    assert migrate(target, folder, to="002").passed
    before = state(adopted)
    with other_session(adopted, "SELECT count(*) FROM contractors"):
        failed = migrate(target, folder)
    assert not failed.passed and "statement 3" in failed.error and "could not create unique index" in failed.error
    assert failed.error.endswith(
        "; its statements ran outside a transaction, in autocommit, each committed as it ran: there was no "
        'transaction to roll back; the INVALID index "public"."idx_u" it left was dropped; of the 2 statement(s) '
        "before it, statement(s) 2 were undone; cleaning up failed, left in the database: statement 1's change "
        "(undo by hand: DROP TABLE IF EXISTS queue_items; it failed: canceling statement due to lock timeout)"
    ), failed.error
    assert "transaction was rolled back" not in failed.error and history(adopted) == ["000", "001", "002"]
    with target.engine().begin() as conn:  # what the error says is left, and its SQL finishes the undo
        assert conn.exec_driver_sql("SELECT to_regclass('idx_a')").scalar() is None
        conn.exec_driver_sql("DROP TABLE IF EXISTS queue_items")
    assert state(adopted) == before


def test_a_rollback_script_that_fails_outside_a_transaction_says_what_was_undone(adopted, migrations_dir, tmp_path):
    """A rollback script of concurrent drops runs in autocommit: when its second statement
    fails, the index its first dropped is made again, and the error says so, not that the
    rollback's transaction was rolled back (there was none)."""
    from runbook.rollback import rollback_to

    folder = folder_with(tmp_path, migrations_dir, {
        "003_indexes.sql": "SELECT 1;\n",
        "003_indexes.postgresql.sql": "CREATE INDEX CONCURRENTLY idx_a ON contractors (phone);\n",
        "rollbacks/003_rollback_indexes.sql": "DROP INDEX idx_a;\n",
        "rollbacks/003_rollback_indexes.postgresql.sql": "DROP INDEX CONCURRENTLY idx_a;\n"
                                                         "DROP INDEX CONCURRENTLY idx_none;\n"})
    assert migrate(open_target(adopted), folder).passed
    before, defs = state(adopted), indexes(adopted)
    done = rollback_to(open_target(adopted), folder, "002", run_id="down")
    assert done["after"] == "003" and "idx_none" in done["error"], done["error"]
    assert done["error"].endswith(
        "; its statements ran outside a transaction, in autocommit, each committed as it ran: there was no "
        "transaction to roll back; the 1 statement(s) before it were undone by the runbook, newest first "
        "(statements 1): nothing was rolled back, 003_indexes is still applied and the database is still at "
        "version 003"), done["error"]
    assert "transaction was rolled back" not in done["error"]
    assert state(adopted) == before and indexes(adopted) == defs and history(adopted)[-1] == "003"


def test_a_rollback_script_of_several_concurrent_drops_runs_outside_a_transaction(adopted, migrations_dir, tmp_path):
    from runbook.rollback import rollback_to

    folder = folder_with(tmp_path, migrations_dir, {
        "003_indexes.sql": "SELECT 1;\n",
        "003_indexes.postgresql.sql": "CREATE INDEX CONCURRENTLY idx_a ON contractors (phone);\n"
                                      "CREATE INDEX CONCURRENTLY idx_b ON contractors (email);\n",
        "rollbacks/003_rollback_indexes.sql": "DROP INDEX idx_a;\nDROP INDEX idx_b;\n",
        "rollbacks/003_rollback_indexes.postgresql.sql": "DROP INDEX CONCURRENTLY idx_a;\nDROP INDEX CONCURRENTLY idx_b;\n"})
    assert migrate(open_target(adopted), folder, to="002").passed
    before = state(adopted)
    assert migrate(open_target(adopted), folder).passed
    done = rollback_to(open_target(adopted), folder, "002", run_id="down")
    assert done["error"] is None and done["after"] == "002", done["error"]
    assert state(adopted) == before and history(adopted) == ["000", "001", "002"]


def test_statements_outside_a_transaction_that_cannot_be_undone_stay_alone(adopted, migrations_dir, tmp_path):
    folder = folder_with(tmp_path, migrations_dir, {
        "003_mixed.sql": "SELECT 1;\n",
        "003_mixed.postgresql.sql": "CREATE INDEX CONCURRENTLY a ON contractors (phone);\nVACUUM contractors;\n"})
    before = state(adopted)
    with pytest.raises(BadInput, match=r"beside only statements the runbook can undo.*statement 2 \(line 2: VACUUM "
                                       r"\.\.\.\) cannot be undone if a later one fails; nothing was run"):
        migrate(open_target(adopted), folder)
    assert state(adopted) == before


@pytest.mark.parametrize("sql, outside", [
    ("CREATE INDEX CONCURRENTLY i ON t (a)", True),
    ("/* note */ create unique index concurrently if not exists i on t (a)", True),
    ("DROP INDEX CONCURRENTLY IF EXISTS i", True),
    ("REINDEX INDEX CONCURRENTLY i", True),
    ("VACUUM (ANALYZE) contractors", True),
    ("ALTER TABLE p DETACH PARTITION c CONCURRENTLY", True),
    ("CREATE INDEX i ON t (a)", False),
    ("ALTER TABLE t ADD COLUMN concurrently INT", False),
    ("INSERT INTO t VALUES ('VACUUM')", False),
    ("REINDEX TABLE t", False),
])
def test_runs_outside_transaction(sql, outside):
    assert pg.PostgresEngine().runs_outside_transaction(sql) is outside


def test_tables_outside_public_are_inventoried_and_verified(pg_empty_url, migrations_dir):
    """A table in another schema (``billing.invoices`` in the schema model) is counted,
    fingerprinted and checked for orphans in its own schema, not looked up as one quoted name;
    a changed row and an orphan there are caught."""
    from runbook import verify

    target = open_target(pg_empty_url)
    with target.engine().begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int PRIMARY KEY, amount int);"
                             "INSERT INTO billing.invoices VALUES (1, 10), (2, 20);"
                             "CREATE TABLE orders (id int PRIMARY KEY, invoice int REFERENCES billing.invoices (id));"
                             "INSERT INTO orders VALUES (1, 1)")
    before = inventory.take(target, migrations_dir)
    assert before["tables"]["billing.invoices"]["rows"] == 2 and before["tables"]["billing.invoices"]["size_bytes"] > 0
    checks = {c["check"]: c for c in verify.verify(target, migrations_dir, before=before, writers=False)["checks"]}
    assert checks["rows: billing.invoices"]["passed"] and checks["content: billing.invoices"]["passed"]
    assert checks["orphans: orders(invoice) → billing.invoices(id)"]["passed"]
    with target.engine().begin() as conn:
        conn.exec_driver_sql("UPDATE billing.invoices SET amount = 11 WHERE id = 1;"
                             "ALTER TABLE orders DROP CONSTRAINT orders_invoice_fkey; INSERT INTO orders VALUES (2, 9);"
                             "ALTER TABLE orders ADD CONSTRAINT orders_invoice_fkey FOREIGN KEY (invoice) "
                             "REFERENCES billing.invoices (id) NOT VALID")
    checks = {c["check"]: c for c in verify.verify(target, migrations_dir, before=before, writers=False)["checks"]}
    assert not checks["content: billing.invoices"]["passed"]
    assert not checks["orphans: orders(invoice) → billing.invoices(id)"]["passed"]
    target.dispose()


def test_a_foreign_tables_rows_are_not_the_backups_to_hold(pg_url, migrations_dir, tmp_path):
    """A foreign table (file_fdw): its rows are another source's, pg_dump copies only its
    definition, so the backup's check of the archive does not ask for them, and it verifies."""
    target = open_target(pg_url)
    with target.engine().begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION file_fdw; CREATE SERVER outside FOREIGN DATA WRAPPER file_fdw;"
                             "CREATE FOREIGN TABLE greetings (word text) SERVER outside OPTIONS (program 'echo hello')")
    record = backup.take(target, tmp_path / "backups")
    assert record["verified"] and "greetings" not in record["source_row_counts"]
    assert record["source_row_counts"]["contractors"] == 11
    target.dispose()


def test_a_foreign_table_is_in_the_schema_but_its_rows_are_never_read(pg_url, migrations_dir):
    """The inventory and verify list a foreign table with its columns, but neither count nor
    hash it (a full scan of another server's table, which may be down): a scan of this one fails."""
    from runbook import verify

    target = open_target(pg_url)
    with target.engine().begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION file_fdw; CREATE SERVER outside FOREIGN DATA WRAPPER file_fdw;"
                             "CREATE FOREIGN TABLE remote_orders (id int) SERVER outside OPTIONS (program 'exit 3')")
        with pytest.raises(sa.exc.DBAPIError):
            with conn.begin_nested():
                conn.exec_driver_sql("SELECT count(*) FROM remote_orders")
    before = inventory.take(target, migrations_dir)
    remote = before["tables"]["remote_orders"]
    assert (remote["rows"], remote["fingerprint"], remote["foreign"]) == (None, None, True)
    assert [c["name"] for c in remote["columns"]] == ["id"] and before["tables"]["contractors"]["rows"] == 11
    checks = {c["check"]: c for c in verify.verify(target, migrations_dir, before=before, writers=False)["checks"]}
    assert checks["rows: remote_orders"]["skipped"] and "foreign table" in checks["rows: remote_orders"]["detail"]
    assert checks["content: remote_orders"]["skipped"] and all(c["passed"] for c in checks.values())
    target.dispose()
