"""Lint: the corpus of classified cases (accuracy must be 100 %), each finding on a purpose-made
bad migration folder, the rollback check on real scratch databases, the CLI, the migrate gate and
``runbook new``."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import lint
from runbook import migrations as mig
from runbook.cli import main
from runbook.engines import ENGINES
from runbook.errors import BadInput
from runbook.migrate import migrate, prepare_verify
from runbook.sqltext import header
from runbook.target import open_target

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = REPO / "runbook" / "demo" / "migrations"
CORPUS = REPO / "tests" / "lint_corpus"
CASES = sorted(p for p in CORPUS.glob("*.sql") if not p.name.startswith("_"))


# -- the corpus --------------------------------------------------------------------------------
def _corpus_folder(case: Path, root: Path) -> tuple[Path, str]:
    """A migrations folder: 000 = the corpus baseline of the case's dialect, 001 = the case."""
    fields = header(case.read_text())
    dialect = fields["dialect"]
    folder = root / case.stem
    (folder / "rollbacks").mkdir(parents=True)
    shutil.copy(CORPUS / "_before.sql", folder / "000_before.sql")
    (folder / "rollbacks" / "000_rollback_before.sql").write_text("-- Rollback: corpus baseline\n")
    if dialect == "postgresql":
        shutil.copy(CORPUS / "_before.postgresql.sql", folder / "000_before.postgresql.sql")
        shutil.copy(case, folder / f"001_{case.stem}.postgresql.sql")
    shutil.copy(case, folder / f"001_{case.stem}.sql")
    if fields.get("rollback", "yes") == "yes":
        (folder / "rollbacks" / f"001_rollback_{case.stem}.sql").write_text("-- Rollback: stub\n")
    return folder, dialect


def _judge(case: Path, root: Path) -> list[str]:
    """What the linter got wrong on one case (empty: right)."""
    fields = header(case.read_text())
    folder, dialect = _corpus_folder(case, root)
    report = lint.lint(folder, engine=ENGINES[dialect], check_rollback=False)
    base = [u for u in report.migrations if u.migration.number == 0]
    assert base and not base[0].findings, f"corpus baseline lints dirty: {[f.message for f in base[0].findings]}"
    unit = next(u for u in report.migrations if u.migration.number == 1)
    wrong = []
    if unit.category != int(fields["expect_category"]):
        wrong.append(f"category {unit.category}, expected {fields['expect_category']}")
    if unit.destructive != (fields["expect_destructive"] == "yes"):
        wrong.append(f"destructive {unit.destructive}, expected {fields['expect_destructive']}")
    expected = set() if fields["expect_findings"] == "none" else {c.strip() for c in fields["expect_findings"].split(",")}
    got = {f.code for f in unit.findings + report.findings}
    if got != expected:
        wrong.append(f"findings {sorted(got)}, expected {sorted(expected)}: "
                     + "; ".join(f.message for f in unit.findings))
    if "expect_statements" in fields:
        cats = [v.category for v in unit.statements if v.category is not None]
        if cats != [int(c) for c in fields["expect_statements"].split()]:
            wrong.append(f"statement categories {cats}, expected {fields['expect_statements']}")
    if wrong:
        wrong.append("reasons: " + " | ".join(f"{v.line}:{v.category}:{v.reason}" for v in unit.statements))
    return wrong


def test_corpus_accuracy(tmp_path: Path) -> None:
    assert len(CASES) >= 40
    dialects = {header(c.read_text())["dialect"] for c in CASES}
    assert dialects == {"sqlite", "postgresql"}
    failures = {}
    for case in CASES:
        wrong = _judge(case, tmp_path)
        if wrong:
            failures[case.name] = wrong
    right = len(CASES) - len(failures)
    accuracy = 100.0 * right / len(CASES)
    print(f"\nlint corpus accuracy: {right}/{len(CASES)} = {accuracy:.1f}%")
    for name, wrong in failures.items():
        print(f"  WRONG {name}: " + "; ".join(wrong))
    assert accuracy == 100.0, f"lint corpus accuracy {accuracy:.1f}% < 100%: {sorted(failures)}"


# -- helpers -----------------------------------------------------------------------------------
BASE = """-- Migration: base
-- Risk Level: LOW
CREATE TABLE contractors (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE NOT NULL, phone TEXT);
"""
BASE_ROLLBACK = "-- Rollback: base\nDROP TABLE contractors;\n"


def make_folder(root: Path, files: dict[str, str], *, base: bool = True) -> Path:
    """A migrations folder with ``files`` (paths relative to it); 000 = a one-table baseline."""
    folder = root / "migrations"
    (folder / "rollbacks").mkdir(parents=True, exist_ok=True)
    if base:
        files = {"000_base.sql": BASE, "rollbacks/000_rollback_base.sql": BASE_ROLLBACK, **files}
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def codes(report: lint.LintReport) -> list[str]:
    return sorted(f.code for f in report.all_findings())


