"""The repairs figures' per-job facts (domain/job_facts.py), settled by the job's steps
and backfilled here from each job's history, so the figures are SQL aggregates.

The backfill is a frozen copy of the rules as they stood when this step was written
(domain/job_facts.facts, deadlines.job_deadlines, the deadline settings' defaults): a
later change to the domain must not change what an old migration does. Migration 0034
reuses its deadlines (`deadlines_of`, `estate_rules`).
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from . import migrations


def _run(db: Database, script: str) -> None:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            db.execute(statement)


@migrations(name="0030_figures_job_facts")
def figures_job_facts(db: Database) -> None:
    # Statement by statement: executescript would commit the migration's transaction
    # before the backfill.
    _run(db, """
        ALTER TABLE jobs ADD COLUMN first_arrived_at TEXT;
        ALTER TABLE jobs ADD COLUMN first_completed_at TEXT;
        ALTER TABLE jobs ADD COLUMN first_completed_by INTEGER REFERENCES users(id);
        ALTER TABLE jobs ADD COLUMN arrive_minutes REAL;
        ALTER TABLE jobs ADD COLUMN complete_minutes REAL;
        ALTER TABLE jobs ADD COLUMN arrive_on_time INTEGER;
        ALTER TABLE jobs ADD COLUMN on_time INTEGER;
        ALTER TABLE jobs ADD COLUMN on_time_raw INTEGER;
        ALTER TABLE jobs ADD COLUMN first_trip_fix INTEGER;
        ALTER TABLE jobs ADD COLUMN notified_in_time INTEGER;
        ALTER TABLE jobs ADD COLUMN reopened_after_minutes REAL;
        ALTER TABLE jobs ADD COLUMN callback_answer INTEGER;
        """)
    _backfill(db)
    # After the backfill: its updates then touch no index of these columns.
    _run(db, """
        -- The figures read jobs received in a period or first completed in one, by
        -- estate, from these indexes alone (a large estate's year is 20,000 jobs:
        -- reading each row from the table would cost a page each).
        CREATE INDEX jobs_received_facts ON jobs(estate_id, received_at, status,
            job_class, notified_in_time, arrive_on_time, agreed_at, category, source,
            unit_id, rework_count);
        CREATE INDEX jobs_done_facts ON jobs(estate_id, first_completed_at, status,
            job_class, on_time, on_time_raw, first_trip_fix, reopened_after_minutes,
            arrive_minutes, complete_minutes, first_completed_by, callback_answer, category,
            source, unit_id) WHERE first_completed_at IS NOT NULL;
        """)


# Frozen: the deadline settings and their defaults when this step was written.
DEFAULTS = {"notify_minutes": 5, "arrive_emergency_minutes": 15, "arrive_ordinary_minutes": 30,
            "complete_emergency_hours": 24, "complete_small_hours": 24,
            "complete_medium_days": 3}
COLUMNS = ("first_arrived_at", "first_completed_at", "first_completed_by", "arrive_minutes",
           "complete_minutes", "arrive_on_time", "on_time", "on_time_raw", "first_trip_fix",
           "notified_in_time", "reopened_after_minutes", "callback_answer")
# A deadline: (name, due, done_at or None).
Due = tuple[str, datetime, datetime | None]


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _met(d: Due) -> bool:
    return d[2] is not None and d[2] <= d[1]


def estate_rules(db: Database) -> dict[int, dict[str, int]]:
    """Each estate's deadline settings: the stored values over the defaults."""
    rules = {e: dict(DEFAULTS) for (e,) in db.execute("SELECT id FROM estates")}
    for estate, key, value in db.execute("SELECT estate_id, key, value FROM estate_settings"):
        if key in DEFAULTS and estate in rules:
            rules[estate][key] = int(value)
    return rules


def _arrive_window(klass: str, rules: Mapping[str, int]) -> timedelta:
    key = "arrive_emergency_minutes" if klass == "emergency" else "arrive_ordinary_minutes"
    return timedelta(minutes=rules[key])


def deadlines_of(job: Mapping[str, Any], rules: Mapping[str, int]) -> list[Due]:
    """The notify, arrive and complete deadlines; the arrive and complete clocks restart
    at an agreed time or a reopen (an arrival before the restart does not count)."""
    received = _dt(job["received_at"])
    assert received is not None
    agreed, reopened = _dt(job.get("agreed_at")), _dt(job.get("reopened_at"))
    restarted = agreed is not None or reopened is not None
    start = max(t for t in (received, agreed, reopened) if t is not None)
    arrived = _dt(job.get("arrived_at"))
    if arrived is not None and arrived < start and restarted:
        arrived = None
    klass = job["job_class"]
    complete = (timedelta(hours=rules["complete_emergency_hours"]) if klass == "emergency"
                else timedelta(days=rules["complete_medium_days"]) if klass == "medium"
                else timedelta(hours=rules["complete_small_hours"]))
    return [("notify", received + timedelta(minutes=rules["notify_minutes"]),
             _dt(job.get("dispatched_at"))),
            ("arrive", start + _arrive_window(klass, rules), arrived),
            ("complete", start + complete, _dt(job.get("completed_at")))]


