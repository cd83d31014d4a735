"""Command handlers for complaints: intake, verification, the handling path, investigation,
the result told to the complainant, and follow-up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, acted_time, fields

from . import access, audit, callbacks, estates, notifications, people, records
from .complaints import (
    CATEGORIES,
    CHANNELS,
    IDENTITIES,
    LEVELS,
    PATHS,
    TRANSITIONS,
    effective_level,
    get,
    open_repeat_of,
)
from .job_commands import dispatch_job, insert_job
from .jobs import DEPARTMENT_CATEGORY, get_job
from .numbers import next_number
from .settings import estate_settings
from .text import N_


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _text(p: Any, key: str, limit: int = 2000) -> str:
    return fields.text(p.get(key), limit).strip()


def _step(db: Database, cmd: Command, capability: str) -> tuple[dict, dict]:
    user = people.actor(db, cmd, capability)
    complaint_id = fields.target_id(cmd.target, "target", N_("Unknown complaint."))
    c = get(db, complaint_id)
    if c is None:
        raise Invalid({"target": N_("Unknown complaint.")})
    people.require_estate(db, user["id"], c["estate_id"])
    return user, c


def _check(cmd: Command, c: dict[str, Any]) -> None:
    if c["status"] not in TRANSITIONS[cmd.kind]:
        raise Rejected("illegal_transition",
                       N_("This step does not fit the complaint's current state."),
                       {"status": c["status"], "version": c["version"]})


def _update(db: Database, c: dict[str, Any], now: datetime, **fields: Any) -> None:
    fields.update(version=c["version"] + 1, updated_at=iso(now))
    sets = ", ".join(f"{k} = ?" for k in fields)
    db.execute(f"UPDATE complaints SET {sets} WHERE id = ?", [*fields.values(), c["id"]])


def _note(db: Database, cmd: Command, cid: int, kind: str, text: str, now: datetime) -> None:
    if text:
        db.execute(
            "INSERT INTO complaint_notes (complaint_id, user_id, kind, text, at, op_id) "
            "VALUES (?,?,?,?,?,?)",
            [cid, cmd.user_id, kind, text, iso(acted_time(cmd, now)), cmd.op_id],
        )


def _evidence(db: Database, cmd: Command, cid: int, stage: str) -> int:
    hashes = [str(h) for h in cmd.payload.get("photos") or []]
    if access.unusable_files(db, cmd.user_id, hashes):
        raise Invalid({"photos": N_("A photo has not been uploaded yet.")})
    for sha in hashes:
        db.execute(
            "INSERT OR IGNORE INTO complaint_files (complaint_id, sha256, stage, op_id) "
            "VALUES (?,?,?,?)", [cid, sha, stage, cmd.op_id])
    return len(hashes)


def _done(db: Database, cmd: Command, now: datetime, cid: int, action: str, **detail: Any):
    audit.record(db, cmd, now, action, "complaint", cid, detail)
    c = get(db, cid)
    assert c is not None
    return {"complaint_id": cid, "status": c["status"], "version": c["version"]}


def _handled(db: Database, c: dict[str, Any], now: datetime) -> None:
    """A handled complaint gets its information callback; major ones go to the manager."""
    major = effective_level(c, estate_settings(db, c["estate_id"]), now) == "major"
    callbacks.on_handled(
        db, estate_id=c["estate_id"], source="complaint", source_id=c["id"],
        unit_id=c["unit_id"], contact_name=c["complainant_name"], contact_phone=c["contact"],
        received_by=c["received_by"], major=major, handled_at=now,
    )


def validate_intake(db: Database, p: Any, allowed: list[int]) -> dict[str, str]:
    _estate, _unit, errors = estates.intake_place(db, p, allowed)
    if not _text(p, "complainant_name", 50):
        errors["complainant_name"] = N_("Enter the complainant's name.")
    if not _text(p, "contact", 100):
        errors["contact"] = N_("Enter a phone number or address to reach them.")
    for key, vocab, message in (
        ("channel", CHANNELS, N_("Choose how the complaint came in.")),
        ("identity", IDENTITIES, N_("Choose who is complaining.")),
        ("category", CATEGORIES, N_("Choose what the complaint is about.")),
        ("level", LEVELS, N_("Choose major, important or minor.")),
    ):
        if p.get(key) not in vocab:
            errors[key] = message
    if len(_text(p, "content")) < 2:
        errors["content"] = N_("Write down what the complainant said.")
    return errors


def create_complaint(db: Database, cmd: Command, user: dict, now: datetime,
                     source_callback_id: int | None = None) -> int:
    """Record a complaint; a repeat by the same household while open makes it major."""
    p = cmd.payload
    errors = validate_intake(db, p, people.estate_ids(db, user["id"]))
    if errors:
        raise Invalid(errors)
    estate_id = int(p["estate_id"])
    settings = estate_settings(db, estate_id)
    unit_id = p.get("unit_id") or None
    contact = _text(p, "contact", 100)
    repeat = open_repeat_of(db, estate_id, unit_id, contact, p["category"])
    level = p["level"]
    if repeat and settings["complaint_repeat_is_major"]:
        level = "major"
        db.execute("UPDATE complaints SET level = 'major', repeats = repeats + 1, "
                   "version = version + 1 WHERE id = ?", [repeat["id"]])
        audit.record(db, cmd, now, "level", "complaint", repeat["id"],
                     {"level": "major", "reason": "repeat"})
        notifications.complaint_major(db, repeat["id"], now, cmd)
    at = iso(acted_time(cmd, now))
    cid = db.execute(
        """INSERT INTO complaints (number, estate_id, unit_id, channel, complainant_name,
           contact, identity, category, level, content, status, received_by, received_at,
           repeat_of, source_callback_id, updated_at)
           VALUES (?,?,?,?,?,?,?,?,?,?, 'new', ?,?,?,?,?)""",
        [next_number(db, "C", now), estate_id, unit_id, p["channel"],
         _text(p, "complainant_name", 50), contact, p["identity"], p["category"], level,
         _text(p, "content"), user["id"], at, repeat["id"] if repeat else None,
         source_callback_id, iso(now)],
    ).lastrowid
    _evidence(db, cmd, cid, "intake")
    if level == "major":
        notifications.complaint_major(db, cid, now, cmd)
    audit.record(db, cmd, now, "create", "complaint", cid,
                 {"level": level, "repeat_of": repeat["id"] if repeat else None})
    return cid


def create(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user = people.actor(db, cmd, "complaint.intake")
    cid = create_complaint(db, cmd, user, now)
    c = get(db, cid)
    assert c is not None
    return {"complaint_id": cid, "number": c["number"], "status": "new", "level": c["level"]}


def verify(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user, c = _step(db, cmd, "complaint.handle")
    text = _text(cmd.payload, "verification")
    if not text:
        raise Invalid({"verification": N_("Write down what the verification call confirmed.")})
    _check(cmd, c)
    _update(db, c, now, status="verified", verified_at=iso(acted_time(cmd, now)),
            verification=text)
    _note(db, cmd, c["id"], "verify", text, now)
    return _done(db, cmd, now, c["id"], "verify")


def route(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Choose the handling path: not ours, difficult (to the manager), or ordinary."""
    user, c = _step(db, cmd, "complaint.handle")
    p = cmd.payload
    path, reason = p.get("path"), _text(p, "reason", 500)
    errors: dict[str, str] = {}
    if path not in PATHS:
        errors["path"] = N_("Choose how the complaint is handled.")
    if not reason:
        errors["reason"] = N_("Say why.")
    assignee = None
    department = str(p.get("department") or "")
    if path == "not_ours" and not _text(p, "pointed_channel", 200):
        errors["pointed_channel"] = N_("Say where the complainant was pointed to.")
    if path == "ordinary":
        to = str(p.get("to") or "")
        assignee = fields.maybe_id(to[5:]) if to.startswith("user:") else None
        if assignee is not None:
            staff = people.get_user(db, assignee)
            if staff is None or not people.serves(db, assignee, c["estate_id"]):
                errors["to"] = N_("Choose a person who works on this estate.")
            else:
                department = staff["department"]
        elif to.startswith("dept:") and to[5:] in people.DEPARTMENTS:
            department = to[5:]
        else:
            errors["to"] = N_("Choose a department or a person.")
    if errors:
        raise Invalid(errors)
    _check(cmd, c)
    at = iso(acted_time(cmd, now))
    if path == "not_ours":
        _update(db, c, now, status="explained", path=path, path_reason=reason,
                pointed_channel=_text(p, "pointed_channel", 200), routed_at=at, answered_at=at)
        _handled(db, c, now)
    elif path == "difficult":
        manager = db.execute(
            "SELECT u.id FROM users u JOIN user_estates ue ON ue.user_id = u.id WHERE "
            "ue.estate_id = ? AND u.role = 'manager' AND u.active = 1 ORDER BY u.id LIMIT 1",
            [c["estate_id"]]).fetchone()
        _update(db, c, now, status="escalated", path=path, path_reason=reason, routed_at=at,
                department="management", assignee_id=manager[0] if manager else None)
        notifications.complaint_dispatched(db, cmd, c["id"], now)
    else:
        _update(db, c, now, status="dispatched", path=path, path_reason=reason, routed_at=at,
                department=department, assignee_id=assignee)
        _linked_job(db, cmd, c, department, assignee, now)
        notifications.complaint_dispatched(db, cmd, c["id"], now)
    _note(db, cmd, c["id"], "route", reason, now)
    return _done(db, cmd, now, c["id"], "route", path=path, department=department,
                 assignee_id=assignee)


