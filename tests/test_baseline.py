"""``runbook baseline --write``: a brownfield database's schema as the folder's 000, checked by the
engine on an empty database, and the database adopted there (``runbook.baseline``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import baseline, lint, schema
from runbook import migrations as mig
from runbook.cli import main
from runbook.errors import BadInput
from runbook.migrate import migrate
from runbook.target import open_target

#: a schema no migration made: a foreign key to a table made after it, AUTOINCREMENT, a view, a
#: trigger, an expression index, a full-text index (its shadow tables are made by its CREATE)
SQLITE_SCHEMA = """
CREATE TABLE [Track] ([TrackId] INTEGER PRIMARY KEY AUTOINCREMENT, [AlbumId] INTEGER REFERENCES [Album] ([AlbumId]),
                      [Name] NVARCHAR(200) NOT NULL);
CREATE TABLE [Album] ([AlbumId] INTEGER PRIMARY KEY, [Title] NVARCHAR(160) NOT NULL);
CREATE INDEX [IX_Track_Name] ON [Track] (lower([Name]));
CREATE VIEW [AlbumTracks] AS SELECT a.[Title], t.[Name] FROM [Album] a JOIN [Track] t USING ([AlbumId]);
CREATE TRIGGER [TrackNamed] AFTER INSERT ON [Track] BEGIN SELECT 1; END;
CREATE VIRTUAL TABLE [TrackSearch] USING fts5(name);
INSERT INTO [Album] VALUES (1, 'Dark Side');
INSERT INTO [Track] ([AlbumId], [Name]) VALUES (1, 'Time'), (1, 'Money');
"""

ADD_COLUMN = "-- Risk Level: LOW\nALTER TABLE [Track] ADD COLUMN [Seconds] INTEGER;\n"


def _sqlite_db(tmp_path: Path) -> str:
    path = tmp_path / "music.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(SQLITE_SCHEMA)
    return f"sqlite:///{path}"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    (folder / "rollbacks").mkdir(parents=True)
    (folder / "001_seconds.sql").write_text(ADD_COLUMN)
    (folder / "rollbacks" / "001_rollback_seconds.sql").write_text("ALTER TABLE [Track] DROP COLUMN [Seconds];\n")
    return folder


def _model(url: str) -> dict:
    target = open_target(url)
    try:
        with target.engine().connect() as conn:
            return schema.introspect(conn, target.kind)
    finally:
        target.dispose()


def test_sqlite_baseline_rebuilds_the_schema_and_adopts_the_database(tmp_path: Path) -> None:
    url, folder = _sqlite_db(tmp_path), _folder(tmp_path)
    assert lint.lint(folder).errors  # before: the replay from empty cannot find Track

    written = baseline.write(open_target(url), folder, "sqlite")

    text = (folder / baseline.FILE_NAME).read_text()
    assert written["path"] == str(folder / baseline.FILE_NAME) and written["tables"] == len(_model(url)["tables"])
    assert text.index("CREATE TABLE [Album]") < text.index("CREATE TABLE [Track]")  # referenced first
    assert "TrackSearch_data" not in text and "sqlite_sequence" not in text and "schema_history" not in text
    replayed = tmp_path / "replayed.db"
    with sqlite3.connect(replayed) as conn:
        conn.executescript(text)
    assert schema.diff(_model(url), _model(f"sqlite:///{replayed}")) == []
    assert lint.lint(folder).errors == 0  # static lint replays from the baseline now
    target = open_target(url)
    with target.engine().connect() as conn:
        [adopted] = mig.applied(conn)
        rows = conn.exec_driver_sql("SELECT COUNT(*) FROM [Track]").scalar_one()
    assert (adopted.version, adopted.note) == ("000", mig.BASELINE_NOTE) and rows == 2
    result = migrate(target, folder, dialect="sqlite")  # the pending migration runs; 000 never does
    assert [m.status for m in result.migrations] == ["applied"]
    target.dispose()


def test_baseline_write_refuses_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, folder = _sqlite_db(tmp_path), _folder(tmp_path)
    before = _model(url)
    target = open_target(url)
    with pytest.raises(BadInput, match="(?i)written in postgresql"):
        baseline.write(target, folder, "postgresql")
    (folder / "000_old.sql").write_text("-- Risk Level: LOW\nSELECT 1;\n")
    with pytest.raises(BadInput, match="already has a baseline"):
        baseline.write(target, folder, "sqlite")
    (folder / "000_old.sql").unlink()
    with target.engine().begin() as conn:
        mig.ensure_history(conn)
        conn.exec_driver_sql("CREATE TABLE [Later] (id INTEGER)")
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("INSERT INTO schema_history (version, name, checksum, applied_at, duration_ms, run_id) "
                     "VALUES ('001', 'seconds', 'x', '2026-01-01', 0, 'r')")
    with pytest.raises(BadInput, match="already has a migration history"):
        baseline.write(target, folder, "sqlite")
    target.dispose()
    assert sorted(p.name for p in folder.glob("*.sql")) == ["001_seconds.sql"]
    assert set(_model(url)["tables"]) == set(before["tables"]) | {"Later"}  # nothing else was made
    assert main(["baseline", "--db", url, "--migrations", str(folder)]) == 2
    assert "--write" in capsys.readouterr().err
    assert main(["baseline", "--write", "--version", "001", "--db", url, "--migrations", str(folder)]) == 2
    assert "leave out --version" in capsys.readouterr().err
    assert sorted(p.name for p in folder.glob("*.sql")) == ["001_seconds.sql"]


@pytest.mark.postgres
def test_postgresql_baseline_from_pg_dump(tmp_path: Path, pg_empty_url: str) -> None:
    """pagila's kinds of objects: an enum, a domain, a function whose body names a table made
    after it, a trigger, a partitioned table, a materialized view made WITH NO DATA."""
    target = open_target(pg_empty_url)
    with target.engine().begin() as conn:
        conn.exec_driver_sql("""
            SET LOCAL check_function_bodies = false;
            CREATE TYPE rating AS ENUM ('G', 'PG', 'R');
            CREATE DOMAIN year AS integer CHECK (VALUE >= 1901);
            CREATE FUNCTION film_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM film';
            CREATE TABLE film (id serial PRIMARY KEY, title text NOT NULL, rating rating DEFAULT 'G',
                               release year, updated timestamptz DEFAULT now());
            CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated = now(); RETURN NEW; END $$;
            CREATE TRIGGER film_touch BEFORE UPDATE ON film FOR EACH ROW EXECUTE FUNCTION touch();
            CREATE TABLE payment (id integer NOT NULL, paid date NOT NULL) PARTITION BY RANGE (paid);
            CREATE TABLE payment_2022 PARTITION OF payment FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
            CREATE MATERIALIZED VIEW film_ratings AS SELECT rating, count(*) FROM film GROUP BY rating WITH NO DATA;
            INSERT INTO film (title) VALUES ('Academy Dinosaur');
        """)
    folder = tmp_path / "migrations"
    (folder / "rollbacks").mkdir(parents=True)
    (folder / "001_note.sql").write_text("-- Risk Level: LOW\nALTER TABLE film ADD COLUMN note text;\n")
    (folder / "rollbacks" / "001_rollback_note.sql").write_text("ALTER TABLE film DROP COLUMN note;\n")
    assert main(["baseline", "--write", "--db", pg_empty_url, "--migrations", str(folder),
                 "--dialect", "postgresql"]) == 0
    text = (folder / baseline.FILE_NAME).read_text()
    assert "SET LOCAL check_function_bodies = false" in text and "search_path" not in text
    assert "schema_history" not in text and "\\restrict" not in text
    report = lint.lint(folder, target=target, dialect="postgresql")
    assert report.errors == 0, [f.message for f in report.all_findings()]
    assert {u.migration.version: u.rollback_check["status"] for u in report.migrations}["001"] == "passed"
    with target.engine().connect() as conn:
        assert [a.version for a in mig.applied(conn)] == ["000"]
        assert conn.exec_driver_sql("SELECT count(*) FROM film").scalar_one() == 1
    target.dispose()
    assert sa.make_url(pg_empty_url).database  # the database itself was never dropped or replaced
