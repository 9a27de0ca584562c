"""The target database: parse its URL, keep its password out of everything, connect to it.

A target is named by an SQLAlchemy URL (``sqlite:///power100.db``,
``postgresql://user@host:5432/power100``). The password never lives in a ``Target``: a password
given inside a URL is moved to ``PGPASSWORD`` (read by libpq, by pg_dump and by the notebook
kernels this process starts) and the URL kept here is the password-free one, safe to print,
to pass as a notebook parameter and to write into a report.

Importing this module loads no SQLAlchemy (the CLI hands a run's URL to its kernel, which opens
it: ``move_password`` is all the CLI does with it).
"""

from __future__ import annotations

import math
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from .errors import BadInput

if TYPE_CHECKING:
    import sqlalchemy as sa

    from .engines.base import Engine

DEFAULT_LOCK_TIMEOUT_S = 5.0
DEFAULT_STATEMENT_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Target:
    """A database the runbook works on. ``url`` never holds a password."""

    url: "sa.URL"
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S
    _engines: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def kind(self) -> "Engine":
        from .engines import engine_for

        return engine_for(self.url)

    @property
    def name(self) -> str:
        """A short name for reports and run ids: the database file's stem or database name."""
        return self.kind.target_name(self.url)

    @property
    def display(self) -> str:
        """The URL as it may be shown anywhere (never with a password)."""
        return self.url.render_as_string(hide_password=True)

    def engine(self) -> "sa.Engine":
        """The SQLAlchemy engine for this target, created once per target."""
        if "engine" not in self._engines:
            self._engines["engine"] = self.kind.create_engine(self)
        return self._engines["engine"]

    def dispose(self) -> None:
        """Close the engine's pooled connections; the engine itself (its dialect initialized on its
        first connection) is kept for the next use."""
        eng = self._engines.get("engine")
        if eng is not None:
            eng.dispose()

    def with_database(self, database: str) -> "Target":
        """The same server or folder, another database (used for scratch copies)."""
        return Target(self.url.set(database=database), self.lock_timeout_s, self.statement_timeout_s)

    @cached_property
    def dialect_name(self) -> str:
        return self.kind.name


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _raw_url(raw: str | None) -> str:
    """``raw`` (``None``: ``RUNBOOK_DB``) if it looks like a database URL; ``BadInput`` otherwise."""
    raw = raw if raw is not None else os.environ.get("RUNBOOK_DB")
    if not raw:
        raise BadInput("no database given: pass --db URL or set RUNBOOK_DB (e.g. sqlite:///power100.db)")
    if not _SCHEME.match(raw):
        raise BadInput(f"not a database URL: {mask(raw)!r} (expected e.g. sqlite:///power100.db or postgresql://user@host/db)")
    return raw


def move_password(raw: str | None) -> str:
    """The URL ``raw`` (``None``: ``RUNBOOK_DB``) without its password, which goes to
    ``PGPASSWORD``: ``user:secret@`` or libpq's ``?password=``, percent-decoded as SQLAlchemy
    decodes it, as ``open_target`` moves it (after checking the URL): for a process that only
    hands the URL on (the CLI, to its kernel)."""
    raw = _raw_url(raw)
    parts = urllib.parse.urlsplit(raw)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if "@" in userinfo:
        raise _two_ats(raw)
    user, colon, password = userinfo.partition(":")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    given = [v for k, v in query if k == "password"]
    if not (colon or given):
        return raw
    secret = urllib.parse.unquote(password) if password else (given[0] if given else "")
    if secret:
        os.environ["PGPASSWORD"] = secret
    netloc = f"{user}{at}{hostport}" if at else hostport
    rest = urllib.parse.urlencode([(k, v) for k, v in query if k != "password"])
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=rest))


def parse_url(raw: str | None) -> "sa.URL":
    """Parse a database URL; exit-2 errors name what is wrong. ``None`` reads ``RUNBOOK_DB``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    raw = _raw_url(raw)
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise BadInput(f"cannot parse database URL {mask(raw)!r}: {exc}") from None
    if "@" in (url.host or ""):
        raise _two_ats(raw)
    return url


def _two_ats(raw: str) -> BadInput:
    """``user:p@ss@host``: the password would end at its first ``@``, the rest shown as the host."""
    return BadInput(f"cannot parse database URL {mask(raw)!r}: more than one '@' (write an '@' inside the "
                    "password as %40, or pass the password in PGPASSWORD)")


def open_target(
    raw: "str | sa.URL | None",
    *,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
    must_exist: bool = True,
) -> Target:
    """Build a target from a URL, moving any password into ``PGPASSWORD``.

    Raises ``BadInput`` for an unparsable URL, an engine we do not support, or (with
    ``must_exist``) a database that does not exist; nothing is created.
    """
    lock_timeout_s = check_timeout("--lock-timeout", lock_timeout_s)
    statement_timeout_s = check_timeout("--statement-timeout", statement_timeout_s)
    import sqlalchemy as sa

    url = raw if isinstance(raw, sa.URL) else parse_url(raw)  # refused before its password is moved
    from .engines import engine_for

    kind = engine_for(url)  # raises BadInput for unknown engines
    url = kind.normalize_url(url)
    password = url.password or url.query.get("password")  # ?password=... is libpq's spelling
    if password:
        os.environ["PGPASSWORD"] = str(password if isinstance(password, str) else password[0])
        url = url._replace(password=None).difference_update_query(["password"])  # set() would keep it
    target = Target(url, lock_timeout_s, statement_timeout_s)
    if must_exist:
        kind.check_exists(target)
    return target


#: ``user:secret@`` anywhere, well-formed URL or not (``postgresql:/u:PW@h``, ``postgresql//u:PW@h``,
#: ``u:PW@h``): everything between the first ``:`` after the user and the last ``@`` of the word
_USERINFO = re.compile(r"""(?P<user>(?:^|(?<=[\s/'"=(<,;]))[^\s:/@'"]*):(?!/)[^\s'"]*@""")
_PASSWORD_PARAM = re.compile(r"""(\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^&\s'"]*)""", re.IGNORECASE)


def mask(text: str) -> str:
    """Hide any password in ``text`` (for errors and logs): the ``user:secret@`` part of anything
    URL-like, parsed or not, and ``password=...`` parameters (URL query or libpq conninfo)."""
    text = _USERINFO.sub(lambda m: m.group("user") + ":***@", text)
    return _PASSWORD_PARAM.sub(r"\1***", text)


#: the largest timeout accepted (seconds): PostgreSQL's own limit is 24.8 days in milliseconds
MAX_TIMEOUT_S = 7 * 24 * 3600.0


def check_timeout(name: str, value: float) -> float:
    """``value`` when it is a finite number of seconds in (0, ``MAX_TIMEOUT_S``]; ``BadInput``
    otherwise (``nan``, ``inf``, ``-1``, ``0`` and ``1e308`` mean nothing sensible here)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_TIMEOUT_S:
        raise BadInput(f"{name} must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}, got {value!r}")
    return seconds
