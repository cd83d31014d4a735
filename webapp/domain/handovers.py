"""Shift handovers (交接班): posts, the shared-items checklist, the window a handover
covers and what the app knows of it, and the reads of the log.

A handover covers the time since the previous handover of the same post and estate, or
the last `WINDOW_HOURS` hours when there is none. Times are naive UTC, stored as ISO
text (they compare as text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from . import complaints, deadlines, jobs
from .settings import estate_settings
from .text import N_

POSTS = {"desk": N_("Service desk"), "security": N_("Security post"),
         "plant_room": N_("Plant room")}
# Which posts a recording role hands over; the supervisor stands in for any of them.
POSTS_BY_ROLE: dict[str, tuple[str, ...]] = {
    "desk": ("desk",), "guard": ("security",), "technician": ("plant_room",),
    "supervisor": tuple(POSTS),
}
# Whose department's supervisor answers for a post (reminded of an unacknowledged handover).
POST_DEPARTMENTS = {"desk": "service", "security": "security", "plant_room": "maintenance"}
# The shared items checked at every handover (keys, radios, logbooks).
CHECKLIST = {"keys": N_("Keys"), "radios": N_("Radios"), "logbooks": N_("Logbooks"),
             "access_cards": N_("Access cards")}
ITEMS_MAX, ITEM_MAX = 20, 30  # an estate's own checklist: items, characters each
TEXT_FIELDS = ("happened", "cause", "actions", "result", "open_items", "instructions")
TEXT_MAX = 2000
WINDOW_HOURS = 12
LIST_SHOWN = 50
# What the app counts for a window, in the order the form and the PDF show them.
SUMMARY = {
    "jobs_opened": N_("Jobs opened"),
    "jobs_dispatched": N_("Jobs dispatched"),
    "jobs_overdue": N_("Jobs overdue"),
    "jobs_open": N_("Jobs still open"),
    "complaints_opened": N_("Complaints opened"),
    "complaints_open": N_("Complaints still open"),
    "feedback_received": N_("Feedback received"),
}


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def posts_for(role: str) -> tuple[str, ...]:
    """The posts a role hands over (none for a role that only reads)."""
    return POSTS_BY_ROLE.get(role, ())


def on_duty_roles(post: str) -> tuple[str, ...]:
    """The roles whose own post this is: the incoming shift is among their people (the
    supervisor, who stands in for any post, is not told of every handover)."""
    return tuple(r for r, posts in POSTS_BY_ROLE.items() if post in posts and r != "supervisor")


def checklist(db: Database, estate_id: int) -> list[tuple[str, str]]:
    """The estate's shared items as (key, label): its own list (labels as typed, keys
    `item1`...), else the default (`CHECKLIST`, labels to translate)."""
    own = [(f"item{r[0]}", r[1]) for r in db.execute(
        "SELECT position, label FROM handover_items WHERE estate_id = ? ORDER BY position",
        [estate_id])]
    return own or list(CHECKLIST.items())


def window_start(db: Database, estate_id: int, post: str, now: datetime) -> str:
    """Where the shift began: the previous handover of this post, else `WINDOW_HOURS`
    ago."""
    row = db.execute("SELECT max(recorded_at) FROM handovers WHERE estate_id = ? AND post = ?"
                     " AND recorded_at <= ?", [estate_id, post, iso(now)]).fetchone()
    return row[0] if row and row[0] else iso(now - timedelta(hours=WINDOW_HOURS))


def _count(db: Database, sql: str, params: list[Any]) -> int:
    return int(db.execute(sql, params).fetchone()[0])


def summary(db: Database, estate_id: int, start: str, now: datetime) -> dict[str, int]:
    """The estate's jobs, complaints and feedback of the window `start`..`now`: opened,
    dispatched and received in it; overdue and still open at its end."""
    end = iso(now)
    window = [estate_id, start, end]
    open_jobs = list(db.query(
        "SELECT status, received_at, agreed_at, reopened_at, arrived_at, dispatched_at,"
        f" completed_at, job_class FROM jobs WHERE estate_id = ? AND status IN"
        f" ({','.join('?' * len(jobs.OPEN_STATUSES))})",
        [estate_id, *jobs.OPEN_STATUSES]))
    rules = estate_settings(db, estate_id)
    # Overdue: a deadline not yet met has passed (one met late is history, not a task).
    overdue = sum(1 for j in open_jobs
                  if any(d.done_at is None and d.due < now
                         for d in deadlines.job_deadlines(j, rules, now)))
    marks = ",".join("?" * len(complaints.OPEN))
    return {
        "jobs_opened": _count(db, "SELECT count(*) FROM jobs WHERE estate_id = ?"
                              " AND received_at > ? AND received_at <= ?", window),
        "jobs_dispatched": _count(db, "SELECT count(*) FROM jobs WHERE estate_id = ?"
                                  " AND dispatched_at > ? AND dispatched_at <= ?", window),
        "jobs_overdue": overdue,
        "jobs_open": len(open_jobs),
        "complaints_opened": _count(db, "SELECT count(*) FROM complaints WHERE estate_id = ?"
                                    " AND received_at > ? AND received_at <= ?", window),
        "complaints_open": _count(db, "SELECT count(*) FROM complaints WHERE estate_id = ?"
                                  f" AND status IN ({marks})", [estate_id, *complaints.OPEN]),
        "feedback_received": _count(db, "SELECT count(*) FROM feedback WHERE estate_id = ?"
                                    " AND at > ? AND at <= ?", window),
    }


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    found = dict(row)
    found["summary"] = json.loads(found["summary"] or "{}")
    found["checklist"] = json.loads(found["checklist"] or "[]")
    return found


_SELECT = ("SELECT h.*, r.display_name AS recorded_name, a.display_name AS acknowledged_name,"
           " e.name AS estate_name FROM handovers h JOIN users r ON r.id = h.recorded_by"
           " LEFT JOIN users a ON a.id = h.acknowledged_by JOIN estates e ON e.id = h.estate_id")


def get(db: Database, handover_id: int) -> dict[str, Any] | None:
    row = next(iter(db.query(_SELECT + " WHERE h.id = ?", [handover_id])), None)
    return _row(row) if row else None


def listing(db: Database, estate_ids: Iterable[int], posts: Iterable[str], text: str = "",
            limit: int = LIST_SHOWN) -> list[dict[str, Any]]:
    """The log of these estates and posts: unacknowledged first, then newest first;
    with `text`, only those whose typed text holds it."""
    estates, wanted = list(estate_ids), list(posts)
    if not estates or not wanted:
        return []
    sql = (_SELECT + f" WHERE h.estate_id IN ({','.join('?' * len(estates))})"
           f" AND h.post IN ({','.join('?' * len(wanted))})")
    params: list[Any] = [*estates, *wanted]
    if text:
        # instr, not LIKE: what is typed is matched as typed (no % or _ wildcards).
        sql += " AND instr(h.search, ?) > 0"
        params.append(text.casefold())
    sql += " ORDER BY h.acknowledged_at IS NOT NULL, h.recorded_at DESC, h.id DESC LIMIT ?"
    return [_row(r) for r in db.query(sql, [*params, limit])]


def search_text(values: Mapping[str, Any], recorded_name: str) -> str:
    """What the log's search looks in: the typed text and who recorded it, casefolded."""
    return "\n".join([recorded_name, *(str(values[k]) for k in TEXT_FIELDS)]).casefold()


def visible_posts(user: Mapping[str, Any]) -> tuple[str, ...]:
    """The posts whose handovers a user sees: all for those who read every post
    (supervisors, managers), else the posts they hand over themselves."""
    from . import people

    return tuple(POSTS) if people.can(user, "handover.read_all") else posts_for(user["role"])
