"""The runbook as a tool people install into their own project: settings, init, check, baseline,
lab sessions, --json outputs against their shipped schemas, plain output when piped, and (slow)
a built wheel installed outside this checkout."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import sysconfig
import venv
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from conftest import MIGRATIONS, REPO, new_sqlite_db
from runbook import __version__, config
from runbook.cli import main
from runbook.console import Output
from runbook.errors import BadInput
from runbook.reports import NOTEBOOKS_DIR

SCHEMAS = Path(str(resources.files("runbook") / "schemas"))


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def run_json_cli(capsys, *args: str, expect: int = 0) -> dict:
    """``runbook ARGS --json`` in-process: its one JSON document, checked against its schema."""
    rc = main([*args, "--json"])
    out = capsys.readouterr().out
    assert rc == expect, out
    doc = json.loads(out)
    jsonschema.validate(doc, schema("error" if "error" in doc else "run" if "run" in doc else doc["command"]))
    return doc


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty folder as the working directory, no RUNBOOK_* settings from outside."""
    for var in [v for v in os.environ if v.startswith("RUNBOOK_") and v != "RUNBOOK_TEST_PG_URL"]:
        monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- settings ----------------------------------------------------------------------------------
def test_settings_precedence_file_then_env_then_flag(project):
    (project / "runbook.toml").write_text('db = "sqlite:///file.db"\nreports = "out/reports"\nlock_timeout = 7\n'
                                          'rehearsal = false\n')
    env = {"RUNBOOK_DB": "sqlite:///env.db", "RUNBOOK_LOCK_TIMEOUT": "8"}
    s = config.load({}, env=env)
    assert s.url() == "sqlite:///env.db" and s.sources["db"] == "env RUNBOOK_DB"
    assert s.lock_timeout == 8.0 and s.reports == Path("out/reports") and s.rehearsal is False
    assert s.sources["reports"] == "file runbook.toml" and s.sources["migrations"] == "default"
    s = config.load({"db": "sqlite:///flag.db", "lock_timeout": 9.0}, env=env)
    assert (s.url(), s.lock_timeout, s.sources["lock_timeout"]) == ("sqlite:///flag.db", 9.0, "flag --lock-timeout")


def test_settings_from_pyproject_env_var_urls_and_paths_relative_to_the_file(project):
    sub = project / "deploy"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "app"\n[tool.runbook]\ndb = "env:APP_DB"\n'
                                        'migrations = "db/migrations"\ndialect = "postgresql"\n')
    s = config.load({}, config_file=sub / "pyproject.toml", env={"APP_DB": "postgresql://u:secret@h/app"})
    assert s.migrations == sub / "db" / "migrations" and s.dialect == "postgresql"
    assert s.url() == "postgresql://u:secret@h/app"
    shown = {r["name"]: r["value"] for r in s.shown()}
    assert "secret" not in json.dumps(s.shown()) and shown["db"] == "env:APP_DB (= postgresql://u:***@h/app)"
    with pytest.raises(BadInput, match="APP_DB is not set"):
        config.load({}, config_file=sub / "pyproject.toml", env={}).url()
    s = config.load({}, cwd=sub, env={})  # found in the working directory too
    assert s.file == sub / "pyproject.toml"


def test_bad_settings_are_one_line_errors_exit_2(project, capsys):
    (project / "runbook.toml").write_text('lock_timout = 5\n')
    assert main(["config"]) == 2
    assert "unknown setting(s) lock_timout" in capsys.readouterr().err
    (project / "runbook.toml").write_text('dialect = "mysql"\n')
    doc = run_json_cli(capsys, "config", expect=2)
    assert doc["error"]["kind"] == "BadInput" and "dialect" in doc["error"]["message"]
    (project / "runbook.toml").unlink()
    os.environ["RUNBOOK_REHEARSAL"] = "maybe"
    try:
        assert main(["config"]) == 2
    finally:
        del os.environ["RUNBOOK_REHEARSAL"]
    assert "RUNBOOK_REHEARSAL" in capsys.readouterr().err


