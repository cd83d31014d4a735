"""Jobs (工单): vocabulary, the state machine, and read queries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from . import audit, people, unit_labels
from .text import N_

SOURCES = {
    "phone": N_("Phone"),
    "walk_in": N_("Walk-in"),
    "qr": N_("QR code"),
    "letter": N_("Letter"),
    "email": N_("E-mail"),
    "inspection": N_("Inspection"),
    "feedback": N_("Environment feedback"),
    "complaint": N_("Complaint"),
}
# The ones the desk chooses from; the others come from the app's own records.
INTAKE_SOURCES = ("phone", "walk_in", "qr", "letter", "email")
CLASSES = {
    "emergency": N_("Emergency repair"),
    "small": N_("Small repair"),
    "medium": N_("Medium repair"),
}
# The category of work a department is sent without a closer one (a failed inspection
# item, a complaint): the departments that do jobs.
DEPARTMENT_CATEGORY = {"maintenance": "public_facility", "security": "security",
                       "cleaning": "cleaning"}
# Category -> (label, department that does the work).
CATEGORIES = {
    "plumbing": (N_("Plumbing and drains"), "maintenance"),
    "electrical": (N_("Electrical"), "maintenance"),
    "doors_windows": (N_("Doors and windows"), "maintenance"),
    "walls_roof": (N_("Walls, ceiling and roof leaks"), "maintenance"),
    "lift": (N_("Lift"), "maintenance"),
    "public_facility": (N_("Public facilities"), "maintenance"),
    "security": (N_("Security and access"), "security"),
    "parking": (N_("Parking and vehicles"), "security"),
    "cleaning": (N_("Cleaning"), "cleaning"),
    "greening": (N_("Greenery"), "cleaning"),
    "pests": (N_("Pests"), "cleaning"),
    "other": (N_("Other"), "maintenance"),
}
STATUSES = {
    "new": N_("Waiting for dispatch"),
    "pooled": N_("In the department pool"),
    "assigned": N_("Dispatched, not accepted"),
    "accepted": N_("Accepted"),
    "arrived": N_("On site"),
    "paused": N_("Paused (customer reason)"),
    "completed": N_("Done, awaiting sign-off"),
    "closed": N_("Signed off"),
    "cancelled": N_("Cancelled"),
}
# Audit actions as the history shows them.
ACTIONS = {
    "create": N_("Report received"),
    "dispatch": N_("Dispatched"),
    "reassign": N_("Reassigned"),
    "claim": N_("Taken from the pool"),
    "accept": N_("Accepted"),
    "decline": N_("Declined"),
    "arrive": N_("Arrived on site"),
    "pause": N_("Paused for the customer"),
    "complete": N_("Work done"),
    "signoff": N_("Signed off"),
    "reopen": N_("Reopened (rework)"),
    "cancel": N_("Cancelled"),
    "flag": N_("Flagged for review"),
    "resolve": N_("Reviewed by the desk"),
    "edit": N_("Corrected by the desk"),
}
# The deadline each row shows, named as the desk says it.
DUE_NAMES = {"notify": N_("Dispatch"), "arrive": N_("On site"), "complete": N_("Completion")}
OPEN_STATUSES = ("new", "pooled", "assigned", "accepted", "arrived", "paused")
ACTIVE_FIELD_STATUSES = ("assigned", "accepted", "arrived", "paused", "completed")

# The state machine: command kind -> the statuses it may start from.
TRANSITIONS: dict[str, frozenset[str]] = {
    "job.dispatch": frozenset({"new"}),
    "job.reassign": frozenset({"pooled", "assigned", "accepted", "arrived", "paused"}),
    "job.claim": frozenset({"pooled"}),
    "job.accept": frozenset({"assigned"}),
    "job.decline": frozenset({"assigned"}),
    "job.arrive": frozenset({"accepted", "paused"}),
    "job.pause": frozenset({"accepted", "arrived"}),
    "job.complete": frozenset({"arrived"}),
    "job.signoff": frozenset({"completed"}),
    "job.reopen": frozenset({"completed", "closed"}),
    "job.cancel": frozenset(OPEN_STATUSES),
    # Not a change of state: what the desk may still correct.
    "job.edit": frozenset(OPEN_STATUSES),
}


def allowed(kind: str, status: str) -> bool:
    return status in TRANSITIONS.get(kind, frozenset())


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


JOB_SELECT = """
SELECT j.*, u.number AS unit_number, b.name AS building_name, e.name AS estate_name,
       a.display_name AS assignee_name, r.display_name AS received_by_name
