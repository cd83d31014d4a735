"""The working-day calendar: weekdays work, an estate's holidays do not, and its
make-up working days (调休) on weekends do."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

# Estates keep local days; stored times are naive UTC.
LOCAL = ZoneInfo("Asia/Shanghai")


def overrides(db: Database, estate_id: int) -> dict[date, bool]:
    """The estate's calendar entries: day → working or not."""
    return {
        date.fromisoformat(r["day"]): bool(r["workday"])
        for r in db.query(
            "SELECT day, workday FROM estate_calendar WHERE estate_id = ?", [estate_id]
        )
    }


def is_workday(day: date, calendar: dict[date, bool]) -> bool:
    return calendar.get(day, day.weekday() < 5)


def end_of_working_days(start: datetime, n: int, calendar: dict[date, bool]) -> datetime:
    """The end (local midnight) of the n-th working day after `start`'s local day, in UTC."""
    local = start.replace(tzinfo=ZoneInfo("UTC")).astimezone(LOCAL).date()
    day, counted = local, 0
    while counted < n:
        day += timedelta(days=1)
        if is_workday(day, calendar):
            counted += 1
    end = datetime.combine(day + timedelta(days=1), time(0), LOCAL)
    return end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
