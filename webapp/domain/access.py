"""Who may see what: residents' personal data by role and by the work in hand (PIPL: only
what the work needs), which stored files a user may read, and where each role lands.

Field roles (technician, guard, cleaner) see a resident's full name and phone only on a
unit where they hold an open job (assigned to them, or in their department's pool of
their estates, which they may take) or a task for today (the unit is on their round);
elsewhere masked, with no number to call. Office roles see them in full within their
estates (views answer 404 outside them, before asking here).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from . import estates, files, inspections, people
from .jobs import ACTIVE_FIELD_STATUSES

User = Mapping[str, Any]


def _marks(values: Collection[Any]) -> str:
    return ",".join("?" * len(values))


# --- Masking ------------------------------------------------------------------------------

def mask_name(name: str | None) -> str:
    """The surname only: 王小明 -> 王**."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(phone: str | None) -> str:
    """At least four digits hidden, as many stars as digits: a mobile keeps its carrier
    prefix and last four (13812345572 -> 138****5572), a local number of 8 to 10 digits
    its last four (88886666 -> ****6666), a shorter one its last two. An extension
    (after the comma) is the number's switchboard, not the person's: it stays."""
    phone, comma, extension = (phone or "").strip().partition(",")
    return _masked(phone) + comma + extension


def _masked(phone: str) -> str:
    n = len(phone)
    if n >= 11:
        return phone[:3] + "*" * (n - 7) + phone[-4:]
    if n >= 8:
        return "*" * (n - 4) + phone[-4:]
    return "*" * max(n - 2, 0) + phone[-2:]


@dataclass(frozen=True)
class Contact:
    """A person as a page shows them: full (with a number to call) or masked."""

    name: str
    phone: str
    full: bool


def contact(name: str | None, phone: str | None, full: bool) -> Contact:
    if full:
        return Contact(name or "", phone or "", True)
    return Contact(mask_name(name), mask_phone(phone), False)


# --- Residents of units -------------------------------------------------------------------

def sees_everyone(user: User) -> bool:
    """Office roles: the whole of their estates' residents."""
    return user["role"] not in people.FIELD_ROLES


def full_units(db: Database, user: User, estate_ids: list[int], unit_ids: Iterable[int],
               now: datetime) -> set[int]:
    """Of `unit_ids`, those whose residents `user` sees in full at `now`."""
    units = list(dict.fromkeys(unit_ids))
    if not units:
        return set()
    if sees_everyone(user):
        return set(units)
    statuses = list(ACTIVE_FIELD_STATUSES)
    estates = estate_ids or [0]
    rows = db.execute(
        f"SELECT unit_id FROM jobs WHERE unit_id IN ({_marks(units)}) AND ("
        f"(assignee_id = ? AND status IN ({_marks(statuses)}))"
        f" OR (status = 'pooled' AND department = ? AND estate_id IN ({_marks(estates)})))"
        " UNION SELECT rp.place_id FROM round_places rp"
        " JOIN inspection_rounds r ON r.id = rp.round_id"
        f" WHERE rp.place_type = 'unit' AND rp.place_id IN ({_marks(units)})"
        " AND r.supervisor_id = ? AND r.day = ?",
        [*units, user["id"], *statuses, user["department"], *estates,
         *units, user["id"], inspections.local_day(now)]).fetchall()
    return {r[0] for r in rows}


def sees_residents(db: Database, user: User, estate_ids: list[int], unit_id: int,
                   now: datetime) -> bool:
    return unit_id in full_units(db, user, estate_ids, [unit_id], now)


def shown_residents(rows: list[dict[str, Any]], full: bool) -> list[dict[str, Any]]:
    """Residents as a page shows them: name, phone, owner, and whether in full."""
    return [{"id": r["id"], "is_owner": r["is_owner"],
             **vars(contact(r["name"], r["phone"], full))} for r in rows]


def unit_residents(db: Database, user: User, estate_ids: list[int], unit_id: int,
                   now: datetime) -> list[dict[str, Any]]:
    """A unit's residents as `user`'s pages show them at `now` (the unit page, the place
    page)."""
    return shown_residents(estates.residents(db, unit_id),
                           sees_residents(db, user, estate_ids, unit_id, now))


# --- The reporter of a job ----------------------------------------------------------------

def sees_job_contact(user: User, estate_ids: list[int], job: Mapping[str, Any]) -> bool:
    """The reporter in full: office roles; a field worker for a job they hold (theirs and
    not yet closed) or may take from their department's pool."""
    if sees_everyone(user):
        return True
    if job["assignee_id"] == user["id"] and job["status"] in ACTIVE_FIELD_STATUSES:
        return True
    return (job["status"] == "pooled" and job["department"] == user["department"]
            and job["estate_id"] in estate_ids)


def job_contact(user: User, estate_ids: list[int], job: Mapping[str, Any]) -> Contact:
    return contact(job["reporter_name"], job["reporter_phone"],
                   sees_job_contact(user, estate_ids, job))


# --- Jobs a field worker may read without working on them --------------------------------

# A field worker opens their own jobs and their department's pool (views load_job); and,
# read-only, a job they were told of (an emergency of their department, not dispatched
# yet: they see what and where, and are ready when the desk sends it; a job since
# reassigned) or on which a step of theirs was refused (what was refused, and why). The
# reporter stays masked there (sees_job_contact). `{job}` and `{uid}` are SQL
# expressions: the job's id and the user's.
READS_JOB = (
    "(EXISTS (SELECT 1 FROM announcements a JOIN notifications n ON n.announcement_id = a.id"
    " WHERE a.target = 'job:' || {job} AND n.user_id = {uid})"
    " OR EXISTS (SELECT 1 FROM commands c WHERE c.target = 'job:' || {job}"
    " AND c.outcome = 'rejected' AND c.user_id = {uid}))")


