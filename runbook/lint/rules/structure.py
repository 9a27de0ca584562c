"""The folder: file names, numbering, orphans (read before any SQL)."""

from ..registry import rule

BAD_NAME = rule("bad-name", "error",
                "a file breaks `{number}_{description}.sql` (or `NNN_rollback_description.sql` in `rollbacks/`, "
                "`NNN_verify_description.sql` in `verify/`), "
                "an unknown engine variant, a variant without its migration",
                "rename it `NNN_description.sql` (variants `NNN_description.postgresql.sql`); `runbook new` makes one",
                family=__name__)
DUPLICATE_NUMBER = rule("duplicate-number", "error", "two migrations (or two variants) with one number; only the first is linted",
                        "give the later one the next free number", family=__name__)
NUMBER_GAP = rule("number-gap", "warning", "numbers jump (001, 003): the file after the gap names the missing numbers",
                  "a history already deployed keeps its numbers (the runner applies them in order, a gap changes "
                  "nothing); otherwise add the missing migration or renumber", family=__name__)
ORPHAN_ROLLBACK = rule("orphan-rollback", "error", "a rollback for a migration that does not exist",
                       "delete it, or rename it after its migration's number", family=__name__)
