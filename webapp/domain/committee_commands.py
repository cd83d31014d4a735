"""Command handlers for the owners' committee and residents' meetings: a member, a
contact, a written submission and its reply, a meeting or activity and its minutes.

Days arrive as local ISO dates (YYYY-MM-DD); a day in the future is refused, since
each records what has happened.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, fields

from . import audit, people, workdays
from .committee import CONTACT_MAX, KINDS, METHODS, NAME_MAX, ROLES, TEXT_MAX, TITLE_MAX, get
from .text import N_

CAPABILITY = "committee.record"


def _estate(db: Database, cmd: Command) -> tuple[dict[str, Any], int]:
    user = people.actor(db, cmd, CAPABILITY)
    estate_id = fields.maybe_id(cmd.payload.get("estate_id"))
    if not people.serves(db, user["id"], estate_id):
        raise Invalid({"estate_id": N_("Choose the estate.")})
    return user, estate_id


def _past_day(p: Any, key: str, now: datetime, errors: dict[str, str]) -> date | None:
    try:
        day = fields.day(p.get(key), key)
    except Invalid:
        errors[key] = N_("Enter a date.")
        return None
    if day > workdays.local_date(now):
        errors[key] = N_("This date is in the future.")
        return None
    return day


def _text(p: Any, key: str, limit: int, errors: dict[str, str], missing: str) -> str:
    value = fields.text(p.get(key), limit).strip()
    if not value:
        errors[key] = missing
    return value


def _record(db: Database, cmd: Command, table: str, message: str) -> dict[str, Any]:
    """The submission or meeting a step is for, in one of the user's estates."""
    user = people.actor(db, cmd, CAPABILITY)
    row = get(db, table, fields.target_id(cmd.target, "target", message))
    if row is None:
        raise Invalid({"target": message})
    people.require_estate(db, user["id"], row["estate_id"])
    return row


