"""Commands for places: issue and reissue QR tokens, and a resident's report from a QR code.

`public.report` is the one command with no signed-in user (user_id None): the
view has already checked the form's honeypot and its signed stamp (fill time, age);
this handler checks the input, uses up the stamp and applies the hourly limits inside
the write transaction, so two reports sent at once cannot both take the last place
under a limit, nor one stamp twice. The limits (docs/SECURITY.md): few reports per
address, and per code a number of distinct addresses, so that a few addresses cannot
silence a code for everyone; a code that reaches its limit is a flood, told to the desk.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from sync import Command, Handler, Invalid, fields

from . import audit, files, people, phones, places, settings, tracking
from .job_commands import insert_job
from .jobs import iso, list_rows
from .text import N_

# What a resident's report is filed as; the desk re-files it when it dispatches.
PUBLIC_CATEGORY = {"unit": "other", "area": "public_facility", "equipment": "public_facility"}
RESIDENT = "住户"  # the reporter's name on the job when they gave none (data, not UI text)
RATE_LIMITED = "rate_limited"  # the Invalid key the view answers with 429
LIMITED_BY = "limited_by"  # beside it: "address" or "code"
STAMP_USED = N_("This form has been sent already. To report something else, fill it in again.")
WINDOW = timedelta(hours=1)  # the limits count reports of the last hour
STAMP_MAX_AGE = timedelta(days=1)  # the default; the view passes its configured one
FLOODS_SHOWN = timedelta(days=1)  # how long the desk sees a flood after its last refusal


def _place_in_estates(db: Database, user: dict[str, Any], place_type: str,
                      place_id: int) -> dict[str, Any]:
    place = places.get_place(db, place_type, place_id)
    if place is None:
        raise Invalid({"target": N_("Unknown place.")})
    people.require_estate(db, user["id"], place["estate_id"])
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
        people.require_estate(db, user["id"], estate_id)
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


def address_key(addr: str) -> str:
    """What the per-address limit counts: an IPv4 address, or an IPv6 /64 (a phone takes a
    fresh address from its network's /64 at will)."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def report_limit(db: Database, token: str, addr_key: str, limits: dict[str, int],
                 now: datetime) -> str | None:
    """Which limit another report from this address through this code would pass in the
    last hour: "address" (its own reports, through any code), "code" (the code already had
    as many other addresses as it takes), or None. An address that has reported through
    the code already is held by its own limit only, so the addresses already counted
    never stop each other."""
    since = iso(now - WINDOW)
    by_addr = db.execute("SELECT count(*) FROM public_reports WHERE remote_addr = ? AND at > ?",
                         [addr_key, since]).fetchone()[0]
    if by_addr >= limits["public_reports_per_address_hour"]:
        return "address"
    if db.execute("SELECT 1 FROM public_reports WHERE token = ? AND remote_addr = ? AND at > ?",
                  [token, addr_key, since]).fetchone():
        return None
    addresses = db.execute("SELECT count(DISTINCT remote_addr) FROM public_reports"
                           " WHERE token = ? AND at > ?", [token, since]).fetchone()[0]
    return "code" if addresses >= limits["public_report_addresses_per_code_hour"] else None


def stamp_used_by(db: Database, nonce: str) -> str | None:
    """The op_id of the report that used this form stamp, or None while it is unused."""
    row = db.execute("SELECT op_id FROM public_report_stamps WHERE nonce = ?",
                     [nonce]).fetchone()
    return row[0] if row else None


def _use_stamp(db: Database, cmd: Command, now: datetime) -> None:
    p = cmd.payload
    nonce, issued = str(p.get("stamp") or ""), str(p.get("stamp_issued") or "")
    if not nonce or not issued:
        raise Invalid({"form": N_("The report could not be sent.")})
    if stamp_used_by(db, nonce) is not None:
        raise Invalid({"form": STAMP_USED})
    max_age = timedelta(seconds=int(p.get("stamp_max_seconds") or STAMP_MAX_AGE.total_seconds()))
    # Stamps older than that are refused by their signature: no need to keep them.
    db.execute("DELETE FROM public_report_stamps WHERE issued_at < ?", [iso(now - max_age)])
    db.execute("INSERT INTO public_report_stamps (nonce, op_id, issued_at, used_at)"
               " VALUES (?,?,?,?)", [nonce, cmd.op_id, issued, iso(now)])


