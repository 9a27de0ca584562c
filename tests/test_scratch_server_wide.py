"""The scratch runs (the rehearsal's copy, lint's replay, verify's replay, the rollback check) run
on databases of the target's own PostgreSQL server: whatever belongs to the whole server (roles,
memberships, role and database settings, databases, tablespaces, the configuration file, other
sessions) must come out of them as it went in, and the target untouched. Each kind of statement
that could change it is run through a rehearsal and a ``lint --db`` replay here, and the server
is compared before and after; on the target the same statements run as written."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import time
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from runbook import lint
from runbook.lint.report import LintReport
from runbook.migrate import migrate
from runbook.target import open_target
from conftest import db_state
from test_lint_rules import folder as folder_of
from test_scratch_roles import HEAD, admin, role_name, roles, rehearsed  # noqa: F401 (fixtures)

pytestmark = pytest.mark.postgres


def server_state(admin: sa.Engine, database: str, names: list[str]) -> dict:
    """What a scratch run must leave as it was: the roles ``names`` (attributes, password,
    memberships, comments), the settings of the target ``database`` and of every role, the
    target's row in ``pg_database`` and its comment, the tablespaces, and the configuration
    ``ALTER SYSTEM`` writes (``pg_file_settings`` of postgresql.auto.conf)."""
    with admin.connect() as conn:
        def q(sql: str, **params: object) -> list[tuple]:
            return sorted(tuple(str(v) for v in row) for row in conn.execute(sa.text(sql), params))

        return {
            "roles": q("SELECT rolname, rolcanlogin, rolconnlimit, rolpassword FROM pg_authid WHERE rolname = ANY(:n)",
                       n=names),
            "members": q("SELECT g.rolname, m.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid "
                         "JOIN pg_roles m ON m.oid = a.member WHERE g.rolname = ANY(:n) OR m.rolname = ANY(:n)", n=names),
            "settings": q("SELECT s.setdatabase <> 0, COALESCE(r.rolname, ''), s.setconfig FROM pg_db_role_setting s "
                          "LEFT JOIN pg_roles r ON r.oid = s.setrole WHERE (s.setdatabase = 0 OR s.setdatabase = "
                          "(SELECT oid FROM pg_database WHERE datname = :d)) AND (s.setrole = 0 OR r.rolname = ANY(:n))",
                          d=database, n=names),
            "database": q("SELECT datname, datdba::regrole, datacl, datconnlimit FROM pg_database WHERE datname = :d",
                          d=database),
            "comments": q("SELECT description FROM pg_shdescription WHERE objoid IN "
                          "(SELECT oid FROM pg_database WHERE datname = :d UNION SELECT oid FROM pg_roles "
                          "WHERE rolname = ANY(:n))", d=database, n=names),
            "tablespaces": q("SELECT spcname, spcowner, spcoptions FROM pg_tablespace WHERE spcname = ANY(:n)", n=names),
            "system": q("SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'"),
        }


@pytest.fixture
def auto_conf(admin: sa.Engine) -> Iterator[None]:
    """``ALTER SYSTEM RESET geqo_seed`` after the test, unless postgresql.auto.conf had it before
    (a run on the old code writes it there)."""
    with admin.connect() as conn:
        had = conn.exec_driver_sql("SELECT 1 FROM pg_file_settings WHERE name = 'geqo_seed' "
                                   "AND sourcefile LIKE '%%postgresql.auto.conf'").first()
    yield
    if had is None:
        with admin.connect() as conn:
            conn.exec_driver_sql("ALTER SYSTEM RESET geqo_seed")


@pytest.fixture
def tablespace(admin: sa.Engine) -> Iterator[tuple[str, str]]:
    """A tablespace name and an empty directory the server's OS user owns; the tablespace (if a
    test or the old code made it) and the directory are removed afterwards."""
    name = f"rbtest_ts_{secrets.token_hex(4)}"
    path = Path(f"/tmp/{name}")
    path.mkdir(mode=0o700)
    owner = pwd.getpwnam("postgres")
    os.chown(path, owner.pw_uid, owner.pw_gid)
    yield name, str(path)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP TABLESPACE IF EXISTS {name}")
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def victim(pg_empty_url: str) -> Iterator[tuple[str, sa.Connection]]:
    """Another session of the target (the application's), by its application_name."""
    name = f"rbtest_victim_{secrets.token_hex(4)}"
    eng = sa.create_engine(open_target(pg_empty_url).url, poolclass=sa.pool.NullPool,
                           connect_args={"application_name": name})
    with eng.connect() as conn:
        yield name, conn
    eng.dispose()


def scratch_runs(url: str, folder: Path, tmp_path: Path) -> tuple[dict, "LintReport"]:
    """The rehearsal of ``folder`` on ``url`` and its ``lint --db`` replay."""
    result = rehearsed(url, folder, tmp_path)
    report = lint.lint(folder, target=open_target(url), dialect="postgresql")
    return result, report


def errors(report: "LintReport") -> list[str]:
    """The replay's errors (how lint judges the statements' risk is not this file's concern)."""
    replay = {"apply-failed", "rollback-failed", "rollback-mismatch", "left-on-server", "not-runnable"}
    return [f"{f.code}: {f.message}" for f in report.all_findings() if f.code in replay]


#: statements the scratch runs do not run, or run on the scratch database instead of the target's
#: (``{db}``: the target's database, ``{kept}``: a role the server has, ``{ts}``: its tablespace)
SKIPPED = {
    "alter-system": "ALTER SYSTEM SET geqo_seed = 0;\n",
    "alter-database-set": "ALTER DATABASE {db} SET work_mem = '3MB';\n",
    "alter-database-reset": "ALTER DATABASE {db} RESET ALL;\n",
    "alter-database-owner": "ALTER DATABASE {db} OWNER TO {kept};\n",
    "alter-database-with": "ALTER DATABASE {db} WITH CONNECTION LIMIT 50;\n",
    "grant-on-database": "GRANT CREATE ON DATABASE {db} TO {kept};\n",
    "comment-on-database": "COMMENT ON DATABASE {db} IS 'rbtest scratch';\n",
    "comment-on-role": "COMMENT ON ROLE {kept} IS 'rbtest scratch';\n",
    "alter-role-all-in-database": "ALTER ROLE ALL IN DATABASE {db} SET work_mem = '3MB';\n",
    "alter-role-rename": "ALTER ROLE {kept} RENAME TO {kept}_renamed;\n",
    "drop-tablespace": "DROP TABLESPACE {ts};\n",
    "alter-tablespace": "ALTER TABLESPACE {ts} SET (random_page_cost = 1.5);\n",
}


@pytest.mark.parametrize("kind", sorted(SKIPPED))
def test_server_wide_statements_leave_the_server_as_it_was(kind, pg_empty_url, admin, role_name, tablespace,
                                                          auto_conf, tmp_path):
    """Each kind, after a migration that made a table (the rehearsal restores it): the rehearsal
    and lint's replay pass, and neither the server nor the target changed (before, each of them
    changed the real server: the target's settings, owner, ACL or comment, a role, the
    tablespace, postgresql.auto.conf)."""
    kept = role_name("kept")
    database = open_target(pg_empty_url).url.database
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {kept} NOLOGIN")
        conn.exec_driver_sql(f"ALTER DATABASE {database} SET work_mem = '2MB'")  # one to RESET
        conn.exec_driver_sql(f"CREATE TABLESPACE {tablespace[0]} LOCATION '{tablespace[1]}'")
    sql = SKIPPED[kind].format(db=database, kept=kept, ts=tablespace[0])
    folder = folder_of(tmp_path, {"001_w.sql": HEAD + "CREATE TABLE w (id integer PRIMARY KEY);\n",
                                  "002_server.sql": HEAD + sql})
    target = open_target(pg_empty_url)
    assert migrate(target, folder, to="001", dialect="postgresql").passed
    target.dispose()
    names = [kept, f"{kept}_renamed", tablespace[0]]
    server, data = server_state(admin, database, names), db_state(pg_empty_url)
    try:
        result, report = scratch_runs(pg_empty_url, folder, tmp_path)
        assert result["passed"], result["error"]
        assert not errors(report), errors(report)
        assert server_state(admin, database, names) == server
        assert db_state(pg_empty_url) == data
    finally:  # undo what a scratch run on the old code did to the server
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER DATABASE {database} OWNER TO CURRENT_USER")
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {kept}_renamed")


def test_on_the_target_they_run_as_written_and_on_the_copy_in_its_own_database(pg_empty_url, admin, role_name,
                                                                               tmp_path):
    """``ALTER DATABASE <target> SET`` and ``COMMENT ON DATABASE <target>`` run on the rehearsal's
    copy in the copy's own database (its verify script, run there before the commit, sees them
    on ``current_database()``), not on the target; the real migration then changes the target."""
    database = open_target(pg_empty_url).url.database
    check = ("DO $$ BEGIN ASSERT (SELECT setconfig FROM pg_db_role_setting WHERE setrole = 0 AND setdatabase = "
             "(SELECT oid FROM pg_database WHERE datname = current_database())) = '{work_mem=3MB}', "
             "'the setting is not on this database'; END $$;\n")
    folder = folder_of(tmp_path, {"001_w.sql": HEAD + f"CREATE TABLE w (id integer PRIMARY KEY);\n"
                                                      f"ALTER DATABASE {database} SET work_mem = '3MB';\n"
                                                      f"COMMENT ON DATABASE {database} IS 'rbtest scratch';\n",
                                  "verify/001_verify_w.sql": check})
    server = server_state(admin, database, [])
    result, report = scratch_runs(pg_empty_url, folder, tmp_path)
    assert result["passed"], result["error"]
    assert not errors(report), errors(report)
    assert server_state(admin, database, []) == server
    assert migrate(open_target(pg_empty_url), folder, dialect="postgresql").passed
    after = server_state(admin, database, [])
    assert ("True", "", "['work_mem=3MB']") in after["settings"] and after["comments"] == [("rbtest scratch",)]


def test_the_notes_say_what_was_not_run_or_ran_on_the_scratch_database(pg_empty_url, admin, role_name, tmp_path):
    """On a scratch database the skipped statement's note says why, and a statement naming the
    target's database shows the SQL that ran instead."""
    kept = role_name("kept")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {kept} NOLOGIN")
    target = open_target(pg_empty_url)
    database = target.url.database
    folder = folder_of(tmp_path, {"001_w.sql": HEAD + f"ALTER DATABASE {database} SET work_mem = '3MB';\n"
                                                      f"COMMENT ON ROLE {kept} IS 'x';\n"})
    existing = target.kind.server_objects(target)
    with target.kind.scratch_database(target, "t") as scratch:
        result = migrate(scratch, folder, dialect="postgresql", server_objects=existing)
    assert result.passed, result.error
    first, second = result.migrations[0].statements
    assert first.sql == f"ALTER DATABASE {scratch.url.database} SET work_mem TO '3MB'"
    assert f"instead of {database}" in first.note
    assert second.note.startswith("not run on the scratch database: it changes role " + kept)


def test_renaming_the_targets_database_fails_on_the_copy_as_on_the_target(pg_empty_url, admin, tmp_path):
    """Run on the copy's own database, ``ALTER DATABASE <target> RENAME`` fails as it does on the
    target (PostgreSQL: the current database cannot be renamed); the target keeps its name."""
    database = open_target(pg_empty_url).url.database
    folder = folder_of(tmp_path, {"001_rename.sql": HEAD + f"ALTER DATABASE {database} RENAME TO {database}_gone;\n"})
    try:
        result, report = scratch_runs(pg_empty_url, folder, tmp_path)
        assert not result["passed"] and "current database cannot be renamed" in result["error"]
        assert [e.split(":")[0] for e in errors(report)] == ["apply-failed"]
        with admin.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT count(*) FROM pg_database WHERE datname IN ('{database}', "
                                        f"'{database}_gone')").scalar() == 1
    finally:  # what a scratch run on the old code did
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER DATABASE {database}_gone RENAME TO {database}" if conn.exec_driver_sql(
                f"SELECT 1 FROM pg_database WHERE datname = '{database}_gone'").first() else "SELECT 1")
    failed = migrate(open_target(pg_empty_url), folder, dialect="postgresql")
    assert "current database cannot be renamed" in failed.error


