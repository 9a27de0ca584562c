"""runbook: evolve a database schema safely, with every step executed, checked and recorded.

Exit status: 0 passed; 1 the run failed (the database was left as it was, or rolled back) or,
for `runbook check`, something is pending or drifted; 2 bad usage or bad input (nothing touched);
3 the database changed but the report of it could not be written (the message says which version
the database is at).

Settings come from runbook.toml (or [tool.runbook] in pyproject.toml), then RUNBOOK_* environment
variables, then the flags given here; `runbook config` shows which won.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import __version__
from .console import Output, error as print_error
from .errors import BadInput, RunbookError
from .guards import check_utf8

if TYPE_CHECKING:
    from .migrations import Applied, Migration
    from .reports import Run

Handler = Callable[[argparse.Namespace], int]
PIPELINE = ("inventory", "backup", "migrate", "verify")  # pipeline.PIPELINE, without importing it for --help


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", help="the database, e.g. postgresql://deploy@db:5432/app or sqlite:///app.db "
                                               "(default: db in runbook.toml, or $RUNBOOK_DB)")


def _migrations(p: argparse.ArgumentParser) -> None:
    p.add_argument("--migrations", type=Path, metavar="DIR", help="migrations folder (default ./migrations)")
    _dialect(p)


def _dialect(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dialect", choices=("sqlite", "postgresql"),
                   help="the dialect NNN_name.sql files are written in: sqlite (translated for PostgreSQL) or "
                        "postgresql (run as written; refused on SQLite) (default: runbook.toml, $RUNBOOK_DIALECT, "
                        "else sqlite)")


def _target_options(p: argparse.ArgumentParser, backups: bool = True) -> None:
    """The database, its folders and timeouts (each also a setting in runbook.toml)."""
    _db(p), _migrations(p)
    p.add_argument("--reports", type=Path, metavar="DIR", help="reports folder, the migration log (default ./reports)")
    p.add_argument("--lock-timeout", type=float, metavar="SECONDS",
                   help="give up waiting for a table lock after this long (default 5)")
    p.add_argument("--statement-timeout", type=float, metavar="SECONDS",
                   help="cancel any one statement after this long (default 600)")
    if backups:
        p.add_argument("--backups", type=Path, metavar="DIR", help="backup folder (default ./backups)")


def _run_options(p: argparse.ArgumentParser, step: str) -> None:
    """Options shared by the commands that execute notebooks and write a report."""
    _target_options(p, backups=step in ("run", "backup", "migrate"))
    if step in ("run", "migrate"):
        p.add_argument("--to", metavar="VERSION", help="apply pending migrations up to this version")
        p.add_argument("--dry-run", action="store_true", help="print the exact SQL that would run on this database "
                       "(after translation); no backup, nothing changed, only its report (DRY RUN) is written")
        p.add_argument("--no-rehearsal", action="store_true", help="skip the rehearsal on a scratch copy (small dev databases)")
        p.add_argument("--allow-risk", action="store_true", help="apply migrations the lint gate refuses (recorded in the report)")
        p.add_argument("--no-preflight", action="store_true", help="do not stop for sessions that would block the migration")
        p.add_argument("--out-of-order", action="store_true",
                       help="apply pending migrations numbered below the current version (refused otherwise)")
    if step == "migrate":
        p.add_argument("--no-backup", action="store_true", help="migrate without taking a backup first (the report says so)")
    if step == "run":
        p.add_argument("--no-rollback", action="store_true",
                       help="when migrate or verify fails, do not roll back: the migrations that committed stay "
                            "applied (the report says so); lets a run apply migrations that have no rollback script")
    if step in ("run", "inventory"):
        p.add_argument("--allow-quality-issues", action="store_true", help="report data-quality issues without failing")
    if step in ("verify", "rollback"):
        p.add_argument("--snapshot", type=Path, help="pre-migration inventory.json to compare with (from an earlier run)")
    if step in ("run", "rollback"):
        p.add_argument("--discard-new-data", action="store_true",
                       help="let rollback scripts drop columns and tables holding values written after the migration "
                            "(refused without it, naming how many)")
        p.add_argument("--discard-old-rows", action="store_true",
                       help="let rollback scripts drop tables their migration did not create, with every row they "
                            "hold, rows from before the migration included (refused without it, naming them)")
    if step == "rollback":
        group = p.add_mutually_exclusive_group(required=True)
        group.add_argument("--to", dest="rollback_to", metavar="VERSION", help="run rollback scripts down to this applied version; 'none' rolls back every applied migration")
        group.add_argument("--restore", type=Path, metavar="BACKUP", help="restore the database from this backup file")
        p.add_argument("--confirm-restore", action="store_true", help="required with --restore: it overwrites the database")
        p.add_argument("--trust-unverified-backup", action="store_true",
                       help="with --restore: accept a file without a valid record beside it (never one of another database)")
        p.add_argument("--discard-newer-writes", action="store_true",
                       help="with --restore: discard the rows written since the backup (the refusal says how many)")


STEPS_OF = {"run": PIPELINE, "inventory": ("inventory",), "backup": ("backup",),
            "migrate": ("backup", "migrate"), "verify": ("verify",), "rollback": ("rollback",)}


# -- JSON shapes shared by several commands (schemas in runbook/schemas/) ----------------------
def migration_json(m: "Migration | None" = None, a: "Applied | None" = None, state: str = "pending") -> dict[str, Any]:
    """A migration, always as this object: from its file, its history row, or both."""
    return {"version": (m.version if m else a.version), "name": (m.name if m else a.name), "state": state,
            "file": str(m.path) if m else None, "applied_at": a.applied_at if a else None,
            "run_id": a.run_id if a else None, "note": a.note if a else None}


def run_json(run: "Run") -> dict[str, Any]:
    return {"run_id": run.run_id, "status": run.status, "target": run.target, "engine": run.engine,
            "started_at": run.started_at, "finished_at": run.finished_at, "versions": dict(run.versions),
            "steps": [{"step": s.step, "status": s.status, "notebook": str(run.run_dir / s.notebook),
                       "duration_s": s.duration_s, "error": s.error} for s in run.steps],
            "error": run.error, "run_dir": str(run.run_dir), "report": str(run.run_dir / "run.json")}


def _report(run: "Run", out: Output, command: str) -> None:
    from .reports import load_artifact

    plan = None
    if run.options.get("dry_run") and run.status == "passed":
        from .migrate import planned_sql

        plan = planned_sql(load_artifact(run.run_dir, "migrate") or {})
    out.emit(command, {"run": run_json(run) | ({"planned_sql": plan} if plan is not None else {})})
    if plan is not None and not out.json_mode:
        print(plan or "-- nothing pending")
    out.table(["step", "status", "time", "notebook"],
              [(s.step, s.status, f"{s.duration_s:.1f}s", run.run_dir / s.notebook) for s in run.steps],
              status_column=1)
    for s in run.steps:
        if s.error:
            out.line(f"{s.step}: {s.error}", style="failed")
    v = run.versions
    out.line(f"run {run.run_id}: {run.status.upper()}  (version {v.get('before') or 'none'} → {v.get('after') or 'none'})",
             style=run.status)
    out.line(f"report: {run.run_dir / 'run.json'}")
    out.line(f"page:   {run.run_dir / 'index.html'}")
    if run.status == "refused" and not out.json_mode:
        print("runbook: refusing to migrate: the lint gate refused before anything ran (nothing touched); "
              "the findings behind it:", file=sys.stderr)
        for f in run.lint_refusal or []:
            where = f"{f['file']}:{f['line']}" if f.get("line") else f["file"]
            print(f"  {f['code']}  {where}  {f['message']}", file=sys.stderr)
        print(f"  fix the migrations, or override explicitly with --allow-risk (recorded); lint.json: "
              f"{run.run_dir / 'lint.json'}", file=sys.stderr)
    elif run.status != "passed" and not out.json_mode:
        print(f"runbook: run failed at {run.error}", file=sys.stderr)


def _progress(args: argparse.Namespace) -> contextlib.AbstractContextManager:
    """What a run is doing, on stderr while it works (nothing with --quiet)."""
    from . import progress

    return contextlib.nullcontext() if args.quiet else progress.printed()


def cmd_steps(args: argparse.Namespace) -> int:
    """``run`` and the one-step commands: execute notebooks, write the report."""
    from . import startup

    startup.load("runbook.pipeline")
    from . import pipeline
    from .target import check_timeout, mask, move_password

    if getattr(args, "restore", None) and not args.confirm_restore:
        raise BadInput(f"--restore {args.restore} overwrites the database: add --confirm-restore to mean it")
    lock_timeout = check_timeout("--lock-timeout", args.lock_timeout)
    statement_timeout = check_timeout("--statement-timeout", args.statement_timeout)
    url = move_password(args.db)  # the run's kernel opens it (pipeline.host_open), with PGPASSWORD set here
    steps = STEPS_OF[args.command]
    if (args.command == "migrate" and args.no_backup) or getattr(args, "dry_run", False):
        steps = ("migrate",)  # a dry run takes no backup: it only plans (and lints) the SQL
    opts = pipeline.Options(
        migrations_dir=args.migrations, reports_dir=args.reports, dialect=args.dialect,
        out_of_order=getattr(args, "out_of_order", False),
        backup_dir=getattr(args, "backups", None) or Path("backups"),
        to=getattr(args, "to", None) if args.command != "rollback" else None,
        dry_run=getattr(args, "dry_run", False),
        skip_backup=getattr(args, "no_backup", False),
        rehearse=not getattr(args, "no_rehearsal", False),
        allow_risk=getattr(args, "allow_risk", False),
        preflight=not getattr(args, "no_preflight", False),
        allow_quality_issues=getattr(args, "allow_quality_issues", False),
        snapshot=getattr(args, "snapshot", None),
        rollback_to=getattr(args, "rollback_to", None),
        restore_backup=getattr(args, "restore", None),
        confirm_restore=getattr(args, "confirm_restore", False),
        discard_new_data=getattr(args, "discard_new_data", False),
        discard_old_rows=getattr(args, "discard_old_rows", False),
        trust_unverified_backup=getattr(args, "trust_unverified_backup", False),
        discard_newer_writes=getattr(args, "discard_newer_writes", False),
        rollback_on_failure=args.command == "run" and not args.no_rollback,
        rollback_refused=getattr(args, "no_rollback", False),
    )
    args.out.detail(f"target {mask(url)}; migrations {args.migrations}; reports {args.reports}")
    with _progress(args):
        run = pipeline.execute(url, steps, opts, lock_timeout_s=lock_timeout, statement_timeout_s=statement_timeout)
    _report(run, args.out, args.command)
    return pipeline.exit_code(run)


def cmd_reports(args: argparse.Namespace) -> int:
    """The migration log for reviewers: every run in a reports folder, newest first."""
    from .reports import list_runs

    if args.html:
        from . import html

        pages = html.rebuild(args.reports)
        args.out.emit("reports", {"reports_dir": str(args.reports), "runs": list_runs(args.reports),
                                  "pages": [str(p) for p in pages]})
        args.out.line(f"wrote {len(pages)} page(s); open {args.reports / html.INDEX}")
        return 0
    runs = list_runs(args.reports)
    out = args.out
    out.emit("reports", {"reports_dir": str(args.reports), "runs": runs})
    if not runs:
        out.line(f"no runs in {args.reports}")
        return 0
    out.table(["run", "verdict", "started", "target", "versions", "by", "steps"],
              [(r["run_id"], r["verdict"], r["started_at"], r["target"],
                f"{(r.get('versions') or {}).get('before') or 'none'} → {(r.get('versions') or {}).get('after') or 'none'}",
                f"{r['who']['user']}@{r['who']['host']}" if r.get("who") else "?",
                " → ".join(f"{s['step']}:{s['status']}" for s in r["steps"])) for r in runs], status_column=1)
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    """Remove what dead runs left: partial backups, rehearsal and restore copies in the backups
    folder, scratch databases on the server (with --db), run.json still "running" (marked died),
    the sockets folders of their kernels."""
    from . import kernel
    from .backup import remove_leftovers
    from .reports import mark_dead_runs

    if args.db:
        from . import pipeline
        from .target import open_target

        target = open_target(args.db)
        with target.kind.lock(target):
            done = pipeline.clean_leftovers(target, args.reports, args.backups)
    else:
        done = [f"run {r} marked died" for r in mark_dead_runs(args.reports)] if args.reports.is_dir() else []
        done += [f"removed {p}" for p in remove_leftovers(args.backups)]
    done += [f"removed {p}" for p in kernel.remove_leftovers()]
    for line in done:
        print(line)
    print(f"{len(done)} leftover(s) of dead runs cleaned" if done else "nothing to clean")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from . import demo, pipeline

    with _progress(args):
        run = demo.run_demo(args.dir, stop_before=args.stop_before)
    _report(run, args.out, "demo")
    if args.stop_before and run.status == "passed":
        args.out.line(f"left pending for you: {args.stop_before} and later; step through them with "
                      f"`runbook lab --db sqlite:///{(args.dir / 'power100.db').resolve()} "
                      f"--migrations {demo.MIGRATIONS}`")
    return pipeline.exit_code(run)


# -- commands ------------------------------------------------------------------------------
def _status(args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    from . import migrations as mig
    from .target import open_target

    target = open_target(args.db)
    migrations = mig.discover(args.migrations, args.dialect)
    with target.engine().connect() as conn:
        status = mig.status(conn, migrations, target.kind)
    target.dispose()
    data = {
        "target": target.display, "migrations_dir": str(args.migrations), "current": status.current,
        "adopt_baseline": status.adoptable,
        "applied": [migration_json(next((m for m in migrations if m.version == a.version), None), a, "applied")
                    for a in status.applied if a not in [d for _, d in status.drifted] + status.unknown],
        "pending": [migration_json(m) for m in status.pending],
        "drifted": [migration_json(m, a, "drifted") for m, a in status.drifted],
        "unknown": [migration_json(None, a, "unknown") for a in status.unknown],
    }
    return data, status


def _print_status(out: Output, data: dict[str, Any]) -> None:
    out.line(f"target:  {data['target']}")
    out.line(f"current: {data['current'] or '(none)'}" + ("  (baseline tables present, will be adopted)" if data["adopt_baseline"] else ""))
    rows = [(m["version"], m["name"], m["state"], m["applied_at"] or "", m["run_id"] or "")
            for kind in ("applied", "drifted", "unknown", "pending") for m in data[kind]]
    rows.sort(key=lambda r: int(r[0]))
    if rows:
        out.table(["version", "name", "state", "applied at", "run"], rows, status_column=2)
    for m in data["drifted"]:
        out.line(f"{m['version']}_{m['name']} changed since it was applied", style="drifted")
    for m in data["unknown"]:
        out.line(f"{m['version']}_{m['name']} is applied but has no file in {data['migrations_dir']}", style="unknown")


def cmd_status(args: argparse.Namespace) -> int:
    data, status = _status(args)
    args.out.emit("status", data)
    _print_status(args.out, data)
    return 1 if status.drifted or status.unknown else 0


def cmd_check(args: argparse.Namespace) -> int:
    """For CI gates: exit 1 when anything is pending, drifted or unknown."""
    data, status = _status(args)
    problems = [f"{len(data[k])} {k}" for k in ("pending", "drifted", "unknown") if data[k]]
    data["ok"] = not problems
    args.out.emit("check", data)
    _print_status(args.out, data)
    args.out.line("up to date" if not problems else "not up to date: " + ", ".join(problems),
                  style="passed" if not problems else "failed")
    return 0 if not problems else 1


def cmd_history(args: argparse.Namespace) -> int:
    """The database's event log (``schema_events``): every deploy, revert, failure, adoption and
    restore (a restore's line names the backup file; the events after the backup are kept)."""
    from . import migrations as mig
    from .target import mask, open_target

    target = open_target(args.db)
    with target.engine().connect() as conn:
        events = mig.event_log(conn)
    target.dispose()
    out = args.out
    out.emit("history", {"target": target.display, "events": events})
    out.line(f"target: {target.display}")
    if not events:
        out.line(f"no events (no {mig.EVENTS_TABLE} table, or it is empty)")
    for e in events:
        line = f"  {e['at']}  {e['event']:<8} {e['version']}_{e['name']:<32} run {e['run_id']}  by {e['who']}@{e['host']}"
        out.line(line + (f"\n      {mask(e['note'])}" if e.get("note") else ""))
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from . import lint
    from .target import open_target

    folder = args.migrations or (Path(args.files[0]).parent if args.files else Path("migrations"))
    target = open_target(args.db) if args.db else None  # only an explicit --db: lint is static by default
    report = lint.lint(folder, target=target, files=args.files, dialect=args.dialect)
    args.out.emit("lint", report.as_dict())  # the report's own keys, as docs/lint.md shows
    if not args.out.json_mode and not args.out.quiet:
        print(lint.render(report))
    return report.exit_code


def cmd_new(args: argparse.Namespace) -> int:
    from . import migrations as mig

    path, rollback, verify = mig.new_migration(args.migrations, args.description, args.dialect)
    number, name = path.stem.split("_", 1)
    args.out.emit("new", {"migration": {"version": number, "name": name, "state": "pending", "file": str(path),
                                        "rollback": str(rollback), "verify": str(verify)}})
    for created in (path, rollback, verify):
        args.out.line(f"created {created}", style="created")
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    """Adopt an existing database at a version without running anything."""
    from . import migrations as mig
    from .target import open_target

    target = open_target(args.db)
    if args.write and args.version is not None:
        raise BadInput("baseline --write adopts the database at 000, the file it writes: leave out --version")
    if args.write:
        from . import baseline

        written = baseline.write(target, args.migrations, args.dialect)
        args.out.line(f"wrote {written['path']}: {written['statements']} statement(s), {written['tables']} table(s); "
                      "checked: they build the same schema on an empty database", style="passed")
        recorded = written["recorded"]
    elif args.version is None:
        raise BadInput("baseline needs --version N (the migration the database already matches), or --write "
                       "(write 000_baseline.sql from the database's schema and adopt it there)")
    else:
        recorded = mig.baseline(target, args.migrations, args.version, args.dialect)
    data = {"target": target.display, "version": recorded[-1].version,
            "recorded": [migration_json(m, None, "applied") | {"note": mig.BASELINE_NOTE} for m in recorded]}
    args.out.emit("baseline", data)
    args.out.line(f"{target.display} adopted at version {data['version']}: "
                  f"{len(recorded)} migration(s) recorded as applied, none run", style="passed")
    return 0


def _runs(versions: list[str]) -> str:
    """Versions in order, three or more consecutive ones as their ends (``001..820``: a Prisma
    history of 820 migrations, none with a down script, is one item, not 820)."""
    runs: list[list[str]] = []
    for v in versions:
        if runs and int(v) == int(runs[-1][-1]) + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return ", ".join(f"{r[0]}..{r[-1]}" if len(r) > 2 else ", ".join(r) for r in runs)


def cmd_import(args: argparse.Namespace) -> int:
    """Convert another tool's migrations folder into a new runbook folder; with --db, say how to
    adopt a database that tool migrated."""
    from . import importer
    from .target import open_target

    placeholders = {}
    for given in args.placeholder:
        name, sep, value = given.partition("=")
        if not sep or not name.strip():
            raise BadInput(f"--placeholder {given!r}: expected NAME=VALUE; nothing was written")
        placeholders[name.strip()] = value
    target = open_target(args.db) if args.db else None
    adopted: dict[str, importer.Adoption] = {}

    def check_database(tool: str, sources: list[importer.Source]) -> None:
        adopted["it"] = importer.adoption(target, tool, sources)

    dialect = None if args.settings.sources.get("dialect") == "default" else args.dialect  # a Sqitch engine says
    options = {"table": args.history_table, "sqlMigrationPrefix": args.sql_migration_prefix,
               "undoSqlMigrationPrefix": args.undo_sql_migration_prefix,
               "repeatableSqlMigrationPrefix": args.repeatable_sql_migration_prefix,
               "sqlMigrationSeparator": args.sql_migration_separator, "encoding": args.encoding,
               "sqlMigrationSuffixes": None if args.sql_migration_suffixes is None else
               [x.strip() for x in args.sql_migration_suffixes.split(",")]}
    result = importer.import_history(args.source, args.migrations, tool=args.tool, dialect=dialect,
                                     check_database=check_database if target is not None else None,
                                     placeholders=placeholders,
                                     placeholder_replacement=args.placeholder_replacement,
                                     default_schema=args.default_schema, flyway_options=options)
    adoption = adopted.get("it")
    command = adoption.baseline_command(result, target.display) if adoption is not None else None
    data = result.as_dict() | {"adopt": None if adoption is None else {
        "table": adoption.table, "applied": adoption.applied, "last": adoption.last, "command": command,
        "pending": [{"source_version": v, "version": result.version_of(v), "why": why} for v, why in adoption.pending],
        "notes": adoption.notes}}
    args.out.emit("import", data)
    out, ms = args.out, result.migrations
    out.line(f"imported {len(ms)} {result.tool} migrations from {result.source} into {result.dest} "
             f"(dialect {result.dialect}): {ms[0]['version']}..{ms[-1]['version']}", style="created")
    out.table(["version", "from", "risk", "rollback"],
              [(m["version"] + "_" + m["name"], f"{result.tool} {m['source_version']}", m["risk"],
                m["rollback"] or "none") for m in ms])
    if data["empty_rollbacks"]:
        out.line(f"empty down scripts, kept empty (declared no-op rollbacks; lint and rollback decide what they "
                 f"mean): {_runs(data['empty_rollbacks'])}")
    if data["without_rollback"]:
        out.line(f"no down script, so no rollback file: {_runs(data['without_rollback'])}")
    verified = [m["version"] for m in ms if m["verify"]]
    if verified:
        out.line(f"verify scripts written to {result.dest / 'verify'} (NNN_verify_name.sql) for {len(verified)} migration(s)")
    for note in result.notes:
        out.line(f"note: {note}")
    counts = ", ".join(f"{code} {n}" for code, n in sorted(result.lint["codes"].items()))
    out.line(f"lint: {result.lint['errors']} error(s), {result.lint['warnings']} warning(s)"
             + (f" ({counts})" if counts else "") + f"; see `runbook lint --migrations {result.dest} "
             f"--dialect {result.dialect}`")
    if adoption is not None:
        if command is None:
            out.line(f"{target.display}: {adoption.table} records nothing applied: `runbook run` applies them all")
        else:
            out.line(f"{target.display}: {adoption.table} records {result.tool} {adoption.last} "
                     f"({len(adoption.applied)} migrations) applied; record them as applied, without running them, with:")
            out.line(f"  {command}")
        for item in data["adopt"]["pending"]:
            out.line(f"pending: {item['version']} (flyway {item['source_version']}): {item['why']}")
        for note in adoption.notes:
            out.line(f"note: {note}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    settings = args.settings
    rows = settings.shown()
    args.out.emit("config", {"file": str(settings.file) if settings.file else None, "settings": rows})
    args.out.line(f"config file: {settings.file or '(none: runbook.toml or [tool.runbook] in pyproject.toml)'}")
    args.out.table(["setting", "value", "from"], [(r["name"], r["value"], r["source"]) for r in rows])
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from . import scaffold

    created, kept = scaffold.init(args.dir, dialect=args.dialect or "sqlite", db_env=args.db_env)
    args.out.emit("init", {"dir": str(args.dir), "created": [str(p) for p in created], "kept": [str(p) for p in kept]})
    for p in created:
        args.out.line(f"created {p}", style="created")
    for p in kept:
        args.out.line(f"kept    {p} (exists; not overwritten)", style="kept")
    args.out.line(f"next: export {args.db_env}=sqlite:///app.db, then `runbook new \"first change\"` and `runbook run`")
    return 0


def cmd_lab(args: argparse.Namespace) -> int:
    from . import lab
    from .target import open_target

    target = open_target(args.db, lock_timeout_s=args.lock_timeout, statement_timeout_s=args.statement_timeout)
    session = lab.prepare(target, migrations_dir=args.migrations, reports_dir=args.reports,
                          backup_dir=args.backups, rehearse=not args.no_rehearsal)
    notebooks = sorted(str(p) for p in session.glob("*.ipynb"))
    can_start = lab.jupyterlab_installed()
    args.out.emit("lab", {"run_dir": str(session), "notebooks": notebooks, "target": target.display,
                          "started": bool(can_start and not args.no_start)})
    args.out.line(f"session folder: {session}")
    args.out.line("open 01_inventory.ipynb and run the notebooks in order; each leaves its record here for the next")
    if args.no_start:
        return 0
    if not can_start:
        print("runbook: JupyterLab is not installed here: pip install 'schema-runbook[lab]' "
              f"(or open the notebooks in {session} with any Jupyter)", file=sys.stderr)
        return 1
    return lab.start(session)


# -- the parser ------------------------------------------------------------------------------
def _common(p: argparse.ArgumentParser, top: bool = False) -> None:
    """Options every command takes, before or after the command's name."""
    d = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument("--config", metavar="FILE", help="settings file (default: ./runbook.toml, else "
                                                    "[tool.runbook] in ./pyproject.toml; or $RUNBOOK_CONFIG)", **d)
    p.add_argument("--json", action="store_true", help="print one JSON document (schemas in runbook/schemas/)", **d)
    noise = p.add_mutually_exclusive_group()
    noise.add_argument("-q", "--quiet", action="store_true", help="print only errors; the exit status tells the rest", **d)
    noise.add_argument("-v", "--verbose", action="store_true", help="print more detail", **d)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runbook", description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"runbook (schema-runbook) {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, text: str, handler: Handler) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        _common(p)
        p.set_defaults(handler=handler)
        return p

    p = add("init", "start using runbook in a project: migrations/, runbook.toml, .gitignore, README", cmd_init)
    p.add_argument("dir", nargs="?", type=Path, default=Path("."), help="the project folder (default: here)")
    p.add_argument("--dialect", choices=("sqlite", "postgresql"), help="the SQL dialect your migrations are written in (default sqlite)")
    p.add_argument("--db-env", default="DATABASE_URL", metavar="VAR",
                   help="the environment variable that will hold the database URL (default DATABASE_URL)")

    p = add("config", "show the settings in effect and where each comes from (passwords masked)", cmd_config)
    _target_options(p)

    p = add("status", "applied, pending and drifted migrations (exit 1 on drift)", cmd_status)
    _db(p), _migrations(p)

    p = add("check", "exit 1 when a migration is pending or drifted: a gate for CI", cmd_check)
    _db(p), _migrations(p)

    p = add("history", "the database's event log: deploys, reverts, failures, adoptions, restores", cmd_history)
    _db(p)

    p = add("baseline", "adopt an existing database at a version without running anything", cmd_baseline)
    _db(p), _migrations(p)
    p.add_argument("--version", metavar="N", help="the migration the database already matches; "
                   "it and every earlier one are recorded as applied")
    p.add_argument("--write", action="store_true",
                   help="a database with no history and a folder with no 000: write migrations/000_baseline.sql "
                        "from the database's schema (checked to build the same schema on an empty database), then "
                        "adopt the database at 000")

    from .importer import TOOLS  # light: no SQLAlchemy

    p = add("import", "convert another tool's migrations folder (golang-migrate, Flyway, Diesel, dbmate, Prisma "
                      "Migrate, sqlx, goose, drizzle-kit, pop) or Sqitch project into a new runbook migrations folder", cmd_import)
    p.add_argument("source", type=Path, metavar="FOLDER",
                   help="the other tool's migrations folder (Sqitch: the folder of sqitch.conf / sqitch.plan; "
                        "Flyway: its location, or the folder of its flyway.toml / flyway.conf, whose settings are "
                        "read as Flyway reads them; the options below win over them)")
    p.add_argument("--migrations", type=Path, metavar="DIR",
                   help="the runbook folder to write; it must not exist or be empty (default ./migrations)")
    _dialect(p)
    p.add_argument("--from", dest="tool", choices=TOOLS, help="the tool (default: told from the file names; a "
                                                              "Sqitch project's engine gives the dialect, a Prisma "
                                                              "folder's migration_lock.toml too; a folder of "
                                                              ".up.sql/.down.sql files in a Rust crate needs --from "
                                                              "sqlx or --from golang-migrate; goose's files are told "
                                                              "by their +goose annotations, and its Go migrations "
                                                              "and ENVSUB ON are refused; a drizzle-kit folder by "
                                                              "its meta/_journal.json, which gives the dialect)")
    p.add_argument("--db", help="a database the tool migrated: read its history table (read only) and print the "
                                "`runbook baseline` command that records those migrations as applied")
    p.add_argument("--placeholder", action="append", default=[], metavar="NAME=VALUE",
                   help="Flyway: the value of placeholder ${NAME} (repeatable), as the project's Flyway configuration "
                        "sets it; a placeholder without one is refused (${flyway:filename} and ${flyway:table} are "
                        "known). pop: the connection's value its templates print ({{ index .Options \"NAME\" }}, "
                        "{{ .Database }}), as its database.yml or URL sets it")
    p.add_argument("--default-schema", metavar="SCHEMA",
                   help="Flyway: the project's defaultSchema (else the first of its schemas): Flyway migrated with "
                        "it first in PostgreSQL's search_path, so each imported migration starts with that SET "
                        "search_path (the first creates the schema when missing, as Flyway does)")
    p.add_argument("--no-placeholder-replacement", dest="placeholder_replacement", action="store_false",
                   help="Flyway: the project sets placeholderReplacement=false, so ${...} is kept as written")
    p.add_argument("--history-table", metavar="[SCHEMA.]NAME",
                   help="Flyway: the project's table setting (default flyway_schema_history, in its defaultSchema, "
                        "else the first of its schemas): the history table --db reads, and ${flyway:table}")
    for option, setting, default in (("--sql-migration-prefix", "sqlMigrationPrefix", "V"),
                                     ("--undo-sql-migration-prefix", "undoSqlMigrationPrefix", "U"),
                                     ("--repeatable-sql-migration-prefix", "repeatableSqlMigrationPrefix", "R"),
                                     ("--sql-migration-separator", "sqlMigrationSeparator", "__"),
                                     ("--sql-migration-suffixes", "sqlMigrationSuffixes", ".sql")):
        p.add_argument(option, metavar="TEXT" if setting != "sqlMigrationSuffixes" else "SUFFIX[,SUFFIX...]",
                       help=f"Flyway: the project's {setting} (default {default})")
    p.add_argument("--encoding", metavar="NAME",
                   help="Flyway: the project's encoding of its scripts (default UTF-8; a script's .sql.conf "
                        "encoding wins); the runbook's files are written in UTF-8, the checksums are Flyway's")
    p.set_defaults(config_db=False)

    p = add("reports", "list the runs in a reports folder (the migration log), newest first", cmd_reports)
    p.add_argument("--reports", type=Path, metavar="DIR", help="reports folder (default ./reports)")
    p.add_argument("--html", action="store_true", help="(re)write every run's index.html and reports/index.html from the JSON records")

    p = add("clean", "remove leftovers of dead runs (partial backups, scratch copies and databases)", cmd_clean)
    p.add_argument("--db", help="also drop this server's scratch databases of dead runs (and take its lock)")
    p.add_argument("--reports", type=Path, metavar="DIR", help="reports folder (default ./reports)")
    p.add_argument("--backups", type=Path, metavar="DIR", help="backup folder (default ./backups)")
    p.set_defaults(config_db=False)

    p = add("demo", "build the demo Power100 database and run the whole pipeline on it", cmd_demo)
    p.add_argument("--dir", type=Path, default=Path("demo"), help="demo folder (default ./demo); its power100.db is rebuilt")
    p.add_argument("--stop-before", metavar="VERSION",
                   help="migrate only up to the version before this one, leaving the rest pending for an operator")

    p = add("lab", "prepare a session folder with the five notebooks set for the database, and open JupyterLab", cmd_lab)
    _target_options(p)  # the session folder goes in the reports folder
    p.add_argument("--no-rehearsal", action="store_true", help="the migrate notebook skips the rehearsal")
    p.add_argument("--no-start", action="store_true", help="only prepare the folder; do not start JupyterLab")

    p = add("lint", "classify migrations by the guide's risk categories and report findings (exit 1 on errors)", cmd_lint)
    p.add_argument("--migrations", type=Path, default=None,
                   help="migrations folder (default: the FILEs' folder, else ./migrations)")
    p.add_argument("--db", help="lint the files that run on this database, pending ones against its schema "
                                "(default: static; shared files as SQLite, .postgresql.sql variants as PostgreSQL)")
    _dialect(p)
    p.add_argument("files", nargs="*", metavar="FILE", help="only report these migration files")
    p.set_defaults(config_db=False)

    p = add("new", "create the next numbered migration, its rollback file and its verify script", cmd_new)
    p.add_argument("description", help='what the migration does, e.g. "Add partner tiers"')
    _migrations(p)

    helps = {
        "run": "the whole pipeline: inventory, backup, migrate, verify (rollback when migrate or verify fails)",
        "inventory": "step 1: counts, sizes, data quality, schema snapshot",
        "backup": "step 2: a verified backup",
        "migrate": "step 3: backup, then apply pending migrations",
        "verify": "step 4: post-migration checks (against --snapshot when given)",
        "rollback": "step 5: rollback scripts down to --to VERSION (--to none: all of them), or --restore BACKUP",
    }
    for name, text in helps.items():
        p = add(name, text, cmd_steps)
        _run_options(p, name)

    return parser


def apply_settings(args: argparse.Namespace) -> None:
    """Fill every option not given as a flag from the config file, then ``RUNBOOK_*`` variables."""
    from . import config

    flags = {name: getattr(args, name, None) for name in config.OPTIONS}
    flags["rehearsal"] = False if getattr(args, "no_rehearsal", False) else None
    if not getattr(args, "config_db", True):
        flags.pop("db")
    settings = config.load(flags, config_file=getattr(args, "config", None))
    args.settings = settings
    if args.verbose:
        for row in settings.shown():
            print(f"runbook: {row['name']} = {row['value']}  ({row['source']})", file=sys.stderr)
    for name in config.OPTIONS:
        if name == "rehearsal":
            if hasattr(args, "no_rehearsal"):
                args.no_rehearsal = not settings.rehearsal
        elif name == "db":
            if hasattr(args, "db") and getattr(args, "config_db", True) and args.command != "config":
                args.db = settings.url()
        elif hasattr(args, name) and getattr(args, name) is None:
            if name == "migrations" and args.command == "lint" and settings.sources[name] == "default":
                continue  # lint without a configured folder takes the FILEs' folder
            setattr(args, name, settings.values[name])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    json_mode = "--json" in argv
    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage) if json_mode else contextlib.nullcontext():
            args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, with its message on stderr
        code = int(exc.code or 0)
        if code and json_mode:
            message = (usage.getvalue().strip().splitlines() or ["bad usage"])[-1].removeprefix("runbook: ")
            print_error(message, exit_code=code, kind="usage", json_mode=True)
        return code
    out = Output(json_mode=args.json, quiet=args.quiet, verbose=args.verbose)
    args.out = out
    # Under --json and --quiet, what the steps print goes to stderr / nowhere: stdout holds only the result.
    sink = sys.stderr if args.json else open(os.devnull, "w") if args.quiet else None
    try:
        with contextlib.redirect_stdout(sink) if sink else contextlib.nullcontext():
            check_utf8([v for k, v in vars(args).items() if k not in ("handler", "out")], "argument")
            apply_settings(args)
            return args.handler(args)
    except RunbookError as exc:
        from .target import mask

        print_error(mask(str(exc)), exit_code=exc.exit_code, kind=type(exc).__name__, json_mode=args.json)
        return exc.exit_code
    except KeyboardInterrupt:
        print("runbook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
