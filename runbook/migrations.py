"""Migrations on disk and the history table in the database.

On disk: ``NNN_description.sql``, written in the project's dialect (``sqlite``, the guide's and
the default, translated for PostgreSQL; or ``postgresql``, run on PostgreSQL as written and
refused on SQLite), optional engine-specific variants ``NNN_description.<engine>.sql`` that win
on their engine, ``rollbacks/NNN_rollback_description.sql`` (undo it) and
``verify/NNN_verify_description.sql`` (Sqitch's verify script: read-only SQL that raises an
error when the migration is not really in the database; it runs in a transaction that is rolled
back, at migrate before the migration commits, at verify and after a rollback, and does not enter
the migration's checksum), both optional and with the same engine variants. In the database: the
``schema_history`` table, one row per applied migration, created on first use; and beside it the
``schema_events`` table, the event log (like Sqitch's ``events``): one row per deploy, revert,
failure and adoption, written in the same transaction as the history change and kept when a
rollback removes history rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from .config import DEFAULT_DIALECT
from .errors import BadInput
from .owner import who_and_host  # the event log's who
from .sqltext import Statement, header, split

if TYPE_CHECKING:
    from .engines.base import Engine
    from .target import Target

HISTORY_TABLE = "schema_history"
EVENTS_TABLE = "schema_events"
RUNBOOK_TABLES = (HISTORY_TABLE, EVENTS_TABLE)  # the runbook's own tables: never part of the schema it migrates
EVENTS = ("deploy", "revert", "fail", "adopt", "baseline", "restore")
SOURCE_DIALECT = "sqlite"  # the default dialect shared migration files are written in (sqlglot name)
#: the project dialects (``--dialect``) and the sqlglot dialect their files are read as
DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}
NO_OP_NOTE = "no-op: no statements"

_NAME = re.compile(r"^(?P<number>\d{3,})_(?P<name>[A-Za-z0-9][A-Za-z0-9_]*?)(?:\.(?P<variant>[a-z]+))?\.sql$")
_ROLLBACK = re.compile(r"^(?P<number>\d{3,})_rollback_(?P<name>[A-Za-z0-9][A-Za-z0-9_]*?)(?:\.(?P<variant>[a-z]+))?\.sql$")
_VERIFY = re.compile(r"^(?P<number>\d{3,})_verify_(?P<name>[A-Za-z0-9][A-Za-z0-9_]*?)(?:\.(?P<variant>[a-z]+))?\.sql$")
#: the folders beside the migrations and the shape of their file names
ROLLBACKS, VERIFY = "rollbacks", "verify"
SHAPES = {"migration": "NNN_description.sql", "rollback": "NNN_rollback_description.sql",
          "verify script": "NNN_verify_description.sql"}
VARIANTS = ("sqlite", "postgresql")

metadata = sa.MetaData()
history = sa.Table(
    HISTORY_TABLE,
    metadata,
    sa.Column("version", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("applied_at", sa.String(32), nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(200), nullable=False),
    sa.Column("note", sa.String(200)),
)
events = sa.Table(
    EVENTS_TABLE,
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("checksum", sa.String(64)),
    sa.Column("run_id", sa.String(200), nullable=False),
    sa.Column("who", sa.String(200)),
    sa.Column("host", sa.String(200)),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("note", sa.String(500)),
    # deploy: what the migration left at its commit, counts only (``effects.at_commit``), so a
    # later rollback can tell the application's values from the migration's own
    sa.Column("data", sa.Text),
)


def _normalized(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")


def _written_name(text: str) -> str:
    """A table named in ``-- Writes:`` as the schema model names it, by SQL's folding: each part
    lower-case unless double-quoted (``"User"`` stays ``User``: PostgreSQL's, which is not
    ``user``; where the engine ignores case, lint lower-cases it again); ``public.`` dropped."""
    parts = re.findall(r'"((?:[^"]|"")*)"|([^."]+)', text.strip())
    name = ".".join(quoted.replace('""', '"') if quoted else plain.strip().lower() for quoted, plain in parts)
    return name.removeprefix("public.")


def checksum_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_dialect(dialect: str | None) -> str:
    """The sqlglot dialect of files written in project dialect ``dialect`` (``sqlite`` when None);
    ``BadInput`` for an unknown one."""
    name = (dialect or DEFAULT_DIALECT).strip().lower()
    name = "postgresql" if name == "postgres" else name
    if name not in DIALECTS:
        raise BadInput(f"unknown dialect {dialect!r}: expected one of {', '.join(DIALECTS)}")
    return DIALECTS[name]


def dialect_name(source: str) -> str:
    """The project dialect (``sqlite``/``postgresql``) of a sqlglot dialect name."""
    return next((k for k, v in DIALECTS.items() if v == source), source)


@dataclass(frozen=True)
class Script:
    """One SQL file, with the engine-specific variants found beside it."""

    path: Path
    variants: dict[str, Path] = field(default_factory=dict)
    dialect: str = SOURCE_DIALECT  # sqlglot dialect of ``path`` (the project's dialect)

    def source_for(self, engine: "Engine") -> tuple[Path, str]:
        """The file that runs on ``engine`` and the sqlglot dialect it is written in; ``BadInput``
        when ``engine`` can neither run the shared file's dialect nor has a variant of its own."""
        if engine.variant_suffix in self.variants:
            return self.variants[engine.variant_suffix], engine.sqlglot_dialect
        if not engine.can_run(self.dialect):
            raise BadInput(f"{self.path}: written in {dialect_name(self.dialect)} (the project's dialect), which "
                           f"{engine.name} cannot run, and no {self.path.stem}.{engine.variant_suffix}.sql beside it")
        return self.path, self.dialect

    def runs_on(self, engine: "Engine") -> bool:
        return engine.variant_suffix in self.variants or engine.can_run(self.dialect)

    def text_for(self, engine: "Engine") -> str:
        return _normalized(self.source_for(engine)[0])

    def checksum_for(self, engine: "Engine") -> str:
        return checksum_of(self.text_for(engine))

    def statements_for(self, engine: "Engine") -> tuple[list[Statement], str]:
        path, dialect = self.source_for(engine)
        return split(_normalized(path), dialect, source=str(path)), dialect


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    script: Script
    rollback: Script | None = None
    verify: Script | None = None  # ``verify/NNN_verify_*.sql``: not part of the checksum

    @property
    def version(self) -> str:
        return f"{self.number:03d}"

    @property
    def label(self) -> str:
        return f"{self.version}_{self.name}"

    @property
    def path(self) -> Path:
        return self.script.path

    @property
    def header(self) -> dict[str, str]:
        return header(_normalized(self.path))

    def writes(self, engine: "Engine") -> tuple[list[str], int | None]:
        """The existing tables the header of the file that runs on ``engine`` (a variant's own
        header there) declares the migration writes through code no parser can read, a function, a
        trigger, ``EXECUTE``, ``CALL`` (``-- Writes: billing.invoices, audit_log (by fill())``: names
        separated by commas, a note in parentheses), as the schema model names them; and the
        header's line (None without one). ``-- Writes: none`` declares no table (``writes_nothing``)."""
        tables, line = self._writes_header(engine)
        return ([], None) if tables == ["none"] else (tables, line)

    def writes_nothing(self, engine: "Engine") -> bool:
        """Whether the header of the file that runs on ``engine`` says ``-- Writes: none``: the
        functions and procedures it calls write no row (lint's replay holds it to that)."""
        return self._writes_header(engine)[0] == ["none"]

    def _writes_header(self, engine: "Engine") -> tuple[list[str], int | None]:
        path = self.script.variants.get(engine.variant_suffix, self.script.path)
        text = _normalized(path)
        names = re.sub(r"\([^)]*\)", "", header(text).get("writes", ""))
        tables = [_written_name(t) for t in names.split(",") if t.strip()]
        line = next((i for i, raw in enumerate(text.splitlines(), 1)
                     if re.match(r"\s*--\s*writes\s*:", raw, re.IGNORECASE)), None)
        return tables, line if tables else None

    @property
    def risk_level(self) -> str | None:
        """The declared risk (``LOW``, ``MEDIUM``, ``HIGH``) from the header, if any."""
        raw = self.header.get("risk_level")
        return raw.split()[0].strip("()").upper() if raw else None


