"""One Jupyter kernel for all the steps of a run.

Starting a kernel and importing SQLAlchemy and the runbook in it costs seconds; a run has
four or five steps. ``shared_kernel()`` starts one kernel for the whole run; each step's notebook
is executed in it by papermill (``km=``), after ``%reset -f`` clears the previous step's
variables, so every notebook still runs on its own names (as it does for an operator in
JupyterLab) while the imported modules stay loaded. Each step still gets its own executed
notebook in the run folder.

The reset is sent by one client kept connected for the whole run (connecting a client and waiting
for the kernel to answer costs about 0.2 s of wall time each time). ``%reset -f`` ends with full
garbage collections, which scan every object the kernel holds (SQLAlchemy, sqlglot: 0.1 s of CPU
each time); after each reset the survivors (imported modules, their caches) are moved out of
the collector's way (``gc.freeze``), so the next reset scans only what the last step made, and
still collects all of it. A kernel nothing ran in yet (its namespace holds nothing of a run) is
not reset, only frozen (the reset's collections of everything ipykernel loaded cost 0.09 s of
CPU for the few dozen objects its start-up left unreachable).

The same client runs the run's database work between steps (``call``: ``pipeline.host_*``).
"""

from __future__ import annotations

import contextlib
import weakref
from pathlib import Path
from typing import Any, Iterator

#: the kernel the steps' notebooks name (papermill's ``kernel_name``); a run starts its own
#: (``kernel_specs``)
KERNEL_NAME = "python3"
#: kernel start-up chatter (and the "KeyboardInterrupt caught in kernel" line a shutdown logs)
#: stays off the CLI's stderr; a headless run keeps no IPython input history (a SQLite file in
#: the user's home folder, written at every cell: the executed notebooks are the record)
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL", "--HistoryManager.enabled=False"]


def launch() -> None:
    """The run's kernel process (``python -P -m runbook.kernel -f CONNECTION_FILE``: ``-P``, the
    working folder is not on ``sys.path`` while it loads; IPython puts it there for the notebooks'
    code, as with ipykernel's own launcher): ipykernel's kernel, with the parts no headless run
    uses treated as absent first (``startup.trim_kernel``: the debugger, completion, the terminal).
    Its log is CRITICAL only (``KERNEL_ARGUMENTS``), which traitlets applies to the handler: the
    logger itself is set to CRITICAL too, or it makes a record of each of ipykernel's debug lines
    (several per cell: 0.5 ms of CPU per cell, measured) for the handler to drop."""
    from .startup import trim_kernel

    trim_kernel()  # before ipykernel and IPython load
    import logging

    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()  # what ipykernel's launch_new_instance does, with the log set
    app.initialize()
    app.log.setLevel(logging.CRITICAL)
    app.start()


def kernel_specs() -> Any:
    """A kernel spec manager with one spec, whatever the name asked for: this Python (the one
    the runbook is installed in; the environment's ``python3`` spec may name another) running
    ``launch``. Nothing is searched for (the default manager looks through the Jupyter folders
    and imports IPython to find one of them)."""
    import sys

    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class Headless(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(argv=[sys.executable, "-P", "-m", "runbook.kernel", "-f", "{connection_file}"],
                              display_name="Python 3 (schema-runbook, headless)", language="python")

    return Headless()


@contextlib.contextmanager
def shared_kernel(cwd: Path) -> Iterator[Any]:
    """A started kernel manager (``jupyter_client.AsyncKernelManager``), shut down on exit.

    The kernel inherits this process's environment as it is now (the run's lock marker, the
    password moved to ``PGPASSWORD``), so start it once those are set. It listens on Unix
    sockets in a private temporary folder (``ipc``), not on TCP ports: jupyter_client picks a
    free port by binding and releasing it, and another process can take it before the kernel
    binds it ("Address already in use", seen under parallel load). Same CPU per cell, measured
    (``benchmarks/bench_cells.py``). The folder's name carries this process's owner tag, so
    ``runbook clean`` can remove one a killed run left (``remove_leftovers``)."""
    import tempfile

    from jupyter_client.manager import AsyncKernelManager
    from nbclient.util import run_sync

    from .owner import owner_tag

    with tempfile.TemporaryDirectory(prefix=f"{SOCKETS_PREFIX}{owner_tag()}-") as sockets:
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_specs(), transport="ipc",
                                connection_file=str(Path(sockets, "kernel.json")), ip=str(Path(sockets, "ipc")))
        run_sync(km.start_kernel)(extra_arguments=KERNEL_ARGUMENTS, cwd=str(cwd))
        try:
            yield km
        finally:
            kc = _CLIENTS.pop(km, None)
            if kc is not None:
                kc.stop_channels()
            run_sync(km.shutdown_kernel)(now=True)


