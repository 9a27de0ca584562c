"""What the runbook's two processes (the CLI and the run's notebook kernel) import, loaded once
and cheaply.

**Imports without the collector.** A run imports about a thousand modules (SQLAlchemy, sqlglot,
papermill, jupyter_client, nbconvert, the runbook); their objects live as long as the process.
Python's collector, triggered by the allocations, scans them again and again while they are being
imported and frees nothing (a demo run spent 0.26 s of CPU in collections in the CLI and 0.1 s in
the kernel, mostly during imports). ``load`` imports with the collector paused, then moves
everything the process holds out of its way (``gc.freeze``): later collections scan only what
the run makes, and still collect all of it.

**papermill's optional parts.** papermill imports requests (for ``http://`` notebooks) and click
(for its own command line's help) whenever it is imported, and boto3 (``s3://`` notebooks, about
20 MiB) when it is installed. The runbook reads and writes local notebooks only: requests and click
stand in as empty modules that import the real one at their first attribute use (never, here),
and boto3 is treated as absent, as papermill allows.

**The kernel's unused parts** (``trim_kernel``, in the run's kernel before ipykernel loads): the
debugger (debugpy, 0.1 s and 16 MiB: nothing attaches to a headless run's kernel) and Jedi (tab
completion: nobody types in one) are treated as absent, as ipykernel and IPython allow; and
IPython's ``embed`` (the terminal shell, which imports prompt_toolkit whenever IPython is
imported) stands in until called (never, here). 0.1 s of CPU at each kernel start.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import sys
import types
from typing import Any

#: imported by papermill's modules as ``import x`` and used only inside functions the runbook
#: never calls
PAPERMILL_LAZY = ("requests", "click")
#: what the steps' notebooks import (their first cells), loaded by the run's kernel before its first step
KERNEL_MODULES = ("runbook.reports", "runbook.checks", "runbook.table", "runbook.target", "runbook.steps",
                  "runbook.verify", "IPython.display")


def load(*modules: str, absent: tuple[str, ...] = ()) -> None:
    """Import ``modules`` (dotted names) with the collector paused, then freeze what the process
    holds (see the module's docstring). Cheap when they are already imported. ``absent``: optional
    modules their imports would load, treated as not installed while they are imported (each
    importer's own fallback), unless this process has them already; afterwards it can still
    import them itself."""
    if all(name in sys.modules for name in modules):
        return
    blocked = [name for name in absent if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    enabled = gc.isenabled()
    gc.disable()
    try:
        for name in modules:
            __import__(name)  # the import statement's own path (importlib.import_module's is not in -X importtime's log)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
        for name in blocked:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


def load_notebook_runner() -> None:
    """papermill, nbclient and jupyter_client, as the CLI runs notebooks with them."""
    if "boto3" not in sys.modules:
        sys.modules["boto3"] = None  # type: ignore[assignment]  # papermill: "S3 support requires boto3"
    for name in PAPERMILL_LAZY:
        _lazy(name)
    load("papermill", "papermill.engines", "jupyter_client.manager", "nbclient.util")


def trim_kernel() -> None:
    """Before ipykernel loads in a headless kernel: no debugger, no Jedi, IPython's terminal
    ``embed`` imported only if called (see the module's docstring)."""
    for name in ("debugpy", "jedi"):
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    if "IPython.terminal.embed" not in sys.modules:
        stand_in = _ModuleOnFirstUse("IPython.terminal.embed")  # anything else looked up on it: the real one

        def embed(*args: Any, **kwargs: Any) -> Any:
            return stand_in.real().embed(*args, **kwargs)

        stand_in.embed = embed  # type: ignore[attr-defined]  # what ``import IPython`` takes from it
        sys.modules[stand_in.__name__] = stand_in


def _lazy(name: str) -> None:
    """Put ``name`` in ``sys.modules`` as a stand-in that imports the real module at its first
    attribute use (nothing when it is imported already or not installed)."""
    if name not in sys.modules and importlib.util.find_spec(name) is not None:
        sys.modules[name] = _OnFirstUse(name)


class _OnFirstUse(types.ModuleType):
    """An empty module that becomes the real one when anything is looked up on it: the first
    ``requests.get`` imports requests and returns its ``get``. (``importlib.util.LazyLoader``
    cannot do this here: Python 3.11's ``import`` statement reads a module's ``__spec__``, which
    makes a lazily loaded module load at once.)"""

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.real(), attr)

    def real(self) -> types.ModuleType:
        """The real module, imported now in this stand-in's place."""
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return importlib.import_module(self.__name__)


class _ModuleOnFirstUse(_OnFirstUse):
    """``_OnFirstUse`` for a module that is not a package, loaded only when its content is looked
    up: questions about the module itself (``__path__``, asked by ``from ... import``; ``__file__``,
    asked of every loaded module by ``inspect.getmodule``) are answered without loading it."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return super().__getattr__(attr)
