"""Flyway's own rules for a folder of its SQL migrations, as ``runbook import`` needs them
(``runbook.importer`` reads the folder with these; ``runbook.sqitch`` is the same for Sqitch).

* **Files**: ``V{version}__{description}.sql``, undo ``U...``, repeatable ``R__{description}.sql``,
  found recursively under the location (Flyway scans its locations recursively); a file's
  description is the part after ``__`` with ``_`` read as a space (what ``flyway_schema_history``
  records). SQL callbacks (``beforeMigrate.sql``, ``afterEachMigrate__grants.sql``, ...) are
  lifecycle hooks, not migrations. ``V1__x.sql.conf`` beside a script is its script
  configuration (``key=value`` lines).
* **Checksum** (``checksum``): CRC-32 over the file's lines, each without its line break
  (``\\n``, ``\\r\\n`` or ``\\r``, as Java's ``BufferedReader.readLine`` splits them), a UTF-8 BOM
  dropped from the first line, the lines' UTF-8 bytes fed one after another; the 32 bits read as
  a signed int. Flyway's ``ChecksumCalculator``; so line endings and a BOM never change it.
  A repeatable migration's checksum is taken after placeholder replacement (Flyway 6.3 on; the
  raw file's checksum is its "equivalent" one, which Flyway accepts too).
* **Placeholders** (``replace_placeholders``): ``${name}`` (Flyway's default prefix ``${`` and
  suffix ``}``), names matched case-insensitively, replaced anywhere in the text, string
  literals and dollar-quoted bodies included, as Flyway's ``PlaceholderReplacingReader`` does:
  it reads a ``$`` and the character after it as a pair, so ``$${x}`` (an even run of ``$``
  before ``{``) is left as written and ``${x}`` after an odd run is a placeholder. Built in:
  ``flyway:filename`` (the script's file name) and ``flyway:table`` (``flyway_schema_history``,
  the table import reads); ``flyway:defaultSchema``, ``flyway:user``, ``flyway:database``,
  ``flyway:timestamp``, ``flyway:workingDirectory`` and ``flyway:environment`` depend on the
  connection or the moment Flyway ran, so import takes them only from ``--placeholder``.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

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
CALLBACK = re.compile(r"^(?P<event>[a-zA-Z]+)(__.*)?\.sql$")
#: the built-in placeholders import cannot know: what each stands for
UNKNOWN_BUILT_IN = {"flyway:defaultschema": "the schema Flyway migrated (its defaultSchema, else the connection's)",
                    "flyway:user": "the user Flyway connected as",
                    "flyway:database": "the database named in Flyway's connection URL",
                    "flyway:timestamp": "the time Flyway read the script (a fixed value here is the "
                                        "time you give, not the time the migration runs: SQL's now() is that)",
                    "flyway:workingdirectory": "the directory Flyway ran in",
                    "flyway:environment": "the Flyway environment it ran in"}
#: the keys of a script configuration file import reads
SCRIPT_CONFIG_KEYS = ("executeInTransaction",)


def is_callback(name: str) -> bool:
    m = CALLBACK.match(name)
    return bool(m and m["event"] in CALLBACKS)


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


def raw_text(path: Path) -> str:
    """The file's text as Flyway reads it (UTF-8, its default encoding; BOM and line endings kept)."""
    return path.read_bytes().decode("utf-8")  # read_migration_text has refused what is not UTF-8


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
        settings[key] = value.lower()
    return settings
