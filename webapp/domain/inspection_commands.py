"""Inspection commands: record a visit's checklist (a fact, offline too), make a job of a
failed item, add a place to the day's round, and edit a checklist template.

A recorded checklist is never refused for the state of anything: the place's results
are stored as the supervisor gave them. Each failed item marked "make a job" becomes a
job for the item's department in the same transaction, linked from the result.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, acted_time, fields, parse_device_time

from . import access, audit, people, places
from .inspections import (
    FIX_DEPARTMENTS,
    PLACE_KINDS,
    RESULTS,
    find_unit,
    get_template,
    iso,
    items,
    local_day,
    round_template,
    template_for,
)
from .job_commands import insert_job
from .jobs import DEPARTMENT_CATEGORY
from .text import N_

# Maintenance work on some kinds of place has a closer category.
MAINTENANCE_CATEGORY = {"lift": "lift", "unit": "other"}
REF = re.compile(r"^(unit|area|equipment):(\d{1,12})$")



def _place(db: Database, ref: str) -> dict[str, Any] | None:
    m = REF.match(ref or "")
    return places.get_place(db, m.group(1), _int(m.group(2)) or 0) if m else None


def _text(value: Any, limit: int) -> str:
    return fields.text(value, limit).strip()


def _int(value: Any) -> int | None:
    try:
        return fields.record_id(value, "id")
    except Invalid:
        return None


def job_category(kind: str, department: str) -> str:
    if department == "maintenance":
        return MAINTENANCE_CATEGORY.get(kind, DEPARTMENT_CATEGORY[department])
    return DEPARTMENT_CATEGORY[department]


def _make_job(db: Database, cmd: Command, now: datetime, user: dict[str, Any],
              place: dict[str, Any], kind: str, result: dict[str, Any],
              photos: list[str]) -> dict[str, Any]:
    """A small repair for the failed item's department, linked from the result."""
    department = result["department"]
    if department not in DEPARTMENT_CATEGORY:
        department = "maintenance"
    description = f"{place['name']} · {result['item_text']}"
    if result["note"]:
        description += f" · {result['note']}"
    job = insert_job(
        db, cmd, now, estate_id=place["estate_id"],
        unit_id=place["id"] if place["place_type"] == "unit" else None,
        reporter_name=user["display_name"], reporter_phone=user["phone"] or "",
        source="inspection", category=job_category(kind, department), job_class="small",
        description=description, photos=photos, department=department)
    db.execute("UPDATE inspection_results SET job_id = ? WHERE id = ?",
               [job["job_id"], result["id"]])
    return job


def _visited_at(cmd: Command, value: Any, finished: datetime, now: datetime) -> datetime:
    """When the checklist was opened, by the phone's clock corrected like the command's."""
    opened = parse_device_time(str(value or ""))
    if opened is None:
        return finished
    if cmd.device_time is not None:
        opened += (cmd.acted_at or now) - cmd.device_time
    return min(opened, finished)


def _answers(db: Database, p: Any, shown: list[int],
             user_id: int | None) -> dict[int, dict[str, Any]]:
    raw = p.get("results") if isinstance(p.get("results"), dict) else {}
    errors: dict[str, str] = {}
    out = {}
    for item_id in shown:
        a = raw.get(str(item_id)) if isinstance(raw.get(str(item_id)), dict) else {}
        result = a.get("result")
        photos = [str(h) for h in a.get("photos") or [] if h]
        if result not in RESULTS:
            errors[f"result_{item_id}"] = N_("Choose pass, fail or not applicable.")
        elif access.unusable_files(db, user_id, photos):
            errors[f"photos_{item_id}"] = N_("A photo has not been uploaded yet.")
        out[item_id] = {"result": result, "note": _text(a.get("note"), 500), "photos": photos,
                        "job": result == "fail" and a.get("job") in (True, "1", 1)}
    if errors:
        raise Invalid(errors)
    return out


