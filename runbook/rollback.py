"""The guide's "Rollback Procedures": back to an earlier version by rollback scripts, or by
restoring a backup; then check the database against the pre-migration snapshot.

``rollback_to(target, folder, version)`` runs the rollback scripts of the migrations applied
above ``version``, newest first, all in one transaction: each step's script, its data check
(``RollbackWatch``, counts before and after that step inside the shared transaction), the
deletion of its history row and its ``revert`` event. A rollback happens whole or not at all: a
step that fails (a statement the target refuses, its data check) rolls the whole transaction
back, so the database is exactly as it was before the rollback (schema, rows, history, event
log), and the result names the step that failed and says that nothing was rolled back (a real
history: lemmy 230 -> 213, whose 213 rollback failed on the target after the later ones had run).

One exception, said before anything runs: a rollback script holding a statement the engine
refuses inside a transaction (PostgreSQL's ``DROP INDEX CONCURRENTLY``; alone in its script,
as in a migration) cannot share it. That step runs alone in autocommit, its history row removed
right after (as ``migrate.run_in_transaction`` runs it), and the steps before and after it form
a transaction each (``parts``). A failure then rolls back its own part only; the parts before it
stay committed. The result's ``notice`` (also emitted as progress before the first statement)
names the parts and ``may_stop_at`` the versions the database can be left at.

Everything that could refuse is checked before anything runs (``BadInput``, nothing touched):

- ``version`` must be an applied version, or ``"none"`` (also ``-1``): below every applied
  migration, i.e. the state of a database with no applied version (``Status.current`` None);
- a version above the current one is refused (that is ``migrate``'s job);
- every migration to undo needs its rollback script (``rollbacks/NNN_rollback_*.sql``); only
  those it crosses: a migration below ``version`` without one blocks nothing. An empty or
  comment-only rollback script is a declared no-op rollback (nothing runs, the history row goes),
  and a migration recorded as a no-op needs no script;
- the history must match the folder (no drift, no unknown versions), as for ``migrate``;
- each rollback script to run must undo its migration: ``check_scripts`` runs them on a scratch
  replay of the applied migrations and compares the schema after each with the one the
  migrations below it give (an empty rollback of a ``CREATE TABLE`` leaves the table: refused).

The baseline (``000``) is special. An *adopted* baseline (its tables existed before the runbook;
history note ``adopted: ...``) is never rolled back: going to ``"none"`` only removes its history
row. A baseline the runbook really applied is rolled back by its script only while its tables
are empty (otherwise ``BadInput``: that script deletes every row; restore a backup instead).
Going to ``"none"`` also drops the ``schema_history`` table when that leaves it empty, so a
database whose baseline was adopted in a failed run ends up exactly as it was before the run
(no history table).

After the scripts ran, the verify scripts (``verify/NNN_verify_*.sql``) of the migrations still
applied run as checks (``verify script NNN_name``) in the result's ``checks``, in a transaction
that is rolled back (``migrate.verify_script_checks``); after a restore, those of the migrations
the restored database's history holds (``verify_restored``).

``restore_backup(target, path, confirm=True)`` overwrites the target with a backup, after
checking the file against its record. ``check_restored(target, snapshot)`` compares the result
with the pre-migration inventory; ``compare_after(...)`` picks that inventory (the one given, this
run's, else the latest inventory of the target at the version rolled back to in the reports
folder) and says which it used.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import sqlalchemy as sa

from . import backup, effects, faults, inventory, progress, schema
from . import migrations as mig
from .checks import check
from .errors import ROLLED_BACK, BadInput, MigrationFailed
from .owner import is_dead_owner, owner_tag
from .engines.base import WRITE_TRANSACTION, stored_default
from .migrate import (PreparedStatement, check_folder, is_no_op, prepare, run_in_transaction, run_watched,
                      verify_script_checks)

if TYPE_CHECKING:
    from .target import Target

NONE = "none"


# -- which version --------------------------------------------------------------------------
def parse_version(version: str | int | None) -> str | None:
    """``"NNN"`` for a migration number, ``None`` for ``"none"``/``-1`` (no applied version)."""
    if version is None:
        raise BadInput("no version to roll back to: give a migration number, or 'none' for below the baseline")
    text = str(version).strip()
    if text.lower() in (NONE, "-1"):
        return None
    try:
        number = int(text)
    except ValueError:
        raise BadInput(f"rollback target must be a migration number or 'none', got {text!r}") from None
    if number < 0:
        raise BadInput(f"rollback target must be a migration number or 'none', got {text!r}")
    return f"{number:03d}"


def version_in(snapshot: dict[str, Any] | None) -> str:
    """The version a pre-migration inventory recorded (``"none"`` when nothing was applied)."""
    if not snapshot or "migrations" not in snapshot:
        raise BadInput("no rollback version given and no pre-migration inventory to take it from: "
                       "run 01_inventory.ipynb first, or set rollback_to")
    return (snapshot["migrations"] or {}).get("current") or NONE


def resolve_version(explicit: str | int | None, snapshot: dict[str, Any] | None) -> str | int:
    """The version to roll back to: ``explicit`` when given, else the one before the run."""
    return explicit if explicit is not None else version_in(snapshot)


# -- rollback scripts -----------------------------------------------------------------------
@dataclass
class _Step:
    applied: mig.Applied
    migration: mig.Migration
    prepared: list[PreparedStatement] | None  # None: remove the adoption row only

    @property
    def label(self) -> str:
        return self.migration.label


def plan(conn: sa.Connection, migrations: list[mig.Migration], target: "Target",
         version: str | int | None) -> tuple[mig.Status, str | None, list[_Step]]:
    """What ``rollback_to`` would do, newest first; ``BadInput`` for anything it would refuse."""
    kind = target.kind
    wanted = parse_version(version)
    status = check_folder(conn, migrations, kind)
    done = {a.version for a in status.applied}
    current = status.current
    if wanted is not None and wanted not in done:
        if int(wanted) == 0:  # "0" read as "everything": that is "none"
            there = "is not applied" if any(m.number == 0 for m in migrations) else "is no version 000 in the folder"
            raise BadInput(f"cannot roll back to {wanted}: there {there}; to roll back every applied migration "
                           f"({', '.join(sorted(done)) or 'none'}), use --to none (notebook: rollback_to = 'none')")
        if current is None or int(wanted) > int(current):
            raise BadInput(f"cannot roll back to {wanted}: it is above the current version "
                           f"{current or 'none'} (use migrate to go up)")
        raise BadInput(f"cannot roll back to {wanted}: it is not an applied version "
                       f"(applied: {', '.join(sorted(done)) or 'none'})")
    by_version = {m.version: m for m in migrations}
    undo = sorted((a for a in status.applied if wanted is None or int(a.version) > int(wanted)),
                  key=lambda a: int(a.version), reverse=True)
    steps, missing = [], []
    for a in undo:
        m = by_version[a.version]
        if a.adopted:
            steps.append(_Step(a, m, None))
        elif m.rollback is None and a.note == mig.NO_OP_NOTE:
            steps.append(_Step(a, m, []))  # it changed nothing: only its history row goes
        elif m.rollback is None:
            missing.append(m.label)
        else:
            steps.append(_Step(a, m, prepare(m.rollback, kind)))
    if missing:
        raise BadInput(f"no rollback script for {', '.join(missing)}, which rolling back to {wanted or NONE} must "
                       "cross (expected rollbacks/NNN_rollback_<name>.sql in the migrations folder); "
                       "nothing was rolled back")
    for step in steps:
        if step.prepared is not None and step.migration.number == 0:
            tables = mig.baseline_tables(step.migration, kind) & set(kind.table_names(conn))
            full = {t: n for t in sorted(tables) if (n := inventory.count_rows(conn, t))}
            if full:
                rows = ", ".join(f"{t}: {n}" for t, n in full.items())
                raise BadInput(f"refusing to roll back the baseline {step.label}: its rollback drops tables that "
                               f"hold rows ({rows}); restore a backup instead. Nothing was rolled back")
    return status, wanted, steps


# -- what the scripts give, checked before they run ------------------------------------------
def _undo_problem(d: "schema.Difference", label: str) -> str:
    """One difference between the schema a rollback script left (on the scratch replay) and the
    one the migrations below it give, said as what the script did or did not do."""
    if d.kind == "added":
        return f"{d.obj} is still there: {label}'s rollback did not drop it"
    if d.kind == "missing":
        return f"{d.obj} is gone: {label}'s rollback dropped it and the migrations below it give it"
    if d.a is None:
        return f"{d.obj} {d.field} differs after {label}'s rollback from what the migrations below it give"
    return f"{d.obj} {d.field} is {d.b} after {label}'s rollback; the migrations below it give {d.a}"


def check_scripts(target: "Target", migrations: list[mig.Migration], status: mig.Status, steps: list[_Step],
                  wanted: str | None, run_dir: str | Path | None = None) -> dict[str, Any]:
    """Before anything runs on the target: replay the applied migrations on an empty scratch
    database of its engine (``expected.replay``, cached), run there the rollback scripts
    ``steps`` will run, newest first, and compare the schema after each with the schema the
    migrations below it give. ``BadInput`` (nothing rolled back) naming each difference: a
    rollback that does not undo its migration (an empty script of a migration that created a
    table leaves the table). An adoption row's removal changes no schema and is not replayed.

    Returns ``{"status": "passed"|"skipped"|"none", "detail", "version", "schema", "declared_by"}``:
    ``schema`` the schema the migrations up to the version rolled back to give (``None`` when
    skipped), ``declared_by`` object (``schema.object_keys``) → the rolled-back migration that
    declared it and is gone at that version, for ``compare_after``. Skipped, with the reason,
    when the migrations cannot be replayed from empty (no scratch database; a migration that
    relies on objects no migration declares), or a script fails on the replay of a database the
    migrations did not create from empty (it may rely on such objects too): then the target's
    rollback runs unchecked here and is compared after (``compare_after``)."""
    from . import expected as exp_
    from .errors import RunFailed

    run = [s for s in steps if s.prepared is not None]  # adoption rows: no schema changes
    out: dict[str, Any] = {"status": "none", "detail": "no rollback script to run", "version": None,
                           "schema": None, "declared_by": {}}
    if not run:
        return out
    by_version = {m.version: m for m in migrations}
    chosen = [by_version[a.version] for a in status.applied]
    versions = [s.migration.version for s in steps]
    landing = {v: (versions[i + 1] if i + 1 < len(versions) else wanted or exp_.NOTHING)
               for i, v in enumerate(versions)}
    undo = [s.migration for s in run]
    try:
        models, _, where = exp_.replayed(target, chosen, {landing[m.version] for m in undo}, run_dir, undo)
    except MigrationFailed as exc:
        return out | {"status": "skipped", "detail": (
            f"the applied migrations cannot be replayed on an empty scratch database (migration {exc.version} "
            f"statement {exc.statement_no}, line {exc.line}: {exc.cause}), so the rollback scripts were not checked "
            "before running")}
    except (RunFailed, BadInput) as exc:
        return out | {"status": "skipped", "detail": f"no replay to check the rollback scripts on: {exc}"}
    from_empty = bool(chosen) and chosen[0].number == 0 and not status.applied[0].adopted
    problems: list[str] = []
    inherited: set["schema.Difference"] = set()  # what the scripts before this one left wrong, as it stands now
    for m in undo:
        after = models.get(exp_.undone(m.version))
        if after is None or "error" in after:
            failure = (after or {}).get("error", "not run")
            if not from_empty:
                return out | {"status": "skipped", "detail": (
                    f"{m.label}'s rollback fails on the replayed migrations ({failure}); the database was not "
                    "created by the migrations from empty and may hold what it needs, so the rollback scripts were "
                    "not checked before running")}
            problems.append(f"{m.label}'s rollback fails right after the migrations up to it: {failure}")
            break
        found = schema.differences(models[landing[m.version]], after)
        problems += [_undo_problem(d, m.label) for d in found if d not in inherited]  # each blamed on its own script
        inherited = set(found)
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise BadInput(f"refusing to roll back to {wanted or NONE}: replayed on a scratch database, the rollback "
                       f"scripts do not give the schema the migrations up to {wanted or NONE} give: {shown} "
                       "(runbook lint reports it as rollback-mismatch; fix the rollback script, or restore a "
                       "backup instead). Nothing was rolled back")
    final = models[landing[undo[-1].version]]
    declared_by: dict[str, str] = {}
    for i, m in enumerate(undo):  # newest first: the oldest migration that had an object names it
        then = models["end"] if i == 0 else models[landing[undo[i - 1].version]]
        declared_by |= dict.fromkeys(schema.object_keys(then) - schema.object_keys(final), m.label)
    return {"status": "passed", "version": landing[undo[-1].version], "schema": final, "declared_by": declared_by,
            "detail": ("run on a scratch database after the applied migrations, each rollback script gives the schema "
                       f"the migrations below it give (models kept in {where})")}


# -- values a rollback would drop ------------------------------------------------------------
def new_data(conn: sa.Connection, target: "Target", declared: effects.Declared, written: dict[str, Any] | None,
             later: dict[tuple[str, str | None], int] | None = None, gone: set[str] | None = None,
             created: set[str] | None = None) -> list[dict[str, Any]]:
    """What a rollback script (``declared``: its statements' effects) would drop that holds
    values: for each column it drops, the values neither NULL nor the column's constant default
    (``effects.written_values``); for each table it drops (re-created under its name or not, as
    long as none of its rows are copied into the new one: ``effects.declare``), its rows.
    ``written`` (the migration's ``effects.DataWatch`` report, when this run applied it) gives the
    count at the migration's commit, ``later`` what later migrations rolled back in the same go
    wrote there ((table, column) → rows changed, (table, None) → rows added): only values beyond
    both were written since (by the application). ``gone``: tables the rollback scripts of those
    later migrations drop, named there; what they hold when this script runs is what those
    scripts left. ``created``: the tables the migration created (``None``: not known); a table
    it drops that the migration did not create existed before it, so its rows are not all written
    since: it is named as ``kind`` ``"existed before"`` (every row it holds, ``written_since``
    None), the rest as ``"written since"``. Generated columns hold nothing of their own."""
    kind = target.kind
    insp = sa.inspect(conn)
    present = set(kind.table_names(conn))
    if kind.names_ignore_case:  # ``DROP TABLE book`` drops SQLite's ``BOOK``: named as the catalog spells it
        declared.spell_as(present)
    at_commit_cols = {(t["now"], c): n for t in (written or {}).get("tables", [])
                      for c, n in t.get("new_columns", {}).items()}
    at_commit_rows = (written or {}).get("created_rows", {})
    found = []
    for e in declared.existing():
        if e.table not in present or e.table in (gone or set()):
            continue
        if e.now is None:
            rows = inventory.count_rows(conn, e.table)
            if created is not None and e.table not in created and e.table not in at_commit_rows:
                found.append({"table": e.table, "column": None, "values": rows, "at_commit": None,
                              "kind": "existed before"})
                continue
            at_commit = at_commit_rows.get(e.table)
            if at_commit is not None:
                at_commit += (later or {}).get((e.table, None), 0)
            found.append({"table": e.table, "column": None, "values": rows, "at_commit": at_commit})
            continue
        columns = kind.columns(insp, e.table)
        defaults = {c["name"]: c.get("default") for c in columns if not c.get("computed")}
        dropped = [c for c in e.dropped_columns if c in defaults]
        for col, n in effects.written_values(conn, kind, e.table, dropped, defaults).items():
            at_commit = at_commit_cols.get((e.table, col))
            if at_commit is not None:
                at_commit += (later or {}).get((e.table, col), 0)
            found.append({"table": e.table, "column": col, "at_commit": at_commit, "values": n})
    for f in found:
        if f.get("kind") == "existed before":
            f["written_since"] = None
            continue
        f["kind"] = "written since"
        f["written_since"] = max(f["values"] - (f["at_commit"] or 0), 0) if f["at_commit"] is not None else f["values"]
    return [f for f in found if f["written_since"] or (f["kind"] == "existed before" and f["values"])]


def created_by(step: "_Step", engine: Any, record: dict[str, Any] | None) -> set[str] | None:
    """The tables (names after it) the migration of ``step`` created: those its statements create
    and, in its record (``effects.DataWatch``), those the engine's catalog showed new. ``None``
    when not known: a statement the parser cannot read may have created one and no record of
    the engine's catalog says which."""
    declared = effects.declare_prepared(prepare(step.migration.script, engine), engine)
    if declared.notes and not (record or {}).get("catalog"):
        return None
    return set(declared.created) | set((record or {}).get("created_rows") or {})


def _held(f: dict[str, Any]) -> str:
    where = f"{f['table']}.{f['column']}" if f["column"] else f"table {f['table']}"
    what = "values" if f["column"] else "rows"
    if f["kind"] == "existed before":
        return f"{where} holds {f['values']} rows and existed before the migration (it did not create it)"
    since = (f" ({f['at_commit']} written by the migrations, so {f['written_since']} written since)"
             if f["at_commit"] is not None else "")
    return f"{where} holds {f['values']} {what}{since}"


def guard_new_data(conn: sa.Connection, target: "Target", steps: list[_Step], *, discard: bool,
                   written: dict[str, dict[str, Any]] | None, discard_old: bool = False) -> list[dict[str, Any]]:
    """Refuse (``BadInput``, nothing rolled back) when a rollback script would drop values written
    after its migration, unless ``discard``, or a table its migration did not create (it existed
    before: its rows from before the migration go with it, and which of them were written since
    is not known), unless ``discard_old``; returns what will be dropped, named and counted."""
    held = []
    later: dict[tuple[str, str | None], int] = {}  # what the migrations rolled back before this one wrote:
    # (table, column) → rows changed there, (table, None) → rows added
    gone: set[str] = set()  # tables the rollback scripts before this one drop
    for step in steps:  # newest first
        if step.prepared is None:
            continue
        record = (written or {}).get(step.migration.version)
        declared = effects.declare_prepared(step.prepared, target.kind)
        created = created_by(step, target.kind, record)
        for f in new_data(conn, target, declared, record, later, gone, created):
            held.append(f | {"migration": step.label})
        gone |= {e.table for e in declared.existing() if e.now is None}
        for t in (record or {}).get("tables", []):
            for col, n in (t.get("changed_columns") or {}).items():
                later[(t["now"], col)] = later.get((t["now"], col), 0) + n
            later[(t["now"], None)] = later.get((t["now"], None), 0) + (t.get("added") or 0)
    refused = []
    new = [f for f in held if f["kind"] == "written since"]
    if new and not discard:
        named = "; ".join(f"{f['migration']}: {_held(f)}" for f in new)
        refused.append(f"it would drop {sum(f['written_since'] for f in new)} value(s) written after the migration "
                       f"({named}); pass --discard-new-data (notebook: discard_new_data = True) to drop them")
    old = [f for f in held if f["kind"] == "existed before"]
    if old and not discard_old:
        named = "; ".join(f"{f['migration']}: {_held(f)}" for f in old)
        refused.append(f"it would drop {sum(f['values'] for f in old)} row(s) of tables that existed before their "
                       f"migration, rows from before the migration and rows written since alike ({named}); "
                       "pass --discard-old-rows (notebook: discard_old_rows = True) to drop them")
    if refused:
        raise BadInput(f"refusing to roll back: {'; and '.join(refused)}. Nothing was rolled back")
    return held


# -- the rollback's own effect, checked in its transaction -------------------------------------
class RollbackWatch:
    """Row counts of the tables a rollback script names and does not drop, taken inside the
    script's own transaction before and after its statements, with the application's writes to
    those tables held off (``engine.hold_writers``): what changes between the two counts is the
    script's doing. Counts only: no copy of a table, no object that could depend on a type the
    script drops.

    The script may remove at most the rows its migration added to a table (``record``: the
    migration's counts at its commit, from this run's migrate record or the event log); without
    that record, only a table a statement may remove rows from may lose rows. Rows appear only
    where a statement may add them. What the engine does to other tables when the script removes
    or updates rows (``engine.referential_actions``: ``ON DELETE CASCADE`` / ``SET NULL`` / ``SET DEFAULT`` of
    a table referring to one it may remove rows from; ``ON UPDATE SET NULL`` / ``SET DEFAULT`` of one
    referring to a column it may update) is held from writers, counted and held to the
    same rule: such a table may lose at most the rows its migration added there, none of its keys
    may be set to NULL, and at most as many of its keys may be set to their default as the rows its
    migration added there (``SET DEFAULT`` writes a value, often a non-null one such as 0 or an
    'unassigned' row's id, where the application's key was: as silent a loss as NULL, and only a
    row the migration added may take it; without the migration's counts, none). A key is counted
    as the rows holding one (every key column non-NULL) other than what the action writes (NULL,
    or the column's default as the engine evaluates it, once per count: a default that gives each
    row a new value, a sequence's ``nextval``, is not told apart). A rollback that would take or
    rewrite the application's rows that way fails, naming the foreign key and its action (delete
    or change them in the script, where the guards and ``--discard-new-data`` see them; those flags
    do not let the engine's actions rewrite them). Anything else fails the check (``passed`` False)
    and the caller rolls the transaction back (``effects.DataCheckFailed``). Same interface as
    ``effects.DataWatch`` for ``migrate.run_in_transaction``."""

    def __init__(self, engine: Any, prepared: list[PreparedStatement], record: dict[str, Any] | None):
        self.engine, self.record = engine, record
        self.declared = effects.declare_prepared(prepared, engine)
        self.watched: list[tuple[effects.TableEffect, int]] = []
        # (a SET NULL / SET DEFAULT foreign key, "DELETE" or "UPDATE", its action then, the columns it sets,
        # the SQL condition of its rows holding a key the action would change, their count before)
        self.keyed: list[tuple[Any, str, str, tuple[str, ...], str, int]] = []
        self.report: dict[str, Any] | None = None

    def _migration_rows(self, table: str) -> tuple[int, int] | None:
        """(added, removed) rows of ``table`` (its name after the migration) at the migration's
        commit; ``None`` when the migration's counts are not known."""
        if self.record is None:
            return None
        added = removed = 0
        for t in self.record.get("tables", []):
            if t.get("now") == table:
                added += t.get("added") or 0
                removed += t.get("removed") or 0
        return added, removed

    def before(self, conn: sa.Connection) -> None:
        present = set(self.engine.table_names(conn))
        if self.engine.names_ignore_case:
            self.declared.spell_as(present)
        effects_ = [e for e in self.declared.existing()  # tables it drops are neither held nor counted
                    if e.table in present and e.table not in mig.RUNBOOK_TABLES and e.now is not None]
        todo = [e.table for e in effects_ if e.may_remove_rows or e.anything]
        emptied = {e.table for e in effects_ if e.truncates_cascade}  # TRUNCATE ... CASCADE
        named, actions = {e.table for e in effects_}, []
        while todo:  # the tables the engine writes when the script removes rows, cascades of cascades too
            parents, todo = todo, []
            for fk in self.engine.referential_actions(conn, parents):
                truncated = fk.parent in emptied
                if truncated:
                    fk = fk._replace(on_delete="cascade")
                    emptied.add(fk.child)
                if fk.child not in present or fk.on_delete == "none":
                    continue
                actions.append(fk)
                if fk.on_delete == "cascade" and fk.child not in named:
                    named.add(fk.child)
                    todo.append(fk.child)
                    how = "TRUNCATE ... CASCADE" if truncated else "ON DELETE CASCADE"
                    effects_.append(effects.TableEffect(fk.child, by_triggers=True, why=[
                        f"{how} of its foreign key ({', '.join(fk.columns)}) to {fk.parent}"]))
        setting = [(fk, "DELETE", fk.on_delete, fk.on_delete_sets) for fk in actions
                   if fk.on_delete in ("set null", "set default")]
        for fk, event, action, sets in self._update_actions(conn, effects_, present):
            both = [i for i, (k, _, a, c) in enumerate(setting) if (k, a, c) == (fk, action, sets)]
            if both:  # one count cannot tell the two events apart: one entry, naming both
                setting[both[0]] = (fk, "DELETE or UPDATE", action, sets)
            else:
                setting.append((fk, event, action, sets))
        # the tables whose keys the engine sets are held too: a writer there between the two counts
        # would move them
        held = [e.table for e in effects_]
        held += sorted({fk.child for fk, *_ in setting} - set(held))
        self.engine.hold_writers(conn, held)
        self.watched = [(e, inventory.count_rows(conn, e.table)) for e in effects_]
        self.keyed = []
        for fk, event, action, sets in setting:
            where = self._keyed_where(conn, fk, action, sets)
            self.keyed.append((fk, event, action, sets, where, self._count(conn, fk.child, where)))

    def _update_actions(self, conn: sa.Connection, effects_: list[effects.TableEffect], present: set[str]
                        ) -> list[tuple[Any, str, str, tuple[str, ...]]]:
        """The ``ON UPDATE SET NULL`` / ``SET DEFAULT`` foreign keys referring to a column the
        script may update (a rollback renaming a code back): the engine sets the referring rows'
        keys as it does on delete. ``ON UPDATE CASCADE`` follows the parent: the reference is kept."""
        updated = {e.table: e for e in effects_ if (e.updates or e.anything) and not e.by_triggers}
        out = []
        for fk in self.engine.referential_actions(conn, list(updated)) if updated else []:
            e = updated.get(fk.parent)
            if (e is None or fk.child not in present or fk.on_update not in ("set null", "set default")
                    or not (e.anything or {effects.ALL, *fk.referenced} & e.changed_columns)):
                continue
            out.append((fk, "UPDATE", fk.on_update, fk.columns))
        return out

    def _keyed_where(self, conn: sa.Connection, fk: Any, action: str, sets: tuple[str, ...]) -> str:
        """The rows of ``fk``'s table holding a key its ``action`` would change, as SQL: every key
        column non-NULL (a key with a NULL refers to nothing: no action touches it) and a column
        of ``sets`` (those the action sets) holding something other than what it writes there,
        NULL for ``SET NULL``, the column's default for ``SET DEFAULT`` (NULL when it has none). A
        constant default is compared as written; another is evaluated by the engine, once per count."""
        q = self.engine.quote_name
        defaults = self._defaults(conn, fk.child) if action == "set default" else {}
        differs = []
        for c in sets:
            d = defaults.get(c)
            differs.append(f"{q(c)} IS NOT NULL" if d is None else
                           f"{q(c)} <> ({d})" if effects.is_constant(d) else f"{q(c)} <> (SELECT ({d}))")
        keyed = " AND ".join(f"{q(c)} IS NOT NULL" for c in fk.columns)
        return f"{keyed} AND ({' OR '.join(differs)})"

    def _count(self, conn: sa.Connection, table: str, where: str) -> int:
        return int(self.engine.run_sql(conn, f"SELECT count(*) FROM {self.engine.quote_table(table)} WHERE {where}"
                                       ).scalar())

    def _defaults(self, conn: sa.Connection, table: str) -> dict[str, str | None]:
        """Per column of ``table``, its default as stored (``None``: it has none)."""
        return {c["name"]: stored_default(c.get("default")) for c in self.engine.columns(sa.inspect(conn), table)}

    def after(self, conn: sa.Connection) -> dict[str, Any]:
        present = set(self.engine.table_names(conn))
        tables, problems = [], []
        for e, rows in self.watched:
            out: dict[str, Any] = {"table": e.table, "now": e.now, "rows_before": rows, "rows_after": None,
                                   "added": None, "removed": None, "migration_rows": None, "declared": e.why}
            tables.append(out)
            if e.now not in present:
                problems.append(f"{e.table}: table {e.now} does not exist after the statements")
                continue
            out["rows_after"] = inventory.count_rows(conn, e.now)
            delta = out["rows_after"] - rows
            out["added"], out["removed"] = max(delta, 0), max(-delta, 0)
            mine = self._migration_rows(e.table)
            if mine is not None:
                out["migration_rows"] = {"added": mine[0], "removed": mine[1]}
            if out["removed"]:
                how = f" (by {e.why[0]})" if e.by_triggers else ""
                if mine is not None and out["removed"] > mine[0]:
                    problems.append(f"{e.table}: {out['removed']} of {rows} rows removed{how}, and the migration it "
                                    f"rolls back added {mine[0]} there: a rollback must not remove rows it did not add")
                elif mine is None and not (e.may_remove_rows or e.anything):
                    problems.append(f"{e.table}: {out['removed']} of {rows} rows removed{how}, and no statement may "
                                    "remove rows")
            if out["added"] and not (e.may_add_rows or e.anything):
                problems.append(f"{e.table}: {out['added']} rows added, and no statement may add rows")
        keys = []
        for fk, event, action, sets, where, keyed in self.keyed:
            if fk.child not in present:  # the script dropped it: its rows were judged before anything ran (guard_new_data)
                continue
            after = self._count(conn, fk.child, where)
            lost = keyed - after
            named = f"ON {event} {action.upper()}"
            mine = self._migration_rows(fk.child) if action == "set default" else None
            allowed = mine[0] if mine is not None else 0  # SET NULL: none (its rule before SET DEFAULT was seen)
            keys.append({"table": fk.child, "columns": list(sets), "action": named, "parent": fk.parent,
                         "keyed_before": keyed, "keyed_after": after, "changed": max(lost, 0),
                         "migration_added": None if mine is None else mine[0]})
            if lost <= allowed:
                continue
            cols = ", ".join(sets)
            why = {"DELETE": "the rows they referred to are removed by the rollback",
                   "UPDATE": "the keys they referred to are changed by the rollback"}.get(
                event, "the rows they referred to are removed, or their keys changed, by the rollback")
            if action == "set null":
                problems.append(f"{fk.child}: {lost} rows' {cols} set to NULL by {named} of its foreign key "
                                f"to {fk.parent}: {why} (remove or change them in the script)")
                continue
            added = ("the migration it rolls back has no counts here, so no key may change" if mine is None else
                     f"the migration it rolls back added {mine[0]} row(s) there")
            defaults = self._defaults(conn, fk.child)
            written = ", ".join(defaults.get(c) or "NULL" for c in sets)  # (0), ('unassigned', NULL)
            problems.append(f"{fk.child}: {lost} rows' {cols} set to {'its' if len(sets) == 1 else 'their'} "
                            f"default ({written}) by {named} of its foreign key to {fk.parent}, "
                            f"and {added}: {why}, and a rollback must not change the keys of rows it did not add "
                            "(remove or change them in the script)")
        self.report = {"passed": not problems, "mode": "row counts in the rollback's transaction",
                       "tables": tables, "keys": keys, "problems": problems, "notes": self.declared.notes}
        return self.report


def parts(steps: list[_Step]) -> list[list[_Step]]:
    """The transactions a rollback runs ``steps`` (newest first) in: one for all of them, unless a
    rollback script holds a statement the engine refuses inside a transaction
    (``Engine.runs_outside_transaction``: PostgreSQL's ``DROP INDEX CONCURRENTLY``, ...; such a
    statement is alone in its script, or beside only others the runbook can undo,
    ``migrate.prepare``). That step runs by itself, in autocommit, statement by statement (a
    failure undoes the ones before it: ``migrate.run_outside_transaction``), its history row
    removed right after in a transaction of its own (as ``migrate.run_in_transaction`` runs
    it); the steps before it and those after it form a
    transaction each. The database can then stop between two parts: ``may_stop_at``."""
    out: list[list[_Step]] = []
    alone = False
    for step in steps:
        outside = step.prepared is not None and any(p.outside_transaction for p in step.prepared)
        if outside or alone or not out:
            out.append([step])
        else:
            out[-1].append(step)
        alone = outside
    return out


def _outside(part: list[_Step]) -> bool:
    return len(part) == 1 and part[0].prepared is not None and any(p.outside_transaction for p in part[0].prepared)


def _landings(steps: list[_Step], wanted: str | None) -> dict[str, str | None]:
    """Step version → the version the database is at once that step is rolled back."""
    versions = [s.migration.version for s in steps]
    return {v: versions[i + 1] if i + 1 < len(versions) else wanted for i, v in enumerate(versions)}


def may_stop_at(steps: list[_Step], wanted: str | None) -> list[str]:
    """The versions (``"none"`` for none) a rollback of ``steps`` can be left at when a later
    part fails (``parts``): none when it runs in one transaction, all or nothing."""
    landing = _landings(steps, wanted)
    return [landing[part[-1].migration.version] or NONE for part in parts(steps)[:-1]]


def _notice(steps: list[_Step], wanted: str | None) -> str | None:
    """What the operator is told before anything runs when the rollback cannot be one transaction."""
    split = parts(steps)
    if len(split) < 2:
        return None
    alone = [p[0].label for p in split if _outside(p)]
    shown = "; ".join(("alone, outside a transaction: " if _outside(p) else "one transaction: ")
                      + ", ".join(s.label for s in p) for p in split)
    return (f"the rollback to {wanted or NONE} cannot be all or nothing: the rollback script of "
            f"{', '.join(alone)} holds a statement that cannot run inside a transaction, so it runs in "
            f"{len(split)} parts, newest first, each all or nothing ({shown}); when a part fails, the parts "
            f"before it stay committed and the database is left at version "
            f"{' or '.join(may_stop_at(steps, wanted))}")


def rollback_to(target: "Target", migrations_dir: str | Path, version: str | int, *,
                run_id: str, dialect: str | None = mig.DEFAULT_DIALECT, discard_new_data: bool = False,
                written: dict[str, dict[str, Any]] | None = None, discard_old_rows: bool = False,
                run_dir: str | Path | None = None) -> dict[str, Any]:
    """Roll back every migration applied above ``version`` (see the module doc), all or nothing.

    Before anything runs, ``check_scripts`` runs the rollback scripts on a scratch replay of the
    applied migrations and refuses (``BadInput``) when one does not give the schema the
    migrations below it give; ``run_dir``: beside which that replay is cached. The result's
    ``expected`` is what ``compare_after`` compares the target with afterwards.

    Before anything runs, ``guard_new_data`` refuses when a script would drop a column or table
    holding values written after its migration (``discard_new_data`` drops them), or a table its
    migration did not create (``discard_old_rows`` drops it with every row); the result's
    ``discarded`` lists them, counted, each with its ``kind``. What each migration left at its commit comes from its
    deploy event in the event log; ``written`` (version → ``MigrationResult.data``, when this run
    applied it) wins over it.

    Every step (its script, its data check ``RollbackWatch``, its history row's deletion and its
    ``revert`` event) runs in one transaction: a step that fails rolls them all back, and the
    database is as it was before the rollback. A script that cannot run in a transaction splits
    it (``parts``): the result's ``notice`` says so (also emitted before anything runs) and
    ``may_stop_at`` where the database can be left.

    Returns ``{"method": "scripts", "target", "run_id", "to", "before", "after", "rolled_back":
    [{"version", "name", "action", "duration_ms", "statements", "data"}], "parts", "may_stop_at",
    "notice", "undone", "history_table_dropped", "error", "failed", "checks"}``: ``rolled_back``
    the steps committed; a failing step sets ``error`` (naming it, and what was rolled back:
    nothing, or the parts before) and ``failed`` instead of raising, and ``undone`` lists the
    steps that ran in the failed transaction and went back with it. ``checks``: the verify
    scripts of the migrations still applied afterwards, run as checks
    (``migrate.verify_script_checks``).
    """
    migrations = mig.discover(migrations_dir, dialect)
    kind = target.kind
    with kind.lock(target):
        with target.engine().connect() as conn:
            status, wanted, steps = plan(conn, migrations, target, version)
            known = mig.deployed_data(conn) | (written or {})  # the event log, or this run's own record
            discarded = guard_new_data(conn, target, steps, discard=discard_new_data, written=known,
                                       discard_old=discard_old_rows)
        notice = _notice(steps, wanted)
        if notice:
            progress.emit(f"rollback {target.name}: {notice}")  # before anything runs
        expected = check_scripts(target, migrations, status, steps, wanted, run_dir)
        split = parts(steps)
        result: dict[str, Any] = {
            "method": "scripts", "target": target.display, "run_id": run_id, "to": wanted or NONE,
            "before": status.current, "after": status.current, "rolled_back": [],
            "parts": [{"versions": [s.migration.version for s in p], "transaction": not _outside(p)} for p in split],
            "may_stop_at": may_stop_at(steps, wanted), "notice": notice, "undone": [],
            "history_table_dropped": False, "error": None, "discarded": discarded, "expected": expected,
        }
        last = steps[-1] if steps else None

        def after_of(step: _Step) -> Callable[[sa.Connection], None]:
            drop_if_empty = wanted is None and step is last

            def after(conn: sa.Connection) -> None:
                mig.unrecord(conn, step.applied.version)
                mig.record_event(conn, "revert", step.applied.version, step.applied.name, step.applied.checksum,
                                 run_id, note="adoption removed" if step.prepared is None else None)
                if drop_if_empty and not mig.applied(conn):
                    mig.history.drop(conn)
                    result["history_table_dropped"] = True
                    result["event_log_dropped"] = mig.drop_events_of_run(conn, run_id)
            return after

        for n, part in enumerate(split, 1):
            ran: list[dict[str, Any]] = []
            step, watch = part[0], None
            try:
                if _outside(part):  # alone, in autocommit; its history row right after (run_in_transaction)
                    progress.emit(f"rollback {target.name}: {step.label} (part {n} of {len(split)}, outside a transaction)")
                    _, ms = run_in_transaction(target, step.prepared, step.migration.name, step.migration.version,
                                               after_of(step), check_lock=True)
                    ran.append(_done(step, ms, None))
                else:
                    with target.engine().connect() as conn, \
                            conn.execution_options(**{WRITE_TRANSACTION: True}).begin():
                        for step in part:
                            kind.check_lock(target, conn)  # a lost lock admits a second run: stop (and roll back)
                            progress.emit(f"rollback {target.name}: {step.label}")
                            started = time.perf_counter()
                            watch = None
                            if step.prepared is None:
                                after_of(step)(conn)
                            else:
                                watch = RollbackWatch(kind, step.prepared, known.get(step.migration.version))
                                run_watched(conn, target, step.prepared, step.migration.name,
                                            step.migration.version, after_of(step), watch=watch)
                            ran.append(_done(step, int((time.perf_counter() - started) * 1000), watch))
                        kind.check_lock(target, conn)
                        faults.barrier(f"uncommitted-rollback-{part[-1].migration.version}")  # kill tests
            except MigrationFailed as exc:
                result["history_table_dropped"] = False
                result.pop("event_log_dropped", None)
                undone = [] if _outside(part) else ran
                result["undone"] = undone
                result["error"], result["failed"] = _failure(step, exc, watch, kind, undone, result, status.current)
                break
            result["rolled_back"] += ran
        with target.engine().connect() as conn:
            now = mig.status(conn, migrations, kind)
        result["after"] = now.current
        remaining = {a.version for a in now.applied}
        result["checks"] = verify_script_checks(target, [m for m in migrations if m.version in remaining])
    return result


def _done(step: _Step, ms: int, watch: "RollbackWatch | None") -> dict[str, Any]:
    """A step's entry in the result's ``rolled_back`` (or ``undone``)."""
    if step.prepared is None:
        return {"version": step.migration.version, "name": step.migration.name, "action": "adoption removed",
                "duration_ms": ms, "statements": 0}
    action = ("script" if not is_no_op(step.prepared) else "no-op: empty rollback script"
              if step.migration.rollback is not None else "no-op: the migration was a no-op")
    return {"version": step.migration.version, "name": step.migration.name, "action": action, "duration_ms": ms,
            "statements": sum(1 for p in step.prepared if p.sql), "data": watch.report if watch else None}


def _failure(step: _Step, exc: MigrationFailed, watch: "RollbackWatch | None", kind: Any,
             undone: list[dict[str, Any]], result: dict[str, Any], before: str | None) -> tuple[str, dict[str, Any]]:
    """The result's ``error`` and ``failed`` for a step that failed: what failed, then what was
    rolled back (nothing, or the parts committed before it) and where the database is."""
    script = step.migration.rollback.source_for(kind)[0].name if step.migration.rollback else "?"
    failed: dict[str, Any] = {"version": step.migration.version, "name": step.migration.name, "script": script}
    if isinstance(exc, effects.DataCheckFailed):
        what = f"rollback of {step.label} failed its data check: {'; '.join(exc.problems)}"
        failed["data"] = watch.report if watch else None
    else:
        first = " ".join(exc.sql.split())[:120]
        what = (f"rollback of {step.label} failed: {script} statement {exc.statement_no} (line {exc.line}): "
                f"{first!r}: {exc.cause}")
        failed |= {"statement": exc.statement_no, "line": exc.line, "cause": exc.cause}
    others = [f"{u['version']}_{u['name']}" for u in undone]
    with_ = f" with the steps that ran before it in that transaction ({', '.join(others)})" if others else ""
    kept = [f"{r['version']}_{r['name']}" for r in result["rolled_back"]]
    # a step alone outside a transaction (migrate.run_outside_transaction) had none to roll back: its outcome
    # says what the runbook undid, and what an undo that failed left (then the step is half rolled back)
    outside = exc.outcome != ROLLED_BACK
    still = (f"{step.label} is still recorded as applied, with the changes named above left as its rollback "
             "script made them" if exc.left else f"{step.label} is still applied")
    if not kept:
        how = exc.outcome if outside else f"the rollback's transaction was rolled back whole{with_}"
        back = (f"{how}: {'' if exc.left else 'nothing was rolled back, '}{still} and the database is still at "
                f"version {before or NONE}")
    else:
        at = undone[0]["version"] if undone else step.migration.version
        how = exc.outcome if outside else f"its part's transaction was rolled back{with_}"
        back = (f"{how}, so {still}; {', '.join(kept)} stay rolled back (committed in the parts before, see the "
                f"notice): the database is at version {at}, not at {result['to']}")
    return f"{what}; {back}", failed


def assert_rolled_back(result: dict[str, Any]) -> None:
    """``RunFailed`` when a rollback script failed."""
    from .errors import RunFailed

    if result.get("error"):
        raise RunFailed(result["error"])


# -- restore from a backup ------------------------------------------------------------------
def restore_backup(target: "Target", backup_path: str | Path, *, confirm: bool,
                   record: dict[str, Any] | None = None, trust_unverified: bool = False,
                   discard_newer_writes: bool = False, run_id: str = "restore",
                   migrations_dir: str | Path | None = None,
                   dialect: str | None = mig.DEFAULT_DIALECT) -> dict[str, Any]:
    """Overwrite ``target`` with a backup (the guide's last-resort rollback), after proving the
    file is a verified backup of this very database and that nothing written since is lost.

    Refuses (``BadInput``, nothing touched) without ``confirm``; for a missing, empty (0 bytes, no
    tables) or unreadable file; without a record (``record``, else the ``<file>.json`` that
    ``backup.take`` wrote beside it) unless ``trust_unverified``; when the record says it did not
    verify or has another SHA-256; when the record's identity of the database (or the file's own)
    is another database's; and when the target holds rows the backup lacks (changed since the
    backup) unless ``discard_newer_writes``, naming how many.

    The event log survives the restore: the target's events the backup's log lacks are read
    before the file is replaced and appended again afterwards, followed by a ``restore`` event
    (the backup's file name and SHA-256, the versions before and after, how many events were
    carried over and rows discarded; no path, no URL), in one transaction. Returns
    ``{"method": "restore", "target", "restored_from", "sha256", "record_checked",
    "identity_checked", "discarded", "before", "after", "duration_s", "events_carried",
    "rolled_back": [], "error": None, "checks"}``.

    ``checks``: as after a rollback by scripts, the verify scripts of the migrations applied in
    the restored database (``migrations_dir``, read as ``dialect`` before anything runs; its
    history says which), run as checks (``verify_restored``). A restore is the last way back: a
    migrations folder that is not given or cannot be read does not stop it, it makes that check
    a skipped one saying why.
    """
    path = Path(backup_path)
    kind = target.kind
    migrations: list[mig.Migration] | None = None
    unread = "no migrations folder given"
    if migrations_dir is not None:
        try:
            migrations = mig.discover(migrations_dir, dialect)
        except BadInput as exc:
            unread = f"the migrations folder could not be read ({exc})"
    if not confirm:
        raise BadInput(f"restoring overwrites {target.display}; pass confirm=True / --confirm-restore")
    if not path.is_file():
        raise BadInput(f"backup file not found: {path}")
    if path.stat().st_size == 0:
        raise BadInput(f"{path.name} is empty (0 bytes): not a backup; not restoring")
    record = record if record is not None else backup.read_sidecar(path)
    if record is not None and record.get("engine") not in (None, kind.name):
        raise BadInput(f"{path.name} is a backup of {record.get('target')} ({record['engine']}); "
                       f"{target.display} is {kind.name}; not restoring")
    facts = kind.backup_facts(path)
    if not facts["readable"]:
        raise BadInput(f"{path.name} is not a readable {kind.name} backup; not restoring")
    if not facts["tables"]:
        raise BadInput(f"{path.name} holds no tables: restoring it would empty {target.display}; not restoring")
    sha = backup.sha256_file(path)
    current_identity = kind.identity(target)
    if record is None:
        if not trust_unverified:
            raise BadInput(f"{path.name} has no record beside it ({backup.sidecar_path(path).name}): nothing proves "
                           f"it is a complete, verified backup of {target.display}; not restoring "
                           "(--trust-unverified-backup restores it anyway)")
    else:
        if record.get("verified") is not True:
            raise BadInput(f"{path.name} did not verify when it was taken; not restoring")
        if record.get("sha256") != sha:
            raise BadInput(f"{path.name} changed since it was taken (SHA-256 differs from its record); not restoring")
        recorded = record.get("identity")
        if recorded is None:  # a record from before identities: its URL must match
            if record.get("target") not in (None, target.display):
                raise BadInput(f"{path.name} is a backup of {record['target']}, not of {target.display}; not restoring")
        elif current_identity is not None and not _same_identity(recorded, current_identity):
            raise BadInput(f"{path.name} is a backup of {record.get('target')} (identity {recorded}), not of "
                           f"{target.display} (identity {current_identity}); not restoring")
        elif current_identity is None and not trust_unverified:
            raise BadInput(f"cannot tell whether {path.name} is a backup of {target.display} (the target has no "
                           "identity the runbook can read); not restoring (--trust-unverified-backup restores it anyway)")
        if recorded is not None and facts["identity"] is not None and not _same_identity(recorded, facts["identity"]):
            raise BadInput(f"{path.name} does not hold the database its record names (identity {facts['identity']} "
                           f"in the file, {recorded} in the record); not restoring")
    if (record is None and facts["identity"] is not None and current_identity is not None
            and not _same_identity(facts["identity"], current_identity)):
        raise BadInput(f"{path.name} is a backup of another database (identity {facts['identity']}, "
                       f"{target.display} has {current_identity}); not restoring")
    with kind.lock(target):
        kind.check_lock(target)
        lost = kind.rows_not_in_backup(target, path, record,  # the runbook's own records are not writes
                                       skip_tables={mig.HISTORY_TABLE, mig.EVENTS_TABLE})
        if lost["rows"] and not discard_newer_writes:
            tables = ", ".join(f"{t}: {n}" for t, n in sorted(lost["tables"].items())[:10])
            raise BadInput(f"restoring {path.name} would discard {lost['rows']} row(s) of {target.display} added or "
                           f"changed since the backup ({tables}); not restoring (--discard-newer-writes restores "
                           "anyway and discards them)")
        before = _current(target)
        log = _event_log(target)  # the target's events, to carry over the restore
        pending = _keep_pending_events(target, path, log)  # survives a crash until they are carried
        started = time.perf_counter()
        kind.restore(target, path)
        duration = round(time.perf_counter() - started, 3)
        target.dispose()
        faults.barrier("restore-replaced")  # the file is replaced, the events not yet carried (kill tests)
        after = _current(target)
        kind.check_lock(target)
        with target.engine().begin() as conn:
            carried = mig.events_not_in(log, mig.event_log(conn))
            mig.reinsert_events(conn, carried)
            mig.record_event(conn, "restore", after or NONE, "restore", sha, run_id,
                             note=f"restored from {path.name}: version {before or NONE} -> {after or NONE}",
                             data={"backup": path.name, "sha256": sha, "before": before, "after": after,
                                   "events_carried": len(carried), "rows_discarded": lost["rows"]})
        pending.unlink(missing_ok=True)
    return {"method": "restore", "target": target.display, "restored_from": str(path.resolve()), "sha256": sha,
            "record_checked": record is not None,
            "identity_checked": bool(record and record.get("identity") and current_identity),
            "discarded": {"rows": lost["rows"], "tables": lost["tables"], "method": lost["method"]},
            "before": before, "after": after, "duration_s": duration, "events_carried": len(carried),
            "rolled_back": [], "error": None, "checks": verify_restored(target, migrations, unread)}


def verify_restored(target: "Target", migrations: list[mig.Migration] | None, unread: str = "") -> list[dict[str, Any]]:
    """After a restore: the verify scripts of the migrations the restored database's history says
    are applied (``migrate.verify_script_checks``, in a transaction rolled back). ``migrations``
    ``None``: one skipped check saying why (``unread``). An applied version with no file in the
    folder has no verify script to run (``runbook status`` names it)."""
    if migrations is None:
        return [check("verify scripts", True, f"skipped: {unread}: the verify scripts of the migrations applied in the "
                                              "restored database were not run", skipped=True)]
    with target.engine().connect() as conn:
        done = {a.version for a in mig.applied(conn)}
    return verify_script_checks(target, [m for m in migrations if m.version in done])


def _keep_pending_events(target: "Target", path: Path, log: list[dict[str, Any]]) -> Path:
    """Write the target's event log beside the backup (private, fsynced) before a restore replaces
    the database: a restore killed before the log is carried over leaves it there, and the next
    run (``recover_pending_events``, from ``pipeline.clean_leftovers``) carries it over."""
    pending = path.parent / f".{path.name}.{owner_tag()}{backup.PENDING_EVENTS}"
    backup.write_private(pending, json.dumps({"target": target.display, "backup": path.name,
                                              "events": [{k: v for k, v in e.items() if k != "id"} for e in log]}))
    return pending


def recover_pending_events(target: "Target", folder: str | Path) -> list[str]:
    """Carry over the event log a killed restore of ``target`` left in ``folder`` (a dead run's
    ``.<backup>.<owner>.events.json``): its events the database's log lacks are appended, with a
    ``restore`` event saying so, then the file is removed. Another target's files are left alone."""
    done = []
    root = Path(folder)
    for pending in sorted(root.glob(f".*{backup.PENDING_EVENTS}")) if root.is_dir() else []:
        if not is_dead_owner(pending.name):
            continue
        try:
            kept = json.loads(pending.read_text())
        except (OSError, ValueError):
            continue  # unreadable: left where it is, for an operator
        if kept.get("target") != target.display:
            continue
        version = _current(target)
        with target.engine().begin() as conn:
            carried = mig.events_not_in(kept.get("events") or [], mig.event_log(conn))
            mig.reinsert_events(conn, carried)
            mig.record_event(conn, "restore", version or NONE, "restore", None,
                             "recovered", note=f"event log carried over after an interrupted restore from "
                                               f"{kept.get('backup')}: {len(carried)} event(s)",
                             data={"backup": kept.get("backup"), "events_carried": len(carried), "interrupted": True})
        pending.unlink(missing_ok=True)
        done.append(f"carried {len(carried)} event(s) of an interrupted restore of {target.display} over")
    return done


def _same_identity(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two identities agree on every field both know (a field either does not know is skipped)."""
    shared = [k for k in a if a.get(k) is not None and b.get(k) is not None]
    return bool(shared) and all(str(a[k]) == str(b[k]) for k in shared)


def _event_log(target: "Target") -> list[dict[str, Any]]:
    """The target's event log (empty when it has none or cannot be read: a damaged database is a
    reason to restore; its events are then only in the reports)."""
    try:
        with target.engine().connect() as conn:
            return mig.event_log(conn)
    except sa.exc.SQLAlchemyError:
        return []


def _current(target: "Target") -> str | None:
    """The last applied version (``"unreadable"`` when the database cannot be read: a damaged
    database is a reason to restore, not a reason to refuse)."""
    try:
        with target.engine().connect() as conn:
            done = mig.applied(conn)
    except sa.exc.SQLAlchemyError:
        return "unreadable"
    return done[-1].version if done else None


# -- after either kind of rollback ----------------------------------------------------------
def check_restored(target: "Target", snapshot: dict[str, Any], *, data: bool = True) -> list[dict[str, Any]]:
    """Checks that the schema and the migration history equal the pre-migration ``snapshot``
    and (unless ``data`` is False) the original data is intact (rows and content fingerprints of
    every table)."""
    return inventory.compare_to_snapshot(target, snapshot, data=data)


def latest_inventory(reports_dir: str | Path, target_display: str, version: str | None
                     ) -> tuple[Path, dict[str, Any]] | None:
    """The newest ``<reports_dir>/*/inventory.json`` taken of ``target_display`` at ``version``
    (``None``/``"none"``: no applied version), with its path; ``None`` when there is none."""
    wanted = version or NONE
    found = []
    for path in Path(reports_dir).glob("*/inventory.json"):
        try:
            snap = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if (isinstance(snap, dict) and snap.get("target") == target_display
                and ((snap.get("migrations") or {}).get("current") or NONE) == wanted):
            found.append((str(snap.get("taken_at") or ""), path.parent.name, path, snap))
    if not found:
        return None
    _, _, path, snap = max(found, key=lambda f: f[:2])
    return path, snap


def _own_rows(result: dict[str, Any]) -> dict[str, tuple[int, int | None]]:
    """Per table (its name after the rollback): how the rollback's transactions changed its row
    count, and how the migrations they rolled back had changed it (``None``: not known)."""
    own: dict[str, tuple[int, int | None]] = {}
    for step in result.get("rolled_back") or []:
        for t in (step.get("data") or {}).get("tables", []):
            if t.get("now") is None or t.get("rows_after") is None:
                continue
            rb, mig_ = own.get(t["now"], (0, 0))
            m = t.get("migration_rows")
            mig_delta = None if m is None or mig_ is None else mig_ + m["added"] - m["removed"]
            own[t["now"]] = (rb + t["rows_after"] - t["rows_before"], mig_delta)
    return own


def data_against(target: "Target", snapshot: dict[str, Any], result: dict[str, Any],
                 baseline: "Target | None" = None) -> list[dict[str, Any]]:
    """Rows and content of every table of the pre-migration ``snapshot`` after a rollback, on a
    live target (docs/reliability.md, "a rollback on a live target"). The rollback's own effect
    was checked in its transaction (``RollbackWatch``); here a table that differs from the
    snapshot is the application's writes since the inventory (reported as concurrent writes, one
    summary check, never a failure), unless the runbook's own transactions on a table the
    rollback names moved its row count (the migration's or the rollback's) and account for the
    whole difference in rows since the inventory: then nothing else wrote its count, the
    difference is the runbook's (the rollback did not undo the migration), and it fails.
    ``baseline``: the run's backup, hashed for a table the snapshot holds no row hash of
    (``inventory.content_checks``)."""
    engine = target.kind
    own = _own_rows(result)
    with engine.live_snapshot(target) as conn:  # a live target: the reads must not stop its writers
        counted: dict[str, int] = {}  # one count per table: every read here is of the same transaction
        out = inventory.count_checks(conn, snapshot, declared={}, writers=True, counted=counted)
        out += inventory.content_checks(conn, engine, snapshot, declared={}, writers=True, baseline=baseline,
                                        counted=counted)
        now_rows = {t: counted[t] if t in counted else inventory.count_rows(conn, t)
                    for t in own if t in set(inventory.table_names(conn))}
    for i, c in enumerate(out):
        table = c["check"].split(": ", 1)[1]
        if "concurrent_writes" not in c or table not in own or table not in now_rows:
            continue
        rb, mig_delta = own[table]
        if rb == 0 and not mig_delta:
            continue  # neither the rollback's nor the migrations' transactions changed its count
        then = (snapshot.get("tables", {}).get(table) or {}).get("rows", 0)
        others = None if mig_delta is None else now_rows[table] - then - mig_delta - rb
        if others != 0:  # moved by more than the runbook's own transactions account for, or not known
            note = (f"{others:+d} rows written by others: the migrations ({mig_delta:+d}) and the rollback "
                    f"({rb:+d}) account for the rest" if others is not None else
                    f"the rollback's transaction changed its rows by {rb:+d}; the migrations' counts are not known")
            out[i] = c | {"detail": c["detail"] + f" ({note})"}
            continue
        out[i] = {k: v for k, v in c.items() if k != "concurrent_writes"} | {
            "passed": False,
            "detail": c["detail"].split(": concurrent writes", 1)[0] + f": the migrations ({mig_delta:+d} rows) and "
                      f"the rollback ({rb:+d} rows) account for every row since the inventory, so nothing else "
                      "wrote its count and the difference is the runbook's: the rollback did not undo the migration"}
    out.append(inventory.concurrent_writes(
        out, reported="reported, not a failure (the rollback's own effect was checked in its transaction)",
        none="none: every table's rows and content equal the inventory's"))
    return out


def against_expected(target: "Target", result: dict[str, Any]) -> dict[str, Any]:
    """After rolling back by scripts: the target's schema against the schema the migrations up
    to the version rolled back to give (``result["expected"]``, from ``check_scripts``), as
    the engine reports both. An object only in the target fails when a rolled-back migration
    declared it (its rollback did not drop it), and is a note otherwise (the migrations never
    declared it: not the rollback's doing; the inventory, when there is one, compares it
    exactly); what the migrations give must be there, exactly. Returns ``{"checks": [...],
    "record": the ``expected`` record without its schema}``."""
    expected = result.get("expected") or {}
    record = {k: v for k, v in expected.items() if k not in ("schema", "declared_by")}
    version = expected.get("version")
    name = f"schema equals what the migrations up to {version or NONE} give"
    if result.get("method") != "scripts" or expected.get("status") in (None, "none") or result.get("error"):
        return {"checks": [], "record": record or None}
    if expected["schema"] is None:
        return {"checks": [check(name, True, f"skipped: {expected['detail']}", skipped=True)], "record": record}
    with target.kind.read_snapshot(target) as conn:
        actual = schema.introspect(conn, target.kind)
    problems, notes = [], []
    for d in schema.differences(expected["schema"], actual, same=functools.partial(target.kind.same_definition, target)):
        label = expected["declared_by"].get(d.obj)
        if d.kind == "added":
            if label:
                problems.append(f"{d.obj} is still there: {label}'s rollback did not drop it")
            else:
                notes.append(d.obj)
        elif d.kind == "missing":
            problems.append(f"{d.obj} is missing")
        else:
            problems.append(f"{d.obj} {d.field} is {d.b}, the migrations give {d.a}".replace("  ", " ")
                            if d.a is not None else f"{d.obj} {d.field} differs from what the migrations give")
    detail = "; ".join(problems) if problems else f"{len(actual['tables'])} table(s) as the migrations give"
    if notes:
        detail += f" (and, no migration's: {'; '.join(notes)})"
    return {"checks": [check(name, not problems, detail)], "record": record}


def compare_after(target: "Target", run_dir: str | Path, snapshot_path: str | Path | None,
                  result: dict[str, Any]) -> dict[str, Any]:
    """After a rollback (``result``), compare the database with a pre-migration inventory:
    ``snapshot_path`` when given, else this run's (``run_dir/inventory.json``), else the latest
    inventory of this target at the version rolled back to in the reports folder (``run_dir``'s
    parent). That last one is from an earlier run: the application may have written since, so
    its schema and history are compared, not its rows. Returns ``{"compared_with": {"source",
    "path", "taken_at", "detail"}, "checks": [...]}`` (no checks when no inventory was found)."""
    run_dir = Path(run_dir)
    version = result.get("after") or NONE
    own = run_dir / "inventory.json"
    path = Path(snapshot_path) if snapshot_path else own if own.is_file() else None
    source = None if path is None else "this run" if path.resolve() == own.resolve() else "given"
    snap = json.loads(path.read_text()) if path else None
    if path is None:
        found = latest_inventory(run_dir.parent, target.display, version)
        if found:
            path, snap = found
            source = "latest in reports"
    against = against_expected(target, result)
    against["checks"] = (result.get("checks") or []) + against["checks"]  # the verify scripts' (``rollback_to``)
    if snap is None:
        detail = (f"no inventory of {target.display} at version {version} in {run_dir.parent.resolve()}: "
                  "the database was not compared with a pre-migration snapshot (pass --snapshot to compare)")
        return {"compared_with": {"source": None, "path": None, "taken_at": None, "detail": detail},
                "checks": against["checks"], "expected": against["record"]}
    data = source != "latest in reports"
    detail = {"given": "the snapshot given", "this run": "this run's pre-migration inventory",
              "latest in reports": f"the latest inventory of {target.display} at version {version} in the reports "
                                   "folder (schema and history compared; rows not, the application may have "
                                   "written since)"}[source]
    checks = against["checks"] + check_restored(target, snap, data=False)
    if data:
        with backup.database_of(target, run_dir) as kept:
            checks += data_against(target, snap, result, kept)
    return {"compared_with": {"source": source, "path": str(Path(path).resolve()), "taken_at": snap.get("taken_at"),
                              "detail": f"{detail}: {path} (taken at {snap.get('taken_at')})"},
            "checks": checks, "expected": against["record"]}
