"""The SVG charts: a trend's legend of long Chinese names fits its columns (no name runs
into the next one, none is cut), and the chart grows to hold it."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

from webapp import charts

SVG = "{http://www.w3.org/2000/svg}"
NAMES = ["回访率", "按时回访率", "工作日内回访率", "回访未联系上", "满意度", "满意度：服务态度",
         "满意度：沟通", "满意度：维修质量", "满意度：及时性", "满意度：投诉处理速度",
         "满意度：总体", "意见调查：回收率"]


def _svg(uri: str) -> ET.Element:
    return ET.fromstring(base64.b64decode(uri.split(",", 1)[1]))


def _legend(root: ET.Element) -> list[tuple[float, float, str]]:
    """(x, y, name) of each legend entry, as drawn."""
    group = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legends")
    out = []
    for entry in group.findall(f"{SVG}g"):
        text = entry.find(f"{SVG}text")
        out.append((float(text.get("x")), float(text.get("y")), "".join(text.itertext())))
    return out


def test_a_legend_of_long_chinese_names_does_not_overlap_and_is_not_cut():
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    uri = charts.line("回访 · 比率", months, {n: [50.0] * 12 for n in NAMES}, percent=True)
    root = _svg(uri)
    entries = _legend(root)
    assert sorted(name for _x, _y, name in entries) == sorted(NAMES)  # whole, no "…"
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, name in entries:
        rows.setdefault(y, []).append((x, name))
    assert len(rows) > 1
    for row in rows.values():
        row.sort()
        for (x, name), (next_x, _next) in zip(row, row[1:], strict=False):
            # A wide character takes a full em of the legend's font.
            assert x + len(name) * charts.STYLE.legend_font_size <= next_x, (name, row)
    # The plot keeps its size: the chart is taller by the legend's extra lines.
    _width, height = charts.line_size(NAMES)
    assert height == charts.HEIGHT + (len(rows) - 1) * charts.LEGEND_ROW
    assert float(root.get("viewBox").split()[3]) == height
    # The last line of names is inside the picture.
    assert max(y for _x, y, _n in entries) < height


def test_a_single_line_with_its_target_keeps_the_pages_size():
    uri = charts.line("按时率", ["10", "11"], {"维修及时率": [90.0, 95.0]}, percent=True,
                      target=95, target_label="目标")
    root = _svg(uri)
    assert float(root.get("viewBox").split()[3]) == charts.HEIGHT
    assert {name for _x, _y, name in _legend(root)} == {"维修及时率", "目标"}
