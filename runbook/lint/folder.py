"""The migrations folder: which files are migrations and rollbacks, and what breaks the naming
and numbering convention (as findings, not errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import BadInput
from ..migrations import _NAME, _ROLLBACK, _VERIFY, ROLLBACKS, SHAPES, VARIANTS, VERIFY, Migration, Script, assemble
from .registry import Finding
from .rules.structure import BAD_NAME, DUPLICATE_NUMBER, NUMBER_GAP, ORPHAN_ROLLBACK
from .rules.verify import ORPHAN_VERIFY


def _listed(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.iterdir())
            if not (p.name.startswith(".") or p.is_dir() or p.suffix.lower() in (".md", ".txt"))]


def scan_folder(folder: str | Path) -> tuple[list[Migration], list[Finding]]:
    """The migrations in ``folder`` and, as findings rather than errors, whatever breaks the
    ``{number}_{description}.sql`` convention: misnamed files, repeated numbers, gaps, rollbacks,
    verify scripts or engine variants without their migration. ``BadInput`` only when the folder
    is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"migrations folder not found: {folder}")
    findings: list[Finding] = []
    found = _scan_names(folder, _NAME, "migration", findings)
    beside: dict[str, dict[int, tuple[str, Script]]] = {}
    for sub, pattern, what, orphan in ((ROLLBACKS, _ROLLBACK, "rollback", ORPHAN_ROLLBACK),
                                       (VERIFY, _VERIFY, "verify script", ORPHAN_VERIFY)):
        beside[sub] = _scan_names(folder / sub, pattern, what, findings) if (folder / sub).is_dir() else {}
        for number, (_, script) in sorted(beside[sub].items()):
            if number not in found:
                findings.append(orphan.at(script.path, None, f"{what} for migration {number:03d}, which does not exist"))
    numbers = sorted(found)
    for prev, nxt in zip(numbers, numbers[1:]):
        if nxt - prev > 1:
            missing = f"{prev + 1:03d}" if nxt - prev == 2 else f"{prev + 1:03d}..{nxt - 1:03d}"
            findings.append(NUMBER_GAP.at(found[nxt][1].path, None,
                                    f"migration numbers jump from {prev:03d} to {nxt:03d}: {missing} is missing"))
    return assemble(found, beside), findings


def _scan_names(folder: Path, pattern: Any, what: str, findings: list[Finding]) -> dict[int, tuple[str, Script]]:
    base: dict[int, tuple[str, Path]] = {}
    variants: dict[int, dict[str, Path]] = {}
    for path in _listed(folder):
        m = pattern.match(path.name)
        if not m:
            findings.append(BAD_NAME.at(path, None, f"{what} file name does not look like {SHAPES[what]}"))
            continue
        number, variant = int(m["number"]), m["variant"]
        if variant is not None:
            if variant not in VARIANTS:
                findings.append(BAD_NAME.at(path, None,
                                        f"unknown engine variant {variant!r} (expected one of {', '.join(VARIANTS)})"))
            elif variant in variants.setdefault(number, {}):
                findings.append(DUPLICATE_NUMBER.at(path, None,
                                        f"two {variant} variants of {what} {number:03d}"))
            else:
                variants[number][variant] = path
            continue
        if number in base:
            findings.append(DUPLICATE_NUMBER.at(path, None,
                                    f"two {what}s numbered {number:03d}: {base[number][1].name} and {path.name} "
                                    f"(only {base[number][1].name} is linted)"))
            continue
        base[number] = (m["name"], path)
    for number, found in variants.items():
        if number not in base:
            for path in found.values():
                findings.append(BAD_NAME.at(path, None,
                                        f"engine variant without its {what} {number:03d}_*.sql"))
    return {n: (name, Script(p, variants.get(n, {}))) for n, (name, p) in base.items()}
