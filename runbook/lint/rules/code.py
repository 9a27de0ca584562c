"""Code: rows written through functions, procedures, triggers and dynamic SQL, which no parser
reads. Statically, a call that may write (``may-write-through-code``); on the replay, what the
engine's own counters say a statement wrote beyond the tables it names (``wrote-through-code``)."""

from ..registry import rule

MAY_WRITE_THROUGH_CODE = rule(
    "may-write-through-code", "warning",
    "PostgreSQL only: a statement calls a function the project defines (in this or an earlier migration, or "
    "in the database) and does not declare `STABLE`/`IMMUTABLE`, `CALL`s a procedure, or is a `DO` block that "
    "runs `EXECUTE`/`CALL`: it may write rows through code no parser can read, so it counts as Category 3 "
    "(a data migration, as when the header declares the writes; lint cannot tell it is not) unless the header "
    "says what it writes. The engine's own functions (`nextval`, `setval`, `set_config`, `pg_catalog.*`, ...) "
    "are not flagged",
    "declare what the code writes in the header: `-- Writes: t1, t2 (by fill())` (a data migration: HIGH), or "
    "`-- Writes: none` when it writes no row (the statement keeps its own category; `lint --db` holds it to "
    "that); a function that only reads can instead be declared `STABLE` (PostgreSQL then refuses a write in it)",
    family=__name__)
WROTE_THROUGH_CODE = rule(
    "wrote-through-code", "error",
    "replayed on a scratch database, a statement wrote rows of an existing table it does not name (the "
    "engine's own count: PostgreSQL's per-transaction write counters, SQLite's `total_changes()` and the "
    "tables its program opens for writing): through a function, a procedure, `EXECUTE`, or a trigger or "
    "foreign-key action it fired; the header does not declare it, so the migration is Category 3 and the "
    "rehearsal would fail on it. Only the rows the replay's database holds (what earlier migrations inserted) "
    "can be written there",
    "name the tables in the header: `-- Writes: t1, t2 (by fill())`, and declare HIGH; or stop the code "
    "writing them", family=__name__)