def test_create_tablespace_fails_the_scratch_runs_before_anything_runs(pg_empty_url, admin, tablespace, tmp_path):
    """A tablespace a scratch run made would be the real server's (and CREATE TABLESPACE is not
    undone by a rollback); skipping it would let the statements after it fail or pass unlike on
    the target. The rehearsal fails before running anything, naming the statement; lint says the
    replay could not check it. No tablespace is made."""
    name, path = tablespace
    folder = folder_of(tmp_path, {"001_ts.sql": HEAD + f"CREATE TABLESPACE {name} LOCATION '{path}';\n",
                                  "002_w.sql": HEAD + f"CREATE TABLE w (id integer) TABLESPACE {name};\n"})
    data = db_state(pg_empty_url)
    result, report = scratch_runs(pg_empty_url, folder, tmp_path)
    assert not result["passed"] and f"001_ts: statement 1 (line 3): CREATE TABLESPACE {name}" in result["error"]
    assert "administrator's script" in result["error"] and result["migrations"] == []
    unchecked = [f for f in report.all_findings() if f.code == "rollback-unchecked"]
    assert unchecked and "CREATE TABLESPACE" in unchecked[0].message
    assert server_state(admin, "", [name])["tablespaces"] == []
    assert db_state(pg_empty_url) == data


