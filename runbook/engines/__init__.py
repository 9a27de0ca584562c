"""One module per database engine; everything that differs between engines lives there.

``base.Engine`` holds the default behaviour; ``sqlite.SQLiteEngine`` and
``postgresql.PostgresEngine`` override only what their engine does differently.

``ENGINES`` imports an engine's module the first time that engine is asked for: a run loads
its own engine only (a SQLite run never loads the PostgreSQL engine, nor what it imports).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import sqlalchemy as sa

from ..errors import BadInput
from .base import Engine


def _sqlite() -> Engine:
    from .sqlite import SQLiteEngine

    return SQLiteEngine()


def _postgresql() -> Engine:
    from .postgresql import PostgresEngine

    return PostgresEngine()


class _Engines(Mapping[str, Engine]):
    """Engine name → its one ``Engine``, made (its module imported) when first asked for."""

    def __init__(self, makers: dict[str, Callable[[], Engine]]):
        self._makers = makers
        self._made: dict[str, Engine] = {}

    def __getitem__(self, name: str) -> Engine:
        if name not in self._made:
            self._made[name] = self._makers[name]()
        return self._made[name]

    def __contains__(self, name: object) -> bool:  # without importing the engine
        return name in self._makers

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


ENGINES: Mapping[str, Engine] = _Engines({"sqlite": _sqlite, "postgresql": _postgresql})


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


def engine_of(conn: sa.Connection) -> Engine:
    """The engine module of an open connection."""
    return ENGINES[conn.dialect.name]


__all__ = ["Engine", "ENGINES", "engine_for", "engine_of"]
