"""Flyway's own rules for a folder of its SQL migrations, as ``runbook import`` needs them
(``runbook.importer`` reads the folder with these; ``runbook.sqitch`` is the same for Sqitch).

* **Files** (``Settings.parse``, Flyway's ``ResourceNameParser``): ``V{version}__{description}.sql``,
  undo ``U...``, repeatable ``R__{description}.sql``, found recursively under the location
  (Flyway scans its locations recursively); the prefixes, the separator ``__`` and the suffixes
  (a list, matched regardless of case) are the project's ``sqlMigrationPrefix``,
  ``undoSqlMigrationPrefix``, ``repeatableSqlMigrationPrefix``, ``sqlMigrationSeparator`` and
  ``sqlMigrationSuffixes``, the longest prefix tried first. A file's description is the part
  after the separator with ``_`` read as a space (what ``flyway_schema_history`` records). SQL
  callbacks (``beforeMigrate.sql``, ``afterEachMigrate__grants.sql``, ...) are lifecycle hooks,
  not migrations. ``V1__x.sql.conf`` beside a script is its script configuration (``key=value``
  lines: ``executeInTransaction``, ``encoding``). ``V3__Backfill.java`` (``.kt``, ``.class``...)
  is a Java-based migration, which import cannot read (``JVM_SUFFIXES``).
* **Configuration** (``settings``): Flyway reads ``flyway.toml`` (else ``flyway.conf``) from the
  directory it runs in (and from its installation and the user's home, which import does not
  read); import reads the one in the folder imported, then the options, which win. A setting
  import does not follow and that changes what Flyway runs (``initSql``, ``callbacks``,
  ``outOfOrder=true``...) is refused, never ignored; ``IGNORED`` lists those that change nothing
  it runs (connection, logging, validation). The history table is ``table`` in
  ``defaultSchema``, else the first of ``schemas``, else the connection's schema
  (``SchemaHistoryFactory``).
* **Encoding**: a script is decoded with its script configuration's ``encoding``, else the
  project's (``UTF-8`` by default), by Python's codecs; the runbook's files are written in UTF-8.
* **Checksum** (``checksum``): CRC-32 over the file's decoded lines, each without its line break
  (``\\n``, ``\\r\\n`` or ``\\r``, as Java's ``BufferedReader.readLine`` splits them), a BOM
  dropped from the first line, the lines' UTF-8 bytes fed one after another (whatever the file's
  encoding); the 32 bits read as a signed int. Flyway's ``ChecksumCalculator``; so line endings,
  a BOM and the encoding never change it.
  A repeatable migration's checksum is taken after placeholder replacement (Flyway 6.3 on; the
  raw file's checksum is its "equivalent" one, which Flyway accepts too).
* **Placeholders** (``replace_placeholders``): ``${name}`` (Flyway's default prefix ``${`` and
  suffix ``}``), names matched case-insensitively, replaced anywhere in the text, string
  literals and dollar-quoted bodies included, as Flyway's ``PlaceholderReplacingReader`` does:
  it reads a ``$`` and the character after it as a pair, so ``$${x}`` (an even run of ``$``
  before ``{``) is left as written and ``${x}`` after an odd run is a placeholder. Built in:
  ``flyway:filename`` (the script's file name) and ``flyway:table`` (the history table's name,
  ``flyway_schema_history`` unless ``table`` says); ``flyway:defaultSchema`` when the project's
  default schema is known; ``flyway:user``, ``flyway:database``,
  ``flyway:timestamp``, ``flyway:workingDirectory`` and ``flyway:environment`` depend on the
  connection or the moment Flyway ran, so import takes them only from ``--placeholder``.
"""

from __future__ import annotations

import codecs
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BadInput

NOT_WRITTEN = "nothing was written"
TABLE = "flyway_schema_history"
PREFIX, SUFFIX = "${", "}"
#: Flyway's callback events (``org.flywaydb.core.api.callback.Event``): a script named after one
#: runs at that point of a Flyway command, not as a migration
CALLBACKS = frozenset((
    "beforeClean afterClean afterCleanError beforeMigrate beforeEachMigrate beforeEachMigrateStatement "
    "afterEachMigrateStatement afterEachMigrateStatementError afterEachMigrate afterEachMigrateError "
    "beforeRepeatables afterVersioned afterMigrate afterMigrateApplied afterMigrateError beforeUndo "
    "beforeEachUndo beforeEachUndoStatement afterEachUndoStatement afterEachUndoStatementError afterEachUndo "
    "afterEachUndoError afterUndo afterUndoError beforeValidate afterValidate afterValidateError beforeBaseline "
    "afterBaseline afterBaselineError beforeRepair afterRepair afterRepairError beforeInfo afterInfo "
    "afterInfoError afterMigrateOperationFinish afterInfoOperationFinish createSchema beforeCreateSchema "
    "beforeConnect afterConnect").split())
