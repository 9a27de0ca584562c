"""Seeds: data files loaded outside the migration history (sample data, reference rows).

A seed runs in one transaction, translated to the target's engine like a migration; it leaves
no row in ``schema_history``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .migrate import prepare, execute_script
from .migrations import Script

if TYPE_CHECKING:
    from .target import Target


def load(target: "Target", files: list[Path]) -> dict[str, int]:
    """Load each seed file in its own transaction; returns rows inserted per file."""
    loaded = {}
    for path in files:
        prepared = prepare(Script(Path(path)), target.kind)
        with target.engine().begin() as conn:
            results = execute_script(conn, prepared, Path(path).stem)
        loaded[Path(path).name] = sum(r.rowcount or 0 for r in results)
    return loaded


def build_baseline(target: "Target", migrations_dir: Path, seeds_dir: Path) -> None:
    """Make ``target`` look like the guide's production database: the baseline schema and the
    sample data, with no history table (so the runbook adopts it)."""
    baseline = sorted(Path(migrations_dir).glob("000_*.sql"))
    baseline = [p for p in baseline if p.name.count(".") == 1]
    load(target, baseline + [Path(seeds_dir) / "sample_data.sql"])
