"""A throwaway PostgreSQL cluster for the test suite, started from the binaries on this machine.

``start_cluster()`` runs ``initdb`` into a fresh temporary directory and ``pg_ctl start`` on a
free port, listening on 127.0.0.1 only, with its unix socket inside that directory. Host
connections use ``scram-sha-256`` with a random superuser password (so password tests are real);
the returned ``Cluster.url`` carries that password. When the tests run as root the cluster runs as
the ``postgres`` OS user (initdb refuses root), through ``runuser`` (or ``su``). The cluster is
stopped and deleted by ``Cluster.stop()``, at interpreter exit, or, if the test process is killed,
by a watchdog shell that outlives it.

The binaries are found through ``pg_config --bindir``, then ``/usr/lib/postgresql/*/bin`` (newest
first), then ``initdb`` on ``PATH``. Everything that goes wrong raises ``ClusterUnavailable`` with
the reason; the caller decides whether that skips or fails.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

SERVER_SETTINGS = {  # a test cluster: fast, small, never durable
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "60",
    "password_encryption": "scram-sha-256",
}


class ClusterUnavailable(RuntimeError):
    """No throwaway cluster could be started (the message says why)."""


def _version_key(path: str) -> tuple[int, ...]:
    name = Path(path).parent.name
    return tuple(int(p) for p in name.split(".") if p.isdigit()) or (0,)


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or ``None``."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            if out.returncode == 0 and out.stdout.strip():
                candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(os.path.realpath(initdb)).parent)
    for c in candidates:
        if all((c / tool).is_file() and os.access(c / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return c
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that runs a program as the cluster's OS user, and that user."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterUnavailable("running as root and there is no 'postgres' OS user to run the cluster as") from None
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--"], user
    if shutil.which("su"):
        return ["su", "postgres", "-s", "/bin/sh", "-c"], user
    raise ClusterUnavailable("running as root and neither runuser nor su is available to switch to 'postgres'")


@dataclass
class Cluster:
    """A running throwaway cluster; ``stop()`` shuts it down and deletes its files."""

    base: Path
    bindir: Path
    port: int
    password: str
    prefix: list[str] = field(default_factory=list)
    stopped: bool = False
    watchdog: subprocess.Popen | None = None

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def url(self) -> sa.URL:
        """Admin URL (superuser ``postgres``, password included) over TCP on 127.0.0.1."""
        return sa.URL.create("postgresql+psycopg", username="postgres", password=self.password,
                             host="127.0.0.1", port=self.port, database="postgres")

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return _run(self.prefix, [str(a) for a in args], cwd=self.base, timeout=timeout)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.watchdog is not None:
            self.watchdog.kill()
            self.watchdog.wait()
        try:
            self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _run(prefix: list[str], cmd: list[str], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    full = prefix + [shlex.join(cmd)] if prefix[:1] == ["su"] else prefix + cmd
    return subprocess.run(full, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _watchdog(cluster: Cluster) -> subprocess.Popen:
    """A small shell that stops the cluster and deletes it if this process dies without doing
    so (killed test run): no server is left running behind a dead session."""
    stop = cluster.prefix + [str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"]
    if cluster.prefix[:1] == ["su"]:
        stop = cluster.prefix + [shlex.join(stop[len(cluster.prefix):])]
    script = (f'while kill -0 {os.getpid()} 2>/dev/null; do sleep 2; done; '
              f'{shlex.join(stop)} >/dev/null 2>&1; rm -rf {shlex.quote(str(cluster.base))}')
    return subprocess.Popen(["sh", "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def start_cluster(prefix_name: str = "runbook-pg-") -> Cluster:
    """initdb + pg_ctl start a fresh cluster (see the module doc); ``ClusterUnavailable`` if not."""
    bindir = find_bindir()
    if bindir is None:
        raise ClusterUnavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found: "
                                 "install the postgresql package or set RUNBOOK_TEST_PG_URL")
    prefix, user = _as_server_user()
    base = Path(tempfile.mkdtemp(prefix=prefix_name))
    password = secrets.token_urlsafe(18)
    try:
        os.chmod(base, 0o700)
        pwfile = base / "pwfile"
        pwfile.write_text(password + "\n")
        os.chmod(pwfile, 0o600)
        if user is not None:
            for p in (base, pwfile):
                os.chown(p, user.pw_uid, user.pw_gid)
        cluster = Cluster(base, bindir, 0, password, prefix)
        init = cluster.run(str(bindir / "initdb"), "-D", str(cluster.data), "-U", "postgres", "-E", "UTF8",
                           "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
                           f"--pwfile={pwfile}", "--no-sync")
        pwfile.unlink()
        if init.returncode != 0:
            raise ClusterUnavailable(f"initdb failed: {(init.stderr or init.stdout).strip()[-500:]}")
        last = ""
        for _ in range(3):  # a free port can be taken between the probe and the start
            cluster.port = free_port()
            settings = SERVER_SETTINGS | {"port": str(cluster.port), "unix_socket_directories": str(base)}
            options = " ".join(f"-c {k}={v}" for k, v in settings.items())
            start = cluster.run(str(bindir / "pg_ctl"), "-D", str(cluster.data), "-l", str(base / "server.log"),
                                "-o", options, "-w", "-t", "60", "start", timeout=90)
            if start.returncode == 0:
                atexit.register(cluster.stop)
                cluster.watchdog = _watchdog(cluster)
                return cluster
            log = base / "server.log"
            last = (log.read_text(errors="replace") if log.exists() else start.stderr).strip()[-500:]
        raise ClusterUnavailable(f"pg_ctl start failed: {last}")
    except ClusterUnavailable:
        shutil.rmtree(base, ignore_errors=True)
        raise
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        raise ClusterUnavailable(f"cannot start a throwaway cluster: {exc}") from None


def checks_passwords(admin: sa.URL) -> bool:
    """True when the server at ``admin`` really rejects a wrong password on host connections."""
    role = f"rbtest_probe_{secrets.token_hex(4)}"
    right = secrets.token_urlsafe(12)
    eng = sa.create_engine(admin, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{right}'")
    try:
        probe = sa.create_engine(admin.set(username=role, password="not-" + right),
                                 poolclass=sa.pool.NullPool)
        try:
            with probe.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return False
        except sa.exc.OperationalError:
            return True
    finally:
        with eng.connect() as conn:
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