def member(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A committee member: name, chair or member, contact, the day they took office."""
    user, estate_id = _estate(db, cmd)
    p, errors = cmd.payload, {}
    name = _text(p, "name", NAME_MAX, errors, N_("Write the member's name."))
    role = p.get("role")
    if role not in ROLES:
        errors["role"] = N_("Choose chair or member.")
    contact = fields.text(p.get("contact"), CONTACT_MAX).strip()
    since = _past_day(p, "since", now, errors)
    if errors:
        raise Invalid(errors)
    member_id = db.execute(
        "INSERT INTO committee_members (estate_id, name, role, contact, since, created_by,"
        " created_at) VALUES (?,?,?,?,?,?,?)",
        [estate_id, name, role, contact, str(since), user["id"],
         now.isoformat(timespec="seconds")]).lastrowid
    audit.record(db, cmd, now, "member", "committee_member", member_id,
                 {"name": name, "role": role})
    return {"member_id": member_id}


def contact(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A contact with a member: who, on which day, how, what was discussed."""
    user = people.actor(db, cmd, CAPABILITY)
    p, errors = cmd.payload, {}
    row = get(db, "committee_members", fields.maybe_id(p.get("member_id")) or 0)
    if row is None or not row["active"] or not people.serves(db, user["id"], row["estate_id"]):
        errors["member_id"] = N_("Choose who was contacted.")
    day = _past_day(p, "contacted_on", now, errors)
    method = p.get("method")
    if method not in METHODS:
        errors["method"] = N_("Choose how.")
    topics = _text(p, "topics", TEXT_MAX, errors, N_("Write what was discussed."))
    if errors:
        raise Invalid(errors)
    assert row is not None
    contact_id = db.execute(
        "INSERT INTO committee_contacts (member_id, contacted_on, method, topics,"
        " recorded_by, created_at) VALUES (?,?,?,?,?,?)",
        [row["id"], str(day), method, topics, user["id"],
         now.isoformat(timespec="seconds")]).lastrowid
    audit.record(db, cmd, now, "contact", "committee_member", row["id"],
                 {"contacted_on": str(day), "method": method})
    return {"contact_id": contact_id}


def submission(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A written submission from the committee, received on a day."""
    user, estate_id = _estate(db, cmd)
    p, errors = cmd.payload, {}
    title = _text(p, "title", TITLE_MAX, errors, N_("Write the submission's subject."))
    body = _text(p, "body", TEXT_MAX, errors, N_("Write what the committee asks."))
    day = _past_day(p, "received_on", now, errors)
    if errors:
        raise Invalid(errors)
    submission_id = db.execute(
        "INSERT INTO committee_submissions (estate_id, title, body, received_on, created_by,"
        " created_at) VALUES (?,?,?,?,?,?)",
        [estate_id, title, body, str(day), user["id"],
         now.isoformat(timespec="seconds")]).lastrowid
    audit.record(db, cmd, now, "submission", "committee_submission", submission_id,
                 {"title": title, "received_on": str(day)})
    return {"submission_id": submission_id}


def reply(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """The written reply to a submission, once."""
    row = _record(db, cmd, "committee_submissions", N_("Unknown submission."))
    if row["replied_on"]:
        raise Rejected("illegal_transition", N_("This submission has been answered."))
    p, errors = cmd.payload, {}
    text = _text(p, "reply", TEXT_MAX, errors, N_("Write the reply."))
    day = _past_day(p, "replied_on", now, errors)
    if day and day < date.fromisoformat(row["received_on"]):
        errors["replied_on"] = N_("The reply cannot be before the submission arrived.")
    if errors:
        raise Invalid(errors)
    db.execute("UPDATE committee_submissions SET reply = ?, replied_on = ?, replied_by = ?"
               " WHERE id = ?", [text, str(day), cmd.user_id, row["id"]])
    audit.record(db, cmd, now, "reply", "committee_submission", row["id"],
                 {"replied_on": str(day)})
    return {"submission_id": row["id"]}


def meeting(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A residents' meeting or community activity held on a day."""
    user, estate_id = _estate(db, cmd)
    p, errors = cmd.payload, {}
    kind = p.get("kind")
    if kind not in KINDS:
        errors["kind"] = N_("Choose a meeting or an activity.")
    title = _text(p, "title", TITLE_MAX, errors, N_("Write its title."))
    day = _past_day(p, "held_on", now, errors)
    if errors:
        raise Invalid(errors)
    meeting_id = db.execute(
        "INSERT INTO committee_meetings (estate_id, kind, title, held_on, created_by,"
        " created_at) VALUES (?,?,?,?,?,?)",
        [estate_id, kind, title, str(day), user["id"],
         now.isoformat(timespec="seconds")]).lastrowid
    audit.record(db, cmd, now, "meeting", "committee_meeting", meeting_id,
                 {"kind": kind, "held_on": str(day)})
    return {"meeting_id": meeting_id}


def minutes(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A meeting's minutes, published on a day (once)."""
    row = _record(db, cmd, "committee_meetings", N_("Unknown meeting."))
    if row["published_on"]:
        raise Rejected("illegal_transition", N_("These minutes have been published."))
    p, errors = cmd.payload, {}
    text = _text(p, "minutes", TEXT_MAX, errors, N_("Write the minutes."))
    day = _past_day(p, "published_on", now, errors)
    if day and day < date.fromisoformat(row["held_on"]):
        errors["published_on"] = N_("The minutes cannot be published before the meeting.")
    if errors:
        raise Invalid(errors)
    db.execute("UPDATE committee_meetings SET minutes = ?, published_on = ? WHERE id = ?",
               [text, str(day), row["id"]])
    audit.record(db, cmd, now, "minutes", "committee_meeting", row["id"],
                 {"published_on": str(day)})
    return {"meeting_id": row["id"]}


HANDLERS: dict[str, Handler] = {
    "committee.member": member,
    "committee.contact": contact,
    "committee.submit": submission,
    "committee.reply": reply,
    "committee.meeting": meeting,
    "committee.minutes": minutes,
}