def test_server_functions_are_not_called_from_a_scratch_database(pg_empty_url, admin, victim, tmp_path):
    """``pg_terminate_backend`` of the application's session and ``pg_reload_conf`` act on the
    whole server and no rollback undoes them: a SELECT of them is skipped on the scratch runs
    (the session lives on, the configuration is not reloaded); a statement that calls one beside
    other work fails the rehearsal before anything runs."""
    name, session = victim
    kill = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{name}';\n"
    folder = folder_of(tmp_path, {"001_kill.sql": HEAD + kill + "SELECT pg_reload_conf();\n"
                                                         "CREATE TABLE w (id integer);\n"})

    def loaded() -> str:
        with admin.connect() as conn:  # a new session: the server's own load time
            return str(conn.exec_driver_sql("SELECT pg_conf_load_time()").scalar())

    before = loaded()
    result, report = scratch_runs(pg_empty_url, folder, tmp_path)
    assert result["passed"], result["error"]
    assert not errors(report), errors(report)
    time.sleep(0.5)  # a reload is signalled: give it time to show
    assert session.exec_driver_sql("SELECT 1").scalar() == 1
    assert loaded() == before
    (folder / "002_more.sql").write_text(HEAD + f"CREATE TABLE k AS {kill}")
    failed = rehearsed(pg_empty_url, folder, tmp_path)
    assert not failed["passed"] and "pg_terminate_backend()" in failed["error"]
    assert session.exec_driver_sql("SELECT 1").scalar() == 1


