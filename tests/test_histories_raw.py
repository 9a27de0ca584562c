"""The three migration histories of ``tests/histories/`` are correct on the raw engines, without
the runbook: every migration applies in order (each in one transaction, as ``psql -1`` and a
``BEGIN ... COMMIT`` around SQLite's own statements), then every rollback in reverse order
brings back, at each version, the schema and the rows the database had at that version on the
way up (columns compared by name: a column a rollback re-adds comes back at the end), and the
last one leaves nothing.

These are fast (no notebook): the histories are the material of ``tests/test_histories.py``,
which runs them through the runbook and compares with what these functions leave.
"""

from __future__ import annotations

import pytest

from histories import raw

pytestmark = pytest.mark.histories

PG_HISTORIES = {"pg_app": False, "shared_app": True}  # history -> translated from the shared dialect
SQLITE_HISTORIES = ("sqlite_app", "shared_app")


def test_histories_have_thirty_migrations_each_with_its_rollback_and_header():
    for name in ("pg_app", "sqlite_app", "shared_app"):
        steps = raw.history(raw.HERE / name)
        assert len(steps) >= 31, name  # 000 (baseline) and 30 or more after it
        assert [s.version for s in steps] == [f"{i:03d}" for i in range(len(steps))], name
        for s in steps:
            head = s.path.read_text().splitlines()[:6]
            assert head[0].startswith("-- Migration: "), s.path
            assert any(l.startswith("-- Date: ") for l in head), s.path
            assert any(l.startswith("-- Description: ") for l in head), s.path
            risk = [l for l in s.path.read_text().splitlines() if l.startswith("-- Risk Level: ")]
            assert risk and risk[0].split()[3] in ("LOW", "MEDIUM", "HIGH"), s.path
            assert s.rollback is not None and s.rollback.name == f"{s.version}_rollback_{s.name}.sql", s.path
        assert not list((raw.HERE / name).rglob("*.postgresql.sql")), name
        assert not list((raw.HERE / name).rglob("*.sqlite.sql")), name
        no_ops = [s for s in steps if not raw.runnable(s.path.read_text())]
        assert no_ops, f"{name} has no comment-only migration"


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(PG_HISTORIES))
def test_history_up_and_down_on_raw_postgresql(name, pg_server, tmp_path):
    admin = pg_server.render_as_string(hide_password=False)
    folder, translate = raw.HERE / name, PG_HISTORIES[name]
    db, url = raw.pg_create(admin, f"rawhist_{name}")
    try:
        assert raw.pg_schema(url) == "" and raw.pg_tables(url) == []
        states = {}
        for s in raw.history(folder):
            raw.pg_apply(url, s.path, translate=translate, workdir=tmp_path)
            if s.version == "000":
                raw.pg_apply(url, folder / "seed.sql", translate=translate, workdir=tmp_path)
                assert all(raw.pg_rows(url).values()), "the seed fills every baseline table"
            states[s.version] = (raw.pg_schema(url), raw.pg_rows(url))
        steps = raw.history(folder)
        for prev, s in reversed(list(zip([None] + steps[:-1], steps))):
            raw.pg_apply(url, s.rollback, translate=translate, workdir=tmp_path)
            if prev is not None:
                schema, rows = states[prev.version]
                assert raw.pg_schema(url) == schema, f"schema after rolling back {s.version}"
                assert raw.pg_rows(url) == rows, f"rows after rolling back {s.version}"
        assert raw.pg_tables(url) == [] and raw.pg_schema(url) == ""
    finally:
        raw.pg_drop(admin, db)


@pytest.mark.parametrize("name", SQLITE_HISTORIES)
def test_history_up_and_down_on_raw_sqlite(name, tmp_path):
    folder, db = raw.HERE / name, tmp_path / f"{name}.db"
    states = {}
    for s in raw.history(folder):
        raw.sqlite_apply(db, s.path)
        if s.version == "000":
            raw.sqlite_apply(db, folder / "seed.sql")
            assert all(raw.sqlite_rows(db).values()), "the seed fills every baseline table"
        states[s.version] = raw.sqlite_state(db)
    steps = raw.history(folder)
    for prev, s in reversed(list(zip([None] + steps[:-1], steps))):
        raw.sqlite_apply(db, s.rollback)
        if prev is not None:
            assert raw.sqlite_state(db) == states[prev.version], f"after rolling back {s.version}"
    assert raw.sqlite_schema(db) == []
