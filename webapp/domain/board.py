"""The desk's board in the order of what is due first, and the stored due time it sorts by.

A job's deadlines are computed (`deadlines.job_deadlines`); but sorting a million jobs
by a computed time cannot use an index. So each job keeps its next due time
(`jobs.next_due_at`, and its deadline's name `next_due_name`, migration 0034):
`next_due_of()` is the rule (the first open deadline of an open job, else NULL);
`job_facts.settle` writes it with the job's other settled facts at every step of a job
(from the same read of the job and settings), `recompute_estate()` after an estate's
deadline settings change. The board's rows show their badge from it (`shown_due`).
Since the next due time does not depend on `now` (only which deadlines are done), the
stored time stays right until the job changes; the overdue ones are simply the earliest.

`board()` reads the open jobs by the partial index `jobs_next_due` (estate, due time,
id) in due order, overdue on top, and then the jobs with nothing due (done, signed off,
cancelled) newest first. A search (a number, phone or unit typed) lists its matches
newest first in either order: a search looks for one job, not for what is due.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from . import jobs
from .deadlines import Deadline, job_deadlines, next_due
from .settings import estate_settings

ORDERS = ("due", "new")  # what is due first (the default), newest first
DONE_STATUSES = ("completed", "closed", "cancelled")
_READ = ("SELECT id, status, job_class, received_at, dispatched_at, arrived_at, agreed_at,"
         " reopened_at, completed_at, next_due_at, next_due_name FROM jobs")


def next_due_of(job: Mapping[str, Any], settings: Mapping[str, int],
                now: datetime) -> tuple[str | None, str | None]:
    """The job's next due time as stored (naive UTC, seconds) and that deadline's name,
    or None twice when it is not open or nothing is due. The same rule as the rows'
    badges: next_due of job_deadlines."""
    if job["status"] not in jobs.OPEN_STATUSES:
        return None, None
    found = next_due(job_deadlines(job, settings, now))
    return (None, None) if found is None else (found.due.isoformat(timespec="seconds"),
                                               found.name)


def shown_due(rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Each list row's next deadline (`next_due`, as job_deadlines and next_due would make
    it) from the stored time and name: no settings to read, one time to parse a row."""
    for row in rows:
        due = row["next_due_at"]
        row["next_due"] = (Deadline(row["next_due_name"], datetime.fromisoformat(due), None,
                                    now) if due else None)
    return rows


def _rows(db: Database, where: str, params: list[Any]) -> list[dict[str, Any]]:
    return jobs.list_rows(db, f"{_READ} WHERE {where}", params)


def _write(db: Database, rows: list[dict[str, Any]], settings: Mapping[str, int],
           now: datetime) -> int:
    """Store each row's next due time where it differs; how many changed."""
    changes = [(*due, r["id"]) for r in rows
               if (due := next_due_of(r, settings, now)) != (r["next_due_at"],
                                                             r["next_due_name"])]
    db.conn.executemany("UPDATE jobs SET next_due_at = ?, next_due_name = ? WHERE id = ?",
                        changes)
    return len(changes)


def recompute_estate(db: Database, estate_id: int, now: datetime) -> int:
    """The estate's open jobs after its settings changed (the windows moved)."""
    marks = ",".join("?" * len(jobs.OPEN_STATUSES))
    rows = _rows(db, f"estate_id = ? AND status IN ({marks})", [estate_id, *jobs.OPEN_STATUSES])
    return _write(db, rows, estate_settings(db, estate_id), now)


def backfill(db: Database, now: datetime) -> int:
    """Every estate's open jobs (the migration, and bulk-loaded data)."""
    return sum(recompute_estate(db, e, now)
               for (e,) in db.execute("SELECT id FROM estates").fetchall())


def board(db: Database, estate_ids: list[int], status: str | None, query: str | None,
          limit: int = 25, order: str = "due", before: int | None = None,
          after: tuple[str, int] | None = None) -> list[dict[str, Any]]:
    """The desk's board in `order`. Due order continues after the last row shown: `after`
    (its due time and id) while rows with a due time are shown, then `before` (an id)
    among the rest, newest first. Newest first and a search are jobs.board's."""
    if order != "due" or query:
        return jobs.board(db, estate_ids, status, query, limit, before)
    if not estate_ids:
        return []
    rows: list[dict[str, Any]] = []
    if before is None and status not in DONE_STATUSES:
        rows = _due_part(db, estate_ids, status, limit, after)
    if len(rows) < limit and status != "open" and status not in jobs.OPEN_STATUSES:
        rows += _rest_part(db, estate_ids, status, limit - len(rows), before)
    return rows


def _filter(status: str | None) -> tuple[list[str], list[Any]]:
    if status == "flagged":
        return ["j.flagged = 1"], []
    if status in jobs.STATUSES:
        return ["j.status = ?"], [status]
    return [], []  # open (every job with a due time is open), all


def _union(db: Database, estate_ids: list[int], where: list[str], params: list[Any],
           order: str, limit: int) -> list[dict[str, Any]]:
    """Each estate's first `limit` by `order` (jobs.estate_parts), then the names joined
    to those."""
    parts, args = jobs.estate_parts(estate_ids, where, params, order, limit)
    sql = (jobs.LIST_SELECT + " WHERE j.id IN (" + " UNION ALL ".join(parts) + ")"
           f" ORDER BY {order} LIMIT ?")
    return jobs.list_rows(db, sql, [*args, limit])


def _due_part(db: Database, estate_ids: list[int], status: str | None, limit: int,
              after: tuple[str, int] | None) -> list[dict[str, Any]]:
    where, params = _filter(status)
    # A status or the flag picks a few of an estate's open jobs by their own index (the
    # + keeps the due-time index out of the plan): quicker than walking all the open
    # jobs in due order to find those.
    due = "+j.next_due_at" if where else "j.next_due_at"
    where.insert(0, f"{due} IS NOT NULL")
    if after is not None:
        # The >= bounds the index range; the rest drops the rows shown at that time.
        where.append(f"{due} >= ? AND ({due} > ? OR j.id > ?)")
        params += [after[0], after[0], after[1]]
    return _union(db, estate_ids, where, params, f"{due}, j.id", limit)


def _rest_part(db: Database, estate_ids: list[int], status: str | None, limit: int,
               before: int | None) -> list[dict[str, Any]]:
    where, params = _filter(status)
    where.insert(0, "j.next_due_at IS NULL")
    if before is not None:
        where.append("j.id < ?")
        params.append(before)
    return _union(db, estate_ids, where, params, "j.id DESC", limit)


def more_args(row: Mapping[str, Any], order: str, query: str | None = None) -> dict[str, Any]:
    """Where "show more" continues after `row`, the last one shown, as address
    arguments (a search is newest first in either order)."""
    if order == "due" and not query and row.get("next_due_at"):
        return {"after": row["id"], "due": row["next_due_at"]}
    return {"before": row["id"]}


def due_cursor(due: str, after: int | None) -> tuple[str, int] | None:
    """The `after` cursor from the address: a due time as stored and an id, else None
    (the board's top: a damaged address shows the default view)."""
    if after is None or len(due) > 32:
        return None
    try:
        datetime.fromisoformat(due)
    except ValueError:
        return None
    return due, after
