"""Staff: departments, roles, what each role may do, and which estates they see."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlite_utils import Database

from .text import N_

# English labels are msgids; the web layer translates them.
DEPARTMENTS = {
    "service": N_("Customer service"),
    "maintenance": N_("Maintenance"),
    "security": N_("Security"),
    "cleaning": N_("Cleaning and greening"),
    "management": N_("Management"),
}
ROLES = {
    "desk": N_("Service desk"),
    "technician": N_("Technician"),
    "guard": N_("Security guard"),
    "cleaner": N_("Cleaner"),
    "callback": N_("Callback staff"),
    "supervisor": N_("Supervisor"),
    "manager": N_("Manager"),
    "admin": N_("Administrator"),
}
FIELD_ROLES = frozenset({"technician", "guard", "cleaner"})

# Capabilities by role: the one place that says who may do what.
CAPABILITIES: dict[str, frozenset[str]] = {
    "job.view_all": frozenset({"desk", "callback", "supervisor", "manager", "admin"}),
    "job.intake": frozenset({"desk", "manager", "admin"}),
    "job.dispatch": frozenset({"desk", "manager", "admin"}),
    "job.edit": frozenset({"desk", "manager", "admin"}),
    "job.field": FIELD_ROLES,
    "job.reopen": frozenset({"desk", "callback", "manager", "admin"}),
    "job.print": frozenset({"desk", "callback", "supervisor", "manager", "admin"} | FIELD_ROLES),
    "estate.settings": frozenset({"admin", "manager"}),
    "estate.import": frozenset({"admin"}),
    "user.manage": frozenset({"admin"}),
    "complaint.view": frozenset({"desk", "callback", "supervisor", "manager", "admin"}),
    "complaint.intake": frozenset({"desk", "callback", "manager", "admin"}),
    "complaint.handle": frozenset({"desk", "manager", "admin"}),
    "complaint.work": frozenset({"desk", "supervisor", "manager", "admin"}),
    "callback.work": frozenset({"desk", "callback", "supervisor", "manager", "admin"}),
    "unit.search": frozenset({"desk", "callback", "manager", "admin"}),
    "unit.view": frozenset({"desk", "callback", "supervisor", "manager", "admin"} | FIELD_ROLES),
    "routine.plan": frozenset({"manager", "admin"}),
    "routine.view": frozenset({"desk", "callback", "supervisor", "manager", "admin"}),
    "inspection.do": frozenset({"supervisor", "manager", "admin"}),
    "inspection.assign": frozenset({"manager", "admin"}),
    "inspection.templates": frozenset({"admin"}),
    "inspection.view": frozenset({"desk", "callback", "supervisor", "manager", "admin"}),
    "place.view": frozenset({"desk", "callback", "supervisor", "manager", "admin"} | FIELD_ROLES),
    "place.scan": frozenset({"supervisor", "manager", "admin"} | FIELD_ROLES),
    "place.labels": frozenset({"manager", "admin"}),
    "place.reissue": frozenset({"admin"}),
    "place.feedback": frozenset({"cleaner"}),
    "place.inspect": frozenset({"supervisor"}),
    "feedback.send": frozenset({"cleaner", "guard", "technician", "supervisor"}),
    "feedback.handle": frozenset({"desk", "manager", "admin"}),
    # The annual opinion survey: managers set it up and read it, clerks record answers.
    "survey.manage": frozenset({"manager", "admin"}),
    "survey.record": frozenset({"callback", "manager", "admin"}),
    # The managers' figures (/figures): every estate's performance, not one desk's work.
    "figures.view": frozenset({"manager", "admin"}),
    # The teams whose work an area of figures counts see that area (FIGURE_AREAS): the
    # service centre compiles the month's callback and complaint statistics, supervisors
    # read the inspections' failed items.
    "figures.service": frozenset({"desk", "callback"}),
    "figures.inspections": frozenset({"supervisor"}),
    # The monthly and yearly reports: drafted, written and issued by the estate's managers.
    "report.manage": frozenset({"manager"}),
    # Notices to residents: the desk posts them, for an estate or some of its places.
    "notice.post": frozenset({"desk", "manager", "admin"}),
    # The owners' committee and residents' meetings: the desk and managers record
    # contacts, submissions, replies and meetings; admins read and record too.
    "committee.record": frozenset({"desk", "manager", "admin"}),
    # Community activities and their feedback: the desk and managers run them.
    "activity.manage": frozenset({"desk", "manager", "admin"}),
    # Shift handovers: the person on duty at a post records and acknowledges them;
    # supervisors and managers read every post's log.
    "handover.record": frozenset({"desk", "guard", "technician", "supervisor"}),
    "handover.read_all": frozenset({"supervisor", "manager", "admin"}),
    "handover.view": frozenset({"desk", "guard", "technician", "supervisor", "manager",
                                "admin"}),
}


def actor(db: Database, cmd: Any, capability: str) -> dict[str, Any]:
    """The active user who sent `cmd`, if their role has `capability`; else Rejected."""
    from sync import Rejected

    user = get_user(db, cmd.user_id)
    if user is None or not user["active"]:
        raise Rejected("forbidden", N_("You are not signed in."))
    if not can(user, capability):
        raise Rejected("forbidden", N_("Your role may not do this."))
    return user


def can(user: Mapping[str, Any] | None, capability: str) -> bool:
    return bool(user) and user["role"] in CAPABILITIES[capability]  # type: ignore[index]


def estate_ids(db: Database, user_id: int) -> list[int]:
    # execute(), not query(): read on every request (the signed-in user), and query()
    # adds a savepoint and a dict per row.
    return [r[0] for r in db.execute(
        "SELECT estate_id FROM user_estates WHERE user_id = ? ORDER BY estate_id", [user_id])]


def serves(db: Database, user_id: int, estate_id: int | None) -> bool:
    """Whether the user works on this estate: the one test of "is this record in one of
    the user's estates" for a command (a view holds the ids already: `in_estates`)."""
    return estate_id is not None and db.execute(
        "SELECT 1 FROM user_estates WHERE user_id = ? AND estate_id = ?",
        [user_id, estate_id]).fetchone() is not None


