"""The schema a set of applied migrations declares: what the same engine holds after applying them.

Two sources, both introspected with ``schema.introspect`` (never rebuilt from the SQL text):

1. **The rehearsal's scratch copy.** ``rehearsal.rehearse`` introspects the copy after migrating
   it and saves the model in its result (``schema``, with ``schema_applied``: the versions and
   checksums it had then) in ``<run dir>/rehearsal.json``. Verify on the target uses it when the
   target's applied migrations are exactly those. The copy was restored from the target's own
   backup, so it holds everything the target held (adopted baseline, objects no migration made):
   the comparison is exact both ways.
2. **A replay.** Otherwise the applied migrations (the baseline too, adopted or not) run, each in
   its own transaction as ``migrate`` runs them, on an empty scratch database of the same engine
   (``Engine.scratch_database``: a temporary SQLite file; a throwaway database on the target's
   PostgreSQL server), introspected after the last one and, when asked, at earlier versions
   (after the baseline; the pre-migration version). The result is cached by everything that
   decides it: the engine and its version, the runbook's and sqlglot's versions, and the
   version and checksum of every replayed migration. The cache is a JSON file per key in
   ``<reports dir>/.cache/expected-schema/`` (the parent of the run directory) when verify
   knows its run directory, else in ``$RUNBOOK_CACHE_DIR``, else
   ``${XDG_CACHE_HOME:-~/.cache}/schema-runbook/expected-schema/``. A stale cache cannot be
   hit: a different migration set is a different key.

An **adopted baseline** is the schema of the migrations the history records as adopted, not run:
a ``000`` adopted because its tables existed (note ``adopted: ...``; or about to be, ``Status.adoptable``),
or every migration up to a version that ``runbook baseline`` recorded (note ``adopted by runbook
baseline``): the leading run of adopted rows of the history. Such a database was not created by the
migrations: its tables may carry columns, indexes or tables nobody declared. A database whose folder
has no ``000`` and whose history adopted nothing was not created from empty either (what was there
before its first migration is nobody's), but nothing records what that was: only a pre-migration
inventory does. So with a replay, an object only in the target ("not declared by any applied
migration", ``undeclared_fails``) fails when it belongs to a table a migration after the adopted
baseline created; otherwise, when a pre-migration inventory is given, it fails unless the inventory
had it (it appeared during the run); without one, it fails unless the baseline was adopted. What
does not fail is a note in the check's detail. Whatever the migrations declare must be there,
exactly as the engine holds it. When the replay fails, the schema check fails naming the statement,
except on a database the migrations did not create from empty: there a migration may rely on what
was there before (a table the baseline does not declare), so the check is skipped with the reason
(the rehearsal's copy, which has it, is compared with on the target).

``replay`` can also run rollback scripts after the migrations (``undo``), newest first, each in its
own transaction as ``rollback_to`` runs them, and keep the schema after each: the rollback step
compares it, before anything runs on the target, with the schema the migrations below give.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlglot

from . import __version__, progress, schema
from . import migrations as mig
from .errors import BadInput, MigrationFailed, RunFailed

if TYPE_CHECKING:
    from .engines.base import Engine
    from .target import Target

CACHE_ENV = "RUNBOOK_CACHE_DIR"
#: the point before any migration (an empty database)
NOTHING = "none"
#: with a pre-migration state, the replay also records the schema after each migration applied
#: since, up to this many, so a drop is attributed to the migration that made it
MAX_TRACED = 20


@dataclass
class Expected:
    """The expected schema and where it came from."""

    schema: dict[str, Any] | None  # None: it could not be built (``error`` says why)
    source: str  # "rehearsal", "replay" or "cache"
    where: str  # the rehearsal's scratch database, or the cache file
    migrations: list[str] = field(default_factory=list)  # labels, in order
    #: the schema the migrations started from when they did not create the database from empty
    #: (the adopted baseline's; empty without a 000 baseline); None when they did (replay only)
    baseline: dict[str, Any] | None = None
    #: the history starts with adopted migrations (see the module doc): what the database held
    #: then is explained by the adoption
    adopted: bool = False
    at_before: dict[str, Any] | None = None  # at the pre-migration version (replay only)
    after: dict[str, dict[str, Any]] = field(default_factory=dict)  # label → schema after it (replay only)
    error: str | None = None
    #: False when the migrations did not create the database from empty (adopted 000, no 000)
    from_empty: bool = True
    #: the version the pre-migration state was at (``NOTHING``: none; an adopted baseline counts
    #: as applied, since adopting it changes no schema)
    before_point: str = NOTHING

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "where": self.where, "migrations": self.migrations, "error": self.error,
                "created_from_empty": self.from_empty, "adopted_baseline": self.adopted}

    def undeclared_fails(self, d: schema.Difference, before_keys: set[str] | None) -> bool:
        """Is ``d``, an object only in the target, a failure? (The module doc.) ``before_keys``:
        the objects of the pre-migration inventory (``schema.object_keys``), when one is given."""
        if self.baseline is None:  # created from empty: every object is a migration's
            return True
        table = d.table
        if (table is not None and table in (self.schema or {}).get("tables", {})
                and table not in self.baseline.get("tables", {})):
            return True  # on a table a migration after the baseline created
        if before_keys is not None:
            return d.obj not in before_keys
        return not self.adopted


def adopted_prefix(chosen: list[mig.Migration], status: mig.Status) -> list[mig.Migration]:
    """The leading migrations of ``chosen`` the history records as adopted (or will: a 000 whose
    tables exist and no history yet): the adopted baseline is the schema after the last of them."""
    adopted = {a.version for a in status.applied if a.adopted}
    out = []
    for m in chosen:
        if m.version in adopted or (status.adoptable and m.number == 0):
            out.append(m)
        else:
            break
    return out


def applied_key(applied: list[mig.Applied]) -> list[list[str]]:
    """What a schema was built from: ``[[version, checksum], ...]`` of the applied migrations."""
    return [[a.version, a.checksum] for a in applied]


# -- 1. the rehearsal's copy -----------------------------------------------------------------
def from_rehearsal(run_dir: str | Path | None, applied: list[mig.Applied]) -> dict[str, Any] | None:
    """The schema the rehearsal of this run saved, when it was taken at exactly ``applied``."""
    if run_dir is None:
        return None
    path = Path(run_dir) / "rehearsal.json"
    if not path.is_file():
        return None
    rehearsed = json.loads(path.read_text())
    if not rehearsed.get("passed") or not rehearsed.get("schema"):
        return None
    if rehearsed.get("schema_applied") != applied_key(applied):
        return None
    return {"schema": rehearsed["schema"], "where": rehearsed.get("scratch") or str(path)}


# -- 2. the replay ---------------------------------------------------------------------------
def cache_dir(run_dir: str | Path | None) -> Path:
    """Where replayed schemas are cached (see the module doc)."""
    if run_dir is not None:
        return Path(run_dir).resolve().parent / ".cache" / "expected-schema"
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / "expected-schema"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "schema-runbook" / "expected-schema"


def _key(engine: "Engine", version: str, chosen: list[mig.Migration], undo: list[mig.Migration]) -> str:
    material = [engine.name, version, __version__, sqlglot.__version__,
                [[m.version, m.script.checksum_for(engine)] for m in chosen]]
    if undo:
        material.append([[m.version, m.rollback.checksum_for(engine) if m.rollback else None] for m in undo])
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def undone(version: str) -> str:
    """The key of the model after the rollback script of ``version`` in ``replay``'s result."""
    return f"undo {version}"


