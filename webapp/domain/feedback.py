"""Environment feedback (环境反馈): what cleaning and greening staff notice on their rounds,
sent to the service desk, which answers, closes or turns it into a job."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from .text import N_

# Category -> English msgid; the order is the order of the chips on the phone.
CATEGORIES = {
    "litter": N_("Litter"),
    "greenery": N_("Greenery"),
    "odour": N_("Odour"),
    "pests": N_("Pests"),
    "damage": N_("Damaged facilities"),
    "remark": N_("A resident's remark"),
    "other": N_("Other"),
}
# Feedback category -> job category (jobs.CATEGORIES, which names the department).
# Missing ones (a resident's remark, other): the desk chooses the department.
JOB_CATEGORY = {
    "litter": "cleaning",
    "odour": "cleaning",
    "greenery": "greening",
    "pests": "pests",
    "damage": "public_facility",
}
# The department the desk chooses -> the job category that sends the job there.
DEPARTMENT_CATEGORY = {"maintenance": "other", "cleaning": "cleaning", "security": "security"}
STATUSES = {
    "new": N_("New"),
    "answered": N_("Answered"),
    "job": N_("Turned into a job"),
    "closed": N_("Closed"),
}
# Audit actions as the history shows them.
ACTIONS = {
    "create": N_("Sent from the field"),
    "answer": N_("Answered"),
    "close": N_("Closed"),
    "to_job": N_("Turned into a job"),
}
# Command kind -> the statuses it may start from.
TRANSITIONS = {
    "feedback.answer": frozenset({"new"}),
    "feedback.close": frozenset({"new", "answered"}),
    "feedback.to_job": frozenset({"new", "answered"}),
}

SELECT = """
SELECT f.*, e.name AS estate_name, s.display_name AS user_name, s.phone AS user_phone,
       a.display_name AS answered_by_name, j.number AS job_number,
       CASE f.place_type WHEN 'unit' THEN b.name || '-' || un.number
            WHEN 'area' THEN ca.name WHEN 'equipment' THEN q.name END AS place_name,
       (SELECT group_concat(p.sha256) FROM feedback_photos p WHERE p.feedback_id = f.id)
         AS photo_list
FROM feedback f
JOIN estates e ON e.id = f.estate_id
LEFT JOIN users s ON s.id = f.user_id
LEFT JOIN users a ON a.id = f.answered_by
LEFT JOIN jobs j ON j.id = f.job_id
LEFT JOIN units un ON f.place_type = 'unit' AND un.id = f.place_id
LEFT JOIN buildings b ON b.id = un.building_id
LEFT JOIN common_areas ca ON f.place_type = 'area' AND ca.id = f.place_id
LEFT JOIN equipment q ON f.place_type = 'equipment' AND q.id = f.place_id
"""


def _rows(db: Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    out = []
    for row in db.query(SELECT + sql, params):
        row["photos"] = sorted((row.pop("photo_list") or "").split(",")) \
            if row.get("photo_list") else []
        out.append(row)
    return out


def _in(ids: list[int]) -> str:
    return ",".join("?" * len(ids)) or "NULL"


def get(db: Database, feedback_id: int) -> dict[str, Any] | None:
    return next(iter(_rows(db, "WHERE f.id = ?", [feedback_id])), None)


def _queue_parts(estate_ids: list[int], status: str,
                 limit: int) -> list[tuple[str, list[Any]]]:
    """The queue's reads (WHERE, ORDER and LIMIT), in the order it lists them: one
    status, or the new items then the others."""
    where = f"WHERE f.estate_id IN ({_in(estate_ids)})"
    if status in STATUSES:
        return [(where + " AND f.status = ? ORDER BY f.id DESC LIMIT ?",
                 [*estate_ids, status, limit])]
    return [(where + " AND f.status = 'new' ORDER BY f.id DESC LIMIT ?", [*estate_ids, limit]),
            (where + " AND f.status != 'new' ORDER BY f.id DESC LIMIT ?", [*estate_ids, limit])]


def queue(db: Database, estate_ids: list[int], status: str = "all",
          limit: int = 200) -> list[dict[str, Any]]:
    """The desk's queue in the user's estates: new items first, then the newest handled."""
    out: list[dict[str, Any]] = []
    for sql, params in _queue_parts(estate_ids, status, limit):
        if len(out) < limit:  # the rest of the queue fills what the new items left
            out += _rows(db, sql, [*params[:-1], limit - len(out)])
    return out


def queue_state(db: Database, estate_ids: list[int], status: str = "all",
                limit: int = 200) -> list[tuple[int, str]]:
    """The id and status of each item the queue lists, in its order, from the index
    feedback_queue alone (what the live queue compares, domain/page_versions.py)."""
    out: list[tuple[int, str]] = []
    for sql, params in _queue_parts(estate_ids, status, limit):
        if len(out) < limit:
            out += db.execute("SELECT f.id, f.status FROM feedback f " + sql,
                              [*params[:-1], limit - len(out)]).fetchall()
    return out


def mine(db: Database, user_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """What this worker sent, newest first, with the desk's answer."""
    return _rows(db, "WHERE f.user_id = ? ORDER BY f.id DESC LIMIT ?", [user_id, limit])


def new_count(db: Database, estate_ids: list[int]) -> int:
    return db.execute(
        f"SELECT count(*) FROM feedback WHERE status = 'new' AND estate_id IN ({_in(estate_ids)})",
        estate_ids,
    ).fetchone()[0]


def places_for(db: Database, estate_ids: list[int]) -> list[dict[str, Any]]:
    """Per estate: its common areas, its equipment and its buildings, for the place picker.

    Common areas of kind 'equipment' (a lift recorded as an area) are listed with the
    equipment; they keep their place type.
    """
    marks = _in(estate_ids)
    estates = {e["id"]: {**e, "areas": [], "equipment": [], "buildings": []} for e in db.query(
        f"SELECT id, name FROM estates WHERE id IN ({marks}) ORDER BY id", estate_ids)}
    for a in db.query(f"SELECT id, estate_id, name, kind FROM common_areas "
                      f"WHERE estate_id IN ({marks}) ORDER BY name", estate_ids):
        group = "equipment" if a["kind"] == "equipment" else "areas"
        estates[a["estate_id"]][group].append({"place": f"area:{a['id']}", "name": a["name"]})
    for q in db.query(f"SELECT id, estate_id, name FROM equipment "
                      f"WHERE estate_id IN ({marks}) ORDER BY name", estate_ids):
        estates[q["estate_id"]]["equipment"].append(
            {"place": f"equipment:{q['id']}", "name": q["name"]})
    for b in db.query(f"SELECT id, estate_id, name FROM buildings "
                      f"WHERE estate_id IN ({marks}) ORDER BY id", estate_ids):
        estates[b["estate_id"]]["buildings"].append(b)
    return list(estates.values())


def find_unit(db: Database, building_id: int, number: str) -> int | None:
    row = db.execute("SELECT id FROM units WHERE building_id = ? AND number = ?",
                     [building_id, number]).fetchone()
    return row[0] if row else None


def audit_trail(db: Database, feedback_id: int) -> list[dict[str, Any]]:
    """What happened to the item, oldest first."""
    return list(db.query(
        """SELECT l.at, l.action, l.replayed, l.detail, u.display_name FROM audit_log l
           LEFT JOIN users u ON u.id = l.user_id
           WHERE l.entity = 'feedback' AND l.entity_id = ? ORDER BY l.id""", [feedback_id]))