def test_config_shows_each_setting_with_its_source_and_masks_passwords(project, capsys, monkeypatch):
    (project / "runbook.toml").write_text('statement_timeout = 30\n')
    monkeypatch.setenv("RUNBOOK_DB", "postgresql://deploy:hunter2@db/app")
    doc = run_json_cli(capsys, "config", "--reports", "logs")
    rows = {r["name"]: r for r in doc["settings"]}
    assert rows["db"] == {"name": "db", "value": "postgresql://deploy:***@db/app", "source": "env RUNBOOK_DB"}
    assert rows["statement_timeout"]["source"] == "file runbook.toml" and rows["statement_timeout"]["value"] == 30.0
    assert rows["reports"] == {"name": "reports", "value": "logs", "source": "flag --reports"}
    assert main(["config"]) == 0
    assert "hunter2" not in capsys.readouterr().out


# -- init, check, baseline, status, new, reports: every --json against its schema --------------
def test_init_scaffolds_and_never_overwrites(project, capsys):
    (project / ".gitignore").write_text("node_modules/\n")
    doc = run_json_cli(capsys, "init")
    assert sorted(doc["created"]) == ["migrations/README.md", "migrations/rollbacks/.gitkeep", "runbook.toml"]
    assert doc["kept"] == [".gitignore"] and (project / ".gitignore").read_text() == "node_modules/\n"
    toml = (project / "runbook.toml").read_text()
    assert 'db = "env:DATABASE_URL"' in toml and 'dialect = "sqlite"' in toml
    before = (project / "runbook.toml").read_text()
    doc = run_json_cli(capsys, "init")
    assert doc["created"] == [] and len(doc["kept"]) == 4 and (project / "runbook.toml").read_text() == before
    assert main(["init", "other", "--dialect", "postgresql"]) == 0
    assert "/backups/" in (project / "other" / ".gitignore").read_text()
    assert 'dialect = "postgresql"' in (project / "other" / "runbook.toml").read_text()


def test_check_exits_1_while_anything_is_pending(project, capsys, monkeypatch):
    url = new_sqlite_db(project / "power100.db")  # the guide's tables, no history
    monkeypatch.setenv("RUNBOOK_DB", url)
    monkeypatch.setenv("RUNBOOK_MIGRATIONS", str(MIGRATIONS))
    doc = run_json_cli(capsys, "check", expect=1)
    assert doc["ok"] is False and [m["version"] for m in doc["pending"]] == ["000", "001", "002", "003", "004"]
    monkeypatch.setenv("RUNBOOK_MIGRATIONS", str(project / "empty"))
    (project / "empty").mkdir()
    assert main(["check"]) == 0 and "up to date" in capsys.readouterr().out


def test_baseline_records_history_only(project, capsys):
    url = new_sqlite_db(project / "power100.db")
    conn = sqlite3.connect(project / "power100.db")
    schema_before = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    conn.close()
    doc = run_json_cli(capsys, "baseline", "--version", "0", "--db", url, "--migrations", str(MIGRATIONS))
    assert [m["version"] for m in doc["recorded"]] == ["000"] and doc["version"] == "000"
    conn = sqlite3.connect(project / "power100.db")
    after = conn.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name NOT IN ('schema_history', 'schema_events') "
                         "ORDER BY name").fetchall()
    history = conn.execute("SELECT version, note FROM schema_history").fetchall()
    events = conn.execute("SELECT event, version FROM schema_events").fetchall()
    conn.close()
    assert after == schema_before and history == [("000", "adopted by runbook baseline: recorded as applied, not run")]
    assert events == [("baseline", "000")]  # and in the event log
    assert [e["event"] for e in run_json_cli(capsys, "history", "--db", url)["events"]] == ["baseline"]
    status = run_json_cli(capsys, "status", "--db", url, "--migrations", str(MIGRATIONS))
    assert status["current"] == "000" and [m["state"] for m in status["applied"]] == ["applied"]
    assert [m["version"] for m in status["pending"]] == ["001", "002", "003", "004"]
    # a second baseline, or an unknown version, is refused and changes nothing
    doc = run_json_cli(capsys, "baseline", "--version", "1", "--db", url, "--migrations", str(MIGRATIONS), expect=2)
    assert "already has a migration history" in doc["error"]["message"]
    doc = run_json_cli(capsys, "baseline", "--version", "9", "--db", url, "--migrations", str(MIGRATIONS), expect=2)
    assert "no migration 009" in doc["error"]["message"]
    conn = sqlite3.connect(project / "power100.db")
    assert conn.execute("SELECT version FROM schema_history").fetchall() == [("000",)]
    conn.close()


