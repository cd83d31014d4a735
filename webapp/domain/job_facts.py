"""What a job's history settles for the repairs figures, stored on the job.

The figures count tens of thousands of jobs per estate and year, so they read these
columns as SQL aggregates instead of computing deadlines for every job. Each fact is
worked out here, once, by `facts()` from the job, the visits its reopens ended
(`job_visits`), what its callbacks heard and the estate's settings, with
`deadlines.job_deadlines` (the one deadline rule). `settle()` writes them after every
step of a job (job_commands._done) and every callback record on one
(records.add_callback), with the board's next due time, from one read of the job and
its estate's settings; migration 0030 backfilled the jobs that existed before (with a
frozen copy of these rules).

The facts describe the job's first visit: the service the report asked for. A reopen
(rework) does not change whether that visit was on time; it is counted by the rework
facts instead. What the first completion settled is kept as it was then (with the
deadlines in force then), even if a setting changes later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from . import board, deadlines
from .settings import estate_settings, of_estates

# Settled by the first completion and kept from then on.
AT_COMPLETION = ("first_completed_at", "first_completed_by", "arrive_minutes",
                 "complete_minutes", "arrive_on_time", "on_time", "on_time_raw",
                 "first_trip_fix")
COLUMNS = ("first_arrived_at", *AT_COMPLETION, "notified_in_time", "reopened_after_minutes",
           "callback_answer")
# What the job's information callback heard: (an unsatisfied answer, reached the resident).
Heard = tuple[bool, bool]


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def facts(job: Mapping[str, Any], visits: Sequence[Mapping[str, Any]],
          first_arrived_at: str | None, heard: Heard, settings: Mapping[str, int],
          now: datetime) -> dict[str, Any]:
    """The job's facts (COLUMNS) from its row, its ended visits (in order), the first
    time anyone arrived on site for it and what its callbacks heard."""
    first = visits[0] if visits else job  # the first visit: the job itself until a reopen
    klass = job["job_class"]
    # An ended visit has no status of its own: it was completed, so arrived after any pause.
    base = {"received_at": job["received_at"], "job_class": klass,
            "dispatched_at": job["dispatched_at"], "reopened_at": None,
            "status": first.get("status")}
    # With the customer-caused pause: the clocks restart at the agreed time.
    notify, arrive, complete = deadlines.job_deadlines(
        {**base, "agreed_at": first["agreed_at"], "arrived_at": first["arrived_at"],
         "completed_at": first["completed_at"]}, settings, now)
    # Without it: counted from the report, to the first arrival.
    _, arrive_raw, complete_raw = deadlines.job_deadlines(
        {**base, "agreed_at": None, "arrived_at": first_arrived_at,
         "completed_at": first["completed_at"]}, settings, now)
    out: dict[str, Any] = dict.fromkeys(COLUMNS)
    out["first_arrived_at"] = first_arrived_at
    if notify.done_at is not None:
        out["notified_in_time"] = int(notify.met)
    # The clock's start, read back from the deadline so the restart rule stays there.
    start = arrive.due - deadlines.arrive_window(klass, settings)
    # Early for the agreed time is no time at all: 0 minutes, not a negative one that
    # would pull the percentiles below the jobs that waited.
    if arrive.done_at is not None:
        out["arrive_minutes"] = max(0.0, _minutes(arrive.done_at, start))
        out["arrive_on_time"] = int(arrive.met)
    if complete.done_at is not None:
        out["first_completed_at"] = first["completed_at"]
        out["first_completed_by"] = first["assignee_id"]
        out["complete_minutes"] = max(0.0, _minutes(complete.done_at, start))
        out["on_time"] = int(arrive.met and complete.met)
        out["on_time_raw"] = int(arrive_raw.met and complete_raw.met)
        # One trip: nobody had to come back after a pause (the last arrival of the
        # visit is the first one).
        out["first_trip_fix"] = int(first_arrived_at is not None
                                    and first_arrived_at == first["arrived_at"])
    gaps = [_minutes(r, c) for v in visits
            if (r := _parse(v["reopened_at"])) and (c := _parse(v["completed_at"]))]
    out["reopened_after_minutes"] = min(gaps) if gaps else None
    # 0: someone was unsatisfied; 1: a rated answer reached the resident, nobody
    # unsatisfied; None: no rated answer yet (an answer with no ratings is left out, as
    # the estate's satisfaction leaves it out).
    unsatisfied, reached = heard
    out["callback_answer"] = 0 if unsatisfied else 1 if reached else None
    return out


HEARD = ("SELECT t.source_id, max(r.satisfied = 0), max(r.reached = 1 AND r.satisfied IS NOT"
         " NULL) FROM callback_tasks t JOIN callback_records r ON r.task_id = t.id"
         " WHERE t.source = 'job'")


def _heard(db: Database, job_id: int) -> Heard:
    row = db.execute(f"{HEARD} AND t.source_id = ?", [job_id]).fetchone()
    return bool(row[1]), bool(row[2])


def _visits(db: Database, job_id: int) -> list[dict[str, Any]]:
    cursor = db.execute("SELECT * FROM job_visits WHERE job_id = ? ORDER BY visit", [job_id])
    keys = [d[0] for d in cursor.description]
    return [dict(zip(keys, row, strict=True)) for row in cursor]


def first_arrival(db: Database, job: Mapping[str, Any],
                  visits: Sequence[Mapping[str, Any]]) -> str | None:
    """When someone first arrived on site: the stored fact, else the first visit's
    arrival when no pause could have made a second one, else the audit log's first
    arrive step (when done, as the job's times are stamped)."""
    if job.get("first_arrived_at"):
        return job["first_arrived_at"]
    first = visits[0] if visits else job
    if first["agreed_at"] is None or first["arrived_at"] is None:
        return first["arrived_at"]
    found = db.execute(
        "SELECT min(coalesce(c.acted_at, a.at)) FROM audit_log a"
        " LEFT JOIN commands c ON c.op_id = a.op_id"
        " WHERE a.entity = 'job' AND a.entity_id = ? AND a.action = 'arrive'",
        [job["id"]]).fetchone()[0]
    return min(found, first["arrived_at"]) if found else first["arrived_at"]


def _worked_out(db: Database, job_id: int, now: datetime
                ) -> tuple[dict[str, Any], Mapping[str, int], dict[str, Any]]:
    """The job as stored, its estate's settings and the facts its history gives now: what
    settle and resettle both write from (each its own columns)."""
    cursor = db.execute("SELECT * FROM jobs WHERE id = ?", [job_id])
    keys = [d[0] for d in cursor.description]
    job = dict(zip(keys, cursor.fetchone(), strict=True))
    rules = estate_settings(db, job["estate_id"])
    visits = _visits(db, job_id)
    return job, rules, facts(job, visits, first_arrival(db, job, visits),
                             _heard(db, job_id), rules, now)


def settle(db: Database, job_id: int, now: datetime) -> dict[str, Any]:
    """Everything a job's step settles, in one read of the job and its estate's settings
    and one write: the figures' facts (what the first completion settled stays; the first
    arrival and the notification are set once) and the board's next due time
    (board.next_due_of). Called once per step (job_commands._done) and per callback
    record on the job (records.add_callback). Returns the job as the step left it."""
    job, rules, found = _worked_out(db, job_id, now)
    sets = [f"{c} = CASE WHEN first_completed_at IS NULL THEN ? ELSE {c} END"
            for c in AT_COMPLETION]
    sets += ["first_arrived_at = coalesce(first_arrived_at, ?)",
             "notified_in_time = coalesce(notified_in_time, ?)", "reopened_after_minutes = ?",
             "callback_answer = ?", "next_due_at = ?", "next_due_name = ?"]
    # first_completed_at is both read (old value) and set in the same UPDATE: SQLite
    # evaluates every CASE against the row as it was.
    db.execute(f"UPDATE jobs SET {', '.join(sets)} WHERE id = ?",
               [*(found[c] for c in AT_COMPLETION), found["first_arrived_at"],
                found["notified_in_time"], found["reopened_after_minutes"],
                found["callback_answer"], *board.next_due_of(job, rules, now), job_id])
    return job  # as the step left it (its status and version): the facts are not read back


def resettle(db: Database, job_ids: Sequence[int], now: datetime) -> None:
    """Work out these jobs' facts again from their history, what their first completion
    settled too, and their next due time: for a rule corrected since (migration 0038's
    early arrivals)."""
    for job_id in job_ids:
        job, rules, found = _worked_out(db, job_id, now)
        db.execute(f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in COLUMNS)},"
                   " next_due_at = ?, next_due_name = ? WHERE id = ?",
                   [*(found[c] for c in COLUMNS), *board.next_due_of(job, rules, now), job_id])


