"""Command handlers for jobs: validation, permission, state machine, effects, audit. The
desk's steps are here with the helpers every step shares; the field worker's steps
(claim, accept, arrive, pause, complete, sign-off) are job_field_commands.py.

Each handler runs inside `sync.apply`'s transaction. Bad input raises Invalid
(nothing stored); a state change that no longer fits raises Rejected, or, where
the worker brought facts from the field, keeps those facts, flags the job and
returns a rejection (DESIGN.md: facts are never rejected).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, acted_time, fields

from . import access, audit, estates, job_facts, notifications, people, phones
from .jobs import (
    CATEGORIES,
    CLASSES,
    INTAKE_SOURCES,
    N_,
    allowed,
    get_job,
    iso,
)
from .numbers import next_number


def _job(db: Database, cmd: Command, user: dict[str, Any]) -> dict[str, Any]:
    job_id = fields.target_id(cmd.target, "target", N_("Unknown job."))
    job = get_job(db, job_id)
    if job is None:
        raise Invalid({"target": N_("Unknown job.")})
    people.require_estate(db, user["id"], job["estate_id"])
    return job


def _step(db: Database, cmd: Command, capability: str) -> tuple[dict, dict]:
    """The acting user (with `capability`) and the job, in one of their estates."""
    user = people.actor(db, cmd, capability)
    return user, _job(db, cmd, user)


def _current(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": job["status"],
        "assignee_id": job["assignee_id"],
        "assignee_name": job.get("assignee_name"),
        "version": job["version"],
    }


def _check_transition(cmd: Command, job: dict[str, Any]) -> None:
    if not allowed(cmd.kind, job["status"]):
        code = "cancelled" if job["status"] == "cancelled" else "illegal_transition"
        msg = (
            N_("The job was cancelled.")
            if code == "cancelled"
            else N_("This step does not fit the job's current state.")
        )
        raise Rejected(code, msg, _current(job))


def _check_mine(cmd: Command, job: dict[str, Any], user: dict[str, Any]) -> None:
    """The worker's own job, in a state this step can start from."""
    if job["assignee_id"] != user["id"]:
        raise Rejected(
            "not_assignee", N_("The job is assigned to someone else."), _current(job)
        )
    _check_transition(cmd, job)


def _update(db: Database, job: dict[str, Any], now: datetime, **fields: Any) -> int:
    fields.update(version=job["version"] + 1, updated_at=iso(now))
    sets = ", ".join(f"{k} = ?" for k in fields)
    # The board's next due time follows in the step's settle (_done).
    db.execute(f"UPDATE jobs SET {sets} WHERE id = ?", [*fields.values(), job["id"]])
    return fields["version"]


def _note(db: Database, cmd: Command, job_id: int, kind: str, text: str, now: datetime) -> None:
    if text:
        db.execute(
            "INSERT INTO job_notes (job_id, user_id, kind, text, at, op_id) VALUES (?,?,?,?,?,?)",
            [job_id, cmd.user_id, kind, text, iso(acted_time(cmd, now)), cmd.op_id],
        )


def _text(payload: Any, key: str, limit: int = fields.TEXT_LIMIT) -> str:
    return fields.text(payload.get(key), limit).strip()


def _photos(db: Database, cmd: Command) -> list[str]:
    hashes = [str(h) for h in cmd.payload.get("photos") or []]
    if access.unusable_files(db, cmd.user_id, hashes):
        raise Invalid({"photos": N_("A photo has not been uploaded yet.")})
    return hashes


def _attach(db: Database, cmd: Command, job_id: int, hashes: list[str], stage: str) -> None:
    for sha in hashes:
        db.execute(
            "INSERT OR IGNORE INTO job_photos (job_id, sha256, stage, op_id) VALUES (?,?,?,?)",
            [job_id, sha, stage, cmd.op_id],
        )


def _done(db: Database, cmd: Command, now: datetime, job: dict, action: str, **detail: Any):
    audit.record(db, cmd, now, action, "job", job["id"], detail)
    # Every step ends here: what it settled for the figures and the board's next due
    # time are stored with it, in one read and one write.
    settled = job_facts.settle(db, job["id"], now)
    return {"job_id": job["id"], "status": settled["status"], "version": settled["version"]}


def _check_work(p: Any, description: str, errors: dict[str, str]) -> None:
    """The work a report names, at intake and when the desk corrects it."""
    if p.get("category") not in CATEGORIES:
        errors["category"] = N_("Choose a category.")
    if p.get("job_class") not in CLASSES:
        errors["job_class"] = N_("Choose emergency, small or medium repair.")
    if len(description) < 2:
        errors["description"] = N_("Describe the problem.")


