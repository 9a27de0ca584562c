"""The CLI end to end: real papermill runs of the real notebooks against real databases."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MIGRATIONS, db_state, new_sqlite_db

pytestmark = pytest.mark.slow


def runbook(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runbook.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def sqlite_state(path: Path) -> dict:
    """Schema (as SQLite stores it) and every row: the whole state of a small test database."""
    conn = sqlite3.connect(path)
    try:
        schema = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        rows = {name: conn.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()
                for (kind, name, _) in schema if kind == "table" and name != "schema_events"}  # the event log records failures too
        return {"schema": schema, "rows": rows}
    finally:
        conn.close()


def run_json(out: str) -> dict:
    line = next(line for line in out.splitlines() if line.startswith("report: "))
    return json.loads(Path(line.removeprefix("report: ")).read_text())


def test_demo_then_rerun_is_a_noop(tmp_path):
    demo = tmp_path / "demo"
    done = runbook("demo", "--dir", str(demo))
    assert done.returncode == 0, done.stdout + done.stderr
    run = run_json(done.stdout)
    assert run["status"] == "passed"
    assert [s["step"] for s in run["steps"]] == ["inventory", "backup", "migrate", "verify"]
    # progress, piped: timestamped lines for each step and migration as they happen
    for line in ("inventory: started", "verify: PASSED in", "migrate power100: 004_add_search_indexes (4/4)"):
        assert line in done.stderr, done.stderr
    assert "KeyboardInterrupt" not in done.stderr
    assert all(s["status"] == "passed" for s in run["steps"])
    assert run["versions"] == {"before": None, "after": "004"}
    assert run["backup"]["sha256"] and Path(run["backup"]["path"]).is_file()
    sizes = run["database_size_bytes"]
    assert 0 < sizes["before"] <= sizes["after"]
    run_dir = Path(run["run_dir"])
    for name in ("01_inventory.ipynb", "02_backup.ipynb", "03_migrate.ipynb", "04_verify.ipynb", "run.json"):
        assert (run_dir / name).is_file(), name
    conn = sqlite3.connect(demo / "power100.db")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(contractors)")}
    guide_001 = {"company_website", "service_area", "services_offered", "verification_status", "verification_code",
                 "focus_areas", "primary_focus_area", "annual_revenue", "team_size", "increased_tools",
                 "increased_people", "increased_activity", "current_stage", "assigned_partner_id",
                 "demo_scheduled_date", "opted_in_coaching"}
    assert guide_001 <= columns
    assert conn.execute("SELECT COUNT(*) FROM contractors").fetchone() == (11,)
    conn.close()

    before = sqlite_state(demo / "power100.db")
    again = runbook("run", "--db", f"sqlite:///{demo / 'power100.db'}", "--reports", str(demo / "reports"),
                    "--backups", str(demo / "backups"), "--migrations", str(MIGRATIONS))
    assert again.returncode == 0, again.stdout + again.stderr
    rerun = run_json(again.stdout)
    assert rerun["status"] == "passed" and rerun["versions"] == {"before": "004", "after": "004"}
    assert sqlite_state(demo / "power100.db") == before


def failing_folder(tmp_path: Path) -> Path:
    """000-002 as shipped, then a third migration (003) that fails in its second statement (a duplicate key)."""
    folder = tmp_path / "migrations"
    (folder / "rollbacks").mkdir(parents=True)
    for n in ("000", "001", "002"):
        for p in MIGRATIONS.glob(f"{n}_*.sql"):
            shutil.copy(p, folder)
        for p in (MIGRATIONS / "rollbacks").glob(f"{n}_*.sql"):
            shutil.copy(p, folder / "rollbacks")
    (folder / "003_add_audit_log.sql").write_text(  # lint passes it; it fails only when it runs
        "-- Migration: Add audit log\n-- Risk Level: LOW\n"
        "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, what TEXT);\n"
        "INSERT INTO audit_log (id, what) VALUES (1, 'created'), (1, 'duplicate key');\n"
        "ALTER TABLE contractors ADD COLUMN never_added TEXT;\n")
    (folder / "rollbacks" / "003_rollback_audit_log.sql").write_text("DROP TABLE audit_log;\n")
    return folder


def test_migrate_stops_at_the_failing_migration_and_keeps_its_report(tmp_path):
    db = tmp_path / "power100.db"
    url = new_sqlite_db(db)
    done = runbook("migrate", "--db", url, "--migrations", str(failing_folder(tmp_path)), "--no-rehearsal",
                   "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "backups"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "003_add_audit_log" in done.stderr and "statement 2" in done.stderr
    run = run_json(done.stdout)
    assert run["status"] == "failed"
    assert (Path(run["run_dir"]) / "03_migrate.ipynb").is_file()
    conn = sqlite3.connect(db)
    assert [r[0] for r in conn.execute("SELECT version FROM schema_history ORDER BY version")] == ["000", "001", "002"]
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'audit_log'").fetchone() == (0,)
    assert "never_added" not in {row[1] for row in conn.execute("PRAGMA table_info(contractors)")}


def test_failed_rehearsal_leaves_the_target_untouched(tmp_path):
    db = tmp_path / "power100.db"
    url = new_sqlite_db(db)
    before = sqlite_state(db)
    done = runbook("migrate", "--db", url, "--migrations", str(failing_folder(tmp_path)),
                   "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "backups"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "rehearsal" in done.stderr and "003_add_audit_log" in done.stderr and "not touched" in done.stderr
    assert sqlite_state(db) == before


def test_run_rolls_back_to_the_state_before_the_run(tmp_path, db_url):
    before = db_state(db_url)
    done = runbook("run", "--db", db_url, "--migrations", str(failing_folder(tmp_path)), "--no-rehearsal",
                   "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "backups"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "003_add_audit_log" in done.stderr and "statement 2" in done.stderr
    run = run_json(done.stdout)
    assert [(s["step"], s["status"]) for s in run["steps"]] == [
        ("inventory", "passed"), ("backup", "passed"), ("migrate", "failed"), ("rollback", "passed")]
    assert run["versions"] == {"before": None, "after": None}
    assert db_state(db_url) == before


def test_a_failed_automatic_rollback_rolls_back_nothing_and_says_where_the_database_is(tmp_path, sqlite_url):
    """The run's migrate fails at 003; its automatic rollback (002, 001, then 000's adoption) fails
    at 001, whose script passes on the empty scratch replay and fails on the target's rows (a
    unique index over repeated values): nothing is rolled back, and the run says at which version
    the database is."""
    folder = failing_folder(tmp_path)
    script = folder / "rollbacks" / "001_rollback_contractor_fields.sql"
    script.write_text("CREATE UNIQUE INDEX rb_probe ON strategic_partners (is_active);\nDROP INDEX rb_probe;\n"
                      + script.read_text())
    done = runbook("run", "--db", sqlite_url, "--migrations", str(folder), "--no-rehearsal",
                   "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "backups"))
    assert done.returncode == 3, done.stdout + done.stderr
    run = run_json(done.stdout)
    assert [(s["step"], s["status"]) for s in run["steps"]] == [
        ("inventory", "passed"), ("backup", "passed"), ("migrate", "failed"), ("rollback", "failed")]
    assert "automatic rollback failed (the database is at version 002; the run wanted none): RunFailed: rollback of " \
           "001_add_contractor_fields failed" in run["error"], run["error"]
    assert "nothing was rolled back" in run["error"]
    record = json.loads((Path(run["run_dir"]) / "rollback.json").read_text())
    assert record["rolled_back"] == [] and [u["version"] for u in record["undone"]] == ["002"]
    conn = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    assert [r[0] for r in conn.execute("SELECT version FROM schema_history ORDER BY version")] == ["000", "001", "002"]
    assert {"description", "website"} <= {r[1] for r in conn.execute("PRAGMA table_info(strategic_partners)")}


def test_dry_run_prints_the_exact_sql_for_this_engine_and_changes_nothing(tmp_path, db_url):
    before = db_state(db_url)
    done = runbook("run", "--dry-run", "--db", db_url, "--migrations", str(MIGRATIONS),
                   "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "backups"))
    assert done.returncode == 0, done.stdout + done.stderr
    plan = done.stdout
    assert "-- 001_add_contractor_fields" in plan and "ALTER TABLE contractors ADD COLUMN" in plan
    assert "-- not run (transaction control" in plan  # the guide's BEGIN TRANSACTION is the runner's
    assert "-- verify script verify/001_verify_add_contractor_fields.sql: runs after the statements" in plan
    assert "--   SELECT company_website, service_area" in plan  # listed as comments: not run in a dry run
    if db_url.startswith("postgresql"):  # translated: what PostgreSQL would run, not the SQLite text
        sql = [line.upper() for line in plan.splitlines() if not line.startswith("--")]
        assert not any("DATETIME" in line for line in sql) and any("TIMESTAMP" in line for line in sql)
    run = run_json(done.stdout)
    assert [s["step"] for s in run["steps"]] == ["migrate"] and run["options"]["dry_run"] is True
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir())  # no backup
    assert "DRY RUN" in (Path(run["run_dir"]) / "index.html").read_text()
    assert db_state(db_url) == before


def test_no_rollback_step_when_the_failed_migration_touched_nothing(tmp_path, sqlite_url):
    from runbook.migrate import migrate
    from runbook.target import open_target

    folder = failing_folder(tmp_path)
    assert migrate(open_target(sqlite_url), folder, to="002").passed  # only the failing 003 is pending
    before = db_state(sqlite_url)
    done = runbook("run", "--db", sqlite_url, "--migrations", str(folder), "--no-rehearsal",
                   "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "backups"))
    assert done.returncode == 1, done.stdout + done.stderr
    run = run_json(done.stdout)
    assert [(s["step"], s["status"]) for s in run["steps"]] == [
        ("inventory", "passed"), ("backup", "passed"), ("migrate", "failed")]
    assert "rolled back whole" in run["rollback_skipped"] and run["versions"] == {"before": "002", "after": "002"}
    assert db_state(sqlite_url) == before


@pytest.mark.postgres
def test_no_rollback_step_when_a_failed_migration_outside_a_transaction_was_undone(tmp_path, pg_url):
    """PostgreSQL: 003 builds an index concurrently, then a unique one the rows break. Each ran in
    autocommit, so nothing rolled back: the runbook undid the first and the run says so, not
    "rolled back whole"; no rollback step runs and the database is as it was."""
    from runbook.migrate import migrate
    from runbook.target import open_target

    folder = failing_folder(tmp_path)
    (folder / "003_add_audit_log.sql").write_text("-- Migration: Indexes\n-- Risk Level: MEDIUM\nSELECT 1;\n")
    (folder / "003_add_audit_log.postgresql.sql").write_text(
        "-- Migration: Indexes\n-- Risk Level: MEDIUM\n"
        "CREATE INDEX CONCURRENTLY idx_partners_name ON strategic_partners (company_name);\n"
        "CREATE UNIQUE INDEX CONCURRENTLY idx_partners_active ON strategic_partners (is_active);\n")
    (folder / "rollbacks" / "003_rollback_audit_log.postgresql.sql").write_text(
        "DROP INDEX CONCURRENTLY idx_partners_active;\nDROP INDEX CONCURRENTLY idx_partners_name;\n")
    assert migrate(open_target(pg_url), folder, to="002").passed
    before = db_state(pg_url)
    done = runbook("run", "--db", pg_url, "--migrations", str(folder), "--no-rehearsal",
                   "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "backups"))
    assert done.returncode == 1, done.stdout + done.stderr
    run = run_json(done.stdout)
    assert [(s["step"], s["status"]) for s in run["steps"]][-1] == ("migrate", "failed")
    assert run["rollback_skipped"].startswith("the failed migration ran outside a transaction and was not recorded"), \
        run["rollback_skipped"]
    assert "there was no transaction to roll back" in run["error"] and "undone by the runbook, newest first (statements 1)" \
        in run["error"], run["error"]
    assert run["versions"] == {"before": "002", "after": "002"}
    assert db_state(pg_url) == before


@pytest.mark.parametrize("args,message", [
    (["status", "--db", "not a url"], "not a database URL"),
    (["run", "--db", "mysql://u@h/db"], "unsupported database engine"),
    (["run", "--db", "sqlite:///{tmp}/missing.db"], "not found"),
    (["run", "--db", "{url}", "--migrations", "{tmp}/nowhere"], "migrations folder not found"),
])
def test_bad_input_exits_2_and_touches_nothing(tmp_path, args, message):
    db = tmp_path / "power100.db"
    url = new_sqlite_db(db)
    before = sqlite_state(db)
    args = [a.format(tmp=tmp_path, url=url) for a in args]
    done = runbook(*args, "--reports", str(tmp_path / "reports")) if args[0] == "run" else runbook(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "missing.db").exists()
    assert not (tmp_path / "reports").exists()
    assert sqlite_state(db) == before


@pytest.mark.parametrize("name,content,message", [
    ("3_short.sql", "SELECT 1;", "NNN_description.sql"),
    ("002_twice.sql", "SELECT 1;", "two migrations numbered 002"),
])
def test_bad_migrations_folder_exits_2(tmp_path, name, content, message):
    db = tmp_path / "power100.db"
    url = new_sqlite_db(db)
    before = sqlite_state(db)
    folder = failing_folder(tmp_path)
    (folder / name).write_text(content)
    done = runbook("run", "--db", url, "--migrations", str(folder), "--reports", str(tmp_path / "reports"))
    assert done.returncode == 2 and message in done.stderr, done.stdout + done.stderr
    assert sqlite_state(db) == before


def test_status_json(tmp_path):
    url = new_sqlite_db(tmp_path / "power100.db")
    done = runbook("status", "--db", url, "--migrations", str(MIGRATIONS), "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["current"] is None and status["adopt_baseline"] is True
    assert [m["version"] for m in status["pending"]] == ["000", "001", "002", "003", "004"]
    assert status["pending"][0]["name"] == "baseline" and status["pending"][0]["state"] == "pending"


def _env_without_password() -> dict[str, str]:
    import os
    return {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "RUNBOOK_DB", "RUNBOOK_LOCK_HELD")}


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runbook.cli", *args], capture_output=True, text=True,
                          env=env, timeout=600)


@pytest.mark.postgres
def test_run_on_postgresql_with_a_password_in_the_url_leaves_it_nowhere(tmp_path, pg_password_db):
    import sqlalchemy as sa

    password = pg_password_db["password"]
    url = sa.make_url(pg_password_db["url"]).set(password=password).render_as_string(hide_password=False)
    reports_dir, backups = tmp_path / "reports", tmp_path / "backups"
    done = _cli(["run", "--db", url, "--reports", str(reports_dir), "--backups", str(backups), "--migrations", str(MIGRATIONS)],
                _env_without_password())
    assert done.returncode == 0, done.stdout + done.stderr
    run = run_json(done.stdout)
    assert run["status"] == "passed" and run["engine"] == "postgresql"
    assert run["versions"] == {"before": None, "after": "004"}
    assert run["backup"]["format"].startswith("pg_dump") and run["backup"]["verified"]
    assert run["rehearsal"]["passed"] and run["rehearsal"]["migrate_duration_s"] > 0
    assert password not in done.stdout + done.stderr
    files = [p for p in reports_dir.rglob("*") if p.is_file()]
    assert len(files) >= 10
    leaking = [str(p) for p in files if password in p.read_text(errors="replace")]
    assert leaking == []


@pytest.mark.postgres
def test_wrong_password_is_bad_input_and_not_echoed(tmp_path, pg_password_db):
    import sqlalchemy as sa

    url = sa.make_url(pg_password_db["url"]).set(password="not-the-password-123").render_as_string(hide_password=False)
    done = _cli(["run", "--db", url, "--reports", str(tmp_path / "reports"), "--migrations", str(MIGRATIONS)],
                _env_without_password())
    assert done.returncode == 2, done.stdout + done.stderr
    assert "password authentication failed" in done.stderr
    assert "not-the-password-123" not in done.stdout + done.stderr
    assert not (tmp_path / "reports").exists()


def test_a_second_concurrent_run_is_refused_at_once(tmp_path, db_url):
    from runbook.target import open_target

    before = db_state(db_url)
    target = open_target(db_url)
    with target.kind.exclusive_lock(target):  # another runbook holds this database
        done = runbook("run", "--db", db_url, "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "b"),
                       "--migrations", str(MIGRATIONS))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "another runbook" in done.stderr
    assert not (tmp_path / "reports").exists()
    assert db_state(db_url) == before


def test_lint_gate_refuses_then_records_the_override(tmp_path):
    db = tmp_path / "power100.db"
    url = new_sqlite_db(db)
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    (folder / "005_drop_phone.sql").write_text(  # category 2 and destructive, declared LOW, no rollback
        "-- Migration: Drop phone\n-- Risk Level: LOW\nALTER TABLE contractors DROP COLUMN phone;\n")
    common = ["--db", url, "--migrations", str(folder), "--reports", str(tmp_path / "reports"),
              "--backups", str(tmp_path / "backups"), "--no-rehearsal"]
    before = sqlite_state(db)
    refused = runbook("migrate", *common)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "005_drop_phone" in refused.stderr and "refusing to migrate" in refused.stderr
    assert sqlite_state(db) == before

    forced = runbook("migrate", *common, "--allow-risk")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    run = run_json(forced.stdout)
    assert run["options"]["allow_risk"] is True
    lint = json.loads((Path(run["run_dir"]) / "lint.json").read_text())
    assert lint["override"] is True and any("005_drop_phone" in r for r in lint["overridden"])
    assert "Risk override" in (Path(run["run_dir"]) / "03_migrate.ipynb").read_text()
    conn = sqlite3.connect(db)
    assert "phone" not in {row[1] for row in conn.execute("PRAGMA table_info(contractors)")}
    runs = runbook("reports", "--reports", str(tmp_path / "reports"), "--json")
    listed = json.loads(runs.stdout)["runs"]  # newest first; the refusal (the lint gate, run first) is marked as such
    assert [(r["status"], r["verdict"]) for r in listed] == [("passed", "PASSED"), ("refused", "REFUSED")]


def test_one_step_commands_report_versions_and_refuse_an_unconfirmed_restore(tmp_path):
    db = tmp_path / "power100.db"
    url = new_sqlite_db(db)
    common = ["--db", url, "--reports", str(tmp_path / "reports"), "--migrations", str(MIGRATIONS)]
    migrated = runbook("migrate", *common, "--backups", str(tmp_path / "backups"), "--no-rehearsal", "--to", "002")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert run_json(migrated.stdout)["versions"] == {"before": None, "after": "002"}
    backup = Path(run_json(migrated.stdout)["backup"]["path"])

    before = sqlite_state(db)
    refused = runbook("rollback", *common, "--restore", str(backup))
    assert refused.returncode == 2 and "--confirm-restore" in refused.stderr
    assert sqlite_state(db) == before

    down = runbook("rollback", *common, "--to", "001")
    assert down.returncode == 0, down.stdout + down.stderr
    assert run_json(down.stdout)["versions"] == {"before": "002", "after": "001"}

    restored = runbook("rollback", *common, "--restore", str(backup), "--confirm-restore")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert run_json(restored.stdout)["versions"] == {"before": "001", "after": None}
    assert "schema_history" not in {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}


@pytest.mark.parametrize("extra,message", [
    (["--to", "abc"], "--to must be a migration number"),
    (["--to", "009"], "no migration numbered 009"),
])
def test_bad_target_version_is_refused_before_anything_runs(tmp_path, extra, message):
    db = tmp_path / "power100.db"
    url = new_sqlite_db(db)
    before = sqlite_state(db)
    done = runbook("run", "--db", url, "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "b"),
                   "--migrations", str(MIGRATIONS), *extra)
    assert done.returncode == 2 and message in done.stderr, done.stdout + done.stderr
    assert not (tmp_path / "reports").exists() and not (tmp_path / "b").exists()
    assert sqlite_state(db) == before


def test_a_run_refuses_migrations_it_could_not_roll_back(tmp_path):
    db = tmp_path / "power100.db"
    url = new_sqlite_db(db)
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    (folder / "rollbacks" / "004_rollback_search_indexes.sql").unlink()
    done = runbook("run", "--db", url, "--migrations", str(folder), "--reports", str(tmp_path / "reports"))
    assert done.returncode == 2 and "no rollback script for 004_add_search_indexes" in done.stderr
    assert not (tmp_path / "reports").exists()


def test_a_run_with_no_rollback_applies_migrations_without_rollback_scripts_and_says_what_a_failure_left(
        tmp_path, sqlite_url):
    """Histories imported from tools without down scripts (most Flyway projects) have no rollback
    scripts: ``--no-rollback`` lets ``run`` apply them, and a failure then leaves the migrations that
    committed applied, said in the report, instead of the run being refused."""
    from runbook.migrate import migrate
    from runbook.target import open_target

    folder = failing_folder(tmp_path)
    for p in (folder / "rollbacks").glob("00[23]_*.sql"):
        p.unlink()
    failing = folder / "003_add_audit_log.sql"  # a data migration (Category 3): lint wants its rollback script
    failing.write_text(failing.read_text().replace("Risk Level: LOW", "Risk Level: HIGH").replace(
        "INSERT INTO audit_log", "UPDATE contractors SET name = upper(name);\nINSERT INTO audit_log"))
    assert migrate(open_target(sqlite_url), folder, to="001").passed  # 002 (fine) and 003 (fails) pending
    args = ("run", "--db", sqlite_url, "--migrations", str(folder), "--no-rehearsal",
            "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "backups"))
    refused = runbook(*args)
    assert refused.returncode == 2 and "--no-rollback" in refused.stderr, refused.stderr
    done = runbook(*args, "--no-rollback")
    assert done.returncode == 3, done.stdout + done.stderr  # left changed: 002 committed
    run = run_json(done.stdout)
    assert [(s["step"], s["status"]) for s in run["steps"]] == [
        ("inventory", "passed"), ("backup", "passed"), ("migrate", "failed")]
    assert run["rollback_skipped"].startswith("--no-rollback") and run["versions"] == {"before": "001", "after": "002"}
    page = (Path(run["run_dir"]) / "index.html").read_text()
    assert "No rollback: --no-rollback" in page
    # the lint gate's rollback-missing is accepted, named in lint.json and on the page; nothing else is
    accepted = json.loads((Path(run["run_dir"]) / "lint.json").read_text())["accepted"]
    assert len(accepted) == 1 and accepted[0].startswith("003_add_audit_log: rollback-missing"), accepted
    assert "without rollback scripts" in page
    names = [r[0] for r in sqlite3.connect(sqlite_url.removeprefix("sqlite:///")).execute(
        "SELECT name FROM contractors ORDER BY id")]
    assert names and names != [n.upper() for n in names]  # 003's update went with its failed transaction


def test_rollback_help_names_to_none(capsys):
    from runbook import cli

    assert cli.main(["rollback", "--help"]) == 0
    assert "'none' rolls back every applied migration" in " ".join(capsys.readouterr().out.split())
