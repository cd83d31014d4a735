"""Command handlers for environment feedback: sent from the field (often offline), then
answered, closed or turned into a job by the desk.

Feedback is a fact: once its input is valid it is stored, whatever happened meanwhile.
The desk's steps are state changes and may be refused (an item already turned into a job).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, acted_time, fields

from . import access, audit, people, places
from .feedback import (
    CATEGORIES,
    DEPARTMENT_CATEGORY,
    JOB_CATEGORY,
    TRANSITIONS,
    find_unit,
    get,
)
from .job_commands import insert_job
from .jobs import CLASSES
from .text import N_, plain


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _text(p: Any, key: str, limit: int = 1000) -> str:
    return fields.text(p.get(key), limit).strip()


def _place(db: Database, p: Any, estate_ids: list[int], errors: dict[str, str]) -> dict | None:
    """The place the worker chose (a listed one, or building and room); else an error."""
    choice = str(p.get("place") or "")
    if choice == "unit":
        try:
            building = fields.optional_id(p.get("building_id"), "building_id") or 0
        except Invalid:
            building = 0
        if not building:
            errors["building_id"] = N_("Choose the building.")
            return None
        # Full-width digits as a Chinese keyboard types them, as the other unit fields take.
        number = plain(_text(p, "unit_number", 20)).replace(" ", "")
        unit_id = find_unit(db, building, number) if number else None
        if unit_id is None:
            errors["unit_number"] = N_("There is no such room in this building.")
            return None
        place = places.get_place(db, "unit", unit_id)
    else:
        place_type, _sep, ident = choice.partition(":")
        try:
            place = (places.get_place(db, place_type, fields.record_id(ident, "place"))
                     if place_type in places.PLACE_TYPES else None)
        except Invalid:
            place = None
    if place is None or place["estate_id"] not in estate_ids:
        errors["building_id" if choice == "unit" else "place"] = N_("Choose where it is.")
        return None
    return place


def create(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A worker's feedback: place, category, note and photos, at the time they sent it."""
    user = people.actor(db, cmd, "feedback.send")
    p = cmd.payload
    errors: dict[str, str] = {}
    place = _place(db, p, people.estate_ids(db, user["id"]), errors)
    category = str(p.get("category") or "")
    if category not in CATEGORIES:
        errors["category"] = N_("Choose what kind of problem it is.")
    note = _text(p, "note")
    hashes = [str(h) for h in p.get("photos") or []]
    # A resident's words need writing down; "other" says nothing without a note or photo.
    if category == "remark" and not note:
        errors["note"] = N_("Write down what the resident said.")
    if category == "other" and not note and not hashes:
        errors["note"] = N_("Say what you saw, or add a photo.")
    if access.unusable_files(db, cmd.user_id, hashes):
        errors["photos"] = N_("A photo has not been uploaded yet.")
    if errors:
        raise Invalid(errors)
    assert place is not None
    feedback_id = db.execute(
        "INSERT INTO feedback (estate_id, place_type, place_id, category, note, user_id, at, "
        "op_id) VALUES (?,?,?,?,?,?,?,?)",
        [place["estate_id"], place["place_type"], place["id"], category, note, user["id"],
         iso(acted_time(cmd, now)), cmd.op_id],
    ).lastrowid
    for sha in hashes:
        db.execute("INSERT OR IGNORE INTO feedback_photos (feedback_id, sha256) VALUES (?,?)",
                   [feedback_id, sha])
    audit.record(db, cmd, now, "create", "feedback", feedback_id,
                 {"category": category, "place": f"{place['place_type']}:{place['id']}",
                  "photos": len(hashes)})
    return {"feedback_id": feedback_id, "status": "new"}


