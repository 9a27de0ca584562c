"""One Jupyter kernel for all the steps of a run.

Starting a kernel and importing pandas, SQLAlchemy and the runbook in it costs seconds; a run has
four or five steps. ``shared_kernel()`` starts one kernel for the whole run; each step's notebook
is executed in it by papermill (``km=``), after ``%reset -f`` clears the previous step's
variables, so every notebook still runs on its own names (as it does for an operator in
JupyterLab) while the imported modules stay loaded. Each step still gets its own executed
notebook in the run folder.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

KERNEL_NAME = "python3"
#: kernel start-up chatter (and the "KeyboardInterrupt caught in kernel" line a shutdown logs)
#: stays off the CLI's stderr
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


@contextlib.contextmanager
def shared_kernel(cwd: Path) -> Iterator[Any]:
    """A started kernel manager (``jupyter_client.AsyncKernelManager``), shut down on exit.

    The kernel inherits this process's environment as it is now (the run's lock marker, the
    password moved to ``PGPASSWORD``), so start it once those are set.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient.util import run_sync

    km = AsyncKernelManager(kernel_name=KERNEL_NAME)
    run_sync(km.start_kernel)(extra_arguments=KERNEL_ARGUMENTS, cwd=str(cwd))
    try:
        yield km
    finally:
        run_sync(km.shutdown_kernel)(now=True)


def fresh_namespace(km: Any) -> None:
    """Forget the previous notebook's variables (``%reset -f``); imported modules stay loaded."""
    from nbclient.util import run_sync

    kc = km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=60)
        run_sync(kc.execute_interactive)("get_ipython().run_line_magic('reset', '-f')", store_history=False,
                                         timeout=60, output_hook=lambda msg: None)
    finally:
        kc.stop_channels()