FROM jobs j
JOIN estates e ON e.id = j.estate_id
LEFT JOIN units u ON u.id = j.unit_id
LEFT JOIN buildings b ON b.id = u.building_id
LEFT JOIN users a ON a.id = j.assignee_id
LEFT JOIN users r ON r.id = j.received_by
"""


# What a list's row shows and keeps (the board, a worker's list, the offline manifest):
# its version and stored due time, no clock of its own (domain/board.py). Every column
# read is a cost on every row: all of JOB_SELECT's took a third longer.
LIST_SELECT = """
SELECT j.id, j.number, j.estate_id, j.unit_id, j.category, j.job_class, j.description,
       j.status, j.flagged, j.version, j.next_due_at, j.next_due_name,
       u.number AS unit_number, b.name AS building_name, e.name AS estate_name,
       a.display_name AS assignee_name
FROM jobs j
JOIN estates e ON e.id = j.estate_id
LEFT JOIN units u ON u.id = j.unit_id
LEFT JOIN buildings b ON b.id = u.building_id
LEFT JOIN users a ON a.id = j.assignee_id
"""


def list_rows(db: Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """A read's rows as dicts, as db.query() returns them, without the savepoint query()
    wraps each statement in (two more statements, for a read that writes nothing; some
    8 µs a query). The lists and the job page's reads select distinctly named columns."""
    cursor = db.execute(sql, params)
    keys = [d[0] for d in cursor.description]
    return [dict(zip(keys, row, strict=True)) for row in cursor]


def get_job(db: Database, job_id: int) -> dict[str, Any] | None:
    found = list_rows(db, JOB_SELECT + " WHERE j.id = ?", [job_id])
    return found[0] if found else None


def job_photos(db: Database, job_id: int) -> list[dict[str, Any]]:
    return list_rows(db, "SELECT p.sha256, p.stage, f.mime FROM job_photos p JOIN files f"
                         " ON f.sha256 = p.sha256 WHERE p.job_id = ? ORDER BY p.id", [job_id])


def job_notes(db: Database, job_id: int) -> list[dict[str, Any]]:
    return list_rows(db, "SELECT n.*, u.display_name FROM job_notes n LEFT JOIN users u"
                         " ON u.id = n.user_id WHERE n.job_id = ? ORDER BY n.id", [job_id])


def photo_hashes(db: Database, job_ids: list[int]) -> list[str]:
    """The photos of these jobs (reported and of the work), each once."""
    if not job_ids:
        return []
    marks = ",".join("?" * len(job_ids))
    return [r[0] for r in db.execute(
        f"SELECT DISTINCT sha256 FROM job_photos WHERE job_id IN ({marks}) ORDER BY sha256",
        job_ids)]


