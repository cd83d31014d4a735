"""Places: units, common areas and equipment, each with an unguessable QR token."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from .text import N_

PLACE_TYPES = {"unit": N_("Unit"), "area": N_("Common area"), "equipment": N_("Equipment")}
TOKEN_BYTES = 16  # 128 bits from the OS's CSPRNG; never sequential, never derived


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def current_token(db: Database, place_type: str, place_id: int, now: datetime) -> str:
    """The place's live token, issuing one on first use."""
    row = db.execute(
        "SELECT token FROM qr_tokens WHERE place_type = ? AND place_id = ? "
        "AND revoked_at IS NULL", [place_type, place_id]).fetchone()
    if row:
        return row[0]
    token = new_token()
    db.execute("INSERT INTO qr_tokens (token, place_type, place_id, created_at) VALUES (?,?,?,?)",
               [token, place_type, place_id, now.isoformat(timespec="seconds")])
    return token


def reissue(db: Database, place_type: str, place_id: int, now: datetime) -> str:
    """Revoke the live token and issue a new one; the old one says it was replaced."""
    old = current_token(db, place_type, place_id, now)
    token = new_token()
    stamp = now.isoformat(timespec="seconds")
    db.execute("INSERT INTO qr_tokens (token, place_type, place_id, created_at) VALUES (?,?,?,?)",
               [token, place_type, place_id, stamp])
    db.execute("UPDATE qr_tokens SET revoked_at = ?, replaced_by = ? WHERE token = ?",
               [stamp, token, old])
    return token


def resolve(db: Database, token: str) -> dict[str, Any] | None:
    """The token's row (revoked ones too, so an old code can say it was replaced)."""
    return next(iter(db.query("SELECT * FROM qr_tokens WHERE token = ?", [token])), None)


def get_place(db: Database, place_type: str, place_id: int) -> dict[str, Any] | None:
    """The place with its estate and a display name ('3栋-1202', '地下车库', '1号电梯')."""
    if place_type == "unit":
        sql = ("SELECT u.id, u.estate_id, b.name || '-' || u.number AS name, 'unit' AS kind, "
               "e.name AS estate_name FROM units u JOIN buildings b ON b.id = u.building_id "
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
