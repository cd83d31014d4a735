"""The owners' committee (业主委员会) and residents' meetings: when the chair and the
members are next due a contact, when a written submission must be answered, when a
meeting's minutes must be published, and what is overdue.

Due dates follow the estate's settings (`committee_chair_contact_days`,
`committee_members_quarter_pct`, `committee_reply_working_days`, `meeting_minutes_days`)
and its working-day calendar (`workdays.py`); they are computed, never stored. Days are
the estates' local dates; a thing due on a day is overdue from the day after.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from . import settings, workdays
from .text import N_

ROLES = {"chair": N_("Chair"), "member": N_("Member")}
METHODS = {"visit": N_("In person"), "phone": N_("Phone"), "meeting": N_("Meeting"),
           "message": N_("Message or letter")}
KINDS = {"meeting": N_("Residents' meeting"), "activity": N_("Community activity")}
NAME_MAX, CONTACT_MAX, TITLE_MAX, TEXT_MAX = 40, 60, 80, 4000


def quarter(day: date) -> tuple[date, date]:
    """The first and last day of the calendar quarter holding `day`."""
    first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    nxt = date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def chair_due(since: date, last_contact: date | None, days: int) -> date:
    """The day the chair is next due a contact: `days` after the last one (or after
    they took office, when none yet)."""
    return (last_contact or since) + timedelta(days=days)


def members_required(count: int, pct: int) -> int:
    """How many of `count` members a quarter's contacts must reach (rounded up)."""
    return math.ceil(count * pct / 100)


def reply_due(received_on: date, working_days: int, calendar: dict[date, bool]) -> date:
    """The last day to reply to a submission received on `received_on`: the n-th working
    day after it on the estate's calendar (holidays skipped, make-up days counted)."""
    day, counted = received_on, 0
    while counted < working_days:
        day += timedelta(days=1)
        if workdays.is_workday(day, calendar):
            counted += 1
    return day


def minutes_due(held_on: date, days: int) -> date:
    return held_on + timedelta(days=days)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def members(db: Database, estate_id: int) -> list[dict[str, Any]]:
    """The estate's active members, chair first, each with their last contact day."""
    return [{**r, "since": _day(r["since"]), "last": _day(r["last"])} for r in db.query(
        "SELECT m.id, m.name, m.role, m.contact, m.since,"
        " (SELECT MAX(c.contacted_on) FROM committee_contacts c WHERE c.member_id = m.id)"
        " AS last FROM committee_members m WHERE m.estate_id = ? AND m.active"
        " ORDER BY m.role = 'member', m.name, m.id", [estate_id])]


def _contacted(db: Database, estate_id: int, first: date, last: date) -> set[int]:
    return {r[0] for r in db.execute(
        "SELECT DISTINCT c.member_id FROM committee_contacts c"
        " JOIN committee_members m ON m.id = c.member_id"
        " WHERE m.estate_id = ? AND m.role = 'member' AND c.contacted_on BETWEEN ? AND ?",
        [estate_id, first.isoformat(), last.isoformat()])}


def contacts_status(db: Database, estate_id: int, now: datetime) -> dict[str, Any]:
    """The chair's next due day (overdue or not), and this quarter's and last quarter's
    member contacts against the share required."""
    values = settings.estate_settings(db, estate_id)
    today = workdays.local_date(now)
    rows = members(db, estate_id)
    chairs = [{**m, "due": chair_due(m["since"], m["last"],
                                     values["committee_chair_contact_days"])}
              for m in rows if m["role"] == "chair"]
    for c in chairs:
        c["overdue"] = today > c["due"]
    quarters = []
    first, last = quarter(today)
    prev_first, prev_last = quarter(first - timedelta(days=1))
    for start, end in ((first, last), (prev_first, prev_last)):
        serving = [m for m in rows if m["role"] == "member" and m["since"] <= end]
        required = members_required(len(serving), values["committee_members_quarter_pct"])
        done = len(_contacted(db, estate_id, start, end) & {m["id"] for m in serving})
        quarters.append({"first": start, "last": end, "members": len(serving),
                         "required": required, "done": done,
                         "overdue": today > end and done < required})
    return {"chairs": chairs, "quarter": quarters[0], "previous": quarters[1],
            "members": rows}


