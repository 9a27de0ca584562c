"""A Sqitch project read as Sqitch reads it, for ``runbook import``: ``sqitch.conf`` (the engine,
the plan file and script folders), ``sqitch.plan`` (pragmas, changes, tags, reworked changes,
dependencies) and each change's id (the SHA-1 Sqitch records in its registry's ``changes`` table).

Only reading: no database is touched here (``runbook.importer`` reads the registry). What Sqitch
itself refuses to parse is refused with Sqitch's reason (``BadInput``).

* ``sqitch.conf`` is git-config style (``[core]``, ``[engine "pg"]``, ``[target "name"]``); a
  setting is looked up as Sqitch does: the engine's target section, then the engine's section,
  then ``[core]``, then the default (``top_dir`` ``.``; ``plan_file`` ``$top_dir/sqitch.plan``;
  ``deploy_dir``, ``revert_dir``, ``verify_dir`` ``$top_dir/deploy`` ...; ``extension`` ``sql``;
  ``registry`` ``sqitch``). Paths are relative to the project folder. The user's and the
  system's Sqitch configuration are not read.
* A reworked change (the same name again after a tag) keeps its earlier scripts as
  ``deploy/name@tag.sql``: the first of the tags between it and its next instance (newest first,
  its own tags last) whose deploy script exists, as Sqitch picks it.
* A change's id is the SHA-1 of its plan entry (project, uri, name, the id of the change before
  it, planner, time, dependencies, note): a plan edited or reordered above a change changes its id.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

from .errors import BadInput

NOT_WRITTEN = "nothing was written"
#: Sqitch engines the runbook runs, and the project dialect of each
ENGINES = {"pg": "postgresql", "sqlite": "sqlite"}

_PUNCT = r"""\-!"#$%&'()*+,./:;<=>?@\[\\\]^`{|}~"""
#: Sqitch's change, tag and project names (its name_regex, in Python's spelling)
NAME = (rf"(?![{_PUNCT}])(?:(?![~/=%^\[\]][0-9]+(?:$|[ \t]))[^ \t:@#\\])+(?<![{_PUNCT}])\b")
_PRAGMA = re.compile(rf"^[ \t]*%[ \t]*(?P<name>[^{_PUNCT}](?:[^ \t=]*?[^{_PUNCT} \t])?)"
                     r"(?:[ \t]*=[ \t]*(?P<value>.+))?$")
_LINE = re.compile(rf"^[ \t]*(?:@|[ \t]*(?P<operator>[+-])[ \t]*)?(?P<name>{NAME})[ \t]*"
                   r"(?:\[(?P<deps>[^\]]+)\][ \t]*)?"
                   r"(?:(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)[ \t]*)?"
                   r"(?:(?P<planner_name>[^<]+)[ \t]+<(?P<planner_email>[^>]+)>)?$")
_DEPEND = re.compile(rf"^(?P<conflicts>!?)(?:(?P<project>{NAME}):)?"
                     rf"(?:(?P<id>[0-9a-f]{{40}})|(?P<change>{NAME})(?:@(?P<tag>{NAME}))?|@(?P<only_tag>{NAME}))$")
_NOTE = re.compile(r"[ \t]*#[ \t]*(?P<note>.*)$")
_UNESCAPE = {"\\\\": "\\", "\\n": "\n", "\\r": "\r"}


# -- sqitch.conf ---------------------------------------------------------------------------------
def read_conf(path: Path) -> dict[str, str]:
    """``section[.subsection].key`` -> value of a git-config style file (section and key names in
    lower case, subsections as written; the last value of a key wins)."""
    values: dict[str, str] = {}
    section = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        head = re.match(r'^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(?:[#;].*)?$', line)
        if head:
            sub = None if head[2] is None else re.sub(r"[\\](.)", r"\1", head[2])
            section = head[1].lower() + ("" if sub is None else f".{sub}")
            continue
        pair = re.match(r"^([A-Za-z][A-Za-z0-9_-]*)\s*(?:=\s*(.*))?$", line)
        if not pair or not section:
            raise BadInput(f"{path}:{number}: not a line of a git-config style file: {raw.strip()[:60]}; {NOT_WRITTEN}")
        values[f"{section}.{pair[1].lower()}"] = "true" if pair[2] is None else _conf_value(pair[2])
    return values


def _conf_value(text: str) -> str:
    """A value as git-config reads it: quotes joined, backslash escapes, a ``#``/``;`` outside
    quotes starts a comment."""
    out, quoted, i = [], False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append({"n": "\n", "t": "\t"}.get(text[i + 1], text[i + 1]))
            i += 1
        elif c == '"':
            quoted = not quoted
        elif c in "#;" and not quoted:
            break
        else:
            out.append(c)
        i += 1
    return "".join(out).strip()


@dataclass(frozen=True)
class Settings:
    """Where a project's plan and scripts are, and its engine and registry, as Sqitch finds them."""

    engine: str | None  # core.engine (None: no sqitch.conf, or none said)
    plan_file: Path
    deploy_dir: Path
    revert_dir: Path
    verify_dir: Path
    extension: str
    registry: str  # a schema on PostgreSQL; a file name beside the database on SQLite
    conf: Path | None


