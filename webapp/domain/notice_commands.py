"""Command handlers for notices: post, edit and withdraw (the desk, managers, admins).

A notice's times arrive as UTC ISO text (the form's local times converted by the web
layer); an empty or unreadable one is a missing time. Edit and withdraw are state
changes, refused once the notice has ended or been withdrawn.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, fields

from . import audit, people
from .notices import BODY_MAX, TARGET_TYPES, TITLE_MAX, changeable, get, iso
from .text import N_

TOKEN_BYTES = 16  # the public page's address: 128 bits, never derived from the id
MAX_TARGETS = 200


def _time(p: Any, key: str, errors: dict[str, str], missing: str) -> datetime | None:
    if not p.get(key):
        errors[key] = missing
        return None
    try:
        return fields.utc(p.get(key), key)
    except Invalid:
        errors[key] = missing
        return None


def _targets(db: Database, p: Any, estate_id: int, errors: dict[str, str]
             ) -> list[tuple[str, int]]:
    """The buildings, areas and equipment named ('building:3'); all of `estate_id`."""
    raw = p.get("places") or []
    if not isinstance(raw, list) or len(raw) > MAX_TARGETS:
        errors["places"] = N_("Choose where the notice applies.")
        return []
    tables = {"building": "buildings", "area": "common_areas", "equipment": "equipment"}
    found: list[tuple[str, int]] = []
    for ref in raw:
        place_type, _sep, ident = str(ref).partition(":")
        place_id = fields.maybe_id(ident)
        row = (db.execute(f"SELECT estate_id FROM {tables[place_type]} WHERE id = ?",
                          [place_id]).fetchone()
               if place_type in TARGET_TYPES and place_id is not None else None)
        if row is None or row[0] != estate_id:
            errors["places"] = N_("Choose where the notice applies.")
            return []
        if (place_type, place_id) not in found:
            found.append((place_type, place_id))
    return found


def _fields(db: Database, p: Any, estate_id: int, now: datetime,
            errors: dict[str, str]) -> dict[str, Any]:
    """The notice's checked fields, or errors for each one that is wrong."""
    title = fields.text(p.get("title"), TITLE_MAX).strip()
    body = fields.text(p.get("body"), BODY_MAX).strip()
    if not title:
        errors["title"] = N_("Write the notice's title.")
    if not body:
        errors["body"] = N_("Write what residents need to know.")
    starts = _time(p, "starts_at", errors, N_("Give the date and time it starts."))
    ends = _time(p, "ends_at", errors, N_("Give the date and time it ends."))
    if starts and ends and ends <= starts:
        errors["ends_at"] = N_("The end must be after the start.")
    elif ends and ends <= now:
        errors["ends_at"] = N_("This end time has already passed.")
    places = _targets(db, p, estate_id, errors)
    return {"title": title, "body": body, "starts_at": iso(starts) if starts else "",
            "ends_at": iso(ends) if ends else "", "places": places}


def _save_targets(db: Database, notice_id: int, places: list[tuple[str, int]]) -> None:
    db.execute("DELETE FROM notice_places WHERE notice_id = ?", [notice_id])
    for place_type, place_id in places:
        db.execute("INSERT INTO notice_places (notice_id, place_type, place_id) VALUES (?,?,?)",
                   [notice_id, place_type, place_id])


def _detail(values: dict[str, Any]) -> dict[str, Any]:
    return {**{k: values[k] for k in ("title", "starts_at", "ends_at")},
            "places": [f"{t}:{i}" for t, i in values["places"]]}


def post(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A new notice for an estate, or some of its buildings, areas or equipment."""
    user = people.actor(db, cmd, "notice.post")
    p = cmd.payload
    errors: dict[str, str] = {}
    estate_id = fields.maybe_id(p.get("estate_id"))
    if not people.serves(db, user["id"], estate_id):
        errors["estate_id"] = N_("Choose the estate.")
        estate_id = 0
    values = _fields(db, p, estate_id, now, errors)
    if errors:
        raise Invalid(errors)
    stamp = iso(now)
    notice_id = db.execute(
        "INSERT INTO notices (estate_id, title, body, starts_at, ends_at, token, created_by,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        [estate_id, values["title"], values["body"], values["starts_at"], values["ends_at"],
         secrets.token_urlsafe(TOKEN_BYTES), user["id"], stamp, stamp]).lastrowid
    assert notice_id is not None
    _save_targets(db, notice_id, values["places"])
    audit.record(db, cmd, now, "post", "notice", notice_id, _detail(values))
    return {"notice_id": notice_id, "version": 1}


def _step(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """The notice this step is for, in one of the user's estates, still changeable."""
    user = people.actor(db, cmd, "notice.post")
    notice_id = fields.target_id(cmd.target, "target", N_("Unknown notice."))
    notice = get(db, notice_id)
    if notice is None:
        raise Invalid({"target": N_("Unknown notice.")})
    people.require_estate(db, user["id"], notice["estate_id"])
    if not changeable(notice, now):
        raise Rejected("illegal_transition",
                       N_("This notice has ended or was withdrawn; it can no longer change."))
    if cmd.base_version is not None and cmd.base_version != notice["version"]:
        raise Rejected("stale", N_("Someone changed this notice meanwhile. Check it and "
                                   "save again."), {"version": notice["version"]})
    return notice


def edit(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """New wording, times or places for a notice not yet ended."""
    notice = _step(db, cmd, now)
    errors: dict[str, str] = {}
    values = _fields(db, cmd.payload, notice["estate_id"], now, errors)
    if errors:
        raise Invalid(errors)
    version = notice["version"] + 1
    db.execute("UPDATE notices SET title = ?, body = ?, starts_at = ?, ends_at = ?,"
               " updated_at = ?, version = ? WHERE id = ?",
               [values["title"], values["body"], values["starts_at"], values["ends_at"],
                iso(now), version, notice["id"]])
    _save_targets(db, notice["id"], values["places"])
    audit.record(db, cmd, now, "edit", "notice", notice["id"], _detail(values))
    return {"notice_id": notice["id"], "version": version}


def withdraw(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Take a notice down at once (a cut called off, works finished early)."""
    notice = _step(db, cmd, now)
    version = notice["version"] + 1
    db.execute("UPDATE notices SET withdrawn_at = ?, withdrawn_by = ?, version = ?"
               " WHERE id = ?", [iso(now), cmd.user_id, version, notice["id"]])
    audit.record(db, cmd, now, "withdraw", "notice", notice["id"], {})
    return {"notice_id": notice["id"], "version": version}


HANDLERS: dict[str, Handler] = {
    "notice.post": post,
    "notice.edit": edit,
    "notice.withdraw": withdraw,
}
