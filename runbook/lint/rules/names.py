"""Names: a table or column that does not exist at that point of the sequence."""

from ..registry import rule

UNKNOWN_NAME = rule("unknown-name", "error",
                    "an index, constraint, foreign key, trigger, ALTER/UPDATE/INSERT names a table or column that "
                    "does not exist at that point of the sequence (a warning when the schema is a static guess "
                    "that an unreadable statement may have changed)",
                    "create the table/column in an earlier migration, or fix the name", family=__name__)
