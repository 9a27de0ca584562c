"""The whole run: inventory → backup → migrate → verify, and rollback when migrate or verify fails.

Each step is its notebook, executed by papermill into the run's folder, all in one kernel
(``kernel.shared_kernel``); steps hand each other JSON artefacts in that folder (see ``reports``).

The run's database work between its steps is done in that kernel too (``kernel.call`` of the
``host_*`` functions below): opening the target, refusing bad input, the one-runbook lock (held
by the kernel for the whole run; its notebooks see it held), cleaning up after dead runs, the lint
gate, the versions before and after. So the CLI's process, which drives papermill and writes the
report, never loads SQLAlchemy, sqlglot or a database driver (about 0.4 s of CPU a run: the
kernel has them loaded for the steps anyway). A failed run is still fully reported; when the
kernel died, the versions after it are read here.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import faults, progress, reports, startup
from .config import DEFAULT_DIALECT
from .errors import NO_TRANSACTION, BadInput, ReportIncomplete, RunFailed, redact
from .kernel import KernelGone, call, shared_kernel
from .reports import Run, StepResult
from .target import mask

if TYPE_CHECKING:
    from .target import Target

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
    rollback_refused: bool = False  # ``run --no-rollback``: a failure leaves what committed, said in the report
    # standalone verify / rollback
    snapshot: Path | None = None
    rollback_to: str | None = None
    restore_backup: Path | None = None
    confirm_restore: bool = False
    discard_new_data: bool = False  # rollback may drop columns/tables holding values written after the migration
    discard_old_rows: bool = False  # rollback may drop tables its migration did not create, with every row
    trust_unverified_backup: bool = False
    discard_newer_writes: bool = False
    notebooks_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Every field, paths as text (``from_json`` reads it back): for the kernel."""
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items() if k != "extra"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Options":
        paths = {f.name for f in fields(cls) if "Path" in str(f.type)}
        return cls(**{k: (Path(v) if k in paths and v is not None else v) for k, v in data.items()})

    def for_report(self) -> dict[str, Any]:
        return {k: v for k, v in self.as_json().items() if k != "notebooks_dir" and v not in (None, False)}