def only(report: lint.LintReport, code: str) -> list[lint.Finding]:
    return [f for f in report.all_findings() if f.code == code]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def sqlite_schema(path: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()


# -- the shipped migrations ----------------------------------------------------------------------
def test_shipped_migrations_lint_clean(capsys: pytest.CaptureFixture[str]) -> None:
    report = lint.lint(MIGRATIONS)
    assert report.errors == 0 and report.warnings == 0, codes(report)
    assert [u.migration.version for u in report.migrations] == ["000", "001", "002", "003", "004"]
    for u in report.migrations:
        assert u.engine == "sqlite" and u.category == 1 and not u.destructive
        assert u.declared_risk == "LOW" and u.rollback_check["status"] == "passed", u.rollback_check
    first = report.migrations[1]  # the guide's template, verbatim
    kinds = [v.kind for v in first.statements]
    assert kinds[0] == "transaction-control" and kinds[-1] == "transaction-control"
    assert kinds.count("add-column") == 16 and "read-only" in kinds and "pragma" in kinds
    rc, out, _ = run_cli(["lint", "--migrations", str(MIGRATIONS)], capsys)
    assert rc == 0
    assert "001_add_contractor_fields" in out and "0 error(s), 0 warning(s)" in out


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_shipped_migrations_against_a_database(engine: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("sqlite_url" if engine == "sqlite" else "pg_url")
    target = open_target(url)
    with target.engine().connect() as conn:
        before = lint.schema_from_database(conn)
        databases = _pg_databases(conn) if engine == "postgresql" else []
    report = lint.lint(MIGRATIONS, target=target)
    assert report.errors == 0, [f.message for f in report.all_findings()]
    assert [u.applied for u in report.migrations] == [True, False, False, False, False]  # baseline adopted
    assert all(u.rollback_check["status"] == "passed" for u in report.migrations), \
        [u.rollback_check for u in report.migrations]
    warned = {(Path(f.file).name, f.line) for f in report.all_findings()}
    if engine == "postgresql":  # plain CREATE INDEX on existing tables: a warning each, nothing else
        assert {f.code for f in report.all_findings()} == {"index-not-concurrent"}
        assert ("001_add_contractor_fields.sql", 27) in warned and len(warned) == 5
    else:
        assert not warned
    with target.engine().connect() as conn:  # the target is untouched, the scratch database gone
        after = lint.schema_from_database(conn)
        assert not mig.has_history(conn)
        if engine == "postgresql":
            assert _pg_databases(conn) == databases
    assert sorted(after.tables) == sorted(before.tables)
    assert {t: sorted(i.columns) for t, i in after.tables.items()} == {t: sorted(i.columns) for t, i in before.tables.items()}


def _pg_databases(conn: sa.Connection) -> list[str]:
    """This test database's lint scratch databases (other tests make databases at the same time)."""
    prefix = conn.engine.url.database + "_lint_"
    return sorted(r[0] for r in conn.exec_driver_sql("SELECT datname FROM pg_database") if r[0].startswith(prefix))


# -- findings on purpose-made bad folders -----------------------------------------------------------
def test_file_names_numbers_and_orphans_are_findings_not_crashes(tmp_path: Path) -> None:
    ok = "-- Risk Level: LOW\nALTER TABLE contractors ADD COLUMN a TEXT;\n"
    folder = make_folder(tmp_path, {
        "001_add_a.sql": ok,
        "001_add_b.sql": ok,  # repeated number
        "003_add_c.sql": ok.replace(" a ", " c "),  # 002 missing
        "4_bad.sql": ok,  # breaks {number}_{description}.sql
        "005_x.oracle.sql": ok,  # unknown engine variant
        "rollbacks/009_rollback_nothing.sql": "-- nothing\n",  # no migration 009
        "rollbacks/rollback_001.sql": "-- misnamed\n",
        "README.md": "not a migration",
    })
    report = lint.lint(folder)
    assert codes(report) == ["bad-name", "bad-name", "bad-name", "duplicate-number", "number-gap", "orphan-rollback"]
    gap = only(report, "number-gap")[0]
    assert "002 is missing" in gap.message and gap.file.endswith("003_add_c.sql") and gap.level == "warning"
    assert [u.migration.version for u in report.migrations] == ["000", "001", "003"]  # the rest still linted
    with pytest.raises(BadInput):
        mig.discover(folder)  # where the runner refuses, lint reports


def test_risk_understated_points_at_the_header_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_folder(tmp_path, {
        "001_drop_phone.sql": "-- Migration: drop phone\n-- Date: 2025-03-01\n-- Risk Level: LOW (harmless)\n\n"
                              "ALTER TABLE contractors DROP COLUMN phone;\n",
        "rollbacks/001_rollback_drop_phone.sql": "ALTER TABLE contractors ADD COLUMN phone TEXT;\n",
    })
    report = lint.lint(folder)
    [f] = report.all_findings()
    assert (f.code, f.level, f.line) == ("risk-understated", "error", 3)
    assert "Category 2" in f.message and "MEDIUM" in f.message and "line 5" in f.message
    unit = report.migrations[1]
    assert unit.destructive and unit.statements[0].destructive and unit.rollback_check["status"] == "passed"
    rc, out, _ = run_cli(["lint", "--migrations", str(folder)], capsys)
    assert rc == 1 and "risk-understated" in out and "DESTRUCTIVE" in out


def test_missing_rollback_and_missing_risk(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {
        "001_notes.sql": "-- Migration: notes\n-- Risk Level: HIGH\nUPDATE contractors SET phone = NULL;\n",
        "002_unrated.sql": "-- Migration: no risk level\nALTER TABLE contractors ADD COLUMN site TEXT;\n",
        "rollbacks/002_rollback_unrated.sql": "ALTER TABLE contractors DROP COLUMN site;\n",
    })
    report = lint.lint(folder)
    missing = only(report, "rollback-missing")
    assert len(missing) == 1 and missing[0].file.endswith("001_notes.sql") and missing[0].level == "error"
    assert "rollbacks/001_rollback_notes.sql" in missing[0].message
    [risk] = only(report, "risk-missing")
    assert risk.level == "warning" and risk.file.endswith("002_unrated.sql")
    assert report.exit_code == 1


def test_names_that_do_not_exist_at_that_point(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {
        "001_partners.sql": "-- Risk Level: LOW\nCREATE TABLE partners (id INTEGER PRIMARY KEY, name TEXT);\n"
                            "CREATE INDEX idx_partners_tier ON partners(tier);\n",  # no such column
        "002_drop_partners.sql": "-- Risk Level: MEDIUM\nDROP TABLE partners;\n",
        "003_late_index.sql": "-- Risk Level: LOW\nCREATE INDEX idx_partners_name ON partners(name);\n"  # dropped in 002
                              "CREATE TABLE deals (id INTEGER PRIMARY KEY, partner_id INTEGER REFERENCES partners(id));\n",
        "rollbacks/001_rollback_partners.sql": "DROP TABLE partners;\n",
        "rollbacks/002_rollback_drop_partners.sql": "CREATE TABLE partners (id INTEGER PRIMARY KEY, name TEXT);\n",
        "rollbacks/003_rollback_late_index.sql": "DROP TABLE deals;\n",
    })
    report = lint.lint(folder, check_rollback=False)
    found = [(Path(f.file).name, f.line) for f in only(report, "unknown-name")]
    assert found == [("001_partners.sql", 3), ("003_late_index.sql", 2), ("003_late_index.sql", 3)]
    assert all(f.level == "error" for f in only(report, "unknown-name"))
    assert "partners.tier" in only(report, "unknown-name")[0].message


def test_existing_tables_come_from_the_database(tmp_path: Path, sqlite_url: str) -> None:
    """With --db, a pending migration is checked against the real schema: a table the application
    made outside the migrations is there, a table the migrations never made is not."""
    target = open_target(sqlite_url)
    with target.engine().begin() as conn:
        conn.exec_driver_sql("CREATE TABLE app_settings (key TEXT PRIMARY KEY, value TEXT)")
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    (folder / "005_settings_index.sql").write_text(
        "-- Risk Level: LOW\nCREATE INDEX idx_settings_value ON app_settings(value);\n"
        "CREATE INDEX idx_ghost ON ghost_table(x);\n")
    (folder / "rollbacks" / "005_rollback_settings_index.sql").write_text("DROP INDEX idx_settings_value;\n")
    report = lint.lint(folder, target=target, files=[folder / "005_settings_index.sql"], check_rollback=False)
    assert [u.migration.version for u in report.migrations] == ["005"]
    [f] = report.all_findings()
    assert f.code == "unknown-name" and "ghost_table" in f.message and f.line == 3
    static = lint.lint(folder, files=[folder / "005_settings_index.sql"], check_rollback=False)
    assert len(only(static, "unknown-name")) == 2  # without the database, app_settings is unknown too


def test_rollback_that_does_not_restore_the_schema(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {
        "001_add_site.sql": "-- Risk Level: LOW\nALTER TABLE contractors ADD COLUMN site TEXT;\n"
                            "CREATE INDEX idx_contractors_site ON contractors(site);\n",
        "rollbacks/001_rollback_add_site.sql": "DROP INDEX idx_contractors_site;\n",  # forgets the column
        "002_add_city.sql": "-- Risk Level: LOW\nALTER TABLE contractors ADD COLUMN city TEXT;\n",
        "rollbacks/002_rollback_add_city.sql": "ALTER TABLE contractors DROP COLUMN city;\n",
    })
    report = lint.lint(folder)
    [f] = report.all_findings()
    assert f.code == "rollback-mismatch" and f.level == "error" and f.file.endswith("001_rollback_add_site.sql")
    assert "column site" in f.message
    checks = [u.rollback_check["status"] for u in report.migrations]
    # the rollback ran in a savepoint that is then rolled back: the migrations after it are still checked
    assert checks[:2] == ["passed", "failed"] and checks[2] == "passed"


@pytest.mark.postgres
def test_rollback_check_on_a_postgresql_scratch_database(tmp_path: Path, pg_url: str) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    (folder / "005_partner_tier.sql").write_text(
        "-- Risk Level: LOW\nALTER TABLE strategic_partners ADD COLUMN tier TEXT DEFAULT 'silver';\n")
    (folder / "rollbacks" / "005_rollback_partner_tier.sql").write_text(
        "ALTER TABLE strategic_partners ALTER COLUMN tier DROP DEFAULT;\n")  # leaves the column
    (folder / "006_broken_rollback.sql").write_text("-- Risk Level: LOW\nCREATE TABLE tags (id INTEGER PRIMARY KEY);\n")
    target = open_target(pg_url)
    report = lint.lint(folder, target=target)
    mismatch = only(report, "rollback-mismatch")
    assert len(mismatch) == 1 and "column tier" in mismatch[0].message
    by_version = {u.migration.version: u for u in report.migrations}
    assert by_version["004"].rollback_check["status"] == "passed"
    assert by_version["005"].rollback_check["status"] == "failed"
    assert by_version["006"].rollback_check["status"] == "no rollback"  # still replayed after 005's bad rollback


@pytest.mark.postgres
def test_rollback_using_an_enum_value_its_migration_added(tmp_path: Path, pg_url: str) -> None:
    """PostgreSQL refuses a new enum value in the transaction that added it. A rollback that
    moves rows off the value (lemmy's sort-type enums) runs after its migration committed, so
    lint checks it that way, and still finds a rollback that leaves the value in place."""
    folder = tmp_path / "migrations"
    (folder / "rollbacks").mkdir(parents=True)
    (folder / "001_sort.sql").write_text(
        "-- Risk Level: LOW\nCREATE TYPE sort AS ENUM ('hot', 'new');\n"
        "CREATE TABLE prefs (id integer PRIMARY KEY, sort sort NOT NULL DEFAULT 'hot');\n")
    (folder / "rollbacks" / "001_rollback_sort.sql").write_text("DROP TABLE prefs;\nDROP TYPE sort;\n")
    (folder / "002_top_hour.sql").write_text("-- Risk Level: LOW\nALTER TYPE sort ADD VALUE 'top_hour';\n")
    (folder / "rollbacks" / "002_rollback_top_hour.sql").write_text(
        "UPDATE prefs SET sort = 'hot' WHERE sort = 'top_hour';\n"
        "ALTER TYPE sort RENAME TO sort__;\nCREATE TYPE sort AS ENUM ('hot', 'new');\n"
        "ALTER TABLE prefs ALTER COLUMN sort DROP DEFAULT;\n"
        "ALTER TABLE prefs ALTER COLUMN sort TYPE sort USING sort::text::sort;\n"
        "ALTER TABLE prefs ALTER COLUMN sort SET DEFAULT 'hot';\nDROP TYPE sort__;\n")
    (folder / "003_top_day.sql").write_text("-- Risk Level: LOW\nALTER TYPE sort ADD VALUE 'top_day';\n")
    (folder / "rollbacks" / "003_rollback_top_day.sql").write_text(
        "UPDATE prefs SET sort = 'hot' WHERE sort = 'top_day';\n")  # the value stays
    report = lint.lint(folder, target=open_target(pg_url), dialect="postgresql")
    by_version = {u.migration.version: u for u in report.migrations}
    assert by_version["002"].rollback_check["status"] == "passed", by_version["002"].rollback_check
    assert not only(report, "rollback-failed")
    mismatch = only(report, "rollback-mismatch")
    assert len(mismatch) == 1 and "003" in mismatch[0].file and "type sort" in mismatch[0].message


def test_migration_or_rollback_failing_on_the_scratch_database(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {
        "001_dup.sql": "-- Risk Level: LOW\nALTER TABLE contractors ADD COLUMN site TEXT;\n",
        "rollbacks/001_rollback_dup.sql": "ALTER TABLE contractors DROP COLUMN no_such_column;\n",
    })
    report = lint.lint(folder)
    [f] = report.all_findings()
    assert f.code == "rollback-failed" and "no_such_column" in f.message
    (folder / "002_again.sql").write_text("-- Risk Level: LOW\nALTER TABLE contractors ADD COLUMN email TEXT;\n")
    (folder / "rollbacks" / "001_rollback_dup.sql").write_text("ALTER TABLE contractors DROP COLUMN site;\n")
    report = lint.lint(folder)
    [f] = report.all_findings()
    assert f.code == "apply-failed" and "duplicate column" in f.message and f.file.endswith("002_again.sql")
    (folder / "rollbacks" / "002_rollback_again.sql").write_text("ROLLBACK;\n")
    (folder / "002_again.sql").write_text("-- Risk Level: LOW\nALTER TABLE contractors ADD COLUMN city TEXT;\n")
    assert codes(lint.lint(folder)) == ["not-runnable"]


def test_a_writes_header_makes_the_migration_a_data_migration(tmp_path: Path) -> None:
    """``SELECT fill()`` reads as a read to the parser; a header that declares what the function
    writes (``-- Writes:``, which verify takes as declared) makes the migration Category 3, so a
    MEDIUM declaration is understated, on the engine whose file carries the header."""
    body = ("CREATE FUNCTION fill() RETURNS void LANGUAGE plpgsql AS $$ BEGIN UPDATE t SET name = upper(name); END $$;\n"
            "SELECT fill();\n")
    folder = make_folder(tmp_path, {"001_t.sql": "-- Risk Level: LOW\nCREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);\n",
                                    "002_fill.sql": "-- Risk Level: MEDIUM\nSELECT 1;\n",
                                    "002_fill.postgresql.sql": "-- Risk Level: MEDIUM\n-- Writes: t (by fill)\n" + body},
                         base=False)
    pg = lint.lint(folder, engine=ENGINES["postgresql"])
    unit = pg.migrations[1]
    assert unit.category == 3 and unit.statements[0].kind == "declared-writes" and unit.statements[0].line == 2
    assert [f.code for f in only(pg, "risk-understated")] == ["risk-understated"]
    sqlite_unit = lint.lint(folder, engine=ENGINES["sqlite"]).migrations[1]  # its file declares nothing
    assert sqlite_unit.category == 1


# -- writes through code: measured on the replay, flagged statically --------------------------
TRIGGERED = {
    "001_t.sql": "-- Risk Level: LOW\nCREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);\n"
                 "CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT);\n"
                 "INSERT INTO t VALUES (1, 'a');\nINSERT INTO audit VALUES (1, 'a');\n",
    "002_trig.sql": "-- Risk Level: LOW\n"
                    "CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN UPDATE audit SET what = NEW.name; END;\n",
    "rollbacks/002_rollback_trig.sql": "DROP TRIGGER t_ai;\n",
    "003_add.sql": "-- Risk Level: LOW\nSELECT 1;\nINSERT INTO t VALUES (2, 'b');\n",
    "rollbacks/003_rollback_add.sql": "DELETE FROM t WHERE id = 2;\n",
}


def test_the_replay_measures_rows_a_trigger_wrote_on_sqlite(tmp_path: Path) -> None:
    """``INSERT INTO t VALUES`` reads as Category 1 (adds rows), but t's trigger updates audit's
    existing rows: SQLite's total_changes() around it counts them and its program names audit, so
    the migration is Category 3 (the rehearsal would fail on the undeclared change). Declared in
    the header (and HIGH), it is clean."""
    folder = make_folder(tmp_path, TRIGGERED, base=False)
    report = lint.lint(folder, engine=ENGINES["sqlite"])
    unit = report.migrations[2]
    [f] = only(report, "wrote-through-code")
    assert f.file.endswith("003_add.sql") and f.line == 3 and "audit" in f.message and "-- Writes: audit" in f.message
    assert unit.category == 3 and [v.category for v in unit.statements] == [1, 3]
    assert codes(report) == ["risk-understated", "wrote-through-code"]
    (folder / "003_add.sql").write_text("-- Risk Level: HIGH\n-- Writes: audit (by t_ai)\n"
                                        "SELECT 1;\nINSERT INTO t VALUES (2, 'b');\n")
    assert codes(lint.lint(folder, engine=ENGINES["sqlite"])) == []


@pytest.mark.postgres
def test_the_replay_measures_rows_code_wrote_on_postgresql(tmp_path: Path, pg_empty_url: str) -> None:
    """On PostgreSQL the replay reads the transaction's write counters after each statement: a
    trigger's writes beyond the statement's table, and a function's writes when the header said
    ``-- Writes: none`` (which silences the static warning), are ``wrote-through-code`` errors
    naming the statement and the table; a STABLE function is never flagged, nor a row an INSERT
    into a partitioned table puts in its partition."""
    folder = make_folder(tmp_path, {
        "001_t.sql": TRIGGERED["001_t.sql"] + "CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);\n"
                     "CREATE TABLE events_2022 PARTITION OF events FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');\n",
        "002_code.sql": "-- Risk Level: LOW\n"
                        "CREATE FUNCTION fill() RETURNS void LANGUAGE plpgsql AS $$ BEGIN UPDATE audit SET what = 'x'; END $$;\n"
                        "CREATE FUNCTION peek() RETURNS int LANGUAGE sql STABLE AS $$ SELECT count(*)::int FROM t $$;\n"
                        "CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE audit SET what = NEW.name; "
                        "RETURN NEW; END $$;\n"
                        "CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION stamp();\n",
        "rollbacks/002_rollback_code.sql": "DROP TRIGGER t_ai ON t;\nDROP FUNCTION stamp();\nDROP FUNCTION peek();\n"
                                          "DROP FUNCTION fill();\n",
        "003_use.sql": "-- Risk Level: LOW\n-- Writes: none (peek and fill only read: not so)\n"
                       "SELECT peek();\nSELECT fill();\nINSERT INTO t VALUES (2, 'b');\n"
                       "INSERT INTO events VALUES ('2022-05-01');\n",  # lands in a partition: events' own rows
        "rollbacks/003_rollback_use.sql": "DELETE FROM t WHERE id = 2;\nDELETE FROM events;\n",
    }, base=False)
    report = lint.lint(folder, target=open_target(pg_empty_url), dialect="postgresql")
    unit = next(u for u in report.migrations if u.migration.version == "003")
    found = sorted((f.line, f.message) for f in only(report, "wrote-through-code"))
    assert [line for line, _ in found] == [4, 5], found
    assert all("audit" in m and "-- Writes: none" in m for _, m in found)
    assert not only(report, "may-write-through-code")  # the header said what the calls write
    assert [v.category for v in unit.statements] == [1, 3, 3, 1]
    assert codes(report) == ["risk-understated", "wrote-through-code", "wrote-through-code"]


@pytest.mark.postgres
def test_the_replay_tells_a_quoted_table_from_its_lower_case_namesake_on_postgresql(
        tmp_path: Path, pg_empty_url: str) -> None:
    """``"User"`` and ``user`` are two tables on PostgreSQL (Prisma's quoted names beside a
    hand-written one): the rows a trigger of ``user`` writes in ``"User"`` are not ``UPDATE "user"``'s
    own, so they are ``wrote-through-code``, and the header that declares them (``-- Writes:
    "User"``, as the finding says) is read back as that table. Before, every name was lower-cased:
    ``"User"`` was taken for ``user`` and the write went unseen; an ``UPDATE "User"`` stays clean."""
    files = {
        "001_t.sql": '-- Risk Level: LOW\nCREATE TABLE "User" (id int PRIMARY KEY, name text);\n'
                     'CREATE TABLE "user" (id int PRIMARY KEY, handle text);\n'  # user unquoted is a keyword
                     "INSERT INTO \"User\" VALUES (1, 'a');\nINSERT INTO \"user\" VALUES (1, 'a');\n",
        "002_trig.sql": "-- Risk Level: LOW\n"
                        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        "UPDATE \"User\" SET name = NEW.handle WHERE id = NEW.id; RETURN NEW; END $$;\n"
                        "CREATE TRIGGER user_au AFTER UPDATE ON \"user\" FOR EACH ROW EXECUTE FUNCTION touch();\n",
        "rollbacks/002_rollback_trig.sql": 'DROP TRIGGER user_au ON "user";\nDROP FUNCTION touch();\n',
        "003_use.sql": "-- Risk Level: HIGH\nUPDATE \"User\" SET name = 'b';\nUPDATE \"user\" SET handle = 'c';\n",
        "rollbacks/003_rollback_use.sql": "SELECT 1;\n",
    }
    folder = make_folder(tmp_path, files, base=False)
    report = lint.lint(folder, target=open_target(pg_empty_url), dialect="postgresql")
    [f] = only(report, "wrote-through-code")
    assert f.file.endswith("003_use.sql") and f.line == 3, f.message
    assert 'statement 2 (line 3) wrote rows of "User", which it does not name' in f.message, f.message
    assert '-- Writes: "User", and declare HIGH' in f.message, f.message
    (folder / "003_use.sql").write_text('-- Risk Level: HIGH\n-- Writes: "User" (by user_au)\n'
                                        + files["003_use.sql"].split("\n", 1)[1])
    report = lint.lint(folder, target=open_target(pg_empty_url), dialect="postgresql")
    assert not only(report, "wrote-through-code"), [f.message for f in report.all_findings()]


@pytest.mark.parametrize("body, flagged, category", [
    ("SELECT fill();", ["fill()"], 3),
    ("UPDATE t SET name = app.fix(name);", ["app.fix()"], 3),
    ("INSERT INTO t (id, name) VALUES (9, tag());", ["tag()"], 3),
    ("SELECT peek(), app.pure(1), now();", [], 1),  # STABLE, IMMUTABLE, the engine's own
    ("SELECT setval('t_seq', 5), nextval('t_seq'), set_config('x.y', '1', true), pg_catalog.lower('A');", [], 1),
    ("CALL backfill();", ["CALLs procedure backfill"], 3),
    ("DO $$ BEGIN EXECUTE 'UPDATE t SET name = 1'; END $$;", ["DO block"], 3),
    ("DO $$ BEGIN UPDATE t SET name = 'x'; END $$;", [], 3),  # no EXECUTE: the UPDATE it runs
    ("DO $$ BEGIN PERFORM fill(); END $$;", ["fill()"], 3),  # the calls in its PL/pgSQL expressions too
    ("DO $$ DECLARE n text; BEGIN n := tag(); IF peek() > 0 THEN RAISE NOTICE '%', n; END IF; END $$;", ["tag()"], 3),
    ("DO $$ BEGIN CREATE TYPE kind AS ENUM ('a'); EXCEPTION WHEN duplicate_object THEN null; END $$;", [], 1),
    ("CREATE VIEW v AS SELECT fill();", [], 1),  # a view's query runs later
    ("-- Writes: none\nSELECT fill();\nCALL backfill();", [], 1),
    ("-- Writes: t (by fill)\nSELECT fill();", [], 3),
])
def test_calls_of_code_that_may_write_are_flagged(tmp_path: Path, body: str, flagged: list[str], category: int) -> None:
    """Statically (no server): a call of a function the project's migrations define without
    STABLE/IMMUTABLE, a CALL, or a DO block running EXECUTE may write rows no parser reads:
    ``may-write-through-code`` and Category 3, unless the header says what the code writes."""
    base = ("-- Risk Level: LOW\nCREATE SCHEMA app;\nCREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);\n"
            "CREATE SEQUENCE t_seq;\n"
            "CREATE FUNCTION fill() RETURNS void LANGUAGE sql AS $$ UPDATE t SET name = 'x' $$;\n"
            "CREATE FUNCTION tag() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;\n"
            "CREATE FUNCTION app.fix(text) RETURNS text LANGUAGE sql AS $$ SELECT $1 $$;\n"
            "CREATE FUNCTION peek() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 $$;\n"
            "CREATE FUNCTION app.pure(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;\n"
            "CREATE PROCEDURE backfill() LANGUAGE sql AS $$ UPDATE t SET name = 'y' $$;\n")
    header_lines = [line for line in body.splitlines() if line.startswith("--")]
    statements = "\n".join(line for line in body.splitlines() if not line.startswith("--"))
    folder = make_folder(tmp_path, {"001_base.sql": base,
                                    "002_case.sql": "-- Risk Level: HIGH\n" + "\n".join(header_lines + [statements]) + "\n",
                                    "rollbacks/002_rollback_case.sql": "SELECT 1;\n"}, base=False)
    report = lint.lint(folder, engine=ENGINES["postgresql"], dialect="postgresql")
    unit = report.migrations[1]
    found = [f.message for f in only(report, "may-write-through-code")]
    assert len(found) == len(flagged) and all(w in m for w, m in zip(flagged, found)), found
    assert all(f.level == "warning" for f in only(report, "may-write-through-code"))
    assert unit.category == category, [(v.kind, v.category, v.reason) for v in unit.statements]


@pytest.mark.postgres
def test_the_gate_knows_the_databases_own_functions(tmp_path: Path, pg_empty_url: str) -> None:
    """The migrate gate lints the pending migrations against the target; a function an applied
    migration made is read from the database's catalog (``Engine.routines``), with its
    volatility, so a pending ``SELECT fill()`` is Category 3 there too."""
    folder = make_folder(tmp_path, {
        "001_t.sql": "-- Risk Level: LOW\nCREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);\n"
                     "CREATE FUNCTION fill() RETURNS void LANGUAGE sql AS $$ UPDATE t SET name = 'x' $$;\n"
                     "CREATE FUNCTION peek() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 1 $$;\n",
        "002_fill.sql": "-- Risk Level: LOW\nSELECT peek();\nSELECT fill();\n"}, base=False)
    target = open_target(pg_empty_url)
    scanned = mig.with_dialect(lint.scan_folder(folder)[0], "postgresql")
    assert migrate(target, folder, to="001", dialect="postgresql").passed
    with target.engine().connect() as conn:
        assert target.kind.routines(conn) == {"fill": "volatile", "peek": "stable"}
    with pytest.raises(BadInput, match="risk-understated"):
        lint.gate(scanned[1:], target.kind, target=target)


def test_postgresql_lock_findings(tmp_path: Path) -> None:
    """The PostgreSQL-only findings apply to .postgresql.sql variants (and to every file with a
    PostgreSQL --db): a plain index on an existing table warns; lock_timeout = 0 before a
    lock-heavy statement is an error, the runner's own lock_timeout is enough otherwise."""
    folder = make_folder(tmp_path, {
        "001_phone_index.sql": "-- Risk Level: LOW\nCREATE INDEX idx_contractors_phone ON contractors(phone);\n",
        "001_phone_index.postgresql.sql": "SET lock_timeout = 0;\nCREATE INDEX idx_contractors_phone ON contractors (phone);\n",
        "rollbacks/001_rollback_phone_index.sql": "DROP INDEX idx_contractors_phone;\n",
    })
    report = lint.lint(folder)
    by_engine = {(u.migration.version, u.engine): u for u in report.migrations}
    assert not by_engine["001", "sqlite"].findings  # SQLite: no such concern
    pg = by_engine["001", "postgresql"]
    assert sorted(f.code for f in pg.findings) == ["index-not-concurrent", "lock-timeout-disabled"]
    assert {f.code: f.level for f in pg.findings} == {"index-not-concurrent": "warning", "lock-timeout-disabled": "error"}
    assert pg.rollback_check["status"] == "skipped"  # no server without --db
    assert [f.line for f in pg.findings if f.code == "lock-timeout-disabled"] == [2]


# -- the CLI ---------------------------------------------------------------------------------------
def test_cli_exit_codes_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["lint", "--migrations", str(tmp_path / "nowhere")], capsys)[0] == 2
    assert run_cli(["lint", "--migrations", str(MIGRATIONS), "--db", "not a url"], capsys)[0] == 2
    assert run_cli(["lint", "--migrations", str(MIGRATIONS), "--db", f"sqlite:///{tmp_path}/none.db"], capsys)[0] == 2
    assert run_cli(["lint", str(MIGRATIONS / "009_nothing.sql")], capsys)[0] == 2
    other = tmp_path / "elsewhere.sql"
    other.write_text("SELECT 1;")
    rc, _, err = run_cli(["lint", "--migrations", str(MIGRATIONS), str(other)], capsys)
    assert rc == 2 and "not in the migrations folder" in err
    assert not (tmp_path / "none.db").exists()
    rc, out, _ = run_cli(["lint", str(MIGRATIONS / "004_add_search_indexes.sql")], capsys)
    assert rc == 0 and "004_add_search_indexes" in out and "001_add_contractor_fields" not in out
    bad = make_folder(tmp_path, {"001_x.sql": "-- Risk Level: LOW\nDELETE FROM contractors;\n"})
    assert run_cli(["lint", "--migrations", str(bad)], capsys)[0] == 1


def test_cli_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = make_folder(tmp_path, {
        "001_move.sql": "-- Risk Level: LOW\nCREATE TABLE phones (contractor_id INTEGER, phone TEXT);\n"
                        "INSERT INTO phones SELECT id, phone FROM contractors;\n"
                        "ALTER TABLE contractors DROP COLUMN phone;\n",
    })
    rc, out, _ = run_cli(["lint", "--json", "--migrations", str(folder)], capsys)
    assert rc == 1
    data = json.loads(out)
    assert {"migrations", "findings", "errors", "warnings", "passed"} <= set(data) and data["passed"] is False
    move = next(m for m in data["migrations"] if m["version"] == "001")
    assert (move["category"], move["destructive"], move["declared_risk"], move["rollback"]) == (3, True, "LOW", None)
    assert [(s["line"], s["category"], s["destructive"]) for s in move["statements"]] == [
        (2, 1, False), (3, 3, False), (4, 2, True)]
    assert all(s["reason"] and s["kind"] for s in move["statements"])
    assert sorted(f["code"] for f in move["findings"]) == ["risk-understated", "rollback-missing"]
    assert all({"level", "code", "file", "line", "message", "help"} == set(f) for f in move["findings"])


# -- the migrate gate ------------------------------------------------------------------------------
def _risky_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    (folder / "005_drop_phone.sql").write_text(
        "-- Migration: drop phone\n-- Risk Level: LOW (cleanup)\nALTER TABLE contractors DROP COLUMN phone;\n")
    return folder


def test_gate_refuses_and_nothing_changes(tmp_path: Path, sqlite_url: str) -> None:
    folder = _risky_folder(tmp_path)
    target = open_target(sqlite_url)
    before = sqlite_schema(target.url.database)
    with target.engine().connect() as conn:
        rows = conn.exec_driver_sql("SELECT COUNT(*), COUNT(phone) FROM contractors").one()
    with pytest.raises(BadInput) as refused:
        migrate(target, folder, gate=lambda pending: lint.gate(pending, target.kind))
    message = str(refused.value)
    assert "005_drop_phone" in message and "declares LOW" in message and "rollback script" in message
    assert refused.value.report["refused"] and not refused.value.report["override"]
    assert sqlite_schema(target.url.database) == before  # no history table, no column dropped
    with target.engine().connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*), COUNT(phone) FROM contractors").one() == rows


