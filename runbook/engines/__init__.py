"""One module per database engine; everything that differs between engines lives there.

``base.Engine`` holds the default behaviour; ``sqlite.SQLiteEngine`` and
``postgresql.PostgresEngine`` override only what their engine does differently.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import BadInput
from .base import Engine
from .postgresql import PostgresEngine
from .sqlite import SQLiteEngine

ENGINES: dict[str, Engine] = {"sqlite": SQLiteEngine(), "postgresql": PostgresEngine()}


def engine_for(url: sa.URL) -> Engine:
    """The engine module for a URL (``postgres://`` and driver suffixes accepted)."""
    backend = url.get_backend_name()
    backend = "postgresql" if backend == "postgres" else backend
    try:
        return ENGINES[backend]
    except KeyError:
        raise BadInput(
            f"unsupported database engine {backend!r}: the runbook supports {', '.join(sorted(ENGINES))}"
        ) from None


__all__ = ["Engine", "ENGINES", "engine_for"]
