"""Commands for places: issue and reissue QR tokens, and a resident's report from a QR code.

`public.report` is the one command with no signed-in user (user_id None): the
view has already checked the form's honeypot and fill time; this handler checks
the input and the hourly limits inside the write transaction, so two reports
sent at once cannot both take the last place under a limit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, Rejected, fields

from . import audit, files, people, phones, places
from .jobs import CATEGORIES, get_job, iso
from .numbers import next_number
from .text import N_

# What a resident's report is filed as; the desk re-files it when it dispatches.
PUBLIC_CATEGORY = {"unit": "other", "area": "public_facility", "equipment": "public_facility"}
RESIDENT = "住户"  # the reporter's name on the job when they gave none (data, not UI text)
RATE_LIMITED = "rate_limited"  # the Invalid key the view answers with 429


def _place_in_estates(db: Database, user: dict[str, Any], place_type: str,
                      place_id: int) -> dict[str, Any]:
    place = places.get_place(db, place_type, place_id)
    if place is None:
        raise Invalid({"target": N_("Unknown place.")})
    if place["estate_id"] not in people.estate_ids(db, user["id"]):
        raise Rejected("forbidden", N_("This record belongs to an estate you do not serve."))
    return place


def reissue_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Revoke a place's code and issue a new one (target `place:unit:12`)."""
    user = people.actor(db, cmd, "place.reissue")
    ref = places.parse_ref(cmd.target.removeprefix("place:"))
    if ref is None:
        raise Invalid({"target": N_("Unknown place.")})
    place = _place_in_estates(db, user, *ref)
    places.reissue(db, ref[0], ref[1], now)
    audit.record(db, cmd, now, "qr.reissue", ref[0], ref[1], {"name": place["name"]})
    return {"place_type": ref[0], "place_id": ref[1]}


def issue_command(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """Issue codes to places that have none: `places` (refs) or a whole estate
    (target `estate:1`, optional `building_id`)."""
    user = people.actor(db, cmd, "place.labels")
    refs = cmd.payload.get("places")
    if refs:
        wanted = []
        for ref in refs:
            parsed = places.parse_ref(str(ref))
            if parsed is None:
                raise Invalid({"places": N_("Unknown place.")})
            _place_in_estates(db, user, *parsed)
            wanted.append({"place_type": parsed[0], "id": parsed[1],
                           "token": places.live_token(db, *parsed)})
    else:
        estate_id = fields.target_id(cmd.target, "target", N_("Unknown estate."))
        if estate_id not in people.estate_ids(db, user["id"]):
            raise Rejected("forbidden", N_("This record belongs to an estate you do not serve."))
        building = cmd.payload.get("building_id")
        wanted = places.estate_places(db, estate_id, int(building) if building else None)
    issued = places.issue_all(db, wanted, now)
    if issued:
        audit.record(db, cmd, now, "qr.issue", "estate", None, {"issued": issued})
    return {"issued": issued, "places": len(wanted)}


def check_report(payload: dict[str, Any]) -> dict[str, str]:
    """The report's fields, cleaned; raises Invalid. The view calls it before storing a photo."""
    description = str(payload.get("description") or "").strip()[:2000]
    phone = str(payload.get("phone") or "").strip()
    name = str(payload.get("name") or "").strip()[:20]
    errors = {}
    if len(description) < 2:
        errors["description"] = N_("Describe the problem.")
    if (wrong := phones.problem(phone)) is not None:
        errors["phone"] = wrong
    if errors:
        raise Invalid(errors)
    return {"description": description, "phone": phones.normalise(phone), "name": name}


def over_limit(db: Database, token: str, remote_addr: str, per_addr: int, per_token: int,
               now: datetime) -> bool:
    """Whether another report in the last hour would pass a limit (per address, per code)."""
    since = iso(now - timedelta(hours=1))
    by_addr = db.execute("SELECT count(*) FROM public_reports WHERE remote_addr = ? AND at > ?",
                         [remote_addr, since]).fetchone()[0]
    by_token = db.execute("SELECT count(*) FROM public_reports WHERE token = ? AND at > ?",
                          [token, since]).fetchone()[0]
    return by_addr >= per_addr or by_token >= per_token


def public_report(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A resident's report from a QR code: a new job for the desk, source 'qr'."""
    p = cmd.payload
    token = str(p.get("token") or "")
    row = places.resolve(db, token)
    if row is None or row["revoked_at"]:
        raise Invalid({"token": N_("This code has been replaced by a new one.")})
    fields = check_report(dict(p))
    addr = str(p.get("remote_addr") or "")[:64]
    if over_limit(db, token, addr, int(p.get("limit_addr") or 5), int(p.get("limit_token") or 10),
                  now):
        raise Invalid({RATE_LIMITED: N_("Too many reports from here in the last hour.")})
    photos = [str(h) for h in p.get("photos") or []][:1]
    if files.missing(db, photos):
        raise Invalid({"photo": N_("A photo has not been uploaded yet.")})
    place = places.get_place(db, row["place_type"], row["place_id"])
    if place is None:
        raise Invalid({"token": N_("Unknown place.")})
    is_unit = place["place_type"] == "unit"
    category = PUBLIC_CATEGORY[place["place_type"]]
    description = fields["description"]
    if not is_unit:
        description = f"【{place['name']}】{description}"
    number = next_number(db, "J", now)
    job_id = db.execute(
        """INSERT INTO jobs (number, estate_id, unit_id, reporter_name, reporter_phone, source,
           category, department, job_class, description, status, received_by, received_at,
           updated_at) VALUES (?,?,?,?,?, 'qr', ?,?, 'small', ?, 'new', NULL, ?,?)""",
        [number, place["estate_id"], place["id"] if is_unit else None,
         fields["name"] or RESIDENT, fields["phone"], category, CATEGORIES[category][1],
         description, iso(now), iso(now)],
    ).lastrowid
    for sha in photos:
        db.execute("INSERT OR IGNORE INTO job_photos (job_id, sha256, stage, op_id)"
                   " VALUES (?,?, 'intake', ?)", [job_id, sha, cmd.op_id])
    db.execute("INSERT INTO public_reports (token, remote_addr, at, job_id) VALUES (?,?,?,?)",
               [token, addr, iso(now), job_id])
    audit.record(db, cmd, now, "create", "job", job_id,
                 {"number": number, "source": "qr",
                  "place": f"{row['place_type']}:{row['place_id']}"})
    job = get_job(db, job_id)
    assert job is not None
    return {"job_id": job_id, "number": number, "status": job["status"],
            "version": job["version"]}


HANDLERS: dict[str, Handler] = {
    "place.issue": issue_command,
    "place.reissue": reissue_command,
    "public.report": public_report,
}
