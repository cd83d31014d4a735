"""Monthly callback and complaint statistics (docs/DOMAIN.md: statistics by the 30th)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from . import complaints
from .months import month_window
from .settings import estate_settings
from .text import N_
from .workdays import LOCAL

# The month's callback counts, in the order the page and the CSV list them.
MEASURES = {
    "due": N_("Due"),
    "done_on_time": N_("Done on time"),
    "late": N_("Late"),
    "not_reached": N_("Not reached at least once"),
    "open": N_("Still open"),
}


def month_bounds(month: str) -> tuple[str, str]:
    """A local calendar month ('2026-11') as UTC ISO bounds [start, end)."""
    start, end = month_window(month, LOCAL)
    return start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds")


def callbacks(db: Database, estate_ids: list[int], month: str, now: datetime) -> dict[str, Any]:
    """Tasks due in the month: done on time, late, not reached; satisfaction per dimension."""
    start, end = month_bounds(month)
    marks = ",".join("?" * len(estate_ids)) or "NULL"
    tasks = list(db.query(
        f"SELECT * FROM callback_tasks WHERE estate_id IN ({marks}) AND due_at >= ? "
        "AND due_at < ?", [*estate_ids, start, end]))
    stamp = now.isoformat(timespec="seconds")
    on_time = sum(1 for t in tasks if t["done_at"] and t["done_at"] <= t["due_at"])
    late = sum(1 for t in tasks if (t["done_at"] and t["done_at"] > t["due_at"])
               or (not t["done_at"] and stamp > t["due_at"]))
    ids = [t["id"] for t in tasks]
    not_reached, ratings = 0, defaultdict(list)
    if ids:
        id_marks = ",".join("?" * len(ids))
        not_reached = db.execute(
            f"SELECT count(DISTINCT task_id) FROM callback_records WHERE reached = 0 AND "
            f"task_id IN ({id_marks})", ids).fetchone()[0]
        for row in db.execute(f"SELECT ratings FROM callback_records WHERE reached = 1 AND "
                              f"task_id IN ({id_marks})", ids):
            for dim, score in json.loads(row[0] or "{}").items():
                ratings[dim].append(score)
    satisfaction = {
        dim: {"answers": len(v), "average": round(sum(v) / len(v), 2),
              "satisfied_pct": round(100 * sum(1 for s in v if s >= 4) / len(v), 1)}
        for dim, v in ratings.items()
    }
    by_kind = Counter(t["kind"] for t in tasks)
    return {"month": month, "due": len(tasks), "done_on_time": on_time, "late": late,
            "not_reached": not_reached, "open": sum(1 for t in tasks if t["status"] == "open"),
            "by_kind": dict(by_kind), "satisfaction": satisfaction}


def complaint_counts(db: Database, estate_ids: list[int], month: str,
                     now: datetime) -> dict[str, dict[str, int]]:
    """Complaints received in the month by level (as it is now), category and building."""
    start, end = month_bounds(month)
    marks = ",".join("?" * len(estate_ids)) or "NULL"
    rows = list(db.query(
        f"""SELECT c.*, b.name AS building_name FROM complaints c
            LEFT JOIN units u ON u.id = c.unit_id LEFT JOIN buildings b ON b.id = u.building_id
            WHERE c.estate_id IN ({marks}) AND c.received_at >= ? AND c.received_at < ?""",
        [*estate_ids, start, end]))
    settings = {e: estate_settings(db, e) for e in {r["estate_id"] for r in rows}}
    return {
        "level": dict(Counter(complaints.effective_level(r, settings[r["estate_id"]], now)
                              for r in rows)),
        "category": dict(Counter(r["category"] for r in rows)),
        "building": dict(Counter(r["building_name"] or "—" for r in rows)),
    }