#: the built-in placeholders import cannot know: what each stands for
UNKNOWN_BUILT_IN = {"flyway:defaultschema": "the schema Flyway migrated (its defaultSchema, else the connection's)",
                    "flyway:user": "the user Flyway connected as",
                    "flyway:database": "the database named in Flyway's connection URL",
                    "flyway:timestamp": "the time Flyway read the script (a fixed value here is the "
                                        "time you give, not the time the migration runs: SQL's now() is that)",
                    "flyway:workingdirectory": "the directory Flyway ran in",
                    "flyway:environment": "the Flyway environment it ran in"}
#: the keys of a script configuration file import reads
SCRIPT_CONFIG_KEYS = ("executeInTransaction", "encoding")
#: the files of a JVM language a Java-based migration is written or compiled in
JVM_SUFFIXES = (".java", ".kt", ".class", ".groovy", ".scala")
#: the project configuration files Flyway reads from the directory it runs in; flyway.toml first:
#: with both there, Flyway reads only the TOML one (ConfigurationManagerImpl)
CONFIG_FILES = ("flyway.toml", "flyway.conf")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
VERSION = re.compile(r"^\d[\d._]*$")


@dataclass(frozen=True)
class Settings:
    """The Flyway configuration import follows: Flyway's defaults, then the project's
    ``flyway.toml``/``flyway.conf`` in the folder (``config_file``), then the options given."""

    prefix: str = "V"  # sqlMigrationPrefix
    undo_prefix: str = "U"  # undoSqlMigrationPrefix
    repeatable_prefix: str = "R"  # repeatableSqlMigrationPrefix
    separator: str = "__"  # sqlMigrationSeparator
    suffixes: tuple[str, ...] = (".sql",)  # sqlMigrationSuffixes
    encoding: str = "UTF-8"
    table: str = TABLE  # the history table's name
    schema: str | None = None  # the history table's schema (defaultSchema, else the first of schemas)
    default_schema: str | None = None
    placeholders: dict[str, str] = field(default_factory=dict)  # names lower-cased
    replacement: bool = True  # placeholderReplacement
    locations: tuple[Path, ...] = ()  # the folders read (none: the whole folder)
    config_file: Path | None = None

    def parse(self, name: str, suffixes: tuple[str, ...] | None = None) -> tuple[str, str, str] | None:
        """``name`` read as Flyway's ``ResourceNameParser`` reads it: (kind ``V``, ``U``, ``R`` or
        ``B``, version, description part), None for no migration's name. The suffix matches
        regardless of case, the longest prefix first; the version is what precedes the first
        separator (empty for a repeatable one); one that is not a version is no name either."""
        stem = next((name[:-len(x)] for x in suffixes or self.suffixes if name.upper().endswith(x.upper())), None)
        prefixes = sorted(((self.prefix, "V"), (self.undo_prefix, "U"), (self.repeatable_prefix, "R"), ("B", "B")),
                          key=lambda p: -len(p[0]))
        kind = next(((p, k) for p, k in prefixes if stem is not None and stem.startswith(p)), None)
        if kind is None or self.separator not in stem[len(kind[0]):]:
            return None
        version, _, described = stem[len(kind[0]):].partition(self.separator)
        return (kind[1], version, described) if version == "" or VERSION.match(version) else None

    def is_callback(self, name: str) -> bool:
        """An SQL callback: a script named after one of Flyway's events (``afterMigrate.sql``,
        ``afterMigrate__grants.sql``)."""
        stem = next((name[:-len(x)] for x in self.suffixes if name.upper().endswith(x.upper())), None)
        return stem is not None and stem.split(self.separator, 1)[0] in CALLBACKS

    def is_script_config(self, name: str) -> bool:
        script = name.removesuffix(".conf")
        return script != name and (self.parse(script) is not None or self.is_callback(script))

    def java_migration(self, name: str) -> bool:
        """A Java-based migration's source or class file (``V3__Backfill.java``, ``.kt``, ``.class``)."""
        return self.parse(name, JVM_SUFFIXES) is not None

    @property
    def history(self) -> tuple[str | None, str]:
        return self.schema, self.table


