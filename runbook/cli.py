"""The ``runbook`` command: a thin layer over the same functions the notebooks call.

Exit status: 0 passed; 1 the run failed (database left as before, or rolled back);
2 bad usage or bad input (nothing touched).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from . import migrations as mig
from .errors import BadInput, RunbookError
from .migrate import check_folder
from .target import mask, open_target

Handler = Callable[[argparse.Namespace], int]


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="SQLAlchemy URL of the target (default: $RUNBOOK_DB)")


def _migrations(p: argparse.ArgumentParser) -> None:
    p.add_argument("--migrations", default="migrations", type=Path, help="migrations folder (default ./migrations)")


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
    try:
        check_folder_ok = not (status.drifted or status.unknown)
    finally:
        pass
    return 0 if check_folder_ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="runbook", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("status", help="applied, pending and drifted migrations")
    _db(p), _migrations(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_status)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage already
        return int(exc.code or 0)
    try:
        return args.handler(args)
    except RunbookError as exc:
        print(f"runbook: {mask(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("runbook: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["main", "build_parser", "BadInput", "check_folder"]
