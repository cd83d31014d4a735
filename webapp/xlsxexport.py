"""Every XLSX the app sends (xlsxwriter): text stays text, numbers stay numbers.

xlsxwriter would write a string starting with "=" as a formula and one that looks like a
number or an address as such; here every string is written as a string, so a place
named "=HYPERLINK(...)" shows as typed and runs nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import xlsxwriter
from flask import Response

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(header: Sequence[Any], rows: Iterable[Sequence[Any]], sheet: str,
               formats: Sequence[str | None] = ()) -> bytes:
    """`formats`: a number format per column (None: the default), for its numbers."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_numbers": False, "strings_to_urls": False})
    # A sheet's name: at most 31 characters, none of []:*?/\
    ws = book.add_worksheet("".join(c for c in sheet if c not in "[]:*?/\\")[:31] or "Sheet1")
    bold = book.add_format({"bold": True})
    number_formats = [book.add_format({"num_format": f}) if f else None for f in formats]
    widths: list[int] = []
    for r, row in enumerate([header, *rows]):
        for c, value in enumerate(row):
            if isinstance(value, bool) or value is None:
                value = "" if value is None else str(value)
            if isinstance(value, int | float):
                ws.write_number(r, c, value,
                                number_formats[c] if c < len(number_formats) else None)
            else:
                ws.write_string(r, c, str(value), bold if r == 0 else None)
            width = len(str(value)) * (2 if not str(value).isascii() else 1) + 2
            widths.extend([0] * (c + 1 - len(widths)))
            widths[c] = max(widths[c], min(width, 60))
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    book.close()
    return out.getvalue()


def xlsx_response(header: Sequence[Any], rows: Iterable[Sequence[Any]], filename: str,
                  sheet: str, formats: Sequence[str | None] = ()) -> Response:
    response = Response(xlsx_bytes(header, rows, sheet, formats), mimetype=MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