def reads_job(db: Database, user: User, job_id: int) -> bool:
    """Whether a field worker may read this job (of their estates) though it is not
    theirs nor in their pool: they were told of it, or a step of theirs on it was
    refused."""
    if user["role"] not in people.FIELD_ROLES:
        return False
    sql = "SELECT " + READS_JOB.format(job="?", uid="?")
    return bool(db.execute(sql, [job_id, user["id"], job_id, user["id"]]).fetchone()[0])


# --- Stored files -------------------------------------------------------------------------

# Every record that holds a file, with the estate it belongs to, as far as this user may
# read the record: the rules of the records' own pages (views load_job, load, @require).
FILE_HOLDERS = (
    # Jobs: every job for those who see the board; a field worker's own jobs, their
    # department's pool and the jobs they may read (READS_JOB).
    "SELECT j.estate_id FROM job_photos x JOIN jobs j ON j.id = x.job_id "
    "WHERE x.sha256 = :sha AND (:jobs_all OR j.assignee_id = :uid OR (:field "
    "AND j.status = 'pooled' AND j.department = :dept) OR (:field AND "
    + READS_JOB.format(job="j.id", uid=":uid") + "))",
    # The resident's signature: as the job's contact (sees_job_contact), so a field worker
    # no longer sees it once their job is closed.
    "SELECT j.estate_id FROM signatures x JOIN jobs j ON j.id = x.job_id "
    "WHERE x.image_sha256 = :sha AND (:jobs_all OR (j.assignee_id = :uid AND j.status IN ("
    + ",".join(f"'{s}'" for s in ACTIVE_FIELD_STATUSES) + ")))",
    "SELECT c.estate_id FROM complaint_files x JOIN complaints c ON c.id = x.complaint_id "
    "WHERE x.sha256 = :sha AND :complaints",
    "SELECT t.estate_id FROM callback_records x JOIN callback_tasks t ON t.id = x.task_id "
    "WHERE x.signature_sha256 = :sha AND :callbacks",
    "SELECT f.estate_id FROM feedback_photos x JOIN feedback f ON f.id = x.feedback_id "
    "WHERE x.sha256 = :sha AND (:feedback_all OR f.user_id = :uid)",
    "SELECT i.estate_id FROM inspection_photos x JOIN inspection_results r "
    "ON r.id = x.result_id JOIN inspections i ON i.id = r.inspection_id "
    "WHERE x.sha256 = :sha AND :inspections",
    # The incoming person's signature on a shift handover: for those who see the log.
    "SELECT h.estate_id FROM handovers h WHERE h.signature_sha256 = :sha AND :handovers",
)


def readable_file(db: Database, user: User, estate_ids: list[int],
                  sha256: str) -> str | None:
    """The stored file's type if a record of `estate_ids` that `user` may read holds it,
    else None."""
    params: dict[str, Any] = {
        "sha": sha256, "uid": user["id"], "dept": user["department"],
        "field": user["role"] in people.FIELD_ROLES,
        "jobs_all": people.can(user, "job.view_all"),
        "complaints": people.can(user, "complaint.view"),
        "callbacks": people.can(user, "callback.work"),
        "feedback_all": people.can(user, "feedback.handle"),
        "inspections": people.can(user, "inspection.view"),
        "handovers": people.can(user, "handover.view"),
        **{f"e{i}": e for i, e in enumerate(estate_ids)}}
    estates = ",".join(f":e{i}" for i in range(len(estate_ids))) or "NULL"
    row = db.execute(
        f"SELECT f.mime FROM files f WHERE f.sha256 = :sha AND EXISTS ("
        f"SELECT 1 FROM ({' UNION ALL '.join(FILE_HOLDERS)}) h WHERE h.estate_id IN"
        f" ({estates}))", params).fetchone()
    return row[0] if row else None


def known_file(db: Database, user: User, estate_ids: list[int], sha256: str) -> bool:
    """Whether `user` may learn that this file is stored: they sent it, or may read it."""
    return (files.uploaded_by(db, user["id"], sha256)
            or readable_file(db, user, estate_ids, sha256) is not None)


def unusable_files(db: Database, user_id: int | None, hashes: list[str]) -> list[str]:
    """Of the hashes a new record would hold, those this user may not attach: not stored,
    or neither sent by them nor held by a record they may read. Asked in the command
    path, so a batch replay meets the same rule as a form."""
    user = people.get_user(db, user_id)
    if user is None:
        return list(hashes)
    estate_ids = people.estate_ids(db, user["id"])
    return [sha for sha in hashes
            if files.missing(db, [sha]) or not known_file(db, user, estate_ids, sha)]


# --- Where each role lands ----------------------------------------------------------------

def landing(user: User | None) -> str:
    """The endpoint of the page where the user's work is (the sign-in page if nobody)."""
    if user is None:
        return "auth.login"
    if user["role"] in people.FIELD_ROLES:
        return "jobs.mine"
    if user["role"] == "callback":
        return "callbacks.today"
    if people.can(user, "figures.view"):
        return "figures.home"
    if people.can(user, "job.view_all"):
        return "jobs.board"
    return "admin.index"


# Areas of the figures a team sees without the managers' whole view (figures.view).
FIGURE_AREAS = {"callbacks": "figures.service", "complaints": "figures.service",
                "inspections": "figures.inspections"}


def sees_figures(role: str, area: str) -> bool:
    """Whether a person of `role` may open the figures of `area` (a key of
    figures.AREAS)."""
    caps = people.CAPABILITIES
    return role in caps["figures.view"] or (
        area in FIGURE_AREAS and role in caps[FIGURE_AREAS[area]])