def replay(target: "Target", chosen: list[mig.Migration], points: set[str],
           undo: list[mig.Migration] = ()) -> dict[str, dict[str, Any]]:
    """Apply ``chosen`` in order on an empty scratch database of ``target``'s engine and return
    its model at each version of ``points`` (``NOTHING``: before any) and at the end (``"end"``).
    ``MigrationFailed``/``BadInput`` when a migration cannot run there. Then run the rollback
    scripts of ``undo`` (applied migrations, newest first), each in its own transaction, and keep
    the model after each (``undone(version)``); a script that fails there is
    ``{"error": ...}`` in its place, and the ones after it do not run."""
    from .migrate import on_scratch, prepare, run_in_transaction

    engine = target.kind
    models: dict[str, dict[str, Any]] = {}
    existing = engine.server_objects(target)  # the server's own (roles ...): not made again, never changed
    with engine.scratch_database(target, "expected") as scratch:
        if NOTHING in points:  # what the engine puts in an empty database (PostgreSQL: plpgsql)
            models[NOTHING] = _introspect(scratch)
        for i, m in enumerate(chosen, 1):
            progress.emit(f"expected schema: replaying {m.label} ({i}/{len(chosen)}) on a scratch database",
                          detail=True)
            prepared = on_scratch(m, prepare(m.script, engine), engine, existing, scratch.url.database)
            run_in_transaction(scratch, prepared, f"{m.label} (replayed for the expected schema)", m.version,
                               lambda conn: None)
            if m.version in points:
                models[m.version] = _introspect(scratch)
        models["end"] = _introspect(scratch)
        for m in undo:
            progress.emit(f"rollback check: running {m.label}'s rollback on the scratch database", detail=True)
            try:
                prepared = on_scratch(m, prepare(m.rollback, engine), engine, existing,
                                      scratch.url.database) if m.rollback else []
                run_in_transaction(scratch, prepared, f"{m.label} (rollback, replayed to check it)", m.version,
                                   lambda conn: None)
            except MigrationFailed as exc:
                models[undone(m.version)] = {"error": f"statement {exc.statement_no} (line {exc.line}): {exc.cause}"}
                break
            models[undone(m.version)] = _introspect(scratch)
        scratch.dispose()
    return models


