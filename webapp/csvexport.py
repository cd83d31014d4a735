"""Every CSV the app sends: UTF-8 with a BOM (spreadsheet programs then read Chinese), and
no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and
# carriage return, strips them and then does): a place named "=HYPERLINK(...)" would run.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that would start a formula, prefixed with an apostrophe so it stays text.
    Numbers we computed are left as numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_response(header: Sequence[Any], rows: Iterable[Sequence[Any]],
                 filename: str) -> Response:
    """The rows as a CSV attachment; every cell goes through neutralise()."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow([neutralise(v) for v in header])
    w.writerows([neutralise(v) for v in row] for row in rows)
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
