"""How a breakdown table's columns read, the same on the figures pages, in a report and
in the CSV and XLSX exports: each heading says its column's unit (按时率（%）, 到场中位数
（分钟）), so a cell holds the bare number; a count's heading names what is counted and
adds nothing.
"""

from __future__ import annotations

from flask_babel import gettext as _

from .domain.figures import UNIT_NAMES
from .i18n import paren

# The number format of an XLSX cell by unit: a percentage is written as a fraction and
# shown as one by the spreadsheet (0.833 → 83.3%), so sums and charts there work on it.
XLSX_FORMATS = {"percent": "0.0%", "minutes": "0", "per100": "0.00", "rating": "0.00"}


def unit_name(unit: str) -> str:
    """A unit as a heading names it: %, 分钟; a count's is empty."""
    return "%" if unit == "percent" else _(UNIT_NAMES[unit]) if unit in UNIT_NAMES else ""


def heading(column: str, unit: str) -> str:
    """A column's heading in the reader's language, its unit in brackets."""
    name = unit_name(unit)
    return _(column) + (str(paren(name)) if name else "")


def cell(value: float | None, unit: str) -> str:
    """A cell's number as printed under its heading: — for nothing counted."""
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.1f}"
    if unit in ("per100", "rating"):
        return f"{value:.2f}"
    if unit == "minutes":
        return f"{value:.0f}"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def plain(value: float | None, unit: str) -> float | int | str:
    """A cell as an export holds it: a number (a whole count as an integer), or empty."""
    if value is None:
        return ""
    return int(value) if unit == "count" and float(value).is_integer() else value


def xlsx_value(value: float | None, unit: str) -> float | int | str:
    """A cell as the XLSX holds it: a percentage as the fraction its format shows."""
    if value is None:
        return ""
    return value / 100 if unit == "percent" else plain(value, unit)