#: what a migration changes through code no parser reads (``EXECUTE``, a function's body), and
#: what the scratch runs must then say changed (``{kept}``/``{other}``: roles the server has)
HIDDEN = {
    "execute-alter-role": ("DO $$ BEGIN EXECUTE 'ALTER ROLE {kept} LOGIN CONNECTION LIMIT 3'; END $$;\n",
                           "role {kept} changed"),
    "execute-password": ("DO $$ BEGIN EXECUTE 'ALTER ROLE {kept} PASSWORD ''rbtest-secret'''; END $$;\n",
                         "role {kept} changed"),
    "execute-grant-role": ("DO $$ BEGIN EXECUTE 'GRANT {other} TO {kept}'; END $$;\n",
                           "membership of role {kept} in role {other} added"),
    "execute-drop-role": ("DO $$ BEGIN EXECUTE 'DROP ROLE {kept}'; END $$;\n", "role {kept} removed"),
    "execute-alter-database": ("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET work_mem = ''3MB''', "
                               "current_setting('rbtest.target')); END $$;\n", "settings of every role in database {db}"),
    "execute-comment-on-database": ("DO $$ BEGIN EXECUTE format('COMMENT ON DATABASE %I IS ''x''', "
                                    "current_setting('rbtest.target')); END $$;\n", "comment on database {db} added"),
    "execute-role-in-database": ("DO $$ BEGIN EXECUTE format('ALTER ROLE {kept} IN DATABASE %I SET work_mem = ''3MB''',"
                                 " current_setting('rbtest.target')); END $$;\n",
                                 "settings of role {kept} in database {db} added"),
    "function-body": ("CREATE FUNCTION rbtest_grant() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN "
                      "EXECUTE 'GRANT {other} TO {kept}'; END $f$;\nSELECT rbtest_grant();\n",
                      "membership of role {kept} in role {other} added"),
    "do-block-statement": ("DO $$ BEGIN ALTER ROLE {kept} CONNECTION LIMIT 4; END $$;\n", "role {kept} changed"),
}


