"""Replaying on a scratch database of the target's engine: migrations and rollbacks really run."""

from ..registry import rule

ROLLBACK_MISMATCH = rule("rollback-mismatch", "error",
                         "applying the migration and then its rollback does not give back the schema before it "
                         "(the differences are listed), or the migration cannot be applied again after its rollback",
                         "make the rollback undo every change of its migration (drop what it adds, restore what it drops)",
                         family=__name__)
ROLLBACK_FAILED = rule("rollback-failed", "error", "the rollback script fails right after its migration",
                       "run the rollback on a copy after its migration and fix the failing statement", family=__name__)
APPLY_FAILED = rule("apply-failed", "error",
                    "the migration fails on a scratch database built from the migrations before it; on PostgreSQL "
                    "also when, through code no parser reads (`EXECUTE`, a function's body), it changed the server "
                    "beyond the scratch database (a role, a membership, a database's settings or comment: each named; "
                    "its transaction rolled back, the server as it was)",
                    "fix the failing statement (the engine's message is given); a history that starts from an "
                    "existing database needs that schema as its 000: `runbook baseline --write` writes it; a "
                    "server-wide change belongs in an administrator's script, or in plain statements, which the "
                    "scratch runs leave to the target", family=__name__)
NOT_RUNNABLE = rule("not-runnable", "error",
                    "the runner would refuse the file (a `ROLLBACK` in it; a `CONCURRENTLY` statement beside others it cannot undo)",
                    "remove transaction control; put `CONCURRENTLY` alone in its own migration", family=__name__)
ROLLBACK_UNCHECKED = rule("rollback-unchecked", "warning",
                          "no scratch database could be made (e.g. no `CREATEDB` right on the server); or (PostgreSQL) "
                          "a migration cannot run on one without changing the real server and skipping it would lie "
                          "(`CREATE TABLESPACE` of a tablespace the server lacks; a whole-server function such as "
                          "`pg_terminate_backend` called beside other work): the replay stops there",
                          "grant CREATEDB to the linting role, or lint against a server where it has it; create the "
                          "tablespace by an administrator's script; call such a function in a `SELECT` of its own",
                          family=__name__)
LEFT_ON_SERVER = rule("left-on-server", "error",
                      "PostgreSQL only: the replay created a role on the server that could not be dropped after it "
                      "(it holds privileges on a database granted by SQL the replay did not run: a migration's own "
                      "grant on the target's database runs on the scratch database, one through `EXECUTE` is rolled "
                      "back); the real migration would find it there",
                      "drop the role by hand (`REVOKE` its privileges first); keep role creation out of migrations "
                      "or grant it nothing outside the migration's database",
                      family=__name__)