#: the start of a shared kernel's sockets folder's name, in the system's temporary folder
SOCKETS_PREFIX = "runbook-kernel-"


def remove_leftovers() -> list[str]:
    """Remove the sockets folders of shared kernels whose run was killed before it could (its
    owner tag names a process of this host that no longer runs)."""
    import shutil
    import tempfile

    from .owner import is_dead_owner

    removed = []
    for folder in sorted(Path(tempfile.gettempdir()).glob(f"{SOCKETS_PREFIX}rb*")):
        if is_dead_owner(folder.name):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed


#: the client each shared kernel's resets and calls are sent by (connected once, at the first)
_CLIENTS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
#: forget the names, collect the last step's garbage, then set the survivors aside (see above)
RESET = "get_ipython().run_line_magic('reset', '-f'); __import__('gc').freeze()"
#: before the first step, when nothing ran in the kernel yet: nothing to forget
FREEZE = "__import__('gc').freeze()"


class KernelGone(RuntimeError):
    """The kernel's process has ended."""


def _client(km: Any) -> tuple[Any, bool]:
    """The kernel's blocking client (its sockets belong to no asyncio loop: papermill's come and
    go), and whether it was connected just now; ``KernelGone`` when the kernel's process ended."""
    from nbclient.util import run_sync

    kc = _CLIENTS.get(km)
    if kc is not None:
        if not run_sync(km.is_alive)():  # say so now, not after a timeout
            raise KernelGone("Kernel died before the next step could start")
        return kc, False
    kc = km.blocking_client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
    except BaseException:
        kc.stop_channels()
        raise
    _CLIENTS[km] = kc
    return kc, True


def fresh_namespace(km: Any) -> None:
    """Forget the previous notebook's variables (``%reset -f``); imported modules stay loaded. On
    a kernel nothing ran in yet (just started by ``shared_kernel``) it only freezes what its
    start made."""
    kc, new = _client(km)
    kc.execute_interactive(FREEZE if new else RESET, store_history=False, timeout=60, output_hook=lambda msg: None)


def call(km: Any, function: str, **kwargs: Any) -> Any:
    """``runbook.pipeline.<function>(**kwargs)`` run in the kernel, between steps, in this
    process's folder (``pipeline.host_call``); returns its result (the arguments and the result go
    as JSON). The runbook's own errors raised there are raised here as themselves (same message,
    same exit status); anything else as ``RuntimeError`` naming it; ``KernelGone`` when the kernel
    died before answering. What the call leaves in the kernel's namespace goes at the next reset."""
    import ast
    import json
    import os

    from nbclient.util import run_sync

    from . import errors

    kc, _ = _client(km)
    code = (f"_runbook_call = __import__('runbook.pipeline', fromlist=['_']).host_call("
            f"{function!r}, {json.dumps(kwargs)!r}, {os.getcwd()!r})")
    msg_id = kc.execute(code, store_history=False, user_expressions={"result": "_runbook_call"})
    while True:  # as long as it takes (a lock to wait for, a lint replay), while the kernel lives
        try:
            reply = kc.get_shell_msg(timeout=0.5)
        except Exception:  # queue.Empty: nothing yet
            if not run_sync(km.is_alive)():
                raise KernelGone(f"Kernel died during {function}") from None
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    content = reply["content"]
    if content["status"] != "ok":
        raise RuntimeError(f"{content.get('ename', 'Error')}: {errors.redact(content.get('evalue', ''))}")
    answer = json.loads(ast.literal_eval(content["user_expressions"]["result"]["data"]["text/plain"]))
    if "error" in answer:
        cls = getattr(errors, answer["error"], errors.RunbookError)
        exc = cls.__new__(cls)
        Exception.__init__(exc, answer["message"])  # its message as it was raised there
        exc.exit_code = answer["exit_code"]
        raise exc
    return answer["result"]


if __name__ == "__main__":
    launch()