def description(name: str) -> str:
    """What Flyway records as the description of a file whose name's description part is ``name``."""
    return name.replace("_", " ")


def checksum(text: str) -> int:
    """Flyway's checksum of a script whose decoded text is ``text`` (see the module's docstring)."""
    crc = 0
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text)):
        if number == 0:
            line = line.removeprefix("\ufeff")
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def raw_text(path: Path, encoding: str = "UTF-8") -> str:
    """The file's text as Flyway reads it (in its ``encoding``; BOM and line endings kept)."""
    return path.read_bytes().decode(encoding)  # read_migration_text has refused what is not in it


def placeholders_in(text: str) -> list[tuple[int, int, str]]:
    """Each placeholder Flyway's reader finds in ``text``: (start, end, name), in order."""
    found, i, n = [], 0, len(text)
    while i < n:
        if text.startswith(PREFIX, i):
            end = text.find(SUFFIX, i + len(PREFIX))
            stop = n if end < 0 else end + len(SUFFIX)
            # unterminated: Flyway's reader takes the rest, less as many characters as the suffix has
            found.append((i, stop, text[i + len(PREFIX):end] if end >= 0 else text[i + len(PREFIX):n - len(SUFFIX)]))
            i = stop
        elif text[i] == "$":
            i += 2  # the reader keeps the character after a $ that starts no prefix, unexamined
        else:
            i += 1
    return found


def replace_placeholders(text: str, values: dict[str, str], path: Path, shown: str) -> str:
    """``text`` with its placeholders replaced from ``values`` (names lower-cased, Flyway's
    built-ins among them); ``BadInput`` naming the file (``shown``), the line and the option to
    give for the first one without a value."""
    out, last = [], 0
    for start, stop, name in placeholders_in(text):
        if name.lower() not in values:
            line = text.count("\n", 0, start) + 1
            what = UNKNOWN_BUILT_IN.get(name.lower())
            why = (f"Flyway's built-in placeholder for {what}, which import cannot know" if what else
                   "a Flyway placeholder without a value")
            raise BadInput(f"{shown}:{line}: ${{{name}}} is {why}: give its value with "
                           f"--placeholder {name}=VALUE (as the project's Flyway configuration sets it) and import "
                           f"again; {NOT_WRITTEN}")
        out += [text[last:start], values[name.lower()]]
        last = stop
    return "".join(out) + text[last:]


def script_config(path: Path, shown: str) -> dict[str, str]:
    """A script configuration file's settings (``key=value`` lines; ``#`` and ``!`` comments);
    ``BadInput`` for a line that is no setting and for a key import does not read."""
    settings = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise BadInput(f"{shown}:{number}: not a setting (key=value): {line[:60]!r}; {NOT_WRITTEN}")
        if key not in SCRIPT_CONFIG_KEYS:
            raise BadInput(f"{shown}:{number}: {key} is not a script configuration setting import reads (it reads "
                           f"{', '.join(SCRIPT_CONFIG_KEYS)}): carry out what it does by hand, remove it, and import "
                           f"again; {NOT_WRITTEN}")
        if key == "executeInTransaction" and value.lower() not in ("true", "false"):
            raise BadInput(f"{shown}:{number}: executeInTransaction={value}: Flyway takes true or false; "
                           f"{NOT_WRITTEN}")
        settings[key] = check_encoding(value, f"{shown}:{number}") if key == "encoding" else value.lower()
    return settings


# -- the project's configuration ------------------------------------------------------------------
#: the settings import follows, and the option that gives each (None: only a configuration file)
READ = {"sqlMigrationPrefix": "--sql-migration-prefix", "undoSqlMigrationPrefix": "--undo-sql-migration-prefix",
        "repeatableSqlMigrationPrefix": "--repeatable-sql-migration-prefix",
        "sqlMigrationSeparator": "--sql-migration-separator", "sqlMigrationSuffixes": "--sql-migration-suffixes",
        "encoding": "--encoding", "table": "--history-table", "defaultSchema": "--default-schema", "schemas": None,
        "placeholders": "--placeholder", "placeholderReplacement": "--no-placeholder-replacement", "locations": None}