def _linked_job(db: Database, cmd: Command, c: dict[str, Any], department: str,
                assignee: int | None, now: datetime) -> None:
    """A complaint sent to a department that does jobs becomes that department's work: a
    job in its pool, or the chosen person's, linked from the complaint so the desk sees
    its progress (and the technicians see it where they see all their work). A job
    still open from an earlier routing to the same department is kept, not doubled."""
    if department not in DEPARTMENT_CATEGORY:
        return  # the service centre or management handle it themselves
    if c["job_id"]:
        open_job = db.execute("SELECT department FROM jobs WHERE id = ? AND status NOT IN "
                              "('completed', 'closed', 'cancelled')", [c["job_id"]]).fetchone()
        if open_job is not None and open_job[0] == department:
            return
    created = insert_job(
        db, cmd, now, estate_id=c["estate_id"], unit_id=c["unit_id"],
        reporter_name=c["complainant_name"], reporter_phone=c["contact"], source="complaint",
        category=DEPARTMENT_CATEGORY[department], job_class="small",
        description=f"{c['number']} · {c['content']}", photos=[], department=department)
    job = get_job(db, created["job_id"])
    assert job is not None
    # The person chosen takes it when they are one of the estate's field workers (a
    # department's manager is not): otherwise it waits in the department's pool.
    field = {s["id"] for s in people.staff_for(db, c["estate_id"], department)}
    target = f"user:{assignee}" if assignee in field else f"pool:{department}"
    dispatch_job(db, cmd, job, target, c["number"], "dispatch", now)
    db.execute("UPDATE complaints SET job_id = ? WHERE id = ?", [job["id"], c["id"]])


