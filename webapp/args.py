"""Ids the app reads from addresses, made safe once: an id that no record can have (not a
number, out of SQLite's range) reads as absent in a query parameter, so a page shows its
default view, and as no such page (404) in a path."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.routing import IntegerConverter, ValidationError

from sync.fields import MAX_ID


def record_id(name: str) -> int | None:
    """The query parameter as a record id (a positive 64-bit integer), else None."""
    value = request.args.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


class RecordIdConverter(IntegerConverter):
    """Every `<int:…>` of the URL map: a record id, 1 .. 2^63-1. Werkzeug's own reads any
    size, and SQLite cannot hold what it reads."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = 1,  # noqa: A002
                 max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> int:
        if len(value) > 19:  # int() refuses very long digit strings with an error
            raise ValidationError()
        return super().to_python(value)


def shown_rows(page: int, most: int) -> int:
    """How many rows a list shows: `shown`, sent by a live list (static/live.js) so the
    rows "show more" added stay when it is fetched again; at least a page, at most
    `most`."""
    return max(page, min(record_id("shown") or page, most))