def backfill(db: Database, now: datetime) -> int:
    """Every job's facts from its history (the migration that added them): the same
    `facts()`, with the history read in bulk."""
    by_job: dict[int, list[dict[str, Any]]] = {}
    cursor = db.execute("SELECT * FROM job_visits ORDER BY job_id, visit")
    keys = [d[0] for d in cursor.description]
    for row in cursor:
        v = dict(zip(keys, row, strict=True))
        by_job.setdefault(v["job_id"], []).append(v)
    heard = {job: (bool(unhappy), bool(reached))
             for job, unhappy, reached in db.execute(f"{HEARD} GROUP BY t.source_id")}
    settings = of_estates(db, (e for (e,) in db.execute("SELECT id FROM estates")))
    done, last = 0, 0
    while True:  # in slices of ids: a million jobs' rows at once would not fit
        cursor = db.execute(
            "SELECT id, estate_id, status, job_class, received_at, dispatched_at, agreed_at,"
            " arrived_at, completed_at, assignee_id, first_arrived_at FROM jobs"
            " WHERE id > ? ORDER BY id LIMIT 20000", [last])
        keys = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        if not rows:
            return done
        updates = []
        for row in rows:
            job = dict(zip(keys, row, strict=True))
            visits = by_job.get(job["id"], [])
            found = facts(job, visits, first_arrival(db, job, visits),
                          heard.get(job["id"], (False, False)), settings[job["estate_id"]],
                          now)
            updates.append([*(found[c] for c in COLUMNS), job["id"]])
        db.conn.executemany(
            f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in COLUMNS)} WHERE id = ?", updates)
        done, last = done + len(rows), rows[-1][0]
