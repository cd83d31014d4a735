"""Charts drawn on the server as SVG with pygal, for the figures pages and the PDFs.

A chart is an <img> of a data: URI rather than inline SVG: pygal writes its colours
in a <style> element, which the pages' CSP (no inline styles) would block, while an
SVG image is its own document. It shows with scripts off, in a page kept offline and
in WeasyPrint's PDFs; the page puts the same numbers in a table beside it, which is
also what a screen reader reads.
"""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import Sequence
from math import ceil

import pygal
from pygal.style import Style

# Sized for a 360 px phone (the image scales down, the text with it: keep it large).
WIDTH, HEIGHT = 720, 400
STYLE = Style(
    font_family="'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', "
                "sans-serif",
    background="white",
    plot_background="white",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#ccc",
    colors=("#1565c0", "#ef6c00", "#2e7d32", "#c62828", "#6a1b9a", "#00838f"),
    label_font_size=18,
    major_label_font_size=18,
    value_font_size=16,
    legend_font_size=18,
    title_font_size=22,
    tooltip_font_size=16,
)
_CONFIG = {
    "width": WIDTH,
    "height": HEIGHT,
    "style": STYLE,
    "js": [],  # no tooltips script: nothing is fetched, and an <img> runs none anyway
    "disable_xml_declaration": False,
    "show_legend": False,
    "truncate_label": 8,
    "print_values": False,
}


# The legend under a chart: pygal fits its names to columns as if every character were a
# narrow Latin one, so long Chinese names ran into the next column. Columns are chosen
# here for the widest name (a wide character a full em), and the chart grows a row for
# each further line of names, so the plot keeps its size.
LEGEND_WIDTH = WIDTH - 90  # the plot's width, beside the y-axis labels
LEGEND_BOX = 12  # pygal's coloured square, and the gap after it
LEGEND_ROW = round(1.5 * STYLE.legend_font_size)  # pygal's line spacing


def _text_width(text: str, size: int) -> float:
    return sum(size if unicodedata.east_asian_width(c) in "WF" else 0.6 * size for c in text)


def legend_columns(names: Sequence[str]) -> tuple[int, int]:
    """How many columns of names fit side by side under a chart, and how many lines."""
    if not names:
        return 1, 0
    widest = max(_text_width(n, STYLE.legend_font_size) for n in names) + LEGEND_BOX + 5 + 16
    cols = max(1, min(len(names), int(LEGEND_WIDTH // widest)))
    return cols, ceil(len(names) / cols)


def line_size(names: Sequence[str]) -> tuple[int, int]:
    """A trend chart's width and height for its legend's names (none: no legend)."""
    _cols, rows = legend_columns(names)
    return WIDTH, HEIGHT + max(0, rows - 1) * LEGEND_ROW


def _uri(chart: pygal.graph.graph.Graph) -> str:
    svg = chart.render()  # bytes
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def line(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]],
         *, percent: bool = False, target: float | None = None,
         target_label: str = "—") -> str:
    """A trend: one line per series over `labels` (a gap where a value is None), and the
    target as a dashed line named `target_label` (the caller's language)."""
    names = [*series, *([target_label] if target is not None else [])]
    shown = names if len(names) > 1 else []
    cols, _rows = legend_columns(shown)
    config = {**_CONFIG, "show_legend": bool(shown), "height": line_size(shown)[1],
              # Never cut: the columns are wide enough for the widest name.
              "legend_at_bottom_columns": cols, "truncate_legend": -1}
    if shown and len(shown) % cols:
        # pygal leaves room for len // cols lines of names: a last, shorter line needs one
        # more (its default margin is 20).
        config["margin_bottom"] = 20 + LEGEND_ROW
    chart = pygal.Line(title=title, legend_at_bottom=True, x_label_rotation=0,
                       show_minor_x_labels=False,
                       x_labels_major_every=max(1, len(labels) // 6),
                       allow_interruptions=True, range=(0, 100) if percent else None, **config)
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    if target is not None:
        chart.add(target_label, [target] * len(labels), show_dots=False,
                  stroke_style={"dasharray": "6"})
    return _uri(chart)


def bars(title: str, rows: Sequence[tuple[str, float]]) -> str:
    """Horizontal bars, largest first as given: who or what has the most."""
    chart = pygal.HorizontalBar(title=title, **{
        **_CONFIG, "print_values": True, "height": max(160, 60 + 44 * len(rows))})
    chart.x_labels = [label for label, _ in rows]
    chart.add(title, [value for _, value in rows])
    return _uri(chart)
