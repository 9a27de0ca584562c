"""``runbook import``: a history of migrations written for another tool, converted into a new
runbook migrations folder (``NNN_description.sql``, ``rollbacks/NNN_rollback_description.sql``).

Layouts read (``TOOLS``), told apart by their file names (``detect``):

* ``golang-migrate``: ``{version}_{title}.up.sql`` and ``.down.sql``, integer versions (timestamps too);
* ``flyway``: ``V{version}__{description}.sql`` and undo ``U{version}__{description}.sql``, in
  subfolders too (Flyway scans recursively); versions such as ``1``, ``1.1``, ``2_1`` ordered as
  Flyway does (numeric parts, ``_`` as ``.``, trailing zero parts ignored: ``1.0`` is ``1``);
  repeatable ``R__{description}.sql`` after them by description (Flyway's order); placeholders
  replaced, ``executeInTransaction=false`` script configuration carried over, each script decoded
  with its ``encoding``; the prefixes, separator and suffixes, the encoding and the history table
  as the project's ``flyway.toml``/``flyway.conf`` in the folder and the options set them
  (``runbook.flyway.settings``); baseline ``B`` migrations, SQL callbacks, Java-based migrations
  (in the folder, or in the JVM sources beside a ``src/main/resources`` folder) and settings
  that change what Flyway runs that import does not follow are refused;
* ``diesel``: ``{version}_{name}/up.sql`` and ``down.sql`` folders (version: the part before the
  first ``_``, dashes dropped, ordered as text as Diesel does);
* ``dbmate``: one ``{version}_{name}.sql`` with ``-- migrate:up`` and ``-- migrate:down`` sections;
* ``sqitch``: a project folder with ``sqitch.plan`` (and ``sqitch.conf``): each change's deploy,
  revert and verify scripts in plan order (``runbook.sqitch`` reads the project as Sqitch does);
  the engine (``pg``, ``sqlite``) is the project's dialect;
* ``prisma``: Prisma Migrate's ``{timestamp}_{name}/migration.sql`` folders (ordered by folder name,
  as Prisma does) and ``migration_lock.toml``, whose ``provider`` is the project's dialect; no
  down migrations (a ``down.sql`` written by hand after Prisma's guide becomes the rollback);
* ``sqlx``: ``{version}_{description}.sql``, or reversible ``.up.sql`` and ``.down.sql`` (never
  both kinds in one folder), integer versions ordered numerically. Its reversible files are
  golang-migrate's names too: such a folder is golang-migrate's unless it sits in a Rust crate
  (``Cargo.toml`` beside it), where ``--from`` must say which;
* ``goose``: one ``{version}_{name}.sql`` with ``-- +goose Up`` and ``-- +goose Down`` sections
  (``goose_sections`` reads the annotations as goose's parser does), integer versions from 1
  ordered numerically; the annotation lines are dropped, a ``StatementBegin`` / ``StatementEnd``
  block is kept as written (ended with ``;`` when goose's block had none: goose sent it as one
  statement), ``NO TRANSACTION`` is carried over as sqlx's ``-- no-transaction`` is. ``ENVSUB ON``
  (``${VAR}`` from goose's environment) and Go migrations (``{version}_{name}.go``) are refused:
  the runbook runs SQL it can read, and a history without them would have a hole;
* ``drizzle``: drizzle-kit's ``{tag}.sql`` files in the order its ``meta/_journal.json`` lists them
  (drizzle-orm's migrator reads that journal and nothing else: a ``.sql`` file it does not list is
  not carried over, said), the journal's ``dialect`` the project's (``turso`` is SQLite); no down
  migrations. Each is known to drizzle-orm's ``__drizzle_migrations`` (schema ``drizzle`` on
  PostgreSQL) by its ``when``: what is not after the table's latest ``created_at`` is applied, as
  its migrator decides.

The migrations are numbered ``001``, ``002``... in the tool's order; each file's header names the
tool's version and file (``-- Source:``; Sqitch: the change, its plan note and dependencies) and
the Risk Level lint's classification gives its statements (the project's own rules,
``runbook.lint``). Down scripts are copied as they are (an empty one stays empty: a declared no-op
rollback; lint and rollback decide what it means); Sqitch's verify scripts go to ``verify/``. Bad
input is refused before anything is written; the folder is written under a temporary name beside
the destination and renamed at the end.

Adoption (``adoption``): the other tool's own history table, read only, tells which imported
migrations a database already holds; the answer is the ``runbook baseline`` command that records
them (a dirty golang-migrate state, a failed Flyway, Prisma or sqlx migration is refused). goose's
``goose_db_version`` keeps a row per up and (in older goose) down: a version is applied when its
latest row says ``is_applied``; version 0 is goose's own first row. Flyway's
table is the project's (``table`` in its default schema); a version it records as applied from
code (``JDBC``, ``SPRING_JDBC``, ``CUSTOM``, ``SCRIPT`` rows: ``FLYWAY_NOT_SQL``) that the folder
does not hold as SQL is refused, naming its type; one the folder now holds is noted. Sqitch's registry
(a schema on PostgreSQL, a file beside the database on SQLite) records change ids, matched with
the plan's.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import flyway, poptemplate, sqitch
from .errors import BadInput
from .guards import read_migration_text
from .owner import owner_tag

if TYPE_CHECKING:
    import sqlalchemy as sa

    from .target import Target

TOOLS = ("golang-migrate", "flyway", "diesel", "dbmate", "sqitch", "prisma", "sqlx", "goose", "drizzle", "pop")
#: each tool's own history table (its default name)
HISTORY_TABLES = {"golang-migrate": "schema_migrations", "flyway": "flyway_schema_history",
                  "diesel": "__diesel_schema_migrations", "dbmate": "schema_migrations", "sqitch": "sqitch.changes",
                  "prisma": "_prisma_migrations", "sqlx": "_sqlx_migrations", "goose": "goose_db_version",
                  "drizzle": "__drizzle_migrations", "pop": "schema_migration"}
RISK_NOTE = "set by runbook import from lint's classification of the statements"
NOT_WRITTEN = "nothing was written"

_GOLANG = re.compile(r"^(?P<version>\d+)_(?P<name>.*)\.(?P<way>up|down)\.sql$")
FLYWAY = flyway.Settings()  # Flyway's defaults, for telling its files by name
_DIESEL = re.compile(r"^(?P<version>\d[\d-]*)_(?P<name>.+)$")
_DBMATE = re.compile(r"^(?P<version>\d+)_(?P<name>.*)\.sql$")
_DBMATE_UP = re.compile(r"^--\s*migrate:up(\s*$|\s+\S+)", re.M)  # dbmate's own patterns
_DBMATE_DOWN = re.compile(r"^--\s*migrate:down(\s*$|\s+\S+)$", re.M)
PRISMA_FILE, PRISMA_DOWN, PRISMA_LOCK = "migration.sql", "down.sql", "migration_lock.toml"
_PRISMA = re.compile(r"^(?:(?P<stamp>\d+)_)?(?P<name>.*)$")  # {timestamp}_{name}; Prisma takes any folder name
#: Prisma's ``provider`` (migration_lock.toml) -> the project dialect; other providers are refused
PRISMA_PROVIDERS = {"postgresql": "postgresql", "sqlite": "sqlite"}
SQLX_NO_TRANSACTION = "-- no-transaction"  # sqlx: the file's first bytes opt it out of a transaction
DRIZZLE_JOURNAL = Path("meta", "_journal.json")  # drizzle-kit's list of the folder's migrations
#: drizzle-kit's ``dialect`` (its journal; older drizzle-kit wrote ``pg``) -> the project dialect;
#: other dialects are refused
DRIZZLE_DIALECTS = {"postgresql": "postgresql", "pg": "postgresql", "sqlite": "sqlite", "turso": "sqlite"}
DRIZZLE_SCHEMA = "drizzle"  # PostgreSQL: drizzle-orm's migrator keeps its table in this schema
#: a line goose's parser reads as an annotation: a comment naming ``+goose`` (goose refuses one it does not know)
_GOOSE_ANNOTATION = re.compile(r"^[ \t]*--.*\+goose", re.M)
#: pop / ory popx: {version}_{name}[.{database}][.autocommit].(up|down).(sql|fizz) (popx's own pattern, fizz
#: added: pop's DSL, refused by name)
_POP = re.compile(r"^(?P<version>\d+)_(?P<name>[^.]+)(?P<db>\.[a-z0-9]+)?(?P<autocommit>\.autocommit)?"
                  r"\.(?P<way>up|down)\.(?P<kind>sql|fizz)$")
#: pop's names of a database (``pop.CanonicalDialect``), as the runbook's dialects
POP_DATABASES = {"postgres": "postgresql", "postgresql": "postgresql", "pg": "postgresql", "sqlite3": "sqlite",
                 "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql", "cockroach": "cockroach",
                 "cockroachdb": "cockroach", "crdb": "cockroach"}
_GOOSE_GO = re.compile(r"^(?P<version>\d+)_.*\.go$")  # a Go migration (goose takes other .go files as helpers)


@dataclass(frozen=True)
class Recorded:
    """How a tool that records ids rather than versions knows a migration (Sqitch: the change's
    id, in its project's rows of a registry of that engine)."""

    id: str
    project: str
    registry: str
    engine: str | None  # the tool's engine, when its project says (Sqitch's core.engine)


@dataclass(frozen=True)
class Source:
    """One migration as the other tool has it."""

    version: str  # as the tool records it in its history table (Flyway: dots for underscores; Sqitch: name[@tag])
    name: str  # the description part of its file name
    files: tuple[Path, ...]  # where it comes from
    up: str
    down: str | None  # None: no down script
    key: tuple  # the tool's order
    notes: tuple[str, ...] = ()
    verify: str | None = None  # a verify script (Sqitch)
    date: str | None = None  # when it was written, when the tool says (else told from the version)
    description: str | None = None  # the tool's note on it (else the name)
    header: tuple[str, ...] = ()  # more header lines (Sqitch: its dependencies)
    recorded: Recorded | None = None  # how the tool's history knows it, when not by version
    repeatable: str | None = None  # Flyway's repeatable migration: its description, as its history records it
    checksums: tuple[int, ...] = ()  # Flyway's checksums of a repeatable migration that count as applied
    no_transaction: str | None = None  # where the tool was told to run it outside a transaction
    search_path: str | None = None  # Flyway's defaultSchema, set before its statements (--default-schema)
    history: tuple[str | None, str] | None = None  # (schema, name) of the tool's history table, when configured


@dataclass
class Imported:
    """What ``import_history`` wrote."""

    tool: str
    source: Path
    dest: Path
    dialect: str
    migrations: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lint: dict[str, Any] = field(default_factory=dict)

    def version_of(self, source_version: str) -> str:
        return next(m["version"] for m in self.migrations if m["source_version"] == source_version)

    def as_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "source": str(self.source), "dest": str(self.dest), "dialect": self.dialect,
                "migrations": self.migrations, "notes": self.notes, "lint": self.lint,
                "empty_rollbacks": [m["version"] for m in self.migrations if m["rollback"] == "empty"],
                "without_rollback": [m["version"] for m in self.migrations if m["rollback"] is None]}


