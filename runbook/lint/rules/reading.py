"""Reading the SQL: what the engine's own parser cannot read, what lint cannot classify, empty files."""

from ..registry import rule

UNPARSABLE = rule("unparsable", "error",
                  "the engine's own parser (pglast for PostgreSQL; SQLite itself, asked with EXPLAIN) cannot parse a "
                  "statement or the file; counted as Category 3; a statement SQLite refuses and PostgreSQL's parser "
                  "reads is said to be so (a PostgreSQL history read in the default dialect)",
                  "fix the syntax (the statement would fail on the engine), or give the project's dialect",
                  family=__name__)
UNCLASSIFIED = rule("unclassified", "warning",
                    "a statement lint parses but has no rule for (e.g. `DO $$ ... $$`); counted as Category 3",
                    "declare HIGH, or move the work into statements lint knows", family=__name__)
EMPTY = rule("empty", "warning", "nothing to run (a fresh `runbook new` scaffold)",
             "write the statements, or delete the file", family=__name__)
