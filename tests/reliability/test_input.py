"""Case 7 and 8 of issue 8: bad input is refused in one line (exit 2) before anything runs and
changes nothing; passwords and row values never reach the console or a report."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook.errors import redact
from runbook.migrate import migrate
from runbook.target import mask, open_target

from conftest import MIGRATIONS, db_state, new_sqlite_db
from helpers import runbook


def sqlite_state(path: Path) -> tuple:
    conn = sqlite3.connect(path)
    try:
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        rows = {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for t, n, _ in schema if t == "table"}
        return schema, rows, path.read_bytes()
    finally:
        conn.close()


def assert_refused(done: subprocess.CompletedProcess, message: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def demo(tmp_path: Path) -> dict:
    db = tmp_path / "power100.db"
    url = new_sqlite_db(db)
    migrations = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, migrations)
    return {"db": db, "url": url, "migrations": migrations, "reports": tmp_path / "reports",
            "backups": tmp_path / "backups", "tmp": tmp_path}


def _run(demo: dict, *extra: str, env: dict | None = None, **paths) -> subprocess.CompletedProcess:
    args = {"--db": demo["url"], "--migrations": str(demo["migrations"]), "--reports": str(demo["reports"]),
            "--backups": str(demo["backups"])} | {f"--{k}": str(v) for k, v in paths.items()}
    return runbook("run", *[x for kv in args.items() for x in kv], *extra, env=env)


@pytest.mark.parametrize("value", ["nan", "-1", "0", "inf", "1e308"])
def test_timeouts_that_mean_nothing_are_refused(demo, value):
    before = sqlite_state(demo["db"])
    assert_refused(_run(demo, "--lock-timeout", value), "number of seconds")  # the config's check or open_target's
    assert sqlite_state(demo["db"]) == before and not demo["reports"].exists()


def test_unwritable_or_file_reports_folder_is_refused(demo):
    before = sqlite_state(demo["db"])
    a_file = demo["tmp"] / "reports.txt"
    a_file.write_text("not a folder\n")
    assert_refused(_run(demo, reports=a_file), "is a file")
    assert_refused(_run(demo, reports="/proc/1/reports"), "cannot take a write")  # refuses even root
    assert_refused(_run(demo, backups=a_file / "sub"), "cannot be created")
    assert sqlite_state(demo["db"]) == before and a_file.read_text() == "not a folder\n"


def test_non_utf8_path_is_refused(demo):
    before = sqlite_state(demo["db"])
    done = subprocess.run([sys.executable, "-m", "runbook.cli", "run", "--db", demo["url"],
                           "--reports", str(demo["reports"]).encode() + b"\xff"], capture_output=True)
    done = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())
    assert_refused(done, "not UTF-8")
    assert sqlite_state(demo["db"]) == before


@pytest.mark.parametrize("content,message", [
    ("-- café\nALTER TABLE contractors ADD COLUMN x TEXT;\n".encode("latin-1"), "is not UTF-8 text"),
    (b"ALTER TABLE contractors ADD COLUMN x TEXT;\0\0", "holds NUL bytes"),
    (b"-- big\n" + b"SELECT 1;\n" * 3000, "above the limit of 20000"),
])
def test_migration_files_that_are_not_text_or_too_big_are_refused(demo, content, message):
    (demo["migrations"] / "005_bad.sql").write_bytes(content)
    (demo["migrations"] / "rollbacks" / "005_rollback_bad.sql").write_text("SELECT 1;\n")
    before = sqlite_state(demo["db"])
    assert_refused(_run(demo, env={"RUNBOOK_MAX_MIGRATION_BYTES": "20000"}), message)
    assert sqlite_state(demo["db"]) == before and not demo["reports"].exists() and not demo["backups"].exists()


def test_a_verify_script_that_is_not_text_is_refused_before_anything_runs(demo):
    (demo["migrations"] / "005_ok.sql").write_text("-- Risk Level: LOW\nALTER TABLE contractors ADD COLUMN x TEXT;\n")
    (demo["migrations"] / "rollbacks" / "005_rollback_ok.sql").write_text("ALTER TABLE contractors DROP COLUMN x;\n")
    (demo["migrations"] / "verify" / "005_verify_ok.sql").write_bytes(b"SELECT x FROM contractors WHERE 1 = 0;\0\0")
    before = sqlite_state(demo["db"])
    assert_refused(_run(demo), "holds NUL bytes")
    assert sqlite_state(demo["db"]) == before and not demo["reports"].exists() and not demo["backups"].exists()


def test_sqlite_exclusive_lock_held_at_start_is_one_line(demo):
    holder = sqlite3.connect(demo["db"], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert_refused(_run(demo, "--lock-timeout", "0.2"), "is locked by another connection")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not demo["reports"].exists()


@pytest.mark.postgres
@pytest.mark.parametrize("name", ['power"100', "power/100"])
def test_postgres_database_names_with_quote_or_slash_are_refused(pg_server, name, tmp_path):
    url = pg_server.set(database=name, drivername="postgresql").render_as_string(hide_password=False)
    assert_refused(runbook("run", "--db", url, "--reports", str(tmp_path / "r")), "holds a character the runbook refuses")


# -- masking and redaction ----------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    "postgresql:/user:S3cretPW@host/db", "postgresql//user:S3cretPW@host/db",
    "postgresql://user:S3cretPW@host/db", "postgresql:user:S3cretPW@host/db",
    "postgresql://user:S3c@retPW@host/db", "postgresql://user@host/db?password=S3cretPW",
    "host=h user=u password=S3cretPW dbname=d",
])
def test_passwords_in_malformed_urls_are_masked(raw, tmp_path):
    assert "S3cret" not in mask(raw) and "retPW" not in mask(raw)
    done = runbook("status", "--db", raw, "--migrations", str(MIGRATIONS))
    assert done.returncode == 2 and "S3cret" not in done.stderr + done.stdout and "retPW" not in done.stderr


def test_redact_keeps_names_and_statement_drops_values():
    text = ('(psycopg.errors.InvalidTextRepresentation) invalid input syntax for type integer: "555-0100"\n'
            '[SQL: UPDATE contractors SET phone = 1]\n[parameters: {"p": "555-0100"}]')
    out = redact(text)
    assert "555-0100" not in out and "invalid input syntax for type integer" in out
    assert "[SQL: UPDATE contractors SET phone = 1]" in out
    detail = redact('duplicate key value violates unique constraint "contractors_email_key"\n'
                    'DETAIL:  Key (email)=(jane@example.com) already exists.')
    assert "jane@example.com" not in detail and '"contractors_email_key"' in detail and "Key (email)=(?)" in detail
    assert redact('null value in column "phone" of relation "contractors"') == \
        'null value in column "phone" of relation "contractors"'
    assert "555" not in redact("value too long for type character varying(3): '555-0100'")


@pytest.mark.postgres
def test_a_failing_cast_does_not_leak_the_value(pg_url, tmp_path):
    target = open_target(pg_url)
    with target.engine().begin() as conn:
        conn.execute(sa.text("UPDATE contractors SET phone = '+1-555-0100-77' WHERE id = 1"))
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    for f in [*folder.glob("00[1-4]_*.sql"), *folder.glob("rollbacks/00[1-4]_*.sql"), *folder.glob("verify/00[1-4]_*.sql")]:
        f.unlink()
    (folder / "001_phone_as_number.sql").write_text(
        "ALTER TABLE contractors ALTER COLUMN phone TYPE bigint USING phone::bigint;\n")
    (folder / "rollbacks" / "001_rollback_phone_as_number.sql").write_text(
        "ALTER TABLE contractors ALTER COLUMN phone TYPE text;\n")
    before = db_state(pg_url)
    result = migrate(target, folder, preflight=False)
    assert not result.passed and "invalid input syntax for type bigint" in result.error
    text = repr(result.as_dict())
    assert "555" not in text, text
    assert db_state(pg_url) == before


@pytest.mark.slow
def test_a_driver_error_escaping_a_cell_is_redacted_in_the_executed_notebook(tmp_path):
    """run.json and the console redact a driver's error; the executed notebook's own error output
    (text and traceback) must not keep the row value either."""
    import nbformat

    from runbook.reports import execute_step

    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:  # the value comes from the data, not from the cell's source
        conn.execute("CREATE TABLE t (email TEXT)")
        conn.execute("INSERT INTO t VALUES ('jane@example.com')")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(
                    "import sqlite3\n"
                    f"value = sqlite3.connect({str(db)!r}).execute('SELECT email FROM t').fetchone()[0]\n"
                    "raise sqlite3.IntegrityError('duplicate key value violates unique constraint \"u\"\\n'\n"
                    "                             f'DETAIL:  Key (email)=({value}) already exists.')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "nbs").mkdir()
    nbformat.write(nb, tmp_path / "nbs" / "01_inventory.ipynb")
    result = execute_step("inventory", tmp_path, {"x": 2}, run_id="r", target_display="t",
                          notebooks_dir=tmp_path / "nbs")
    assert not result.passed and "Key (email)=(?)" in result.error
    written = (tmp_path / "01_inventory.ipynb").read_text()
    assert "jane@example.com" not in written
    assert "Key (email)=(?)" in written and "IntegrityError" in written
