"""Progress that everyone can see while a run works: the CLI, CI logs, and an operator's notebook.

Code that works for long calls ``emit("applying 002_x (2/4)")`` between actions, and wraps long
scans in ``with scan("fingerprint contractors", total=rows) as advance: ... advance(n)``. Where it
goes depends on where the code runs:

- inside a run's notebook kernel (``RUNBOOK_PROGRESS`` names the run's ``progress.jsonl``): one
  JSON line per event, appended and flushed; the process that started the run follows the file
  (``follow``) and hands each event to its listeners, and the file stays in the run folder as a
  timed record of what ran;
- in a process with listeners (the CLI registers a printer, ``listen``): straight to them;
- in an operator's notebook (an IPython kernel, no run file): a line of text, and a tqdm bar for
  scans;
- anywhere else (a library caller, a test): nowhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

ENV = "RUNBOOK_PROGRESS"
FILE_NAME = "progress.jsonl"
#: a scan reports at most this often (seconds), so progress never slows the work it reports
MIN_INTERVAL_S = 0.5

Event = dict[str, Any]
Listener = Callable[[Event], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def listen(listener: Listener) -> Callable[[], None]:
    """Send every event of this process (and of the kernels it follows) to ``listener``; returns
    a function that stops it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None and hasattr(shell, "get_ipython") else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _deliver(event: Event) -> None:
    path = os.environ.get(ENV)
    if path:
        with _lock, open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event, default=str) + "\n")
        return
    for listener in list(_listeners):
        listener(event)
    if not _listeners and _in_notebook() and event["kind"] == "message":
        print(event["message"], flush=True)


def emit(message: str, **fields: Any) -> None:
    """Report what the run is doing now (one line, no row values)."""
    _deliver({"kind": "message", "at": time.time(), "message": message, **fields})


@contextlib.contextmanager
def scan(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A long pass over ``total`` units (rows); the caller calls ``advance(n)`` as it goes."""
    done = 0
    last = 0.0
    bar = None
    if not os.environ.get(ENV) and not _listeners and _in_notebook():
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=description, unit="row", leave=False)

    def advance(n: int) -> None:
        nonlocal done, last
        done += n
        if bar is not None:
            bar.update(n)
            return
        now = time.monotonic()
        if now - last >= MIN_INTERVAL_S:
            last = now
            _deliver({"kind": "scan", "at": time.time(), "message": description, "done": done, "total": total})

    try:
        yield advance
    finally:
        if bar is not None:
            bar.close()
        elif done:
            _deliver({"kind": "scan", "at": time.time(), "message": description, "done": done, "total": total,
                      "finished": True})


@contextlib.contextmanager
def follow(path: Path) -> Iterator[None]:
    """Set ``RUNBOOK_PROGRESS`` to ``path`` for the kernels started inside, and hand each event
    they append there to this process's listeners until the block ends (then the rest)."""
    path = Path(path).resolve()  # the kernels run in the notebooks' folder, not in ours
    path.touch()
    previous = os.environ.get(ENV)
    os.environ[ENV] = str(path)
    stop = threading.Event()

    def pump() -> None:
        with open(path, encoding="utf-8") as f:
            pending = ""
            while True:
                chunk = f.read()
                pending += chunk
                *lines, pending = pending.split("\n")
                for line in lines:
                    if line.strip():
                        event = json.loads(line)
                        for listener in list(_listeners):
                            listener(event)
                if not chunk:
                    if stop.is_set():
                        return
                    time.sleep(0.1)

    thread = threading.Thread(target=pump, name="runbook-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        stop.set()
        thread.join(timeout=5)


# -- showing progress on the CLI ---------------------------------------------------------------
#: the longest a terminal or a CI log stays silent while a run works (seconds)
HEARTBEAT_S = 5.0
#: how often the heartbeat looks (seconds); it speaks once silence reaches HEARTBEAT_S less two
#: of these, so a line is out before HEARTBEAT_S even when the machine is slow to wake it
BEAT_S = 0.25


def _bar(done: int, total: int | None, width: int = 24) -> str:
    if not total:
        return f"{done:,} rows"
    filled = min(width, int(width * done / total))
    return f"{'█' * filled}{'░' * (width - filled)} {done:,}/{total:,} rows ({100 * done // total}%)"


def _describe(event: Event) -> str:
    if event["kind"] == "scan":
        return f"{event['message']}: {_bar(event['done'], event.get('total'))}"
    return event["message"]


@contextlib.contextmanager
def printed(stream: Any = None, *, live: bool | None = None) -> Iterator[None]:
    """Print this process's progress events while the block runs.

    On a terminal (``live``, the default when ``stream`` is a TTY and ``CI`` is not set): a
    status line with a spinner, the current action, a bar for scans and the elapsed time,
    above which each step and migration is printed as it ends or starts. Otherwise (piped, CI):
    plain timestamped lines; details (single statements, scans) only when they last, and a
    "still ..." line whenever nothing was printed for ``HEARTBEAT_S`` seconds.
    """
    stream = stream or sys.stderr
    if live is None:
        live = bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("CI")
    state: dict[str, Any] = {"current": None, "since": time.monotonic(), "printed": time.monotonic()}
    guard = threading.Lock()
    stop = threading.Event()

    if live:
        from rich.console import Console

        console = Console(file=stream, highlight=False)
        status = console.status("starting", spinner="dots")
        status.start()

        def line(text: str) -> None:
            console.print(text, markup=False)

        def refresh() -> None:
            current = state["current"]
            if current is not None:
                elapsed = time.monotonic() - state["since"]
                text = f"{_describe(current)}  [{elapsed:.0f} s]"
                width = max(20, console.width - 4)
                status.update(text if len(text) <= width else text[: width - 1] + "…")
    else:
        def line(text: str) -> None:
            stream.write(f"{time.strftime('%H:%M:%S')}  {text}\n")
            stream.flush()
            state["printed"] = time.monotonic()

        def refresh() -> None:
            current = state["current"]
            if current is not None and time.monotonic() - state["printed"] >= HEARTBEAT_S - 2 * BEAT_S:
                elapsed = time.monotonic() - state["since"]
                line(f"… {_describe(current)} ({elapsed:.0f} s)")

    def on_event(event: Event) -> None:
        with guard:
            if event.get("detail") or event["kind"] == "scan":
                if state["current"] is None or state["current"].get("message") != event.get("message"):
                    state["since"] = time.monotonic()
                state["current"] = event
                if live:
                    refresh()
                return
            line(event["message"])
            state["current"], state["since"] = event, time.monotonic()
            if live:
                refresh()

    def beat() -> None:
        while not stop.wait(BEAT_S):
            with guard:
                refresh()

    unlisten = listen(on_event)
    thread = threading.Thread(target=beat, name="runbook-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=2)
        unlisten()
        if live:
            status.stop()