def create(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user = people.actor(db, cmd, "job.intake")
    p = cmd.payload
    estate_id, unit_id, errors = estates.intake_place(db, p, people.estate_ids(db, user["id"]))
    # The phone is not cut short: a cut number would pass as a different one.
    name, phone = _text(p, "reporter_name", 50), _text(p, "reporter_phone")
    description = _text(p, "description")
    if not name:
        errors["reporter_name"] = N_("Enter the reporter's surname.")
    if (wrong := phones.problem(phone)) is not None:
        errors["reporter_phone"] = wrong
    if p.get("source") not in INTAKE_SOURCES:
        errors["source"] = N_("Choose how the report came in.")
    _check_work(p, description, errors)
    if errors:
        raise Invalid(errors)
    photos = _photos(db, cmd)
    return insert_job(db, cmd, now, estate_id=estate_id, unit_id=unit_id, reporter_name=name,
                      reporter_phone=phones.normalise(phone), source=p["source"],
                      category=p["category"], job_class=p["job_class"],
                      description=description, photos=photos)


def insert_job(db: Database, cmd: Command, now: datetime, *, estate_id: int,
               unit_id: int | None, reporter_name: str, reporter_phone: str, source: str,
               category: str, job_class: str, description: str, photos: list[str],
               department: str | None = None, track_code: str | None = None,
               **detail: Any) -> dict[str, Any]:
    """A new job received by the command's user (none for a resident's QR report, which
    gets a `track_code`), with its intake photos, audited with `detail`. Inputs are
    already checked (the intake form above, a QR report, or a record that becomes a job)."""
    number = next_number(db, "J", now)
    job_id = db.execute(
        """INSERT INTO jobs (number, estate_id, unit_id, reporter_name, reporter_phone, source,
           category, department, job_class, description, status, received_by, received_at,
           updated_at, track_code) VALUES (?,?,?,?,?,?,?,?,?,?, 'new', ?,?,?,?)""",
        [
            number, estate_id, unit_id, reporter_name, reporter_phone, source, category,
            department or CATEGORIES[category][1], job_class, description, cmd.user_id,
            iso(now), iso(now), track_code,
        ],
    ).lastrowid
    _attach(db, cmd, job_id, photos, "intake")
    notifications.job_created(db, cmd, job_id, now)
    job = get_job(db, job_id)
    assert job is not None
    result = _done(db, cmd, now, job, "create", number=number, **detail)
    result["number"] = number
    return result


def edit(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """The desk corrects a job after intake (a QR report arrives as 其他 · 小修): its
    category, class, description and unit. Deadlines are computed from the class, so
    they follow it; a job not yet with a person moves to the new category's department.
    Audited with what it was and what it is."""
    user, job = _step(db, cmd, "job.edit")
    p = cmd.payload
    _estate, unit_id, errors = estates.intake_place(
        db, {"estate_id": job["estate_id"], "unit_id": p.get("unit_id")}, [job["estate_id"]])
    description = _text(p, "description")
    _check_work(p, description, errors)
    if errors:
        raise Invalid(errors)
    if not allowed(cmd.kind, job["status"]):
        raise Rejected("illegal_transition", N_("A finished job is not changed: reopen it "
                                                "first."), _current(job))
    wanted = {"category": p["category"], "job_class": p["job_class"],
              "description": description, "unit_id": unit_id}
    changed = {k: v for k, v in wanted.items() if v != job[k]}
    if changed:
        if "category" in changed and job["status"] in ("new", "pooled"):
            changed["department"] = CATEGORIES[changed["category"]][1]
        _update(db, job, now, **changed)
        notifications.job_edited(db, cmd, job, now)
    _note(db, cmd, job["id"], "edit", _text(p, "reason", 500), now)
    return _done(db, cmd, now, job, "edit", before={k: job[k] for k in changed},
                 after=changed)


def _dispatch(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user, job = _step(db, cmd, "job.dispatch")
    _check_transition(cmd, job)
    return dispatch_job(db, cmd, job, str(cmd.payload.get("to") or ""),
                        _text(cmd.payload, "reason", 500), cmd.kind.split(".")[1], now)


def dispatch_job(db: Database, cmd: Command, job: dict[str, Any], target: str, reason: str,
                 action: str, now: datetime) -> dict[str, Any]:
    """Send a job to a field worker of its estate ("user:<id>") or a department's pool
    ("pool:<dept>"): the one way a job is dispatched, by the desk or by a complaint
    routed to a department, so each has the same checks, history and notifications."""
    if target.startswith("pool:"):
        dept = target[5:]
        if dept not in people.DEPARTMENTS or dept in ("service", "management"):
            raise Invalid({"to": N_("Choose a person or a department pool.")})
        _update(db, job, now, status="pooled", assignee_id=None, department=dept,
                dispatched_at=job["dispatched_at"] or iso(now), accepted_at=None)
        action_detail: dict[str, Any] = {"pool": dept}
    else:
        try:
            assignee = int(target.removeprefix("user:"))
        except ValueError:
            raise Invalid({"to": N_("Choose a person or a department pool.")}) from None
        staff = {s["id"]: s for s in people.staff_for(db, job["estate_id"])}
        if assignee not in staff:
            raise Invalid({"to": N_("Choose a person who works on this estate.")})
        _update(db, job, now, status="assigned", assignee_id=assignee,
                department=staff[assignee]["department"],
                dispatched_at=job["dispatched_at"] or iso(now), accepted_at=None)
        action_detail = {"assignee_id": assignee}
    _note(db, cmd, job["id"], action, reason, now)
    notifications.job_dispatched(db, cmd, job["id"], now)
    return _done(db, cmd, now, job, action, **action_detail, reason=reason)


def reopen(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user, job = _step(db, cmd, "job.reopen")
    reason = _text(cmd.payload, "reason", 500)
    if not reason:
        raise Invalid({"reason": N_("Say what is still wrong.")})
    _check_transition(cmd, job)
    requested_by = "resident" if cmd.payload.get("requested_by") == "resident" else "desk"
    return reopen_job(db, cmd, job, reason, requested_by, now)


def reopen_job(db: Database, cmd: Command, job: dict, reason: str, requested_by: str,
               now: datetime) -> dict[str, Any]:
    """Rework: back to the same technician, the clock restarted (also from a callback).
    The visit it ends is kept in `job_visits` with its times, work and sign-off."""
    db.execute(
        "INSERT INTO job_visits (job_id, visit, assignee_id, accepted_at, arrived_at,"
        " agreed_at, pause_reason, completed_at, work_done, materials, closed_at,"
        " signature_id, reopened_at, op_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,"
        " (SELECT max(id) FROM signatures WHERE job_id = ? AND id > (SELECT"
        "  coalesce(max(signature_id), 0) FROM job_visits WHERE job_id = ?)),?,?)",
        [job["id"], job["rework_count"] + 1, job["assignee_id"], job["accepted_at"],
         job["arrived_at"], job["agreed_at"], job["pause_reason"], job["completed_at"],
         job["work_done"], job["materials"], job["closed_at"], job["id"], job["id"],
         iso(now), cmd.op_id],
    )
    status = "assigned" if job["assignee_id"] else "new"
    _update(db, job, now, status=status, rework_count=job["rework_count"] + 1,
            reopened_at=iso(now), accepted_at=None, arrived_at=None, completed_at=None,
            closed_at=None, agreed_at=None, pause_reason=None)
    _note(db, cmd, job["id"], "reopen", reason, now)
    return _done(db, cmd, now, job, "reopen", reason=reason, requested_by=requested_by)


def cancel(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user, job = _step(db, cmd, "job.dispatch")
    reason = _text(cmd.payload, "reason", 500)
    if not reason:
        raise Invalid({"reason": N_("Say why the job is cancelled.")})
    _check_transition(cmd, job)
    _update(db, job, now, status="cancelled", cancel_reason=reason)
    _note(db, cmd, job["id"], "cancel", reason, now)
    return _done(db, cmd, now, job, "cancel", reason=reason)


def resolve(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """The desk has reviewed what came in from the field: clear the flag, say how."""
    user, job = _step(db, cmd, "job.dispatch")
    note = _text(cmd.payload, "note", 500)
    if not note:
        raise Invalid({"note": N_("Say how this was resolved.")})
    db.execute("UPDATE jobs SET flagged = 0 WHERE id = ?", [job["id"]])
    _note(db, cmd, job["id"], "review", note, now)
    return _done(db, cmd, now, job, "resolve", note=note)


HANDLERS: dict[str, Handler] = {
    "job.create": create,
    "job.edit": edit,
    "job.dispatch": _dispatch,
    "job.reassign": _dispatch,
    "job.reopen": reopen,
    "job.cancel": cancel,
    "job.resolve": resolve,
}
