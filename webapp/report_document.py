"""A report's document, for its page and its PDF: numbers printed, trends drawn.

One template (`reports/_document.html`) shows a report's contents on its page and in
the PDF (`reports/pdf.html`: A4, Chinese fonts, nothing fetched). The trends are SVG
charts (webapp/charts.py) as data: URIs, one per area and kind of number, so a
percentage never shares an axis with a count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import render_template
from flask_babel import gettext as _

from . import charts, figure_text
from .domain import figures, reports
from .domain.text import N_
from .pdf import render_pdf


def number(value: float | None, unit: str) -> str:
    """A figure's value as printed: 96.2%, 143, 35 minutes, 1.25 per 100 households."""
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "minutes":
        return _("%(n)s min", n=f"{value:.0f}")
    if unit == "per100":
        return f"{value:.2f}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def change(value: float | None, unit: str) -> str:
    """Against the previous period, signed; a percentage's change is in points."""
    if value is None:
        return "—"
    text = f"{value:+.1f}" if not float(value).is_integer() or unit == "percent" \
        else f"{value:+.0f}"
    return _("%(n)s pts", n=text) if unit == "percent" else text


def headings(t: Mapping[str, Any]) -> list[str]:
    """A breakdown's column headings, each with its unit (a snapshot taken before tables
    had units: the bare names)."""
    units = t.get("units") or [""] * len(t["columns"])
    return [figure_text.heading(c, u) for c, u in zip(t["columns"], units, strict=True)]


def cell(c: Mapping[str, Any], unit: str | None = None) -> str:
    """A breakdown's cell under its heading; a snapshot without units: a share of
    something as a percentage, else the number."""
    if unit:
        return figure_text.cell(c.get("value"), unit)
    if c.get("denominator") is not None:
        return number(c.get("value"), "percent")
    return number(c.get("value"), "count")


UNIT_TITLES = {"percent": N_("Rates, percent"), "count": N_("Counts"), "minutes": N_("Minutes"),
               "per100": N_("Per 100 households")}


def _charts(snap: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Per area, a trend chart for each kind of number it has."""
    labels = [m[5:] if snap["kind"] == "year" else m for m in snap["months"]]
    out: dict[str, list[dict[str, str]]] = {}
    for area in figures.AREAS:
        for unit in figures.UNITS:
            figs = [f for f in snap["figures"] if f["area"] == area and f["unit"] == unit]
            if not figs:
                continue
            title = f"{_(figures.AREAS[area])} · {_(UNIT_TITLES[unit])}"
            series = {_(f["label"]): f["trend"] for f in figs}
            # One line: its target drawn too; several: each target is in the table.
            target = figs[0]["target"] if len(figs) == 1 else None
            legend = [*series, _("Target")] if target is not None else list(series)
            width, height = charts.line_size(legend if len(legend) > 1 else [])
            out.setdefault(area, []).append({
                "title": title, "unit": unit, "width": width, "height": height,
                "src": charts.line(title, labels, series, percent=unit == "percent",
                                   target=target, target_label=_("Target"))})
    return out


def context(snap: Mapping[str, Any]) -> dict[str, Any]:
    """What `_document.html` needs: the snapshot, its figures by area, the charts."""
    areas = [(key, label, [f for f in snap["figures"] if f["area"] == key],
              [t for t in snap["tables"] if t["area"] == key])
             for key, label in figures.AREAS.items()]
    return {"snap": snap, "areas": [a for a in areas if a[2] or a[3]],
            "charts": _charts(snap), "number": number, "change": change, "cell": cell,
            "headings": headings,
            "KINDS": reports.KINDS, "STATUSES": reports.STATUSES}


def render_html(snap: Mapping[str, Any]) -> str:
    """The standalone document (the PDF's HTML): what an issued report stores."""
    return render_template("reports/pdf.html", **context(snap))


def pdf(document: str) -> bytes:
    return render_pdf(document)
