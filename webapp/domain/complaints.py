"""Complaints (投诉): vocabulary, levels, deadlines and read queries
(docs/DOMAIN.md, "Complaints")."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from . import audit
from .text import N_

CHANNELS = {
    "phone": N_("Phone hotline"),
    "email": N_("E-mail"),
    "letter": N_("Letter"),
    "walk_in": N_("Walk-in"),
    "callback": N_("Raised in a callback"),
}
IDENTITIES = {
    "owner": N_("Owner"),
    "tenant": N_("Tenant"),
    "family": N_("Family member"),
    "visitor": N_("Visitor"),
    "other": N_("Other"),
}
LEVELS = {
    "major": N_("Major"),
    "important": N_("Important"),
    "minor": N_("Minor"),
}
# The seed's definitions, shown where the level is chosen.
LEVEL_HELP = {
    "major": N_("Raised repeatedly and unresolved; our fault caused major loss or injury; "
                "or valid and not resolved within a month."),
    "important": N_("Caused by our management or service falling short."),
    "minor": N_("Limits of facilities or management; a slight inconvenience, not human fault, "
                "easily fixed."),
}
CATEGORIES = {
    "service": N_("Service attitude"),
    "repairs": N_("Repairs"),
    # Not the departments' msgids: in Chinese a complaint is about 治安, not about 安保部.
    "security": N_("Safety and order"),
    "cleaning": N_("Cleanliness and greenery"),
    "facilities": N_("Facilities and equipment"),
    "fees": N_("Fees"),
    "neighbours": N_("Neighbours and noise"),
    "parking": N_("Parking"),
    "other": N_("Other"),
}
PATHS = {
    "not_ours": N_("Not our responsibility: explain and point to the right channel"),
    "difficult": N_("Difficult: report to the manager at once"),
    "ordinary": N_("Ordinary: dispatch to a department"),
}
STATUSES = {
    "new": N_("Recorded"),
    "verified": N_("Verified"),
    "escalated": N_("With the manager"),
    "dispatched": N_("Being handled"),
    "explained": N_("Explained (not ours)"),
    "answered": N_("Result told, follow-up due"),
    "closed": N_("Closed"),
}
OPEN = ("new", "verified", "escalated", "dispatched")
# Not resolved yet: still counts towards the one-month escalation and repeats.
UNRESOLVED = (*OPEN, "answered")

TRANSITIONS: dict[str, frozenset[str]] = {
    "complaint.verify": frozenset({"new"}),
    "complaint.route": frozenset({"new", "verified", "escalated"}),
    "complaint.investigate": frozenset({"verified", "escalated", "dispatched"}),
    "complaint.answer": frozenset({"verified", "escalated", "dispatched"}),
    "complaint.follow_up": frozenset({"answered", "explained"}),
    "complaint.level": frozenset(UNRESOLVED),
}
ACTIONS = {
    "create": N_("Complaint recorded"),
    "verify": N_("Verification call"),
    "route": N_("Handling path chosen"),
    "investigate": N_("Investigation"),
    "answer": N_("Result told to the complainant"),
    "follow_up": N_("Follow-up"),
    "level": N_("Level changed"),
}


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def effective_level(c: dict[str, Any], settings: dict[str, int], now: datetime) -> str:
    """The level now: an unresolved complaint turns major once it is a month old."""
    if c["level"] == "major" or c["status"] not in UNRESOLVED:
        return c["level"]
    age = now - datetime.fromisoformat(c["received_at"])
    if age >= timedelta(days=settings["complaint_major_after_days"]):
        return "major"
    return c["level"]


def handle_due(c: dict[str, Any], settings: dict[str, int], now: datetime) -> datetime:
    """When the complaint should have its result told, by its (effective) level."""
    level = effective_level(c, settings, now)
    hours = settings[f"complaint_{level}_hours"]
    return datetime.fromisoformat(c["received_at"]) + timedelta(hours=hours)


def remaining(c: dict[str, Any], settings: dict[str, int], now: datetime) -> timedelta | None:
    """Time left to tell the result (negative when overdue); None once answered."""
    if c["status"] not in OPEN:
        return None
    return handle_due(c, settings, now) - now


SELECT = """
SELECT c.*, u.number AS unit_number, b.name AS building_name, e.name AS estate_name,
       a.display_name AS assignee_name, r.display_name AS received_by_name,
       j.number AS job_number, j.status AS job_status, ja.display_name AS job_assignee_name
FROM complaints c
JOIN estates e ON e.id = c.estate_id
LEFT JOIN units u ON u.id = c.unit_id
LEFT JOIN buildings b ON b.id = u.building_id
LEFT JOIN users a ON a.id = c.assignee_id
LEFT JOIN users r ON r.id = c.received_by
LEFT JOIN jobs j ON j.id = c.job_id
LEFT JOIN users ja ON ja.id = j.assignee_id
"""


def get(db: Database, complaint_id: int) -> dict[str, Any] | None:
    return next(iter(db.query(SELECT + " WHERE c.id = ?", [complaint_id])), None)


def board(db: Database, estate_ids: list[int], status: str, limit: int = 50) -> list[dict]:
    if not estate_ids:
        return []
    marks = ",".join("?" * len(estate_ids))
    where, params = [f"c.estate_id IN ({marks})"], list(estate_ids)
    if status == "open":
        where.append(f"c.status IN ({','.join('?' * len(UNRESOLVED))})")
        params.extend(UNRESOLVED)
    elif status in STATUSES:
        where.append("c.status = ?")
        params.append(status)
    sql = SELECT + " WHERE " + " AND ".join(where) + " ORDER BY c.id DESC LIMIT ?"
    return list(db.query(sql, [*params, limit]))


def notes(db: Database, complaint_id: int) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT n.*, u.display_name FROM complaint_notes n LEFT JOIN users u ON u.id = n.user_id"
        " WHERE n.complaint_id = ? ORDER BY n.id", [complaint_id]))


def history(db: Database, complaint_id: int,
            written: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every step from the complaint's recording on, with what was written at each
    (`written`: its notes, when the caller has them already)."""
    if written is None:
        written = notes(db, complaint_id)
    return audit.history(db, "complaint", complaint_id, written)


def evidence(db: Database, complaint_id: int) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT sha256, stage FROM complaint_files WHERE complaint_id = ? ORDER BY id",
        [complaint_id]))


def open_repeat_of(db: Database, estate_id: int, unit_id: int | None, contact: str,
                   category: str) -> dict[str, Any] | None:
    """An unresolved complaint by the same household about the same matter."""
    marks = ",".join("?" * len(UNRESOLVED))
    if unit_id:
        who, value = "unit_id = ?", unit_id
    else:
        who, value = "contact = ?", contact
    return next(iter(db.query(
        f"SELECT * FROM complaints WHERE estate_id = ? AND {who} AND category = ? "
        f"AND status IN ({marks}) ORDER BY id LIMIT 1",
        [estate_id, value, category, *UNRESOLVED])), None)


