"""What lint reports: per statement (``Verdict``), per migration (``MigrationLint``), per folder
(``LintReport``), and its text rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..migrations import Migration
from .registry import Finding
from .rules.risk import CATEGORY_NAMES, RISK_CATEGORY


@dataclass
class Verdict:
    """One statement's classification."""

    index: int
    line: int
    sql: str
    kind: str
    category: int | None  # None: ignored (transaction control)
    reason: str
    destructive: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "line": self.line, "sql": short(self.sql), "kind": self.kind,
                "category": self.category, "reason": self.reason, "destructive": self.destructive}


@dataclass
class MigrationLint:
    """One migration as it would run on one engine."""

    migration: Migration
    engine: str
    file: Path
    dialect: str
    declared_risk: str | None
    statements: list[Verdict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    applied: bool | None = None  # with a target: already applied there
    rollback_check: dict[str, str] = field(default_factory=lambda: {"status": "not run", "detail": ""})
    schema_source: str = "static"  # "engine": names checked against the engine; "static": the guess

    @property
    def category(self) -> int:
        cats = [v.category for v in self.statements if v.category is not None]
        return max(cats, default=1)

    @property
    def destructive(self) -> bool:
        return any(v.destructive for v in self.statements)

    @property
    def declared_category(self) -> int | None:
        return RISK_CATEGORY.get(self.declared_risk or "")

    def as_dict(self) -> dict[str, Any]:
        m = self.migration
        return {
            "migration": m.label, "version": m.version, "engine": self.engine, "file": str(self.file),
            "dialect": self.dialect, "declared_risk": self.declared_risk,
            "declared_category": self.declared_category, "category": self.category,
            "category_name": CATEGORY_NAMES[self.category], "destructive": self.destructive,
            "rollback": str(m.rollback.path) if m.rollback else None, "has_rollback": m.rollback is not None,
            "rollback_check": self.rollback_check, "schema_source": self.schema_source,
            "applied": self.applied,
            "statements": [v.as_dict() for v in self.statements],
            "findings": [f.as_dict() for f in self.findings],
        }


@dataclass
class LintReport:
    migrations_dir: str
    target: str | None
    migrations: list[MigrationLint] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # folder-level: names, numbering

    def all_findings(self) -> list[Finding]:
        return self.findings + [f for m in self.migrations for f in m.findings]

    @property
    def errors(self) -> int:
        return sum(f.level == "error" for f in self.all_findings())

    @property
    def warnings(self) -> int:
        return sum(f.level == "warning" for f in self.all_findings())

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "migrations_dir": self.migrations_dir, "target": self.target,
            "migrations": [m.as_dict() for m in self.migrations],
            "findings": [f.as_dict() for f in self.findings],
            "errors": self.errors, "warnings": self.warnings, "passed": self.errors == 0,
        }


def short(sql: str, width: int = 160) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= width else text[: width - 1] + "…"


_SOURCES = {"engine": "names checked against the engine (replayed on a scratch database)",
            "database": "names checked against the target's schema",
            "static": "names checked against a static model of the migrations' DDL (a guess: no database)"}


def render(report: LintReport) -> str:
    """The report as a readable table."""
    lines = [f"migrations: {report.migrations_dir}" + (f"   target: {report.target}" if report.target else "")]
    if report.migrations:
        head = ("migration", "engine", "declared", "detected", "destructive", "rollback", "rollback check")
        rows = []
        for u in report.migrations:
            declared = f"{u.declared_risk} ({u.declared_category})" if u.declared_category else (u.declared_risk or "-")
            rows.append((u.migration.label + (" (applied)" if u.applied else ""), u.engine, declared,
                         f"{u.category} {CATEGORY_NAMES[u.category]}", "YES" if u.destructive else "no",
                         "yes" if u.migration.rollback else "no", u.rollback_check.get("status", "")))
        lines += table(head, rows)
        sources = sorted({u.schema_source for u in report.migrations})
        lines.append("schema: " + "; ".join(_SOURCES.get(s, s) for s in sources))
        for u in report.migrations:
            lines.append("")
            lines.append(f"{u.file} ({u.engine}, Category {u.category}{', DESTRUCTIVE' if u.destructive else ''})")
            rows = [(str(v.line), str(v.category), "YES" if v.destructive else "", v.kind, v.reason)
                    for v in u.statements if v.category is not None]
            lines += ["  " + r for r in table(("line", "cat", "data loss", "kind", "reason"), rows)]
    found = report.all_findings()
    lines.append("")
    if found:
        lines.append("findings:")
        lines += ["  " + r for r in table(("level", "where", "code", "message"),
                                          [(f.level, f.where(), f.code, f.message) for f in found])]
    lines.append(f"{report.errors} error(s), {report.warnings} warning(s) in {len(report.migrations)} migration file(s)")
    return "\n".join(lines)


def table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head) - 1)]
    fmt = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)) + "  " + str(r[-1])  # noqa: E731
    return [fmt(head).rstrip()] + [fmt(r).rstrip() for r in rows]
