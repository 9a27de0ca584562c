"""Who owns a leftover: the host and process id a run writes into every temporary name.

Scratch databases, partial backups and rehearsal copies carry ``owner_tag()`` (a short hash of
the host name and the pid of the process that made them). The next run, or ``runbook clean``,
removes a leftover whose owner is a dead process on this host; a leftover of a live process, or
of another host, is never touched. ``run.json`` records ``host`` and ``pid`` the same way, so a
run that died is marked ``died`` instead of staying ``running`` forever.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket

_TAG = re.compile(r"rb([0-9a-f]{6})p(\d+)")


def host_id() -> str:
    """Six hex digits naming this host (in names, where the host name itself may not fit)."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def owner_tag(pid: int | None = None) -> str:
    """``rb<host>p<pid>``: put into a temporary name so the next run can tell whose it is."""
    return f"rb{host_id()}p{pid if pid is not None else os.getpid()}"


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists on this host (zombies count as dead)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def is_dead_owner(name: str) -> bool:
    """True when ``name`` carries an owner tag of a process of this host that no longer runs."""
    m = _TAG.search(name)
    return bool(m) and m.group(1) == host_id() and not pid_alive(int(m.group(2)))


def run_is_dead(host: str | None, pid: int | None) -> bool:
    """A run recorded with ``host`` (``socket.gethostname()``) and ``pid`` that no longer runs."""
    return bool(host) and host == socket.gethostname() and pid is not None and not pid_alive(int(pid))


def who_and_host() -> tuple[str, str]:
    """The OS user and host name running the runbook (never a secret)."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except Exception:  # no user name in the environment or the password database
        user = "unknown"
    return user, socket.gethostname()
