"""The managers' figures: the home (cards, trends, hot spots), an area's figures and
tables, the records behind any number, and every table as CSV or XLSX.

Built from the registry (domain/figures.py): a page lists what is registered. Every page
takes the same two choices in its URL, `estate` (one of the user's estates, or empty for
all of them) and `period` (domain/periods.py: 2026-11, 2026-Q4, 2026, a..b).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import charts, figure_text
from ..args import record_id
from ..auth import require, utcnow
from ..csvexport import csv_response
from ..db import get_db
from ..domain import access, estates, figures, figures_home, figures_lists, periods
from ..domain.figures import AREAS, FIGURES, TABLES, Result
from ..domain.periods import Period
from ..xlsxexport import xlsx_response

bp = Blueprint("figures", __name__, url_prefix="/figures")
FORMATS = ("csv", "xlsx")


@dataclass
class Choice:
    """The estates and period asked for, and what was wrong with them."""

    estate: str  # as typed: "" for all the user's estates, else an id
    period_text: str
    period: Period | None
    estate_ids: tuple[int, ...]
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200

    def args(self, **more: Any) -> dict[str, Any]:
        """The query string that keeps these choices on a link."""
        out = {"estate": self.estate or None, "period": self.period.key if self.period else None}
        return {k: v for k, v in {**out, **more}.items() if v not in (None, "")}


def choice() -> Choice:
    now = utcnow()
    estate = request.args.get("estate", "").strip()
    text = request.args.get("period", "").strip()
    errors: dict[str, str] = {}
    status = 200
    ids = tuple(current_user.estate_ids)
    if estate:
        picked = record_id("estate")
        if picked is None or picked not in current_user.estate_ids:
            errors["estate"] = _("You do not serve this estate: “%(e)s”. Pick one of yours.",
                                 e=estate)
            status, estate = 403, ""  # links from the page go to all the user's estates
        else:
            ids = (picked,)
    try:
        period: Period | None = periods.parse(text, now)
    except ValueError:
        period = None
        errors["period"] = _("“%(p)s” is not a period. Type a month (2026-11), a quarter "
                             "(2026-Q4), a year (2026) or a range of days "
                             "(2026-01-01..2026-03-31).", p=text)
        status = 400 if status == 200 else status
    else:
        if period.start > periods.local_today(now):
            # Zeros and a fall "against the previous period" would read as work stopped.
            errors["period"] = _("“%(p)s” has not begun yet: its figures start on its first "
                                 "day.", p=text)
            period, status = None, 400 if status == 200 else status
    return Choice(estate, text, period, ids, errors, status)


def base_context(c: Choice) -> dict[str, Any]:
    db = get_db()
    mine = estates.list_estates(db, current_user.estate_ids)
    now = utcnow()
    this_month = periods.parse("", now)
    year, quarter = this_month.start.year, (this_month.start.month - 1) // 3 + 1
    quick = [(_("This month"), this_month.key), (_("Last month"), this_month.previous().key),
             (_("This quarter"), f"{year}-Q{quarter}"), (_("This year"), str(year))]
    return {"c": c, "estates_mine": mine, "quick": quick, "AREAS": AREAS}


def _evaluator(c: Choice) -> figures_home.Evaluator:
    assert c.period is not None
    db = get_db()
    return figures_home.Evaluator(db, figures.scope(db, c.estate_ids, c.period, utcnow()))


def _page(template: str, c: Choice, **context: Any):
    return render_template(template, **base_context(c), **context), c.status


@functools.lru_cache(maxsize=256)
def _line(title: str, labels: tuple[str, ...], values: tuple[float | None, ...],
          percent: bool, target: int | None, target_label: str) -> str:
    """A trend's chart, drawn once for the same numbers: pygal takes longer to draw one
    (about 20 ms) than the figures take to count, and the numbers rarely change between
    two looks at the page."""
    return charts.line(title, labels, {title: values}, percent=percent, target=target,
                       target_label=target_label)


def _chart(trend: figures_home.Trend) -> str:
    fig = trend.figure
    return _line(_(fig.label), tuple(p.key[2:] for p, _r in trend.points),
                 tuple(r.value for _p, r in trend.points), fig.unit == "percent", trend.target,
                 _("Target"))


@bp.get("")
@require("figures.view")
def home():
    """Cards for the home's figures, their twelve months' trends, the hot spots."""
    c = choice()
    if c.errors:
        return _page("figures/home.html", c)
    ev = _evaluator(c)
    cards = [ev.evaluate(f.key) for f in figures_home.registered(figures_home.HOME)]
    trends = [(t, _chart(t)) for t in figures_home.trends(ev)]
    hot = [(TABLES[k], ev.rows(k)) for k in figures_home.HOTSPOTS if k in TABLES]
    return _page("figures/home.html", c, cards=cards, trends=trends, tables=hot)


@bp.app_template_global("column_heading")
def column_heading(column: str, unit: str) -> str:
    return figure_text.heading(column, unit)


@bp.app_template_global("cell_text")
def cell_text(value: float | None, unit: str) -> str:
    return figure_text.cell(value, unit)


@bp.app_template_global("sees_figures")
def sees_figures(area: str) -> bool:
    """For pages: whether the signed-in person may open `area`'s figures."""
    return current_user.is_authenticated and access.sees_figures(current_user.role, area)


