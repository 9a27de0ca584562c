"""The ``runbook`` command: a thin layer over the same functions the notebooks call.

Exit status: 0 passed; 1 the run failed (database left as before, or rolled back);
2 bad usage or bad input (nothing touched); 3 the database changed but the report of it could
not be written (the message says which version the database is at).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Callable

from . import migrations as mig
from . import pipeline, progress
from .errors import BadInput, RunbookError
from .guards import check_utf8
from .target import DEFAULT_LOCK_TIMEOUT_S, DEFAULT_STATEMENT_TIMEOUT_S, mask, open_target

Handler = Callable[[argparse.Namespace], int]


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="SQLAlchemy URL of the target (default: $RUNBOOK_DB)")


def _migrations(p: argparse.ArgumentParser) -> None:
    p.add_argument("--migrations", default="migrations", type=Path, help="migrations folder (default ./migrations)")


def _run_options(p: argparse.ArgumentParser, step: str) -> None:
    """Options shared by the commands that execute notebooks and write a report."""
    _db(p), _migrations(p)
    p.add_argument("--reports", default="reports", type=Path, help="reports folder, the migration log (default ./reports)")
    p.add_argument("--lock-timeout", type=float, default=DEFAULT_LOCK_TIMEOUT_S, metavar="SECONDS",
                   help=f"give up waiting for a table lock after this long (default {DEFAULT_LOCK_TIMEOUT_S:g})")
    p.add_argument("--statement-timeout", type=float, default=DEFAULT_STATEMENT_TIMEOUT_S, metavar="SECONDS",
                   help=f"cancel any one statement after this long (default {DEFAULT_STATEMENT_TIMEOUT_S:g})")
    if step in ("run", "backup", "migrate"):
        p.add_argument("--backups", default="backups", type=Path, help="backup folder (default ./backups)")
    if step in ("run", "migrate"):
        p.add_argument("--to", metavar="VERSION", help="apply pending migrations up to this version")
        p.add_argument("--dry-run", action="store_true", help="show the SQL that would run; change nothing")
        p.add_argument("--no-rehearsal", action="store_true", help="skip the rehearsal on a scratch copy (small dev databases)")
        p.add_argument("--allow-risk", action="store_true", help="apply migrations the lint gate refuses (recorded in the report)")
        p.add_argument("--no-preflight", action="store_true", help="do not stop for sessions that would block the migration")
    if step == "migrate":
        p.add_argument("--no-backup", action="store_true", help="migrate without taking a backup first (the report says so)")
    if step in ("run", "inventory"):
        p.add_argument("--allow-quality-issues", action="store_true", help="report data-quality issues without failing")
    if step in ("verify", "rollback"):
        p.add_argument("--snapshot", type=Path, help="pre-migration inventory.json to compare with (from an earlier run)")
    if step == "rollback":
        group = p.add_mutually_exclusive_group(required=True)
        group.add_argument("--to", dest="rollback_to", metavar="VERSION", help="run rollback scripts down to this version")
        group.add_argument("--restore", type=Path, metavar="BACKUP", help="restore the database from this backup file")
        p.add_argument("--confirm-restore", action="store_true", help="required with --restore: it overwrites the database")
        p.add_argument("--trust-unverified-backup", action="store_true",
                       help="with --restore: accept a file without a valid record beside it (never one of another database)")
        p.add_argument("--discard-newer-writes", action="store_true",
                       help="with --restore: discard the rows written since the backup (the refusal says how many)")


STEPS_OF = {"run": pipeline.PIPELINE, "inventory": ("inventory",), "backup": ("backup",),
            "migrate": ("backup", "migrate"), "verify": ("verify",), "rollback": ("rollback",)}


def _report(run: "pipeline.Run", reports_dir: Path) -> None:
    for s in run.steps:
        line = f"  {s.step:<10} {s.status:<7} {s.duration_s:6.1f}s  {run.run_dir / s.notebook}"
        print(line + (f"\n             {s.error}" if s.error else ""))
    v = run.versions
    print(f"run {run.run_id}: {run.status.upper()}  (version {v.get('before') or 'none'} → {v.get('after') or 'none'})")
    print(f"report: {run.run_dir / 'run.json'}")
    print(f"page:   {run.run_dir / 'index.html'}")
    if run.status != "passed":
        print(f"runbook: run failed at {run.error}", file=sys.stderr)


def cmd_steps(args: argparse.Namespace) -> int:
    """``run`` and the one-step commands: execute notebooks, write the report."""
    if getattr(args, "restore", None) and not args.confirm_restore:
        raise BadInput(f"--restore {args.restore} overwrites the database: add --confirm-restore to mean it")
    target = open_target(args.db, lock_timeout_s=args.lock_timeout, statement_timeout_s=args.statement_timeout)
    steps = STEPS_OF[args.command]
    if args.command == "migrate" and args.no_backup:
        steps = ("migrate",)
    opts = pipeline.Options(
        migrations_dir=args.migrations, reports_dir=args.reports,
        backup_dir=getattr(args, "backups", Path("backups")),
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
        trust_unverified_backup=getattr(args, "trust_unverified_backup", False),
        discard_newer_writes=getattr(args, "discard_newer_writes", False),
        rollback_on_failure=args.command == "run",
    )
    with progress.printed():
        run = pipeline.execute(target, steps, opts)
    _report(run, args.reports)
    return pipeline.exit_code(run)


def cmd_reports(args: argparse.Namespace) -> int:
    """The migration log for reviewers: every run in a reports folder, newest first."""
    from .reports import list_runs

    if args.html:
        from . import html

        pages = html.rebuild(args.reports)
        print(f"wrote {len(pages)} page(s); open {args.reports / html.INDEX}")
        return 0
    runs = list_runs(args.reports)
    if args.json:
        print(json.dumps(runs, indent=2))
        return 0
    if not runs:
        print(f"no runs in {args.reports}")
    for r in runs:
        who = f"{r['who']['user']}@{r['who']['host']}" if r.get("who") else "?"
        v = r.get("versions") or {}
        print(f"{r['run_id']:<40} {r['verdict']:<11} {r['started_at']}  {r['target']}  "
              f"{v.get('before') or 'none'} → {v.get('after') or 'none'}  by {who}\n    {r['steps']}")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    """Remove what dead runs left: partial backups, rehearsal and restore copies in the backups
    folder, scratch databases on the server (with --db), run.json still "running" (marked died)."""
    from .backup import remove_leftovers
    from .reports import mark_dead_runs

    if args.db:
        target = open_target(args.db)
        with target.kind.lock(target):
            done = pipeline.clean_leftovers(target, args.reports, args.backups)
    else:
        done = [f"run {r} marked died" for r in mark_dead_runs(args.reports)] if args.reports.is_dir() else []
        done += [f"removed {p}" for p in remove_leftovers(args.backups)]
    for line in done:
        print(line)
    print(f"{len(done)} leftover(s) of dead runs cleaned" if done else "nothing to clean")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from . import demo

    with progress.printed():
        run = demo.run_demo(args.dir)
    _report(run, args.dir / "reports")
    return pipeline.exit_code(run)


# -- commands ------------------------------------------------------------------------------
def cmd_status(args: argparse.Namespace) -> int:
    target = open_target(args.db)
    migrations = mig.discover(args.migrations)
    with target.engine().connect() as conn:
        status = mig.status(conn, migrations, target.kind)
    if args.json:
        print(json.dumps({"target": target.display, **status.as_dict()}, indent=2))
    else:
        print(f"target:  {target.display}")
        print(f"current: {status.current or '(none)'}" + ("  (baseline tables present, will be adopted)" if status.adoptable else ""))
        for a in status.applied:
            print(f"  applied  {a.version}_{a.name}  {a.applied_at}  run {a.run_id}")
        for m in status.pending:
            print(f"  pending  {m.label}")
        for m, _ in status.drifted:
            print(f"  DRIFTED  {m.label}  (file changed since it was applied)")
        for a in status.unknown:
            print(f"  UNKNOWN  {a.version}_{a.name}  (applied, no file in the folder)")
    return 1 if status.drifted or status.unknown else 0


def cmd_history(args: argparse.Namespace) -> int:
    """The database's event log (``schema_events``): every deploy, revert, failure and adoption."""
    target = open_target(args.db)
    with target.engine().connect() as conn:
        events = mig.event_log(conn)
    if args.json:
        print(json.dumps({"target": target.display, "events": events}, indent=2, default=str))
        return 0
    print(f"target: {target.display}")
    if not events:
        print(f"no events (no {mig.EVENTS_TABLE} table, or it is empty)")
    for e in events:
        line = f"  {e['at']}  {e['event']:<8} {e['version']}_{e['name']:<32} run {e['run_id']}  by {e['who']}@{e['host']}"
        print(line + (f"\n      {mask(e['note'])}" if e.get("note") else ""))
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from . import lint

    folder = args.migrations or (Path(args.files[0]).parent if args.files else Path("migrations"))
    target = open_target(args.db) if args.db else None  # only an explicit --db: lint is static by default
    report = lint.lint(folder, target=target, files=args.files)
    print(json.dumps(report.as_dict(), indent=2) if args.json else lint.render(report))
    return report.exit_code