def timeline(db: Database, job_id: int,
             notes: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The job's history: each audited step with the notes written in the same command,
    and for a dispatch the name of whom it went to (`to_name`). `notes`: the job's
    notes (`job_notes`), when the caller has them already."""
    entries = audit.history(db, "job", job_id,
                            job_notes(db, job_id) if notes is None else notes)
    ids = {e["detail"]["assignee_id"] for e in entries if e["detail"].get("assignee_id")}
    names = dict(db.execute(
        f"SELECT id, display_name FROM users WHERE id IN ({','.join('?' * len(ids))})",
        list(ids)).fetchall()) if ids else {}
    for e in entries:
        e["to_name"] = names.get(e["detail"].get("assignee_id"))
    return entries


def latest_signature(db: Database, job_id: int) -> dict[str, Any] | None:
    """The sign-off of the job's current visit (an earlier visit's is in `visits`)."""
    found = list_rows(
        db, "SELECT id, signer_name, outcome, reason, image_sha256, signed_at, record_hash"
            " FROM signatures WHERE job_id = ? AND id > (SELECT coalesce(max(signature_id),"
            " 0) FROM job_visits WHERE job_id = ?) ORDER BY id DESC LIMIT 1", [job_id, job_id])
    return found[0] if found else None


def visits(db: Database, job_id: int) -> list[dict[str, Any]]:
    """The visits a reopen ended, first first: times, work, who, and their sign-off."""
    return list_rows(
        db, "SELECT v.*, u.display_name AS assignee_name, s.signer_name, s.outcome, s.reason,"
        " s.image_sha256, s.signed_at, s.record_hash FROM job_visits v"
        " LEFT JOIN users u ON u.id = v.assignee_id"
        " LEFT JOIN signatures s ON s.id = v.signature_id"
        " WHERE v.job_id = ? ORDER BY v.visit", [job_id])


def signed_record_hash(job: dict[str, Any], photos: Iterable[str], signer: str, at: str) -> str:
    """The old rule (before sealed records): a plain SHA-256 of part of the job at
    sign-off. Kept only to check records signed then (domain/records.py)."""
    content = {
        k: job.get(k)
        for k in (
            "number", "estate_id", "unit_id", "reporter_name", "reporter_phone", "category",
            "job_class", "description", "received_at", "arrived_at", "completed_at",
            "work_done", "materials", "assignee_id", "rework_count",
        )
    }
    content.update(photos=sorted(photos), signer=signer, signed_at=at)
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# How many of a department's unclaimed jobs a field worker's list shows, oldest first:
# a backlog must neither push the worker's own jobs off the list nor fill the phone.
POOL_SHOWN = 50


def my_jobs(db: Database, user: dict[str, Any], estate_ids: list[int],
            pool_shown: int | None = None) -> list[dict[str, Any]]:
    """A field worker's open jobs (all of them), then up to `pool_shown` of their
    department's unclaimed pool in their estates, emergencies then the oldest."""
    if not estate_ids:
        return []
    marks = ",".join("?" * len(estate_ids))
    statuses = ",".join("?" * len(ACTIVE_FIELD_STATUSES))
    own = list_rows(db, LIST_SELECT + f" WHERE j.assignee_id = ? AND j.status IN ({statuses})",
                    [user["id"], *ACTIVE_FIELD_STATUSES])
    pool = list_rows(
        db,
        LIST_SELECT + f" WHERE j.status = 'pooled' AND j.department = ? AND j.estate_id IN"
        f" ({marks}) ORDER BY j.job_class = 'emergency' DESC, j.id LIMIT ?",
        [user["department"], *estate_ids, POOL_SHOWN if pool_shown is None else pool_shown],
    )
    return [*own, *pool]


def pool_size(db: Database, user: dict[str, Any], estate_ids: list[int]) -> int:
    """All of the department's unclaimed jobs in the worker's estates."""
    if not estate_ids:
        return 0
    marks = ",".join("?" * len(estate_ids))
    return db.execute(
        f"SELECT count(*) FROM jobs WHERE status = 'pooled' AND department = ?"
        f" AND estate_id IN ({marks})", [user["department"], *estate_ids]).fetchone()[0]


def pool_hidden(db: Database, user: dict[str, Any], estate_ids: list[int],
                rows: list[dict[str, Any]]) -> int:
    """How many pool jobs the worker's list (`rows`, from my_jobs) does not show: only a
    full pool was cut short, so count the rest only then."""
    pooled = sum(r["status"] == "pooled" for r in rows)
    return pool_size(db, user, estate_ids) - pooled if pooled >= POOL_SHOWN else 0


# SQLite allows 500 terms in a compound SELECT; past this many estates the board
# takes them in one part.
BOARD_MAX_PARTS = 200
# How many of the newest search index matches the board checks before it goes back
# to reading the estates' jobs in id order (see board()).
SEARCH_WALK = 1000