# -- which tool ----------------------------------------------------------------------------------
def _entries(folder: Path) -> list[Path]:
    """The folder's entries a reader looks at: not hidden ones, notes (``.md``, ``.txt``), or Go
    files that are no migration (``_go_helper``)."""
    return [p for p in sorted(folder.iterdir())
            if not (p.name.startswith(".") or (p.is_file() and (p.suffix.lower() in (".md", ".txt") or _go_helper(p))))]


def _go_helper(path: Path) -> bool:
    """A Go file without a version (``main.go``, an ``embed`` file) or a test: goose and
    golang-migrate leave it alone (a ``{version}_{name}.go`` is a goose Go migration)."""
    return path.suffix == ".go" and (not _GOOSE_GO.match(path.name) or path.name.endswith("_test.go"))


def _flyway_files(folder: Path) -> list[Path]:
    """Every file under ``folder``, recursively (Flyway scans its locations recursively), in the
    order of their paths; hidden ones and notes (``.md``, ``.txt``) left out as ``_entries`` does."""
    files = [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".txt")
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return sorted(files, key=lambda p: p.relative_to(folder).parts)


def _is_flyway_file(name: str, fw: flyway.Settings = FLYWAY) -> bool:
    """A Flyway script, a script configuration file beside one, or an SQL callback."""
    return fw.parse(name) is not None or fw.is_callback(name) or fw.is_script_config(name)


def _java_migrations(folder: Path, fw: flyway.Settings) -> None:
    """``BadInput`` naming the Java-based migrations (``V3__Backfill.java``, ``.kt``, ``.class``)
    in ``folder`` and, when it is a Maven/Gradle resources folder (``src/main/resources/db/
    migration``), in the same package of the project's JVM sources (``src/main/java/db/
    migration``): Flyway's location ``classpath:db/migration`` runs both, in version order, and
    import, which reads SQL, would leave holes in the history."""
    places = [folder]
    parts = folder.resolve().parts
    for i in range(len(parts) - 2):
        if parts[i:i + 3] == ("src", "main", "resources"):
            root = Path(*parts[:i + 2])
            places += [root / lang / Path(*parts[i + 3:]) for lang in ("java", "kotlin", "groovy", "scala")]
    found = [p for place in places if place.is_dir() for p in _flyway_files(place) if fw.java_migration(p.name)]
    if not found:
        return
    shown = ", ".join(_rel(folder, p) if p.is_relative_to(folder) else str(p) for p in found[:5])
    beside = "" if all(p.is_relative_to(folder) for p in found) else (
        " (the project's JVM sources in the same package: Flyway's classpath location runs those classes beside this "
        "folder's scripts)")
    raise BadInput(f"{folder}: {shown}{' and more' if len(found) > 5 else ''}: Flyway Java-based migration(s){beside}. "
                   f"Flyway runs each as the migration of the version its class name says; import reads SQL only, so "
                   f"the history would have a hole there. Write what each does as an SQL migration of the same version "
                   f"and description in this folder ({_as_sql(found[0], fw)}), delete the class, and import again; "
                   f"{NOT_WRITTEN}")


def _as_sql(path: Path, fw: flyway.Settings) -> str:
    """The SQL file name a Java-based migration's file becomes."""
    return path.name[:-len(path.suffix)] + fw.suffixes[0]


def _claims(path: Path, fw: flyway.Settings = FLYWAY) -> tuple[str, ...]:
    """The tools whose layout ``path`` (an entry of the folder) belongs to (none: no known layout)."""
    if path.is_dir():
        if (path / PRISMA_FILE).is_file():
            return ("prisma",)
        if _DIESEL.match(path.name) and any((path / f).is_file() for f in ("up.sql", "down.sql")):
            return ("diesel",)
        files = _flyway_files(path)  # a subfolder of Flyway's location
        return ("flyway",) if files and all(_is_flyway_file(p.name, fw) for p in files) else ()
    if path.name == PRISMA_LOCK:
        return ("prisma",)
    pop = _POP.match(path.name)
    if pop and (pop["db"] or pop["autocommit"] or pop["kind"] == "fizz"):
        return ("pop",)  # a database or autocommit part, or pop's own DSL: no other tool names files so
    if _GOLANG.match(path.name):
        return ("golang-migrate", "sqlx", "pop")  # sqlx's reversible files have golang-migrate's names, pop's too
    if _is_flyway_file(path.name, fw) or path.name in flyway.CONFIG_FILES:
        return ("flyway",)
    if path.suffix == ".go":
        return ("goose",)  # a Go migration (read_goose refuses it, named)
    if _DBMATE.match(path.name):
        head = path.read_bytes()[:1 << 20].decode("utf-8", "replace")
        dbmate, goose = bool(_DBMATE_UP.search(head) or _DBMATE_DOWN.search(head)), bool(_GOOSE_ANNOTATION.search(head))
        if dbmate and goose:
            raise BadInput(f"{path}: holds both dbmate's `-- migrate:` sections and goose's `-- +goose` annotations, "
                           f"which no one tool reads: keep the one of the tool that ran it; {NOT_WRITTEN}")
        return ("dbmate",) if dbmate else ("goose",) if goose else ("sqlx",)
    return ()