#: settings that change nothing Flyway runs (how it connects, logs, reports and validates): not read
IGNORED = frozenset((
    "url user password driver displayName connectRetries connectRetriesInterval jdbcProperties cleanDisabled "
    "validateOnMigrate validateMigrationNaming outputQueryResults installedBy lockRetryCount licenseKey outputType "
    "outputProgress outputLogsInJson color reportEnabled reportFilename loggers failOnMissingLocations "
    "failOnMissingTarget communityDBSupportEnabled createSchemas tablespace baselineDescription kerberosConfigFile "
    "configFileEncoding dryRunOutput").split())
#: settings import follows only at Flyway's default: another value changes what or how Flyway runs
AT_DEFAULT = {"executeInTransaction": "true", "detectEncoding": "false", "placeholderPrefix": "${",
              "placeholderSuffix": "}", "placeholderSeparator": ":", "outOfOrder": "false", "mixed": "false",
              "group": "false", "skipExecutingMigrations": "false", "baselineOnMigrate": "false", "target": "latest",
              "skipDefaultCallbacks": "false", "skipDefaultResolvers": "false"}
_LISTS = ("schemas", "sqlMigrationSuffixes", "locations")


def _plain(value: Any) -> Any:
    """A TOML value as the properties file spells it (booleans ``true``/``false``)."""
    return str(value).lower() if isinstance(value, bool) else value


def _check_key(key: str, value: Any, where: str, found: dict[str, Any]) -> None:
    """Keep ``key`` in ``found`` when import reads it; drop it when it changes nothing Flyway runs;
    ``BadInput`` when it does (a value other than Flyway's default, for ``AT_DEFAULT``'s)."""
    value = _plain(value)
    if key in READ:
        if key in _LISTS and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        found[key] = value
    elif key in IGNORED or key.startswith("jdbcProperties"):
        return
    elif key in AT_DEFAULT and str(value) == AT_DEFAULT[key]:
        return
    else:
        why = (f"{key} = {value!r}, and import follows it only at Flyway's default ({AT_DEFAULT[key]!r})"
               if key in AT_DEFAULT else f"{key} is a Flyway setting import does not read")
        raise BadInput(f"{where}: {why}; it changes what Flyway runs or how, so import cannot leave it out: carry out "
                       f"what it does by hand (in the migrations), remove it, and import again; {NOT_WRITTEN}")


def _properties(path: Path) -> dict[str, Any]:
    """``flyway.conf``: Java properties (``key=value``, ``key: value``; ``#``/``!`` comments; a
    line ending in ``\\`` continued), its ``flyway.`` keys (Flyway reads no others from it)."""
    found: dict[str, Any] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        start, line = number + 1, lines[number].strip()
        while line.endswith("\\") and number + 1 < len(lines):
            number += 1
            line = line[:-1] + lines[number].strip()
        number += 1
        if not line or line[0] in "#!":
            continue
        m = re.match(r"^([^=:\s]+)\s*[=:\s]\s*(.*)$", line)
        key, value = (m[1], m[2]) if m else (line, "")
        if not key.startswith("flyway."):
            continue
        key = key.removeprefix("flyway.")
        if key.startswith("placeholders."):
            found.setdefault("placeholders", {})[key.removeprefix("placeholders.")] = value
        else:
            _check_key(key, value, f"{path.name}:{start}", found)
    return found