def board(
    db: Database, estate_ids: list[int], status: str | None, query: str | None,
    limit: int = 25, before: int | None = None,
) -> list[dict[str, Any]]:
    """The desk's board: newest first within the user's estates, `limit` at a time;
    `before` (a job id) continues after the last one shown.

    Each estate's newest `limit` ids come from an index read in id order that
    stops early (migration 0005); only the ids kept are joined to names. Joining
    first made SQLite join and sort every job of the estates: 35 ms for one
    estate's 20,000 jobs, 0.3 s for ten estates (docs/BENCHMARKS.md).

    `query` finds jobs whose number, reporter's phone or unit number contains it:
    `LIKE '%query%'`, ASCII case-insensitive. LIKE cannot use an index: read in id
    order, it walks all of an estate's jobs when few match (28 ms for 20,000). From
    3 characters the trigram index `job_search` (migration 0010) lists the matching
    jobs instead: its newest SEARCH_WALK matches (`hits`) are checked against the
    board's filter and LIKE (`found`). If that fills the page, or the index had no
    more, that is the answer; otherwise (many matches, few of them on this board)
    the id-order read with LIKE carries on below the oldest hit. The index matches
    all that LIKE does and maybe more (its case folding is not only ASCII), so the
    rows are LIKE's, in the same order. The open and flagged filters keep LIKE
    alone: their own indexes hand it an estate's few such jobs, which is quicker
    than the index (0.3 ms against 1–12 ms for an estate of 20,000 jobs).

    A `query` that names building and room ('2栋-502', '2-502': `board_units`) shows
    those units' jobs instead, as the board writes a unit; a room alone ('502') or a
    label that names no unit of the estates stays the text search above.
    """
    if not estate_ids:
        return []
    where: list[str] = []
    params: list[Any] = []
    order = "j.id"
    if status == "open":
        where.append(f"j.status IN ({','.join('?' * len(OPEN_STATUSES))})")
        params.extend(OPEN_STATUSES)
        # An estate has few open jobs: take them by status and sort them, rather
        # than walk all its jobs in id order looking for them (the + keeps the
        # id-ordered index out of the plan).
        order = "+j.id"
    elif status in STATUSES:
        where.append("j.status = ?")
        params.append(status)
    elif status == "flagged":
        where.append("j.flagged = 1")
    if before is not None:
        where.append("j.id < ?")
        params.append(before)
    units = board_units(db, estate_ids, query) if query else []
    if units:
        return _unit_board(db, estate_ids, units, where, params, limit)
    join = ""
    if query:
        join = " LEFT JOIN units u ON u.id = j.unit_id"
        where.append("(j.number LIKE ? OR u.number LIKE ? OR j.reporter_phone LIKE ?)")
        params.extend([f"%{query}%"] * 3)
    head, found = "", ""
    head_args: list[Any] = []
    phrase = search_phrase(query) if query and status not in ("open", "flagged") else None
    if phrase is not None:
        conds = " AND ".join([f"j.estate_id IN ({','.join('?' * len(estate_ids))})", *where])
        # CROSS JOIN: from the hits to the jobs, never the other way round.
        head = (
            "WITH hits(id) AS MATERIALIZED (SELECT rowid FROM job_search"
            " WHERE job_search MATCH ?" + (" AND rowid < ?" if before is not None else "")
            + " ORDER BY rowid DESC LIMIT ?),"
            f" found(id) AS MATERIALIZED (SELECT j.id FROM hits h CROSS JOIN jobs j{join}"
            f" WHERE j.id = h.id AND {conds} ORDER BY j.id DESC LIMIT ?),"
            # Where the id-order read starts: below the oldest hit, or nowhere (0).
            " rest(below) AS (SELECT CASE WHEN (SELECT count(*) FROM found) < ?"
            " AND (SELECT count(*) FROM hits) = ? THEN (SELECT min(id) FROM hits)"
            " ELSE 0 END) "
        )
        head_args = [phrase, *([] if before is None else [before]), SEARCH_WALK,
                     *estate_ids, *params, limit, limit, SEARCH_WALK]
        where.append("j.id < (SELECT below FROM rest)")
        found = "SELECT id FROM found UNION ALL "
    parts, args = estate_parts(estate_ids, where, params, f"{order} DESC", limit, join)
    sql = (head + LIST_SELECT + " WHERE j.id IN (" + found + " UNION ALL ".join(parts) + ")"
           " ORDER BY j.id DESC LIMIT ?")
    return list_rows(db, sql, [*head_args, *args, limit])


