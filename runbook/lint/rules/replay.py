"""Replaying on a scratch database of the target's engine: migrations and rollbacks really run."""

from ..registry import rule

ROLLBACK_MISMATCH = rule("rollback-mismatch", "error",
                         "applying the migration and then its rollback does not give back the schema before it "
                         "(the differences are listed), or the migration cannot be applied again after its rollback",
                         "make the rollback undo every change of its migration (drop what it adds, restore what it drops)",
                         family=__name__)
ROLLBACK_FAILED = rule("rollback-failed", "error", "the rollback script fails right after its migration",
                       "run the rollback on a copy after its migration and fix the failing statement", family=__name__)
APPLY_FAILED = rule("apply-failed", "error", "the migration fails on a scratch database built from the migrations before it",
                    "fix the failing statement (the engine's message is given); a history that starts from an "
                    "existing database needs that schema as its 000: `runbook baseline --write` writes it", family=__name__)
NOT_RUNNABLE = rule("not-runnable", "error",
                    "the runner would refuse the file (a `ROLLBACK` in it; a `CONCURRENTLY` statement not alone)",
                    "remove transaction control; put `CONCURRENTLY` alone in its own migration", family=__name__)
ROLLBACK_UNCHECKED = rule("rollback-unchecked", "warning",
                          "no scratch database could be made (e.g. no `CREATEDB` right on the server)",
                          "grant CREATEDB to the linting role, or lint against a server where it has it",
                          family=__name__)
LEFT_ON_SERVER = rule("left-on-server", "error",
                      "PostgreSQL only: the replay created a role on the server that could not be dropped after it "
                      "(it holds privileges on a database, say); the real migration would find it there",
                      "drop the role by hand (`REVOKE` its privileges first); keep role creation out of migrations "
                      "or grant it nothing outside the migration's database",
                      family=__name__)
