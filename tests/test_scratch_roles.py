"""Roles belong to the whole PostgreSQL server, not to a database: the scratch runs (the rehearsal's
copy, the expected-schema replay, lint's replay) drop the roles their migrations created, and only
those, so the real migration can create them; one they cannot drop is said, by name."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from runbook import backup, expected, lint, rehearsal
from runbook import migrations as mig
from runbook.errors import LeftOnServer
from runbook.migrate import migrate
from runbook.target import open_target
from test_lint_rules import folder as folder_of

pytestmark = pytest.mark.postgres

HEAD = "-- Migration: m\n-- Risk Level: LOW\n"


@pytest.fixture
def admin(pg_server: sa.URL) -> Iterator[sa.Engine]:
    eng = sa.create_engine(pg_server, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    yield eng
    eng.dispose()


@pytest.fixture
def role_name(admin: sa.Engine) -> Iterator[callable]:
    """Unique role names (``rbtest_<what>_<random>``), each dropped after the test with its
    privileges on shared objects (databases)."""
    made: list[str] = []

    def name(what: str) -> str:
        made.append(f"rbtest_{what}_{secrets.token_hex(4)}")
        return made[-1]

    yield name
    with admin.connect() as conn:
        for r in made:
            if roles(admin, r):
                conn.exec_driver_sql(f'DROP OWNED BY "{r}"')
                conn.exec_driver_sql(f'DROP ROLE "{r}"')


def roles(admin: sa.Engine, *names: str) -> set[str]:
    with admin.connect() as conn:
        return set(conn.execute(sa.text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:n)"),
                                {"n": list(names)}).scalars())


def rehearsed(url: str, folder: Path, tmp_path: Path) -> dict:
    """A rehearsal on a backup of its own (two in one second would share the backup's file name)."""
    import tempfile

    target = open_target(url)
    backups = Path(tempfile.mkdtemp(prefix="backups-", dir=tmp_path))
    return rehearsal.rehearse(target, backup.take(target, backups), folder, dialect="postgresql")


def test_the_rehearsal_drops_the_role_it_created_and_the_real_migration_creates_it(
        pg_empty_url, admin, role_name, tmp_path):
    app = role_name("app")
    folder = folder_of(tmp_path, {"001_app.sql": HEAD + f"CREATE ROLE {app} NOLOGIN PASSWORD 's3cret-pw';\n"
                                                        "CREATE TABLE widgets (id integer PRIMARY KEY);\n"})
    result = rehearsed(pg_empty_url, folder, tmp_path)
    assert result["passed"], result["error"]
    assert roles(admin, app) == set()  # on main: left on the server
    assert migrate(open_target(pg_empty_url), folder, dialect="postgresql").passed  # no "already exists"
    assert roles(admin, app) == {app}


def test_a_failed_rehearsal_drops_the_role_too(pg_empty_url, admin, role_name, tmp_path):
    app = role_name("app")
    folder = folder_of(tmp_path, {"001_app.sql": HEAD + f"CREATE ROLE {app};\n",
                                  "002_broken.sql": HEAD + "ALTER TABLE no_such_table ADD COLUMN x text;\n"})
    result = rehearsed(pg_empty_url, folder, tmp_path)
    assert result["passed"] is False and "002_broken" in result["error"]
    assert roles(admin, app) == set()


def test_roles_that_existed_or_that_the_scripts_do_not_name_are_kept(pg_empty_url, admin, role_name, tmp_path):
    """A role named by the scripts that was there before (a DO block creates it only if missing) is
    not the rehearsal's; nor one another administrator creates meanwhile. A role the DO block
    does create is dropped."""
    kept, made, meanwhile = role_name("kept"), role_name("made"), role_name("other")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {kept}")
    guarded = ("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{r}') THEN CREATE ROLE {r}; "
               "END IF; END $$;\n")
    folder = folder_of(tmp_path, {
        "001_roles.sql": HEAD + guarded.format(r=kept) + guarded.format(r=made)
        + f"CREATE TABLE t (id integer PRIMARY KEY);\nGRANT SELECT ON t TO {kept};\n",
        "002_meanwhile.sql": HEAD + "SELECT 1;\n"})
    target = open_target(pg_empty_url)
    with target.kind.scratch_database(target, "t") as scratch:
        assert migrate(scratch, folder, to="001", dialect="postgresql").passed
        assert roles(admin, kept, made) == {kept, made}
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {meanwhile}")
        assert migrate(scratch, folder, dialect="postgresql").passed
    assert roles(admin, kept, made, meanwhile) == {kept, meanwhile}
    result = rehearsed(pg_empty_url, folder, tmp_path)  # the same through the rehearsal
    assert result["passed"], result["error"]
    assert roles(admin, kept, made, meanwhile) == {kept, meanwhile}


def test_the_expected_schema_replay_drops_the_role(pg_empty_url, admin, role_name, tmp_path):
    app = role_name("app")
    folder = folder_of(tmp_path, {"001_app.sql": HEAD + f"CREATE USER {app};\nCREATE TABLE w (id integer);\n"})
    models = expected.replay(open_target(pg_empty_url), mig.discover(folder, "postgresql"), set())
    assert "public.w" in models["end"]["tables"] or "w" in models["end"]["tables"]
    assert roles(admin, app) == set()


def test_lints_replay_drops_the_role_and_warns_of_server_wide_statements(pg_empty_url, admin, role_name, tmp_path):
    app, other = role_name("app"), role_name("other")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {other}")
    folder = folder_of(tmp_path, {"001_app.sql": HEAD + f"CREATE GROUP {app};\nGRANT {other} TO {app};\n"})
    (folder / "rollbacks" / "001_rollback_app.sql").write_text(f"DROP ROLE {app};\n")
    report = lint.lint(folder, target=open_target(pg_empty_url), dialect="postgresql")
    assert roles(admin, app) == set()
    assert report.migrations[0].rollback_check["status"] == "passed", report.migrations[0].rollback_check
    wide = [f for f in report.all_findings() if f.code == "cluster-wide"]
    assert [(f.line, f.level) for f in wide] == [(3, "warning"), (4, "warning")]
    assert "GRANT/REVOKE role membership" in wide[1].message and "real server" in wide[1].message
    assert not [f for f in report.all_findings() if f.level == "error"]


def test_a_role_that_cannot_be_dropped_is_named_without_its_password(pg_empty_url, admin, role_name, tmp_path):
    """A privilege on a database (a shared object) outlives the scratch database: the role cannot
    be dropped, and the scratch run fails naming it (its password never shown). A migration's
    own GRANT on the target's database runs on the scratch database instead, and one through
    EXECUTE is rolled back (``test_scratch_server_wide``): only SQL run there by other means can
    leave such a role."""
    app = role_name("app")
    database = open_target(pg_empty_url).url.database
    target = open_target(pg_empty_url)
    with pytest.raises(LeftOnServer, match=app) as raised:
        with target.kind.scratch_database(target, "t") as scratch:
            with scratch.engine().begin() as conn:
                conn.exec_driver_sql(f"CREATE ROLE {app} PASSWORD 'hunter2-secret'; "
                                     f"GRANT CONNECT ON DATABASE {database} TO {app}")
    assert raised.value.roles == [app] and "drop them by hand" in str(raised.value)
    assert "hunter2" not in str(raised.value)
    assert roles(admin, app) == {app}


def test_replays_from_empty_leave_the_servers_existing_roles_alone(pg_empty_url, admin, role_name, tmp_path):
    """After the real migration made a role, a replay from empty (verify's expected schema, the
    rollback check, lint's replay) neither creates it again (it would fail: "already exists", and
    verify lost its schema check, lint reported apply-failed) nor runs the rollback's DROP ROLE
    (which would drop the real server's role)."""
    app = role_name("app")
    folder = folder_of(tmp_path, {"001_app.sql": HEAD + f"CREATE ROLE {app} NOLOGIN;\nCREATE TABLE w (id integer);\n"})
    (folder / "rollbacks" / "001_rollback_app.sql").write_text(f"DROP TABLE w;\nDROP ROLE {app};\n")
    target = open_target(pg_empty_url)
    assert migrate(target, folder, dialect="postgresql").passed and roles(admin, app) == {app}
    chosen = mig.discover(folder, "postgresql")
    models = expected.replay(target, chosen, set(), undo=chosen)
    assert "w" in models["end"]["tables"] and "w" not in models[expected.undone("001")]["tables"]
    assert roles(admin, app) == {app}
    report = lint.lint(folder, target=target, dialect="postgresql")
    assert not [f for f in report.all_findings() if f.level == "error"], [f.message for f in report.all_findings()]
    assert roles(admin, app) == {app}
    target.dispose()


def test_the_rehearsal_does_not_alter_or_drop_the_servers_roles(pg_empty_url, admin, role_name, tmp_path):
    """A pending migration that alters and then drops a role the server has: its rehearsal does
    not run those statements (they would change the real server before the target's migration,
    even when the rehearsal then fails); the target's migration does. One that creates a role the
    server already has still fails its rehearsal, as it will fail on the target."""
    app, twice = role_name("app"), role_name("twice")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {app} NOLOGIN")
        conn.exec_driver_sql(f"CREATE ROLE {twice} NOLOGIN")
    folder = folder_of(tmp_path, {"001_w.sql": HEAD + "CREATE TABLE w (id integer);\n",
                                  "002_app.sql": HEAD + f"ALTER ROLE {app} LOGIN;\nDROP ROLE {app};\n"})
    target = open_target(pg_empty_url)
    assert migrate(target, folder, to="001", dialect="postgresql").passed
    result = rehearsed(pg_empty_url, folder, tmp_path)
    assert result["passed"], result["error"]
    assert roles(admin, app) == {app}  # untouched by the rehearsal
    with admin.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{app}'").scalar() is False
    assert migrate(target, folder, dialect="postgresql").passed and roles(admin, app) == set()
    (folder / "003_twice.sql").write_text(HEAD + f"CREATE ROLE {twice};\n")
    failed = rehearsed(pg_empty_url, folder, tmp_path)
    assert not failed["passed"] and "already exists" in failed["error"]
    assert roles(admin, twice) == {twice}
    target.dispose()