def _parameters(step: str, target: "Target | Opened", run_dir: Path, opts: Options, run: Run) -> dict[str, Any]:
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
                   "preflight": opts.preflight, "out_of_order": opts.out_of_order, "no_rollback": opts.rollback_refused}
    elif step == "verify":
        params["snapshot_path"] = str(Path(snapshot).resolve()) if Path(snapshot).is_file() else None
    elif step == "rollback":
        params |= {
            "rollback_to": opts.rollback_to if opts.rollback_to is not None else run.versions.get("before"),
            "restore_backup": str(opts.restore_backup.resolve()) if opts.restore_backup else None,
            "confirm_restore": opts.confirm_restore,
            "discard_new_data": opts.discard_new_data,
            "discard_old_rows": opts.discard_old_rows,
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


NO_ROLLBACK = "--no-rollback"  # how ``rollback_skipped`` begins when the run was told not to roll back


@dataclass(frozen=True)
class Opened:
    """The run's target as its kernel opened it (``host_open``): what the CLI's process needs of it."""

    display: str
    name: str
    engine: str
    lock_timeout_s: float
    statement_timeout_s: float


# -- the run's database work (in its kernel: ``execute`` calls the host_* functions there) ---------
def current_version(target: "Target") -> str | None:
    """The latest applied migration (``None``: no history table, or nothing applied)."""
    from .migrations import applied

    with target.engine().connect() as conn:
        done = applied(conn)
    target.dispose()
    return done[-1].version if done else None


def check_input(target: "Target", steps: tuple[str, ...], opts: Options) -> None:
    """Refuse bad input before anything runs or any report is made: a bad migrations folder,
    drift, a bad ``--to``, and (when the run would roll back on failure) a pending migration it
    could not roll back."""
    from .migrate import is_no_op, plan, prepare
    from .migrations import check_runnable, discover

    check_folders(steps, opts)
    if steps != ("backup",):
        check_runnable(discover(opts.migrations_dir, opts.dialect), target.kind)
    if "migrate" not in steps:
        return
    _, pending = plan(target, opts.migrations_dir, to=opts.to, dialect=opts.dialect, out_of_order=opts.out_of_order)
    missing = [m.label for m in pending if m.rollback is None and not is_no_op(prepare(m.script, target.kind))]
    if opts.rollback_on_failure and not opts.dry_run and missing:
        raise BadInput(f"no rollback script for {', '.join(missing)}: this run could not roll back if it failed "
                       "(add rollbacks/NNN_rollback_*.sql, or pass --no-rollback to leave what committed applied "
                       "if a step fails, or migrate step by step with `runbook migrate`)")


def check_folders(steps: tuple[str, ...], opts: Options) -> None:
    """The part of ``check_input`` that needs no database: the paths and folders given (run in
    the CLI's process too, so such bad input is refused before a kernel starts)."""
    from . import guards

    guards.check_utf8([opts.migrations_dir, opts.snapshot, opts.restore_backup], "path")
    if steps != ("backup",):  # a backup needs no migrations folder
        guards.check_migration_files(opts.migrations_dir)
    guards.check_writable_dir(opts.reports_dir, "reports folder")
    if "backup" in steps or opts.restore_backup:  # restores keep their scratch files beside the backup
        guards.check_writable_dir(opts.restore_backup.parent if opts.restore_backup else opts.backup_dir,
                                  "backups folder")


def clean_leftovers(target: "Target", reports_dir: Path, backup_dir: Path | None) -> list[str]:
    """What dead runs left behind, removed: their scratch databases and temporary copies, partial
    backups; their run.json marked ``died``. Returns what was done (``runbook clean`` prints it)."""
    from . import backup, rollback

    done = [f"run {r} marked died" for r in reports.mark_dead_runs(reports_dir)] if Path(reports_dir).is_dir() else []
    if backup_dir is not None:
        done += rollback.recover_pending_events(target, backup_dir)  # before its file is removed below
        done += [f"removed {p}" for p in backup.remove_leftovers(backup_dir)]
    done += [f"dropped {d}" for d in target.kind.remove_leftovers(target)]
    return done


def lint_gate(target: "Target", steps: tuple[str, ...], opts: Options, run_dir: Path) -> dict[str, Any] | None:
    """The lint gate over the pending migrations, first: before inventory or backup, so a refusal
    costs seconds. Writes ``lint.json``; returns the report when it refuses (``report["error"]``:
    why), else ``None``."""
    from . import lint
    from .migrate import plan

    if "migrate" not in steps:
        return None
    _, pending = plan(target, opts.migrations_dir, to=opts.to, dialect=opts.dialect, out_of_order=opts.out_of_order)
    try:
        report = lint.gate(pending, target.kind, allow_risk=opts.allow_risk, target=target,
                           no_rollback=opts.rollback_refused)
    except BadInput as exc:
        report = getattr(exc, "report", None)
        if report is None:
            raise
        reports.save_artifact(run_dir, "lint", report)
        return report | {"error": str(exc)}
    finally:
        target.dispose()
    reports.save_artifact(run_dir, "lint", report)
    return None


def host_call(function: str, arguments: str, cwd: str) -> str:
    """In the run's kernel, for ``kernel.call``: ``host_<function>(**arguments)`` run in the
    folder ``cwd`` (relative paths and URLs mean what they meant to the caller), as JSON:
    ``{"result"}``, or ``{"error", "message", "exit_code"}`` for the runbook's own errors."""
    import json

    from .errors import RunbookError

    try:
        with contextlib.chdir(cwd):
            return json.dumps({"result": globals()[f"host_{function}"](**json.loads(arguments))})
    except RunbookError as exc:
        return json.dumps({"error": type(exc).__name__, "message": str(exc), "exit_code": exc.exit_code})


#: what the kernel holds between the host_* calls of a run: its target and the run's lock
_HELD: dict[str, Any] = {}


def host_open(url: str, lock_timeout_s: float, statement_timeout_s: float, steps: list[str],
              options: dict[str, Any]) -> dict[str, Any]:
    """In the run's kernel: open the target, refuse bad input (``check_input``), take the
    one-runbook lock (held until ``host_close``, or until this process ends), clean up after dead
    runs, make the run's folder and send this kernel's progress there. Returns
    ``{"target": Opened fields, "run_dir", "cleaned", "version"}``."""
    startup.load(*startup.KERNEL_MODULES)
    from .target import open_target

    target = open_target(url, lock_timeout_s=lock_timeout_s, statement_timeout_s=statement_timeout_s)
    startup.load(f"runbook.engines.{target.kind.name}")
    opts = Options.from_json(options)
    check_input(target, tuple(steps), opts)
    held = contextlib.ExitStack()
    held.enter_context(target.kind.lock(target))  # a concurrent run is refused before it leaves a report
    try:
        cleaned = clean_leftovers(target, opts.reports_dir, opts.backup_dir)  # no other run is alive on it now
        run_dir = reports.new_run_dir(opts.reports_dir, target.name)
        version = current_version(target)
    except BaseException:
        held.close()
        raise
    os.environ[progress.ENV] = str((run_dir / progress.FILE_NAME).resolve())
    _HELD.update(target=target, lock=held)
    opened = Opened(target.display, target.name, target.kind.name, target.lock_timeout_s, target.statement_timeout_s)
    return {"target": asdict(opened), "run_dir": str(run_dir), "cleaned": cleaned, "version": version}


def host_lint(steps: list[str], options: dict[str, Any], run_dir: str) -> dict[str, Any] | None:
    """In the run's kernel: ``lint_gate`` on the target ``host_open`` opened."""
    return lint_gate(_HELD["target"], tuple(steps), Options.from_json(options), Path(run_dir))


def host_version() -> str | None:
    """In the run's kernel: the target's version now."""
    return current_version(_HELD["target"])


def host_close(run_dir: str, snapshot: bool = True) -> dict[str, Any]:
    """In the run's kernel: the version after the run and (``snapshot``) the ``after`` snapshot of
    the target (``error``: why it could not be saved), then the lock is let go."""
    try:
        return _after(_HELD["target"], Path(run_dir), snapshot=snapshot)
    finally:
        os.environ.pop(progress.ENV, None)
        _HELD.pop("target", None)
        lock = _HELD.pop("lock", None)
        if lock is not None:
            lock.close()


def _after(target: "Target", run_dir: Path, *, snapshot: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"version": current_version(target), "error": None}
    try:
        if snapshot:
            reports.save_artifact(run_dir, "after", reports.after_snapshot(target))
    except OSError as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


# -- the run ---------------------------------------------------------------------------------------
def execute(db: "Target | str", steps: tuple[str, ...], opts: Options, *,
            lock_timeout_s: float | None = None, statement_timeout_s: float | None = None) -> Run:
    """Run ``steps`` (the pipeline, or one step) on ``db`` (a target, or a password-free URL with
    its timeouts) and write the run's report; never raises for a failed step: ``run.status`` says
    ``passed`` or ``failed``. Bad input raises before anything is made (``BadInput``). Raises
    ``ReportIncomplete`` (exit 3) when the report could not be written and the database changed,
    ``RunFailed`` when it could not be written and nothing changed."""
    from .config import DEFAULT_LOCK_TIMEOUT_S, DEFAULT_STATEMENT_TIMEOUT_S

    if isinstance(db, str):
        url, timeouts = db, (lock_timeout_s or DEFAULT_LOCK_TIMEOUT_S, statement_timeout_s or DEFAULT_STATEMENT_TIMEOUT_S)
    else:
        url, timeouts = db.display, (db.lock_timeout_s, db.statement_timeout_s)
    check_folders(steps, opts)
    startup.load_notebook_runner()
    with shared_kernel(reports.notebook_path(steps[0], opts.notebooks_dir).parent) as km:
        opened = call(km, "open", url=url, lock_timeout_s=timeouts[0], statement_timeout_s=timeouts[1],
                      steps=list(steps), options=opts.as_json())
        target = Opened(**opened["target"])
        run_dir = Path(opened["run_dir"])
        with progress.follow(run_dir / progress.FILE_NAME):
            run, report_error = _steps(km, target, run_dir, steps, opts, cleaned=opened["cleaned"],
                                       version=opened["version"])
    if run.status != "refused":
        run.status = "passed" if all(s.passed for s in run.steps) and run.error is None and not report_error else "failed"
    run.finished_at = reports.utc_now().isoformat(timespec="seconds")
    try:
        run.write()
        reports.finish(run)  # the verdict into every notebook's first cell; the HTML pages
    except Exception as exc:  # a full disk, a notebook left truncated by one
        report_error = report_error or _why(exc)
    if run.status == "refused":
        return run
    if report_error:
        before, after = run.versions["before"] or "none", run.versions["after"] or "none"
        if before != after:
            raise ReportIncomplete(f"database changed, report incomplete: {target.display} is now at version {after} "
                                   f"(was {before}), but the report in {run_dir} could not be written ({report_error})")
        raise RunFailed(f"the report in {run_dir} could not be written ({report_error}); the database is unchanged "
                        f"at version {before}")
    return run


def _steps(km: Any, target: Opened, run_dir: Path, steps: tuple[str, ...], opts: Options, *,
           cleaned: list[str], version: str | None) -> tuple[Run, str | None]:
    """The run's report started, its lint gate, its steps, its versions after: ``(run, why the
    report could not be written or None)``. The lock is let go (``host_close``) whatever happens."""
    run = Run(run_dir.name, run_dir, target.display, target.engine, options=opts.for_report(),
              source=reports.migrations_source(opts.migrations_dir))
    if cleaned:
        run.options["cleaned_leftovers"] = cleaned
    run.versions["before"] = run.versions["after"] = version
    report_error, ran = None, False
    try:
        run.write()
        refusal = call(km, "lint", steps=list(steps), options=opts.as_json(), run_dir=str(run_dir))
        if refusal is not None:  # the run's page says REFUSED, with lint.json beside it
            run.status, run.error = "refused", f"lint: {refusal['error']}"
            run.lint_refusal = refusal["refusing"]
            return run, None
        progress.emit(f"run {run.run_id}: {', '.join(steps)} on {target.display}")
        ran = True
        report_error = _run_steps(km, target, run_dir, steps, opts, run)
    finally:
        after = _close(km, target, run_dir, snapshot=ran)
        run.versions["after"] = after["version"]
    return run, report_error or after["error"]


def _close(km: Any, target: Opened, run_dir: Path, *, snapshot: bool) -> dict[str, Any]:
    """``host_close`` in the kernel; when the kernel died (its lock went with it), read here."""
    try:
        return call(km, "close", run_dir=str(run_dir), snapshot=snapshot)
    except KernelGone:
        return _after(_reopen(target), run_dir, snapshot=snapshot)


def _reopen(target: Opened) -> "Target":
    """The run's target opened in this process: only when its kernel died (this loads SQLAlchemy)."""
    from .target import open_target

    return open_target(target.display, lock_timeout_s=target.lock_timeout_s,
                       statement_timeout_s=target.statement_timeout_s)


def _run_steps(km: Any, target: Opened, run_dir: Path, steps: tuple[str, ...], opts: Options, run: Run) -> str | None:
    """Each step in turn, and the rollback when migrate or verify fails; returns why the report
    could not be written (``None``: it could)."""
    for step in steps:
        try:
            result = _run_step(step, target, run_dir, opts, run, km)
        except Exception as exc:  # the report could not be written (full disk, ...): stop here
            return _why(exc)
        faults.barrier(f"after-{step}")
        if result.passed:
            continue
        run.error = f"{step}: {result.error}"
        nothing_touched = (result.error or "").startswith("BadInput")
        if step == "migrate" and run.rehearsal and run.rehearsal.get("ran") and not run.rehearsal.get("passed"):
            nothing_touched = True  # the rehearsal failed on a scratch copy: the target was not touched
            run.rollback_skipped = "the rehearsal failed on a scratch copy: the target was not touched"
        elif step == "migrate" and not nothing_touched and _unchanged(km, target, run.versions["before"]):
            nothing_touched = True  # each migration rolls back whole (or is undone): the failed one is not recorded
            how = ("the failed migration ran outside a transaction and was not recorded (its error says which of its "
                   "statements the runbook undid, and anything an undo left)" if NO_TRANSACTION in (result.error or "")
                   else "the failed migration rolled back whole")
            run.rollback_skipped = f"{how}: the database is still at version {run.versions['before'] or 'none'}"
        if opts.rollback_refused and step in ("migrate", "verify") and not opts.dry_run and not nothing_touched:
            run.rollback_skipped = (f"{NO_ROLLBACK}: the database was left as the failed {step} step left it, the "
                                    "migrations that committed still applied (`runbook status` lists them; "
                                    "`runbook rollback --restore` the run's backup to undo them)")
        elif opts.rollback_on_failure and step in ("migrate", "verify") and not opts.dry_run and not nothing_touched:
            try:
                back = _run_step("rollback", target, run_dir, opts, run, km)
            except Exception as exc:
                return _why(exc)
            if not back.passed:  # e.g. refused to drop values written since: say it where it shows
                run.error += f"; automatic rollback failed ({_where(km, target, run.versions['before'])}): {back.error}"
        return None
    return None


def _why(exc: BaseException) -> str:
    """Why the report could not be written: the error's first line, with no secret or row value."""
    return f"{type(exc).__name__}: {mask(redact(str(exc)))}".splitlines()[0]


def _version(km: Any, target: Opened) -> str | None:
    """The database's version now, read in the run's kernel (or here, when the kernel is gone)."""
    try:
        return call(km, "version")
    except KernelGone:
        return current_version(_reopen(target))


def _unchanged(km: Any, target: Opened, before: str | None) -> bool:
    """True when the database is still at ``before`` (a failed migrate rolled back whole: no
    rollback step needed); False when that cannot be read (roll back to be safe)."""
    try:
        return _version(km, target) == before
    except Exception:
        return False


def _where(km: Any, target: Opened, before: str | None) -> str:
    """Where a failed automatic rollback left the database, read from it: a rollback by scripts is
    all or nothing (unless its notice said otherwise), and the rollback step's checks may fail
    after it completed, so its error alone does not say."""
    try:
        now = _version(km, target)
    except Exception:
        return "the database's version could not be read"
    return f"the database is at version {now or 'none'}; the run wanted {before or 'none'}"


def _run_step(step: str, target: "Target | Opened", run_dir: Path, opts: Options, run: Run, km: Any) -> StepResult:
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
    is left changed: the run's automatic rollback failed or refused, or ``--no-rollback`` turned it
    off (``ReportIncomplete``, the other exit 3, is raised by ``execute``); else 1."""
    if run.status == "passed":
        return 0
    if run.status == "refused":  # the lint gate, before anything ran
        return 2
    if len(run.steps) > 1 and run.steps[-1].step == "rollback" and not run.steps[-1].passed:
        return 3
    if (run.rollback_skipped or "").startswith(NO_ROLLBACK):  # left changed on purpose: still not as it was
        return 3
    first = next((s for s in run.steps if not s.passed), None)
    return 2 if first is not None and (first.error or "").startswith("BadInput") else 1