def _named(paths: list[Path], most: int = 3) -> str:
    shown = ", ".join(p.name for p in paths[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")


def detect(folder: str | Path, tool: str | None = None, fw: flyway.Settings = FLYWAY) -> str:
    """The tool whose layout ``folder`` is in (``tool`` when given, checked); ``BadInput`` when the
    folder is missing or empty, holds files of no known layout, or of more than one, or Flyway's
    Java-based migrations (``_java_migrations``). ``fw``: how Flyway's files are named there."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"no such folder: {folder}; {NOT_WRITTEN}")
    if tool is not None and tool not in TOOLS:
        raise BadInput(f"unknown tool {tool!r}: expected one of {', '.join(TOOLS)}")
    if tool in (None, "sqitch") and any((folder / f).is_file() for f in ("sqitch.plan", "sqitch.conf")):
        return "sqitch"  # a project folder: its plan says which files are scripts
    if tool == "sqitch":
        raise BadInput(f"{folder} holds no sqitch.plan or sqitch.conf ({LAYOUTS[tool]}); {NOT_WRITTEN}")
    if tool in (None, "drizzle") and (folder / DRIZZLE_JOURNAL).is_file():
        return "drizzle"  # drizzle-kit's folder: its journal says which files are migrations
    if tool == "drizzle":
        raise BadInput(f"{folder} holds no {DRIZZLE_JOURNAL} ({LAYOUTS[tool]}; drizzle-orm's migrator reads that "
                       f"journal and nothing else); {NOT_WRITTEN}")
    if tool in (None, "flyway"):
        _java_migrations(folder, fw)
        if fw.locations:
            return "flyway"  # its configuration file says which folders are Flyway's: read_flyway reads those
    claims = {p: _claims(p, fw) for p in _entries(folder)}
    if tool == "diesel" or (tool is None and any(claims.values()) and all(c == ("diesel",) for c in claims.values() if c)):
        claims = {p: c for p, c in claims.items() if c or not p.is_file()}  # Diesel runs folders only (read_diesel)
    unknown = [p for p, c in claims.items() if not c]
    if tool is not None:
        others = [p for p, c in claims.items() if c and tool not in c]
        if unknown or others:
            raise BadInput(f"{folder}: {_named(unknown + others)} {'is' if len(unknown + others) == 1 else 'are'} "
                           f"not in {tool}'s layout ({LAYOUTS[tool]}); {NOT_WRITTEN}")
        if not any(tool in c for c in claims.values()):
            raise BadInput(f"{folder} holds no {tool} migrations ({LAYOUTS[tool]}); {NOT_WRITTEN}")
        return tool
    claimed = [c for c in claims.values() if c]
    fits = [t for t in TOOLS if claimed and all(t in c for c in claimed)]
    if claimed and not fits:
        by_tool: dict[str, list[Path]] = {}
        for p, c in claims.items():
            if c:
                by_tool.setdefault(c[0], []).append(p)
        mixed = "; ".join(f"{t}: {_named(ps, 2)}" for t, ps in sorted(by_tool.items()))
        raise BadInput(f"{folder} mixes layouts ({mixed}): import one tool's folder at a time; {NOT_WRITTEN}")
    if unknown:
        known = f" (the others are in {' or '.join(fits)}'s layout)" if fits else ""
        if fits == ["flyway"] and any(fw.parse(p.name[0].upper() + p.name[1:]) for p in unknown):
            known += (" (Flyway's prefixes V, U and R are case-sensitive: Flyway itself skips such a file without "
                      "running it; rename it, or move it out of the folder)")
        raise BadInput(f"{folder}: {_named(unknown)} {'is' if len(unknown) == 1 else 'are'} in no known layout{known}; "
                       f"expected one of: {'; '.join(f'{t} {s}' for t, s in LAYOUTS.items())}; {NOT_WRITTEN}")
    if not fits:
        raise BadInput(f"{folder} holds no migrations; {NOT_WRITTEN}")
    if len(fits) > 1 and (folder.parent / "Cargo.toml").is_file() and not (folder.parent / "go.mod").is_file():
        fits = [t for t in fits if t != "pop"]  # Go's pop names files as golang-migrate does: not in a Rust crate
        raise BadInput(f"{folder}: its file names ({_named(list(claims), 2)}) are in {' and '.join(fits)}'s layouts "
                       f"alike, and the folder sits in a Rust crate ({folder.parent / 'Cargo.toml'}): the layout alone "
                       f"cannot tell which tool wrote it; say which with {' or '.join(f'--from {t}' for t in fits)}; "
                       f"{NOT_WRITTEN}")
    return fits[0]  # golang-migrate's .up.sql/.down.sql elsewhere, as before sqlx was read


# -- reading each layout -------------------------------------------------------------------------
def _text(path: Path, encoding: str = "UTF-8") -> str:
    return read_migration_text(path, done=NOT_WRITTEN, encoding=encoding)


def _rel(folder: Path, path: Path) -> str:
    """``path`` as its folder's reader names it: relative to ``folder`` (a file name in a flat one)."""
    return str(path.relative_to(folder)) if path.is_relative_to(folder) else path.name


def _pair(folder: Path, found: dict[tuple, dict[str, Any]], key: tuple, version: str, way: str, path: Path,
          name: str) -> None:
    entry = found.setdefault(key, {"version": version, "name": name})
    if way in entry:
        raise BadInput(f"{folder}: two {'migrations' if way == 'up' else 'down scripts'} with version {version}: "
                       f"{_rel(folder, entry[way])} and {_rel(folder, path)}; {NOT_WRITTEN}")
    entry[way] = path
    if way == "up":
        entry["name"], entry["version"] = name, version


def _sources(folder: Path, found: dict[tuple, dict[str, Any]], read: Callable[[Path], str] = _text) -> list[Source]:
    only_down = [e["down"] for e in found.values() if "up" not in e]
    if only_down:
        raise BadInput(f"{folder}: {_named(only_down)}: a down script without its up script "
                       f"(version{'s' if len(only_down) > 1 else ''} "
                       f"{', '.join(e['version'] for e in found.values() if 'up' not in e)}); {NOT_WRITTEN}")
    out = []
    for key, e in sorted(found.items()):
        files = tuple(p for p in (e["up"], e.get("down")) if p is not None)
        out.append(Source(e["version"], e["name"], files, read(e["up"]),
                          read(e["down"]) if e.get("down") else None, key))
    return out


def read_golang_migrate(folder: Path) -> list[Source]:
    found: dict[tuple, dict[str, Any]] = {}
    for path in _entries(folder):
        m = _GOLANG.match(path.name)
        number = int(m["version"])
        _pair(folder, found, (number,), str(number), m["way"], path, m["name"])
    return _sources(folder, found)


def flyway_key(version: str) -> tuple[int, ...]:
    """Flyway's order of a version: its numeric parts (``_`` read as ``.``), trailing zero parts
    dropped (``1.0`` is ``1``)."""
    parts = [int(p) for p in version.replace("_", ".").split(".") if p != ""]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


REPEATABLE_NOTE = ("Repeatable: Flyway re-applied this file (after the versioned migrations, in the order of the "
                   "descriptions) whenever its checksum changed; here it is one migration, applied once: a later "
                   "change to it is a new migration in this folder")


def read_flyway(folder: Path, fw: flyway.Settings = FLYWAY) -> list[Source]:
    """Flyway's scripts under ``folder`` (recursively; only under ``fw.locations`` when its
    configuration file names them), named as ``fw`` says: versioned ones (with their undo
    scripts) by version, then repeatable ones by description; each decoded with its encoding
    (its script configuration's, else ``fw.encoding``); ``fw.placeholders`` replaced in both,
    with Flyway's built-ins ``runbook.flyway`` knows (not when ``fw.replacement`` is off: the
    project sets Flyway's ``placeholderReplacement=false``, so ``${...}`` stays as written).
    ``fw.default_schema``: the project's ``defaultSchema`` (or first of ``schemas``), which
    Flyway puts first in PostgreSQL's ``search_path`` for every script and creates when missing:
    each migration and rollback starts with that ``SET search_path``, the first with ``CREATE
    SCHEMA IF NOT EXISTS`` too (``_in_schema``). ``BadInput`` for what Flyway refuses (two scripts
    of one version or description), for callbacks and baseline migrations, a file in a location
    that is no Flyway file, a placeholder without a value, a script configuration import does
    not read, a file not in its encoding."""
    files = [p for p in _flyway_files(folder) if p.parent != folder or p.name not in flyway.CONFIG_FILES]
    if fw.locations:
        files = [p for p in files if any(p.resolve().is_relative_to(place) for place in fw.locations)]
        strays = [p for p in files if not _is_flyway_file(p.name, fw)]
        if strays:
            raise BadInput(f"{folder}: {', '.join(_rel(folder, p) for p in strays[:3])}: not Flyway's files "
                           f"({LAYOUTS['flyway']}, as {fw.config_file.name if fw.config_file else 'Flyway'} names them), "
                           f"in its locations; {NOT_WRITTEN}")
    callbacks = [p for p in files if fw.is_callback(p.name.removesuffix(".conf"))]
    if callbacks:
        raise BadInput(f"{folder}: {', '.join(_rel(folder, p) for p in callbacks[:5])}: Flyway SQL callback(s), not "
                       f"migrations: Flyway runs such a script at a point of every command (beforeMigrate before "
                       f"each `flyway migrate`, afterEachMigrate after each migration...), whatever is pending, and "
                       f"the runbook has no such hooks. Put what it does into a migration (once), or run it yourself "
                       f"around `runbook run`; then move it out of the folder and import again; {NOT_WRITTEN}")
    configs = {p for p in files if fw.is_script_config(p.name)}
    orphans = [p for p in configs if p.with_name(p.name.removesuffix(".conf")) not in files]
    if orphans:
        raise BadInput(f"{folder}: {_rel(folder, orphans[0])}: a script configuration file without its script "
                       f"({orphans[0].name.removesuffix('.conf')}); {NOT_WRITTEN}")
    found: dict[tuple, dict[str, Any]] = {}
    repeatable: dict[str, tuple[Path, str]] = {}
    refused: dict[str, list[Path]] = {}
    for path in files:
        if path in configs:
            continue
        kind, version, name = fw.parse(path.name)
        if kind == "R" and not version:
            described = flyway.description(name)
            if described in repeatable:
                raise BadInput(f"{folder}: two repeatable migrations with description {described!r}: "
                               f"{_rel(folder, repeatable[described][0])} and {_rel(folder, path)} (Flyway refuses "
                               f"them too); {NOT_WRITTEN}")
            repeatable[described] = (path, name)
            continue
        if kind in "RB" or not version:
            refused.setdefault(kind, []).append(path)
            continue
        version = version.replace("_", ".")
        _pair(folder, found, flyway_key(version), version, "up" if kind == "V" else "down", path, name)
    if refused.get("B"):
        raise BadInput(f"{folder}: Flyway baseline migrations ({', '.join(_rel(folder, p) for p in refused['B'][:10])})"
                       f" are not imported: they replace the versions below them only on new databases; remove them "
                       f"(or the versions they stand for) and import again; {NOT_WRITTEN}")
    bad = refused.get("V", []) + refused.get("U", []) + refused.get("R", [])
    if bad:
        raise BadInput(f"{folder}: {', '.join(_rel(folder, p) for p in bad[:3])}: no version Flyway can read (a "
                       f"repeatable migration has none: {fw.repeatable_prefix}{fw.separator}description"
                       f"{fw.suffixes[0]}); {NOT_WRITTEN}")
    given = {"flyway:table": fw.table} | ({"flyway:defaultschema": fw.default_schema} if fw.default_schema else {}) \
        | fw.placeholders
    script_configs: dict[Path, dict[str, str]] = {}

    def config(path: Path) -> dict[str, str]:
        conf = path.with_name(path.name + ".conf")
        if conf in configs and conf not in script_configs:
            script_configs[conf] = flyway.script_config(conf, _rel(folder, conf))
        return script_configs.get(conf, {})

    def encoding(path: Path) -> str:
        return config(path).get("encoding", fw.encoding)

    def replaced(path: Path, text: str) -> str:
        if not fw.replacement:
            return text
        return flyway.replace_placeholders(text, given | {"flyway:filename": path.name}, path, _rel(folder, path))

    def read(path: Path) -> str:
        return replaced(path, _text(path, encoding(path)))

    def outside(path: Path) -> str | None:
        conf = path.with_name(path.name + ".conf")
        return f"executeInTransaction=false ({_rel(folder, conf)})" if config(path).get("executeInTransaction") \
            == "false" else None

    out = []
    for s in _sources(folder, found, read):
        if len(s.files) > 1 and outside(s.files[1]):
            raise BadInput(f"{folder}: {_rel(folder, s.files[1])}.conf: executeInTransaction=false for an undo "
                           f"script, which import does not carry over; {NOT_WRITTEN}")
        where = outside(s.files[0])
        out.append(replace(s, no_transaction=where, header=_no_transaction_header("Flyway", where)))
    for described in sorted(repeatable):
        path, name = repeatable[described]
        text = read(path)  # refuses what is not in its encoding first
        raw = flyway.raw_text(path, encoding(path))
        sums = (flyway.checksum(replaced(path, raw)), flyway.checksum(raw))
        where = outside(path)
        out.append(Source(f"R__{name}", name, (path,), text, None, ("R", described),
                          description=described, repeatable=described, checksums=tuple(dict.fromkeys(sums)),
                          no_transaction=where, header=(REPEATABLE_NOTE,) + _no_transaction_header("Flyway", where)))
    if not out:
        raise BadInput(f"{folder} holds no Flyway migrations ({LAYOUTS['flyway']}); {NOT_WRITTEN}")
    out = [replace(s, history=fw.history) for s in out]
    return out if fw.default_schema is None else [_in_schema(s, fw.default_schema, first=n == 0)
                                                   for n, s in enumerate(out)]


def _in_schema(s: Source, schema: str, first: bool) -> Source:
    """``s`` as Flyway ran it with ``defaultSchema`` ``schema`` on PostgreSQL: ``search_path`` set
    to the schema before the connection's own (PostgreSQL's default ``"$user", public``), the
    schema created when missing before the first migration (Flyway's ``createSchemas``)."""
    quoted = '"' + schema.replace('"', '""') + '"'
    path = f'SET search_path TO {quoted}, "$user", public;\n'
    create = f"CREATE SCHEMA IF NOT EXISTS {quoted};\n" if first else ""
    note = (f"Flyway: defaultSchema {schema} (--default-schema): Flyway set search_path to it, before the "
            f"connection's own, for every script{', and created it when missing' if first else ''}; the first "
            f"statement{'s' if first else ''} below do{'' if first else 'es'} the same")
    return replace(s, up=create + path + s.up, down=None if s.down is None else path + s.down,
                   header=s.header + (note,), search_path=schema)


def _no_transaction_header(tool: str, where: str | None) -> tuple[str, ...]:
    """The header line of a migration ``tool`` ran outside a transaction (``where`` it was told to)."""
    if where is None:
        return ()
    return (f"{tool}: {where}: a statement the engine refuses inside a transaction runs outside one (alone in its "
            "migration); the others run in the migration's transaction",)


def read_diesel(folder: Path) -> list[Source]:
    """Diesel's migration folders; a file beside them is not run by Diesel (it reads folders
    only) and is not imported, named in the first migration's notes (crates.io keeps a data
    script there)."""
    found: dict[tuple, dict[str, Any]] = {}
    notes: dict[tuple, tuple[str, ...]] = {}
    loose = [p for p in _entries(folder) if p.is_file()]
    for path in _entries(folder):
        if path.is_file():
            continue
        m = _DIESEL.match(path.name)
        version = m["version"].replace("-", "")
        key = (version,)
        extra = [p for p in _entries(path) if p.name not in ("up.sql", "down.sql")]
        others = [p for p in extra if p.name != "metadata.toml"]
        if others:
            raise BadInput(f"{path}: {_named(others)}: not part of a Diesel migration (up.sql, down.sql, "
                           f"metadata.toml); {NOT_WRITTEN}")
        if extra:
            notes[key] = (f"{path.name}/metadata.toml not carried over (runbook runs a statement outside a "
                          "transaction when the engine requires it, alone in its migration)",)
        if key in found:
            raise BadInput(f"{folder}: two migrations with version {version}: {found[key]['dir'].name} and "
                           f"{path.name}; {NOT_WRITTEN}")
        found[key] = {"version": version, "name": m["name"], "dir": path}
        for way in ("up", "down"):
            if (path / f"{way}.sql").is_file():
                found[key][way] = path / f"{way}.sql"
    sources = _sources(folder, found)
    if loose and sources:
        notes[sources[0].key] = (f"not imported: {_named(loose, 5)}, beside the migration folders: Diesel runs "
                                 "folders only",) + notes.get(sources[0].key, ())
    return [Source(s.version, s.name, s.files, s.up, s.down, s.key, notes.get(s.key, ())) for s in sources]


def dbmate_sections(path: Path) -> tuple[str, str | None, tuple[str, ...]]:
    """The up and down sections of a dbmate file (the text after each directive line), and notes
    on the directives' options; ``BadInput`` as dbmate refuses the file."""
    text = _text(path)
    up, down = _DBMATE_UP.search(text), _DBMATE_DOWN.search(text)
    if up is None:
        raise BadInput(f"{path}: no `-- migrate:up` section"
                       + (" (a down section without its up)" if down else "") + f"; {NOT_WRITTEN}")
    if down is not None and down.start() < up.start():
        raise BadInput(f"{path}: `-- migrate:down` comes before `-- migrate:up`; {NOT_WRITTEN}")
    before = [line for line in text[:up.start()].splitlines() if line.strip() and not line.lstrip().startswith("--")]
    if before:
        raise BadInput(f"{path}: statements before `-- migrate:up` ({before[0].strip()[:60]}); {NOT_WRITTEN}")

    def line_of(m: re.Match[str]) -> tuple[str, int]:  # the directive's line, and where the next one starts
        end = text.find("\n", m.start())
        return (text[m.start():], len(text)) if end < 0 else (text[m.start():end], end + 1)

    def body(m: re.Match[str], end: int) -> str:
        return text[line_of(m)[1]:end]

    notes = tuple(f"{path.name}: `{line_of(m)[0].strip()}`: options not carried over (runbook runs a statement "
                  "outside a transaction when the engine requires it, alone in its migration)"
                  for m in (up, down) if m is not None and line_of(m)[0].split("migrate:", 1)[1].split(None, 1)[1:])
    return body(up, down.start() if down else len(text)), body(down, len(text)) if down else None, notes


def read_dbmate(folder: Path) -> list[Source]:
    found: dict[tuple, dict[str, Any]] = {}
    for path in _entries(folder):
        m = _DBMATE.match(path.name)
        number = int(m["version"])
        _pair(folder, found, (number,), m["version"], "up", path, m["name"])
    out = []
    for key, e in sorted(found.items()):
        up, down, notes = dbmate_sections(e["up"])
        out.append(Source(e["version"], e["name"], (e["up"],), up, down, key, notes))
    return out


def read_sqitch(folder: Path) -> list[Source]:
    """A Sqitch project's changes in plan order (``runbook.sqitch`` reads its conf and plan); a
    reworked change's earlier instances are their own migrations, with their ``@tag`` scripts."""
    conf = sqitch.settings(folder)
    plan = sqitch.read_plan(conf.plan_file)
    if not plan.changes:
        raise BadInput(f"{conf.plan_file} plans no changes; {NOT_WRITTEN}")
    out, missing = [], []
    for number, change in enumerate(plan.changes):
        label = sqitch.script_name(change, conf.deploy_dir, conf.extension)
        deploy, revert, verify = (d / f"{label}.{conf.extension}" for d in (conf.deploy_dir, conf.revert_dir, conf.verify_dir))
        if not deploy.is_file():
            missing.append(deploy)
            continue
        header = ((f"Requires: {', '.join(change.requires)} (planned earlier: the order of these migrations keeps it)",)
                  if change.requires else ()) + \
                 ((f"Conflicts: {', '.join(change.conflicts)} (not checked by the runbook)",) if change.conflicts else ())
        out.append(Source(label, change.name, tuple(p for p in (deploy, revert, verify) if p.is_file()), _text(deploy),
                          _text(revert) if revert.is_file() else None, (number,),
                          verify=_text(verify) if verify.is_file() else None, date=change.timestamp[:10],
                          description=" ".join(change.note.split()) or None, header=header,
                          recorded=Recorded(change.id, plan.project, conf.registry, conf.engine)))
    if missing:
        raise BadInput(f"{conf.plan_file}: {len(missing)} change(s) without a deploy script: "
                       f"{', '.join(str(p.relative_to(folder)) for p in missing[:3])}; {NOT_WRITTEN}")
    external = sorted({d for c in plan.changes for d in c.requires if ":" in d})
    if external:
        out[0] = replace(out[0], notes=(f"{conf.plan_file.name}: requires changes of other Sqitch projects "
                                        f"({', '.join(external[:3])}): deploy them before these migrations",))
    return out


def _no_down_note(tool: str) -> str:
    return (f"{tool} writes no down migrations, so these have no rollback file: until rollbacks/NNN_rollback_*.sql "
            "are written, lint reports rollback-missing for the Category 2 and 3 ones, `runbook migrate` applies those "
            "only with --allow-risk, and `runbook run` (which rolls a failed run back) only with --no-rollback")

def read_prisma(folder: Path) -> list[Source]:
    """Prisma Migrate's folders, by folder name; each ``migration.sql`` a migration without a down
    script (Prisma writes none), unless a ``down.sql`` was written beside it by hand."""
    found: dict[tuple, dict[str, Any]] = {}
    notes: dict[tuple, tuple[str, ...]] = {}
    for path in _entries(folder):
        if not path.is_dir():
            continue  # migration_lock.toml (detect admits no other file): see prisma_dialect
        key = (path.name,)
        found[key] = {"version": path.name, "name": _PRISMA.match(path.name)["name"], "up": path / PRISMA_FILE}
        extra = [p for p in _entries(path) if p.name not in (PRISMA_FILE, PRISMA_DOWN)]
        if (path / PRISMA_DOWN).is_file():
            found[key]["down"] = path / PRISMA_DOWN
            notes[key] = (f"{path.name}/{PRISMA_DOWN}: taken as the rollback (Prisma never runs it: a down "
                          "migration written after Prisma's guide)",)
        if extra:
            notes[key] = notes.get(key, ()) + (f"{path.name}: {_named(extra)} not carried over (Prisma reads only "
                                               f"{PRISMA_FILE})",)
    if not found:
        raise BadInput(f"{folder} holds no Prisma migrations ({LAYOUTS['prisma']}); {NOT_WRITTEN}")
    sources = _sources(folder, found)
    notes[sources[0].key] = (_no_down_note("Prisma Migrate"),) + notes.get(sources[0].key, ())
    return [replace(s, notes=notes.get(s.key, ()), date=_date_of(_PRISMA.match(s.version)["stamp"] or ""))
            for s in sources]


def prisma_dialect(folder: Path) -> str | None:
    """The dialect ``migration_lock.toml`` names (None without the file); ``BadInput`` for a
    provider the runbook does not run (MySQL, SQL Server, CockroachDB, MongoDB...)."""
    import tomllib

    lock = folder / PRISMA_LOCK
    if not lock.is_file():
        return None
    try:
        provider = tomllib.loads(_text(lock)).get("provider")
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{lock}: not TOML Prisma wrote ({exc}); {NOT_WRITTEN}") from None
    if provider not in PRISMA_PROVIDERS:
        raise BadInput(f"{lock}: provider = {provider!r}: the runbook runs {' and '.join(PRISMA_PROVIDERS)} "
                       f"migrations only, so this history cannot be imported; {NOT_WRITTEN}")
    return PRISMA_PROVIDERS[provider]


def drizzle_journal(folder: Path) -> dict[str, Any]:
    """drizzle-kit's ``meta/_journal.json``, its entries checked (``idx``, ``when``, ``tag``)."""
    import json

    path = folder / DRIZZLE_JOURNAL
    try:
        journal = json.loads(_text(path))
        entries = journal["entries"]
        for e in entries:
            int(e["when"]), str(e["tag"])  # noqa: B018  # each entry has both, as drizzle reads them
    except (ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"{path}: not a journal drizzle-kit wrote ({type(exc).__name__}: {exc}); {NOT_WRITTEN}") from None
    if not entries:
        raise BadInput(f"{path} lists no migrations; {NOT_WRITTEN}")
    return journal


def drizzle_dialect(folder: Path) -> str:
    """The dialect the journal names; ``BadInput`` for one the runbook does not run (MySQL, ...)."""
    said = drizzle_journal(folder).get("dialect")
    if said not in DRIZZLE_DIALECTS:
        raise BadInput(f"{folder / DRIZZLE_JOURNAL}: dialect {said!r}: the runbook runs PostgreSQL and SQLite "
                       f"migrations only ({', '.join(DRIZZLE_DIALECTS)}), so this history cannot be imported; {NOT_WRITTEN}")
    return DRIZZLE_DIALECTS[said]


def read_drizzle(folder: Path) -> list[Source]:
    """drizzle-kit's migrations in its journal's order, each ``{tag}.sql`` a migration without a
    down script (drizzle-kit writes none), known to drizzle-orm's table by its ``when`` (the
    journal's milliseconds, its ``created_at``). Its ``--> statement-breakpoint`` markers are SQL
    comments, kept: the engine's reader splits the statements as drizzle did. A ``.sql`` file the
    journal does not list is one drizzle never runs: not carried over, said."""
    journal = drizzle_journal(folder)
    out, whens = [], []
    for i, e in enumerate(journal["entries"]):
        path = folder / f"{e['tag']}.sql"
        if not path.is_file():
            raise BadInput(f"{folder / DRIZZLE_JOURNAL} lists {e['tag']}, and {path.name} is not there (drizzle-orm "
                           f"stops there too: \"No file ... found\"); {NOT_WRITTEN}")
        when = int(e["when"])
        name = e["tag"].split("_", 1)[1] if re.match(r"^\d+_.", e["tag"]) else e["tag"]
        stamp = datetime.fromtimestamp(when / 1000, tz=timezone.utc).date().isoformat() if when > 0 else None
        out.append(Source(str(when), name, (path,), _text(path), None, (i,), date=stamp))
        whens.append(when)
    notes = [_no_down_note("drizzle-kit")]
    if whens != sorted(set(whens)):
        notes.append(f"{DRIZZLE_JOURNAL}: the entries' `when` do not increase in journal order: drizzle-orm skips a "
                     "migration whose `when` is not after the last one a database recorded, so such a database may "
                     "lack one; adoption (--db) refuses it")
    unlisted = [p for p in _entries(folder) if p.is_file() and p.suffix == ".sql"
                and p.name not in {f"{e['tag']}.sql" for e in journal["entries"]}]
    if unlisted:
        notes.append(f"{_named(unlisted)}: not in {DRIZZLE_JOURNAL}, so drizzle never runs "
                     f"{'it' if len(unlisted) == 1 else 'them'}: not carried over")
    out[0] = replace(out[0], notes=tuple(notes))
    return out


def read_sqlx(folder: Path) -> list[Source]:
    """sqlx's files by integer version: simple ones, or reversible up/down pairs (sqlx refuses a
    folder of both kinds)."""
    found: dict[tuple, dict[str, Any]] = {}
    kinds: dict[str, list[Path]] = {}
    for path in _entries(folder):
        m = _GOLANG.match(path.name) or _DBMATE.match(path.name)
        reversible = "way" in m.groupdict()
        kinds.setdefault("reversible" if reversible else "simple", []).append(path)
        number = int(m["version"])
        _pair(folder, found, (number,), str(number), m["way"] if reversible else "up", path, m["name"])
    if len(kinds) > 1:
        raise BadInput(f"{folder} mixes sqlx's simple migrations ({_named(kinds['simple'])}) with reversible ones "
                       f"({_named(kinds['reversible'])}), which sqlx refuses (were it golang-migrate's folder, the "
                       f"simple ones would be in no layout of it); {NOT_WRITTEN}")
    return [replace(s, notes=tuple(
        f"{p.name}: `{SQLX_NO_TRANSACTION}`: the runbook runs a statement outside a transaction when the engine "
        "requires it, alone in its migration, and the others in one transaction"
        for p, text in zip(s.files, (s.up, s.down)) if (text or "").startswith(SQLX_NO_TRANSACTION)))
        for s in _sources(folder, found)]


GOOSE_NO_TRANSACTION = "-- +goose NO TRANSACTION"
#: goose's annotations (it reads them ignoring case), as its docs spell them
_GOOSE_KNOWN = {a.lower(): a for a in ("Up", "Down", "StatementBegin", "StatementEnd", "NO TRANSACTION", "ENVSUB ON",
                                       "ENVSUB OFF")}


def _goose_annotation(line: str) -> str:
    """The annotation ``line`` (a comment naming ``+goose``) is, as goose's parser reads it: every
    ``--`` and the first ``+goose`` taken out, the rest compared ignoring case; ``ValueError``
    saying why for a line goose refuses."""
    if line[:1] in (" ", "\t"):
        raise ValueError(f"an indented annotation, `{line.strip()}` (goose reads annotations at the start of a line)")
    command = line.replace("--", "").replace("+goose", "", 1)
    if "+goose" in command or command.strip().lower() not in _GOOSE_KNOWN:
        raise ValueError(f"`{line.strip()}`, not an annotation goose knows ({', '.join(_GOOSE_KNOWN.values())})")
    return _GOOSE_KNOWN[command.strip().lower()]


def _goose_ends(line: str) -> bool:
    """goose's end of a statement: the line's last word before a ``--`` comment ends with ``;``."""
    words = []
    for word in line.split():
        if word.startswith("--"):
            break
        words.append(word)
    return bool(words) and words[-1].endswith(";")


def _is_code(line: str) -> bool:
    return bool(line.strip()) and not line.strip().startswith("--")


def goose_sections(path: Path) -> tuple[str, str | None, bool]:
    """The Up and Down sections of a goose SQL migration (annotation lines dropped, the rest as
    written) and whether it is ``NO TRANSACTION``, read as goose's parser reads the file. goose
    sends a ``StatementBegin`` ... ``StatementEnd`` block as one statement: one whose text does not
    end with ``;`` gets one, on its own line, so that the engine's reader ends it where goose did.
    ``BadInput`` for what goose refuses (no Up annotation, SQL before it, an annotation it does not
    know or out of place, a block not closed, a statement without its ``;`` at the end of a
    section) and for ``ENVSUB ON``, whose values came from goose's environment."""
    text = _text(path)
    sections: dict[str, list[str]] = {}
    section: str | None = None
    block = False
    statement: list[str] = []  # the statement goose is reading: from its first line of code to its end
    no_transaction = False

    def refuse(number: int, what: str) -> BadInput:
        return BadInput(f"{path}:{number}: {what} (goose refuses the file too); {NOT_WRITTEN}")

    def code() -> list[str]:  # the statement's lines of code (goose's buffer, comments aside)
        return [line for line in statement if _is_code(line)]

    def check_ended(number: int) -> None:
        if code():
            raise refuse(number, f"the {section} section ends inside a statement, `{code()[0].strip()[:60]}`: missing "
                                 f"its `;`?")

    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines, 1):
        if line.strip().startswith("--") and "+goose" in line:
            try:
                kind = _goose_annotation(line.rstrip("\r\n"))
            except ValueError as exc:
                raise refuse(number, str(exc)) from None
            if kind == "Up" and section is not None:
                raise refuse(number, "a second `-- +goose Up`")
            if kind == "Down" and (section != "up" or block):
                raise refuse(number, "`-- +goose Down` " + ("before `-- +goose Up`" if section is None else
                                                           "a second time" if section == "down" else
                                                           "inside a StatementBegin block"))
            if kind == "StatementBegin" and (section is None or block):
                raise refuse(number, "`-- +goose StatementBegin` " + ("before `-- +goose Up`" if section is None else
                                                                     "inside another block"))
            if kind == "StatementEnd" and not block:
                raise refuse(number, "`-- +goose StatementEnd` without its StatementBegin")
            if kind == "ENVSUB ON":
                raise BadInput(f"{path}:{number}: `-- +goose ENVSUB ON`: goose replaced ${{VAR}} (and $VAR) in the "
                               f"lines after it with the values of its environment when it ran the file, which import "
                               f"cannot know. Write the values into the file (or take the annotation out if nothing "
                               f"there is substituted) and import again; {NOT_WRITTEN}")
            if kind == "Down":
                check_ended(number)
            if kind in ("Up", "Down"):
                section, statement = kind.lower(), []
                sections[section] = []
            elif kind == "StatementBegin":
                block = True
            elif kind == "StatementEnd":
                if code() and not _goose_ends(code()[-1]):
                    sections[section].append(";\n")  # type: ignore[index]
                block, statement = False, []
            elif kind == "NO TRANSACTION":
                no_transaction = True
            continue  # ENVSUB OFF: nothing was substituted
        if section is None:
            if _is_code(line):
                raise refuse(number, f"SQL before `-- +goose Up`: `{line.strip()[:60]}`")
            continue  # comments before the Up annotation, which goose skips
        sections[section].append(line)
        if statement or _is_code(line):
            statement.append(line)
            if not block and _goose_ends(line):
                statement = []
    if section is None:
        raise BadInput(f"{path}: no `-- +goose Up` annotation: goose refuses the file (a goose migration starts its "
                       f"statements with it); {NOT_WRITTEN}")
    if block:
        raise refuse(len(lines), "`-- +goose StatementBegin` without its `-- +goose StatementEnd`")
    check_ended(len(lines))
    return "".join(sections["up"]), "".join(sections["down"]) if "down" in sections else None, no_transaction


def read_goose(folder: Path) -> list[Source]:
    """goose's SQL migrations by integer version (``goose_sections``). Go migrations
    (``{version}_{name}.go``) are refused, named: the runbook runs SQL, and leaving them out would
    make a history with a hole (other ``.go`` files goose leaves alone, and so does ``_entries``)."""
    found: dict[tuple, dict[str, Any]] = {}
    go = []
    for path in _entries(folder):
        if path.suffix == ".go":
            go.append(path)
            continue
        m = _DBMATE.match(path.name)
        number = int(m["version"])
        if number < 1:
            raise BadInput(f"{folder}: {path.name}: version {m['version']}: goose takes versions from 1 (it refuses "
                           f"the file; 0 is its own first row in goose_db_version); {NOT_WRITTEN}")
        _pair(folder, found, (number,), str(number), "up", path, m["name"])
    if go:
        raise BadInput(f"{folder}: {_named(go, 10)}: goose Go migration(s): the runbook runs SQL only, and import "
                       f"does not leave them out (the history would have a hole). Write what each does as a goose SQL "
                       f"migration of the same version ({{version}}_{{name}}.sql with `-- +goose Up` and "
                       f"`-- +goose Down`; one that only changed rows every database already holds can say so in "
                       f"comments, with no statement), move the .go file out of the folder, and import again; "
                       f"{NOT_WRITTEN}")
    if not found:
        raise BadInput(f"{folder} holds no goose SQL migrations ({LAYOUTS['goose']}); {NOT_WRITTEN}")
    out = []
    for key, e in sorted(found.items()):
        up, down, no_transaction = goose_sections(e["up"])
        where = GOOSE_NO_TRANSACTION if no_transaction else None
        out.append(Source(e["version"], e["name"], (e["up"],), up, down, key, no_transaction=where,
                          header=_no_transaction_header("goose", where)))
    return out


def read_pop(folder: Path, dialect: str | None, placeholders: dict[str, str] | None = None) -> list[Source]:
    """pop's (and Ory's popx) files for one database: per version, the file named for that database
    (``.postgres.``, ``.sqlite3.``...) wins over the one for all (no database part); a version with
    neither is not a migration there. ``.autocommit`` runs outside a transaction. Versions in
    pop's order (as text). Each file is rendered as pop renders it, a Go template
    (``poptemplate.render``: the connection's values from ``placeholders``, ``--placeholder``).
    Refused, named: fizz files (pop's DSL, not SQL), a database pop does not know, and no
    ``--dialect`` (the folder holds several databases' files)."""
    if dialect is None:
        raise BadInput(f"{folder}: pop keeps migrations for several databases side by side: say which ones to import "
                       f"with --dialect postgresql or --dialect sqlite; {NOT_WRITTEN}")
    from .migrations import dialect_name, source_dialect

    wanted = dialect_name(source_dialect(dialect))
    fizz, unknown = [], []
    files: dict[str, dict[str, dict[str, tuple[Path, bool]]]] = {}  # version → way → "db" | "all" → (file, autocommit)
    for path in _entries(folder):
        m = _POP.match(path.name)
        db = (m["db"] or ".")[1:]
        autocommit = bool(m["autocommit"]) or db == "autocommit"  # popx: `.autocommit` alone is for all
        db = "" if db == "autocommit" else db
        if m["kind"] == "fizz":
            fizz.append(path)
        elif db and db not in POP_DATABASES:
            unknown.append(path)
        elif not db or POP_DATABASES[db] == wanted:
            chosen = files.setdefault(m["version"], {}).setdefault(m["way"], {})
            which = "db" if db else "all"
            if which in chosen:
                raise BadInput(f"{folder}: two {m['way']} files for version {m['version']} on {wanted}: "
                               f"{chosen[which][0].name} and {path.name}; {NOT_WRITTEN}")
            chosen[which] = (path, autocommit)
    if fizz:
        raise BadInput(f"{folder}: {_named(fizz, 5)}: pop's fizz migration(s), its own DSL that pop turns into SQL: the "
                       f"runbook runs SQL (write each as {{version}}_{{name}}.up.sql); {NOT_WRITTEN}")
    if unknown:
        raise BadInput(f"{folder}: {_named(unknown, 5)}: for a database pop does not know "
                       f"(it knows {', '.join(sorted(POP_DATABASES))}); {NOT_WRITTEN}")
    out = []
    for version, ways in sorted(files.items()):  # pop orders versions as text
        picked = {way: chosen.get("db") or chosen["all"] for way, chosen in ways.items()}
        if "up" not in picked:
            raise BadInput(f"{folder}: {picked['down'][0].name}: a down script without its up script on {wanted}; "
                           f"{NOT_WRITTEN}")
        (up, autocommit), down = picked["up"], picked.get("down", (None,))[0]
        where = "`.autocommit` in its name" if autocommit else None

        def rendered(path: Path) -> str:
            return poptemplate.render(_text(path), placeholders or {}, wanted, _rel(folder, path), NOT_WRITTEN)

        out.append(Source(version, _POP.match(up.name)["name"], tuple(f for f in (up, down) if f is not None),
                          rendered(up), rendered(down) if down is not None else None, (version,), no_transaction=where,
                          header=_no_transaction_header("pop", where)))
    if not out:
        raise BadInput(f"{folder} holds no pop migrations for {wanted} ({LAYOUTS['pop']}); {NOT_WRITTEN}")
    return out


READERS: dict[str, Callable[[Path], list[Source]]] = {
    "golang-migrate": read_golang_migrate, "flyway": read_flyway, "diesel": read_diesel, "dbmate": read_dbmate,
    "sqitch": read_sqitch, "prisma": read_prisma, "sqlx": read_sqlx, "goose": read_goose, "drizzle": read_drizzle}
LAYOUTS = {"golang-migrate": "{version}_{title}.up.sql / .down.sql",
           "flyway": "V{version}__{description}.sql / U{version}__{description}.sql / R__{description}.sql, "
                     "in subfolders too",
           "diesel": "{version}_{name}/up.sql + down.sql",
           "dbmate": "{version}_{name}.sql with -- migrate:up / -- migrate:down",
           "sqitch": "sqitch.plan and sqitch.conf with deploy/, revert/, verify/ scripts",
           "prisma": "{timestamp}_{name}/migration.sql + migration_lock.toml",
           "sqlx": "{version}_{description}.sql, or .up.sql / .down.sql",
           "goose": "{version}_{name}.sql with -- +goose Up / -- +goose Down",
           "drizzle": "{tag}.sql files listed in meta/_journal.json (drizzle-kit)",
           "pop": "{version}_{name}[.{database}][.autocommit].up.sql / .down.sql (pop, Ory's popx)"}


def read_history(folder: str | Path, tool: str | None = None, placeholders: dict[str, str] | None = None,
                 placeholder_replacement: bool = True, default_schema: str | None = None,
                 flyway_options: dict[str, Any] | None = None, dialect: str | None = None) -> tuple[str, list[Source]]:
    """The tool and its migrations in ``folder``, in the tool's order; ``BadInput`` for anything
    the tool would not run as one ordered history. Flyway's settings: its project's
    ``flyway.toml``/``flyway.conf`` in ``folder``, then ``flyway_options`` (Flyway's key -> value,
    ``flyway.READ``), ``placeholders`` (``--placeholder``), ``placeholder_replacement`` off
    (``placeholderReplacement=false``) and ``default_schema`` (``defaultSchema``), which win
    (``flyway.settings``); each given for another tool is refused."""
    folder = Path(folder)
    given = dict(flyway_options or {}) | {"placeholders": placeholders or None, "defaultSchema": default_schema,
                                          "placeholderReplacement": None if placeholder_replacement else False}
    given = {k: v for k, v in given.items() if v is not None}
    fw = flyway.settings(folder, given) if folder.is_dir() and tool in (None, "flyway") else FLYWAY
    tool = detect(folder, tool, fw)
    if tool == "flyway":
        return tool, read_flyway(folder, fw)
    if tool == "pop":  # pop's templates take the connection's values (``poptemplate``)
        given.pop("placeholders", None)
    if given:
        key = next(iter(given))
        raise BadInput(f"{flyway.READ[key]} is {'for ' if key == 'placeholders' else ''}Flyway's {key}"
                       f"{' and pop' if key == 'placeholders' else ''}, and {folder} is {tool}'s folder; {NOT_WRITTEN}")
    return tool, read_pop(folder, dialect, placeholders) if tool == "pop" else READERS[tool](folder)


# -- writing the runbook folder ------------------------------------------------------------------
def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60].rstrip("_") or "migration"


