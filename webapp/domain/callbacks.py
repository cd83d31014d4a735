"""Callbacks (回访): tasks after every handled job and complaint, who makes them, and
the records (docs/DOMAIN.md, "Callbacks")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from sync import Invalid

from . import workdays
from .settings import estate_settings
from .text import N_

KINDS = {"information": N_("Information callback"), "routine": N_("Routine callback")}
METHODS = {
    "phone": N_("Phone"),
    "sms": N_("SMS"),
    "email": N_("E-mail"),
    "visit": N_("Door to door"),
    "signature": N_("Signed on site"),
    "follow_up": N_("Complaint follow-up"),
}
DIMENSIONS = {
    "attitude": N_("Attitude"),
    "communication": N_("Communication"),
    "quality": N_("Quality of work"),
    "timeliness": N_("Timeliness"),
    "complaint_speed": N_("Speed of complaint handling"),
    "overall": N_("Overall satisfaction"),
}
SCALE = {
    5: N_("Very satisfied"),
    4: N_("Satisfied"),
    3: N_("Neutral"),
    2: N_("Dissatisfied"),
    1: N_("Very dissatisfied"),
}
STATUSES = {"open": N_("To do"), "done": N_("Done")}
# Who may take a task from a pool: the pool names a role or a department.
POOL_ROLES = {"manager": "manager", "callback": "callback"}


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def dimensions_for(source: str | None) -> list[str]:
    """The rating dimensions that fit what is being followed up."""
    if source == "complaint":
        return ["attitude", "communication", "complaint_speed", "overall"]
    if source == "job":
        return ["attitude", "quality", "timeliness", "overall"]
    return ["attitude", "communication", "quality", "overall"]


def deadlines(db: Database, estate_id: int, handled_at: datetime) -> tuple[datetime, datetime]:
    """(due, latest): within N hours of handling, never later than N working days."""
    s = estate_settings(db, estate_id)
    latest = workdays.end_of_working_days(
        handled_at, s["callback_max_working_days"], workdays.overrides(db, estate_id)
    )
    due = min(handled_at + timedelta(hours=s["callback_hours"]), latest)
    return due, latest


def assignment(settings: Mapping[str, int], received_by: int | None,
               major: bool) -> tuple[int | None, str | None]:
    """(assignee, pool) by the estate's policy; major complaints go to the manager level."""
    if major:
        return None, "manager"
    if settings["callback_policy"] == 0 and received_by:
        return received_by, None
    return None, "callback"


