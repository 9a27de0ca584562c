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
still collects all of it. The first step's kernel is fresh (its namespace holds nothing of a
run): it is not reset (the reset's collections of everything ipykernel loaded cost 0.09 s of CPU
for the few dozen objects its start-up left unreachable); it loads what the notebooks import
(``startup.load``: without the collector's scans during the imports), then freezes.
"""

from __future__ import annotations

import contextlib
import weakref
from pathlib import Path
from typing import Any, Iterator

from .startup import kernel_preload

KERNEL_NAME = "python3"
#: kernel start-up chatter (and the "KeyboardInterrupt caught in kernel" line a shutdown logs)
#: stays off the CLI's stderr; a headless run keeps no IPython input history (a SQLite file in
#: the user's home folder, written at every cell: the executed notebooks are the record); and
#: its kernel has no debugger (``HeadlessKernel``)
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL", "--HistoryManager.enabled=False",
                    "--IPKernelApp.kernel_class=runbook.kernel.HeadlessKernel"]


def __getattr__(name: str) -> Any:
    """``HeadlessKernel``: ipykernel's own kernel, without the debugger JupyterLab attaches to
    (debugpy: 0.1 s of CPU and 16 MiB at each start; nothing attaches to a headless run's
    kernel). ipykernel treats debugpy as optional (the kernel runs without one when it cannot be
    imported), as papermill does boto3 (see ``cli.main``). Resolved only in the kernel's process,
    by its ``--IPKernelApp.kernel_class``: the CLI never imports ipykernel."""
    if name != "HeadlessKernel":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import sys

    sys.modules.setdefault("debugpy", None)  # type: ignore[arg-type]
    from ipykernel.ipkernel import IPythonKernel

    return IPythonKernel


@contextlib.contextmanager
def shared_kernel(cwd: Path, engine: str | None = None) -> Iterator[Any]:
    """A started kernel manager (``jupyter_client.AsyncKernelManager``), shut down on exit.
    ``engine``: the target's engine (``sqlite``...), whose module the kernel loads with the
    notebooks' imports before the first step (``startup.kernel_preload``).

    The kernel inherits this process's environment as it is now (the run's lock marker, the
    password moved to ``PGPASSWORD``), so start it once those are set.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.util import run_sync

    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_specs())
    run_sync(km.start_kernel)(extra_arguments=KERNEL_ARGUMENTS, cwd=str(cwd))
    if engine is not None:
        _FIRST[km] = kernel_preload(f"runbook.engines.{engine}")
    try:
        yield km
    finally:
        kc = _CLIENTS.pop(km, None)
        if kc is not None:
            kc.stop_channels()
        run_sync(km.shutdown_kernel)(now=True)


def kernel_specs() -> Any:
    """jupyter_client's kernel spec manager, searching the folders it searches by default.

    Its default list ends with IPython's own folder (``~/.ipython/kernels``), found by importing
    IPython, which costs this process 0.2 s of CPU and some memory for one path: the same
    folder is named here as IPython names it (``$IPYTHONDIR``, else ``~/.ipython``).
    """
    import os

    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_core.paths import jupyter_path

    ipython_dir = os.environ.get("IPYTHONDIR") or os.path.join(os.path.expanduser("~"), ".ipython")
    return KernelSpecManager(kernel_dirs=[*jupyter_path("kernels"), os.path.join(ipython_dir, "kernels")])


#: the client each shared kernel's resets are sent by (connected once, at the first reset)
_CLIENTS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
#: forget the names, collect the last step's garbage, then set the survivors aside (see above)
RESET = "get_ipython().run_line_magic('reset', '-f'); __import__('gc').freeze()"
#: before the first step: nothing to forget yet (``shared_kernel`` may name more, in ``_FIRST``)
FREEZE = "__import__('gc').freeze()"
_FIRST: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()


def fresh_namespace(km: Any) -> None:
    """Forget the previous notebook's variables (``%reset -f``); imported modules stay loaded. The
    first call on a kernel (just started by ``shared_kernel``) only freezes what its start made."""
    from nbclient.util import run_sync

    kc = _CLIENTS.get(km)
    code = RESET
    if kc is None:  # a blocking client: its sockets belong to no asyncio loop (papermill's come and go)
        kc = km.blocking_client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
        except BaseException:
            kc.stop_channels()
            raise
        _CLIENTS[km] = kc
        code = _FIRST.pop(km, FREEZE)
    elif not run_sync(km.is_alive)():  # the process is gone: say so now, not after the reset's timeout
        raise RuntimeError("Kernel died before the next step could start")
    kc.execute_interactive(code, store_history=False, timeout=60, output_hook=lambda msg: None)
