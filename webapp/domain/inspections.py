"""Inspections (巡检): a checklist per kind of place, a supervisor's round for the day, and
what each visit found.

Which checklist a place gets (`checklist_kind`):

1. a unit → "unit" (unit handover);
2. an area or equipment whose `kind` is a checklist kind ("corridor", "plant_room",
   "grounds", "lift", "fire") → that kind;
3. any other kind (the generic "area" and "equipment" of older data) → by words in the
   place's name, first match in NAME_HINTS (地下车库 → grounds, 1号电梯 → lift);
4. otherwise an area → "corridor", equipment → "plant_room".

The checklist is then the first active template of that kind (lowest id).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from . import places, unit_labels
from .text import N_
from .workdays import local_date

# Template kinds (the `place_kind` of inspection_templates).
PLACE_KINDS = {
    "unit": N_("Unit handover"),
    "corridor": N_("Corridor and stairs"),
    "plant_room": N_("Plant room"),
    "lift": N_("Lift"),
    "fire": N_("Fire equipment"),
    "grounds": N_("Grounds and car parks"),
}
RESULTS = {"pass": N_("Pass"), "fail": N_("Fail"), "na": N_("Not applicable")}
# The departments that fix a failed item.
FIX_DEPARTMENTS = ("maintenance", "security", "cleaning")

NAME_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("消防", "灭火", "消火栓", "喷淋", "烟感", "fire"), "fire"),
    (("泵房", "配电", "机房", "水箱", "发电", "锅炉", "pump", "plant"), "plant_room"),
    (("电梯厅", "楼道", "楼梯", "走廊", "大堂", "corridor", "stair", "lobby"), "corridor"),
    (("电梯", "扶梯", "lift", "elevator"), "lift"),
    (("车库", "停车", "绿化", "花园", "广场", "道路", "园区", "草坪", "car park", "garden"),
     "grounds"),
)
FALLBACK = {"area": "corridor", "equipment": "plant_room"}


def checklist_kind(place: dict[str, Any]) -> str:
    """The kind of checklist a place gets (see the module's docstring)."""
    if place["place_type"] == "unit":
        return "unit"
    kind = place.get("kind") or ""
    if kind in PLACE_KINDS and kind != "unit":
        return kind
    name = (place.get("name") or "").lower()
    for words, hint in NAME_HINTS:
        if any(w in name for w in words):
            return hint
    return FALLBACK.get(place["place_type"], "corridor")


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def local_day(at: datetime) -> str:
    """The estates' calendar day of a stored (naive UTC) time."""
    return local_date(at).isoformat()


# --- Templates -------------------------------------------------------------------------

def templates(db: Database) -> list[dict[str, Any]]:
    """Every template with its count of items in use, and whether places get it."""
    rows = list(db.query(
        "SELECT t.*, (SELECT count(*) FROM inspection_items i WHERE i.template_id = t.id "
        "AND i.active = 1) AS item_count FROM inspection_templates t ORDER BY t.id"))
    chosen = {}
    for t in rows:
        if t["active"] and t["place_kind"] not in chosen:
            chosen[t["place_kind"]] = t["id"]
    for t in rows:
        t["in_use"] = chosen.get(t["place_kind"]) == t["id"]
    return rows


def get_template(db: Database, template_id: int) -> dict[str, Any] | None:
    return next(iter(db.query("SELECT * FROM inspection_templates WHERE id = ?",
                              [template_id])), None)


def items(db: Database, template_id: int, active_only: bool = True) -> list[dict[str, Any]]:
    sql = "SELECT * FROM inspection_items WHERE template_id = ?"
    if active_only:
        sql += " AND active = 1"
    return list(db.query(sql + " ORDER BY position, id", [template_id]))


def template_for(db: Database, place: dict[str, Any]) -> dict[str, Any] | None:
    """The checklist a place gets: the first active template of its kind."""
    return next(iter(db.query(
        "SELECT * FROM inspection_templates WHERE place_kind = ? AND active = 1 ORDER BY id "
        "LIMIT 1", [checklist_kind(place)])), None)


# --- Places ----------------------------------------------------------------------------

def place_choices(db: Database, estate_ids: list[int]) -> list[dict[str, Any]]:
    """Common areas and equipment of the estates, for adding to a round."""
    if not estate_ids:
        return []
    marks = ",".join("?" * len(estate_ids))
    return list(db.query(
        f"""SELECT 'area' AS place_type, a.id, a.name, a.estate_id, e.name AS estate_name
            FROM common_areas a JOIN estates e ON e.id = a.estate_id
            WHERE a.estate_id IN ({marks})
            UNION ALL
            SELECT 'equipment', q.id, q.name, q.estate_id, e.name FROM equipment q
            JOIN estates e ON e.id = q.estate_id WHERE q.estate_id IN ({marks})
            ORDER BY 4, 1, 3""", [*estate_ids, *estate_ids]))


def find_unit(db: Database, estate_id: int, label: str) -> dict[str, Any] | None:
    """A unit of the estate from a typed label ('1-101', '1栋101', '1#101', ...; see
    unit_labels.parse), or None when it names no unit or more than one."""
    parsed = unit_labels.parse(label)
    if parsed is None:
        return None
    found = unit_labels.find(db, [estate_id], parsed)
    # A building named exactly as typed wins over one that only shares its number
    # ('1' and '1栋' in one estate); otherwise a room must be the only one.
    exact = [u for u in found if u["building_name"] == parsed.building]
    chosen = exact if len(exact) == 1 else found
    return places.get_place(db, "unit", chosen[0]["id"]) if len(chosen) == 1 else None


def inspectors(db: Database, estate_ids: list[int], roles: frozenset[str]) -> list[dict]:
    """Active staff of the estates who may inspect (for whose round a place goes in)."""
    if not estate_ids:
        return []
    marks = ",".join("?" * len(estate_ids))
    role_marks = ",".join("?" * len(roles))
    return list(db.query(
        f"SELECT DISTINCT u.id, u.display_name, u.role FROM users u JOIN user_estates ue "
        f"ON ue.user_id = u.id WHERE ue.estate_id IN ({marks}) AND u.active = 1 "
        f"AND u.role IN ({role_marks}) ORDER BY u.display_name",
        [*estate_ids, *sorted(roles)]))


# --- Rounds ----------------------------------------------------------------------------

def rounds(db: Database, day: str, estate_ids: list[int],
           supervisor_id: int | None = None) -> list[dict[str, Any]]:
    """The day's rounds in the estates (one supervisor's, or everyone's), with their places
    and whether each was visited on the round."""
    if not estate_ids:
        return []
    marks = ",".join("?" * len(estate_ids))
    sql = (f"SELECT r.*, u.display_name AS supervisor_name, e.name AS estate_name "
           f"FROM inspection_rounds r JOIN users u ON u.id = r.supervisor_id "
           f"JOIN estates e ON e.id = r.estate_id WHERE r.day = ? AND r.estate_id IN ({marks})")
    params: list[Any] = [day, *estate_ids]
    if supervisor_id is not None:
        sql += " AND r.supervisor_id = ?"
        params.append(supervisor_id)
    out = list(db.query(sql + " ORDER BY r.estate_id, u.display_name", params))
    for r in out:
        r["places"] = round_places(db, r["id"])
        r["visited"] = sum(1 for p in r["places"] if p["inspection"])
    return out


def round_places(db: Database, round_id: int) -> list[dict[str, Any]]:
    rows = list(db.query(
        """SELECT rp.*, t.name AS template_name, t.place_kind,
                  (SELECT i.id FROM inspections i WHERE i.round_id = rp.round_id
                     AND i.place_type = rp.place_type AND i.place_id = rp.place_id
                   ORDER BY i.visited_at DESC LIMIT 1) AS inspection_id
           FROM round_places rp JOIN inspection_templates t ON t.id = rp.template_id
           WHERE rp.round_id = ? ORDER BY rp.position, rp.id""", [round_id]))
    for row in rows:
        place = places.get_place(db, row["place_type"], row["place_id"]) or {}
        row["name"] = place.get("name", "?")
        row["inspection"] = get_inspection(db, row["inspection_id"]) \
            if row["inspection_id"] else None
    return rows


def my_round_places(db: Database, supervisor_id: int, day: str) -> list[dict[str, Any]]:
    """The places of a supervisor's rounds on a day (what their phone keeps offline)."""
    return list(db.query(
        "SELECT rp.place_type, rp.place_id, rp.template_id FROM round_places rp "
        "JOIN inspection_rounds r ON r.id = rp.round_id WHERE r.supervisor_id = ? "
        "AND r.day = ? ORDER BY r.estate_id, rp.position, rp.id", [supervisor_id, day]))


def round_template(db: Database, supervisor_id: int, place: dict[str, Any],
                   day: str) -> dict[str, Any] | None:
    """The checklist chosen when the place went into the supervisor's round that day."""
    row = db.execute(
        "SELECT rp.template_id FROM round_places rp JOIN inspection_rounds r "
        "ON r.id = rp.round_id WHERE r.supervisor_id = ? AND r.day = ? AND r.estate_id = ? "
        "AND rp.place_type = ? AND rp.place_id = ?",
        [supervisor_id, day, place["estate_id"], place["place_type"], place["id"]]).fetchone()
    return get_template(db, row[0]) if row else None


# --- Inspections -----------------------------------------------------------------------

def get_inspection(db: Database, inspection_id: int) -> dict[str, Any] | None:
    row = next(iter(db.query(
        """SELECT i.*, t.name AS template_name, t.place_kind, u.display_name AS supervisor_name,
                  sum(r.result = 'fail') AS failed, sum(r.result IN ('pass','fail')) AS checked
           FROM inspections i JOIN inspection_templates t ON t.id = i.template_id
           JOIN users u ON u.id = i.supervisor_id
           LEFT JOIN inspection_results r ON r.inspection_id = i.id
           WHERE i.id = ? GROUP BY i.id""", [inspection_id])), None)
    if row is not None:
        row["failed"], row["checked"] = row["failed"] or 0, row["checked"] or 0
    return row


def results(db: Database, inspection_id: int) -> list[dict[str, Any]]:
    """Each item's result, with the item as it read when recorded, its photos and job."""
    rows = list(db.query(
        """SELECT r.*, i.position, j.number AS job_number, j.status AS job_status
           FROM inspection_results r JOIN inspection_items i ON i.id = r.item_id
           LEFT JOIN jobs j ON j.id = r.job_id
           WHERE r.inspection_id = ? ORDER BY i.position, r.id""", [inspection_id]))
    for row in rows:
        row["photos"] = [p["sha256"] for p in db.query(
            "SELECT sha256 FROM inspection_photos WHERE result_id = ? ORDER BY sha256",
            [row["id"]])]
    return rows


def rate(failed: int, checked: int) -> float | None:
    """Failed items as a percentage of items checked (not applicable ones do not count)."""
    return round(100 * failed / checked, 1) if checked else None


def place_summary(db: Database, place_type: str, place_id: int,
                  recent: int = 5) -> dict[str, Any]:
    """For the place page: the last inspections, and the rate of failed items over all of
    them, with what the latest one found wrong."""
    rows = list(db.query(
        """SELECT i.id, i.visited_at, t.name AS template_name, u.display_name AS supervisor_name,
                  coalesce(sum(r.result = 'fail'), 0) AS failed,
                  coalesce(sum(r.result IN ('pass','fail')), 0) AS checked
           FROM inspections i JOIN inspection_templates t ON t.id = i.template_id
           JOIN users u ON u.id = i.supervisor_id
           LEFT JOIN inspection_results r ON r.inspection_id = i.id
           WHERE i.place_type = ? AND i.place_id = ? GROUP BY i.id
           ORDER BY i.visited_at DESC, i.id DESC""", [place_type, place_id]))
    failed = sum(r["failed"] for r in rows)
    checked = sum(r["checked"] for r in rows)
    latest_failures = [r for r in results(db, rows[0]["id"]) if r["result"] == "fail"] \
        if rows else []
    return {
        "place_type": place_type, "place_id": place_id, "inspections": len(rows),
        "checked": checked, "failed": failed, "rate": rate(failed, checked),
        "last_visited_at": rows[0]["visited_at"] if rows else None,
        "recent": rows[:recent], "latest_failures": latest_failures,
    }