def _minutes(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 60


def _facts(job: dict[str, Any], visits: list[dict[str, Any]], first_arrived_at: str | None,
           heard: tuple[bool, bool], rules: Mapping[str, int]) -> dict[str, Any]:
    first = visits[0] if visits else job  # the first visit: the job itself until a reopen
    base = {"received_at": job["received_at"], "job_class": job["job_class"],
            "dispatched_at": job["dispatched_at"], "reopened_at": None}
    notify, arrive, complete = deadlines_of(
        {**base, "agreed_at": first["agreed_at"], "arrived_at": first["arrived_at"],
         "completed_at": first["completed_at"]}, rules)
    _, arrive_raw, complete_raw = deadlines_of(
        {**base, "agreed_at": None, "arrived_at": first_arrived_at,
         "completed_at": first["completed_at"]}, rules)
    out: dict[str, Any] = dict.fromkeys(COLUMNS)
    out["first_arrived_at"] = first_arrived_at
    if notify[2] is not None:
        out["notified_in_time"] = int(_met(notify))
    start = arrive[1] - _arrive_window(job["job_class"], rules)
    if arrive[2] is not None:
        out["arrive_minutes"] = _minutes(arrive[2], start)
        out["arrive_on_time"] = int(_met(arrive))
    if complete[2] is not None:
        out["first_completed_at"] = first["completed_at"]
        out["first_completed_by"] = first["assignee_id"]
        out["complete_minutes"] = _minutes(complete[2], start)
        out["on_time"] = int(_met(arrive) and _met(complete))
        out["on_time_raw"] = int(_met(arrive_raw) and _met(complete_raw))
        out["first_trip_fix"] = int(first_arrived_at is not None
                                    and first_arrived_at == first["arrived_at"])
    gaps = [_minutes(r, c) for v in visits
            if (r := _dt(v["reopened_at"])) and (c := _dt(v["completed_at"]))]
    out["reopened_after_minutes"] = min(gaps) if gaps else None
    unsatisfied, reached = heard
    out["callback_answer"] = 0 if unsatisfied else 1 if reached else None
    return out


def _first_arrival(db: Database, job: dict[str, Any], first: dict[str, Any]) -> str | None:
    """The first visit's arrival when no pause could have made a second one, else the
    audit log's first arrive step (when done)."""
    if first["agreed_at"] is None or first["arrived_at"] is None:
        return first["arrived_at"]
    found = db.execute(
        "SELECT min(coalesce(c.acted_at, a.at)) FROM audit_log a"
        " LEFT JOIN commands c ON c.op_id = a.op_id"
        " WHERE a.entity = 'job' AND a.entity_id = ? AND a.action = 'arrive'",
        [job["id"]]).fetchone()[0]
    return min(found, first["arrived_at"]) if found else first["arrived_at"]


def _backfill(db: Database) -> None:
    """Every job's facts from its history, read in bulk, written in slices of ids."""
    by_job: dict[int, list[dict[str, Any]]] = {}
    cursor = db.execute("SELECT * FROM job_visits ORDER BY job_id, visit")
    keys = [d[0] for d in cursor.description]
    for row in cursor:
        v = dict(zip(keys, row, strict=True))
        by_job.setdefault(v["job_id"], []).append(v)
    heard = {job: (bool(unhappy), bool(reached)) for job, unhappy, reached in db.execute(
        "SELECT t.source_id, max(r.satisfied = 0), max(r.reached = 1 AND r.satisfied IS NOT"
        " NULL) FROM callback_tasks t JOIN callback_records r ON r.task_id = t.id"
        " WHERE t.source = 'job' GROUP BY t.source_id")}
    rules = estate_rules(db)
    last = 0
    while True:  # a million jobs' rows at once would not fit
        cursor = db.execute(
            "SELECT id, estate_id, job_class, received_at, dispatched_at, agreed_at,"
            " arrived_at, completed_at, assignee_id FROM jobs WHERE id > ? ORDER BY id"
            " LIMIT 20000", [last])
        keys = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        if not rows:
            return
        updates = []
        for row in rows:
            job = dict(zip(keys, row, strict=True))
            visits = by_job.get(job["id"], [])
            found = _facts(job, visits, _first_arrival(db, job, visits[0] if visits else job),
                           heard.get(job["id"], (False, False)), rules[job["estate_id"]])
            updates.append([*(found[c] for c in COLUMNS), job["id"]])
        db.conn.executemany(
            f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in COLUMNS)} WHERE id = ?", updates)
        last = rows[-1][0]
