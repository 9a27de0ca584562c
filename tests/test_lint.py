"""Lint: the corpus of classified cases (accuracy must be 100 %), each finding on a purpose-made
bad migration folder, the rollback check on real scratch databases, the CLI, the migrate gate and
``runbook new``."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from runbook import lint
from runbook import migrations as mig
from runbook.cli import main
from runbook.engines import ENGINES
from runbook.errors import BadInput
from runbook.migrate import migrate
from runbook.sqltext import header
from runbook.target import open_target

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = REPO / "migrations"
CORPUS = REPO / "tests" / "lint_corpus"
CASES = sorted(p for p in CORPUS.glob("*.sql") if not p.name.startswith("_"))


# -- the corpus --------------------------------------------------------------------------------
def _corpus_folder(case: Path, root: Path) -> tuple[Path, str]:
    """A migrations folder: 000 = the corpus baseline of the case's dialect, 001 = the case."""
    fields = header(case.read_text())
    dialect = fields["dialect"]
    folder = root / case.stem
    (folder / "rollbacks").mkdir(parents=True)
    shutil.copy(CORPUS / "_before.sql", folder / "000_before.sql")
    (folder / "rollbacks" / "000_rollback_before.sql").write_text("-- Rollback: corpus baseline\n")
    if dialect == "postgresql":
        shutil.copy(CORPUS / "_before.postgresql.sql", folder / "000_before.postgresql.sql")
        shutil.copy(case, folder / f"001_{case.stem}.postgresql.sql")
    shutil.copy(case, folder / f"001_{case.stem}.sql")
    if fields.get("rollback", "yes") == "yes":
        (folder / "rollbacks" / f"001_rollback_{case.stem}.sql").write_text("-- Rollback: stub\n")
    return folder, dialect


def _judge(case: Path, root: Path) -> list[str]:
    """What the linter got wrong on one case (empty: right)."""
    fields = header(case.read_text())
    folder, dialect = _corpus_folder(case, root)
    report = lint.lint(folder, engine=ENGINES[dialect], check_rollback=False)
    base = [u for u in report.migrations if u.migration.number == 0]
    assert base and not base[0].findings, f"corpus baseline lints dirty: {[f.message for f in base[0].findings]}"
    unit = next(u for u in report.migrations if u.migration.number == 1)
    wrong = []
    if unit.category != int(fields["expect_category"]):
        wrong.append(f"category {unit.category}, expected {fields['expect_category']}")
    if unit.destructive != (fields["expect_destructive"] == "yes"):
        wrong.append(f"destructive {unit.destructive}, expected {fields['expect_destructive']}")
    expected = set() if fields["expect_findings"] == "none" else {c.strip() for c in fields["expect_findings"].split(",")}
    got = {f.code for f in unit.findings + report.findings}
    if got != expected:
        wrong.append(f"findings {sorted(got)}, expected {sorted(expected)}: "
                     + "; ".join(f.message for f in unit.findings))
    if "expect_statements" in fields:
        cats = [v.category for v in unit.statements if v.category is not None]
        if cats != [int(c) for c in fields["expect_statements"].split()]:
            wrong.append(f"statement categories {cats}, expected {fields['expect_statements']}")
    if wrong:
        wrong.append("reasons: " + " | ".join(f"{v.line}:{v.category}:{v.reason}" for v in unit.statements))
    return wrong


def test_corpus_accuracy(tmp_path: Path) -> None:
    assert len(CASES) >= 40
    dialects = {header(c.read_text())["dialect"] for c in CASES}
    assert dialects == {"sqlite", "postgresql"}
    failures = {}
    for case in CASES:
        wrong = _judge(case, tmp_path)
        if wrong:
            failures[case.name] = wrong
    right = len(CASES) - len(failures)
    accuracy = 100.0 * right / len(CASES)
    print(f"\nlint corpus accuracy: {right}/{len(CASES)} = {accuracy:.1f}%")
    for name, wrong in failures.items():
        print(f"  WRONG {name}: " + "; ".join(wrong))
    assert accuracy == 100.0, f"lint corpus accuracy {accuracy:.1f}% < 100%: {sorted(failures)}"