def test_gate_override_is_reported(tmp_path: Path, sqlite_url: str) -> None:
    folder = _risky_folder(tmp_path)
    target = open_target(sqlite_url)
    seen: dict = {}

    def gate(pending: list) -> None:
        seen.update(lint.gate(pending, target.kind, allow_risk=True, target=target))

    result = migrate(target, folder, gate=gate)
    assert result.passed and result.after == "005"
    assert seen["override"] is True and len(seen["overridden"]) == 2
    assert any("declares LOW" in r for r in seen["overridden"]) and any("rollback" in r for r in seen["overridden"])
    assert [m["version"] for m in seen["migrations"]] == ["001", "002", "003", "004", "005"]
    json.dumps(seen)  # JSON-able, for the report


def test_gate_without_rollback_accepts_only_the_missing_rollback_scripts(tmp_path: Path, sqlite_url: str) -> None:
    """``run --no-rollback`` (no rollback follows a failure) accepts ``rollback-missing``, named in
    the report; a declared risk lower than the statements' still refuses, and nothing changes."""
    folder = _risky_folder(tmp_path)
    target = open_target(sqlite_url)
    before = sqlite_schema(target.url.database)
    with pytest.raises(BadInput) as refused:
        migrate(target, folder, gate=lambda pending: lint.gate(pending, target.kind, no_rollback=True))
    assert "declares LOW" in str(refused.value) and "rollback-missing" not in str(refused.value)
    assert [a.split(":")[:2] for a in refused.value.report["accepted"]] == [["005_drop_phone", " rollback-missing"]]
    assert sqlite_schema(target.url.database) == before
    (folder / "005_drop_phone.sql").write_text((folder / "005_drop_phone.sql").read_text().replace(
        "Risk Level: LOW", "Risk Level: MEDIUM"))
    seen: dict = {}
    assert migrate(target, folder, gate=lambda pending: seen.update(
        lint.gate(pending, target.kind, no_rollback=True))).passed
    assert not seen["override"] and not seen["refused"] and len(seen["accepted"]) == 1