def _toml(path: Path) -> dict[str, Any]:
    """``flyway.toml``: the ``[flyway]`` table and, of its environment (``flyway.environment``,
    else ``default``), ``schemas`` and the environment's own ``[environments.X.flyway]``
    settings. Other top-level tables (Flyway Desktop's, Redgate Compare's) change nothing
    ``flyway migrate`` runs."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: not TOML ({exc}); {NOT_WRITTEN}") from None
    settings = dict(data.get("flyway", {}))
    name = settings.pop("environment", "default")
    environment = data.get("environments", {}).get(name, {})
    found: dict[str, Any] = {}
    for key, value in environment.items():
        if key == "flyway":
            settings |= value
        elif key not in ("schemas", *IGNORED):
            raise BadInput(f"{path.name}: environments.{name}.{key} is a Flyway setting import does not read; it "
                           f"changes what Flyway runs: carry out what it does by hand, remove it, and import again; "
                           f"{NOT_WRITTEN}")
        else:
            _check_key(key, value, f"{path.name}: environments.{name}", found)
    for key, value in settings.items():
        if key == "placeholders" and isinstance(value, dict):
            found["placeholders"] = {k: str(_plain(v)) for k, v in value.items()}
        else:
            _check_key(key, value, f"{path.name}: flyway.{key}", found)
    return found


def _identifier(name: str, what: str, parts: int) -> list[str]:
    names = name.split(".")
    if len(names) > parts or not all(IDENTIFIER.match(n) for n in names):
        raise BadInput(f"{what} {name!r} is not {'a name' if parts == 1 else 'a name or schema.name'} (letters, "
                       f"digits, _ and $, not starting with a digit); {NOT_WRITTEN}")
    return names


def settings(folder: Path, given: dict[str, Any] | None = None) -> Settings:
    """The Flyway settings of the project in ``folder``: its ``flyway.toml`` (else
    ``flyway.conf``), read as Flyway reads the one in the directory it runs in, then ``given``
    (Flyway's key -> the option's value; None: not given), which wins, as Flyway's command line
    wins over its files. ``BadInput`` for a setting import does not follow that changes what
    Flyway runs, a history table that is not a name, an unknown encoding, a location outside the
    folder or on the classpath."""
    path = next((folder / f for f in CONFIG_FILES if (folder / f).is_file()), None)
    conf = {} if path is None else _toml(path) if path.suffix == ".toml" else _properties(path)
    given = {k: v for k, v in (given or {}).items() if v is not None}
    values = conf | {k: v for k, v in given.items() if k != "placeholders"}
    where = {k: READ[k] if k in given else path.name if path else k for k in READ}
    replacement = str(_plain(values.get("placeholderReplacement", True))).lower() != "false"
    if given.get("placeholders") and not replacement:
        raise BadInput(f"--placeholder values and placeholder replacement turned off ({where['placeholderReplacement']}): "
                       f"give one or the other; {NOT_WRITTEN}")
    encoding = check_encoding(str(values.get("encoding", "UTF-8")), where["encoding"])
    table = _identifier(str(values.get("table", TABLE)), f"{where['table']}: the history table", 2 if "table" in given else 1)
    schemas = list(values.get("schemas", []))
    default_schema = values.get("defaultSchema") or (schemas[0] if schemas else None)
    naming = {k: str(values[k]) for k in ("sqlMigrationPrefix", "undoSqlMigrationPrefix", "repeatableSqlMigrationPrefix",
                                           "sqlMigrationSeparator") if k in values}
    empty = [k for k, v in naming.items() if not v] + (["sqlMigrationSuffixes"] if "sqlMigrationSuffixes" in values and not
                                                       all(values["sqlMigrationSuffixes"]) else [])
    if empty:
        raise BadInput(f"{where[empty[0]]}: {empty[0]} is empty; Flyway needs it to tell migrations by name; {NOT_WRITTEN}")
    locations = []
    for location in values.get("locations", []):
        kind, sep, rest = location.partition(":")
        if sep and kind != "filesystem":
            raise BadInput(f"{where['locations']}: location {location!r}: import reads a folder of files; give it the "
                           f"folder this location is (for classpath:db/migration, src/main/resources/db/migration), "
                           f"without the configuration file; {NOT_WRITTEN}")
        place = (folder / (rest if sep else location)).resolve()
        if not place.is_relative_to(folder.resolve()):
            raise BadInput(f"{where['locations']}: location {location!r} is outside {folder}: import that folder "
                           f"instead; {NOT_WRITTEN}")
        locations.append(place)
    return Settings(prefix=naming.get("sqlMigrationPrefix", "V"), undo_prefix=naming.get("undoSqlMigrationPrefix", "U"),
                    repeatable_prefix=naming.get("repeatableSqlMigrationPrefix", "R"),
                    separator=naming.get("sqlMigrationSeparator", "__"),
                    suffixes=tuple(values.get("sqlMigrationSuffixes", (".sql",))), encoding=encoding,
                    table=table[-1], schema=table[0] if len(table) == 2 else default_schema,
                    default_schema=default_schema,
                    placeholders={k.lower(): str(v) for k, v in conf.get("placeholders", {}).items()}
                    | {k.lower(): v for k, v in given.get("placeholders", {}).items()},
                    replacement=replacement, locations=tuple(locations), config_file=path)


def check_encoding(encoding: str, where: str) -> str:
    """``encoding`` when Python's codecs know it; ``BadInput`` naming ``where`` otherwise."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise BadInput(f"{where}: encoding {encoding!r} is not an encoding Python knows (such as UTF-8, ISO-8859-1, "
                       f"windows-1252, UTF-16); {NOT_WRITTEN}") from None
    return encoding
