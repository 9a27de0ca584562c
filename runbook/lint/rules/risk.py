"""The declaration: the header's Risk Level against the detected category, and the rollback script."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..registry import rule

if TYPE_CHECKING:
    from ..report import MigrationLint

RISK_UNDERSTATED = rule("risk-understated", "error",
                        "the declared Risk Level is lower than the detected category, or a Category 2/3 migration "
                        "declares none (line: the header's `Risk Level`)",
                        "declare the detected level (`-- Risk Level: MEDIUM` for Category 2, `HIGH` for 3), or split "
                        "the risky statement into its own migration", family=__name__)
RISK_MISSING = rule("risk-missing", "warning", "no `-- Risk Level:` in the header, or not one of LOW, MEDIUM, HIGH",
                    "add `-- Risk Level: LOW` (or `MEDIUM`, `HIGH`) to the header comment", family=__name__)
ROLLBACK_MISSING = rule("rollback-missing", "error", "a Category 2 or 3 migration has no `rollbacks/NNN_rollback_*.sql`",
                        "write `rollbacks/NNN_rollback_<name>.sql` that undoes it (an empty one declares a no-op)",
                        family=__name__)

#: the findings ``check`` makes (made again when the replay raises a migration's category)
CODES = (RISK_UNDERSTATED.code, RISK_MISSING.code, ROLLBACK_MISSING.code)

RISK_CATEGORY = {"LOW": 1, "MEDIUM": 2, "HIGH": 3}
CATEGORY_RISK = {v: k for k, v in RISK_CATEGORY.items()}
CATEGORY_NAMES = {1: "non-breaking", 2: "breaking", 3: "data migration"}


def risk_line(path: Path) -> int | None:
    """Line of the header's ``-- Risk Level:`` (the header comment block, as ``sqltext.header`` reads it)."""
    for no, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("--"):
            return None
        key, sep, _ = line[2:].partition(":")
        if sep and key.strip().lower().replace(" ", "_") == "risk_level":
            return no
    return None


def check(unit: "MigrationLint") -> None:
    """The declared Risk Level and the rollback script against the detected category."""
    m = unit.migration
    header_file = m.path  # the header that declares the risk is the shared file's
    line = risk_line(header_file)
    cat = unit.category
    top = next((v for v in unit.statements if v.category == cat), None)
    why = f"statement {top.index} (line {top.line}): {top.reason}" if top else "no statement"
    declared = unit.declared_category
    if unit.declared_risk is None:
        unit.findings.append(RISK_MISSING.at(header_file, None,
                                             "the header declares no Risk Level (-- Risk Level: LOW|MEDIUM|HIGH)"))
    elif declared is None:
        unit.findings.append(RISK_MISSING.at(header_file, line,
                                             f"Risk Level {unit.declared_risk!r} is not one of LOW, MEDIUM, HIGH"))
    if cat > (declared or 1) or (declared is None and cat > 1):
        said = f"declares {unit.declared_risk} (Category {declared})" if declared else "declares no usable Risk Level"
        unit.findings.append(RISK_UNDERSTATED.at(header_file, line,
                                                 f"{said} but is Category {cat} ({CATEGORY_NAMES[cat]}), so at least "
                                                 f"{CATEGORY_RISK[cat]}: {why}"))
    if cat >= 2 and m.rollback is None:
        unit.findings.append(ROLLBACK_MISSING.at(unit.file, None,
                                                 f"a Category {cat} migration needs a rollback script: "
                                                 f"rollbacks/{m.version}_rollback_{m.name}.sql ({why})"))
