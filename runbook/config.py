"""Project settings: defaults < config file < ``RUNBOOK_*`` environment variables < command-line flags.

The config file is ``runbook.toml`` in the working directory, else the ``[tool.runbook]`` table of
``pyproject.toml`` there, or the file named by ``--config`` / ``RUNBOOK_CONFIG``. Relative folders
in a config file are relative to the file's folder, so a command works from anywhere with
``--config``. ``db`` may be ``env:VAR``: the URL is read from that variable, so the file (which is
committed) never holds a password.

    # runbook.toml
    db = "env:DATABASE_URL"
    dialect = "sqlite"          # the SQL dialect the migration files are written in
    migrations = "migrations"
    reports = "reports"
    backups = "backups"
    lock_timeout = 5            # seconds
    statement_timeout = 600     # seconds
    rehearsal = true
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import BadInput
from .target import DEFAULT_LOCK_TIMEOUT_S, DEFAULT_STATEMENT_TIMEOUT_S, mask

#: what NNN_name.sql files are written in unless told (``migrations`` reads it from here)
DEFAULT_DIALECT = "sqlite"

CONFIG_FILE = "runbook.toml"
DIALECTS = ("sqlite", "postgresql")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _seconds(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number of seconds, got {value!r}")
    number = float(value)
    if number < 0:
        raise ValueError(f"expected a number of seconds >= 0, got {value!r}")
    return number


def _dialect(value: Any) -> str:
    if value not in DIALECTS:
        raise ValueError(f"expected one of {', '.join(DIALECTS)}, got {value!r}")
    return str(value)


@dataclass(frozen=True)
class Option:
    name: str
    default: Any
    parse: Callable[[Any], Any]
    help: str
    is_path: bool = False

    @property
    def env(self) -> str:
        return f"RUNBOOK_{self.name.upper()}"


OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("db", None, str, "the target database: an SQLAlchemy URL, or env:VAR to read it from a variable"),
    Option("dialect", DEFAULT_DIALECT, _dialect, "the SQL dialect the migration files are written in"),
    Option("migrations", Path("migrations"), Path, "the migrations folder", is_path=True),
    Option("reports", Path("reports"), Path, "the reports folder (the migration log)", is_path=True),
    Option("backups", Path("backups"), Path, "the backups folder", is_path=True),
    Option("lock_timeout", DEFAULT_LOCK_TIMEOUT_S, _seconds, "seconds to wait for a table lock"),
    Option("statement_timeout", DEFAULT_STATEMENT_TIMEOUT_S, _seconds, "seconds any one statement may run"),
    Option("rehearsal", True, _bool, "rehearse pending migrations on a scratch copy first"),
)}


@dataclass
class Settings:
    """The effective settings and where each came from (default, a file, a variable, a flag)."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    file: Path | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def url(self) -> str | None:
        """The database URL, ``env:VAR`` resolved (``BadInput`` when VAR is not set)."""
        raw = self.values.get("db")
        if isinstance(raw, str) and raw.startswith("env:"):
            var = raw[4:]
            value = self.env.get(var)
            if not value:
                raise BadInput(f"db = {raw!r} ({self.sources['db']}) but the environment variable {var} is not set")
            return value
        return raw

    def shown(self) -> list[dict[str, Any]]:
        """Every setting as it may be printed: passwords masked, paths as text."""
        rows = []
        for name in OPTIONS:
            value = self.values[name]
            if name == "db" and isinstance(value, str):
                value = mask(value)
                if self.values[name].startswith("env:"):
                    resolved = self.env.get(self.values[name][4:])
                    value += f" (= {mask(resolved)})" if resolved else " (not set)"
            rows.append({"name": name, "value": str(value) if isinstance(value, Path) else value,
                         "source": self.sources[name]})
        return rows


def find_file(cwd: Path, explicit: str | Path | None, env: Mapping[str, str]) -> tuple[Path | None, dict[str, Any]]:
    """The config file in use and its table of settings (``{}`` when there is none)."""
    chosen = explicit or env.get("RUNBOOK_CONFIG")
    if chosen:
        path = Path(chosen)
        if not path.is_file():
            raise BadInput(f"config file not found: {path}")
        return path, _read(path)
    if (cwd / CONFIG_FILE).is_file():
        return cwd / CONFIG_FILE, _read(cwd / CONFIG_FILE)
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        table = _read(pyproject, pyproject=True)
        if table:
            return pyproject, table
    return None, {}


def _read(path: Path, pyproject: bool = False) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadInput(f"cannot read config file {path}: {exc}") from None
    if pyproject or path.name == "pyproject.toml":
        data = data.get("tool", {}).get("runbook", {})
    elif "tool" in data and "runbook" in data["tool"]:  # a runbook.toml may use the same table
        data = data["tool"]["runbook"]
    unknown = sorted(set(data) - set(OPTIONS))
    if unknown:
        raise BadInput(f"{path}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(OPTIONS)})")
    return data


def load(flags: Mapping[str, Any] | None = None, *, cwd: Path | None = None, config_file: str | Path | None = None,
         env: Mapping[str, str] | None = None) -> Settings:
    """The effective settings. ``flags`` holds the values given on the command line (``None``:
    not given)."""
    cwd = Path(cwd) if cwd else Path(".")  # relative paths stay relative in messages
    env = os.environ if env is None else env
    flags = flags or {}
    path, table = find_file(cwd, config_file, env)
    settings = Settings(file=path, env=env)
    for name, opt in OPTIONS.items():
        value, source = opt.default, "default"
        if name in table:
            value, source = table[name], f"file {path}"
        if env.get(opt.env) not in (None, ""):
            value, source = env[opt.env], f"env {opt.env}"
        if flags.get(name) is not None:
            value, source = flags[name], "flag --" + name.replace("_", "-")
        try:
            value = value if value is None else opt.parse(value)
        except (TypeError, ValueError) as exc:
            raise BadInput(f"{name} ({source}): {exc}") from None
        if opt.is_path and source.startswith("file ") and not value.is_absolute():
            value = path.parent / value  # relative to the config file
        settings.values[name], settings.sources[name] = value, source
    return settings
