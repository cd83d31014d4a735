"""Command handlers for shift handovers: the outgoing person records the shift
(`handover.record`), the incoming person acknowledges it with a signature
(`handover.acknowledge`), once, and never their own. Both may come from a phone's outbox
hours later: their times are when the person acted (sync.acted_time), and the shift's
counts are made when the command applies, for the window that ended then."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, acted_time, fields

from . import access, audit, notifications, people
from .handovers import (
    ITEM_MAX,
    ITEMS_MAX,
    POSTS,
    TEXT_FIELDS,
    TEXT_MAX,
    get,
    iso,
    posts_for,
    search_text,
    summary,
    window_start,
)
from .handovers import checklist as items
from .text import N_


def record(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A shift's handover for one post of an estate, with what the app knows of it."""
    user = people.actor(db, cmd, "handover.record")
    p = cmd.payload
    errors: dict[str, str] = {}
    estate_id = fields.maybe_id(p.get("estate_id"))
    if not people.serves(db, user["id"], estate_id):
        errors["estate_id"] = N_("Choose the estate.")
        estate_id = 0
    post = str(p.get("post") or "")
    if post not in POSTS or post not in posts_for(user["role"]):
        errors["post"] = N_("Choose your post.")
    values = {k: fields.text(p.get(k), TEXT_MAX).strip() for k in TEXT_FIELDS}
    if not values["happened"]:
        errors["happened"] = N_("Write what happened during the shift (or that all was quiet).")
    checked = p.get("checked") or []
    if not isinstance(checked, list):
        checked = []
    if errors:
        raise Invalid(errors)
    # Recorded with no signal, sent later: the shift ended when the person handed over.
    at = acted_time(cmd, now)
    start = window_start(db, estate_id, post, at)
    counts = summary(db, estate_id, start, at)
    checklist = [[key, label, key in checked] for key, label in items(db, estate_id)]
    handover_id = db.execute(
        "INSERT INTO handovers (estate_id, post, window_start, happened, cause, actions,"
        " result, open_items, instructions, checklist, summary, search, recorded_by,"
        " recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [estate_id, post, start, *(values[k] for k in TEXT_FIELDS),
         json.dumps(checklist, ensure_ascii=False), json.dumps(counts),
         search_text(values, user["display_name"]), user["id"], iso(at)]).lastrowid
    assert handover_id is not None
    audit.record(db, cmd, now, "record", "handover", handover_id,
                 {"post": post, "window_start": start, "summary": counts})
    handover = get(db, handover_id)
    assert handover is not None
    # The incoming shift hears of it in this transaction (a refused or invalid one: none).
    notifications.announce(db, "handover.recorded", target=f"handover:{handover_id}",
                           estate_id=estate_id, params=notifications.handover_params(handover),
                           now=now, op_id=cmd.op_id, post=post, actor=user["id"])
    return {"handover_id": handover_id, "version": 1}


def acknowledge(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """The incoming person signs that they have read the handover: once, not their own."""
    user = people.actor(db, cmd, "handover.record")
    handover_id = fields.target_id(cmd.target, "target", N_("Unknown handover."))
    handover = get(db, handover_id)
    if handover is None:
        raise Invalid({"target": N_("Unknown handover.")})
    if (not people.serves(db, user["id"], handover["estate_id"])
            or handover["post"] not in posts_for(user["role"])):
        raise Rejected("forbidden", N_("This handover is not for your post."))
    if handover["recorded_by"] == user["id"]:
        raise Rejected("forbidden", N_("The next person on duty acknowledges a handover, "
                                       "not the one who wrote it."))
    if handover["acknowledged_at"]:
        raise Rejected("illegal_transition", N_("This handover was already acknowledged."))
    image = str(cmd.payload.get("signature_image") or "")
    if not image:
        raise Invalid({"signature": N_("Sign in the box to acknowledge.")})
    if access.unusable_files(db, cmd.user_id, [image]):
        raise Invalid({"signature": N_("The signature has not been uploaded yet.")})
    version = handover["version"] + 1
    # When the person signed (from the outbox: on the phone), never before the handover.
    at = max(iso(acted_time(cmd, now)), handover["recorded_at"])
    db.execute("UPDATE handovers SET acknowledged_by = ?, acknowledged_at = ?,"
               " signature_sha256 = ?, signature_strokes = ?, version = ? WHERE id = ?",
               [user["id"], at, image,
                fields.text(cmd.payload.get("strokes"), fields.LONG_FIELDS["strokes"]) or None,
                version, handover_id])
    audit.record(db, cmd, now, "acknowledge", "handover", handover_id,
                 {"signature": image})
    return {"handover_id": handover_id, "version": version}


def save_checklist(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """An estate's own shared-items checklist, one item a line; empty: the default."""
    user = people.actor(db, cmd, "estate.settings")
    p = cmd.payload
    estate_id = fields.maybe_id(p.get("estate_id"))
    if not people.serves(db, user["id"], estate_id):
        raise Invalid({"estate_id": N_("Choose the estate.")})
    lines = [line.strip() for line in fields.text(p.get("items"), 4000).splitlines()]
    labels = list(dict.fromkeys(line for line in lines if line))
    if len(labels) > ITEMS_MAX or any(len(label) > ITEM_MAX for label in labels):
        raise Invalid({"items": N_("At most 20 items, each at most 30 characters.")})
    db.execute("DELETE FROM handover_items WHERE estate_id = ?", [estate_id])
    for position, label in enumerate(labels, 1):
        db.execute("INSERT INTO handover_items (estate_id, position, label) VALUES (?,?,?)",
                   [estate_id, position, label])
    audit.record(db, cmd, now, "checklist", "estate", estate_id, {"items": labels})
    return {"estate_id": estate_id, "items": len(labels)}


HANDLERS: dict[str, Handler] = {
    "handover.checklist": save_checklist,
    "handover.record": record,
    "handover.acknowledge": acknowledge,
}
