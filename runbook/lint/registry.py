"""The rule registry: every finding lint can report is declared once, in its family's module
under ``rules/``, with its code, default level, what it means and the safe recipe (``help``).

Adding a rule: declare it with ``rule(...)`` in the family's module (or a new module imported by
``rules/__init__.py``), emit it with ``RULE.at(file, line, message)``, and give it an example in
``tests/test_lint_rules.py``. ``docs/lint.md``'s findings table is generated from here
(``python -m runbook.lint.registry`` prints it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LEVELS = ("error", "warning")


@dataclass
class Finding:
    level: str  # "error" | "warning"
    code: str
    file: str
    line: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        rule = RULES.get(self.code)
        return {"level": self.level, "code": self.code, "file": self.file, "line": self.line, "message": self.message,
                "help": rule.help if rule else ""}

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Rule:
    code: str
    level: str  # the default level
    family: str  # the module under rules/ that declares it
    summary: str  # when it fires
    help: str  # what to write instead (the safe recipe)

    def at(self, file: str, line: int | None, message: str, *, level: str | None = None) -> Finding:
        """A finding of this rule."""
        return Finding(level or self.level, self.code, str(file), line, message)


RULES: dict[str, Rule] = {}


def rule(code: str, level: str, summary: str, help: str, *, family: str) -> Rule:
    """Declare a rule (once: a second declaration of a code is a programming error)."""
    assert level in LEVELS, level
    assert code not in RULES, f"rule {code} declared twice"
    RULES[code] = Rule(code, level, family.rsplit(".", 1)[-1], summary, help)
    return RULES[code]


def markdown_table() -> str:
    """The findings table of docs/lint.md."""
    from runbook.lint import registry, rules  # noqa: F401  (registers every family; also when run as __main__)

    lines = ["| code | level | family | when | help |", "|---|---|---|---|---|"]
    for r in registry.RULES.values():
        lines.append(f"| `{r.code}` | {r.level} | {r.family} | {r.summary} | {r.help} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(markdown_table())