def test_gate_passes_clean_migrations(sqlite_url: str) -> None:
    target = open_target(sqlite_url)
    pending = [m for m in mig.discover(MIGRATIONS) if m.number >= 1]
    report = lint.gate(pending, target.kind)
    assert report["override"] is False and report["refused"] == [] and report["errors"] == 0
    assert [m["category"] for m in report["migrations"]] == [1, 1, 1, 1]
    assert lint.gate([], target.kind)["migrations"] == []


# -- runbook new -----------------------------------------------------------------------------------
def test_new_scaffolds_the_next_migration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    rc, out, _ = run_cli(["new", "Add partner tiers", "--migrations", str(folder)], capsys)
    assert rc == 0
    path, rollback = folder / "005_add_partner_tiers.sql", folder / "rollbacks" / "005_rollback_add_partner_tiers.sql"
    verify = folder / "verify" / "005_verify_add_partner_tiers.sql"
    assert path.is_file() and rollback.is_file() and verify.is_file() and str(path) in out and str(verify) in out
    assert "WHERE 0" in verify.read_text() and all(line.startswith("--") for line in verify.read_text().splitlines())
    fields = header(path.read_text())
    assert fields["migration"] == "Add partner tiers" and fields["description"] == "Add partner tiers"
    assert fields["risk_level"].startswith("LOW") and len(fields["date"]) == 10
    [m] = [m for m in mig.discover(folder) if m.number == 5]
    assert m.risk_level == "LOW" and m.rollback is not None and m.rollback.path == rollback
    assert m.verify is not None and m.verify.path == verify and prepare_verify(m, ENGINES["sqlite"]) is None  # no statement
    report = lint.lint(folder, files=[path])
    assert codes(report) == ["empty"] and report.exit_code == 0  # a scaffold lints with one warning
    # filled in with something risky, lint holds the header to it
    path.write_text(path.read_text().replace("COMMIT;", "ALTER TABLE strategic_partners DROP COLUMN is_active;\nCOMMIT;"))
    assert codes(lint.lint(folder, files=[path], check_rollback=False)) == ["risk-understated"]