def on_handled(
    db: Database,
    *,
    estate_id: int,
    source: str,
    source_id: int,
    unit_id: int | None,
    contact_name: str,
    contact_phone: str,
    received_by: int | None,
    major: bool,
    handled_at: datetime,
    signature: Mapping[str, Any] | None = None,
) -> int:
    """Open the information callback for a handled job or complaint (same transaction).

    `signature`: the resident signed on site (its row: id, signer_name, image_sha256,
    the `user_id` who took it and the `ratings` given beside it). Where the estate
    counts that as the callback, the task is done with a record of it, sealed, linked to
    the signature."""
    s = estate_settings(db, estate_id)
    due, latest = deadlines(db, estate_id, handled_at)
    assignee, pool = assignment(s, received_by, major)
    done = signature is not None and bool(s["signature_counts_as_callback"]) and not major
    task_id = db.execute(
        """INSERT INTO callback_tasks (estate_id, kind, source, source_id, unit_id,
           contact_name, contact_phone, assignee_id, pool, method_hint, created_at, due_at,
           latest_at, status, done_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        [estate_id, "information", source, source_id, unit_id, contact_name, contact_phone,
         assignee, pool, "phone", iso(handled_at), iso(due), iso(latest),
         "done" if done else "open", iso(handled_at) if done else None],
    ).lastrowid
    assert task_id is not None
    if done and signature is not None:
        # docs/DOMAIN.md: a resident's signature on site may count as the callback, and the
        # ratings given beside it are the callback's.
        from . import records  # records reads this module's vocabularies

        task = get_task(db, task_id)
        assert task is not None
        ratings = dict(signature.get("ratings") or {})
        row = {"method": "signature", "reached": 1, "ratings": ratings,
               "satisfied": None if not ratings else int(bool(satisfied(ratings))),
               "comments": "", "signer_name": signature["signer_name"],
               "signature_sha256": signature["image_sha256"], "at": iso(handled_at),
               "user_id": signature.get("user_id")}
        record_id, _digest = records.add_callback(db, task, row,
                                                  f"signature-{source}-{source_id}-{task_id}")
        db.execute("UPDATE callback_records SET signature_id = ? WHERE id = ?",
                   [signature["id"], record_id])
    return task_id


def close_task(db: Database, task_id: int, at: str, user_id: int | None) -> None:
    """A callback made: the task is done (a pool's task becomes the caller's)."""
    db.execute("UPDATE callback_tasks SET status = 'done', done_at = ?, attempts = attempts + 1,"
               " assignee_id = coalesce(assignee_id, ?), version = version + 1 WHERE id = ?",
               [at, user_id, task_id])


def can_take(user: Mapping[str, Any], task: Mapping[str, Any]) -> bool:
    """The task is the user's, or in a pool the user belongs to."""
    if task["assignee_id"] is not None:
        return task["assignee_id"] == user["id"]
    pool = task["pool"]
    if pool in POOL_ROLES:
        return user["role"] == POOL_ROLES[pool]
    return user["department"] == pool


TASK_SELECT = """
SELECT t.*, u.number AS unit_number, b.name AS building_name, e.name AS estate_name,
       a.display_name AS assignee_name
FROM callback_tasks t
JOIN estates e ON e.id = t.estate_id
LEFT JOIN units u ON u.id = t.unit_id
LEFT JOIN buildings b ON b.id = u.building_id
LEFT JOIN users a ON a.id = t.assignee_id
"""


def get_task(db: Database, task_id: int) -> dict[str, Any] | None:
    return next(iter(db.query(TASK_SELECT + " WHERE t.id = ?", [task_id])), None)


def _due_filter(user: Mapping[str, Any], estate_ids: list[int],
                now: datetime) -> tuple[str, list[Any]]:
    """The WHERE clause of a clerk's list: open tasks of theirs and their pools', leaving
    out those waiting for their next try."""
    marks = ",".join("?" * len(estate_ids))
    pools = [p for p, role in POOL_ROLES.items() if role == user["role"]]
    pools.append(user["department"])
    pool_marks = ",".join("?" * len(pools))
    return (f""" WHERE t.estate_id IN ({marks}) AND t.status = 'open'
        AND (t.assignee_id = ? OR (t.assignee_id IS NULL AND t.pool IN ({pool_marks})))
        AND (t.next_try_at IS NULL OR t.next_try_at <= ?)""",
            [*estate_ids, user["id"], *pools, iso(now)])


def today(db: Database, user: Mapping[str, Any], estate_ids: list[int],
          now: datetime, limit: int = 100,
          after: tuple[str, int] | None = None) -> list[dict[str, Any]]:
    """A clerk's list, what is due first at the top, `limit` at a time; `after` (the due
    time and id of the last task shown) continues below it.

    Keyset, not offset: tasks done while the clerk works through the list leave it,
    and an offset would then jump over as many of the tasks not shown yet. The id
    breaks ties, as a routine plan gives a whole pool the same due time."""
    if not estate_ids:
        return []
    where, params = _due_filter(user, estate_ids, now)
    if after is not None:
        where += " AND (t.due_at, t.id) > (?, ?)"
        params += list(after)
    return list(db.query(TASK_SELECT + where + " ORDER BY t.due_at, t.id LIMIT ?",
                         [*params, limit]))


def due_count(db: Database, user: Mapping[str, Any], estate_ids: list[int],
              now: datetime) -> int:
    """How many tasks the clerk's whole list holds."""
    if not estate_ids:
        return 0
    where, params = _due_filter(user, estate_ids, now)
    return db.execute("SELECT count(*) FROM callback_tasks t" + where, params).fetchone()[0]


def saved_state(task: Mapping[str, Any], now: datetime) -> str | None:
    """What the list confirms after a callback of this task was sent: 'done', 'retry'
    (not reached; back on the list at `next_try_at`), or None while nothing saved shows
    on the task (it still waits in the phone's outbox)."""
    if task["status"] == "done":
        return "done"
    if task["next_try_at"] and task["next_try_at"] > iso(now):
        return "retry"
    return None


def records(db: Database, task_id: int) -> list[dict[str, Any]]:
    rows = list(db.query(
        "SELECT r.*, u.display_name FROM callback_records r LEFT JOIN users u "
        "ON u.id = r.user_id WHERE r.task_id = ? ORDER BY r.id", [task_id]))
    for r in rows:
        r["ratings"] = json.loads(r["ratings"] or "{}")
    return rows


def source_records(db: Database, source: str, source_id: int) -> list[dict[str, Any]]:
    """The information callbacks' records of a job or complaint, oldest first: what the
    customer information sheet's tracking and result rows report."""
    rows = list(db.query(
        "SELECT r.*, u.display_name FROM callback_records r JOIN callback_tasks t "
        "ON t.id = r.task_id LEFT JOIN users u ON u.id = r.user_id WHERE t.source = ? AND "
        "t.source_id = ? AND t.kind = 'information' ORDER BY r.at, r.id", [source, source_id]))
    for r in rows:
        r["ratings"] = json.loads(r["ratings"] or "{}")
    return rows


def record_hash(task: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    """SHA-256 of what the callback recorded (and a visited resident signed)."""
    content = {
        "task": task["id"], "source": task["source"], "source_id": task["source_id"],
        "unit_id": task["unit_id"], **{k: record.get(k) for k in (
            "method", "reached", "ratings", "comments", "signer_name", "signature_sha256",
            "at", "user_id")},
    }
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_ratings(p: Any, source: str | None) -> dict[str, int]:
    """The ratings a form or a queued command gives (`ratings`: a dict or its JSON), for
    the dimensions that fit `source`; a dimension left out is not rated."""
    raw = p.get("ratings") or {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = {}
    out = {}
    for dim in dimensions_for(source):
        value = raw.get(dim) if isinstance(raw, dict) else None
        if value in (None, ""):
            continue
        try:
            score = int(value)
        except (TypeError, ValueError):
            raise Invalid({f"rating_{dim}": N_("Choose a rating from 1 to 5.")}) from None
        if not 1 <= score <= 5:
            raise Invalid({f"rating_{dim}": N_("Choose a rating from 1 to 5.")})
        out[dim] = score
    return out


def satisfied(ratings: Mapping[str, int]) -> bool | None:
    """Satisfied when no dimension is rated below 'satisfied'; None without ratings."""
    if not ratings:
        return None
    return min(ratings.values()) >= 4
