"""Demo places: equipment with QR codes, and a resident's report through one of them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlite_utils import Database

import sync

from .domain.handlers import HANDLERS

# estate id, name, kind (the inspections checklist kind), common area it stands in
EQUIPMENT = [
    (1, "1号水泵房水泵", "plant_room", None),
    (1, "1栋消防栓", "fire", None),
    (1, "车库2号配电柜", "plant_room", "地下车库"),
    (2, "生活水泵", "plant_room", None),
]


def _apply(db: Database, user_id: int | None, kind: str, target: str, now: datetime,
           **payload) -> dict:
    cmd = sync.Command(op_id=str(uuid.uuid4()), kind=kind, target=target, payload=payload,
                       user_id=user_id, device_id="demo")
    outcome = sync.apply(db, cmd, HANDLERS, now)
    assert outcome.status == "applied", (kind, outcome.result)
    return outcome.result


def load_places(db: Database, users: dict[str, int], now: datetime) -> None:
    """Equipment of both estates, every place's QR code, and one report from a code."""
    for estate_id, name, kind, area in EQUIPMENT:
        area_row = db.execute("SELECT id FROM common_areas WHERE estate_id = ? AND name = ?",
                              [estate_id, area]).fetchone() if area else None
        db.execute("INSERT INTO equipment (estate_id, area_id, name, kind) VALUES (?,?,?,?)",
                   [estate_id, area_row[0] if area_row else None, name, kind])
    for estate_id in (1, 2):
        _apply(db, users["admin"], "place.issue", f"estate:{estate_id}", now)
    pump, pump_id = db.execute(
        "SELECT t.token, q.id FROM qr_tokens t JOIN equipment q ON q.id = t.place_id"
        " WHERE t.place_type = 'equipment' AND q.name = '1号水泵房水泵'"
        " AND t.revoked_at IS NULL").fetchone()
    _apply(db, None, "public.report", f"place:equipment:{pump_id}", now - timedelta(hours=2),
           token=pump, description="水泵声音很大，像是有异响", phone="13912345678", name="",
           remote_addr="demo", stamp="demo", stamp_issued=(now - timedelta(hours=2)).isoformat(
               timespec="seconds"), photos=[])