def test_new_and_reports_json(project, capsys):
    run_json_cli(capsys, "init")
    doc = run_json_cli(capsys, "new", "Add partner tiers")
    assert doc["migration"]["version"] == "001" and doc["migration"]["name"] == "add_partner_tiers"
    doc = run_json_cli(capsys, "reports")
    assert doc["runs"] == []
    doc = run_json_cli(capsys, "status", "--db", "sqlite:///nowhere/none.db", expect=2)
    assert doc["error"]["exit_code"] == 2


def test_usage_errors_under_json_are_json(project, capsys):
    rc = main(["status", "--no-such-flag", "--json"])
    out = capsys.readouterr().out
    assert rc == 2
    jsonschema.validate(json.loads(out), schema("error"))


# -- operator sessions -------------------------------------------------------------------------
def test_lab_prepares_a_session_folder_with_parameterized_notebooks(project, capsys):
    url = new_sqlite_db(project / "power100.db")
    sources = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS_DIR.glob("*.ipynb")}
    doc = run_json_cli(capsys, "lab", "--no-start", "--db", url, "--migrations", str(MIGRATIONS))
    session = Path(doc["run_dir"])
    assert session.parent == Path("reports") and doc["started"] is False
    assert sorted(Path(n).name for n in doc["notebooks"]) == sorted(sources)
    nb = json.loads((session / "03_migrate.ipynb").read_text())
    injected = next(c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    text = "".join(injected["source"])
    assert f'db_url = "{url}"' in text and f'run_dir = "{session.resolve()}"' in text
    assert f'migrations_dir = "{MIGRATIONS}"' in text
    # the package's notebooks are untouched; the session is in the migration log
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS_DIR.glob("*.ipynb")} == sources
    runs = run_json_cli(capsys, "reports")["runs"]
    assert [(r["run_id"], r["status"]) for r in runs] == [(session.name, "interactive")]


def test_a_notebook_run_out_of_order_says_which_to_run_first():
    from runbook.backup import require_verified
    from runbook.errors import RunFailed

    with pytest.raises(RunFailed) as info:
        require_verified("/nonexistent-run", None)
    assert info.value._render_traceback_() == [
        "RunFailed: no backup was taken in this run (/nonexistent-run/backup.json does not exist): "
        "run 02_backup.ipynb first"]


# -- output ------------------------------------------------------------------------------------
class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_output_is_plain_when_piped_and_tables_with_colour_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    rows = [("001", "add_tiers", "pending")]
    piped = io.StringIO()
    Output(piped).table(["version", "name", "state"], rows, status_column=2)
    assert piped.getvalue() == "version  name       state\n001      add_tiers  pending\n"
    tty = Terminal()
    Output(tty).table(["version", "name", "state"], rows, status_column=2)
    assert "\x1b[33m" in tty.getvalue() and "┃" in tty.getvalue()  # pending in yellow, in a table
    monkeypatch.setenv("NO_COLOR", "1")
    tty = Terminal()
    Output(tty).table(["version", "name", "state"], rows, status_column=2)
    assert "\x1b[33m" not in tty.getvalue() and "┃" in tty.getvalue()  # NO_COLOR: no colour (bold stays)


