"""Shared fixtures: real SQLite files and real PostgreSQL databases, one per test.

PostgreSQL: the server comes from ``RUNBOOK_TEST_PG_URL`` (a URL to an admin database on a
server where we may create databases, e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``;
``.ci/start-postgres`` prints one). Without it, the session starts a throwaway cluster from the
PostgreSQL binaries on this machine (``tests/pgserver.py``: initdb + pg_ctl in a temp dir, as the
``postgres`` OS user when run as root, scram-sha-256 with a random superuser password) and
removes it at the end. When neither works the PostgreSQL tests skip with the reason, except
with ``CI=true``, where they fail: CI never skips them. Each test gets its own database.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from runbook.seeds import build_baseline
from runbook.target import open_target

import pgserver

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = REPO / "runbook" / "demo" / "migrations"
SEEDS = REPO / "runbook" / "demo" / "seeds"


@pytest.fixture(scope="session", autouse=True)
def _expected_schema_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Replayed schemas (runbook.expected) are cached in the session's temp dir, not ~/.cache."""
    previous = os.environ.get("RUNBOOK_CACHE_DIR")
    os.environ["RUNBOOK_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("RUNBOOK_CACHE_DIR", None)
    else:
        os.environ["RUNBOOK_CACHE_DIR"] = previous


@pytest.fixture
def migrations_dir() -> Path:
    return MIGRATIONS


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS


def new_sqlite_db(path: Path, *, baseline: bool = True) -> str:
    """An SQLite file like the guide's production database (baseline + sample data, no history)."""
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    if baseline:
        build_baseline(open_target(url), MIGRATIONS, SEEDS)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return new_sqlite_db(tmp_path / "power100.db")


# -- PostgreSQL -------------------------------------------------------------------------------
_CLUSTERS: dict[str, "pgserver.Cluster"] = {}


def _throwaway_cluster(key: str) -> sa.URL:
    """One throwaway cluster per ``key`` per session; fails (CI) or skips when none can start."""
    if key not in _CLUSTERS:
        try:
            _CLUSTERS[key] = pgserver.start_cluster(f"runbook-{key}-")
        except pgserver.ClusterUnavailable as exc:
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI=true and no PostgreSQL server: RUNBOOK_TEST_PG_URL is not set and {exc}",
                            pytrace=False)
            pytest.skip(f"no PostgreSQL server: set RUNBOOK_TEST_PG_URL or install PostgreSQL ({exc})")
    return _CLUSTERS[key].url


@pytest.fixture(scope="session")
def pg_server() -> Iterator[sa.URL]:
    """An admin URL on a PostgreSQL server where tests may create databases (see the module doc)."""
    raw = os.environ.get("RUNBOOK_TEST_PG_URL")
    if not raw:
        yield _throwaway_cluster("pg")
        _stop_clusters()
        return
    url = sa.make_url(raw).set(drivername="postgresql+psycopg")
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        message = f"RUNBOOK_TEST_PG_URL={url.render_as_string(hide_password=True)} does not answer: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: " + message, pytrace=False)
        pytest.skip(message)
    yield url
    _stop_clusters()


def _stop_clusters() -> None:
    for key in list(_CLUSTERS):
        _CLUSTERS.pop(key).stop()


@pytest.fixture(scope="session")
def pg_password_server(pg_server: sa.URL) -> sa.URL:
    """An admin URL on a server that really rejects wrong passwords: ``pg_server`` when it does
    (the throwaway cluster always does), else a throwaway scram cluster started for these tests."""
    if pgserver.checks_passwords(pg_server):
        return pg_server
    return _throwaway_cluster("pgpw")


@pytest.fixture
def pg_password_db(pg_password_server: sa.URL, monkeypatch: pytest.MonkeyPatch):
    """A production-like database owned by a role that logs in with a password, on a server that
    checks it. Yields ``{"url", "password", "role"}``; ``url`` has no password in it. The test
    runs with ``PGPASSWORD`` as it was before (set it to ``password`` to log in as the role);
    it is restored afterwards."""
    original = os.environ.get("PGPASSWORD")

    def restore_env() -> None:  # the admin connections may rely on it (or on ~/.pgpass)
        if original is None:
            monkeypatch.delenv("PGPASSWORD", raising=False)
        else:
            monkeypatch.setenv("PGPASSWORD", original)

    suffix = uuid.uuid4().hex[:12]
    role, name, password = f"rbrole_{suffix}", f"rbtest_{suffix}", uuid.uuid4().hex
    with _admin(pg_password_server).connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'")
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" OWNER {role}')
    url = pg_password_server.set(drivername="postgresql", username=role, database=name)._replace(password=None)
    try:
        monkeypatch.setenv("PGPASSWORD", password)
        build_baseline(open_target(url), MIGRATIONS, SEEDS)
        restore_env()
        yield {"url": url.render_as_string(hide_password=False), "password": password, "role": role}
    finally:
        restore_env()
        drop_pg_database(pg_password_server, name)
        with _admin(pg_password_server).connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")


def _admin(server: sa.URL) -> sa.Engine:
    return sa.create_engine(server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")


def create_pg_database(server: sa.URL, name: str) -> str:
    with _admin(server).connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return server.set(database=name, drivername="postgresql").render_as_string(hide_password=False)


def drop_pg_database(server: sa.URL, name: str) -> None:
    with _admin(server).connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_empty_url(pg_server: sa.URL):
    """A new, empty PostgreSQL database for this test, dropped afterwards."""
    name = f"rbtest_{uuid.uuid4().hex[:12]}"
    url = create_pg_database(pg_server, name)
    try:
        yield url
    finally:
        drop_pg_database(pg_server, name)


@pytest.fixture
def pg_url(pg_empty_url: str) -> str:
    """A PostgreSQL database like the guide's production one (baseline + sample data, no history)."""
    build_baseline(open_target(pg_empty_url), MIGRATIONS, SEEDS)
    return pg_empty_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test against both engines: a production-like Power100 database."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


def db_state(url: str) -> dict:
    """Everything a "nothing changed" assertion compares, on either engine: schema, row counts,
    content fingerprints of every table, and the history table (applied rows, or its absence).
    Not how the engine stores them (sizes, SQLite's page digests: a restored copy holds the same
    rows in other pages)."""
    from runbook import inventory

    target = open_target(url)
    snap = inventory.take(target, MIGRATIONS)
    target.dispose()
    tables = {name: {k: v for k, v in t.items() if k != "size_bytes"}
              | {"fingerprint": {k: v for k, v in t["fingerprint"].items() if k != "pages"}}
              for name, t in snap["tables"].items()}
    return {"tables": tables, "history": snap["migrations"]["applied"]}
