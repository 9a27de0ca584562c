"""Shared fixtures: real SQLite files and real PostgreSQL databases, one per test.

PostgreSQL: the server comes from ``RUNBOOK_TEST_PG_URL`` (a URL to an admin database on a
server where we may create databases, e.g. ``postgresql://postgres@127.0.0.1:5432/postgres``);
without it, the local server on 127.0.0.1:5432 is tried.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook.seeds import build_baseline
from runbook.target import open_target

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = REPO / "migrations"
SEEDS = REPO / "seeds"


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
@pytest.fixture(scope="session")
def pg_server() -> sa.URL:
    """An admin URL on a PostgreSQL server where tests may create databases."""
    raw = os.environ.get("RUNBOOK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    url = sa.make_url(raw).set(drivername="postgresql+psycopg")
    eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no PostgreSQL server: {exc.orig}")
    return url


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
