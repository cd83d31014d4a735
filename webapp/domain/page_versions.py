"""Versions of the pages a worker's phone keeps for offline use (the manifest's
`versions`), computed from the data each page shows, without rendering it.

The service worker fetches a kept page again only when its version differs from the
one it holds. So a version must change whenever anything the page shows changes; it
may also change when nothing visible did (a refetch too many costs a few KB, a stale
page costs a wasted trip). Each function below reads what the page's view reads, in
a few queries for all the pages at once; what every page shows around its content
(user, role, estates, language, release, the session's CSRF token) is the `context`
the caller mixes into each token (`token(context, part)`).

Pages are not hashed as rendered: they carry a CSRF token and countdown text that
differ on every render, and rendering them all is the cost this avoids.

The lists a person keeps open (static/live.js) carry the same kind of version, of the
list alone (`job_list`, `board_list`, `callback_list`, `feedback_queue`): the page asks
for it every few seconds and fetches the list again only when it differs.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from . import estates, feedback, handovers, settings
from .callbacks import iso

# What many pages show and changes rarely, besides the estates' settings (read as they
# are): staff names (audited as 'user', anywhere) and the working-day calendar of the
# user's estates (audited as 'estate' 'calendar'). Other estate-wide entries (labels
# printed, a unit import) change nothing a kept page shows that its own token misses.
REFERENCE_ACTIONS = ("calendar",)


def token(*parts: Any) -> str:
    """A short, stable digest of `parts`: their repr, which for the rows and values the
    pages read (str, int, float, None, dates; dicts in the order the code or the query
    made them) is the same in every process of a release, and a third of JSON's cost
    (the board asks for its version on every view and every live check)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def page_token(context: str, url: str, part: str) -> str:
    """A page's version: the context, its address and its data's token."""
    return hashlib.sha256(f"{context}\0{url}\0{part}".encode()).hexdigest()[:16]


def _marks(ids: list[int]) -> str:
    return ",".join("?" * len(ids))


def reference(db: Database, estate_ids: list[int]) -> list[Any]:
    """The last change to staff or to the calendar of these estates, and the estates'
    stored settings (deadlines are counted from them)."""
    marks = _marks(list(REFERENCE_ACTIONS))
    last = db.execute(
        "SELECT (SELECT max(id) FROM audit_log WHERE entity = 'user'),"
        f" (SELECT max(id) FROM audit_log WHERE entity = 'estate' AND action IN ({marks})"
        f" AND entity_id IN ({_marks(estate_ids)}))",
        [*REFERENCE_ACTIONS, *estate_ids]).fetchone()
    values = settings.of_estates(db, estate_ids)
    return [list(last), [[e, sorted(values[e].items())] for e in sorted(values)]]


def job_pages(db: Database, rows: list[dict[str, Any]]) -> dict[int, str]:
    """Per job (rows as jobs.JOB_SELECT gives them: the job with the names it shows):
    the job, and how many photos, notes, history entries and signatures it has and
    the newest of each (all are only ever added to). The job page and its sign-off
    page show the same data."""
    ids = [r["id"] for r in rows]
    counts: dict[int, list[Any]] = defaultdict(list)
    if ids:
        m = _marks(ids)
        for kind, job_id, n, newest in db.execute(
            f"SELECT 'p', job_id, count(*), max(id) FROM job_photos WHERE job_id IN ({m})"
            f" GROUP BY job_id UNION ALL "
            f"SELECT 'n', job_id, count(*), max(id) FROM job_notes WHERE job_id IN ({m})"
            f" GROUP BY job_id UNION ALL "
            f"SELECT 's', job_id, count(*), max(id) FROM signatures WHERE job_id IN ({m})"
            f" GROUP BY job_id UNION ALL "
            f"SELECT 'a', entity_id, count(*), max(id) FROM audit_log WHERE entity = 'job'"
            f" AND entity_id IN ({m}) GROUP BY entity_id ORDER BY 1, 2", ids * 4):
            counts[job_id].append((kind, n, newest))
    return {r["id"]: token(r, counts[r["id"]]) for r in rows}


def _job_rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a list's job rows show, as little as changes with it: a job's version rises
    with every change to the job itself; `flagged` (set beside a refused step) and the
    stored next due time (moved when the estate's windows change) change without it;
    the names joined in are the rest a row shows."""
    return [(r["id"], r["version"], r["flagged"], r["next_due_at"], r["next_due_name"],
             r["assignee_name"], r["unit_number"], r["building_name"]) for r in rows]


def job_list(rows: list[dict[str, Any]], pool_hidden: int) -> str:
    """The worker's list: its rows (in the order the query gave them; the page sorts
    them by their due time) and how many pool jobs it does not show."""
    return token(_job_rows(rows), pool_hidden)


def board_list(rows: list[dict[str, Any]]) -> str:
    """The desk's board: its rows as jobs.board read them (the one past the page
    included: it decides whether "show more" shows)."""
    return token(_job_rows(rows))


def callback_list(rows: list[dict[str, Any]], total: int, now: datetime) -> str:
    """A clerk's callbacks: the tasks shown, which of them are overdue now (the list
    says so), and how many the whole list holds."""
    at = iso(now)
    return token([(r, r["due_at"] < at) for r in rows], total)


def feedback_queue(db: Database, estate_ids: list[int], status: str) -> str:
    """The desk's feedback queue: which items it lists and their status, the one thing
    that changes on an item once sent (answered, closed, made a job); read from the
    queue's index alone (feedback.queue_state)."""
    return token(feedback.queue_state(db, estate_ids, status))


def unit_pages(db: Database, unit_ids: list[int], full: Collection[int]) -> dict[int, str]:
    """Per unit: what its page reads (the same queries, for all the units at once): the
    unit, its residents, its flags and the jobs it lists (any worker's: another's job
    on the unit shows there too), and whether the user sees its residents in full
    (`full`, from access.full_units): a job reassigned or closed masks them, and the
    jobs listed need not show that."""
    units = estates.get_units(db, unit_ids)
    residents = estates.residents_of(db, unit_ids)
    flags = estates.units_flags(db, unit_ids)
    listed = estates.units_jobs(db, unit_ids)
    return {u: token(units.get(u), residents[u], sorted(flags[u]), listed[u], u in full)
            for u in unit_ids}


def feedback_form(db: Database, estate_ids: list[int]) -> str:
    """The feedback form: the places it offers."""
    return token(feedback.places_for(db, estate_ids)) if estate_ids else token([])


def feedback_sent(db: Database, user_id: int) -> str:
    """The worker's sent feedback and what the desk made of it."""
    return token(feedback.mine(db, user_id))


def handover_pages(db: Database, user: Mapping[str, Any],
                   estate_ids: list[int]) -> tuple[str, dict[int, str]]:
    """The handover log as the user reads it (its rows), and per handover waiting for
    this person's signature (unacknowledged, of their own post, someone else's) its row,
    which is all its page shows (one query: the log lists the unacknowledged first)."""
    rows = handovers.listing(db, estate_ids, handovers.visible_posts(user))
    mine = handovers.posts_for(user["role"])
    waiting = {r["id"]: token(r) for r in rows if not r["acknowledged_at"]
               and r["post"] in mine and r["recorded_by"] != user["id"]}
    return token(rows), waiting
