"""The month's inspections: how many, and the rate of failed items per place and per kind
of place (failed / checked, where not-applicable items are not checked)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from . import places
from .callback_stats import month_bounds
from .inspections import PLACE_KINDS, rate

COUNTS = ("inspections", "checked", "passed", "failed", "na", "jobs")


def month_summary(db: Database, estate_ids: list[int], month: str) -> dict[str, Any]:
    """Inspections visited in a local calendar month ('2026-11') in the estates."""
    start, end = month_bounds(month)
    marks = ",".join("?" * len(estate_ids)) or "NULL"
    rows = list(db.query(
        f"""SELECT i.place_type, i.place_id, t.place_kind AS kind,
                   count(DISTINCT i.id) AS inspections,
                   coalesce(sum(r.result IN ('pass','fail')), 0) AS checked,
                   coalesce(sum(r.result = 'pass'), 0) AS passed,
                   coalesce(sum(r.result = 'fail'), 0) AS failed,
                   coalesce(sum(r.result = 'na'), 0) AS na,
                   count(r.job_id) AS jobs, max(i.visited_at) AS last_visited_at,
                   max(i.id) AS last_inspection_id
            FROM inspections i JOIN inspection_templates t ON t.id = i.template_id
            LEFT JOIN inspection_results r ON r.inspection_id = i.id
            WHERE i.estate_id IN ({marks}) AND i.visited_at >= ? AND i.visited_at < ?
            GROUP BY i.place_type, i.place_id, t.place_kind""",
        [*estate_ids, start, end]))
    for row in rows:
        place = places.get_place(db, row["place_type"], row["place_id"]) or {}
        row["name"] = place.get("name", "?")
        row["estate_name"] = place.get("estate_name", "")
        row["rate"] = rate(row["failed"], row["checked"])
    rows.sort(key=lambda r: (-(r["rate"] or 0), r["estate_name"], r["name"]))
    kinds = []
    for kind in PLACE_KINDS:
        mine = [r for r in rows if r["kind"] == kind]
        if not mine:
            continue
        sums = {k: sum(r[k] for r in mine) for k in COUNTS}
        kinds.append({"kind": kind, "places": len(mine), **sums,
                      "rate": rate(sums["failed"], sums["checked"])})
    total = {k: sum(r[k] for r in rows) for k in COUNTS}
    total.update(places=len(rows), rate=rate(total["failed"], total["checked"]))
    return {"month": month, "places": rows, "kinds": kinds, "total": total}
