"""What the ``runbook`` command prints: tables and colour on a terminal, plain text when piped,
one JSON document with ``--json``.

Colour follows ``NO_COLOR`` (https://no-color.org) and is off when the output is not a terminal;
``rich`` is imported only when it will draw something, so piped and JSON output stay quick.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Sequence, TextIO

FORMAT_VERSION = 1  # of every --json output; bumped when a shape changes incompatibly

STYLES = {"passed": "green", "applied": "green", "ok": "green", "failed": "bold red", "drifted": "bold red",
          "unknown": "bold red", "pending": "yellow", "kept": "yellow", "created": "green", "error": "bold red"}


class Output:
    """The command's output. ``quiet``: only errors; ``verbose``: also details."""

    def __init__(self, stream: TextIO | None = None, *, json_mode: bool = False, quiet: bool = False,
                 verbose: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.json_mode, self.quiet, self.verbose = json_mode, quiet, verbose
        self.rich = self.stream.isatty() and not json_mode and os.environ.get("TERM") != "dumb"
        self.colour = self.rich and not os.environ.get("NO_COLOR")
        self._console = None

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.stream, no_color=not self.colour, highlight=False,
                                    soft_wrap=True)
        return self._console

    def _silent(self) -> bool:
        return self.quiet or self.json_mode

    def line(self, text: str = "", style: str | None = None) -> None:
        if self._silent():
            return
        if self.rich:
            from rich.text import Text

            self.console.print(Text(text, style=STYLES.get(style or "", style or "")) if style else Text(text))
        else:
            print(text, file=self.stream)

    def detail(self, text: str) -> None:
        """Only with ``--verbose``."""
        if self.verbose:
            self.line(text, style="dim")

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None,
              status_column: int | None = None) -> None:
        """A table on a terminal; aligned plain columns (no box drawing) when piped."""
        if self._silent():
            return
        cells = [["" if v is None else str(v) for v in row] for row in rows]
        if self.rich:
            from rich.table import Table

            t = Table(*columns, title=title, title_justify="left", header_style="bold")
            for row in cells:
                styled = list(row)
                if status_column is not None and self.colour:
                    s = row[status_column]
                    styled[status_column] = f"[{STYLES[s.lower()]}]{s}[/]" if s.lower() in STYLES else s
                t.add_row(*styled)
            self.console.print(t)
            return
        if title:
            print(title, file=self.stream)
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
        for row in [list(columns)] + cells:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip(), file=self.stream)

    def emit(self, command: str, data: dict[str, Any]) -> None:
        """The one JSON document of a command under ``--json`` (nothing otherwise)."""
        if self.json_mode:
            doc = {"format_version": FORMAT_VERSION, "command": command, **data}
            print(json.dumps(doc, indent=2, default=str), file=self.stream)


def error(message: str, *, exit_code: int, kind: str, json_mode: bool, stream: TextIO | None = None) -> None:
    """An error: one line on stderr, or a JSON document on stdout under ``--json``."""
    if json_mode:
        doc = {"format_version": FORMAT_VERSION, "error": {"message": message, "kind": kind, "exit_code": exit_code}}
        print(json.dumps(doc, indent=2), file=stream or sys.stdout)
    else:
        print(f"runbook: {message}", file=sys.stderr)