def _date_of(version: str) -> str | None:
    """The date a timestamp version (``YYYYMMDDHHMMSS...``) stands for, if it is one."""
    if len(version) >= 14 and version.isdigit():
        try:
            return datetime.strptime(version[:14], "%Y%m%d%H%M%S").date().isoformat()
        except ValueError:
            return None
    return None


def _header(tool: str, s: Source, folder: Path, today: date) -> str:
    title = " ".join(s.name.replace("_", " ").split()) or f"{tool} version {s.version}"
    when = s.date or _date_of(s.version) or f"unknown (imported {today.isoformat()})"
    files = ", ".join(str(p.relative_to(folder)) for p in s.files)
    return (f"-- Migration: {title}\n-- Date: {when}\n-- Description: {s.description or title}\n"
            + (f"-- Source: {tool} repeatable migration {s.repeatable!r} ({files})\n" if s.repeatable else
               f"-- Source: {tool} {'change' if s.recorded else 'version'} {s.version} ({files})\n")
            + "".join(f"-- {line}\n" for line in s.header))


def _risk_line(unit: Any) -> str:
    from .lint import CATEGORY_NAMES, CATEGORY_RISK

    cat = unit.category
    return f"-- Risk Level: {CATEGORY_RISK[cat]} ({RISK_NOTE}: Category {cat}, {CATEGORY_NAMES[cat]})\n"