def test_new_refuses_to_overwrite_and_empty_descriptions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    squatter = folder / "rollbacks" / "005_rollback_add_tiers.sql"
    squatter.write_text("-- someone's\n")
    listing = sorted(p.name for p in folder.rglob("*"))
    with pytest.raises(BadInput, match="005_rollback_add_tiers.sql"):  # its rollback name is taken
        mig.new_migration(folder, "Add tiers")
    assert sorted(p.name for p in folder.rglob("*")) == listing and squatter.read_text() == "-- someone's\n"
    squatter.unlink()
    (folder / "005_add_tiers.sql").mkdir()  # not a migration file, but the name is taken
    with pytest.raises(BadInput, match="already exists"):
        mig.new_migration(folder, "Add tiers")
    assert not (folder / "rollbacks" / "005_rollback_add_tiers.sql").exists()
    (folder / "005_add_tiers.sql").rmdir()
    listing = sorted(p.name for p in folder.rglob("*"))
    for empty in ("", "   ", "!!!"):
        assert run_cli(["new", empty, "--migrations", str(folder)], capsys)[0] == 2
    assert sorted(p.name for p in folder.rglob("*")) == listing
    assert run_cli(["new", "x", "--migrations", str(tmp_path / "nowhere")], capsys)[0] == 2
    empty_folder = tmp_path / "fresh"
    empty_folder.mkdir()
    path, _, _ = mig.new_migration(empty_folder, "First one")
    assert path.name == "001_first_one.sql"


