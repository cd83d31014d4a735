"""Places: units, common areas and equipment, each with an unguessable QR token.

A token is 128 bits from the OS's CSPRNG (`secrets`), URL-safe, never derived
from an id. A place has at most one live token (migration 0008); revoking one
keeps it, pointing at its replacement, so an old label can say it was replaced.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from . import unit_labels
from .text import N_, plain

PLACE_TYPES = {"unit": N_("Unit"), "area": N_("Common area"), "equipment": N_("Equipment")}
TOKEN_BYTES = 16  # 128 bits from the OS's CSPRNG; never sequential, never derived
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
REF_RE = re.compile(r"^(unit|area|equipment):(\d{1,12})$")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _iso(now: datetime) -> str:
    return now.isoformat(timespec="seconds")


def live_token(db: Database, place_type: str, place_id: int) -> str | None:
    row = db.execute(
        "SELECT token FROM qr_tokens WHERE place_type = ? AND place_id = ? "
        "AND revoked_at IS NULL", [place_type, place_id]).fetchone()
    return row[0] if row else None


def live_tokens(db: Database, refs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The live token of each of these places that has one."""
    wanted = set(refs)
    by_type: dict[str, list[int]] = {}
    for place_type, place_id in wanted:
        by_type.setdefault(place_type, []).append(place_id)
    out: dict[tuple[str, int], str] = {}
    for place_type, ids in by_type.items():
        for i in range(0, len(ids), 500):  # SQLite's limit on bound parameters
            chunk = ids[i:i + 500]
            out.update(((place_type, r[0]), r[1]) for r in db.execute(
                f"SELECT place_id, token FROM qr_tokens WHERE place_type = ? AND place_id IN"
                f" ({','.join('?' * len(chunk))}) AND revoked_at IS NULL",
                [place_type, *chunk]))
    return out


def current_token(db: Database, place_type: str, place_id: int, now: datetime) -> str:
    """The place's live token, issuing one on first use."""
    token = live_token(db, place_type, place_id)
    if token:
        return token
    # OR IGNORE: another request may have issued one meanwhile (one live token per place).
    db.execute("INSERT OR IGNORE INTO qr_tokens (token, place_type, place_id, created_at) "
               "VALUES (?,?,?,?)", [new_token(), place_type, place_id, _iso(now)])
    token = live_token(db, place_type, place_id)
    assert token is not None
    return token


def reissue(db: Database, place_type: str, place_id: int, now: datetime) -> str:
    """Revoke the live token and issue a new one; the old one says it was replaced."""
    old = current_token(db, place_type, place_id, now)
    token = new_token()
    stamp = _iso(now)
    db.execute("UPDATE qr_tokens SET revoked_at = ?, replaced_by = ? WHERE token = ?",
               [stamp, token, old])
    db.execute("INSERT INTO qr_tokens (token, place_type, place_id, created_at) VALUES (?,?,?,?)",
               [token, place_type, place_id, stamp])
    return token


def resolve(db: Database, token: str) -> dict[str, Any] | None:
    """The token's row (revoked ones too, so an old code can say it was replaced)."""
    if not TOKEN_RE.match(token or ""):
        return None
    return next(iter(db.query("SELECT * FROM qr_tokens WHERE token = ?", [token])), None)


def get_place(db: Database, place_type: str, place_id: int) -> dict[str, Any] | None:
    """The place with its estate and a display name ('3栋-1202', '地下车库', '1号电梯')."""
    if place_type == "unit":
        sql = ("SELECT u.id, u.estate_id, b.name || '-' || u.number AS name, 'unit' AS kind, "
               "e.name AS estate_name, b.id AS building_id, b.name AS building_name "
               "FROM units u JOIN buildings b ON b.id = u.building_id "
               "JOIN estates e ON e.id = u.estate_id WHERE u.id = ?")
    elif place_type == "area":
        sql = ("SELECT a.id, a.estate_id, a.name, a.kind, e.name AS estate_name "
               "FROM common_areas a JOIN estates e ON e.id = a.estate_id WHERE a.id = ?")
    elif place_type == "equipment":
        sql = ("SELECT q.id, q.estate_id, q.name, q.kind, e.name AS estate_name "
               "FROM equipment q JOIN estates e ON e.id = q.estate_id WHERE q.id = ?")
    else:
        return None
    place = next(iter(db.query(sql, [place_id])), None)
    if place is not None:
        place["place_type"] = place_type
    return place


