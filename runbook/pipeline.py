"""The whole run: inventory → backup → migrate → verify, and rollback when migrate or verify fails.

Each step is its notebook, executed by papermill into the run's folder, all in one kernel
(``kernel.shared_kernel``); steps hand each other JSON artefacts in that folder (see ``reports``). The run holds the one-runbook lock for its whole
length; the notebook kernels inherit it. A failed run is still fully reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import backup, faults, guards, progress, reports, rollback, startup
from .errors import BadInput, ReportIncomplete, RunFailed, redact
from .kernel import shared_kernel
from .migrate import is_no_op, plan, prepare
from .migrations import DEFAULT_DIALECT, applied, check_runnable, discover
from .reports import Run, StepResult
from .target import Target, mask

PIPELINE = ("inventory", "backup", "migrate", "verify")


@dataclass
class Options:
    """What a run may be told; every field is written into run.json."""

    migrations_dir: Path
    reports_dir: Path
    backup_dir: Path
    dialect: str = DEFAULT_DIALECT  # what NNN_name.sql files are written in: sqlite | postgresql
    out_of_order: bool = False  # apply pending migrations numbered below the current version
    to: str | None = None
    dry_run: bool = False
    skip_backup: bool = False
    rehearse: bool = True
    allow_risk: bool = False
    preflight: bool = True
    allow_quality_issues: bool = False
    rollback_on_failure: bool = True  # the whole pipeline rolls back; a lone migrate step does not
    # standalone verify / rollback
    snapshot: Path | None = None
    rollback_to: str | None = None
    restore_backup: Path | None = None
    confirm_restore: bool = False
    discard_new_data: bool = False  # rollback may drop columns/tables holding values written after the migration
    trust_unverified_backup: bool = False
    discard_newer_writes: bool = False
    notebooks_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def for_report(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()
                if k not in ("notebooks_dir", "extra") and v not in (None, False)}


def _parameters(step: str, target: Target, run_dir: Path, opts: Options, run: Run) -> dict[str, Any]:
    params: dict[str, Any] = {
        "db_url": target.display,  # never holds a password (see target.open_target)
        "migrations_dir": str(opts.migrations_dir.resolve()),
        "run_dir": str(run_dir.resolve()),
        "run_id": run.run_id,
        "dialect": opts.dialect,
        "lock_timeout_s": target.lock_timeout_s,
        "statement_timeout_s": target.statement_timeout_s,
    }
    snapshot = opts.snapshot or (run_dir / "inventory.json")
    if step == "inventory":
        params["allow_quality_issues"] = opts.allow_quality_issues
    elif step == "backup":
        params["backup_dir"] = str(opts.backup_dir.resolve())
    elif step == "migrate":
        params |= {"to_version": opts.to, "dry_run": opts.dry_run, "skip_backup": opts.skip_backup,
                   "rehearse": opts.rehearse and not opts.skip_backup, "allow_risk": opts.allow_risk,
                   "preflight": opts.preflight, "out_of_order": opts.out_of_order}
    elif step == "verify":
        params["snapshot_path"] = str(Path(snapshot).resolve()) if Path(snapshot).is_file() else None
    elif step == "rollback":
        params |= {
            "rollback_to": opts.rollback_to if opts.rollback_to is not None else run.versions.get("before"),
            "restore_backup": str(opts.restore_backup.resolve()) if opts.restore_backup else None,
            "confirm_restore": opts.confirm_restore,
            "discard_new_data": opts.discard_new_data,
            "trust_unverified_backup": opts.trust_unverified_backup,
            "discard_newer_writes": opts.discard_newer_writes,
            "snapshot_path": str(Path(snapshot).resolve()) if Path(snapshot).is_file() else None,
        }
    return params


def _absorb(run: Run, step: str) -> None:
    """Copy what a finished step left in the run folder into run.json."""
    if step in ("inventory", "verify"):  # the guide's "database size before/after"
        rec = reports.load_artifact(run.run_dir, step) or {}
        run.database_size_bytes["before" if step == "inventory" else "after"] = rec.get("size_bytes")
    elif step == "backup":
        rec = reports.load_artifact(run.run_dir, "backup")
        if rec:
            run.backup = {k: rec.get(k) for k in ("path", "format", "size_bytes", "sha256", "tool", "verified")}
    elif step == "migrate":
        run.rehearsal = reports.load_artifact(run.run_dir, "rehearsal")


def current_version(target: Target) -> str | None:
    """The latest applied migration (``None``: no history table, or nothing applied)."""
    with target.engine().connect() as conn:
        done = applied(conn)
    target.dispose()
    return done[-1].version if done else None


def check_input(target: Target, steps: tuple[str, ...], opts: Options) -> None:
    """Refuse bad input before anything runs or any report is made: a bad migrations folder,
    drift, a bad ``--to``, and (when the run would roll back on failure) a pending migration it
    could not roll back."""
    guards.check_utf8([opts.migrations_dir, opts.snapshot, opts.restore_backup], "path")
    if steps != ("backup",):  # a backup needs no migrations folder
        guards.check_migration_files(opts.migrations_dir)
        check_runnable(discover(opts.migrations_dir, opts.dialect), target.kind)
    guards.check_writable_dir(opts.reports_dir, "reports folder")
    if "backup" in steps or opts.restore_backup:  # restores keep their scratch files beside the backup
        guards.check_writable_dir(opts.restore_backup.parent if opts.restore_backup else opts.backup_dir,
                                  "backups folder")
    if steps == ("backup",):
        return
    if "migrate" not in steps:
        return
    _, pending = plan(target, opts.migrations_dir, to=opts.to, dialect=opts.dialect, out_of_order=opts.out_of_order)
    missing = [m.label for m in pending if m.rollback is None and not is_no_op(prepare(m.script, target.kind))]
    if opts.rollback_on_failure and not opts.dry_run and missing:
        raise BadInput(f"no rollback script for {', '.join(missing)}: this run could not roll back if it failed "
                       "(add rollbacks/NNN_rollback_*.sql, or migrate step by step with `runbook migrate`)")


def execute(target: Target, steps: tuple[str, ...], opts: Options) -> Run:
    """Run ``steps`` (the pipeline, or one step) and write the run's report; never raises for a
    failed step: ``run.status`` says ``passed`` or ``failed``. Raises ``ReportIncomplete`` (exit
    3) when the report could not be written and the database changed, ``RunFailed`` when it
    could not be written and nothing changed."""
    check_input(target, steps, opts)
    with target.kind.lock(target):  # a concurrent run is refused before it leaves a report
        cleaned = clean_leftovers(target, opts.reports_dir, opts.backup_dir)  # no other run is alive on it now
        run_dir = reports.new_run_dir(opts.reports_dir, target.name)
        run = Run(run_dir.name, run_dir, target.display, target.kind.name, options=opts.for_report(),
                  source=reports.migrations_source(opts.migrations_dir))
        if cleaned:
            run.options["cleaned_leftovers"] = cleaned
        run.versions["before"] = run.versions["after"] = current_version(target)
        run.write()
        if _refused_by_lint(target, steps, opts, run):
            return run
        report_error = None
        progress.emit(f"run {run.run_id}: {', '.join(steps)} on {target.display}; starting the notebook kernel")
        startup.load_notebook_runner()
        with progress.follow(run_dir / progress.FILE_NAME), \
                shared_kernel(reports.notebook_path(steps[0], opts.notebooks_dir).parent, target.kind.name) as km:
            for step in steps:
                try:
                    result = _run_step(step, target, run_dir, opts, run, km)
                except Exception as exc:  # the report could not be written (full disk, ...): stop here
                    report_error = f"{type(exc).__name__}: {mask(redact(str(exc)))}".splitlines()[0]
                    break
                faults.barrier(f"after-{step}")
                if not result.passed:
                    run.error = f"{step}: {result.error}"
                    nothing_touched = (result.error or "").startswith("BadInput")
                    if step == "migrate" and run.rehearsal and run.rehearsal.get("ran") and not run.rehearsal.get("passed"):
                        nothing_touched = True  # the rehearsal failed on the scratch copy: the target was not touched
                        run.rollback_skipped = "the rehearsal failed on a scratch copy: the target was not touched"
                    elif step == "migrate" and not nothing_touched and _unchanged(target, run.versions["before"]):
                        nothing_touched = True  # each migration rolls back whole: the failed one left nothing
                        run.rollback_skipped = ("the failed migration rolled back whole: the database is still at "
                                                f"version {run.versions['before'] or 'none'}")
                    if opts.rollback_on_failure and step in ("migrate", "verify") and not opts.dry_run and not nothing_touched:
                        try:
                            back = _run_step("rollback", target, run_dir, opts, run, km)
                        except Exception as exc:
                            report_error = f"{type(exc).__name__}: {mask(redact(str(exc)))}".splitlines()[0]
                        else:
                            if not back.passed:  # e.g. refused to drop values written since: say it where it shows
                                run.error += f"; automatic rollback failed, the database was NOT rolled back: {back.error}"
                    break
        run.versions["after"] = current_version(target)
        try:
            reports.save_artifact(run_dir, "after", reports.after_snapshot(target))
        except OSError as exc:
            report_error = report_error or f"{type(exc).__name__}: {exc}"
    run.status = "passed" if all(s.passed for s in run.steps) and run.error is None and not report_error else "failed"
    run.finished_at = reports.utc_now().isoformat(timespec="seconds")
    try:
        run.write()
        reports.finish(run)  # the verdict into every notebook's first cell; the HTML pages
    except Exception as exc:  # a full disk, a notebook left truncated by one
        report_error = report_error or f"{type(exc).__name__}: {mask(redact(str(exc)))}".splitlines()[0]
    if report_error:
        before, after = run.versions["before"] or "none", run.versions["after"] or "none"
        if before != after:
            raise ReportIncomplete(f"database changed, report incomplete: {target.display} is now at version {after} "
                                   f"(was {before}), but the report in {run_dir} could not be written ({report_error})")
        raise RunFailed(f"the report in {run_dir} could not be written ({report_error}); the database is unchanged "
                        f"at version {before}")
    return run


def _unchanged(target: Target, before: str | None) -> bool:
    """True when the database is still at ``before`` (a failed migrate rolled back whole: no
    rollback step needed); False when that cannot be read (roll back to be safe)."""
    try:
        return current_version(target) == before
    except Exception:
        return False


def clean_leftovers(target: Target, reports_dir: Path, backup_dir: Path | None) -> list[str]:
    """What dead runs left behind, removed: their scratch databases and temporary copies, partial
    backups; their run.json marked ``died``. Returns what was done (``runbook clean`` prints it)."""
    done = [f"run {r} marked died" for r in reports.mark_dead_runs(reports_dir)] if Path(reports_dir).is_dir() else []
    if backup_dir is not None:
        done += rollback.recover_pending_events(target, backup_dir)  # before its file is removed below
        done += [f"removed {p}" for p in backup.remove_leftovers(backup_dir)]
    done += [f"dropped {d}" for d in target.kind.remove_leftovers(target)]
    return done


def _refused_by_lint(target: Target, steps: tuple[str, ...], opts: Options, run: Run) -> bool:
    """The lint gate over the pending migrations, first: before inventory or backup, so a refusal
    costs seconds. Writes ``lint.json``; on a refusal, ``run.json`` with status ``refused`` and
    every finding behind it (``run.lint_refusal``), and nothing else is done."""
    from . import lint

    if "migrate" not in steps:
        return False
    _, pending = plan(target, opts.migrations_dir, to=opts.to, dialect=opts.dialect, out_of_order=opts.out_of_order)
    try:
        report = lint.gate(pending, target.kind, allow_risk=opts.allow_risk, target=target)
    except BadInput as exc:
        report = getattr(exc, "report", None)
        if report is None:
            raise
        reports.save_artifact(run.run_dir, "lint", report)
        run.status, run.error = "refused", f"lint: {exc}"
        run.lint_refusal = report["refusing"]
        run.finished_at = reports.utc_now().isoformat(timespec="seconds")
        run.write()
        reports.finish(run)  # the run's page says REFUSED, with lint.json beside it
        return True
    finally:
        target.dispose()
    reports.save_artifact(run.run_dir, "lint", report)
    return False


def _run_step(step: str, target: Target, run_dir: Path, opts: Options, run: Run, km: Any) -> StepResult:
    progress.emit(f"{step}: started ({reports.notebook_path(step, opts.notebooks_dir).name})")
    result = reports.execute_step(step, run_dir, _parameters(step, target, run_dir, opts, run),
                                  run_id=run.run_id, target_display=target.display,
                                  notebooks_dir=opts.notebooks_dir, km=km)
    progress.emit(f"{step}: {result.status.upper()} in {result.duration_s:.1f} s"
                  + (f": {result.error}" if result.error else ""))
    run.steps.append(result)
    _absorb(run, step)
    run.write()
    return result


def exit_code(run: Run) -> int:
    """0 passed; 2 when the first failure was bad input (nothing was touched); 3 when the database
    is left changed: the run's automatic rollback failed or refused (``ReportIncomplete``, the
    other exit 3, is raised by ``execute``); else 1."""
    if run.status == "passed":
        return 0
    if run.status == "refused":  # the lint gate, before anything ran
        return 2
    if len(run.steps) > 1 and run.steps[-1].step == "rollback" and not run.steps[-1].passed:
        return 3
    first = next((s for s in run.steps if not s.passed), None)
    return 2 if first is not None and (first.error or "").startswith("BadInput") else 1
