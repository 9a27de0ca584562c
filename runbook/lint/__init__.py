"""Lint migrations: classify each one by the guide's three categories and report findings.

The public API (what the CLI, the migrate notebook and the pipeline use):

* ``lint(folder, target=, engine=, files=, check_rollback=) -> LintReport`` and ``render(report)``;
* ``gate(pending, engine, allow_risk=, target=) -> dict``: the migrate gate (refuses with
  ``BadInput`` carrying the report);
* ``Finding``, ``LintReport``, ``MigrationLint``, ``Verdict``, ``RISK_CATEGORY``, ``GATE_CODES``,
  ``RULES`` (every rule: code, level, summary, help).

Inside: ``sqlite.py`` and ``postgresql.py`` classify statements of their source dialect (SQLite
through sqlglot's grammar, PostgreSQL through its own parser, pglast) by calling the rule logic in
``classify.py``; ``rules/`` declares every finding, one module per family, in the registry
(``registry.py``); ``check.py`` runs a sequence (replayed on a scratch database of the engine when
one can be made); ``folder.py`` reads the folder; ``model.py`` is what lint knows of the schema.
Categories (the guide's): 1 non-breaking (safe), 2 breaking (requires migration), 3 data
migration required. Declared Risk Levels map LOW → 1, MEDIUM → 2, HIGH → 3. See ``docs/lint.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInput
from ..migrations import Migration
from . import rules  # noqa: F401  (registers every rule)
from .check import classifier_for, lint_engine, lint_migration, lint_sequence
from .folder import scan_folder
from .model import SchemaModel, from_database
from .model import from_database as schema_from_database
from .registry import RULES, Finding, Rule
from .report import LintReport, MigrationLint, Verdict, render
from .rules.risk import CATEGORY_NAMES, CATEGORY_RISK, RISK_CATEGORY
from .sqlite import quiet_sqlglot

if TYPE_CHECKING:
    from ..engines.base import Engine
    from ..target import Target

#: findings the migrate gate refuses unless overridden: the declaration against the SQL, and SQL
#: the engine's own parser rejects (it would fail anyway)
GATE_CODES = ("rollback-missing", "risk-understated", "unparsable")


def lint(folder: str | Path, *, target: "Target | None" = None, engine: "Engine | None" = None,
         files: list[str | Path] | None = None, check_rollback: bool = True,
         dialect: str | None = "sqlite") -> LintReport:
    """Lint a migrations folder.

    With ``target``: the files that run on its engine, replayed on a scratch database of the
    target's server, the pending ones also seeing what the target holds. Without: the shared files
    as SQLite and any ``.postgresql.sql`` variants as PostgreSQL (or only ``engine``'s files when
    given). ``files`` limits the report to those files (the others are still read, in order).
    ``check_rollback`` replays the migrations on a scratch database (an SQLite temporary file; a
    scratch database on the target's PostgreSQL server): names are then checked against the
    engine, and each rollback is checked to restore the schema.
    """
    from ..engines import ENGINES
    from ..migrations import source_dialect, with_dialect

    folder = Path(folder)
    migrations, findings = scan_folder(folder)
    migrations = with_dialect(migrations, dialect)  # shared files read as the project's dialect
    report = LintReport(str(folder), target.display if target is not None else None, [], findings)
    wanted = _wanted_files(folder, files)
    with quiet_sqlglot():
        if target is not None:
            plans = [lint_engine(migrations, target.kind, target, check_rollback=check_rollback)]
        elif engine is not None:
            plans = [lint_engine(migrations, engine, None, check_rollback=check_rollback)]
        else:
            shared = next(e for e in ENGINES.values() if e.sqlglot_dialect == source_dialect(dialect))
            plans = [lint_engine(migrations, shared, None, check_rollback=check_rollback)]
            for other in (e for e in ENGINES.values() if e is not shared):
                if any(other.variant_suffix in m.script.variants for m in migrations):
                    units = lint_engine(migrations, other, None, check_rollback=check_rollback)
                    plans.append([u for u in units if other.variant_suffix in u.migration.script.variants])
    for units in plans:
        report.migrations.extend(u for u in units if wanted is None or _unit_files(u) & wanted)
    if wanted is not None:
        report.findings = [f for f in report.findings if Path(f.file).resolve() in wanted]
    return report


def _wanted_files(folder: Path, files: list[str | Path] | None) -> set[Path] | None:
    if not files:
        return None
    wanted = set()
    for f in files:
        p = Path(f)
        if not p.is_file():
            raise BadInput(f"no such migration file: {p}")
        if p.resolve().parent != folder.resolve():
            raise BadInput(f"{p} is not in the migrations folder {folder} (pass --migrations)")
        wanted.add(p.resolve())
    return wanted


def _unit_files(u: MigrationLint) -> set[Path]:
    return {u.migration.path.resolve(), Path(u.file).resolve()}


# -- the migrate gate --------------------------------------------------------------------------
def gate(pending: list[Migration], engine: "Engine", *, allow_risk: bool = False,
         target: "Target | None" = None, no_rollback: bool = False) -> dict[str, Any]:
    """The lint report of the pending migrations (JSON-able), for the migrate step and the
    pipeline's first check. Nothing is run: it reads files and, with ``target``, the target's
    schema (the pending ones are checked against it), so it costs seconds.

    Raises ``BadInput`` naming each migration and finding when a gate finding (``GATE_CODES``:
    a Category 2/3 migration without a rollback script, a declared risk lower than detected, a
    statement the engine's parser rejects, an unknown name, ...) is found, unless ``allow_risk``:
    then the report carries ``"override": true`` and the findings it overrode. ``no_rollback``
    (``run --no-rollback``: the run will not roll back, a failure leaves what committed) accepts
    ``rollback-missing`` alone, listed in ``report["accepted"]``; the other gate findings still
    refuse. The refusal carries
    the report as ``exc.report``; ``report["refusing"]`` lists every finding behind it (code,
    file, line, message).
    """
    report: dict[str, Any] = {"engine": engine.name, "migrations": [], "refused": [], "refusing": [],
                              "override": False, "overridden": [], "accepted": [], "errors": 0, "warnings": 0}
    if not pending:
        return report
    from ..migrations import with_dialect

    everything = with_dialect(scan_folder(pending[0].path.parent)[0], pending[0].script.dialect)
    wanted = {m.version for m in pending}
    earlier = [m for m in everything if m.number < min(m.number for m in pending) and m.version not in wanted]
    with quiet_sqlglot():
        if target is not None:
            with target.engine().connect() as conn:
                db = from_database(conn)
            units = lint_sequence(pending, engine, start=db, target=target)
        else:
            units = lint_sequence(earlier + pending, engine, target=target)
    units = [u for u in units if u.migration.version in wanted]
    behind = [(u, f) for u in units for f in u.findings if f.code in GATE_CODES and f.level == "error"]
    if no_rollback:
        report["accepted"] = [f"{u.migration.label}: {f.code}: {f.message} (accepted: no rollback, "
                              "a failure leaves what committed applied)" for u, f in behind if f.code == "rollback-missing"]
        behind = [(u, f) for u, f in behind if f.code != "rollback-missing"]
    reasons = [f"{u.migration.label}: {f.code}: {f.message}" for u, f in behind]
    report["migrations"] = [u.as_dict() for u in units]
    report["errors"] = sum(f.level == "error" for u in units for f in u.findings)
    report["warnings"] = sum(f.level == "warning" for u in units for f in u.findings)
    report["refusing"] = [f.as_dict() for _, f in behind]
    if reasons and not allow_risk:
        report["refused"] = reasons
        refusal = BadInput("refusing to migrate: " + " | ".join(reasons)
                           + " (fix the migration, or override explicitly with allow_risk)")
        refusal.report = report  # type: ignore[attr-defined]  # for the notebook and the CLI to show
        raise refusal
    if reasons:
        report["override"] = True
        report["overridden"] = reasons
    return report


def render_refusal(report: dict[str, Any]) -> str:
    """Every finding behind a gate refusal, one per line: ``code  file:line  message``."""
    lines = []
    for f in report.get("refusing", []):
        where = f"{f['file']}:{f['line']}" if f.get("line") else f["file"]
        lines.append(f"  {f['level']}  {f['code']}  {where}  {f['message']}")
    return "\n".join(lines)


__all__ = ["Finding", "Rule", "RULES", "Verdict", "MigrationLint", "LintReport", "SchemaModel", "scan_folder",
           "lint_migration", "lint_sequence", "lint", "gate", "render", "render_refusal", "from_database",
           "schema_from_database",
           "RISK_CATEGORY", "CATEGORY_RISK", "CATEGORY_NAMES", "GATE_CODES", "classifier_for"]
