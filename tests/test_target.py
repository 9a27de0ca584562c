"""Targets: URLs in, passwords out of everything that is shown."""

from __future__ import annotations

import os

import pytest

from runbook.errors import BadInput
from runbook.target import mask, open_target


@pytest.mark.parametrize("raw", [
    "postgresql://someone:s3cr3t-pw@127.0.0.1:5432/power100",
    "postgresql://someone@127.0.0.1:5432/power100?password=s3cr3t-pw",
    "postgresql://someone@127.0.0.1:5432/power100?sslmode=disable&password=s3cr3t-pw",
])
def test_a_password_in_the_url_moves_to_pgpassword_and_out_of_the_target(raw, monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    target = open_target(raw, must_exist=False)
    assert os.environ["PGPASSWORD"] == "s3cr3t-pw"
    assert "s3cr3t-pw" not in target.display and "s3cr3t-pw" not in repr(target)
    assert target.url.password is None and "password" not in target.url.query
    assert "s3cr3t-pw" not in mask(f"failed to reach {raw}")


@pytest.mark.parametrize("raw, password", [
    ("postgresql://someone:s3cr3t-pw@127.0.0.1:5432/power100", "s3cr3t-pw"),
    ("postgresql+psycopg://someone:p%40ss%3Aw%2Fd@db.example:5432/power100?sslmode=require", "p@ss:w/d"),
    ("postgresql://someone@127.0.0.1/power100?sslmode=disable&password=s3cr3t-pw", "s3cr3t-pw"),
    ("postgresql://someone@127.0.0.1/power100", None),
    ("sqlite:////tmp/power100.db", None),
])
def test_the_cli_moves_a_password_out_of_the_url_as_sqlalchemy_reads_it(raw, password, monkeypatch):
    """``move_password``, the CLI's part (no SQLAlchemy): the password SQLAlchemy would read goes
    to PGPASSWORD, and the URL left parses to the same URL without it."""
    import sqlalchemy as sa

    from runbook.target import move_password

    monkeypatch.delenv("PGPASSWORD", raising=False)
    left = move_password(raw)
    assert os.environ.get("PGPASSWORD") == password
    url = sa.make_url(raw)
    assert (url.password or url.query.get("password")) == password
    assert sa.make_url(left) == url._replace(password=None).difference_update_query(["password"])
    with pytest.raises(BadInput, match="more than one '@'"):
        move_password("postgresql://someone:p@ss@127.0.0.1/power100")


def test_unparsable_and_unsupported_urls_are_bad_input():
    with pytest.raises(BadInput, match="not a database URL"):
        open_target("power100.db")
    with pytest.raises(BadInput, match="unsupported database engine 'mysql'"):
        open_target("mysql://u@h/db")


def test_relative_sqlite_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.db").write_bytes(b"")
    target = open_target("sqlite:///p.db")
    assert target.url.database == str(tmp_path / "p.db")