def settings(folder: Path) -> Settings:
    """The settings of the Sqitch project in ``folder`` (its ``sqitch.conf``, if any); ``BadInput``
    for an engine the runbook does not run."""
    conf_path = folder / "sqitch.conf"
    conf = read_conf(conf_path) if conf_path.is_file() else {}
    engine = conf.get("core.engine")
    if engine is not None and engine not in ENGINES:
        raise BadInput(f"{conf_path}: core.engine is {engine!r}: the runbook runs Sqitch projects for "
                       f"{' and '.join(ENGINES)} only; {NOT_WRITTEN}")
    target = conf.get(f"engine.{engine}.target", "") if engine else ""
    scopes = [*([f"target.{target}"] if target and ":" not in target else []),  # a name, not a URI
              *([f"engine.{engine}"] if engine else []), "core"]

    def fetch(key: str) -> str | None:
        return next((conf[f"{scope}.{key}"] for scope in scopes if conf.get(f"{scope}.{key}")), None)

    top = folder / (fetch("top_dir") or ".")
    plan_file = fetch("plan_file")
    dirs = [folder / d if (d := fetch(f"{way}_dir")) else top / way for way in ("deploy", "revert", "verify")]
    outside = [str(p) for p in (top, *dirs) if not p.resolve().is_relative_to(folder.resolve())]
    if outside:
        raise BadInput(f"{conf_path}: {', '.join(outside)} is outside the project folder {folder}: import the folder "
                       f"that holds the plan and scripts; {NOT_WRITTEN}")
    return Settings(engine, folder / plan_file if plan_file else top / "sqitch.plan", *dirs,
                    fetch("extension") or "sql", fetch("registry") or "sqitch", conf_path if conf else None)


# -- sqitch.plan ---------------------------------------------------------------------------------
@dataclass
class Change:
    """One change line of the plan."""

    name: str
    line: int
    timestamp: str  # as written: 2013-12-31T23:59:59Z
    planner: str  # Name <email>
    note: str
    requires: list[str]  # as Sqitch writes them in a change's id (another project's as project:change)
    conflicts: list[str]
    id: str = ""
    tags: list[str] = field(default_factory=list)  # @tags on this change
    rework_tags: list[str] = field(default_factory=list)  # the tags its earlier scripts may be named after


@dataclass
class Plan:
    project: str
    uri: str | None
    changes: list[Change]
    file: Path


def _split_note(line: str) -> tuple[str, str]:
    m = _NOTE.search(line)
    if not m:
        return line.rstrip(" \t"), ""
    note = re.sub(r"\\[\\nr]", lambda e: _UNESCAPE[e[0]], m["note"].strip())
    return line[:m.start()], note


def _canonical(uri: str) -> str:
    """The URI as Sqitch writes it in an id (scheme and host in lower case, no default port)."""
    parts = urlsplit(uri)
    netloc = parts.netloc.lower()
    for scheme, port in (("http", ":80"), ("https", ":443")):
        if parts.scheme.lower() == scheme and netloc.endswith(port):
            netloc = netloc[:-len(port)]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def change_id(project: str, uri: str | None, change: Change, parent: str | None) -> str:
    """The id Sqitch gives ``change`` (the SHA-1 of its plan entry, as Sqitch writes it)."""
    lines = [f"project {project}", *([f"uri {_canonical(uri)}"] if uri else []), f"change {change.name}",
             *([f"parent {parent}"] if parent else []), f"planner {change.planner}", f"date {change.timestamp}"]
    if change.requires:
        lines.append("requires\n  + " + "\n  + ".join(change.requires))
    if change.conflicts:
        lines.append("conflicts\n  - " + "\n  - ".join(change.conflicts))
    if change.note:
        lines += ["", change.note]
    info = "\n".join(lines).encode("utf-8")
    return hashlib.sha1(b"change %d\0" % len(info) + info).hexdigest()