def investigate(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Investigation notes and evidence: facts, kept whatever the state."""
    user, c = _step(db, cmd, "complaint.work")
    text = _text(cmd.payload, "note")
    if not text:
        raise Invalid({"note": N_("Write down what the investigation found.")})
    _note(db, cmd, c["id"], "investigate", text, now)
    count = _evidence(db, cmd, c["id"], "investigation")
    return _done(db, cmd, now, c["id"], "investigate", photos=count)


def answer(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """The result told to the complainant: outcome, solution, how it will be prevented."""
    user, c = _step(db, cmd, "complaint.work")
    p = cmd.payload
    errors = {k: m for k, m in (
        ("outcome", N_("Write down the outcome.")),
        ("solution", N_("Write down the solution.")),
        ("prevention", N_("Say how it will be prevented.")),
    ) if not _text(p, k)}
    if errors:
        raise Invalid(errors)
    _check(cmd, c)
    _update(db, c, now, status="answered", answered_at=iso(acted_time(cmd, now)),
            outcome=_text(p, "outcome"), solution=_text(p, "solution"),
            prevention=_text(p, "prevention"))
    _handled(db, c, now)
    return _done(db, cmd, now, c["id"], "answer")


def follow_up(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Follow-up with the complainant: satisfied closes it, not satisfied sends it back."""
    user, c = _step(db, cmd, "complaint.handle")
    p = cmd.payload
    note = _text(p, "note", 1000)
    if p.get("satisfied") not in ("1", "0", 1, 0, True, False):
        raise Invalid({"satisfied": N_("Say whether the complainant is satisfied.")})
    satisfied = p.get("satisfied") in ("1", 1, True)
    ratings = callbacks.parse_ratings(p, "complaint")
    if not satisfied and not note:
        raise Invalid({"note": N_("Say what is still wrong.")})
    _check(cmd, c)
    _note(db, cmd, c["id"], "follow_up", note, now)
    _counts_as_callback(db, cmd, c, user, satisfied, ratings, note, now)
    if satisfied:
        _update(db, c, now, status="closed", closed_at=iso(acted_time(cmd, now)), satisfied=1)
    else:
        back = "escalated" if c["path"] == "difficult" else "dispatched"
        _update(db, c, now, status=back, satisfied=0, answered_at=None)
    return _done(db, cmd, now, c["id"], "follow_up", satisfied=satisfied)


def _counts_as_callback(db: Database, cmd: Command, c: dict[str, Any], user: dict[str, Any],
                        satisfied: bool, ratings: dict[str, int], note: str,
                        now: datetime) -> None:
    """The follow-up reached the complainant: that is the information callback the answer
    opened, so it is recorded on that task and closes it; no second call is made."""
    found = db.execute(
        "SELECT id FROM callback_tasks WHERE source = 'complaint' AND source_id = ? AND "
        "kind = 'information' AND status = 'open' ORDER BY id DESC LIMIT 1", [c["id"]]
    ).fetchone()
    task = callbacks.get_task(db, found[0]) if found else None
    if task is None:
        return
    at = iso(acted_time(cmd, now))
    row = {"method": "follow_up", "reached": 1, "ratings": ratings, "satisfied": int(satisfied),
           "comments": note, "signer_name": "", "signature_sha256": None, "at": at,
           "user_id": user["id"]}
    records.add_callback(db, task, row, cmd.op_id)
    callbacks.close_task(db, task["id"], at, user["id"])
    audit.record(db, cmd, now, "done", "callback", task["id"],
                 {"method": "follow_up", "satisfied": satisfied})


def set_level(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    user, c = _step(db, cmd, "complaint.handle")
    level, reason = cmd.payload.get("level"), _text(cmd.payload, "reason", 500)
    errors = {}
    if level not in LEVELS:
        errors["level"] = N_("Choose major, important or minor.")
    if not reason:
        errors["reason"] = N_("Say why.")
    if errors:
        raise Invalid(errors)
    _check(cmd, c)
    _update(db, c, now, level=level)
    if level == "major":
        notifications.complaint_major(db, c["id"], now, cmd)
    _note(db, cmd, c["id"], "level", reason, now)
    return _done(db, cmd, now, c["id"], "level", level=level)


HANDLERS: dict[str, Handler] = {
    "complaint.create": create,
    "complaint.verify": verify,
    "complaint.route": route,
    "complaint.investigate": investigate,
    "complaint.answer": answer,
    "complaint.follow_up": follow_up,
    "complaint.level": set_level,
}
