"""Calendar months for plans and reports: 'YYYY-MM' strings and their local bounds."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.fields import FIRST_YEAR, LAST_YEAR

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(month: str) -> tuple[int, int]:
    """'2026-11' -> (2026, 11); ValueError for anything else."""
    m = MONTH.match(month or "")
    # The kit's years (sync.fields): a month past them has no end a datetime can hold.
    if not m or not 1 <= int(m.group(2)) <= 12 or \
            not FIRST_YEAR <= int(m.group(1)) <= LAST_YEAR:
        raise ValueError(f"not a month: {month!r}")
    return int(m.group(1)), int(m.group(2))


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + n
    return index // 12, index % 12 + 1


def month_name(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def shift_month(month: str, n: int) -> str:
    return month_name(*_add_months(*parse_month(month), n))


def local_month(now: datetime, tz: tzinfo) -> str:
    """The calendar month that `now` (naive UTC) falls in, in the zone `tz`."""
    local = now.replace(tzinfo=UTC).astimezone(tz)
    return month_name(local.year, local.month)


def month_or_current(text: str, now: datetime, tz: tzinfo) -> str:
    """The month asked for ('2026-11'), or the current local one for anything else."""
    try:
        return month_name(*parse_month(text))
    except ValueError:
        return local_month(now, tz)


def month_window(month: str, tz: tzinfo) -> tuple[datetime, datetime]:
    """The month's first moment and the next month's first moment, as naive UTC."""
    year, mon = parse_month(month)
    ny, nm = _add_months(year, mon, 1)

    def utc(y: int, m: int) -> datetime:
        return datetime(y, m, 1, tzinfo=tz).astimezone(UTC).replace(tzinfo=None)

    return utc(year, mon), utc(ny, nm)


def zone(name: str | None) -> tzinfo:
    """An IANA zone by name (UTC when none is given); ValueError when unknown."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone: {name!r}") from None


def no_repeat_months(month: str, days: int) -> tuple[str, str]:
    """The first and last month whose start lies less than `days` days from this one's.

    A household sampled in any of these months is not sampled in `month`: with 365
    days, the eleven months before and after. Month starts are calendar dates, so
    the rule does not depend on the time zone or on when a plan was made.
    """
    year, mon = parse_month(month)
    start = date(year, mon, 1)

    def walk(step: int) -> str:
        y, m = year, mon
        while True:
            ny, nm = _add_months(y, m, step)
            if abs((date(ny, nm, 1) - start).days) >= days:
                return month_name(y, m)
            y, m = ny, nm

    return walk(-1), walk(1)