def import_history(source: str | Path, dest: str | Path, *, tool: str | None = None, dialect: str | None = None,
                   today: date | None = None, check_database: Callable[[str, list[Source]], Any] | None = None,
                   placeholders: dict[str, str] | None = None, placeholder_replacement: bool = True,
                   default_schema: str | None = None, flyway_options: dict[str, Any] | None = None) -> Imported:
    """Convert the migrations folder ``source`` (``tool``'s layout, detected when None) into the
    new runbook folder ``dest``, its files read as project ``dialect`` (None: the dialect of the
    engine the tool's project names, else ``sqlite``). ``check_database(tool,
    sources)`` runs before anything is written (adoption's refusals stop the import too).
    ``BadInput`` (``dest`` untouched) for bad input: see ``read_history``; ``dest`` existing and
    not an empty folder; a file the dialect's reader cannot read; a ``dialect`` that is not the
    engine's the project names (Prisma: the provider of its migration_lock.toml), or none for a
    Sqitch project that names no engine; a statement the engine runs only outside a transaction
    beside others in one file (the runbook runs such a statement alone in its migration).
    ``placeholders``: the values of Flyway's placeholders (``--placeholder NAME=VALUE``);
    ``placeholder_replacement`` off: the project sets Flyway's ``placeholderReplacement=false``;
    ``default_schema``: its ``defaultSchema`` (PostgreSQL only; see ``read_flyway``);
    ``flyway_options``: Flyway's other settings given as options (``read_history``)."""
    from .migrations import dialect_name, source_dialect

    source, dest = Path(source), Path(dest)
    source_dialect(dialect)  # an unknown one is refused first
    if dest.resolve() == source.resolve() or source.resolve() in dest.resolve().parents:
        raise BadInput(f"the destination {dest} is {'the folder imported' if dest.resolve() == source.resolve() else 'inside the folder imported'}"
                       f" ({source}): name a new folder with --migrations; {NOT_WRITTEN}")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BadInput(f"{dest} exists and is not an empty folder: import writes a new migrations folder; {NOT_WRITTEN}")
    tool, sources = read_history(source, tool, placeholders, placeholder_replacement, default_schema, flyway_options,
                                 dialect)
    sqlglot_dialect = source_dialect(_dialect_of(tool, source, sources, dialect))
    if any(s.search_path for s in sources) and dialect_name(sqlglot_dialect) != "postgresql":
        raise BadInput(f"--default-schema sets PostgreSQL's search_path, and the dialect is "
                       f"{dialect_name(sqlglot_dialect)} (--dialect postgresql? the default schema may come from "
                       f"defaultSchema or schemas in the project's Flyway configuration too); {NOT_WRITTEN}")
    if check_database is not None:
        check_database(tool, sources)
    if not dest.parent.is_dir():
        raise BadInput(f"{dest.parent} does not exist; {NOT_WRITTEN}")
    result = Imported(tool, source, dest, dialect_name(sqlglot_dialect))
    width = max(3, len(str(len(sources))))
    work = dest.parent / f".{dest.name}.import-{owner_tag()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        (work / "rollbacks").mkdir(parents=True)
        if any(s.verify is not None for s in sources):
            (work / "verify").mkdir()
        heads: dict[str, tuple[Path, str, str]] = {}
        for number, s in enumerate(sources, 1):
            version, slug = f"{number:0{width}d}", _slug(s.name)
            path = work / f"{version}_{slug}.sql"
            head = _header(tool, s, source, today or date.today())
            path.write_text(head + "\n" + s.up, encoding="utf-8")
            heads[version] = (path, head, s.up)
            rollback = None
            if s.down is not None:
                (work / "rollbacks" / f"{version}_rollback_{slug}.sql").write_text(s.down, encoding="utf-8")
                rollback = "written" if _has_statements(s.down) else "empty"
            verify = None
            if s.verify is not None:
                verify = f"verify/{version}_verify_{slug}.sql"
                (work / verify).write_text(s.verify, encoding="utf-8")
            result.migrations.append({"version": version, "name": slug, "source_version": s.version,
                                      "source_files": [str(p) for p in s.files], "rollback": rollback,
                                      "verify": verify})
            result.notes.extend(s.notes)
            if s.no_transaction:
                result.notes.append(f"{_rel(source, s.files[0])}: {s.no_transaction}: the runbook runs a statement the "
                                    "engine refuses inside a transaction outside one, alone in its migration, and the "
                                    "others in one transaction")
        _classify(result, work, heads)
        _check_no_transaction(result, work, sources)
        os.replace(work, dest)  # an empty destination folder is replaced too
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _dialect_of(tool: str, folder: Path, sources: list[Source], dialect: str | None) -> str | None:
    """The project dialect: ``dialect`` when given, checked against the one the tool's project
    names (Sqitch's core.engine, Prisma's migration_lock.toml provider), else that one; ``BadInput``
    when they differ, or when a Sqitch project names no engine and no dialect is given."""
    from .migrations import dialect_name, source_dialect

    engine = sources[0].recorded.engine if sources[0].recorded else None
    if engine is not None:
        said, where = sqitch.ENGINES[engine], f"the Sqitch project's engine is {engine} (sqitch.conf core.engine)"
    elif tool == "prisma" and (said := prisma_dialect(folder)) is not None:  # type: ignore[assignment]
        where = f"Prisma's {folder / PRISMA_LOCK} says provider = \"{said}\""
    elif tool == "drizzle":
        said, where = drizzle_dialect(folder), f"drizzle-kit's {folder / DRIZZLE_JOURNAL} names its dialect"
    else:
        if dialect is None and tool == "sqitch":
            raise BadInput("the Sqitch project names no engine (no sqitch.conf with core.engine): say which "
                           f"dialect its scripts are written in with --dialect sqlite or --dialect postgresql; {NOT_WRITTEN}")
        return dialect
    if dialect is not None and dialect_name(source_dialect(dialect)) != said:
        raise BadInput(f"{where}, so its scripts are {said}, not {dialect} (--dialect, or runbook.toml / "
                       f"RUNBOOK_DIALECT); {NOT_WRITTEN}")
    return said