def cmd_new(args: argparse.Namespace) -> int:
    path, rollback = mig.new_migration(args.migrations, args.description)
    print(f"created {path}")
    print(f"created {rollback}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runbook", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("status", help="applied, pending and drifted migrations")
    _db(p), _migrations(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("history", help="the database's event log: deploys, reverts, failures, adoptions")
    _db(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("reports", help="list the runs in a reports folder (the migration log)")
    p.add_argument("--reports", default="reports", type=Path, help="reports folder (default ./reports)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--html", action="store_true", help="(re)write every run's index.html and reports/index.html from the JSON records")
    p.set_defaults(handler=cmd_reports)

    p = sub.add_parser("clean", help="remove leftovers of dead runs (partial backups, scratch copies and databases)")
    p.add_argument("--db", help="also drop this server's scratch databases of dead runs (and take its lock)")
    p.add_argument("--reports", default="reports", type=Path, help="reports folder (default ./reports)")
    p.add_argument("--backups", default="backups", type=Path, help="backup folder (default ./backups)")
    p.set_defaults(handler=cmd_clean)

    p = sub.add_parser("demo", help="build the demo Power100 database and run the whole pipeline on it")
    p.add_argument("--dir", type=Path, default=Path("demo"), help="demo folder (default ./demo); its power100.db is rebuilt")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("lint", help="classify migrations by the guide's categories; findings (exit 1 on errors)")
    p.add_argument("--migrations", type=Path, default=None,
                   help="migrations folder (default: the FILEs' folder, else ./migrations)")
    p.add_argument("--db", help="lint the files that run on this database, pending ones against its schema "
                                "(default: static; shared files as SQLite, .postgresql.sql variants as PostgreSQL)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("files", nargs="*", metavar="FILE", help="only report these migration files")
    p.set_defaults(handler=cmd_lint)

    p = sub.add_parser("new", help="scaffold the next numbered migration and its rollback stub")
    p.add_argument("description", help='what the migration does, e.g. "Add partner tiers"')
    _migrations(p)
    p.set_defaults(handler=cmd_new)

    helps = {
        "run": "the whole pipeline: inventory, backup, migrate, verify (rollback when migrate or verify fails)",
        "inventory": "step 1: counts, sizes, data quality, schema snapshot",
        "backup": "step 2: a verified backup",
        "migrate": "step 3: backup, then apply pending migrations",
        "verify": "step 4: post-migration checks (against --snapshot when given)",
        "rollback": "step 5: rollback scripts down to --to VERSION, or --restore BACKUP",
    }
    for name, text in helps.items():
        p = sub.add_parser(name, help=text, description=text)
        _run_options(p, name)
        p.set_defaults(handler=cmd_steps)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage already
        return int(exc.code or 0)
    try:
        check_utf8([v for k, v in vars(args).items() if k != "handler"], "argument")
        return args.handler(args)
    except RunbookError as exc:
        print(f"runbook: {mask(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("runbook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())