def note_flood(db: Database, cmd: Command, place: dict[str, Any], token: str,
               now: datetime) -> bool:
    """A report the code's limit refused: counted on the code's current flood, or the start
    of a new one (an audit entry; the desk's board shows it). True when a flood began. A
    flood ends an hour after its last refusal."""
    current = db.execute("SELECT id FROM public_report_floods WHERE token = ? AND last_at > ?"
                         " ORDER BY id DESC LIMIT 1", [token, iso(now - WINDOW)]).fetchone()
    if current:
        db.execute("UPDATE public_report_floods SET last_at = ?, refused = refused + 1"
                   " WHERE id = ?", [iso(now), current[0]])
        return False
    flood_id = db.execute(
        "INSERT INTO public_report_floods (token, estate_id, place_type, place_id, started_at,"
        " last_at) VALUES (?,?,?,?,?,?)",
        [token, place["estate_id"], place["place_type"], place["id"], iso(now), iso(now)],
    ).lastrowid
    audit.record(db, cmd, now, "qr.flood", place["place_type"], place["id"],
                 {"flood": flood_id, "estate_id": place["estate_id"]})
    return True


def floods(db: Database, estate_ids: list[int], now: datetime) -> list[dict[str, Any]]:
    """Floods of the user's estates refused within the last day, newest first, each with
    its place's name and whether it is still going on."""
    if not estate_ids:
        return []
    marks = ",".join("?" * len(estate_ids))
    # Read on every view of the board: list_rows, without query()'s savepoint.
    rows = list_rows(
        db, f"SELECT id, estate_id, place_type, place_id, started_at, last_at, refused"
        f" FROM public_report_floods WHERE estate_id IN ({marks}) AND last_at > ?"
        f" ORDER BY last_at DESC", [*estate_ids, iso(now - FLOODS_SHOWN)])
    for row in rows:
        place = places.get_place(db, row["place_type"], row["place_id"])
        row["name"] = place["name"] if place else ""
        row["active"] = row["last_at"] > iso(now - WINDOW)
    return rows


# A resident who goes Back and sends the form again (the page gives it a fresh stamp)
# within this time sends the same report: answered with the first one's number.
SAME_REPORT = timedelta(minutes=30)


def _same_report(db: Database, token: str, addr: str, description: str,
                 now: datetime) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT j.id, j.number, j.status, j.version, j.track_code FROM public_reports r"
        " JOIN jobs j ON j.id = r.job_id WHERE r.token = ? AND r.remote_addr = ?"
        " AND r.at > ? AND j.description = ? ORDER BY r.id DESC LIMIT 1",
        [token, addr, iso(now - SAME_REPORT), description]).fetchone()
    if row is None:
        return None
    return {"job_id": row[0], "number": row[1], "status": row[2], "version": row[3],
            "track_code": row[4], "again": True}


def public_report(db: Database, cmd: Command, now: datetime) -> dict[str, Any]:
    """A resident's report from a QR code: a new job for the desk, source 'qr'."""
    p = cmd.payload
    token = str(p.get("token") or "")
    row = places.resolve(db, token)
    if row is None or row["revoked_at"]:
        raise Invalid({"token": N_("This code has been replaced by a new one.")})
    fields = check_report(dict(p))
    place = places.get_place(db, row["place_type"], row["place_id"])
    if place is None:
        raise Invalid({"token": N_("Unknown place.")})
    addr = address_key(str(p.get("remote_addr") or ""))
    is_unit = place["place_type"] == "unit"
    description = fields["description"]
    if not is_unit:
        description = f"【{place['name']}】{description}"
    again = _same_report(db, token, addr, description, now)
    if again is not None:
        return again
    limited_by = report_limit(db, token, addr, settings.estate_settings(db, place["estate_id"]),
                              now)
    if limited_by:
        raise Invalid({RATE_LIMITED: N_("Too many reports from here in the last hour."),
                       LIMITED_BY: limited_by})
    _use_stamp(db, cmd, now)
    # The photo comes from the same request (views/places.py stores it, re-encoded), never
    # from the form, and this command is not one a phone may queue: no uploader to check.
    photos = [str(h) for h in p.get("photos") or []][:1]
    if files.missing(db, photos):
        raise Invalid({"photo": N_("A photo has not been uploaded yet.")})
    category = PUBLIC_CATEGORY[place["place_type"]]
    code = tracking.new_code()
    job = insert_job(db, cmd, now, estate_id=place["estate_id"],
                     unit_id=place["id"] if is_unit else None,
                     reporter_name=fields["name"] or RESIDENT, reporter_phone=fields["phone"],
                     source="qr", category=category, job_class="small",
                     description=description, photos=photos, track_code=code,
                     place=f"{row['place_type']}:{row['place_id']}")
    db.execute("INSERT INTO public_reports (token, remote_addr, at, job_id) VALUES (?,?,?,?)",
               [token, addr, iso(now), job["job_id"]])
    return {**job, "track_code": code}


HANDLERS: dict[str, Handler] = {
    "place.issue": issue_command,
    "place.reissue": reissue_command,
    "public.report": public_report,
}