def _has_statements(sql: str) -> bool:
    """Anything but comments and blank lines (a rough look, for the summary only: lint and
    rollback read the file with the engine's reader)."""
    text = re.sub(r"/\*.*?\*/", "", sql, flags=re.S)
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())


#: the command-line client's own commands, which only it reads (psql's \\set, sqlite3's .read)
_CLIENT_COMMANDS = {"postgresql": ("psql", re.compile(r"^[ \t]*\\[a-z!?]\S*.*$", re.M)),
                    "sqlite": ("sqlite3", re.compile(r"^\.[a-z]+\b.*$", re.M))}


def _client_command(files: list[str], dialect: str) -> tuple[str, str] | None:
    """The client and the first line of ``files`` that is one of its commands, if any (a rough
    look, for a refusal's message only)."""
    client, pattern = _CLIENT_COMMANDS[dialect]
    for file in files:
        m = pattern.search(Path(file).read_text(encoding="utf-8", errors="replace"))
        if m:
            return client, m[0].strip()[:60]
    return None


def _check_no_transaction(result: Imported, work: Path, sources: list[Source]) -> None:
    """Each written migration and rollback as the runbook will run it (``migrate.prepare``): a
    statement the engine refuses inside a transaction (``CREATE INDEX CONCURRENTLY``) runs outside
    one, alone in its migration or beside only others the runbook can undo (hatchet's goose files of
    several indexes). ``BadInput`` (naming the source file) when such a statement shares its file
    with others, which the runbook would refuse only when it runs: sqlx's
    ``-- no-transaction`` and Flyway's ``executeInTransaction=false`` ran them one by one outside a
    transaction, and so did goose's ``NO TRANSACTION`` (Down too); golang-migrate, dbmate and the
    others sent the file as one script, and goose ran it in a transaction, which PostgreSQL refuses
    for such a statement too. Split into one migration per such statement."""
    from . import migrations as mig
    from .engines import ENGINES
    from .migrate import prepare

    engine = ENGINES[result.dialect]
    dialect = mig.source_dialect(result.dialect)
    for s, m in zip(sources, result.migrations):
        rollback = work / "rollbacks" / f"{m['version']}_rollback_{m['name']}.sql"
        for path, file, text in ((work / f"{m['version']}_{m['name']}.sql", s.files[0], s.up),
                                 (rollback, s.files[1] if len(s.files) > 1 else s.files[0], s.down or "")):
            if not path.is_file():
                continue
            try:
                prepare(mig.Script(path, dialect=dialect), engine)
            except BadInput as exc:
                detail = str(exc).split(": ", 1)[-1]  # without the path of the folder being written
                shown = _rel(result.source, file)
                if "cannot run inside a transaction" not in detail:
                    raise BadInput(f"{shown}: {detail}; {NOT_WRITTEN}") from None
                if s.search_path:
                    raise BadInput(f"{shown}: {detail}: the runbook runs such a statement alone in its migration, so "
                                   f"import cannot put --default-schema's SET search_path before it: qualify its "
                                   f"names with the schema ({s.search_path}.name), keep it alone in its file, and "
                                   f"import again; {NOT_WRITTEN}") from None
                if text.startswith(SQLX_NO_TRANSACTION):
                    how = f"`{SQLX_NO_TRANSACTION}`, and {detail}: sqlx ran its statements one by one outside a transaction"
                elif s.no_transaction and (text is s.up or result.tool == "goose"):  # goose's covers Down too
                    how = (f"{s.no_transaction}, and {detail}: {'goose' if result.tool == 'goose' else 'Flyway'} ran "
                           f"its statements one by one outside a transaction")
                elif result.tool == "goose":
                    how = (f"{detail}: goose ran the file's statements in one transaction (no `{GOOSE_NO_TRANSACTION}`)"
                           f", which {result.dialect} refuses for such a statement (it fails when it runs)")
                else:
                    how = (f"{detail}: {result.tool} sent the file as one script"
                           f"{' (without x-multi-statement, its default)' if result.tool == 'golang-migrate' else ''}"
                           f", which {result.dialect} refuses with such a statement beside others (it fails when it "
                           f"runs)")
                raise BadInput(f"{shown}: {how}, the runbook cannot; split it into one migration per such statement "
                               f"and import again; {NOT_WRITTEN}") from None


