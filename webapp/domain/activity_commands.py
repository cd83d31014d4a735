"""Command handlers for community activities: `activity.save` (a new activity with its
feedback survey, or a change to one) and `activity.participants` (how many took part,
once it has begun). The feedback itself goes through the survey's commands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, fields

from . import activities, audit, people, surveys
from .survey_commands import insert_questions
from .text import N_

CAPABILITY = "activity.manage"


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _activity(db: Database, cmd: Command, user: dict[str, Any]) -> dict[str, Any]:
    """The command's activity, in one of the user's estates."""
    found = activities.get(db, fields.target_id(cmd.target, "target",
                                                N_("Unknown activity.")))
    if found is None:
        raise Invalid({"target": N_("Unknown activity.")})
    people.require_estate(db, user["id"], found["estate_id"])
    return found


def _fields(p: Any, errors: dict[str, str]) -> dict[str, Any]:
    """The activity's typed fields, checked: title and start time are required."""
    values = {
        "title": fields.text(p.get("title"), activities.TITLE_LIMIT).strip(),
        "place": fields.text(p.get("place"), activities.PLACE_LIMIT).strip(),
        "organiser": fields.text(p.get("organiser"), activities.ORGANISER_LIMIT).strip(),
        "description": fields.text(p.get("description"), activities.DESCRIPTION_LIMIT).strip(),
    }
    if not values["title"]:
        errors["title"] = N_("Write the activity's title.")
    try:
        values["starts_at"] = iso(fields.utc(p.get("starts_at"), "starts_at"))
    except Invalid:
        errors["starts_at"] = N_("Enter the date and time it starts.")
    return values


def save(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `activity.save` (target `activity:new` or `activity:<id>`). A new
    activity gets its feedback survey in the same transaction: a draft with the given
    questions (the defaults, as the form offers them) and its shared link's token."""
    user = people.actor(db, cmd, CAPABILITY)
    p, errors = cmd.payload, {}
    values = _fields(p, errors)
    new = cmd.target == "activity:new"
    if new:
        estate_id = fields.maybe_id(p.get("estate_id"))
        if not people.serves(db, user["id"], estate_id):
            errors["estate_id"] = N_("Choose one of your estates.")
        raw = p.get("questions")
        qs, q_errors = surveys.parse_questions(
            raw if raw is not None else activities.default_questions(str))
        if not qs:
            errors["questions"] = N_("Add at least one question first.")
        errors.update(q_errors)
    if errors:
        raise Invalid(errors)
    year = datetime.fromisoformat(values["starts_at"]).year
    if new:
        activity_id = db.execute(
            "INSERT INTO activities (estate_id, title, starts_at, place, organiser,"
            " description, created_by, created_at) VALUES (?,?,?,?,?,?,?,?)",
            [estate_id, values["title"], values["starts_at"], values["place"],
             values["organiser"], values["description"], user["id"], iso(now)]).lastrowid
        survey_id = db.execute(
            "INSERT INTO surveys (estate_id, year, title, kind, activity_id, token,"
            " created_by, created_at) VALUES (?,?,?,?,?,?,?,?)",
            [estate_id, year, values["title"], "activity", activity_id, surveys.new_token(),
             user["id"], iso(now)]).lastrowid
        insert_questions(db, survey_id, qs)
    else:
        found = _activity(db, cmd, user)
        if cmd.base_version is not None and cmd.base_version != found["version"]:
            raise Rejected("conflict", N_("Someone else changed this activity meanwhile. "
                                          "Check it and save again."))
        activity_id = found["id"]
        db.execute("UPDATE activities SET title = ?, starts_at = ?, place = ?, organiser = ?,"
                   " description = ?, version = version + 1 WHERE id = ?",
                   [values["title"], values["starts_at"], values["place"],
                    values["organiser"], values["description"], activity_id])
        # The feedback survey is named as the activity, in its year.
        db.execute("UPDATE surveys SET title = ?, year = ? WHERE activity_id = ?",
                   [values["title"], year, activity_id])
    audit.record(db, cmd, now, "create" if new else "edit", "activity", activity_id,
                 {"title": values["title"], "starts_at": values["starts_at"]})
    return {"activity_id": activity_id}


def participants(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Handler for `activity.participants`: how many took part, entered once the activity
    has begun (a count before it would be a guess); may be corrected later."""
    user = people.actor(db, cmd, CAPABILITY)
    found = _activity(db, cmd, user)
    count = fields.integer(cmd.payload.get("participants"), "participants", 0,
                           activities.PARTICIPANTS_MAX,
                           N_("Enter how many took part, a whole number."))
    if not activities.started(found, now):
        raise Rejected("not_started", N_("Enter how many took part once the activity "
                                         "has begun."))
    db.execute("UPDATE activities SET participants = ?, version = version + 1 WHERE id = ?",
               [count, found["id"]])
    audit.record(db, cmd, now, "participants", "activity", found["id"],
                 {"participants": count})
    return {"activity_id": found["id"], "participants": count}


HANDLERS: dict[str, Handler] = {"activity.save": save, "activity.participants": participants}