def _may_see(area: str) -> None:
    """403 unless the person sees this area's figures (access.sees_figures)."""
    if not access.sees_figures(current_user.role, area):
        abort(403)


@bp.get("/<area>")
@require()
def area(area: str):
    """Every figure and table of an area, each with how it is computed and its target."""
    if area not in AREAS:
        abort(404)
    _may_see(area)
    c = choice()
    if c.errors:
        return _page("figures/area.html", c, area=area)
    ev = _evaluator(c)
    cards = [ev.evaluate(f.key) for f in figures_home.area_figures(area)]
    tables = [(t, ev.rows(t.key)) for t in figures_home.area_tables(area)]
    return _page("figures/area.html", c, area=area, cards=cards, tables=tables)


def _cell(c: Choice) -> tuple[str, Result | None]:
    """The number asked for: a figure's (`figure`, `part` records|base) or a table
    cell's (`table`, `row`, `col`, from 0), as a title and its Result."""
    ev = _evaluator(c)
    key = request.args.get("figure", "")
    if key in FIGURES:
        fig = FIGURES[key]
        _may_see(fig.area)
        result = ev.result(key)
        title = _(fig.label)
        if request.args.get("part") == "base":
            return _("%(figure)s: all counted", figure=title), Result(
                result.denominator, result.denominator, None, result.base)
        return title, result
    key = request.args.get("table", "")
    if key in TABLES:
        _may_see(TABLES[key].area)
        row, col = request.args.get("row", ""), request.args.get("col", "")
        if not (row.isdigit() and col.isdigit()) or len(row) > 4 or len(col) > 4:
            return "", None
        rows, table = ev.rows(key), TABLES[key]
        if int(row) >= len(rows) or int(col) >= len(table.columns):
            return "", None
        found = rows[int(row)]
        label = _(found.label) if found.msgid else found.label
        return f"{_(table.label)} · {label} · {_(table.columns[int(col)])}", \
            found.cells[int(col)]
    return "", None


@bp.get("/records")
@require()
def records():
    """The records behind one number, a page at a time; the count on top is the number."""
    c = choice()
    if c.errors:
        return _page("figures/records.html", c, title="")
    title, result = _cell(c)
    if result is None or result.records is None:
        abort(404)
    # A page past any list is an empty page, never an offset SQLite cannot hold.
    number = min(record_id("page") or 1, 10**9)
    total, rows = figures_lists.page(get_db(), result.records, number)
    return _page("figures/records.html", c, title=title, kind=result.records.kind,
                 total=total, rows=rows, number=number, size=figures_lists.PAGE,
                 here={k: v for k, v in request.args.items() if k != "page"})


# -- Exports ----------------------------------------------------------------------------