def _classify(result: Imported, work: Path, heads: dict[str, tuple[Path, str, str]]) -> None:
    """Lint the written folder as ``runbook lint`` does without ``--db``, write each migration's
    Risk Level from its category, and keep the findings that still hold for the summary.
    ``BadInput`` when a file cannot be read as the dialect (the wrong ``--dialect``, most likely)."""
    from . import lint

    report = lint.lint(work, dialect=result.dialect)
    unreadable = [(u, f) for u in report.migrations for f in u.findings if f.code == "unparsable"]
    if unreadable:
        u, f = unreadable[0]
        files = next(m for m in result.migrations if m["version"] == u.migration.version)["source_files"]
        client = _client_command(files, result.dialect)
        why = (f"it holds a {client[0]} command, `{client[1]}`, which {result.tool} runs through {client[0]}: the "
               f"runbook runs the SQL itself, so write what it does as SQL" if client else "is --dialect right?")
        raise BadInput(f"{len(unreadable)} migration(s) cannot be read as {result.dialect} SQL, the first "
                       f"{files[0]}: {f.message.replace(str(work), str(result.dest))} ({why}); {NOT_WRITTEN}")
    risks = {}
    for u in report.migrations:
        path, head, body = heads[u.migration.version]
        path.write_text(head + _risk_line(u) + "\n" + body, encoding="utf-8")
        risks[u.migration.version] = (u.category, lint.CATEGORY_RISK[u.category])
    for m in result.migrations:
        m["category"], m["risk"] = risks[m["version"]]
    kept = [f for u in report.migrations for f in u.findings if f.code not in ("risk-missing", "risk-understated")]
    kept += report.findings
    counts: dict[str, int] = {}
    for f in kept:
        counts[f.code] = counts.get(f.code, 0) + 1
    result.lint = {"errors": sum(f.level == "error" for f in kept), "warnings": sum(f.level == "warning" for f in kept),
                   "codes": counts}


# -- adoption: the other tool's history table ----------------------------------------------------
@dataclass(frozen=True)
class ToolState:
    """What the tool's history table says: the versions recorded one by one, and a version every
    earlier one is applied up to (golang-migrate's one row; a Flyway baseline), in its spelling."""

    table: str
    versions: list[str]
    up_to: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # how to name a recorded version in a message
    repeatables: dict[str, int | None] = field(default_factory=dict)  # Flyway: description -> its latest checksum
    code: dict[str, str] = field(default_factory=dict)  # Flyway: version (R:description) -> type, when not SQL


@dataclass(frozen=True)
class Adoption:
    """What a database migrated by the other tool already holds of the imported history."""

    table: str
    applied: list[str]  # the tool's versions applied there, in the tool's order
    last: str | None  # the last of them (None: nothing applied)
    pending: list[tuple[str, str]] = field(default_factory=list)  # Flyway's repeatable ones: (version, why)
    notes: list[str] = field(default_factory=list)

    def baseline_command(self, imported: Imported, display_url: str) -> str | None:
        if self.last is None:
            return None
        return shlex.join(["runbook", "baseline", "--db", display_url, "--migrations", str(imported.dest),
                           "--dialect", imported.dialect, "--version", imported.version_of(self.last)])


def _rows(conn: "sa.Connection", sql: str) -> list[tuple]:
    return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]


def _default_history(tool: str, engine: str) -> tuple[str | None, str]:
    """(schema, name) of the tool's history table when its project does not configure one."""
    return (DRIZZLE_SCHEMA if tool == "drizzle" and engine == "postgresql" else None), HISTORY_TABLES[tool]


def tool_state(conn: "sa.Connection", tool: str, where: tuple[str | None, str] | None = None) -> ToolState | None:
    """The tool's history table (None when it does not exist): its default one, else ``where``
    (schema, name: Flyway's ``table`` in its default schema), quoted as the tool quotes it;
    ``BadInput`` for a state the tool itself would not go on from: a dirty golang-migrate version,
    a failed Flyway, Prisma or sqlx migration."""
    import sqlalchemy as sa

    schema, name = where or _default_history(tool, conn.dialect.name)
    if schema is not None and conn.dialect.name == "sqlite" and schema != "main":
        raise BadInput(f"the history table {schema}.{name}: an SQLite database has no schema {schema} (its tables are "
                       f"in main); {NOT_WRITTEN}")
    if not sa.inspect(conn).has_table(name, schema=schema):
        return None
    quoted = conn.dialect.identifier_preparer.format_table(sa.table(name, schema=schema))
    table = name if schema is None else f"{schema}.{name}"  # as messages name it
    if tool == "golang-migrate":
        rows = _rows(conn, f"SELECT version, dirty FROM {quoted}")
        if len(rows) > 1:
            raise BadInput(f"{table} holds {len(rows)} rows; golang-migrate keeps one (the current version): "
                           f"not golang-migrate's table? {NOT_WRITTEN}")
        if not rows or int(rows[0][0]) < 0:  # -1: golang-migrate's "no version"
            return ToolState(table, [])
        version, dirty = rows[0]
        if dirty:
            raise BadInput(f"golang-migrate's {table} is dirty at version {version}: a migration failed halfway and "
                           f"the database is in an unknown state. Repair it and `migrate force` the version it is "
                           f"really at first; {NOT_WRITTEN}")
        return ToolState(table, [], str(int(version)))
    if tool == "flyway":
        return _flyway_state(_rows(conn, f"SELECT installed_rank, version, description, type, checksum, success "
                                         f"FROM {quoted} ORDER BY installed_rank"), table)
    if tool == "prisma":
        return _prisma_state(_rows(conn, f"SELECT migration_name, started_at, finished_at, rolled_back_at "
                                         f"FROM {quoted} ORDER BY started_at"), table)
    if tool == "sqlx":
        return _sqlx_state(_rows(conn, f"SELECT version, success FROM {quoted} ORDER BY version"), table)
    if tool == "goose":
        return _goose_state(_rows(conn, f"SELECT version_id, is_applied FROM {quoted} ORDER BY id"), table)
    if tool == "drizzle":  # drizzle-orm runs what is after its latest created_at: what is not after it is applied
        last = _rows(conn, f"SELECT max(created_at) FROM {quoted}")[0][0]
        return ToolState(table, [], None if last is None else str(int(float(last))))
    return ToolState(table, [str(r[0]) for r in _rows(conn, f"SELECT version FROM {quoted}")])


#: Flyway's types (``MigrationType``) of migrations not written in SQL: what each is
FLYWAY_NOT_SQL = {"JDBC": "a Java-based migration", "SPRING_JDBC": "a Java-based migration (Spring JDBC, older Flyway)",
                  "CUSTOM": "a migration of a custom resolver", "SCRIPT": "a script migration (.sh, .ps1, .py...)"}


