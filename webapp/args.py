"""Query parameters list pages read, made safe once: an id that no record can have (not
a number, out of SQLite's range) reads as absent, so a page shows its default view
rather than failing."""

from __future__ import annotations

from flask import request


def record_id(name: str) -> int | None:
    """The query parameter as a record id (a positive 64-bit integer), else None."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value < 2**63 else None