def with_dialect(migrations: list[Migration], dialect: str | None) -> list[Migration]:
    """The same migrations with their shared files (rollbacks and verify scripts too) read as
    project ``dialect``."""
    source = source_dialect(dialect)

    def redo(script: Script | None) -> Script | None:
        return None if script is None else Script(script.path, script.variants, source)

    return [Migration(m.number, m.name, redo(m.script), redo(m.rollback), redo(m.verify)) for m in migrations]


def _scan(folder: Path, pattern: re.Pattern[str], what: str, dialect: str = SOURCE_DIALECT
          ) -> dict[int, tuple[str, Script]]:
    base: dict[int, tuple[str, Path]] = {}
    variants: dict[int, dict[str, Path]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir() or path.suffix.lower() in (".md", ".txt"):
            continue
        m = pattern.match(path.name)
        if not m:
            raise BadInput(f"{path}: {what} file names must look like {SHAPES[what]}")
        number, variant = int(m["number"]), m["variant"]
        if variant is not None:
            if variant not in VARIANTS:
                raise BadInput(f"{path}: unknown engine variant {variant!r} (expected one of {', '.join(VARIANTS)})")
            if variant in variants.setdefault(number, {}):
                raise BadInput(f"{path}: two {variant} variants of {what} {number:03d}")
            variants[number][variant] = path
            continue
        if number in base:
            raise BadInput(f"two {what}s numbered {number:03d}: {base[number][1].name} and {path.name}")
        base[number] = (m["name"], path)
    for number, found in variants.items():
        if number not in base:
            raise BadInput(f"{next(iter(found.values()))}: engine variant without its {what} {number:03d}_*.sql")
    return {n: (name, Script(p, variants.get(n, {}), dialect)) for n, (name, p) in base.items()}


def discover(folder: str | Path, dialect: str | None = DEFAULT_DIALECT) -> list[Migration]:
    """All migrations in ``folder``, in order, their shared files read as project dialect
    ``dialect`` (``sqlite`` or ``postgresql``); ``BadInput`` for anything misnamed or duplicated."""
    folder = Path(folder)
    source = source_dialect(dialect)
    if not folder.is_dir():
        raise BadInput(f"migrations folder not found: {folder}")
    found = _scan(folder, _NAME, "migration", source)
    beside: dict[str, dict[int, tuple[str, Script]]] = {}
    for sub, pattern, what in ((ROLLBACKS, _ROLLBACK, "rollback"), (VERIFY, _VERIFY, "verify script")):
        beside[sub] = _scan(folder / sub, pattern, what, source) if (folder / sub).is_dir() else {}
        for number, (_, script) in beside[sub].items():
            if number not in found:
                raise BadInput(f"{script.path}: {what} for migration {number:03d}, which does not exist")
    return assemble(found, beside)


def assemble(found: dict[int, tuple[str, Script]], beside: dict[str, dict[int, tuple[str, Script]]]) -> list[Migration]:
    """The migrations ``found`` (number → (name, script)), in order, each with its rollback and
    verify script from ``beside`` (``ROLLBACKS``/``VERIFY`` → number → (name, script))."""
    return [Migration(n, name, script, *(beside.get(sub, {}).get(n, (None, None))[1] for sub in (ROLLBACKS, VERIFY)))
            for n, (name, script) in sorted(found.items())]


# -- the history table -----------------------------------------------------------------------
@dataclass(frozen=True)
class Applied:
    version: str
    name: str
    checksum: str
    applied_at: str
    duration_ms: int
    run_id: str
    note: str | None = None

    @property
    def adopted(self) -> bool:
        """Recorded by adopting existing tables (the baseline's, or ``runbook baseline``), not by running the script."""
        return (self.note or "").startswith("adopted")


def has_history(conn: sa.Connection) -> bool:
    return sa.inspect(conn).has_table(HISTORY_TABLE)


def ensure_history(conn: sa.Connection) -> None:
    """Create the history table and the event log beside it (in the caller's transaction)."""
    metadata.create_all(conn, tables=[history, events], checkfirst=True)


def applied(conn: sa.Connection) -> list[Applied]:
    if not has_history(conn):
        return []
    rows = conn.execute(sa.select(history)).mappings()
    return sorted((Applied(**row) for row in rows), key=lambda a: int(a.version))


def record(conn: sa.Connection, m: Migration, checksum: str, duration_ms: int, run_id: str,
           note: str | None = None) -> None:
    conn.execute(history.insert().values(
        version=m.version, name=m.name, checksum=checksum,
        applied_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        duration_ms=duration_ms, run_id=run_id, note=note,
    ))


def unrecord(conn: sa.Connection, version: str) -> None:
    conn.execute(history.delete().where(history.c.version == version))


# -- the event log ---------------------------------------------------------------------------
def has_events(conn: sa.Connection) -> bool:
    return sa.inspect(conn).has_table(EVENTS_TABLE)


def record_event(conn: sa.Connection, event: str, version: str, name: str, checksum: str | None,
                 run_id: str, note: str | None = None, data: dict | None = None, *, ensured: bool = False) -> None:
    """Append an event (in the caller's transaction, so it commits with the history change).
    ``ensured``: the caller knows the event log exists (``ensure_history`` ran in this
    transaction or a committed one), so it is not looked for."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    if not ensured:
        events.create(conn, checkfirst=True)  # a history table from before the event log existed
    user, host = who_and_host()
    conn.execute(events.insert().values(
        event=event, version=version, name=name, checksum=checksum, run_id=run_id, who=user, host=host,
        at=datetime.now(timezone.utc).isoformat(timespec="seconds"), note=(note or None) and note[:500],
        data=json.dumps(data, sort_keys=True) if data is not None else None,
    ))


def deployed_data(conn: sa.Connection) -> dict[str, dict]:
    """Version → what its latest deploy left at commit (``effects.at_commit``), from the event log."""
    if not has_events(conn):
        return {}
    rows = conn.execute(sa.select(events.c.version, events.c.data)
                        .where(events.c.event == "deploy", events.c.data.is_not(None)).order_by(events.c.id))
    return {version: json.loads(data) for version, data in rows}


def event_log(conn: sa.Connection) -> list[dict]:
    """Every event, oldest first (empty when the database has no event log)."""
    if not has_events(conn):
        return []
    return [dict(r) for r in conn.execute(sa.select(events).order_by(events.c.id)).mappings()]


_EVENT_FIELDS = ("event", "version", "name", "checksum", "run_id", "who", "host", "at", "note", "data")


def events_not_in(newer: list[dict], older: list[dict]) -> list[dict]:
    """The events of ``newer`` (an event log read before a restore) that ``older`` (the restored
    backup's log) does not hold, oldest first: matched by every field but the id, as multisets
    (ids are not compared: they may differ between the two logs)."""
    def key(e: dict) -> tuple:
        return tuple(e.get(f) for f in _EVENT_FIELDS)

    left = Counter(key(e) for e in older)
    out = []
    for e in newer:
        if left[key(e)]:
            left[key(e)] -= 1
        else:
            out.append(e)
    return out


def reinsert_events(conn: sa.Connection, carried: list[dict]) -> None:
    """Append events read from another log (after a restore), as they were, with new ids."""
    if not carried:
        return
    events.create(conn, checkfirst=True)
    conn.execute(events.insert(), [{f: e.get(f) for f in _EVENT_FIELDS} for e in carried])


def drop_events_of_run(conn: sa.Connection, run_id: str) -> bool:
    """Drop the event log when it holds only ``run_id``'s events: called when a rollback to no
    version drops the history table, so a database the run found without runbook tables ends up
    exactly as it was (those events are in the run's report). An older log is kept."""
    if not has_events(conn):
        return False
    others = conn.execute(sa.select(sa.func.count()).select_from(events).where(events.c.run_id != run_id)).scalar_one()
    if others:
        return False
    events.drop(conn)
    return True


@dataclass
class Status:
    """Where a database stands against a migrations folder."""

    applied: list[Applied]
    pending: list[Migration]
    drifted: list[tuple[Migration, Applied]]  # applied, but the file changed since
    unknown: list[Applied]  # applied, but no file for it any more
    adoptable: bool = False  # baseline tables exist, no history: the baseline will be adopted

    @property
    def current(self) -> str | None:
        return self.applied[-1].version if self.applied else None

    def as_dict(self) -> dict:
        return {
            "current": self.current,
            "applied": [a.__dict__ for a in self.applied],
            "pending": [m.label for m in self.pending],
            "drifted": [m.label for m, _ in self.drifted],
            "unknown": [a.version for a in self.unknown],
            "adopt_baseline": self.adoptable,
        }


def baseline_tables(m: Migration, engine: "Engine") -> set[str]:
    """Tables the baseline migration creates (read from its CREATE TABLE statements)."""
    statements, dialect = m.script.statements_for(engine)
    return {name for st in statements if (name := st.created_table(dialect))}


def check_runnable(migrations: list[Migration], engine: "Engine") -> None:
    """``BadInput`` (before anything runs) when ``engine`` cannot run some migrations: files in a
    project dialect it does not read (PostgreSQL on SQLite) with no variant for it."""
    stuck = [m for m in migrations if not m.script.runs_on(engine)]
    if not stuck:
        return
    names = ", ".join(m.path.name for m in stuck[:3]) + (f" and {len(stuck) - 3} more" if len(stuck) > 3 else "")
    dialect = dialect_name(stuck[0].script.dialect)
    raise BadInput(f"the migrations are written in {dialect} (the project's dialect) and {engine.name} cannot run "
                   f"them: {names} ha{'s' if len(stuck) == 1 else 've'} no .{engine.variant_suffix}.sql variant; "
                   f"nothing was run (use a {dialect} target, or --dialect for the dialect they are written in)")


def status(conn: sa.Connection, migrations: list[Migration], engine: "Engine") -> Status:
    check_runnable(migrations, engine)
    done = applied(conn)
    by_version = {m.version: m for m in migrations}
    done_versions = {a.version for a in done}
    drifted = [
        (by_version[a.version], a) for a in done
        if a.version in by_version and by_version[a.version].script.checksum_for(engine) != a.checksum
    ]
    unknown = [a for a in done if a.version not in by_version]
    pending = [m for m in migrations if m.version not in done_versions]
    adoptable = False
    if not done and migrations and migrations[0].number == 0:
        wanted = baseline_tables(migrations[0], engine)
        existing = set(sa.inspect(conn).get_table_names())
        present = wanted & existing
        if wanted and present == wanted:
            adoptable = True
        elif present:
            raise BadInput(
                f"the database has some baseline tables ({', '.join(sorted(present))}) but not "
                f"{', '.join(sorted(wanted - present))}, and no {HISTORY_TABLE} table: "
                "it is not at a known version, so nothing will be applied"
            )
    return Status(done, pending, drifted, unknown, adoptable)


# -- adopting a database at a version (Flyway baseline, Alembic stamp) ---------------------------
BASELINE_NOTE = "adopted by runbook baseline: recorded as applied, not run"  # rollback treats "adopted" as never to undo


def baseline(target: "Target", folder: str | Path, version: str, dialect: str | None = DEFAULT_DIALECT) -> list[Migration]:
    """Record every migration up to ``version`` as applied without running it, for a database
    that already has that schema but no history. ``BadInput`` (nothing written) when the database
    already has a history or ``version`` is not in the folder."""
    try:
        number = int(version)
    except ValueError:
        raise BadInput(f"not a migration version: {version!r} (expected a number such as 003)") from None
    migrations = discover(folder, dialect)
    if number not in {m.number for m in migrations}:
        raise BadInput(f"no migration {number:03d} in {folder}")
    chosen = [m for m in migrations if m.number <= number]
    with target.kind.lock(target), target.engine().begin() as conn:
        done = applied(conn)
        if done:
            raise BadInput(f"the database already has a migration history (current version {done[-1].version}): "
                           "baseline is for a database that has none")
        ensure_history(conn)
        run_id = f"baseline-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
        for m in chosen:
            checksum = m.script.checksum_for(target.kind)
            record(conn, m, checksum, 0, run_id, note=BASELINE_NOTE)
            record_event(conn, "baseline", m.version, m.name, checksum, run_id, note=BASELINE_NOTE)
    target.dispose()
    return chosen


# -- scaffolding -----------------------------------------------------------------------------
_WRITTEN_IN = {
    "sqlite": "SQLite's dialect (a .postgresql.sql file beside this one wins on PostgreSQL)",
    "postgres": "PostgreSQL's dialect, as it runs (SQLite needs a .sqlite.sql file beside this one)",
}


def new_migration(folder: str | Path, description: str, dialect: str | None = DEFAULT_DIALECT) -> tuple[Path, Path, Path]:
    """Write the next numbered migration with the guide's header template, its rollback stub in
    ``rollbacks/`` and its verify script's template in ``verify/`` (comments only: no statements,
    the same as no verify script until some are written); returns the three paths. ``BadInput``
    (nothing written) for an empty description, a folder that is missing or breaks the naming
    rules, or a file that already exists."""
    from datetime import date

    folder = Path(folder)
    title = " ".join((description or "").split())
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:60].rstrip("_")
    if not slug:
        raise BadInput("a new migration needs a description with letters or digits, e.g. \"Add partner tiers\"")
    existing = discover(folder, dialect)
    written_in = _WRITTEN_IN[source_dialect(dialect)]
    number = max((m.number for m in existing), default=0) + 1
    version = f"{number:03d}"
    path = folder / f"{version}_{slug}.sql"
    rollback = folder / ROLLBACKS / f"{version}_rollback_{slug}.sql"
    verify = folder / VERIFY / f"{version}_verify_{slug}.sql"
    for p in (path, rollback, verify):
        if p.exists():
            raise BadInput(f"{p} already exists: not overwriting it")
    if not _NAME.match(path.name) or not _ROLLBACK.match(rollback.name) or not _VERIFY.match(verify.name):
        raise BadInput(f"cannot make a valid file name from {description!r}")
    path.write_text(
        f"-- Migration: {title}\n"
        f"-- Date: {date.today().isoformat()}\n"
        f"-- Description: {title}\n"
        "-- Risk Level: LOW (Non-breaking additions)\n"
        "--\n"
        "-- LOW = Category 1 (non-breaking), MEDIUM = Category 2 (breaking), HIGH = Category 3\n"
        "-- (data migration); `runbook lint` checks the level against the statements below.\n"
        "\n"
        "BEGIN TRANSACTION;\n"
        "\n"
        f"-- statements here, in {written_in}\n"
        "\n"
        "COMMIT;\n",
        encoding="utf-8",
    )
    rollback.parent.mkdir(exist_ok=True)
    rollback.write_text(
        f"-- Rollback: {title}\n"
        f"-- Description: Undo {path.stem}: bring the schema back to what it was before it.\n"
        "\n"
        "-- statements here, undoing the migration's in reverse order\n",
        encoding="utf-8",
    )
    verify.parent.mkdir(exist_ok=True)
    verify.write_text(
        f"-- Verify: {title}\n"
        f"-- Description: Check that {path.stem} is really in the database (Sqitch's verify script).\n"
        "--\n"
        "-- Read-only statements that raise an error when the change is missing; they run in a\n"
        "-- transaction that is rolled back: at migrate (before the migration commits: an error\n"
        "-- rolls it back), at verify and after a rollback. Never write here (`runbook lint` says\n"
        "-- verify-script-writes). Comments only, as now, means no verify script. For example:\n"
        "--   SELECT id, name FROM some_table WHERE 0;    -- fails when a column is missing\n"
        "--   SELECT 1 / COUNT(*) FROM some_table;        -- divides by zero when it is empty\n"
        + ("--   DO $$ BEGIN ASSERT (SELECT count(*) FROM some_table) > 0; END $$;\n"
           if source_dialect(dialect) == "postgres" else "")
        + f"-- (written in {written_in.split(' (')[0]})\n",
        encoding="utf-8",
    )
    return path, rollback, verify