@pytest.mark.parametrize("kind", sorted(HIDDEN))
def test_a_change_no_parser_sees_is_rolled_back_and_named(kind, pg_empty_url, admin, role_name, tmp_path):
    """Read from the shared catalogs in the migration's own transaction before its commit: the
    change is named, the transaction rolled back (the server is as it was), the rehearsal fails,
    lint's replay says the migration fails there. The target is untouched."""
    kept, other = role_name("kept"), role_name("other")
    database = open_target(pg_empty_url).url.database
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {kept} NOLOGIN")
        conn.exec_driver_sql(f"CREATE ROLE {other} NOLOGIN")
    sql, said = HIDDEN[kind]
    sql = f"SET rbtest.target = '{database}';\n" + sql.format(kept=kept, other=other)
    folder = folder_of(tmp_path, {"001_w.sql": HEAD + "CREATE TABLE w (id integer);\n",
                                  "002_hidden.sql": HEAD + sql + "CREATE TABLE after_it (id integer);\n"})
    target = open_target(pg_empty_url)
    assert migrate(target, folder, to="001", dialect="postgresql").passed
    target.dispose()
    server, data = server_state(admin, database, [kept, other]), db_state(pg_empty_url)
    result, report = scratch_runs(pg_empty_url, folder, tmp_path)
    said = said.format(kept=kept, other=other, db=database)
    assert not result["passed"] and said in result["error"] and "002_hidden" in result["error"]
    assert "rolled back" in result["error"]
    failed = [f for f in report.all_findings() if f.code == "apply-failed"]
    assert len(failed) == 1 and said in failed[0].message and failed[0].file.endswith("002_hidden.sql")
    assert server_state(admin, database, [kept, other]) == server
    assert db_state(pg_empty_url) == data


def test_roles_created_through_execute_or_a_function_are_dropped_after(pg_empty_url, admin, role_name, tmp_path):
    """A role created by a name built for ``EXECUTE``, or by a function's body, belongs to the
    scratch run like one created as written: with what it was granted, it is dropped after the
    rehearsal and lint's replay (before, it was left on the server and the real migration then
    failed: "already exists"); the real migration creates it."""
    app, fn, kept = role_name("app"), role_name("fn"), role_name("kept")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {kept} NOLOGIN")
    folder = folder_of(tmp_path, {
        "001_roles.sql": HEAD + f"DO $$ BEGIN EXECUTE format('CREATE ROLE %I', '{app}'); "
                                f"EXECUTE 'GRANT {kept} TO {app}'; END $$;\n"
                                f"CREATE FUNCTION rbtest_make() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN "
                                f"EXECUTE 'CREATE ROLE {fn}'; EXECUTE 'COMMENT ON ROLE {fn} IS ''x'''; END $f$;\n"
                                "SELECT rbtest_make();\nCREATE TABLE w (id integer);\n"})
    (folder / "rollbacks" / "001_rollback_roles.sql").write_text(
        f"DROP TABLE w;\nDROP FUNCTION rbtest_make();\nDROP ROLE {fn};\nDROP ROLE {app};\n")
    database = open_target(pg_empty_url).url.database
    server = server_state(admin, database, [app, fn, kept])
    result, report = scratch_runs(pg_empty_url, folder, tmp_path)
    assert result["passed"], result["error"]
    assert not errors(report), errors(report)
    assert report.migrations[0].rollback_check["status"] == "passed", report.migrations[0].rollback_check
    assert roles(admin, app, fn) == set()
    assert server_state(admin, database, [app, fn, kept]) == server
    assert migrate(open_target(pg_empty_url), folder, dialect="postgresql").passed  # no "already exists"
    assert roles(admin, app, fn) == {app, fn}


def test_what_other_sessions_change_meanwhile_is_theirs(pg_empty_url, admin, role_name, tmp_path):
    """The shared-catalog check counts only this transaction's changes: a role another session
    drops, creates or alters while a scratch migration's transaction is open is neither a
    failure nor taken for the scratch run's (it is not dropped after it)."""
    from runbook import migrations as mig
    from runbook.migrate import execute_script, prepare

    gone, made, kept = role_name("gone"), role_name("made"), role_name("kept")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {gone}")
        conn.exec_driver_sql(f"CREATE ROLE {kept}")
    folder = folder_of(tmp_path, {"001_w.sql": HEAD + "CREATE TABLE w (id integer);\n"})
    script = mig.discover(folder, "postgresql")[0].script
    target = open_target(pg_empty_url)
    with target.kind.scratch_database(target, "t") as scratch:
        with scratch.engine().connect() as conn, conn.begin():  # the server is read as it begins
            with admin.connect() as other:
                other.exec_driver_sql(f"DROP ROLE {gone}")
                other.exec_driver_sql(f"CREATE ROLE {made}")
                other.exec_driver_sql(f"ALTER ROLE {kept} LOGIN")
            execute_script(conn, prepare(script, scratch.kind), "001_w", "001")
    assert roles(admin, gone, made, kept) == {made, kept}