def parse_ref(ref: str) -> tuple[str, int] | None:
    """'unit:12' → ('unit', 12); None for anything else."""
    m = REF_RE.match(ref.strip())
    return (m.group(1), int(m.group(2))) if m else None


# Every place of an estate, in label order: units by building and number, then
# common areas, then equipment. The token column is the live one (NULL if none yet).
_PLACES_SQL = """
SELECT * FROM (
  SELECT 'unit' AS place_type, u.id, u.estate_id, b.name || '-' || u.number AS name,
         b.id AS building_id, 0 AS grp, b.name AS k1, length(u.number) AS k2, u.number AS k3
  FROM units u JOIN buildings b ON b.id = u.building_id WHERE u.estate_id = :estate
  UNION ALL
  SELECT 'area', a.id, a.estate_id, a.name, NULL, 1, a.name, 0, '' FROM common_areas a
  WHERE a.estate_id = :estate
  UNION ALL
  SELECT 'equipment', q.id, q.estate_id, q.name, NULL, 2, q.name, 0, '' FROM equipment q
  WHERE q.estate_id = :estate
) p
"""


def estate_places(db: Database, estate_id: int, building_id: int | None = None
                  ) -> list[dict[str, Any]]:
    """An estate's places (or one building's units) with their live tokens, in label order."""
    sql = ("SELECT p.place_type, p.id, p.estate_id, p.name, p.building_id, e.name AS estate_name,"
           " t.token FROM (" + _PLACES_SQL + ") p JOIN estates e ON e.id = p.estate_id"
           " LEFT JOIN qr_tokens t ON t.place_type = p.place_type AND t.place_id = p.id"
           " AND t.revoked_at IS NULL")
    params: dict[str, Any] = {"estate": estate_id}
    if building_id is not None:
        sql += " WHERE p.building_id = :building"
        params["building"] = building_id
    sql += " ORDER BY p.grp, length(p.k1), p.k1, p.k2, p.k3, p.id"
    return list(db.query(sql, params))


def issue_all(db: Database, places: Iterable[dict[str, Any]], now: datetime) -> int:
    """Issue a token to each of `places` that has none; returns how many were issued."""
    stamp, issued = _iso(now), 0
    for p in places:
        if p.get("token"):
            continue
        cur = db.execute(
            "INSERT OR IGNORE INTO qr_tokens (token, place_type, place_id, created_at)"
            " VALUES (?,?,?,?)", [new_token(), p["place_type"], p["id"], stamp])
        issued += cur.rowcount
        p["token"] = live_token(db, p["place_type"], p["id"])
    return issued


def buildings(db: Database, estate_id: int) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT b.id, b.name, count(u.id) AS units FROM buildings b "
        "LEFT JOIN units u ON u.building_id = b.id WHERE b.estate_id = ? "
        "GROUP BY b.id ORDER BY length(b.name), b.name", [estate_id]))


def other_places(db: Database, estate_id: int) -> int:
    """How many common areas and equipment an estate has (the labels page says so)."""
    return db.execute(
        "SELECT (SELECT count(*) FROM common_areas WHERE estate_id = ?)"
        " + (SELECT count(*) FROM equipment WHERE estate_id = ?)",
        [estate_id, estate_id]).fetchone()[0]


def public_view(place: dict[str, Any]) -> dict[str, Any]:
    """What the public page may show: the estate and a generic name, nothing personal.

    A unit shows its estate and building only, never the room number: the page is
    open to anyone holding the link, and a room number with the report history
    would say who lives where. Common areas and equipment show their name.
    """
    view = {"place_type": place["place_type"], "estate_name": place["estate_name"]}
    if place["place_type"] == "unit":
        view["building_name"] = place["building_name"]
    else:
        view["name"] = place["name"]
    return view


def intake_prefill(db: Database, place_type: str, place_id: int,
                   estate_ids: list[int]) -> dict[str, str]:
    """Fields of the desk's intake form for a report at this place (the place page links it)."""
    place = get_place(db, place_type, place_id)
    if place is None or place["estate_id"] not in estate_ids:
        return {}
    values = {"estate_id": str(place["estate_id"])}
    if place_type == "unit":
        values.update(unit_id=str(place_id), unit_label=place["name"])
    else:
        values["description"] = f"【{place['name']}】"
    return values


