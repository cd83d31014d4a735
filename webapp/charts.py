"""Charts drawn on the server as SVG with pygal, for the figures pages and the PDFs.

A chart is an <img> of a data: URI rather than inline SVG: pygal writes its colours
in a <style> element, which the pages' CSP (no inline styles) would block, while an
SVG image is its own document. It shows with scripts off, in a page kept offline and
in WeasyPrint's PDFs; the page puts the same numbers in a table beside it, which is
also what a screen reader reads.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

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


def _uri(chart: pygal.graph.graph.Graph) -> str:
    svg = chart.render()  # bytes
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def line(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]],
         *, percent: bool = False, target: float | None = None,
         target_label: str = "—") -> str:
    """A trend: one line per series over `labels` (a gap where a value is None), and the
    target as a dashed line named `target_label` (the caller's language)."""
    config = {**_CONFIG, "show_legend": len(series) > 1 or target is not None}
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
