"""Notices to residents (a water or power cut, works, lift maintenance): what a notice
concerns, whether it is current, and the reads of the pages that show them.

A notice concerns its whole estate, or the buildings, common areas and equipment it
names (`notice_places`). A unit is concerned by its estate's and its building's notices;
a common area or equipment by its estate's and its own. Current: started, not yet
ended, not withdrawn. Times are naive UTC, stored as ISO text (they compare as text).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from .text import N_

TARGET_TYPES = {"building": N_("Building"), "area": N_("Common area"),
                "equipment": N_("Equipment")}
STATUSES = {"upcoming": N_("Upcoming"), "current": N_("In effect"), "past": N_("Ended"),
            "withdrawn": N_("Withdrawn")}
TITLE_MAX, BODY_MAX = 60, 2000
PAST_SHOWN = 50  # ended and withdrawn notices on the desk's list


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def status(notice: dict[str, Any], now: datetime) -> str:
    """'withdrawn', 'upcoming', 'current' or 'past' at `now`."""
    if notice["withdrawn_at"]:
        return "withdrawn"
    stamp = iso(now)
    if notice["starts_at"] > stamp:
        return "upcoming"
    return "current" if notice["ends_at"] > stamp else "past"


def changeable(notice: dict[str, Any], now: datetime) -> bool:
    """A notice may be edited or withdrawn until it has ended or been withdrawn."""
    return status(notice, now) in ("upcoming", "current")


def place_key(place: dict[str, Any]) -> tuple[str, int]:
    """The notice target that concerns a place besides its estate: a unit's building,
    an area's or equipment's own row (`place` as places.get_place returns it)."""
    if place["place_type"] == "unit":
        return "building", int(place["building_id"])
    return str(place["place_type"]), int(place["id"])


def applies_to(estate_id: int, targets: Iterable[tuple[str, int]],
               place: dict[str, Any]) -> bool:
    """Whether a notice of `estate_id` with these targets concerns `place`."""
    if place["estate_id"] != estate_id:
        return False
    wanted = set(targets)
    return not wanted or place_key(place) in wanted


_CONCERNS = """
 (NOT EXISTS (SELECT 1 FROM notice_places p WHERE p.notice_id = n.id)
  OR EXISTS (SELECT 1 FROM notice_places p WHERE p.notice_id = n.id
             AND p.place_type = :type AND p.place_id = :id))
"""


def for_place(db: Database, place: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """The current notices that concern a place, soonest ending first (the same rule as
    applies_to, in SQL)."""
    place_type, place_id = place_key(place)
    return list(db.query(
        "SELECT n.id, n.title, n.body, n.starts_at, n.ends_at FROM notices n"
        " WHERE n.estate_id = :estate AND n.withdrawn_at IS NULL"
        " AND n.starts_at <= :now AND n.ends_at > :now AND" + _CONCERNS
        + " ORDER BY n.ends_at, n.id",
        {"estate": place["estate_id"], "now": iso(now), "type": place_type, "id": place_id}))


def targets(db: Database, notice_id: int) -> list[tuple[str, int]]:
    return [(r[0], r[1]) for r in db.execute(
        "SELECT place_type, place_id FROM notice_places WHERE notice_id = ?"
        " ORDER BY place_type, place_id", [notice_id])]


_TARGET_NAMES = """
SELECT place_type, place_id, name FROM (
  SELECT p.place_type, p.place_id, coalesce(b.name, a.name, q.name) AS name
  FROM notice_places p
  LEFT JOIN buildings b ON p.place_type = 'building' AND b.id = p.place_id
  LEFT JOIN common_areas a ON p.place_type = 'area' AND a.id = p.place_id
  LEFT JOIN equipment q ON p.place_type = 'equipment' AND q.id = p.place_id
  WHERE p.notice_id = ?
) ORDER BY place_type, length(name), name
"""


def get(db: Database, notice_id: int) -> dict[str, Any] | None:
    """A notice with its estate's name and its targets (`places`: type, id, name)."""
    notice = next(iter(db.query(
        "SELECT n.*, e.name AS estate_name FROM notices n JOIN estates e ON e.id = n.estate_id"
        " WHERE n.id = ?", [notice_id])), None)
    if notice is not None:
        notice["places"] = list(db.query(_TARGET_NAMES, [notice_id]))
    return notice


def by_token(db: Database, token: str) -> dict[str, Any] | None:
    row = db.execute("SELECT id FROM notices WHERE token = ?", [token]).fetchone()
    return get(db, row[0]) if row else None


def where_text(notice: dict[str, Any]) -> str:
    """Where a notice applies, as its places' names ('' for the whole estate)."""
    return "、".join(p["name"] or "" for p in notice["places"])


def listing(db: Database, estate_ids: list[int], now: datetime) -> dict[str, list[dict]]:
    """The desk's list: current (soonest ending first), upcoming (soonest first), and the
    last ended or withdrawn ones."""
    out: dict[str, list[dict]] = {"current": [], "upcoming": [], "past": []}
    if not estate_ids:
        return out
    marks, stamp = ",".join("?" * len(estate_ids)), iso(now)
    base = ("SELECT n.*, e.name AS estate_name FROM notices n JOIN estates e"
            f" ON e.id = n.estate_id WHERE n.estate_id IN ({marks})")
    out["current"] = list(db.query(
        base + " AND n.withdrawn_at IS NULL AND n.starts_at <= ? AND n.ends_at > ?"
        " ORDER BY n.ends_at, n.id", [*estate_ids, stamp, stamp]))
    out["upcoming"] = list(db.query(
        base + " AND n.withdrawn_at IS NULL AND n.starts_at > ? ORDER BY n.starts_at, n.id",
        [*estate_ids, stamp]))
    out["past"] = list(db.query(
        base + " AND (n.withdrawn_at IS NOT NULL OR n.ends_at <= ?)"
        " ORDER BY coalesce(n.withdrawn_at, n.ends_at) DESC, n.id DESC LIMIT ?",
        [*estate_ids, stamp, PAST_SHOWN]))
    for rows in out.values():
        for row in rows:
            row["places"] = list(db.query(_TARGET_NAMES, [row["id"]]))
    return out


def choices(db: Database, estate_ids: list[int]) -> list[dict[str, Any]]:
    """Per estate, the buildings, common areas and equipment a notice may name."""
    out = []
    for estate_id in estate_ids:
        name = db.execute("SELECT name FROM estates WHERE id = ?", [estate_id]).fetchone()
        if name is None:
            continue
        out.append({
            "id": estate_id, "name": name[0],
            "buildings": list(db.query(
                "SELECT id, name FROM buildings WHERE estate_id = ?"
                " ORDER BY length(name), name", [estate_id])),
            "areas": list(db.query(
                "SELECT id, name FROM common_areas WHERE estate_id = ? ORDER BY name",
                [estate_id])),
            "equipment": list(db.query(
                "SELECT id, name FROM equipment WHERE estate_id = ? ORDER BY name",
                [estate_id])),
        })
    return out
