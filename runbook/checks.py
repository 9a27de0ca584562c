"""Checks: the unit every step reports in. A check is ``{"check", "passed", "detail"}``, plus
``"skipped": True`` when it did not apply (and says why in ``detail``)."""

from __future__ import annotations

from typing import Any, Iterable

from .errors import CheckFailed

Check = dict[str, Any]


def check(name: str, passed: bool, detail: str = "", *, skipped: bool = False) -> Check:
    out: Check = {"check": name, "passed": bool(passed), "detail": detail}
    if skipped:
        out["skipped"] = True
    return out


def failed(checks: Iterable[Check]) -> list[Check]:
    return [c for c in checks if not c.get("passed")]


def assert_checks(checks: Iterable[Check], what: str) -> None:
    """Raise ``CheckFailed`` naming every failed check (so papermill marks the step failed)."""
    bad = failed(checks)
    if bad:
        names = "; ".join(f"{c['check']} ({c.get('detail', '')})" for c in bad)
        raise CheckFailed(f"{what}: {len(bad)} check(s) failed: {names}")
