"""Horizontal bar charts as inline SVG: the run page's plots, drawn from its records.

The run page used to draw its four small charts with matplotlib and inline them as PNG; importing
and running matplotlib in the CLI process cost more CPU and memory than the rest of the page. These
charts are a few rectangles and labels: written here as SVG text (no dependency, a few
milliseconds), scaled by the browser, and exactly the same on every rebuild.

``hbars(title, labels, series, unit=...)`` draws one bar per label and series (grouped when there
are several series), the value written at the end of each bar, optional markers (the rehearsal's
timing beside this run's), and a logarithmic axis when asked (``log=True``: small tables stay
visible beside large ones; 0 is no bar).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

FONT = 'font-family="system-ui, -apple-system, Segoe UI, DejaVu Sans, sans-serif"'
WIDTH = 560  # user units; the browser scales the image to the page
ROW = 16  # height of one bar
GAP = 8  # between groups
CHAR = 6.6  # average width of a 12px character, to size the label column


@dataclass
class Series:
    name: str
    values: list[float | int | None]
    colour: str = "#1565c0"
    colours: list[str] | None = None  # one per bar (e.g. passed / failed steps)


@dataclass
class Markers:
    """A tick per label at a value (e.g. the rehearsal's timing), shown over the bars."""

    name: str
    values: list[float | int | None]
    colour: str = "#ef6c00"
    legend: bool = True


def _fmt(v: float) -> str:
    """1,234 · 56 · 7.5 · 0.25"""
    if float(v).is_integer() or abs(v) >= 10:
        return f"{v:,.0f}"
    return f"{v:.1f}" if abs(v) >= 1 else f"{v:.2g}"


def _fit(label: str, width: float) -> str:
    """``label`` cut to ``width`` pixels with an ellipsis (the label column is at most 220 px: a
    longer migration name ran off the chart's left edge); the whole label is the text's tooltip."""
    most = int(width // CHAR)
    return label if len(label) <= most else label[:max(most - 1, 1)] + "…"


def _ticks(top: float, log: bool) -> list[float]:
    if log:
        n = max(1, math.ceil(math.log10(top + 1)))
        return [0.0] + [10.0 ** k for k in range(0, n + 1) if 10.0 ** k <= top * 1.0001] or [0.0]
    if top <= 0:
        return [0.0]
    raw = top / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [i * step for i in range(int(top / step + 1e-9) + 1)]


def hbars(title: str, labels: list[str], series: list[Series], *, unit: str, log: bool = False,
          markers: Markers | None = None) -> str:
    """An SVG horizontal bar chart (a string; escape-safe: labels are escaped)."""
    values = [v or 0 for s in series for v in s.values] + ([v or 0 for v in markers.values] if markers else [])
    top = max([v for v in values if v is not None] + [0])
    if not log and top > 0:
        ticks = _ticks(top, log)
        top = max(top, ticks[-1])
    scale_top = math.log10(top + 1) if log else top

    def x_of(v: float | int | None) -> float:
        v = max(v or 0, 0)
        if scale_top <= 0:
            return 0.0
        return (math.log10(v + 1) if log else v) / scale_top * plot_w

    label_w = min(220, max((len(str(x)) for x in labels), default=4) * CHAR + 10)
    value_w = 64  # room for the value written after the longest bar
    plot_x = label_w
    plot_w = WIDTH - label_w - value_w
    legend = len(series) > 1 or (markers is not None and markers.legend)
    head = 26 + (16 if legend else 0)
    group_h = ROW * len(series) + GAP
    body_h = group_h * len(labels)
    height = head + body_h + 34
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
           f'width="{WIDTH}" height="{height}" {FONT} font-size="12">',
           f"<title>{escape(title)}</title>",
           f'<text x="{WIDTH / 2:.0f}" y="16" text-anchor="middle" font-size="14" font-weight="600">{escape(title)}</text>']
    if legend:
        x = plot_x
        for name, colour, tick in [(s.name, s.colour, False) for s in series] + (
                [(markers.name, markers.colour, True)] if markers is not None and markers.legend else []):
            shape = (f'<rect x="{x}" y="{head - 21}" width="3" height="12" fill="{colour}"/>' if tick
                     else f'<rect x="{x}" y="{head - 20}" width="12" height="10" fill="{colour}"/>')
            out.append(shape + f'<text x="{x + 16}" y="{head - 11}">{escape(name)}</text>')
            x += 16 + len(name) * CHAR + 18
    # the axis: grid lines and tick labels
    axis_y = head + body_h
    for t in _ticks(top, log) if top > 0 else [0.0]:
        gx = plot_x + x_of(t)
        out.append(f'<line x1="{gx:.1f}" y1="{head}" x2="{gx:.1f}" y2="{axis_y}" stroke="#e0e0e0"/>'
                   f'<text x="{gx:.1f}" y="{axis_y + 14}" text-anchor="middle" fill="#555">{_fmt(t)}</text>')
    out.append(f'<line x1="{plot_x}" y1="{head}" x2="{plot_x}" y2="{axis_y}" stroke="#888"/>')
    out.append(f'<text x="{plot_x + plot_w / 2:.0f}" y="{axis_y + 30}" text-anchor="middle" fill="#333">'
               f'{escape(unit)}{" (log scale)" if log else ""}</text>')
    for i, label in enumerate(labels):
        y0 = head + i * group_h + GAP / 2
        out.append(f'<text x="{plot_x - 6}" y="{y0 + group_h / 2 - GAP / 2 + 4:.1f}" text-anchor="end">'
                   f'{escape(_fit(str(label), label_w - 10))}<title>{escape(str(label))}</title></text>')
        for j, s in enumerate(series):
            v = s.values[i]
            w = x_of(v)
            y = y0 + j * ROW
            colour = s.colours[i] if s.colours else s.colour
            value = "—" if v is None else _fmt(v)
            out.append(f'<rect x="{plot_x}" y="{y + 1:.1f}" width="{w:.1f}" height="{ROW - 2}" fill="{colour}">'
                       f"<title>{escape(str(label))}, {escape(s.name)}: {value}</title></rect>"
                       f'<text x="{plot_x + w + 4:.1f}" y="{y + ROW - 4:.1f}" fill="#333">{value}</text>')
        if markers is not None and markers.values[i] is not None:
            mx = plot_x + x_of(markers.values[i])
            out.append(f'<rect x="{mx - 1.5:.1f}" y="{y0 - 2:.1f}" width="3" height="{ROW * len(series) + 4}" '
                       f'fill="{markers.colour}"><title>{escape(str(label))}, {escape(markers.name)}: '
                       f"{_fmt(markers.values[i])}</title></rect>")
    out.append("</svg>")
    return "".join(out)


class NotebookChart:
    """A chart as a notebook output: an ``<img>`` of the SVG, which JupyterLab shows even in a
    notebook it does not trust (it would not show a bare SVG output there) and nbconvert inlines;
    a line of text where only text is shown."""

    def __init__(self, title: str, labels: list[str], series: list[Series], **options):
        self.title, self.svg = title, hbars(title, labels, series, **options)
        self.text = f"{title}: " + "; ".join(
            f"{label} " + ", ".join("—" if s.values[i] is None else _fmt(s.values[i]) for s in series)
            for i, label in enumerate(labels))

    def _repr_html_(self) -> str:
        import base64

        data = base64.b64encode(self.svg.encode()).decode("ascii")
        return f'<img alt="{escape(self.title)}" src="data:image/svg+xml;base64,{data}">'

    def __repr__(self) -> str:
        return self.text