def _step(db: Database, cmd: Command) -> tuple[dict[str, Any], dict[str, Any]]:
    """The desk user and the item, in one of their estates, in a state this step fits."""
    user = people.actor(db, cmd, "feedback.handle")
    feedback_id = fields.target_id(cmd.target, "target", N_("Unknown feedback."))
    item = get(db, feedback_id)
    if item is None:
        raise Invalid({"target": N_("Unknown feedback.")})
    people.require_estate(db, user["id"], item["estate_id"])
    if item["status"] not in TRANSITIONS[cmd.kind]:
        message = (N_("This feedback has already been turned into a job.")
                   if item["status"] == "job"
                   else N_("This step does not fit the feedback's current state."))
        raise Rejected("illegal_transition", message,
                       {"status": item["status"], "job_id": item["job_id"]})
    return user, item


def _done(db: Database, cmd: Command, now: datetime, item: dict[str, Any], action: str,
          **detail: Any) -> dict[str, Any]:
    audit.record(db, cmd, now, action, "feedback", item["id"], detail)
    fresh = get(db, item["id"])
    assert fresh is not None
    return {"feedback_id": item["id"], "status": fresh["status"], "job_id": fresh["job_id"]}


def answer(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A note back to the worker who sent it."""
    user, item = _step(db, cmd)
    text = _text(cmd.payload, "answer")
    if not text:
        raise Invalid({"answer": N_("Write the answer.")})
    db.execute("UPDATE feedback SET status = 'answered', answer = ?, answered_by = ?, "
               "answered_at = ? WHERE id = ?", [text, user["id"], iso(now), item["id"]])
    return _done(db, cmd, now, item, "answer", answer=text)


def close(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Nothing more to do; a note, if given, is the answer when there is none yet."""
    user, item = _step(db, cmd)
    note = _text(cmd.payload, "note")
    if note and not item["answer"]:
        db.execute("UPDATE feedback SET answer = ?, answered_by = ?, answered_at = ? "
                   "WHERE id = ?", [note, user["id"], iso(now), item["id"]])
    db.execute("UPDATE feedback SET status = 'closed' WHERE id = ?", [item["id"]])
    return _done(db, cmd, now, item, "close", note=note)


def job_category(item: dict[str, Any], department: str) -> str | None:
    """The job category for the item: from its own category, else the desk's department."""
    return JOB_CATEGORY.get(item["category"]) or DEPARTMENT_CATEGORY.get(department)


def default_description(item: dict[str, Any]) -> str:
    return " ".join(x for x in (f"[{item['place_name']}]" if item["place_name"] else "",
                                item["note"]) if x)


def to_job(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A job for the department that does the work, linked to the item, in one step."""
    user, item = _step(db, cmd)
    p = cmd.payload
    errors: dict[str, str] = {}
    category = job_category(item, str(p.get("department") or ""))
    if category is None:
        errors["department"] = N_("Choose the department that should do this.")
    job_class = str(p.get("job_class") or "small")
    if job_class not in CLASSES:
        errors["job_class"] = N_("Choose emergency, small or medium repair.")
    description = _text(p, "description", 2000) or default_description(item)
    if len(description) < 2:
        errors["description"] = N_("Describe the problem.")
    if errors:
        raise Invalid(errors)
    assert category is not None
    job = insert_job(
        db, cmd, now, estate_id=item["estate_id"],
        unit_id=item["place_id"] if item["place_type"] == "unit" else None,
        reporter_name=item["user_name"] or "", reporter_phone=item["user_phone"] or "",
        source="feedback", category=category, job_class=job_class, description=description,
        photos=item["photos"])
    db.execute("UPDATE feedback SET status = 'job', job_id = ? WHERE id = ?",
               [job["job_id"], item["id"]])
    result = _done(db, cmd, now, item, "to_job", job_id=job["job_id"], number=job["number"],
                   category=category)
    result["number"] = job["number"]
    return result


HANDLERS: dict[str, Handler] = {
    "feedback.create": create,
    "feedback.answer": answer,
    "feedback.close": close,
    "feedback.to_job": to_job,
}
