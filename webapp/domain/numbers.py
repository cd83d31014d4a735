"""Record numbers people read and quote: a letter, the estates' local date, a sequence.

`J20261123-0001` is the first job received on 23 November, Beijing time: numbered by the
UTC date, a report taken just after midnight carried the day before, and the printed
sheet's number disagreed with its own received time.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from .workdays import local_date

# Which table each letter numbers.
TABLES = {"J": "jobs", "C": "complaints"}


def next_number(db: Database, letter: str, now: datetime) -> str:
    """The next number for `now` (naive UTC); called inside the write transaction."""
    day = local_date(now).strftime("%Y%m%d")
    prefix = f"{letter}{day}-"
    row = db.execute(f"SELECT number FROM {TABLES[letter]} WHERE number LIKE ? "
                     "ORDER BY number DESC LIMIT 1", [prefix + "%"]).fetchone()
    seq = int(row[0].rsplit("-", 1)[1]) + 1 if row else 1
    return f"{prefix}{seq:04d}"