def record(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """One visit's checklist, as the supervisor filled it in (target: 'unit:12' etc.)."""
    user = people.actor(db, cmd, "inspection.do")
    place = _place(db, cmd.target)
    if place is None:
        raise Invalid({"target": N_("Unknown place.")})
    people.require_estate(db, user["id"], place["estate_id"])
    p = cmd.payload
    template = get_template(db, _int(p.get("template_id")) or 0)
    if template is None:
        raise Invalid({"template_id": N_("Unknown checklist. Reload the page.")})
    known = {i["id"]: i for i in items(db, template["id"], active_only=False)}
    listed = p.get("items") if isinstance(p.get("items"), list) else []
    shown = [_int(i) for i in listed]
    if not shown or any(i not in known for i in shown):
        raise Invalid({"items": N_("The checklist has changed. Reload the page.")})
    answers = _answers(db, p, shown, cmd.user_id)  # type: ignore[arg-type]
    finished = acted_time(cmd, now)
    visited = _visited_at(cmd, p.get("visited_at"), finished, now)
    round_row = db.execute(
        "SELECT r.id FROM inspection_rounds r JOIN round_places rp ON rp.round_id = r.id "
        "WHERE r.supervisor_id = ? AND r.estate_id = ? AND r.day = ? AND rp.place_type = ? "
        "AND rp.place_id = ?", [user["id"], place["estate_id"], local_day(visited),
                                place["place_type"], place["id"]]).fetchone()
    inspection_id = db.execute(
        "INSERT INTO inspections (estate_id, round_id, place_type, place_id, template_id, "
        "supervisor_id, visited_at, finished_at, op_id) VALUES (?,?,?,?,?,?,?,?,?)",
        [place["estate_id"], round_row[0] if round_row else None, place["place_type"],
         place["id"], template["id"], user["id"], iso(visited), iso(finished), cmd.op_id],
    ).lastrowid
    job_ids = []
    for item_id, a in answers.items():
        item = known[item_id]
        result_id = db.execute(
            "INSERT INTO inspection_results (inspection_id, item_id, result, note, at, op_id, "
            "item_text, department) VALUES (?,?,?,?,?,?,?,?)",
            [inspection_id, item_id, a["result"], a["note"], iso(finished), cmd.op_id,
             item["text"], item["department"]]).lastrowid
        for sha in dict.fromkeys(a["photos"]):
            db.execute("INSERT INTO inspection_photos (result_id, sha256) VALUES (?,?)",
                       [result_id, sha])
        if a["job"]:
            row = {"id": result_id, "item_text": item["text"], "department": item["department"],
                   "note": a["note"]}
            job = _make_job(db, cmd, now, user, place, template["place_kind"], row, a["photos"])
            job_ids.append(job["job_id"])
    failed = sum(1 for a in answers.values() if a["result"] == "fail")
    audit.record(db, cmd, now, "record", "inspection", inspection_id,
                 {"place": cmd.target, "failed": failed, "jobs": job_ids})
    return {"inspection_id": inspection_id, "failed": failed, "job_ids": job_ids}


def make_job(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Later, from the inspection's page: a job for a failed item that has none."""
    user = people.actor(db, cmd, "inspection.do")
    m = re.match(r"^result:(\d{1,12})$", cmd.target or "")
    row = next(iter(db.query(
        "SELECT r.*, i.estate_id, i.place_type, i.place_id, t.place_kind FROM "
        "inspection_results r JOIN inspections i ON i.id = r.inspection_id "
        "JOIN inspection_templates t ON t.id = i.template_id WHERE r.id = ?",
        [(_int(m.group(1)) or 0) if m else 0])), None)
    if row is None:
        raise Invalid({"target": N_("Unknown inspection item.")})
    people.require_estate(db, user["id"], row["estate_id"])
    if row["result"] != "fail":
        raise Rejected("not_failed", N_("Only a failed item becomes a job."))
    if row["job_id"]:
        raise Rejected("has_job", N_("This item already has a job."), {"job_id": row["job_id"]})
    place = places.get_place(db, row["place_type"], row["place_id"])
    assert place is not None
    photos = [r["sha256"] for r in db.query(
        "SELECT sha256 FROM inspection_photos WHERE result_id = ? ORDER BY sha256", [row["id"]])]
    job = _make_job(db, cmd, now, user, place, row["place_kind"], row, photos)
    audit.record(db, cmd, now, "make_job", "inspection", row["inspection_id"],
                 {"result_id": row["id"], "job_id": job["job_id"]})
    return {"inspection_id": row["inspection_id"], "job_id": job["job_id"]}


def round_add(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Add a place to a supervisor's round for the day (their own, or anyone's for a
    manager). The checklist is chosen now, by the place's kind."""
    user = people.actor(db, cmd, "inspection.do")
    p = cmd.payload
    supervisor_id = _int(p.get("supervisor_id")) or user["id"]
    if supervisor_id != user["id"] and not people.can(user, "inspection.assign"):
        raise Rejected("forbidden", N_("Your role may not do this."))
    if p.get("place"):
        place = _place(db, str(p["place"]))
    elif p.get("unit"):
        estate_id = _int(p.get("estate_id")) or 0
        if not people.serves(db, user["id"], estate_id):
            raise Invalid({"estate_id": N_("Choose one of your estates.")})
        place = find_unit(db, estate_id, str(p["unit"]))
        if place is None:
            raise Invalid({"unit": N_("No such unit. Enter the building and room, e.g. 1-101.")})
    else:
        place = None
    if place is None:
        raise Invalid({"place": N_("Choose a place, or enter a unit.")})
    people.require_estate(db, user["id"], place["estate_id"])
    supervisor = people.get_user(db, supervisor_id)
    if (supervisor is None or not supervisor["active"]
            or not people.can(supervisor, "inspection.do")
            or not people.serves(db, supervisor_id, place["estate_id"])):
        raise Invalid({"supervisor_id": N_("Choose someone who inspects this estate.")})
    template = template_for(db, place)
    if template is None:
        raise Invalid({"place": N_("No checklist fits this kind of place yet. "
                                   "Ask an administrator to add one.")})
    day = local_day(acted_time(cmd, now))
    if round_template(db, supervisor_id, place, day) is not None:
        raise Invalid({"place": N_("This place is already in the round.")})
    db.execute("INSERT OR IGNORE INTO inspection_rounds (estate_id, supervisor_id, day, "
               "created_at) VALUES (?,?,?,?)", [place["estate_id"], supervisor_id, day, iso(now)])
    round_id = db.execute(
        "SELECT id FROM inspection_rounds WHERE estate_id = ? AND supervisor_id = ? AND day = ?",
        [place["estate_id"], supervisor_id, day]).fetchone()[0]
    position = db.execute("SELECT coalesce(max(position), 0) + 1 FROM round_places "
                          "WHERE round_id = ?", [round_id]).fetchone()[0]
    db.execute("INSERT INTO round_places (round_id, place_type, place_id, template_id, position)"
               " VALUES (?,?,?,?,?)",
               [round_id, place["place_type"], place["id"], template["id"], position])
    audit.record(db, cmd, now, "round_add", "inspection_round", round_id,
                 {"place": f"{place['place_type']}:{place['id']}", "template": template["id"]})
    return {"round_id": round_id, "day": day, "template_id": template["id"]}


def _template_errors(p: Any, rows: list[dict[str, Any]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not _text(p.get("name"), 100):
        errors["name"] = N_("Give the checklist a name.")
    if p.get("place_kind") not in PLACE_KINDS:
        errors["place_kind"] = N_("Choose the kind of place it is for.")
    for row in rows:
        key = row["id"] if row["id"] else "new"
        if not row["text"]:
            errors[f"text_{key}"] = N_("Say what to check.")
        if row["department"] not in FIX_DEPARTMENTS:
            errors[f"department_{key}"] = N_("Choose the department that fixes a failure.")
    if not errors and not any(r["active"] for r in rows):
        errors["text_new"] = N_("A checklist needs at least one item in use.")
    return errors


def template_save(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Add or edit a checklist: its name, kind, whether in use, and its items in order
    (target 'template:new' or 'template:<id>'). Items are never deleted: results keep
    pointing at them; an item no longer checked is made inactive."""
    people.actor(db, cmd, "inspection.templates")
    ident = (cmd.target or "").removeprefix("template:")
    template = None if ident == "new" else get_template(db, _int(ident) or 0)
    if ident != "new" and template is None:
        raise Invalid({"target": N_("Unknown checklist.")})
    p = cmd.payload
    known = {i["id"]: i for i in items(db, template["id"], False)} if template else {}
    rows = []
    for raw in p.get("items") if isinstance(p.get("items"), list) else []:
        if not isinstance(raw, dict):
            raise Invalid({"items": N_("The checklist has changed. Reload the page.")})
        item_id = _int(raw.get("id")) if raw.get("id") not in (None, "") else None
        if item_id is not None and item_id not in known:
            raise Invalid({"items": N_("The checklist has changed. Reload the page.")})
        rows.append({"id": item_id, "text": _text(raw.get("text"), 200),
                     "department": raw.get("department"),
                     "active": raw.get("active") in (True, "1", 1)})
    errors = _template_errors(p, rows)
    if errors:
        raise Invalid(errors)
    name, kind = _text(p.get("name"), 100), str(p["place_kind"])
    active = 0 if p.get("active") in (False, "0", 0) else 1
    if template is None:
        template_id = db.execute("INSERT INTO inspection_templates (name, place_kind, active) "
                                 "VALUES (?,?,?)", [name, kind, active]).lastrowid
    else:
        template_id = template["id"]
        db.execute("UPDATE inspection_templates SET name = ?, place_kind = ?, active = ? "
                   "WHERE id = ?", [name, kind, active, template_id])
    listed = {r["id"] for r in rows if r["id"]}
    # Items the form did not list (added meanwhile) keep their place after the listed ones.
    rest = [{**i, "keep": True} for i in known.values() if i["id"] not in listed]
    for position, row in enumerate([*rows, *sorted(rest, key=lambda i: i["position"])], 1):
        if row.get("keep"):
            db.execute("UPDATE inspection_items SET position = ? WHERE id = ?",
                       [position, row["id"]])
        elif row["id"]:
            db.execute("UPDATE inspection_items SET position = ?, text = ?, department = ?, "
                       "active = ? WHERE id = ?", [position, row["text"], row["department"],
                                                   int(row["active"]), row["id"]])
        else:
            db.execute("INSERT INTO inspection_items (template_id, position, text, department, "
                       "active) VALUES (?,?,?,?,?)", [template_id, position, row["text"],
                                                      row["department"], int(row["active"])])
    audit.record(db, cmd, now, "template_save", "inspection_template", template_id,
                 {"name": name, "place_kind": kind, "items": len(rows)})
    return {"template_id": template_id}


HANDLERS: dict[str, Handler] = {
    "inspection.record": record,
    "inspection.make_job": make_job,
    "inspection.round_add": round_add,
    "inspection.template_save": template_save,
}
