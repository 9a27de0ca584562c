"""``runbook init``: the files a project needs to start using the runbook. Existing files are
never overwritten; the caller is told which were kept."""

from __future__ import annotations

from pathlib import Path

from .errors import BadInput

CONFIG = '''\
# runbook settings (https://pypi.org/project/schema-runbook/). Every setting can also be given as a
# RUNBOOK_<NAME> environment variable or a command-line flag; `runbook config` shows which won.

# The database: never write a password here. env:VAR reads the URL from that variable, e.g.
#   export {db_env}=postgresql://deploy@db.internal:5432/app   (password in PGPASSWORD or ~/.pgpass)
#   export {db_env}=sqlite:///app.db
db = "env:{db_env}"

# The SQL dialect the migration files are written in (sqlite or postgresql).
dialect = "{dialect}"

# Folders, relative to this file.
migrations = "migrations"
reports = "reports"      # the migration log: commit it, or keep it as a CI artifact
backups = "backups"      # backup files: large and full of data, never committed

lock_timeout = 5         # seconds to wait for a table lock before giving up
statement_timeout = 600  # seconds any one statement may run
rehearsal = true         # rehearse pending migrations on a scratch copy before the real run
'''

GITIGNORE = '''\
# runbook: backups hold the database's data; never commit them
/backups/
# files a report is written to before it is renamed into place
/reports/**/*.partial
.ipynb_checkpoints/
'''

README = '''\
# Database migrations

This folder's schema changes are applied with [schema-runbook](https://pypi.org/project/schema-runbook/):
every change is inventoried, backed up, rehearsed on a copy, applied in one transaction, verified,
and rolled back when a check fails. The executed notebooks in `reports/` are the migration log.

```bash
export {db_env}=sqlite:///app.db     # or postgresql://user@host:5432/db (password in PGPASSWORD)
runbook new "add customer tiers"     # migrations/NNN_add_customer_tiers.sql and its rollback
runbook lint                         # risk of each migration, by the guide's categories
runbook check                        # exit 1 while something is pending or drifted (a CI gate)
runbook run --dry-run                # the SQL that would run; changes nothing
runbook run                          # inventory, backup, migrate, verify; rollback on failure
runbook lab                          # step through the same notebooks in JupyterLab
runbook reports                      # the migration log
```

Write each migration in `migrations/NNN_description.sql`, its way back in
`migrations/rollbacks/NNN_rollback_description.sql` and, optionally, its verify script in
`migrations/verify/NNN_verify_description.sql`: read-only SQL that raises an error when the change
is not really in the database (`runbook new` writes all three). Settings live in `runbook.toml`
(`runbook config` prints them). An existing database at some version is adopted with
`runbook baseline --version N`.
'''


def init(folder: Path, *, dialect: str = "sqlite", db_env: str = "DATABASE_URL") -> tuple[list[Path], list[Path]]:
    """Scaffold ``folder``; returns (created, kept) paths."""
    if not db_env.isidentifier():
        raise BadInput(f"--db-env {db_env!r} is not an environment variable name")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"{folder} exists and is not a folder")
    files = {
        folder / "runbook.toml": CONFIG.format(db_env=db_env, dialect=dialect),
        folder / ".gitignore": GITIGNORE,
        folder / "migrations" / "README.md": README.format(db_env=db_env),
        folder / "migrations" / "rollbacks" / ".gitkeep": "",
    }
    created, kept = [], []
    for path, text in files.items():
        if path.exists():
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(path)
    return created, kept