def require_estate(db: Database, user_id: int, estate_id: int | None) -> None:
    """A command on a record of an estate the user does not serve is refused."""
    from sync import Rejected

    if not serves(db, user_id, estate_id):
        raise Rejected("forbidden", N_("This record belongs to an estate you do not serve."))


def in_estates(record: Mapping[str, Any] | None, estate_ids: Collection[int]) -> bool:
    """Whether a record was found and is in one of these estates (a view's test with the
    signed-in user's estate ids)."""
    return record is not None and record["estate_id"] in estate_ids


def user_with_estates(db: Database, user_id: int) -> tuple[dict[str, Any], list[int]] | None:
    """A user's row and their estates' ids (ascending), in one statement: every signed-in
    request reads both, and two queries cost twice the statement overhead."""
    cursor = db.execute(
        "SELECT u.*, (SELECT group_concat(estate_id) FROM (SELECT estate_id FROM user_estates"
        " WHERE user_id = u.id ORDER BY estate_id)) FROM users u WHERE u.id = ?", [user_id])
    found = cursor.fetchone()
    if found is None:
        return None
    keys = [d[0] for d in cursor.description[:-1]]
    *fields, estates = found
    row = dict(zip(keys, fields, strict=True))
    return row, [int(e) for e in estates.split(",")] if estates else []


def get_user(db: Database, user_id: int | None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    # execute(), not query(): every command reads its user (no savepoint for a read).
    cursor = db.execute("SELECT * FROM users WHERE id = ?", [user_id])
    found = cursor.fetchone()
    return None if found is None else dict(zip([d[0] for d in cursor.description], found,
                                               strict=True))


def staff_for(db: Database, estate_id: int, department: str | None = None) -> list[dict]:
    """Active staff of an estate (optionally one department), for dispatch pickers."""
    sql = (
        "SELECT u.id, u.display_name, u.department, u.role FROM users u "
        "JOIN user_estates ue ON ue.user_id = u.id WHERE ue.estate_id = ? AND u.active = 1"
    )
    params: list[Any] = [estate_id]
    if department:
        sql += " AND u.department = ?"
        params.append(department)
    sql += " AND u.role IN ('technician','guard','cleaner') ORDER BY u.department, u.display_name"
    return list(db.query(sql, params))