# Jobs that belong to a place without a unit: reported through its QR code, raised by
# an inspection of it, or made from feedback about it.
_LINKED_JOBS = """
SELECT pr.job_id FROM public_reports pr JOIN qr_tokens t ON t.token = pr.token
 WHERE t.place_type = :type AND t.place_id = :id AND pr.job_id IS NOT NULL
UNION SELECT r.job_id FROM inspection_results r JOIN inspections i ON i.id = r.inspection_id
 WHERE i.place_type = :type AND i.place_id = :id AND r.job_id IS NOT NULL
UNION SELECT f.job_id FROM feedback f
 WHERE f.place_type = :type AND f.place_id = :id AND f.job_id IS NOT NULL
"""
OPEN_JOBS = ("new", "pooled", "assigned", "accepted", "arrived", "paused")
OPEN_COMPLAINTS = ("new", "verified", "escalated", "dispatched", "answered")


def place_jobs(db: Database, place_type: str, place_id: int, open_only: bool = False,
               limit: int = 20) -> list[dict[str, Any]]:
    """The place's jobs, newest first: a unit's own, and those linked to the place."""
    where = f"j.id IN ({_LINKED_JOBS})"
    if place_type == "unit":
        where = f"(j.unit_id = :id OR {where})"
    params: dict[str, Any] = {"type": place_type, "id": place_id, "limit": limit}
    if open_only:
        where += " AND j.status IN ('" + "','".join(OPEN_JOBS) + "')"
    return list(db.query(
        "SELECT j.id, j.number, j.status, j.category, j.source, j.received_at, j.assignee_id,"
        " j.description, j.flagged FROM jobs j WHERE " + where
        + " ORDER BY j.id DESC LIMIT :limit", params))


def place_complaints(db: Database, place_type: str, place_id: int, open_only: bool = False,
                     limit: int = 20) -> list[dict[str, Any]]:
    """A unit's complaints, newest first (complaints are about units, not areas)."""
    if place_type != "unit":
        return []
    sql = ("SELECT id, number, status, category, level, received_at FROM complaints"
           " WHERE unit_id = ?")
    if open_only:
        sql += " AND status IN ('" + "','".join(OPEN_COMPLAINTS) + "')"
    return list(db.query(sql + " ORDER BY id DESC LIMIT ?", [place_id, limit]))


def place_callbacks(db: Database, place_type: str, place_id: int) -> list[dict[str, Any]]:
    """A unit's callbacks still to do."""
    if place_type != "unit":
        return []
    return list(db.query(
        "SELECT id, kind, due_at, assignee_id FROM callback_tasks"
        " WHERE unit_id = ? AND status = 'open' ORDER BY due_at LIMIT 20", [place_id]))


def history(db: Database, place_type: str, place_id: int, limit: int = 20
            ) -> list[dict[str, Any]]:
    """The place's last `limit` jobs and complaints together, newest first."""
    rows = [{**j, "type": "job"} for j in place_jobs(db, place_type, place_id, limit=limit)]
    rows += [{**c, "type": "complaint"}
             for c in place_complaints(db, place_type, place_id, limit=limit)]
    rows.sort(key=lambda r: r["received_at"], reverse=True)
    return rows[:limit]


def find_by_label(db: Database, estate_ids: list[int], text: str, limit: int = 20
                  ) -> list[dict[str, Any]]:
    """The places of the estates that what is printed on a label names, for a code that
    cannot be scanned: a unit as people write it ('1-502', unit_labels), or common
    areas and equipment whose name holds the text ('水泵')."""
    text = plain(text)
    if not estate_ids or not text:
        return []
    found: list[dict[str, Any]] = []
    label = unit_labels.parse(text)
    if label is not None:
        found += [{"place_type": "unit", "id": u["id"], "estate_id": u["estate_id"],
                   "name": f"{u['building_name']}-{u['number']}"}
                  for u in unit_labels.find(db, estate_ids, label)]
    marks = ",".join("?" * len(estate_ids))
    like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found += db.query(
        f"SELECT 'area' AS place_type, id, estate_id, name FROM common_areas"
        f" WHERE estate_id IN ({marks}) AND name LIKE ? ESCAPE '\\'"
        f" UNION ALL SELECT 'equipment', id, estate_id, name FROM equipment"
        f" WHERE estate_id IN ({marks}) AND name LIKE ? ESCAPE '\\' ORDER BY 4 LIMIT ?",
        [*estate_ids, like, *estate_ids, like, limit])
    return found[:limit]
