"""The periodic scan (the worker's tick, `flask notify-scan`): deadline warnings (about to
pass, passed), callbacks due today and overdue, complaints a month unresolved, owners'
committee work falling due, shift handovers not acknowledged in time; each told once
(announcements' dedupe), through notifications.announce."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlite_utils import Database

from . import committee, handovers, people
from .deadlines import job_deadlines
from .jobs import CLASSES, iso
from .notifications import _local, announce, complaint_major, handover_params, job_params
from .settings import estate_settings
from .transactions import write_tx
from .workdays import LOCAL, local_date

# A deadline passed longer ago than this is not news when the scan first sees it (the
# worker was stopped): the board shows it; a message now would only be noise.
SCAN_CATCH_UP = timedelta(hours=2)
OPEN_JOBS = ("new", "pooled", "assigned", "accepted", "arrived", "paused")
# A handover's reminder hour passed longer ago than this is not news: one sent from a
# phone's outbox up to a day late is still reminded of, the log shows the rest.
HANDOVER_CATCH_UP = timedelta(days=1)
CLOCK_START = "max(received_at, coalesce(agreed_at, ''), coalesce(reopened_at, ''))"


JOB_COLUMNS = ("id", "status", "assignee_id", "received_at", "agreed_at", "reopened_at",
               "arrived_at", "dispatched_at", "completed_at")


def scan_query() -> str:
    """Open jobs of an estate and class whose clocks started in a range: a range of the
    partial index jobs_open_clock (migration 0016), which holds every column read."""
    # The statuses as written in the index's WHERE (migration 0016): a partial index is
    # used only when the query's terms imply it, and bound parameters do not.
    statuses = ", ".join(f"'{s}'" for s in OPEN_JOBS)
    # INDEXED BY: without statistics the planner prefers the board's index, which
    # holds closed jobs too and not the columns read.
    return (f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs INDEXED BY jobs_open_clock"
            f" WHERE status IN ({statuses})"
            f" AND estate_id = ? AND job_class = ? AND {CLOCK_START} > ?"
            f" AND {CLOCK_START} <= ?")


def scan_params(estate_id: int, job_class: str, low: datetime, high: datetime) -> list[Any]:
    return [estate_id, job_class, iso(low), iso(high)]


DEADLINE_AT = {"notify": 0, "arrive": 1, "complete": 2}  # in job_deadlines' list


def _job_warnings(db: Database, estate_id: int, settings: Mapping[str, int],
                  now: datetime) -> int:
    lead = timedelta(minutes=settings["deadline_warning_minutes"])
    made = 0
    for job_class in CLASSES:
        # The desk's own deadline (notify the field within minutes of a report) is told
        # once passed: its whole window is shorter than the warning's lead.
        for name in ("notify", "arrive", "complete"):
            at = DEADLINE_AT[name]
            # A throwaway job of this class gives the window: the one deadline function.
            start = datetime(2000, 1, 1)
            window = job_deadlines({"received_at": start, "job_class": job_class},
                                   settings, now)[at].due - start
            # Deadlines due from the catch-up's start to the lead time ahead.
            rows = db.execute(scan_query(), scan_params(
                estate_id, job_class, now - SCAN_CATCH_UP - window, now + lead - window))
            for r in rows.fetchall():
                job = dict(zip(JOB_COLUMNS, r, strict=True))
                job["job_class"] = job_class
                d = job_deadlines(job, settings, now)[at]
                if d.done_at is not None or d.due <= now - SCAN_CATCH_UP:
                    continue
                if name == "notify" and d.due > now:
                    continue
                kind = f"job.{name}_{'passed' if d.due <= now else 'soon'}"
                # The deadline is in the key: a clock restarted (a pause) warns again.
                dedupe = f"{kind}:{job['id']}:{iso(d.due)}"
                if db.execute("SELECT 1 FROM announcements WHERE dedupe = ?",
                              [dedupe]).fetchone():
                    continue
                params = job_params(db, job["id"])
                params["due"] = _local(d.due)
                department = db.execute("SELECT department FROM jobs WHERE id = ?",
                                        [job["id"]]).fetchone()[0]
                announce(db, kind, target=f"job:{job['id']}", estate_id=estate_id,
                         params=params, now=now, dedupe=dedupe, department=department,
                         users=[job["assignee_id"]])
                made += 1
    return made


def _callback_warnings(db: Database, estate_id: int, now: datetime) -> int:
    """Open callbacks due later today, and those just overdue, to their assignee or pool:
    one message per person or pool and due time (a routine plan gives a pool many tasks
    due at once)."""
    today = local_date(now)
    day_end = datetime.combine(today + timedelta(days=1), time(0), LOCAL) \
        .astimezone(UTC).replace(tzinfo=None)
    made = 0
    for kind, low, high in (("callback.overdue", now - SCAN_CATCH_UP, now),
                            ("callback.due_today", now, day_end)):
        groups: dict[tuple[int | None, str | None], list[tuple[int, str]]] = {}
        for tid, due, assignee, pool in db.execute(
                "SELECT id, due_at, assignee_id, pool FROM callback_tasks WHERE estate_id = ?"
                " AND status = 'open' AND due_at > ? AND due_at <= ? ORDER BY due_at, id",
                [estate_id, iso(low), iso(high)]):
            groups.setdefault((assignee, None if assignee else pool), []).append((tid, due))
        for (assignee, pool), tasks in groups.items():
            who = f"user:{assignee}" if assignee else f"pool:{pool}"
            first_due = datetime.fromisoformat(tasks[0][1])
            # Overdue: once per due time; due today: once per day.
            when = tasks[0][1] if kind == "callback.overdue" else today.isoformat()
            target = f"callback:{tasks[0][0]}" if len(tasks) == 1 else "callbacks"
            if announce(db, kind, target=target, estate_id=estate_id,
                        params={"count": len(tasks), "due": _local(first_due)}, now=now,
                        dedupe=f"{kind}:{estate_id}:{who}:{when}",
                        users=[assignee] if assignee else [], pool=pool,
                        department=pool if pool in people.DEPARTMENTS else None):
                made += 1
    return made


def _complaints_turned_major(db: Database, estate_id: int, settings: Mapping[str, int],
                             now: datetime) -> int:
    cutoff = iso(now - timedelta(days=settings["complaint_major_after_days"]))
    made = 0
    for (cid,) in db.execute(
            "SELECT id FROM complaints WHERE status IN"
            " ('new', 'verified', 'escalated', 'dispatched', 'answered') AND level != 'major'"
            " AND estate_id = ? AND received_at <= ?", [estate_id, cutoff]).fetchall():
        if not db.execute("SELECT 1 FROM announcements WHERE dedupe = ?",
                          [f"complaint.major:{cid}"]).fetchone():
            complaint_major(db, cid, now)
            made += 1
    return made


def _committee_reminders(db: Database, estate_id: int, now: datetime) -> int:
    """Owners' committee work due within the estate's lead or overdue, to its desk and
    managers: once per item and due day."""
    made = 0
    for r in committee.reminders(db, estate_id, now):
        if announce(db, "committee.due", target=f"committee:{estate_id}",
                    estate_id=estate_id, now=now,
                    params={"item": committee.REMINDERS[r["item"]], "name": r["name"],
                            "due": r["due"].isoformat()},
                    dedupe=f"committee.due:{estate_id}:{r['key']}:{r['due'].isoformat()}"):
            made += 1
    return made


def _handover_reminders(db: Database, estate_id: int, settings: Mapping[str, int],
                        now: datetime) -> int:
    """Handovers still unacknowledged `handover_reminder_hours` after they were recorded,
    to the post's supervisors: once each (recorded_at is when the person handed over, so
    one that arrives late from a phone is reminded of at the next scan)."""
    due = now - timedelta(hours=settings["handover_reminder_hours"])
    made = 0
    for (handover_id,) in db.execute(
            "SELECT h.id FROM handovers h WHERE h.estate_id = ? AND h.acknowledged_at IS NULL"
            " AND h.recorded_at > ? AND h.recorded_at <= ? AND NOT EXISTS (SELECT 1 FROM"
            " announcements a WHERE a.dedupe = 'handover.unacknowledged:' || h.id)"
            " ORDER BY h.recorded_at, h.id",
            [estate_id, iso(due - HANDOVER_CATCH_UP), iso(due)]).fetchall():
        handover = handovers.get(db, handover_id)
        assert handover is not None
        if announce(db, "handover.unacknowledged", target=f"handover:{handover_id}",
                    estate_id=estate_id, params=handover_params(handover), now=now,
                    dedupe=f"handover.unacknowledged:{handover_id}",
                    department=handovers.POST_DEPARTMENTS[handover["post"]]):
            made += 1
    return made


def scan(db: Database, now: datetime) -> int:
    """Deadline warnings (about to pass, passed), callbacks due today and overdue,
    complaints a month unresolved, committee work and handovers not acknowledged: each
    told once. Returns the announcements made."""
    made = 0
    for (estate_id,) in db.execute("SELECT id FROM estates ORDER BY id").fetchall():
        settings = estate_settings(db, estate_id)
        with write_tx(db):  # one short write transaction per estate
            made += _job_warnings(db, estate_id, settings, now)
            made += _callback_warnings(db, estate_id, now)
            made += _complaints_turned_major(db, estate_id, settings, now)
            made += _committee_reminders(db, estate_id, now)
            made += _handover_reminders(db, estate_id, settings, now)
    return made