def test_python_m_runbook_and_piped_output_have_no_escape_codes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm-256color"}
    done = subprocess.run([sys.executable, "-m", "runbook", "--version"], capture_output=True, text=True, env=env)
    assert (done.returncode, done.stdout.strip()) == (0, f"runbook (schema-runbook) {__version__}")
    url = new_sqlite_db(tmp_path / "power100.db")
    done = subprocess.run([sys.executable, "-m", "runbook", "status", "--db", url, "--migrations", str(MIGRATIONS)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "baseline" in done.stdout and "pending" in done.stdout and "\x1b" not in done.stdout and "┃" not in done.stdout
    done = subprocess.run([sys.executable, "-m", "runbook", "status", "--db", url, "-q"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == "" and "migrations folder not found" in done.stderr


def test_the_cli_answers_help_without_loading_the_heavy_libraries():
    code = "import sys, runbook.cli; print(sorted(m for m in ('pandas', 'papermill', 'sqlalchemy', 'rich') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


#: what a run on one engine never loads, in either of its processes: the other engine's module, driver and parser
OTHER_ENGINE_ONLY = {"sqlite": {"runbook.engines.postgresql", "psycopg", "pglast", "runbook.pgtext", "runbook.lint.postgresql"},
                     "postgresql": {"runbook.engines.sqlite", "sqlalchemy.dialects.sqlite"}}


@pytest.mark.slow
def test_a_run_loads_nothing_of_the_other_engine_in_the_cli_or_its_kernel(db_url, tmp_path):
    """The demo run (SQLite-dialect migrations) on each engine; SQLAlchemy and sqlglot only in the
    kernel, where the run's database work is done. Python's import log
    (``PYTHONPROFILEIMPORTTIME``, inherited by the kernel, both writing to the stderr captured
    here) names every module either process imported."""
    engine = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    done = subprocess.run([sys.executable, "-m", "runbook", "run", "--db", db_url, "--migrations", str(MIGRATIONS),
                           "--reports", str(tmp_path / "reports"), "--backups", str(tmp_path / "backups")],
                          capture_output=True, text=True, env=os.environ | {"PYTHONPROFILEIMPORTTIME": "1"}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = [line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and line.rsplit("|", 1)[1].strip() != "imported package"]
    assert "ipykernel" in imported and "papermill" in imported  # both processes are in the log
    assert imported.count("sqlalchemy") == imported.count("sqlglot") == 1  # the kernel's: the CLI does no database work
    assert OTHER_ENGINE_ONLY[engine] & set(imported) == set()
    assert {"requests.api", "click.core", "boto3"} & set(imported) == set()  # papermill's parts for remote notebooks, its CLI


def test_startup_imports_without_the_collector_and_stands_in_for_papermills_unused_parts():
    """``startup.load`` leaves the collector as it found it and sets the imported modules aside
    (frozen); ``requests`` stays a stand-in until something is looked up on it, then is the real
    module, for papermill's own reference too."""
    code = """if True:
        import gc, sys
        from runbook import startup
        gc.disable()
        startup.load("json")
        print(gc.isenabled(), gc.get_freeze_count() > 0)
        gc.enable()
        startup.load_notebook_runner()
        import papermill.iorw
        print(gc.isenabled(), "requests.api" in sys.modules, "click.core" in sys.modules, sys.modules["boto3"])
        get = papermill.iorw.requests.get
        print("requests.api" in sys.modules, get.__module__, sys.modules["requests"].get is get)
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:3] == ["False True", "True False False None", "True requests.api True"]


def test_the_kernels_trim_leaves_out_the_terminal_until_its_content_is_asked_for():
    """``startup.trim_kernel``: IPython and ipykernel load without prompt_toolkit, Jedi or debugpy;
    ``inspect.getmodule`` (which asks every module its ``__file__``) does not load the terminal;
    anything of it looked up is the real one."""
    code = """if True:
        import inspect, sys
        from runbook import startup
        startup.trim_kernel()
        import IPython, ipykernel.kernelapp
        inspect.getmodule(lambda: None)
        print(*[bool(sys.modules.get(m)) for m in ("prompt_toolkit", "jedi", "debugpy")])
        from IPython.terminal.embed import InteractiveShellEmbed
        print(InteractiveShellEmbed.__module__, "prompt_toolkit" in sys.modules)
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["False False False", "IPython.terminal.embed True"]


# -- a project configured only by runbook.toml (one real pipeline run) --------------------------
@pytest.mark.slow
def test_a_project_configured_by_runbook_toml_runs_with_no_flags(project, capsys, monkeypatch):
    assert main(["init"]) == 0
    sqlite3.connect(project / "app.db").close()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{project / 'app.db'}")
    (project / "migrations" / "001_add_tiers.sql").write_text(
        "-- Migration: add tiers\n-- Risk Level: LOW (Non-breaking additions)\n"
        "CREATE TABLE tiers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n")
    (project / "migrations" / "rollbacks" / "001_rollback_add_tiers.sql").write_text("DROP TABLE tiers;\n")
    capsys.readouterr()
    doc = run_json_cli(capsys, "run")
    assert doc["command"] == "run" and doc["run"]["status"] == "passed"
    assert doc["run"]["versions"] == {"before": None, "after": "001"}
    assert Path(doc["run"]["report"]).parent.parent == Path("reports")
    assert run_json_cli(capsys, "check")["ok"] is True
    assert list((project / "backups").iterdir())


# -- the wheel, installed outside this checkout -------------------------------------------------
@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    """Build the wheel (its build backend, setuptools, comes from the package index as pip would
    fetch it), install it into a fresh virtual environment, and use it from an empty folder.

    The new environment sees the dependencies of the environment running the tests through a
    .pth file (a path entry: its own .pth files, such as an editable install of this checkout, are
    not processed), so pip finds them installed and nothing large is downloaded; what is tested
    is the wheel's own files: the package, its notebooks, demo migrations, seeds and schemas."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
                   check=True, capture_output=True, text=True, timeout=600)
    wheel = next(dist.glob("schema_runbook-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    site = subprocess.run([str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    ours = sysconfig.get_paths()
    Path(site, "_test_dependencies.pth").write_text(f"{ours['purelib']}\n{ours['platlib']}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RUNBOOK_DB", "RUNBOOK_LOCK_HELD")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    subprocess.run([str(bin_dir / "pip"), "install", "-q", str(wheel)], check=True, env=env, timeout=600)
    work = tmp_path / "project"
    work.mkdir()

    def runbook(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(bin_dir / "runbook"), *args], capture_output=True, text=True, env=env,
                              cwd=work, timeout=900)

    where = subprocess.run([str(bin_dir / "python"), "-c", "import runbook; print(runbook.__file__)"],
                           capture_output=True, text=True, env=env, cwd=work, check=True).stdout
    assert where.startswith(str(env_dir)), where
    assert runbook("--version").stdout.strip() == f"runbook (schema-runbook) {__version__}"
    done = runbook("init")
    assert done.returncode == 0 and (work / "runbook.toml").is_file(), done.stderr
    done = runbook("demo")
    assert done.returncode == 0, done.stdout + done.stderr
    demo_migrations = json.loads(runbook("status", "--db", "sqlite:///demo/power100.db", "--json",
                                         "--migrations", str(next(env_dir.glob("lib/python*/site-packages/runbook/demo/migrations")))).stdout)
    assert demo_migrations["current"] == "004" and demo_migrations["pending"] == []
    done = runbook("check", "--db", "sqlite:///demo/power100.db",
                   "--migrations", str(next(env_dir.glob("lib/python*/site-packages/runbook/demo/migrations"))))
    assert done.returncode == 0, done.stdout + done.stderr
    env["DATABASE_URL"] = "sqlite:///demo/power100.db"  # the project's own (empty) migrations: 000-004 unknown
    assert runbook("check").returncode == 1


def test_demo_stop_before_is_checked_before_anything_is_built(project, capsys):
    assert main(["demo", "--dir", "d", "--stop-before", "000"]) == 2
    assert "no demo migration comes before it" in capsys.readouterr().err
    assert main(["demo", "--dir", "d", "--stop-before", "x1"]) == 2
    assert not (project / "d").exists()
