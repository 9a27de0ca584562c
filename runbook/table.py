"""A small table for the notebooks' cells: an HTML table in JupyterLab and in the run's pages, text elsewhere.

The notebooks used pandas only to show lists of records as tables; importing pandas cost every
run's kernel about 0.3 s of CPU and 50 MiB. ``Table`` shows the same records: one column per key
(in the order they first appear), one row per record, every value as its text (``None`` as
``None``, a key a record lacks as an empty cell), HTML-escaped; no index column.

    Table([{"table": "contractors", "rows": 11}, ...])        # records
    Table({"rows": 3, "tables": {"contractors": 3}})           # one record, one row
    Table(rows, columns=["id", "name"])                        # rows of values
    Table.of_columns({"before": [...], "after": [...]})        # columns (a shorter one padded)
    Table.of_record({"path": ..., "sha256": ...})              # one record, one line per field
"""

from __future__ import annotations

from html import escape
from typing import Any, Iterable, Mapping, Sequence

_MISSING = object()


class Table:
    def __init__(self, rows: Mapping[str, Any] | Iterable[Mapping[str, Any] | Sequence[Any]],
                 columns: Sequence[str] | None = None):
        rows = [rows] if isinstance(rows, Mapping) else list(rows)  # one record: one row
        if columns is None:  # records: the union of their keys, in the order first seen
            columns = list(dict.fromkeys(k for r in rows for k in r))  # type: ignore[union-attr]
            rows = [[r.get(c, _MISSING) for c in columns] for r in rows]  # type: ignore[union-attr]
        self.columns = [str(c) for c in columns]
        self.rows: list[list[Any]] = [list(r) for r in rows]
        self.header = True

    @classmethod
    def of_columns(cls, columns: Mapping[str, Sequence[Any]]) -> "Table":
        height = max((len(v) for v in columns.values()), default=0)
        return cls(zip(*(list(v) + [""] * (height - len(v)) for v in columns.values())), columns=list(columns))

    @classmethod
    def of_record(cls, record: Mapping[str, Any]) -> "Table":
        table = cls(record.items(), columns=["", ""])
        table.header = False
        return table

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def _repr_html_(self) -> str:
        head = ("<thead><tr>" + "".join(f"<th>{escape(c)}</th>" for c in self.columns) + "</tr></thead>"
                if self.header else "")
        body = "".join("<tr>" + "".join(f"<{'th' if i == 0 and not self.header else 'td'}>{escape(_text(v))}"
                                        f"</{'th' if i == 0 and not self.header else 'td'}>" for i, v in enumerate(r))
                       + "</tr>" for r in self.rows)
        return f'<table class="dataframe">{head}<tbody>{body}</tbody></table>'

    def __repr__(self) -> str:
        lines = ([self.columns] if self.header else []) + [[_text(v) for v in r] for r in self.rows]
        widths = [max((len(line[i]) for line in lines), default=0) for i in range(len(self.columns))]
        return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in lines) or "(empty)"


def _text(value: Any) -> str:
    return "" if value is _MISSING else str(value)