def _introspect(target: "Target") -> dict[str, Any]:
    with target.kind.read_snapshot(target) as conn:
        return schema.introspect(conn, target.kind)


def replayed(target: "Target", chosen: list[mig.Migration], points: set[str],
             run_dir: str | Path | None, undo: list[mig.Migration] = ()) -> tuple[dict[str, dict[str, Any]], str, Path]:
    """``replay``'s models, from the cache when it has them all: ``(models, source, cache file)``."""
    engine = target.kind
    with target.engine().connect() as conn:
        version = engine.version_key(conn)
    path = cache_dir(run_dir) / f"{engine.name}-{_key(engine, version, chosen, list(undo))[:32]}.json"
    cached: dict[str, Any] = {}
    if path.is_file():
        try:
            cached = json.loads(path.read_text())
        except ValueError:
            cached = {}
    if "end" in cached and points <= cached.keys():
        return cached, "cache", path
    models = {**cached, **replay(target, chosen, points | {p for p in cached if p != "end" and not p.startswith("undo ")},
                                 undo)}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(models, sort_keys=True) + "\n")
    partial.replace(path)
    return models, "replay", path


# -- either ----------------------------------------------------------------------------------
def expected_schema(target: "Target", chosen: list[mig.Migration], status: mig.Status, *,
                    since: str | None = None, want_before: bool = False,
                    run_dir: str | Path | None = None) -> Expected:
    """The schema ``chosen`` (the target's applied migrations) declares: the rehearsal's when it
    matches, else a (cached) replay. ``want_before``: also the schema at ``since`` (the
    pre-migration version; ``None``: none applied), for telling drops the migrations made."""
    labels = [m.label for m in chosen]
    prefix = adopted_prefix(chosen, status)
    adopted = bool(prefix)
    # a database the migrations did not create from empty: an adopted baseline, or a folder without
    # a 000 baseline (the tables that were there before the first migration are nobody's)
    baseline_point = prefix[-1].version if adopted else (None if chosen and chosen[0].number == 0 else NOTHING)
    before_point = since or (baseline_point if adopted else None) or NOTHING
    if not chosen:  # nothing applied: nothing declared, no scratch database needed; whatever the
        # database holds was there before any migration (adopted as it is)
        nothing = schema.empty(target.kind.name)
        return Expected(nothing, "replay", "no applied migration", labels, baseline=nothing,
                        at_before=nothing, before_point=NOTHING, from_empty=False, adopted=True)
    rehearsed = from_rehearsal(run_dir, status.applied)
    if rehearsed is not None:
        return Expected(rehearsed["schema"], "rehearsal", rehearsed["where"], labels, before_point=before_point,
                        adopted=adopted)
    points = {p for p in (baseline_point, before_point if want_before else None) if p}
    later = [m for m in chosen if before_point == NOTHING or int(m.version) > int(before_point)]
    if want_before and len(later) <= MAX_TRACED:
        points |= {m.version for m in later}
    try:
        models, source, path = replayed(target, chosen, points, run_dir)
    except MigrationFailed as exc:
        return Expected(None, "replay", "", labels, before_point=before_point, from_empty=baseline_point is None, error=(
            f"replaying the applied migrations on an empty scratch database failed at migration {exc.version} "
            f"statement {exc.statement_no} (line {exc.line}): {exc.cause}"))
    except RunFailed as exc:  # e.g. no scratch database (PostgreSQL: the role needs CREATEDB)
        return Expected(None, "replay", "", labels, before_point=before_point, from_empty=baseline_point is None,
                        error=f"the applied migrations cannot be replayed: {exc}")
    except BadInput as exc:
        return Expected(None, "replay", "", labels, before_point=before_point, from_empty=baseline_point is None, error=f"the applied migrations cannot be replayed: {exc}")
    return Expected(models["end"], source, str(path), labels, from_empty=baseline_point is None, adopted=adopted,
                    baseline=models.get(baseline_point) if baseline_point else None,
                    at_before=models.get(before_point) if want_before else None, before_point=before_point,
                    after={m.label: models[m.version] for m in later if m.version in models})
