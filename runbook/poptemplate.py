"""pop's SQL migrations are Go templates: render the part of Go's ``text/template`` they use.

gobuffalo pop runs every migration file through ``text/template`` before executing it, with the
connection's details as data: ``{{ index .Options "Namespace" }}`` (supabase/auth writes its
schema so), ``{{ .Database }}``. Ory's popx gives the database's kind instead:
``{{ if .IsPostgreSQL }} ... {{ else }} ... {{ end }}``. Import renders these here, as pop would
on the database being imported for: the connection's values come from ``--placeholder NAME=VALUE``
(``Options`` keys and detail fields alike), the kind from ``--dialect``. Anything else Go's
templates can do (pipelines, functions, ``range``, ``with``...) is refused, naming the file and
line, rather than guessed at; so is a value not given, and ``.Password`` (never written into a
migration here).
"""

from __future__ import annotations

import re

from .errors import BadInput

#: popx's booleans (``IsSQLite``...) for the runbook's dialects, and pop's connection fields a
#: migration may print (``pop.ConnectionDetails``)
KINDS = {"IsSQLite": "sqlite", "IsPostgreSQL": "postgresql", "IsCockroach": "cockroach", "IsMySQL": "mysql",
         "IsMariaDB": "mysql"}
FIELDS = ("Dialect", "Database", "Host", "Port", "User", "URL")

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_INDEX = re.compile(r'index\s+\.Options\s+"([^"\\]+)"')
_IF = re.compile(r"if\s+(not\s+)?\.(\w+)")


def render(text: str, values: dict[str, str], dialect: str, shown: str, not_written: str) -> str:
    """``text`` as pop renders it for a database of ``dialect``, with ``values`` (``--placeholder``);
    ``BadInput`` naming ``shown`` (the file) and the line for what cannot be rendered exactly."""
    if "{{" not in text:
        return text
    out: list[str] = []
    live = [True]  # per open ``if``: whether its branch now being read is the one rendered
    taken: list[bool] = []  # per open ``if``: whether a branch of it was rendered already
    last = 0

    def refuse(start: int, why: str) -> BadInput:
        line = text.count("\n", 0, start) + 1
        return BadInput(f"{shown}:{line}: {why}; {not_written}")

    for m in _ACTION.finditer(text):
        before = text[last:m.start()]
        if m.group(1):  # "{{- ": the space before it is trimmed
            before = before.rstrip()
        if all(live):
            out.append(before)
        last = m.end()
        action = m.group(2).strip()
        if action.startswith("/*") and action.endswith("*/"):
            pass
        elif (cond := _IF.fullmatch(action)) is not None:
            if cond.group(2) not in KINDS:
                raise refuse(m.start(), f"{{{{ {action} }}}} tests .{cond.group(2)}, which pop's and popx's templates do "
                                        f"not give (import renders {', '.join('.' + k for k in KINDS)})")
            holds = (KINDS[cond.group(2)] == dialect) != bool(cond.group(1))
            live.append(holds)
            taken.append(holds)
        elif action == "else":
            if not taken:
                raise refuse(m.start(), "{{ else }} outside an {{ if }}")
            live[-1] = not taken[-1]
            taken[-1] = True
        elif action == "end":
            if not taken:
                raise refuse(m.start(), "{{ end }} outside an {{ if }}")
            live.pop()
            taken.pop()
        else:
            index = _INDEX.fullmatch(action)
            field = action[1:] if action.startswith(".") and action[1:] in FIELDS else None
            name = index.group(1) if index else field
            if name is None:
                why = ("prints the connection's password, which is never written into a migration"
                       if action == ".Password" else "is a Go template action import cannot render exactly")
                raise refuse(m.start(), f"{{{{ {action} }}}} {why}")
            if name not in values:
                raise refuse(m.start(), f"{{{{ {action} }}}} is a value of pop's connection: give it with "
                                        f"--placeholder {name}=VALUE (as the project's database.yml or URL sets it) "
                                        "and import again")
            if all(live):
                out.append(values[name])
        if m.group(3):  # " -}}": the space after it is trimmed
            rest = text[last:]
            last += len(rest) - len(rest.lstrip())
    if taken:
        raise refuse(len(text), "an {{ if }} without its {{ end }}")
    out.append(text[last:])
    return "".join(out)
