"""Reporting periods: a month, a quarter, a year or a range of days, in local time.

Figures count what happened in [start, end) of local calendar days; the database
holds naive UTC, so `bounds()` gives the UTC instants to compare with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sync.fields import FIRST_YEAR, LAST_YEAR

from .workdays import LOCAL

KINDS = ("month", "quarter", "year", "range")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
# A range longer than this is refused: nobody reads figures over ten years, and the
# trend would be thousands of points.
MAX_RANGE_DAYS = 3660


def _month_start(year: int, month: int) -> date:
    index = year * 12 + month - 1
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str  # one of KINDS
    start: date  # first local day, inclusive
    end: date  # local day after the last, exclusive

    @property
    def key(self) -> str:
        """The period as typed in a URL ('2026-11', '2026-Q4', '2026', 'a..b')."""
        if self.kind == "month":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return f"{self.start.year:04d}"
        return f"{self.start.isoformat()}..{(self.end - timedelta(days=1)).isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def bounds(self, tz: tzinfo = LOCAL) -> tuple[str, str]:
        """[start, end) as naive UTC ISO strings, as the database stores times."""
        def utc(d: date) -> str:
            at = datetime.combine(d, time(0), tz).astimezone(UTC).replace(tzinfo=None)
            return at.isoformat(timespec="seconds")
        return utc(self.start), utc(self.end)

    def previous(self) -> Period:
        """The period of the same kind just before (a range: as many days before)."""
        if self.kind == "month":
            return month(_month_start(self.start.year, self.start.month - 1))
        if self.kind == "quarter":
            first = _month_start(self.start.year, self.start.month - 3)
            return Period("quarter", first, self.start)
        if self.kind == "year":
            return Period("year", date(self.start.year - 1, 1, 1), self.start)
        return Period("range", self.start - timedelta(days=self.days), self.start)

    def months(self) -> list[Period]:
        """The calendar months the period touches, each cut to the period."""
        out, cursor = [], self.start
        while cursor < self.end:
            nxt = _month_start(cursor.year, cursor.month + 1)
            end = min(nxt, self.end)
            whole = cursor.day == 1 and end == nxt
            out.append(month(cursor) if whole else Period("range", cursor, end))
            cursor = end
        return out


def month(day: date) -> Period:
    """The calendar month holding `day`."""
    first = day.replace(day=1)
    return Period("month", first, _month_start(first.year, first.month + 1))


def trailing_months(last: Period, count: int = 12) -> list[Period]:
    """`count` calendar months ending with the month `last` ends in, oldest first."""
    end_month = month(last.end - timedelta(days=1))
    out = [end_month]
    while len(out) < count:
        out.insert(0, out[0].previous())
    return out


def local_today(now: datetime, tz: tzinfo = LOCAL) -> date:
    return now.replace(tzinfo=UTC).astimezone(tz).date()


def parse(text: str | None, now: datetime, tz: tzinfo = LOCAL) -> Period:
    """A period from its key; the current local month when `text` is empty.

    ValueError (with the text) for anything that is not a period the figures can show.
    """
    text = (text or "").strip()
    if not text:
        return month(local_today(now, tz))
    if m := _MONTH.match(text):
        year, mon = int(m.group(1)), int(m.group(2))
        if 1 <= mon <= 12 and FIRST_YEAR <= year <= LAST_YEAR:
            return month(date(year, mon, 1))
    elif m := _QUARTER.match(text):
        year, q = int(m.group(1)), int(m.group(2))
        if FIRST_YEAR <= year <= LAST_YEAR:
            first = date(year, 3 * q - 2, 1)
            return Period("quarter", first, _month_start(year, 3 * q + 1))
    elif m := _YEAR.match(text):
        year = int(m.group(1))
        if FIRST_YEAR <= year <= LAST_YEAR:
            return Period("year", date(year, 1, 1), date(year + 1, 1, 1))
    elif m := _RANGE.match(text):
        try:
            start, last = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
        except ValueError:
            raise ValueError(f"not a period: {text!r}") from None
        if start <= last and (last - start).days < MAX_RANGE_DAYS \
                and FIRST_YEAR <= start.year and last.year <= LAST_YEAR:
            return Period("range", start, last + timedelta(days=1))
    raise ValueError(f"not a period: {text!r}")
