"""Locks (PostgreSQL): statements that block an existing table's readers or writers."""

from ..registry import rule

INDEX_NOT_CONCURRENT = rule("index-not-concurrent", "warning",
                            "PostgreSQL only: a plain `CREATE [UNIQUE] INDEX` on an existing table blocks writes "
                            "while it builds",
                            "`CREATE INDEX CONCURRENTLY`, alone in its migration (a `.postgresql.sql` variant)",
                            family=__name__)
LOCK_TIMEOUT_DISABLED = rule("lock-timeout-disabled", "error",
                             "PostgreSQL only: a lock-heavy statement runs after the migration set `lock_timeout` to `0`",
                             "remove the `SET lock_timeout = 0` (the runner sets one), or set a few seconds",
                             family=__name__)

_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(text: str) -> int | None:
    """A PostgreSQL duration setting (``0``, ``5s``, ``'1min'``, ``500``) in milliseconds."""
    raw = text.strip().strip("'").strip().lower()
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyz").strip()
    unit = raw[len(number):].strip() or "ms"
    try:
        value = float(number)
    except ValueError:
        return None
    return int(value * _UNITS_MS[unit]) if unit in _UNITS_MS else None