def _flyway_state(rows: list[tuple], table: str) -> ToolState:
    """Flyway's rows in ``installed_rank`` order: versions applied (a baseline standing for those
    below it, an undo taking one back), and each repeatable migration's latest checksum (the
    row Flyway compares the file with)."""
    applied: dict[tuple, str] = {}
    repeatables: dict[str, int | None] = {}
    code: dict[str, str] = {}
    labels: dict[str, str] = {}
    baseline: str | None = None
    for rank, version, described, kind, checksum, success in rows:
        if not success:
            raise BadInput(f"{table} records a failed migration (rank {rank}, "
                           f"{'version ' + str(version) if version is not None else repr(described)}): run "
                           f"`flyway repair` or fix it by hand first; {NOT_WRITTEN}")
        if kind == "SCHEMA":
            continue  # the marker of schemas Flyway created
        if version is None:
            repeatables[described] = None if checksum is None else int(checksum)
            code.pop(f"R:{described}", None)
            if kind in FLYWAY_NOT_SQL:
                code[f"R:{described}"] = kind
            continue
        if kind == "BASELINE":
            baseline = version
        elif kind.startswith("UNDO_") and kind.removeprefix("UNDO_") in ("SQL", *FLYWAY_NOT_SQL):
            applied.pop(flyway_key(version), None)
            code.pop(version, None)
        elif kind == "SQL" or kind in FLYWAY_NOT_SQL:
            applied[flyway_key(version)] = version
            code.pop(version, None)
            if kind in FLYWAY_NOT_SQL:
                code[version] = kind
                labels[version] = f"{version} ({described!r}, type {kind}: {FLYWAY_NOT_SQL[kind]})"
        else:
            raise BadInput(f"{table}: row {rank} has type {kind!r}, which import does not read; {NOT_WRITTEN}")
    return ToolState(table, [applied[k] for k in sorted(applied)], baseline, repeatables=repeatables, code=code,
                     labels=labels)


def sqitch_state(target: "Target", recorded: Recorded) -> ToolState:
    """The changes Sqitch's registry records as deployed for the project (their ids, in the order
    deployed), read only: the ``changes`` table of the registry schema on PostgreSQL, of the
    registry file beside the database on SQLite (``runbook.sqitch.registry_file``). ``BadInput``
    when the registry is not there (saying where it looked), or is another engine's."""
    import sqlalchemy as sa

    kind = target.kind.name
    if recorded.engine is not None and sqitch.ENGINES[recorded.engine] != kind:
        raise BadInput(f"the Sqitch project's engine is {recorded.engine}, and {target.display} is a {kind} "
                       f"database; {NOT_WRITTEN}")
    query = "SELECT change_id, change FROM {} WHERE project = :project ORDER BY committed_at"
    if kind == "sqlite":
        path = sqitch.registry_file(Path(target.url.database or ""), recorded.registry)
        if not path.is_file():
            raise BadInput(f"no Sqitch registry at {path} (Sqitch keeps a SQLite database's registry, "
                           f"{recorded.registry!r}, beside it): Sqitch never deployed there; {NOT_WRITTEN}")
        table = f"changes in {path}"
        engine = sa.create_engine("sqlite://", poolclass=sa.pool.NullPool,
                                  creator=lambda: sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True))
        schema, name = None, "changes"
    else:
        engine, schema, name, table = target.engine(), recorded.registry, "changes", f"{recorded.registry}.changes"
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(name, schema=schema):
                raise BadInput(f"{target.display} has no Sqitch registry ({table}): Sqitch never deployed there "
                               f"(leave out --db to import without adopting); {NOT_WRITTEN}")
            quoted = conn.dialect.identifier_preparer.format_table(sa.table(name, schema=schema))
            rows = conn.execute(sa.text(query.format(quoted)), {"project": recorded.project}).fetchall()
    finally:
        engine.dispose()
    return ToolState(table, [r[0] for r in rows], labels={r[0]: f"{r[1]} ({r[0][:12]})" for r in rows})


def _prisma_state(rows: list[tuple], table: str) -> ToolState:
    """Prisma's rows: applied when finished and not rolled back (a migration retried after
    `migrate resolve --rolled-back` has a row of each); started, not finished and not rolled
    back is a failed migration, which Prisma refuses to go on from (P3009)."""
    failed = [(name, started) for name, started, finished, rolled_back in rows if finished is None and rolled_back is None]
    if failed:
        name, started = failed[0]
        raise BadInput(f"{table} records a failed migration: {name} (started {started}) never finished and was not "
                       f"rolled back; Prisma itself refuses to go on from it (P3009). Resolve it first: finish or undo "
                       f"its changes by hand, then `prisma migrate resolve --applied {name}` or `prisma migrate "
                       f"resolve --rolled-back {name}`; {NOT_WRITTEN}")
    applied = [name for name, _, finished, rolled_back in rows if finished is not None and rolled_back is None]
    return ToolState(table, list(dict.fromkeys(applied)))


def _sqlx_state(rows: list[tuple], table: str) -> ToolState:
    failed = [str(v) for v, success in rows if not success]
    if failed:
        raise BadInput(f"{table} records version {failed[0]} with success = false: sqlx calls the database dirty (the "
                       f"migration failed partway) and refuses to go on. Repair what it left, then delete that row "
                       f"and run it again with sqlx, or finish it by hand; {NOT_WRITTEN}")
    return ToolState(table, [str(int(v)) for v, _ in rows])


def _goose_state(rows: list[tuple], table: str) -> ToolState:
    """goose's rows in ``id`` order: a version is applied when its latest row says ``is_applied``
    (goose deletes a version's rows when it rolls it back; older goose added an ``is_applied =
    false`` row instead); version 0 is the row goose writes when it creates the table."""
    latest = {int(version): bool(applied) for version, applied in rows}
    return ToolState(table, [str(v) for v in sorted(latest) if v > 0 and latest[v]])


def _key(tool: str, version: str) -> tuple:
    if tool == "flyway":
        return flyway_key(version)
    return (version,) if tool in ("diesel", "sqitch", "prisma", "pop") else (int(version),)


def _recorded_key(tool: str, s: Source) -> tuple:
    """The key the tool's history table knows ``s`` by."""
    return _key(tool, s.recorded.id if s.recorded else s.version)


#: why a tool's history may hold what the folder does not
_NOT_HELD = {"sqitch": " (a change's id covers its plan line and every one above it: a plan edited or reordered "
                       "since these were deployed no longer holds them, and Sqitch itself stops there: "
                       "\"Cannot find change\")"}


def adoption(target: "Target", tool: str, sources: list[Source]) -> Adoption:
    """Which of ``sources`` the tool's history table in ``target`` (read only) says are applied.
    ``BadInput`` when there is no such table, when that is not exactly the first ones of the folder
    (a version the folder lacks, one skipped), or the tool would not go on from its state
    (``tool_state``). Flyway's repeatable migrations, numbered after the versioned ones, are
    applied while each is as Flyway last applied it; the rest are pending, each with why
    (``_repeatables_applied``)."""
    if tool == "sqitch":
        state: ToolState | None = sqitch_state(target, sources[0].recorded)
    else:
        with target.engine().connect() as conn:
            state = tool_state(conn, tool, sources[0].history)
        target.dispose()
    if state is None:
        schema, name = sources[0].history or _default_history(tool, target.kind.name)
        raise BadInput(f"{target.display} has no {name if schema is None else schema + '.' + name} table: {tool} never "
                       f"ran there{' with that history table (--history-table, or table in its configuration)' if sources[0].history else ''} "
                       f"(leave out --db to import without adopting); {NOT_WRITTEN}")
    repeatable = [s for s in sources if s.repeatable is not None]
    sources = [s for s in sources if s.repeatable is None]
    table, have = state.table, {_recorded_key(tool, s) for s in sources}
    keys = {_key(tool, v) for v in state.versions}
    if state.up_to is not None:
        top = _key(tool, state.up_to)
        if tool == "golang-migrate" and top not in have:
            raise BadInput(f"{table} says version {state.up_to}, which the folder does not hold; {NOT_WRITTEN}")
        keys |= {k for k in have if k <= top}
    missing = [v for v in state.versions if _key(tool, v) not in have]
    if missing:
        code = [v for v in missing if v in state.code]
        why = _NOT_HELD.get(tool, "") if not code else (
            f": {', '.join(code[:5])} {'was' if len(code) == 1 else 'were'} applied by Flyway from code, not SQL, which "
            f"import cannot read (in the project's JVM sources, or a jar). Write what each did as an SQL migration of "
            f"the same version in the folder, so the history has no hole (adoption records it as applied, without "
            f"running it), and import again")
        raise BadInput(f"{table} records version(s) the folder does not hold: "
                       f"{', '.join(state.labels.get(v, v) for v in missing[:5])}{why}; {NOT_WRITTEN}")
    done = [s for s in sources if _recorded_key(tool, s) in keys]
    skipped = [s.version for s in sources[:len(done)] if _recorded_key(tool, s) not in keys]
    if skipped:
        raise BadInput(f"{table} records versions applied out of order: {', '.join(skipped[:5])} "
                       f"{'is' if len(skipped) == 1 else 'are'} not applied but later ones are, so no runbook version "
                       f"stands for this database; {NOT_WRITTEN}")
    pending: list[tuple[str, str]] = []
    done += _repeatables_applied(state, repeatable, all_applied=len(done) == len(sources), pending=pending)
    notes = [f"{table}: version {state.labels[s.version]} is the folder's SQL file {s.files[0].name} now (Flyway itself "
             f"would call that a type mismatch): taken as applied" for s in done if s.version in state.code]
    return Adoption(table, [s.version for s in done], done[-1].version if done else None, pending, notes)


def _repeatables_applied(state: ToolState, repeatable: list[Source], *, all_applied: bool,
                         pending: list[tuple[str, str]]) -> list[Source]:
    """The first of Flyway's ``repeatable`` migrations (numbered after the versioned ones, by
    description) that the database holds as they are now: applied when the latest row of the
    description has one of the file's checksums (``Source.checksums``). The others are pending,
    each with why (added to ``pending``); ``BadInput`` for a description the folder lacks."""
    missing = sorted(set(state.repeatables) - {s.repeatable for s in repeatable})
    if missing:
        kinds = [f"{d!r}" + (f" (type {state.code[f'R:{d}']}: {FLYWAY_NOT_SQL[state.code[f'R:{d}']]}, which import "
                              f"cannot read: write what it does as an SQL repeatable migration)"
                              if f"R:{d}" in state.code else "") for d in missing[:5]]
        raise BadInput(f"{state.table} records repeatable migration(s) the folder does not hold: "
                       f"{', '.join(kinds)} (Flyway itself stops there: \"Detected applied "
                       f"migration not resolved locally\"); {NOT_WRITTEN}")
    done: list[Source] = []
    blocked = None if all_applied else "versioned migrations before it are pending"
    for s in repeatable:
        recorded = state.repeatables.get(s.repeatable, "none")
        if recorded == "none":
            why = "Flyway never applied it"
        elif recorded not in s.checksums:
            why = (f"changed since Flyway last applied it (checksum {recorded} in {state.table}; the file's is "
                   f"{s.checksums[0]}{', with the --placeholder values given' if len(s.checksums) > 1 else ''}): "
                   f"Flyway would apply it again")
        elif blocked:
            why = f"unchanged since Flyway applied it, but numbered after a pending migration ({blocked}): it runs again"
        else:
            done.append(s)
            continue
        pending.append((s.version, why))
        blocked = blocked or f"{s.version} is pending"
    return done