def _plain(value: float | None, unit: str = "count") -> float | int | str:
    if value is None:
        return ""
    return int(value) if unit == "count" and float(value).is_integer() else value


def _scope_line(c: Choice) -> str:
    names = [e["name"] for e in estates.list_estates(get_db(), list(c.estate_ids))]
    return "、".join(names)


def _export(fmt: str, name: str, header: list[str], rows: list[list[Any]], sheet: str,
            formats: list[str | None] | None = None):
    filename = f"{name}.{fmt}"
    if fmt == "csv":
        return csv_response(header, rows, filename)
    return xlsx_response(header, rows, filename, sheet, formats or ())


def _export_choice(fmt: str) -> Choice:
    if fmt not in FORMATS:
        abort(404)
    c = choice()
    if c.errors:  # the error in words, never a file of nothing
        abort(make_response(render_template("error.html", status=c.status,
                                            message=" ".join(c.errors.values())), c.status))
    return c


def figure_rows(c: Choice, cards: list[figures.Evaluated]) -> list[list[Any]]:
    out, where = [], _scope_line(c)
    for e in cards:
        unit = e.figure.unit
        out.append([_(e.figure.label), _plain(e.result.value, unit),
                    _plain(e.result.numerator), _plain(e.result.denominator),
                    _plain(e.previous.value, unit), _plain(e.change, unit),
                    "" if e.target is None else e.target,
                    "" if e.meets is None else (_("Yes") if e.meets else _("No")),
                    c.period.key if c.period else "", where,
                    figure_text.unit_name(unit), e.figure.key])
    return out


@bp.get("/<area>/figures.<fmt>")
@require()
def area_export(area: str, fmt: str):
    """The area's figures as one table: value, counted, previous period, target."""
    if area not in AREAS:
        abort(404)
    _may_see(area)
    c = _export_choice(fmt)
    ev = _evaluator(c)
    cards = [ev.evaluate(f.key) for f in figures_home.area_figures(area)]
    header = [_("Figure"), _("Value"), _("Counted"), _("Out of"), _("Previous period"),
              _("Change"), _("Target"), _("Meets the target"), _("Period"), _("Estates"),
              _("Unit of measure"), _("Key")]
    assert c.period is not None
    return _export(fmt, f"figures-{area}-{c.period.key}", header, figure_rows(c, cards),
                   _(AREAS[area]))


@bp.get("/tables/<key>.<fmt>")
@require()
def table_export(key: str, fmt: str):
    """A breakdown table: its rows, one column per cell."""
    if key not in TABLES:
        abort(404)
    _may_see(TABLES[key].area)
    c = _export_choice(fmt)
    table = TABLES[key]
    # Each heading says its unit; the XLSX holds a percentage as a percentage cell.
    value = figure_text.plain if fmt == "csv" else figure_text.xlsx_value
    rows = [[_(r.label) if r.msgid else r.label,
             *(value(x.value, unit) for x, unit in zip(r.cells, table.units, strict=True))]
            for r in _evaluator(c).rows(key)]
    assert c.period is not None
    header = ["", *(figure_text.heading(col, unit) for col, unit in table.headings)]
    formats = [None, *(figure_text.XLSX_FORMATS.get(unit) for unit in table.units)]
    return _export(fmt, f"{key}-{c.period.key}", header, rows, _(table.label), formats)


@bp.app_template_global()
def figures_url(endpoint: str, c: Choice, **more: Any) -> str:
    """A figures page's URL keeping the estate and period chosen."""
    return url_for(endpoint, **c.args(**more))


# -- The old statistics pages, moved here ------------------------------------------------

def _month_as_period() -> dict[str, str]:
    month = request.args.get("month", "").strip()
    return {"period": month} if month else {}


def moved(area_key: str, export: bool = False):
    """Where an old statistics address goes now: its area's page (or export)."""
    _may_see(area_key)
    if export:
        return redirect(url_for("figures.area_export", area=area_key, fmt="csv",
                                **_month_as_period()))
    return redirect(url_for("figures.area", area=area_key, **_month_as_period()))
