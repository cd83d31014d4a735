"""Reading notifications and their preferences: the bell's count, the page, opening one,
the job page's "notified" line, and `notify.prefs` (muted kinds, quiet hours)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Invalid, Rejected

from . import people
from .jobs import iso
from .notifications import MUTABLE, link
from .text import N_

UNREAD_CAP = 100  # the bell says 99+ past this; counting further costs and tells nothing


def unread_count(db: Database, user_id: int) -> int:
    return db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM notifications WHERE user_id = ? AND read_at"
        " IS NULL LIMIT ?)", [user_id, UNREAD_CAP]).fetchone()[0]


def page(db: Database, user_id: int, before: int | None, limit: int) -> list[dict[str, Any]]:
    """The user's notifications, newest first, `limit` at a time below id `before`."""
    return list(db.query(
        "SELECT n.id, n.read_at, n.opened_at, n.personal, n.created_at, a.kind, a.target,"
        " a.params, a.urgent FROM notifications n JOIN announcements a"
        " ON a.id = n.announcement_id WHERE n.user_id = ? AND n.id < ?"
        " ORDER BY n.id DESC LIMIT ?", [user_id, before or 2**63 - 1, limit]))


def open_one(db: Database, user_id: int, notification_id: int, now: datetime) -> str | None:
    """Mark one of the user's notifications read and opened; the record's path."""
    row = db.execute(
        "SELECT a.target, a.kind FROM notifications n JOIN announcements a"
        " ON a.id = n.announcement_id WHERE n.id = ? AND n.user_id = ?",
        [notification_id, user_id]).fetchone()
    if row is None:
        return None
    db.execute("UPDATE notifications SET read_at = coalesce(read_at, ?),"
               " opened_at = coalesce(opened_at, ?) WHERE id = ?",
               [iso(now), iso(now), notification_id])
    return link(row[0], row[1])


def unopened(db: Database, user_id: int, target: str) -> list[int]:
    """The user's notifications about a record not opened yet (read by the record's page,
    which marks them when there are any)."""
    return [r[0] for r in db.execute(
        "SELECT n.id FROM announcements a JOIN notifications n ON n.announcement_id = a.id"
        " AND n.user_id = ? WHERE a.target = ? AND n.opened_at IS NULL", [user_id, target])]


def mark_opened(db: Database, ids: list[int], now: datetime) -> None:
    marks = ",".join("?" * len(ids))
    db.execute(f"UPDATE notifications SET read_at = coalesce(read_at, ?), opened_at = ?"
               f" WHERE id IN ({marks})", [iso(now), iso(now), *ids])


def mark_all_read(db: Database, user_id: int, now: datetime) -> int:
    return db.execute("UPDATE notifications SET read_at = ? WHERE user_id = ?"
                      " AND read_at IS NULL", [iso(now), user_id]).rowcount


CHANNELS = {"push": N_("Phone notification"), "wecom": N_("WeCom group")}
DELIVERY_STATUSES = {"queued": N_("waiting to send"), "sent": N_("sent"),
                     "accepted": N_("delivered"), "failed": N_("failed")}


def told(db: Database, job: Mapping[str, Any], notify_due: datetime
         ) -> dict[str, Any] | None:
    """Whether the job reached the field within the notify deadline (`notify_due`:
    deadlines.job_deadlines' "notify", the one rule), measured at the first message that
    told someone it was theirs or their pool's; and, for its assignee now, when they were
    told, when they opened it and how each delivery went."""
    first = db.execute(
        "SELECT min(created_at) FROM announcements WHERE target = ? AND kind IN"
        " ('job.dispatched', 'job.reassigned', 'job.pooled')", [f"job:{job['id']}"]
    ).fetchone()[0]
    if first is None:
        return None
    row = db.execute(
        "SELECT n.id, n.created_at, n.opened_at FROM announcements a JOIN notifications n"
        " ON n.announcement_id = a.id AND n.user_id = ? WHERE a.target = ?"
        " AND a.kind IN ('job.dispatched', 'job.reassigned') ORDER BY n.id DESC LIMIT 1",
        [job.get("assignee_id"), f"job:{job['id']}"]).fetchone()
    deliveries = list(db.query(
        "SELECT channel, status, sent_at, error FROM deliveries WHERE notification_id = ?"
        " ORDER BY id", [row[0]])) if row else []
    return {"at": first, "opened_at": row[2] if row else None, "deliveries": deliveries,
            "met": datetime.fromisoformat(first) <= notify_due}


TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def prefs_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `notify.prefs`: the user's own muted kinds and quiet hours."""
    user = people.get_user(db, cmd.user_id)
    if user is None or not user["active"] or cmd.target != f"user:{cmd.user_id}":
        raise Rejected("forbidden", N_("You may change only your own settings."))
    p = cmd.payload
    muted = p.get("muted") or []
    if not isinstance(muted, list) or any(k not in MUTABLE for k in muted):
        raise Invalid({"muted": N_("Choose among the listed kinds.")})
    start, end = str(p.get("quiet_from") or ""), str(p.get("quiet_until") or "")
    errors = {}
    for key, value in (("quiet_from", start), ("quiet_until", end)):
        if value and not TIME.match(value):
            errors[key] = N_("Enter a time such as 22:00.")
    if bool(start) != bool(end):
        errors["quiet_until" if start else "quiet_from"] = N_(
            "Give both the start and the end of the quiet hours, or neither.")
    if errors:
        raise Invalid(errors)
    db.execute(
        "INSERT INTO notify_prefs (user_id, muted, quiet_from, quiet_until) VALUES (?,?,?,?)"
        " ON CONFLICT (user_id) DO UPDATE SET muted = excluded.muted,"
        " quiet_from = excluded.quiet_from, quiet_until = excluded.quiet_until",
        [cmd.user_id, json.dumps(sorted(set(muted))), start or None, end or None])
    return {"user_id": cmd.user_id}


HANDLERS = {"notify.prefs": prefs_command}