def test_run_is_refused_by_the_lint_gate_first(tmp_path: Path, sqlite_url: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The gate runs before inventory and backup: a refusal is quick, writes lint.json and a
    run.json with status refused, prints every finding behind it, exits 2, touches nothing."""
    import time

    folder = _risky_folder(tmp_path)
    (folder / "rollbacks" / "005_rollback_drop_phone.sql").write_text("ALTER TABLE contractors ADD COLUMN phone TEXT;\n")
    path = sqlite_url.removeprefix("sqlite:///")
    before = sqlite_schema(path)
    data_before = Path(path).read_bytes()
    reports_dir, backups = tmp_path / "reports", tmp_path / "backups"
    started = time.monotonic()
    rc, out, err = run_cli(["run", "--db", sqlite_url, "--migrations", str(folder), "--reports", str(reports_dir),
                            "--backups", str(backups)], capsys)
    assert rc == 2, err
    assert time.monotonic() - started < 20  # no notebook ran
    assert "risk-understated" in err and "005_drop_phone.sql:2" in err and "declares LOW" in err
    [run_dir] = [p for p in reports_dir.iterdir() if p.is_dir()]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "refused" and run["steps"] == []
    assert [f["code"] for f in run["lint_refusal"]] == ["risk-understated"]
    gate = json.loads((run_dir / "lint.json").read_text())
    assert gate["refused"] and gate["refusing"][0]["line"] == 2
    assert not list(run_dir.glob("*.ipynb")) and not (backups.exists() and list(backups.iterdir()))
    page = (run_dir / "index.html").read_text()  # the migration log shows the refusal and its findings
    assert "REFUSED" in page and "risk-understated" in page
    assert sqlite_schema(path) == before and Path(path).read_bytes() == data_before


def test_run_allow_risk_passes_the_gate_and_records_the_override(tmp_path: Path, sqlite_url: str) -> None:
    from runbook import pipeline
    from runbook.reports import load_artifact

    folder = _risky_folder(tmp_path)
    (folder / "rollbacks" / "005_rollback_drop_phone.sql").write_text("ALTER TABLE contractors ADD COLUMN phone TEXT;\n")
    target = open_target(sqlite_url)
    opts = pipeline.Options(migrations_dir=folder, reports_dir=tmp_path / "r", backup_dir=tmp_path / "b",
                            allow_risk=True)
    run_dir = tmp_path / "r" / "x"
    run_dir.mkdir(parents=True)
    assert pipeline.lint_gate(target, ("migrate",), opts, run_dir) is None  # not refused
    gate = load_artifact(run_dir, "lint")
    assert gate["override"] is True and any("risk-understated" in r for r in gate["overridden"])


# -- the rollback check compares what the runbook's own rollback check compares -----------------
_PARENT = "CREATE TABLE parent (id INTEGER PRIMARY KEY);\n"
_CHILD = "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id){action}, x INTEGER{check});\n"
_REBUILD = ("CREATE TABLE child_new (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id){action}, "
            "x INTEGER{check});\nINSERT INTO child_new SELECT id, parent_id, x FROM child;\nDROP TABLE child;\n"
            "ALTER TABLE child_new RENAME TO child;\n")
_CHANGES = {  # engine -> what -> (migration, its correct rollback)
    "sqlite": {
        "fk": (_REBUILD.format(action=" ON DELETE CASCADE", check=""), _REBUILD.format(action="", check="")),
        "check": (_REBUILD.format(action="", check=" CONSTRAINT child_x_positive CHECK (x > 0)"),
                  _REBUILD.format(action="", check="")),
    },
    "postgresql": {
        "fk": ("ALTER TABLE child DROP CONSTRAINT child_parent_id_fkey;\nALTER TABLE child ADD CONSTRAINT "
               "child_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES parent(id) ON DELETE CASCADE;\n",
               "ALTER TABLE child DROP CONSTRAINT child_parent_id_fkey;\nALTER TABLE child ADD CONSTRAINT "
               "child_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES parent(id);\n"),
        "check": ("ALTER TABLE child ADD CONSTRAINT child_x_positive CHECK (x > 0);\n",
                  "ALTER TABLE child DROP CONSTRAINT child_x_positive;\n"),
    },
}
_MISSED = {"fk": "child: foreign key (parent_id) → parent(id) on delete changed from NO ACTION to CASCADE",
           "check": "child: check child_x_positive added"}


def _empty_target(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if engine == "sqlite":
        from conftest import new_sqlite_db

        return new_sqlite_db(tmp_path / "empty.db", baseline=False)
    return request.getfixturevalue("pg_empty_url")


@pytest.mark.parametrize("what", ["fk", "check"])
@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_rollback_check_sees_foreign_key_actions_and_checks(tmp_path: Path, request: pytest.FixtureRequest,
                                                             engine: str, what: str) -> None:
    """A migration that changes a foreign key's ON DELETE action, or adds a CHECK constraint, with
    a rollback that does not undo it: lint's replay fails it as ``runbook rollback`` would (the
    vaultwarden fault: lint said "passed" and the real rollback then failed); a rollback that
    undoes it passes."""
    url = _empty_target(engine, request, tmp_path)
    migration, good = _CHANGES[engine][what]
    for name, rollback in (("bad", "-- Rollback: nothing to undo (wrong)\n"), ("good", good)):
        folder = make_folder(tmp_path / name, {
            "001_tables.sql": "-- Risk Level: LOW\n" + _PARENT + _CHILD.format(action="", check=""),
            "rollbacks/001_rollback_tables.sql": "DROP TABLE child;\nDROP TABLE parent;\n",
            "002_change.sql": "-- Risk Level: HIGH\n" + migration,
            "rollbacks/002_rollback_change.sql": rollback,
        }, base=False)
        report = lint.lint(folder, target=open_target(url))
        assert {u.engine for u in report.migrations} == {engine}
        by_version = {u.migration.version: u for u in report.migrations}
        assert by_version["001"].rollback_check["status"] == "passed", by_version["001"].rollback_check
        check = by_version["002"].rollback_check
        mismatch = only(report, "rollback-mismatch")
        if name == "bad":
            assert check["status"] == "failed" and _MISSED[what] in check["detail"], check
            assert len(mismatch) == 1 and _MISSED[what] in mismatch[0].message
        else:
            assert check["status"] == "passed" and not mismatch, check


_GAPS = [  # (engine, what, setup, change, what lint's diff says): each a change schema.diff reports
    ("sqlite", "partial index", "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER, s TEXT);\n"
     "CREATE INDEX ix_t ON t(x) WHERE x > 0;", "DROP INDEX ix_t;\nCREATE INDEX ix_t ON t(x) WHERE x > 1;",
     "t: index ix_t definition changed"),
    ("sqlite", "expression index", "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER, s TEXT);",
     "CREATE INDEX ix_lower ON t(lower(s));", "t: index ix_lower added"),
    ("sqlite", "view", "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER);\nCREATE VIEW v AS SELECT x FROM t;",
     "DROP VIEW v;\nCREATE VIEW v AS SELECT x + 1 AS x FROM t;", "view v definition changed"),
    ("sqlite", "trigger", "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER);",
     "CREATE TRIGGER trg AFTER INSERT ON t BEGIN SELECT 1; END;", "trigger trg on t added"),
    ("postgresql", "partial index", "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER, s TEXT);\n"
     "CREATE INDEX ix_t ON t(x) WHERE x > 0;", "DROP INDEX ix_t;\nCREATE INDEX ix_t ON t(x) WHERE x > 1;",
     "t: index ix_t definition changed"),
    ("postgresql", "expression index", "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER, s TEXT);\n"
     "CREATE INDEX ix_lower ON t(lower(s));", "DROP INDEX ix_lower;\nCREATE INDEX ix_lower ON t(upper(s));",
     "t: index ix_lower definition changed"),
    ("postgresql", "unique constraint to unique index", "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT UNIQUE);",
     "ALTER TABLE t DROP CONSTRAINT t_s_key;\nCREATE UNIQUE INDEX t_s_key ON t(s);",
     "t: index t_s_key constraint changed from unique to none"),
    ("postgresql", "primary key name", "CREATE TABLE t (id INTEGER PRIMARY KEY);",
     "ALTER TABLE t RENAME CONSTRAINT t_pkey TO t_pk;", "t: primary key changed from t_pkey(id) to t_pk(id)"),
    ("postgresql", "identity", "CREATE TABLE t (id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);",
     "ALTER TABLE t ALTER COLUMN id SET GENERATED ALWAYS;",
     "t: column id identity changed from by default to always"),
    ("postgresql", "generated column", "CREATE TABLE t (x INTEGER, y INTEGER GENERATED ALWAYS AS (x * 2) STORED);",
     "ALTER TABLE t ALTER COLUMN y DROP EXPRESSION;", "t: column y generated changed from (x * 2) to none"),
    ("postgresql", "view", "CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER);\nCREATE VIEW v AS SELECT x FROM t;",
     "CREATE OR REPLACE VIEW v AS SELECT x + 1 AS x FROM t;", "view v definition changed"),
    ("postgresql", "function", "", "CREATE FUNCTION f() RETURNS integer LANGUAGE sql AS 'SELECT 1';",
     "function f() added"),
    ("postgresql", "trigger", "CREATE TABLE t (x INTEGER);\nCREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql "
     "AS 'BEGIN RETURN NEW; END';", "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf();",
     "trigger trg on t added"),
    ("postgresql", "type", "", "CREATE TYPE mood AS ENUM ('sad', 'happy');", "type mood added"),
    ("postgresql", "sequence", "", "CREATE SEQUENCE counter;", "sequence counter added"),
]


@pytest.mark.parametrize("engine,what,setup,change,said", [
    pytest.param(*case, id=f"{case[0]}-{case[1]}",
                 marks=[pytest.mark.postgres] if case[0] == "postgresql" else []) for case in _GAPS])
def test_replay_snapshot_sees_what_the_real_rollback_check_compares(
        tmp_path: Path, request: pytest.FixtureRequest, engine: str, what: str, setup: str, change: str,
        said: str) -> None:
    """Each kind of change ``schema.diff`` reports on the engine's model (what ``runbook rollback``
    compares) is also a difference between two of lint's replay snapshots (``model.reflect``),
    whether the table is reflected again or kept from the snapshot before (``touched``)."""
    from runbook import schema
    from runbook.lint.model import reflect
    from runbook.sqltext import split

    url = _empty_target(engine, request, tmp_path)
    kind = ENGINES[engine]
    sa_engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with sa_engine.begin() as conn:
            for statement in split(setup, engine):
                conn.exec_driver_sql(statement.sql)
        with sa_engine.connect() as conn:
            real_before, state = schema.introspect(conn, kind), reflect(conn)
            assert reflect(conn)[1] == state[1]  # an unchanged schema: the same snapshot
        with sa_engine.begin() as conn:
            for statement in split(change, engine):
                conn.exec_driver_sql(statement.sql)
        with sa_engine.connect() as conn:
            real_after = schema.introspect(conn, kind)
            lint_after = reflect(conn)[1]
            touched_after = reflect(conn, state, {"t", "v"})[1]
    finally:
        sa_engine.dispose()
    assert schema.diff(real_before, real_after), "the case must be a change the real check sees"
    found = lint.check.compare(state[1], lint_after)
    assert any(d.startswith(said) for d in found), found
    assert lint.check.compare(lint_after, touched_after) == []