def estate_parts(estate_ids: list[int], where: list[str], params: list[Any], order: str,
                 limit: int, join: str = "") -> tuple[list[str], list[Any]]:
    """Each estate's first `limit` job ids by `order`, one index range read that stops
    early per estate (past BOARD_MAX_PARTS estates, one read), as SELECTs to UNION."""
    groups = ([[e] for e in estate_ids] if len(estate_ids) <= BOARD_MAX_PARTS
              else [list(estate_ids)])
    parts, args = [], []
    for group in groups:
        conds = " AND ".join([f"j.estate_id IN ({','.join('?' * len(group))})", *where])
        parts.append(f"SELECT id FROM (SELECT j.id FROM jobs j{join} WHERE {conds}"
                     f" ORDER BY {order} LIMIT ?)")
        args += [*group, *params, limit]
    return parts, args


def board_units(db: Database, estate_ids: list[int], query: str) -> list[int]:
    """The units of the estates a board search names as building and room ('2栋-502',
    '2-502', see unit_labels.parse); none for anything else, a room alone included
    (that stays a text search, as it matches the room in every building)."""
    label = unit_labels.parse(query)
    if label is None or label.building is None:
        return []
    return [u["id"] for u in unit_labels.find(db, estate_ids, label)]


def _unit_board(db: Database, estate_ids: list[int], unit_ids: list[int], where: list[str],
                params: list[Any], limit: int) -> list[dict[str, Any]]:
    """The board for a search that names units: their jobs through `jobs(unit_id)`, a few
    dozen a unit, sorted. The + on estate_id keeps SQLite from walking the estates' jobs
    in id order through the board's indexes (they all start with estate_id) instead.
    The scope to the estates stays, though the units were found in them already."""
    conds = " AND ".join([f"j.unit_id IN ({','.join('?' * len(unit_ids))})",
                          f"+j.estate_id IN ({','.join('?' * len(estate_ids))})",
                          *where])
    sql = (LIST_SELECT + f" WHERE j.id IN (SELECT j.id FROM jobs j WHERE {conds}"
           " ORDER BY j.id DESC LIMIT ?) ORDER BY j.id DESC LIMIT ?")
    return list_rows(db, sql, [*unit_ids, *estate_ids, *params, limit, limit])


def search_phrase(query: str) -> str | None:
    """The FTS5 query for `job_search` that matches every job `LIKE '%query%'`
    matches (and maybe a few more), or None when the index cannot tell: fewer than
    3 characters (a trigram needs 3), LIKE's own wildcards `%` and `_` in it, or a
    NUL character (it ends an FTS5 query string).

    The text is one quoted phrase with `"` doubled, so nothing in it is FTS5 syntax.
    """
    if len(query) < 3 or any(c in query for c in "%_\0"):
        return None
    return '"' + query.replace('"', '""') + '"'


def flagged_inputs(db: Database, job_id: int) -> list[dict[str, Any]]:
    """What came in from the field and was refused, for the desk's review."""
    rows = db.query(
        """SELECT c.op_id, c.kind, c.payload, c.result, c.device_time, c.acted_at,
                  c.received_at, c.replayed, c.user_id, u.display_name
           FROM commands c LEFT JOIN users u ON u.id = c.user_id
           WHERE c.target = ? AND c.outcome = 'rejected' ORDER BY c.received_at""",
        [f"job:{job_id}"],
    )
    out = []
    for r in rows:
        r["payload"] = json.loads(r["payload"])
        r["result"] = json.loads(r["result"])
        out.append(r)
    return out


def dispatch_choices(db: Database, estate_id: int, department: str) -> list[dict[str, Any]]:
    """Who a job may go to: the estate's field staff, the job's own department first, each
    with the open jobs they hold now (`open_jobs`, their load), the least loaded first."""
    staff = people.staff_for(db, estate_id)
    loads = dict(db.execute(
        "SELECT assignee_id, count(*) FROM jobs WHERE estate_id = ? AND assignee_id IS NOT "
        "NULL AND status IN ('assigned', 'accepted', 'arrived', 'paused') "
        "GROUP BY assignee_id", [estate_id]).fetchall())
    for person in staff:
        person["open_jobs"] = loads.get(person["id"], 0)
        person["fits"] = person["department"] == department
    return sorted(staff, key=lambda p: (not p["fits"], p["open_jobs"], p["display_name"]))


POOLS = ("maintenance", "security", "cleaning")  # the departments with a pool of jobs


def dispatch_pools(department: str) -> list[str]:
    """The department pools a job may go to, its own department's first."""
    return sorted(POOLS, key=lambda d: d != department)