def read_plan(path: Path) -> Plan:
    """The changes of a plan file in order, with their tags, rework tags and ids; ``BadInput`` for
    a plan Sqitch itself refuses (its reasons)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"no plan file {path}; {NOT_WRITTEN}") from None
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path} is not UTF-8 ({exc.reason} at byte {exc.start}); {NOT_WRITTEN}") from None

    def refuse(number: int, why: str) -> BadInput:
        return BadInput(f"{path}:{number}: {why} (Sqitch refuses this plan too); {NOT_WRITTEN}")

    lines = text.splitlines()
    pragmas: dict[str, str] = {}
    number = 0
    for number, raw in enumerate(lines, 1):  # the pragmas, up to the first blank line
        body, _ = _split_note(raw)
        if not body.strip():
            if not raw.strip():
                break
            continue
        m = _PRAGMA.match(body)
        if not m:
            raise refuse(number, "a blank line must come between the pragmas and the changes")
        pragmas[m["name"]] = m["value"] or "1"
    project = pragmas.get("project")
    if not project:
        raise BadInput(f"{path}: no %project pragma (Sqitch needs one); {NOT_WRITTEN}")
    if not re.fullmatch(NAME, project):
        raise refuse(1, f"invalid project name {project!r}")
    plan = Plan(project, pragmas.get("uri"), [], path)
    seen: dict[str, int] = {}  # change names and @tags -> the line of their latest declaration
    since_tag: dict[str, int] = {}  # change names since the last tag
    latest: dict[str, int] = {}  # change name -> index of its latest instance
    for number, raw in enumerate(lines[number:], number + 1):
        body, note = _split_note(raw)
        if not body.strip():
            continue
        m = _LINE.match(body)
        is_tag = body.lstrip(" \t").startswith("@")
        if not m or not m["name"]:
            raise refuse(number, "invalid name; names must not begin with punctuation, contain \"@\", \":\", "
                                 "\"#\", \"\\\", \"[\", \"]\" or blanks, or end in punctuation")
        if not m["ts"] or not m["planner_name"]:
            raise refuse(number, "missing timestamp or planner name and email")
        name = m["name"]
        if name in ("HEAD", "ROOT") or re.match(r"[0-9a-f]{40}", name):
            raise refuse(number, f"{name!r} is a reserved name or looks like a change id")
        if is_tag:
            if not plan.changes:
                raise refuse(number, f"tag @{name} declared without a preceding change")
            if f"@{name}" in seen:
                raise refuse(number, f"tag @{name} duplicates the one on line {seen['@' + name]}")
            if m["deps"] or "/" in name:
                raise refuse(number, f"tag @{name}: tags take no dependencies and no /")
            plan.changes[-1].tags.append(name)
            seen.update(since_tag)
            seen[f"@{name}"] = number
            since_tag = {}
            continue
        if m["operator"] == "-":
            raise refuse(number, f"-{name}: a revert in the plan, which import does not read")
        if name in since_tag:
            raise refuse(number, f"change {name} duplicates the one on line {since_tag[name]} "
                                 "(a change is reworked only after a tag)")
        requires, conflicts = _dependencies(plan.project, m["deps"] or "", seen, since_tag,
                                            lambda why: refuse(number, why))
        change = Change(name, number, m["ts"], f"{m['planner_name']} <{m['planner_email']}>", note, requires, conflicts)
        change.id = change_id(plan.project, plan.uri, change, plan.changes[-1].id if plan.changes else None)
        if name in latest:  # reworked: the earlier instance's scripts carry a tag between the two
            earlier = latest[name]
            for between in reversed(plan.changes[earlier + 1:]):
                plan.changes[earlier].rework_tags += between.tags
            plan.changes[earlier].rework_tags += plan.changes[earlier].tags
        latest[name] = len(plan.changes)
        since_tag[name] = number
        plan.changes.append(change)
    return plan


def _dependencies(project: str, deps: str, seen: dict[str, int], since_tag: dict[str, int],
                  refuse: Callable[[str], BadInput]) -> tuple[list[str], list[str]]:
    """The requires and conflicts of a change as its id spells them; ``refuse(why)`` for one Sqitch
    cannot parse, or a required change of this project not planned before it."""
    requires, conflicts, given = [], [], set()
    for spec in deps.split():
        m = _DEPEND.match(spec)
        if not m:
            raise refuse(f"{spec!r} is not a valid dependency")
        if spec in given:
            raise refuse(f"duplicate dependency {spec!r}")
        given.add(spec)
        tag = m["tag"] or m["only_tag"]
        key = (m["change"] or "") + (f"@{tag}" if tag else "") or m["id"]
        external = m["project"] is not None and m["project"] != project
        (conflicts if m["conflicts"] else requires).append(f"{m['project']}:{key}" if external else key)
        if m["conflicts"] or external or (m["id"] and m["project"] is None):
            continue
        if m["change"] and tag:
            ok = f"@{tag}" in seen and seen.get(m["change"], 1 << 30) < seen[f"@{tag}"]
        else:
            ok = key in seen or key in since_tag
        if not ok:
            raise refuse(f"requires {key}, which is not planned before it")
    return requires, conflicts


def script_name(change: Change, deploy_dir: Path, extension: str) -> str:
    """The name (without extension) of ``change``'s scripts: ``name`` for its latest instance, and
    ``name@tag`` for an earlier one (the first of its rework tags with a deploy script)."""
    if not change.rework_tags:
        return change.name
    for tag in change.rework_tags:
        if (deploy_dir / f"{change.name}@{tag}.{extension}").is_file():
            return f"{change.name}@{tag}"
    return f"{change.name}@{change.rework_tags[0]}"


def registry_file(database: Path, registry: str) -> Path:
    """Where Sqitch keeps the registry of the SQLite database ``database``: ``registry`` when it is
    an absolute path; else beside the database, ``registry`` with the database file's extension
    unless it has one of its own (``app.db`` -> ``sqitch.db``)."""
    if Path(registry).is_absolute():
        return Path(registry)
    if "." in registry or "." not in database.name:
        return database.with_name(registry)
    return database.with_name(f"{registry}.{database.name.split('.', 1)[1]}")