def test_verifys_replay_and_the_rollback_check_leave_the_server_as_it_was(pg_empty_url, admin, role_name, auto_conf,
                                                                          tmp_path):
    """The replays from empty (verify's expected schema, the rollback check: ``expected.replay``)
    go through the same statements: the server-wide ones are skipped or run on the scratch
    database, the rollback's too; one that changes the server through EXECUTE fails the replay
    (``MigrationFailed`` naming it), rolled back."""
    from runbook import expected
    from runbook import migrations as mig
    from runbook.errors import MigrationFailed

    kept = role_name("kept")
    database = open_target(pg_empty_url).url.database
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {kept} NOLOGIN")
    folder = folder_of(tmp_path, {
        "001_w.sql": HEAD + f"CREATE TABLE w (id integer);\nALTER DATABASE {database} SET work_mem = '3MB';\n"
                            f"COMMENT ON ROLE {kept} IS 'x';\nALTER ROLE ALL IN DATABASE {database} SET work_mem = '3MB';\n",
        "002_system.sql": HEAD + "ALTER SYSTEM SET geqo_seed = 0;\n"})
    (folder / "rollbacks" / "001_rollback_w.sql").write_text(f"DROP TABLE w;\nALTER DATABASE {database} RESET ALL;\n"
                                                             f"COMMENT ON ROLE {kept} IS NULL;\n")
    target = open_target(pg_empty_url)
    chosen = mig.discover(folder, "postgresql")
    server = server_state(admin, database, [kept])
    models = expected.replay(target, chosen, set(), undo=chosen[:1])
    assert "w" in models["end"]["tables"] and "w" not in models[expected.undone("001")]["tables"]
    assert server_state(admin, database, [kept]) == server
    (folder / "003_hidden.sql").write_text(HEAD + f"DO $$ BEGIN EXECUTE 'ALTER ROLE {kept} LOGIN'; END $$;\n")
    with pytest.raises(MigrationFailed, match=f"role {kept} changed"):
        expected.replay(target, mig.discover(folder, "postgresql"), set())
    assert server_state(admin, database, [kept]) == server
    target.dispose()


def test_a_runbook_role_without_superuser_is_watched_through_pg_roles(pg_empty_url, admin, role_name, tmp_path):
    """A runbook role that may create databases and roles but not read ``pg_authid``: the check
    reads ``pg_roles``. A role its statements create by name is the scratch run's (dropped
    after); a role changed or created through EXECUTE fails the migration, rolled back."""
    runner, made, kept, hidden = role_name("runner"), role_name("made"), role_name("kept"), role_name("hidden")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {runner} LOGIN CREATEDB CREATEROLE")
        conn.exec_driver_sql(f"CREATE ROLE {kept} NOLOGIN")
    url = open_target(pg_empty_url).url.set(username=runner).render_as_string(hide_password=False)
    target = open_target(url)
    database = target.url.database
    folder = folder_of(tmp_path, {"001_made.sql": HEAD + f"CREATE ROLE {made};\nCREATE TABLE w (id integer);\n"})
    with target.kind.scratch_database(target, "t") as scratch:
        assert migrate(scratch, folder, dialect="postgresql").passed
        assert roles(admin, made) == {made}
    assert roles(admin, made) == set()
    server = server_state(admin, database, [kept, hidden])
    for sql, said in ((f"EXECUTE 'ALTER ROLE {kept} CONNECTION LIMIT 3'", f"role {kept} changed"),
                      (f"EXECUTE 'CREATE ROLE {hidden}'", f"role {hidden} added")):
        (folder / "002_hidden.sql").write_text(HEAD + f"DO $$ BEGIN {sql}; END $$;\n")
        with target.kind.scratch_database(target, "t") as scratch:
            failed = migrate(scratch, folder, dialect="postgresql")
        assert said in failed.error and "002_hidden" in failed.error
        assert server_state(admin, database, [kept, hidden]) == server
    target.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP OWNED BY {runner}")
