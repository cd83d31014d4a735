"""The working-day calendar: weekdays work, an estate's holidays do not, and its
make-up working days (调休) on weekends do."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

# Estates keep local days; stored times are naive UTC. The one time zone of the app:
# create_app refuses a configured display zone that differs from it.
LOCAL = ZoneInfo("Asia/Shanghai")


def local_date(at: datetime) -> date:
    """The estates' calendar day of a stored (naive UTC) time."""
    return at.replace(tzinfo=ZoneInfo("UTC")).astimezone(LOCAL).date()


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
    day, counted = local_date(start), 0
    while counted < n:
        day += timedelta(days=1)
        if is_workday(day, calendar):
            counted += 1
    end = datetime.combine(day + timedelta(days=1), time(0), LOCAL)
    return end.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def entries(db: Database, estate_id: int, year: int) -> list[dict]:
    """The estate's calendar entries for a year, in date order."""
    return list(db.query(
        "SELECT day, workday, name FROM estate_calendar WHERE estate_id = ? AND day LIKE ? "
        "ORDER BY day", [estate_id, f"{year}-%"]))


def calendar_command(db: Database, cmd, now: datetime) -> dict:  # noqa: ANN001 - sync.Handler
    """Handler for `estate.calendar`: add or remove a holiday or a make-up working day."""
    from sync import Invalid, fields

    from . import audit, people
    from .text import N_

    user = people.actor(db, cmd, "estate.settings")
    estate_id = fields.target_id(cmd.target, "target", N_("Unknown estate."))
    people.require_estate(db, user["id"], estate_id)
    p = cmd.payload
    day = fields.day(p.get("day"), "day", N_("Enter a date."))
    if p.get("remove"):
        db.execute("DELETE FROM estate_calendar WHERE estate_id = ? AND day = ?",
                   [estate_id, day.isoformat()])
    else:
        kind = p.get("kind")
        if kind not in ("holiday", "workday"):
            raise Invalid({"kind": N_("Choose a holiday or a make-up working day.")})
        name = str(p.get("name") or "").strip()[:50]
        db.execute(
            "INSERT INTO estate_calendar (estate_id, day, workday, name) VALUES (?,?,?,?) "
            "ON CONFLICT (estate_id, day) DO UPDATE SET workday = excluded.workday, "
            "name = excluded.name", [estate_id, day.isoformat(), int(kind == "workday"), name])
    audit.record(db, cmd, now, "calendar", "estate", estate_id, dict(p))
    return {"estate_id": estate_id, "day": day.isoformat()}
