"""Rule families, one module each; importing this package registers every rule."""

from . import code, locks, names, reading, replay, risk, server, structure, verify  # noqa: F401