def recent_contacts(db: Database, estate_id: int, limit: int = 20) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT c.id, c.contacted_on, c.method, c.topics, m.name, m.role"
        " FROM committee_contacts c JOIN committee_members m ON m.id = c.member_id"
        " WHERE m.estate_id = ? ORDER BY c.contacted_on DESC, c.id DESC LIMIT ?",
        [estate_id, limit]))


def submissions(db: Database, estate_id: int, now: datetime) -> list[dict[str, Any]]:
    """The estate's submissions, unanswered first, each with its reply deadline and
    whether it is overdue (unanswered past it, or answered after it)."""
    values = settings.estate_settings(db, estate_id)
    calendar = workdays.overrides(db, estate_id)
    today = workdays.local_date(now)
    out = []
    for r in db.query("SELECT * FROM committee_submissions WHERE estate_id = ?"
                      " ORDER BY replied_on IS NOT NULL, received_on, id", [estate_id]):
        due = reply_due(date.fromisoformat(r["received_on"]),
                        values["committee_reply_working_days"], calendar)
        replied = _day(r["replied_on"])
        out.append({**r, "due": due,
                    "overdue": (replied or today) > due})
    return out


def meetings(db: Database, estate_id: int, now: datetime) -> list[dict[str, Any]]:
    """Meetings and activities, latest first; a meeting's minutes' publication day and
    whether it is overdue (activities have no minutes to publish)."""
    days = settings.estate_settings(db, estate_id)["meeting_minutes_days"]
    today = workdays.local_date(now)
    out = []
    for r in db.query("SELECT * FROM committee_meetings WHERE estate_id = ?"
                      " ORDER BY held_on DESC, id DESC LIMIT 50", [estate_id]):
        due = minutes_due(date.fromisoformat(r["held_on"]), days)
        out.append({**r, "due": due if r["kind"] == "meeting" else None,
                    "overdue": r["kind"] == "meeting" and not r["published_on"]
                    and today > due})
    return out


def overdue(db: Database, estate_id: int, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """What is overdue in an estate: chairs not contacted, unanswered submissions, and
    meetings' unpublished minutes."""
    status = contacts_status(db, estate_id, now)
    return {"chairs": [c for c in status["chairs"] if c["overdue"]],
            "submissions": [s for s in submissions(db, estate_id, now)
                            if s["overdue"] and not s["replied_on"]],
            "meetings": [m for m in meetings(db, estate_id, now) if m["overdue"]]}


def get(db: Database, table: str, record_id: int) -> dict[str, Any] | None:
    """A submission or meeting row (`table` is one of this module's own)."""
    assert table in ("committee_submissions", "committee_meetings", "committee_members")
    rows = list(db.query(f"SELECT * FROM {table} WHERE id = ?", [record_id]))
    return rows[0] if rows else None


# What a reminder names, as the message says it (translated when it is read).
REMINDERS = {"chair": N_("Contact the committee's chair"),
             "quarter": N_("Contact committee members this quarter"),
             "reply": N_("Reply to the committee's submission"),
             "minutes": N_("Publish the meeting's minutes")}


def reminders(db: Database, estate_id: int, now: datetime) -> list[dict[str, Any]]:
    """The estate's committee work due within `committee_reminder_days` or overdue: what
    (a REMINDERS key), whose or which (a name or title), the due day, and a key that
    names it with its due day (a later due day reminds again)."""
    lead = settings.estate_settings(db, estate_id)["committee_reminder_days"]
    horizon = workdays.local_date(now) + timedelta(days=lead)
    status = contacts_status(db, estate_id, now)
    found = [{"item": "chair", "name": c["name"], "due": c["due"], "key": f"chair:{c['id']}"}
             for c in status["chairs"]]
    q = status["quarter"]
    if q["done"] < q["required"]:
        found.append({"item": "quarter", "name": f"{q['done']}/{q['required']}",
                      "due": q["last"], "key": "quarter"})
    found += [{"item": "reply", "name": s["title"], "due": s["due"],
               "key": f"submission:{s['id']}"}
              for s in submissions(db, estate_id, now) if not s["replied_on"]]
    found += [{"item": "minutes", "name": m["title"], "due": m["due"],
               "key": f"meeting:{m['id']}"}
              for m in meetings(db, estate_id, now) if m["due"] and not m["published_on"]]
    return [r for r in found if r["due"] <= horizon]
